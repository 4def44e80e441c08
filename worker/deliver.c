/*
 * deliver.c: webhook deliveries with the libcurl multi interface. See
 * deliver.h.
 *
 * One slot per delivery that may run at once, each with its own easy
 * handle kept for the life of the deliverer: the multi handle keeps the
 * connections, so a slot that sends to the same host again reuses one
 * (TLS set up once, not per delivery).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "clock.h"
#include "netguard.h"
#include "whsig.h"
#include "deliver.h"

#define RS_DELIVER_RETRY_AFTER_MAX	128	/* the header's value kept */
#define RS_DELIVER_ADDR_MAX		64	/* an address, as text */
#define RS_DELIVER_REFUSED_MAX		160	/* the addresses refused */

struct rs_deliver_slot {
	struct rs_deliver	*d;
	CURL			*easy;
	int			 busy;		/* started, not collected */
	int			 ended;		/* ended without a transfer */
	struct curl_slist	*headers;
	char			*body;		/* a copy: the job's arena
						 * is the caller's */
	size_t			 bodysz;	/* allocated */
	size_t			 answer;	/* answer bytes read */
	int			 capped;	/* stopped at the cap */
	char			 retry_after[RS_DELIVER_RETRY_AFTER_MAX];
	char			 refused[RS_DELIVER_REFUSED_MAX];
	char			 errbuf[CURL_ERROR_SIZE];
	int64_t			 started;	/* ms */
	struct rs_relay_outcome	 out;
};

struct rs_deliver {
	struct rs_deliver_cfg	 cfg;
	CURLM			*multi;
	size_t			 nslot;
	size_t			 busy;
	struct rs_deliver_slot	*slot;
};

/* The address sa as text into buf ("?" when it is neither family). */
static void
rs_deliver_addr(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	const void	*a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, buf,
	    (socklen_t)bufsz) == NULL)
		snprintf(buf, bufsz, "?");
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: sees each address curl is about to
 * connect to, after resolution, and refuses the internal ones unless
 * private targets are allowed. The last refused is kept for last_error.
 */
static curl_socket_t
rs_deliver_opensocket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct rs_deliver_slot	*s = arg;
	char			 a[RS_DELIVER_ADDR_MAX];
	size_t			 len;

	(void)purpose;
	if (!s->d->cfg.allow_private && rs_netguard_refused(&addr->addr)) {
		/* Every address refused is named (a name may have an
		 * IPv4 and an IPv6 one), as room allows. */
		rs_deliver_addr(&addr->addr, a, sizeof(a));
		len = strlen(s->refused);
		if (strstr(s->refused, a) == NULL &&
		    len + strlen(a) + 3 < sizeof(s->refused))
			snprintf(s->refused + len, sizeof(s->refused) - len,
			    "%s%s", len > 0 ? ", " : "", a);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC,
	    addr->protocol);
}

/* CURLOPT_WRITEFUNCTION: counts the answer, up to the cap. */
static size_t
rs_deliver_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct rs_deliver_slot	*s = arg;
	size_t			 n = size * nmemb;

	(void)p;
	if (s->answer + n > RS_DELIVER_ANSWER_MAX) {
		/* Consuming less than given ends the transfer. */
		s->capped = 1;
		n = RS_DELIVER_ANSWER_MAX - s->answer;
		s->answer = RS_DELIVER_ANSWER_MAX;
		return n;
	}
	s->answer += n;
	return n;
}

/* CURLOPT_HEADERFUNCTION: keeps the final answer's Retry-After. */
static size_t
rs_deliver_header(char *p, size_t size, size_t nmemb, void *arg)
{
	static const char	 name[] = "retry-after:";
	struct rs_deliver_slot	*s = arg;
	size_t			 n = size * nmemb, len, i = sizeof(name) - 1;

	/* A status line starts another answer (after a 1xx). */
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		s->retry_after[0] = '\0';
	else if (n > i && strncasecmp(p, name, i) == 0) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		for (len = n - i; len > 0 && isspace((unsigned char)
		    p[i + len - 1]); len--)
			;
		if (len < sizeof(s->retry_after)) {
			memcpy(s->retry_after, p + i, len);
			s->retry_after[len] = '\0';
		}
	}
	return n;
}

enum rs_err
rs_deliver_new(const struct rs_deliver_cfg *c, struct rs_deliver **out)
{
	struct rs_deliver	*d;
	size_t			 i;

	*out = NULL;
	if (c->concurrency < 1 || c->concurrency > RS_DELIVER_MAX_CONCURRENCY ||
	    c->timeout_s < 1)
		return RS_ERR_INVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return RS_ERR_IO;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return RS_ERR_NOMEM;
	d->cfg = *c;
	d->nslot = (size_t)c->concurrency;
	if ((d->slot = calloc(d->nslot, sizeof(*d->slot))) == NULL ||
	    (d->multi = curl_multi_init()) == NULL)
		goto fail;
	for (i = 0; i < d->nslot; i++) {
		d->slot[i].d = d;
		if ((d->slot[i].easy = curl_easy_init()) == NULL)
			goto fail;
	}
	/* Every slot may hold a connection open; none more. */
	curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)d->nslot);
	curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)d->nslot);
	*out = d;
	return RS_OK;
