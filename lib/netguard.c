/*
 * netguard.c: where a webhook may point (see netguard.h). Three parts:
 * a strict URL parser that refuses anything a second parser (libcurl,
 * the resolver) might read differently; the address classes, one table
 * per family; and resolution bounded in time.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "netguard.h"

/* ---- address classes --------------------------------------------------- */

struct rs_netguard_net4 {
	uint32_t	 net;		/* host order */
	int		 bits;
	const char	*what;
};

/* IPv4 ranges a webhook may not reach (RFC 6890 and friends). */
static const struct rs_netguard_net4 rs_netguard_v4[] = {
	{ 0x00000000, 8, "\"this network\" (0.0.0.0/8)" },
	{ 0x0a000000, 8, "private (10.0.0.0/8)" },
	{ 0x64400000, 10, "shared CGNAT (100.64.0.0/10)" },
	{ 0x7f000000, 8, "loopback (127.0.0.0/8)" },
	{ 0xa9fe0000, 16, "link-local or cloud metadata (169.254.0.0/16)" },
	{ 0xac100000, 12, "private (172.16.0.0/12)" },
	{ 0xc0000000, 24, "IETF protocol assignments (192.0.0.0/24)" },
	{ 0xc0000200, 24, "documentation (192.0.2.0/24)" },
	{ 0xc0586300, 24, "6to4 relay anycast (192.88.99.0/24)" },
	{ 0xc0a80000, 16, "private (192.168.0.0/16)" },
	{ 0xc6120000, 15, "benchmarking (198.18.0.0/15)" },
	{ 0xc6336400, 24, "documentation (198.51.100.0/24)" },
	{ 0xcb007100, 24, "documentation (203.0.113.0/24)" },
	{ 0xe0000000, 4, "multicast (224.0.0.0/4)" },
	{ 0xf0000000, 4, "reserved or broadcast (240.0.0.0/4)" },
};

/*
 * How an IPv6 range is judged: refused outright, or by the IPv4
 * address it carries at byte offset v4at.
 */
struct rs_netguard_net6 {
	unsigned char	 net[16];
	int		 bits;
	int		 v4at;		/* -1: refused outright */
	const char	*what;
};

static const struct rs_netguard_net6 rs_netguard_v6[] = {
	/* ::/96 holds ::, ::1 and IPv4-compatible addresses. */
	{ { 0 }, 96, -1, "unspecified, loopback or IPv4-compatible (::/96)" },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, -1,
	    "IPv4-mapped (::ffff:0:0/96)" },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, -1,
	    "IPv4-translated (::ffff:0:0:0/96)" },
	{ { 0x00, 0x64, 0xff, 0x9b }, 96, 12, "NAT64 (64:ff9b::/96)" },
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, -1,
	    "local-use NAT64 (64:ff9b:1::/48)" },
	{ { 0x01 }, 64, -1, "discard-only (100::/64)" },
	{ { 0x20, 0x01, 0x00, 0x00 }, 32, -1, "Teredo (2001::/32)" },
	{ { 0x20, 0x01, 0x00, 0x02 }, 48, -1, "benchmarking (2001:2::/48)" },
	{ { 0x20, 0x01, 0x00, 0x10 }, 28, -1, "ORCHID (2001:10::/28)" },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, -1, "documentation (2001:db8::/32)" },
	{ { 0x20, 0x02 }, 16, 2, "6to4 (2002::/16)" },
	{ { 0xfc }, 7, -1, "unique local (fc00::/7)" },
	{ { 0xfe, 0x80 }, 10, -1, "link-local (fe80::/10)" },
	{ { 0xfe, 0xc0 }, 10, -1, "site-local (fec0::/10)" },
	{ { 0xff }, 8, -1, "multicast (ff00::/8)" },
};

#define NELEM(t)	(sizeof(t) / sizeof((t)[0]))

/* The class of IPv4 address a (network order bytes) when refused, or NULL. */
static const char *
rs_netguard_class4(const unsigned char a[4])
{
	uint32_t	 v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
	size_t		 i;

	for (i = 0; i < NELEM(rs_netguard_v4); i++)
		if ((v >> (32 - rs_netguard_v4[i].bits)) ==
		    (rs_netguard_v4[i].net >> (32 - rs_netguard_v4[i].bits)))
			return rs_netguard_v4[i].what;
	return NULL;
}