fail:
	rs_deliver_free(d);
	return RS_ERR_NOMEM;
}

/* Releases what slot s holds for its delivery, keeping its easy handle. */
static void
rs_deliver_slot_end(struct rs_deliver *d, struct rs_deliver_slot *s)
{
	if (s->busy && !s->ended)
		curl_multi_remove_handle(d->multi, s->easy);
	curl_slist_free_all(s->headers);
	s->headers = NULL;
	if (s->busy)
		d->busy--;
	s->busy = s->ended = 0;
}

void
rs_deliver_free(struct rs_deliver *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; d->slot != NULL && i < d->nslot; i++) {
		rs_deliver_slot_end(d, &d->slot[i]);
		if (d->slot[i].easy != NULL)
			curl_easy_cleanup(d->slot[i].easy);
		free(d->slot[i].body);
	}
	if (d->multi != NULL)
		curl_multi_cleanup(d->multi);
	free(d->slot);
	free(d);
	curl_global_cleanup();
}

size_t
rs_deliver_busy(const struct rs_deliver *d)
{
	return d->busy;
}

size_t
rs_deliver_idle(const struct rs_deliver *d)
{
	return d->nslot - d->busy;
}

/* Appends the header "name: value" to s's list; -1 when out of memory. */
static int
rs_deliver_add_header(struct rs_deliver_slot *s, const char *name,
    const char *value)
{
	struct curl_slist	*l;
	char			 line[256];

	if ((size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >=
	    sizeof(line))
		return -1;
	if ((l = curl_slist_append(s->headers, line)) == NULL)
		return -1;
	s->headers = l;
	return 0;
}

/* The headers of j's delivery at now into s: signed; 0, or -1. */
static int
rs_deliver_headers(struct rs_deliver_slot *s, const struct rs_relay_job *j,
    int64_t now)
{
	char	 sig[RS_WHSIG_SIG_MAX], ts[32];
	int64_t	 t = now / 1000;

	snprintf(ts, sizeof(ts), "%" PRId64, t);
	rs_whsig_sign(j->key, j->event_id, t, s->body, j->bodylen, sig,
	    sizeof(sig));
	if (rs_deliver_add_header(s, "Content-Type", "application/json") ||
	    rs_deliver_add_header(s, "webhook-id", j->event_id) ||
	    rs_deliver_add_header(s, "webhook-timestamp", ts) ||
	    rs_deliver_add_header(s, "webhook-signature", sig))
		return -1;
	/* No "Expect: 100-continue" round trip for a large body. */
	if ((s->headers = curl_slist_append(s->headers, "Expect:")) == NULL)
		return -1;
	return 0;
}

/* Sets s's easy handle up for j; 0, or -1. */
static int
rs_deliver_setup(struct rs_deliver *d, struct rs_deliver_slot *s,
    const struct rs_relay_job *j)
{
	CURL	*e = s->easy;
	long	 ms = (long)d->cfg.timeout_s * 1000;
	int	 bad = 0;

	/* Options go back to their defaults; connections stay. */
	curl_easy_reset(e);
	bad |= curl_easy_setopt(e, CURLOPT_URL, j->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    d->cfg.allow_private ? "http,https" : "https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
	    rs_deliver_opensocket) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
	    rs_deliver_write) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION,
	    rs_deliver_header) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, s) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, s) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT,
	    d->cfg.user_agent) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)j->bodylen) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	return bad ? -1 : 0;
}

/* Copies j's body into s's buffer; 0, or -1. */
static int
rs_deliver_copy_body(struct rs_deliver_slot *s, const struct rs_relay_job *j)
{
	char	*p;

	if (s->bodysz < j->bodylen + 1) {
		if ((p = realloc(s->body, j->bodylen + 1)) == NULL)
			return -1;
		s->body = p;
		s->bodysz = j->bodylen + 1;
	}
	memcpy(s->body, j->body, j->bodylen);
	s->body[j->bodylen] = '\0';
	return 0;
}

/* Slot s ends at once with why as its error (collected by the next poll). */
static void
rs_deliver_end_now(struct rs_deliver_slot *s, const char *why)
{
	s->ended = 1;
	snprintf(s->out.error, sizeof(s->out.error), "%s", why);
}

enum rs_err
rs_deliver_start(struct rs_deliver *d, const struct rs_relay_job *j,
    int64_t now)
{
	struct rs_deliver_slot	*s = NULL;
	size_t			 i;

	for (i = 0; i < d->nslot && s == NULL; i++)
		if (!d->slot[i].busy)
			s = &d->slot[i];
	if (s == NULL)
		return RS_ERR_RANGE;
	memset(&s->out, 0, sizeof(s->out));
	s->out.seq = j->seq;
	s->out.attempts = j->attempts;
	s->out.max_attempts = j->max_attempts;
	s->out.webhook_seq = j->webhook_seq;
	s->out.retry_after_ms = -1;
	s->answer = 0;
	s->capped = 0;
	s->retry_after[0] = s->refused[0] = s->errbuf[0] = '\0';
	s->started = now;
	s->busy = 1;
	d->busy++;
	if (!j->key_ok) {
		rs_deliver_end_now(s, "the endpoint's secret does not open "
		    "under this server secret (was RELAYSYNC_SECRET_FILE "
		    "replaced?)");
		return RS_OK;
	}
	if (rs_deliver_copy_body(s, j) != 0 ||
	    rs_deliver_headers(s, j, now) != 0 ||
	    rs_deliver_setup(d, s, j) != 0) {
		rs_deliver_end_now(s, "the worker could not set the "
		    "delivery up (out of memory?)");
		return RS_OK;
	}
	if (curl_multi_add_handle(d->multi, s->easy) != CURLM_OK) {
		rs_deliver_end_now(s, "the worker could not start the "
		    "delivery");
		return RS_OK;
	}
	return RS_OK;
}

/* The outcome of s's transfer, which ended with rc, into s->out. */
static void
rs_deliver_outcome(struct rs_deliver *d, struct rs_deliver_slot *s,
    CURLcode rc, int64_t now)
{
	struct rs_relay_outcome	*o = &s->out;
	long			 status = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	/* An answer longer than we read is still an answer. */
	if (rc == CURLE_WRITE_ERROR && s->capped && status > 0)
		rc = CURLE_OK;
	switch (rc) {
	case CURLE_OK:
		o->status = (int)status;
		if (status >= 300 && status <= 399)
			snprintf(o->error, sizeof(o->error), "the endpoint "
			    "answered %ld (redirects are not followed)",
			    status);
		else if (status < 200 || status > 299)
			snprintf(o->error, sizeof(o->error),
			    "the endpoint answered %ld", status);
		if ((status == 429 || status == 503) &&
		    s->retry_after[0] != '\0')
			o->retry_after_ms = rs_relay_retry_after(
			    s->retry_after, now);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(o->error, sizeof(o->error), "timed out after %d s",
		    d->cfg.timeout_s);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(o->error, sizeof(o->error), "the URL's scheme is "
		    "not allowed (only https, unless "
		    "RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1)");
		break;
	default:
		if (s->refused[0] != '\0')
			snprintf(o->error, sizeof(o->error), "refused to "
			    "connect to %.150s (loopback, private or "
			    "reserved; RELAYSYNC_WEBHOOK_ALLOW_PRIVATE is not "
			    "set)", s->refused);
		else
			snprintf(o->error, sizeof(o->error), "%.60s%s%.180s",
			    curl_easy_strerror(rc), s->errbuf[0] ? ": " : "",
			    s->errbuf);
		break;
	}
}

/* Takes the ended transfers off the multi handle: their slots ended. */
static int
rs_deliver_drain(struct rs_deliver *d)
{
	struct rs_deliver_slot	*s;
	CURLMsg			*m;
	int64_t			 now = rs_clock_now_ms();
	int			 left, ended = 0;

	while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		s = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&s);
		if (s == NULL)
			continue;
		rs_deliver_outcome(d, s, m->data.result, now);
		curl_multi_remove_handle(d->multi, s->easy);
		s->ended = 1;
		ended = 1;
	}
	return ended;
}

enum rs_err
rs_deliver_poll(struct rs_deliver *d, int wait_ms,
    struct rs_relay_outcome *out, size_t max, size_t *n)
{
	struct rs_deliver_slot	*s;
	size_t			 i;
	int			 running, ended = 0;

	*n = 0;
	for (i = 0; i < d->nslot; i++)
		ended |= d->slot[i].busy && d->slot[i].ended;
	if (curl_multi_perform(d->multi, &running) != CURLM_OK)
		return RS_ERR_IO;
	ended |= rs_deliver_drain(d);
	/* Wait only when nothing has ended yet. */
	if (!ended && wait_ms > 0) {
		if (curl_multi_poll(d->multi, NULL, 0, wait_ms, NULL) !=
		    CURLM_OK ||
		    curl_multi_perform(d->multi, &running) != CURLM_OK)
			return RS_ERR_IO;
		rs_deliver_drain(d);
	}
	for (i = 0; i < d->nslot && *n < max; i++) {
		s = &d->slot[i];
		if (!s->busy || !s->ended)
			continue;
		out[(*n)++] = s->out;
		curl_slist_free_all(s->headers);
		s->headers = NULL;
		s->busy = s->ended = 0;
		d->busy--;
	}
	return RS_OK;
}