/* 1 when the first bits of a and b are equal. */
static int
rs_netguard_prefix(const unsigned char *a, const unsigned char *b, int bits)
{
	int	 full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	return rest == 0 ||
	    ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* The class of IPv6 address a when refused, or NULL. */
static const char *
rs_netguard_class6(const unsigned char a[16])
{
	const struct rs_netguard_net6	*n;
	size_t				 i;

	for (i = 0; i < NELEM(rs_netguard_v6); i++) {
		n = &rs_netguard_v6[i];
		if (!rs_netguard_prefix(a, n->net, n->bits))
			continue;
		if (n->v4at < 0 || rs_netguard_class4(a + n->v4at) != NULL)
			return n->what;
		return NULL;	/* it carries a public IPv4 address */
	}
	return NULL;
}

/* The class of sa when refused (unknown families are), or NULL. */
static const char *
rs_netguard_class(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	if (sa == NULL)
		return "no address";
	switch (sa->sa_family) {
	case AF_INET:
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return rs_netguard_class4(
		    (const unsigned char *)&s4->sin_addr);
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return rs_netguard_class6(s6->sin6_addr.s6_addr);
	default:
		return "not an Internet address";
	}
}

int
rs_netguard_refused(const struct sockaddr *sa)
{
	return rs_netguard_class(sa) != NULL;
}

/* ---- the URL ----------------------------------------------------------- */

/* c in lower case, ASCII only: the locale does not change a host. */
static int
tolower_ascii(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Writes why (printf-style) and returns RS_ERR_INVAL. */
static enum rs_err	rs_netguard_no(char *why, size_t whysz,
			    const char *fmt, ...)
			    __attribute__((format(printf, 3, 4)));

static enum rs_err
rs_netguard_no(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	 ap;

	if (whysz > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return RS_ERR_INVAL;
}

/*
 * Checks the literal address in u->host (already known to be one) and
 * refuses a private one unless allowed.
 */
static enum rs_err
rs_netguard_literal(const struct rs_netguard_url *u, int allow_private,
    char *why, size_t whysz)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	const char		*what;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, u->host, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		what = rs_netguard_class((struct sockaddr *)&s4);
	} else if (inet_pton(AF_INET6, u->host, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		what = rs_netguard_class((struct sockaddr *)&s6);
	} else
		return rs_netguard_no(why, whysz, "the host %s is not a valid "
		    "IP address", u->host);
	if (what != NULL && !allow_private)
		return rs_netguard_no(why, whysz, "the host %s is a %s "
		    "address, which webhooks may not reach", u->host, what);
	return RS_OK;
}

/*
 * Parses the host of [s, e) into u: a bracketed IPv6 literal, a dotted
 * IPv4 literal in its one canonical form, or a DNS name of letters,
 * digits, '-', '_' and dots (one trailing dot dropped). RS_OK or
 * RS_ERR_INVAL with why.
 */
static enum rs_err
rs_netguard_host(const char *s, const char *e, struct rs_netguard_url *u,
    char *why, size_t whysz)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*label;
	size_t		 len = (size_t)(e - s), i, n;

	if (len == 0)
		return rs_netguard_no(why, whysz, "the URL has no host");
	if (*s == '[') {
		if (len < 3 || e[-1] != ']' || len - 2 >= sizeof(u->host))
			return rs_netguard_no(why, whysz, "the host is not a "
			    "valid bracketed IPv6 address");
		memcpy(u->host, s + 1, len - 2);
		u->host[len - 2] = '\0';
		for (i = 0; u->host[i] != '\0'; i++)
			u->host[i] = (char)tolower_ascii(u->host[i]);
		/* No zone ("%25eth0"): inet_pton refuses it too. */
		if (inet_pton(AF_INET6, u->host, &a6) != 1)
			return rs_netguard_no(why, whysz, "the host [%s] is "
			    "not a valid IPv6 address", u->host);
		u->literal = 1;
		return RS_OK;
	}
	if (e[-1] == '.')
		len--;		/* "example.com." is "example.com" */
	if (len == 0 || len > 253 || len >= sizeof(u->host))
		return rs_netguard_no(why, whysz, "the host must be 1 to 253 "
		    "characters");
	for (i = 0; i < len; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.",
		    tolower_ascii(s[i])) == NULL)
			return rs_netguard_no(why, whysz, "the host may hold "
			    "only letters, digits, '-', '_' and '.' (no "
			    "escapes, no spaces)");
		u->host[i] = (char)tolower_ascii(s[i]);
	}
	u->host[len] = '\0';
	for (label = u->host; ; label += n + 1) {
		n = strcspn(label, ".");
		if (n == 0 || n > 63)
			return rs_netguard_no(why, whysz, "the host %s has an "
			    "empty label or one over 63 characters", u->host);
		if (label[n] == '\0')
			break;
	}
	/*
	 * A last label starting with a digit is no top-level domain: it is
	 * an IPv4 address. Resolvers also read "127.1", "0x7f.1",
	 * "2130706433" and "0177.0.0.1" as 127.0.0.1; only the canonical
	 * dotted quad (inet_pton: four decimal parts, no leading zeros) is
	 * admitted, so no spelling slips past the address check.
	 */
	if (*label >= '0' && *label <= '9') {
		if (inet_pton(AF_INET, u->host, &a4) != 1)
			return rs_netguard_no(why, whysz, "the host %s is not "
			    "an IPv4 address in dotted-decimal form "
			    "(a.b.c.d)", u->host);
		u->literal = 1;
	}
	return RS_OK;
}

/* Parses ":port" digits of [s, e) into u->port: RS_OK or RS_ERR_INVAL. */
static enum rs_err
rs_netguard_port(const char *s, const char *e, struct rs_netguard_url *u,
    char *why, size_t whysz)
{
	long	 v = 0;
	size_t	 len = (size_t)(e - s);

	if (len < 1 || len > 5 || strspn(s, "0123456789") < len)
		return rs_netguard_no(why, whysz, "the port must be a number "
		    "from 1 to 65535");
	for (; s < e; s++)
		v = v * 10 + (*s - '0');
	if (v < 1 || v > 65535)
		return rs_netguard_no(why, whysz, "the port must be a number "
		    "from 1 to 65535");
	u->port = (int)v;
	return RS_OK;
}

enum rs_err
rs_netguard_url(const char *url, int allow_private, struct rs_netguard_url *u,
    char *why, size_t whysz)
{
	const char	*p, *auth, *end, *colon;
	size_t		 len, i;
	enum rs_err	 rc;

	memset(u, 0, sizeof(*u));
	if (whysz > 0)
		why[0] = '\0';
	len = strlen(url);
	if (len == 0 || len > RS_NETGUARD_URL_MAX)
		return rs_netguard_no(why, whysz, "the URL must be 1 to %d "
		    "characters", RS_NETGUARD_URL_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return rs_netguard_no(why, whysz, "the URL must be "
			    "printable ASCII without spaces (percent-encode "
			    "the rest)");
	if (strncasecmp(url, "https://", 8) == 0) {
		u->https = 1;
		auth = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return rs_netguard_no(why, whysz, "the URL must start with "
		    "https://");
	if (!u->https && !allow_private)
		return rs_netguard_no(why, whysz, "the URL must use https:// "
		    "(http:// is allowed only where the operator allows "
		    "private targets)");
	if (strchr(url, '#') != NULL)
		return rs_netguard_no(why, whysz, "the URL may not have a "
		    "fragment (#)");
	/* A backslash is a slash to some parsers and not to others. */
	if (strchr(url, '\\') != NULL)
		return rs_netguard_no(why, whysz, "the URL may not hold a "
		    "backslash");
	end = auth + strcspn(auth, "/?");
	for (p = auth; p < end; p++)
		if (*p == '@')
			return rs_netguard_no(why, whysz, "the URL may not "
			    "hold user information (user:password@)");
	/* The port's colon: after a bracketed IPv6 host, else the only one. */
	if (*auth == '[') {
		if ((p = memchr(auth, ']', (size_t)(end - auth))) == NULL)
			return rs_netguard_no(why, whysz, "the host is not a "
			    "valid bracketed IPv6 address");
		colon = p + 1 < end ? p + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return rs_netguard_no(why, whysz, "unexpected text "
			    "after the IPv6 address");
	} else
		colon = memchr(auth, ':', (size_t)(end - auth));
	u->port = u->https ? 443 : 80;
	if ((rc = rs_netguard_host(auth, colon ? colon : end, u, why,
	    whysz)) != RS_OK)
		return rc;
	if (colon != NULL && (rc = rs_netguard_port(colon + 1, end, u, why,
	    whysz)) != RS_OK)
		return rc;
	if (u->literal)
		return rs_netguard_literal(u, allow_private, why, whysz);
	if (!allow_private && (strcmp(u->host, "localhost") == 0 ||
	    (strlen(u->host) > 10 && strcmp(u->host + strlen(u->host) - 10,
	    ".localhost") == 0)))
		return rs_netguard_no(why, whysz, "the host %s is this "
		    "machine (loopback), which webhooks may not reach",
		    u->host);
	return RS_OK;
}

/* ---- bounded resolution ------------------------------------------------ */

/*
 * Why a thread and not glibc's getaddrinfo_a(): that needs -lanl before
 * glibc 2.34 and exists nowhere else, and gai_cancel() cannot stop a
 * lookup already running, so its control block must outlive the caller
 * anyway. A detached thread running plain getaddrinfo() costs the same,
 * and a reference count settles who frees the lookup: whichever of the
 * caller (on time out) and the thread (when the resolver gives up, by
 * its own timeouts) lets go last. The caller never waits past
 * timeout_ms.
 */
struct rs_netguard_lookup {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 refs;
	int		 done;
	int		 gai;		/* getaddrinfo's result */
	struct addrinfo	*res;
	char		 host[RS_NETGUARD_HOST_MAX];
};

/* Drops one reference (with mu held, which it releases); frees at 0. */
static void
rs_netguard_lookup_unref(struct rs_netguard_lookup *l)
{
	int	 last = --l->refs == 0;

	pthread_mutex_unlock(&l->mu);
	if (!last)
		return;
	if (l->res != NULL)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static void *
rs_netguard_lookup_run(void *arg)
{
	struct rs_netguard_lookup	*l = arg;
	struct addrinfo			 hints, *res = NULL;
	int				 gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(l->host, NULL, &hints, &res);
	pthread_mutex_lock(&l->mu);
	l->gai = gai;
	l->res = gai == 0 ? res : NULL;
	l->done = 1;
	pthread_cond_signal(&l->cv);
	rs_netguard_lookup_unref(l);
	return NULL;
}

/*
 * Starts a lookup of host on a detached thread with every signal
 * blocked (the process's handlers run on its main thread). NULL when
 * it cannot (then nothing is running).
 */
static struct rs_netguard_lookup *
rs_netguard_lookup_start(const char *host)
{
	struct rs_netguard_lookup	*l;
	pthread_condattr_t		 ca;
	pthread_attr_t			 ta;
	pthread_t			 t;
	sigset_t			 all, old;
	int				 rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->refs = 2;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &ta, rs_netguard_lookup_run, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	if (rc != 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	return l;
}

/* The first refused address of res into why; RS_ERR_INVAL, or RS_OK. */
static enum rs_err
rs_netguard_check(const char *host, const struct addrinfo *res, char *why,
    size_t whysz)
{
	const struct addrinfo	*ai;
	const char		*what;
	char			 addr[INET6_ADDRSTRLEN];
	const void		*bin;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((what = rs_netguard_class(ai->ai_addr)) == NULL)
			continue;
		bin = ai->ai_family == AF_INET6 ?
		    (const void *)&((const struct sockaddr_in6 *)
		    (const void *)ai->ai_addr)->sin6_addr :
		    (const void *)&((const struct sockaddr_in *)
		    (const void *)ai->ai_addr)->sin_addr;
		if (inet_ntop(ai->ai_family, bin, addr, sizeof(addr)) == NULL)
			snprintf(addr, sizeof(addr), "?");
		return rs_netguard_no(why, whysz, "the host %s resolves to "
		    "%s, a %s address, which webhooks may not reach", host,
		    addr, what);
	}
	return RS_OK;
}

enum rs_err
rs_netguard_resolve(const struct rs_netguard_url *u, int allow_private,
    int timeout_ms, char *why, size_t whysz)
{
	struct rs_netguard_lookup	*l;
	struct addrinfo			*res = NULL;
	struct timespec			 until;
	enum rs_err			 rc = RS_OK;

	if (whysz > 0)
		why[0] = '\0';
	if (allow_private)
		return RS_OK;
	if (u->literal)
		return rs_netguard_literal(u, 0, why, whysz);
	if (timeout_ms <= 0 || (l = rs_netguard_lookup_start(u->host)) == NULL)
		return RS_OK;	/* not resolved now: deliveries check */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	/* 0 is a signal or a spurious wake-up; anything else ends it. */
	while (!l->done && pthread_cond_timedwait(&l->cv, &l->mu,
	    &until) == 0)
		continue;
	if (l->done && l->gai == 0) {
		res = l->res;		/* ours now */
		l->res = NULL;
	}
	rs_netguard_lookup_unref(l);
	if (res != NULL) {
		rc = rs_netguard_check(u->host, res, why, whysz);
		freeaddrinfo(res);
	}
	return rc;
}
