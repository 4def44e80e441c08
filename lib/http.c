#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "arena.h"
#include "num.h"
#include "http.h"

static const char *const rs_methods[RS_METHOD__MAX] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};

const char *
rs_http_method_name(enum rs_method m)
{
	return m < RS_METHOD__MAX ? rs_methods[m] : "?";
}

const char *
rs_http_env(const struct rs_req *req, const char *name)
{
	size_t	 i, len = strlen(name);

	/* why: the first byte first; a request looks up a few names among
	 * some fifty variables, most of them HTTP_ */
	for (i = 0; i < req->nenv; i++)
		if (req->env[i][0] == name[0] &&
		    strncmp(req->env[i], name, len) == 0 &&
		    req->env[i][len] == '=')
			return req->env[i] + len + 1;
	return NULL;
}

const char *
rs_http_header(const struct rs_req *req, const char *name)
{
	char	 var[128];
	size_t	 i, o;

	if (strlen(name) + 6 > sizeof(var))
		return NULL;
	memcpy(var, "HTTP_", 5);
	for (i = 0, o = 5; name[i] != '\0'; i++)
		var[o++] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[o] = '\0';
	return rs_http_env(req, var);
}

/* Is s[0..len) equal to word, without regard to case? */
static int
rs_http_word(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

int
rs_http_prefer(const struct rs_req *req, const char *name, const char *value)
{
	const char	*p = rs_http_header(req, "Prefer"), *n, *v;
	size_t		 nlen, vlen;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		n = p;
		nlen = strcspn(p, "=;, \t");
		p += nlen;
		p += strspn(p, " \t");
		v = NULL;
		vlen = 0;
		if (*p == '=') {
			p += 1 + strspn(p + 1, " \t");
			if (*p == '"') {
				v = ++p;
				vlen = strcspn(p, "\"");
				p += vlen + (p[vlen] == '"');
			} else {
				v = p;
				vlen = strcspn(p, ";, \t");
				p += vlen;
			}
		}
		if (nlen > 0 && rs_http_word(n, nlen, name) && v != NULL &&
		    rs_http_word(v, vlen, value))
			return 1;
		/* The preference's parameters, up to the next one. */
		p += strcspn(p, ",");
	}
	return 0;
}

/*
 * The parameters after a media type ("; charset=utf-8; q=1"): 1 when
 * every charset among them names UTF-8 (quoted or not, in any case),
 * else 0. Other parameters are not ours to judge.
 */
static int
rs_http_charset(const char *p)
{
	const char	*name, *val;
	size_t		 nlen, vlen;

	for (;;) {
		if (*(p += strspn(p, " \t;")) == '\0')
			return 1;
		name = p;
		p += nlen = strcspn(p, "=; \t");
		p += strspn(p, " \t");
		if (*p != '=')
			continue;	/* a parameter without a value */
		p += 1 + strspn(p + 1, " \t");
		if (*p == '"') {
			val = ++p;
			p += vlen = strcspn(p, "\"");
		} else {
			val = p;
			p += vlen = strcspn(p, "; \t");
		}
		if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 &&
		    (vlen != 5 || strncasecmp(val, "utf-8", 5) != 0))
			return 0;
		p += strcspn(p, ";");
	}
}

int
rs_http_json_type(const char *ct)
{
	static const char *const ok[] = {
		"application/json",
		/* What "curl -d" sends: the product page's examples. */
		"application/x-www-form-urlencoded",
		NULL,
	};
	size_t	 i, len;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (i = 0; ok[i] != NULL; i++) {
		len = strlen(ok[i]);
		if (strncasecmp(ct, ok[i], len) == 0 &&
		    (ct[len] == '\0' || ct[len] == ';' || ct[len] == ' ' ||
		    ct[len] == '\t'))
			return rs_http_charset(ct + len);
	}
	return 0;
}

static int
rs_http_copy_env(struct rs_req *req, char *const *envp)
{
	size_t	 n = 0, i;

	while (envp != NULL && envp[n] != NULL)
		n++;
	if ((req->env = rs_arena_calloc(req->arena, n + 1,
	    sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((req->env[i] = rs_arena_strdup(req->arena,
		    envp[i])) == NULL)
			return -1;
	req->nenv = n;
	return 0;
}

static void
rs_http_method(struct rs_req *req)
{
	size_t	 i;

	req->method = RS_METHOD__MAX;
	for (i = 0; i < RS_METHOD__MAX; i++)
		if (strcmp(req->method_name, rs_methods[i]) == 0)
			req->method = (enum rs_method)i;
}

char *
rs_http_printable(struct rs_arena *a, const char *s, size_t len, size_t max)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *o;
	size_t			 i, cap = len < max / 3 ? 3 * len : max;
	unsigned char		 c;

	if ((out = o = rs_arena_alloc(a, cap + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f) {
			if ((size_t)(o - out) + 1 > cap)
				break;
			*o++ = (char)c;
		} else {
			if ((size_t)(o - out) + 3 > cap)
				break;
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	*o = '\0';
	return out;
}

/*
 * Splits req->path on '/' and percent-decodes each segment into
 * req->seg (the first RS_MAX_PATH_SEGMENTS) and req->nseg (all of them).
 * 0, or -1 with *why when a segment does not decode.
 */
static int
rs_http_split(struct rs_req *req, const char **why)
{
	const char	*p = req->path, *e;
	char		*seg;
	size_t		 n = 0;

	while (*p == '/') {
		p++;
		e = p + strcspn(p, "/");
		if ((seg = rs_query_decode(req->arena, p, (size_t)(e - p), 0,
		    why)) == NULL)
			return -1;
		if (n < RS_MAX_PATH_SEGMENTS)
			req->seg[n] = seg;
		n++;
		p = e;
	}
	req->nseg = n;
	return 0;
}

static int
rs_http_uri(struct rs_req *req, struct rs_http_fail *fail)
{
	const char	*q, *why;
	char		 err[160];
	size_t		 len = strcspn(req->uri, "?");

	if (strlen(req->uri) > RS_MAX_URI) {
		req->path = rs_http_printable(req->arena, req->uri, len,
		    RS_MAX_INSTANCE);
		fail->code = RS_PROB_INVALID_REQUEST;
		fail->detail = "request URI too long";
		return -1;
	}
	q = req->uri + len;
	if ((req->path = rs_http_printable(req->arena, req->uri, len,
	    3 * RS_MAX_URI)) == NULL)
		return -1;
	if (rs_http_split(req, &why) != 0) {
		fail->code = RS_PROB_INVALID_REQUEST;
		fail->detail = rs_arena_printf(req->arena,
		    "malformed path: %s", why);
		return -1;
	}
	if (*q == '?' && rs_query_parse(req->arena, q + 1, &req->query,
	    err, sizeof(err)) != 0)
		req->query_err = rs_arena_strdup(req->arena, err);
	return 0;
}

int
rs_http_parse(struct rs_req *req, struct rs_arena *a, char *const *envp,
    struct rs_http_fail *fail)
{
	const char	*s;
	long long	 cl;
	const char	*errstr;

	memset(req, 0, sizeof(*req));
	req->arena = a;
	fail->code = RS_PROB_INTERNAL;
	fail->detail = NULL;
	if (rs_http_copy_env(req, envp) != 0)
		return -1;
	if ((req->method_name = rs_http_env(req, "REQUEST_METHOD")) == NULL)
		req->method_name = "GET";
	rs_http_method(req);
	if ((req->uri = rs_http_env(req, "REQUEST_URI")) == NULL ||
	    req->uri[0] != '/') {
		if (req->uri != NULL)
			req->path = rs_http_printable(a, req->uri,
			    strcspn(req->uri, "?"), RS_MAX_INSTANCE);
		fail->code = RS_PROB_INVALID_REQUEST;
		fail->detail = "no usable REQUEST_URI";
		return -1;
	}
	if (rs_http_uri(req, fail) != 0)
		return -1;
	if ((req->remote_addr = rs_http_env(req, "REMOTE_ADDR")) == NULL)
		req->remote_addr = "";
	req->content_type = rs_http_env(req, "CONTENT_TYPE");
	if (req->content_type != NULL && req->content_type[0] == '\0')
		req->content_type = NULL;
	s = rs_http_env(req, "CONTENT_LENGTH");
	if (s != NULL && *s != '\0') {
		cl = rs_num_parse(s, 0, RS_MAX_CONTENT_LENGTH, &errstr);
		if (errstr != NULL) {
			fail->code = RS_PROB_INVALID_REQUEST;
			fail->detail = "malformed Content-Length";
			return -1;
		}
		req->content_length = (size_t)cl;
	}
	return 0;
}

/*
 * How many leading segments of req are those of the path base[0..len)
 * ("/a/b"), compared decoded; -1 when req does not start with them all.
 */
static int
rs_http_prefix(const struct rs_req *req, const char *base, size_t len)
{
	const char	*p = base, *end = base + len, *e;
	size_t		 i = 0, n;

	while (p < end && *p == '/') {
		p++;
		for (e = p; e < end && *e != '/'; e++)
			continue;
		n = (size_t)(e - p);
		if (i >= req->nseg || i >= RS_MAX_PATH_SEGMENTS ||
		    strlen(req->seg[i]) != n || memcmp(req->seg[i], p, n) != 0)
			return -1;
		i++;
		p = e;
	}
	return (int)i;
}

/* "v" and digits: the first segment of every route. */
static int
rs_http_version(const char *s)
{
	return s[0] == 'v' && s[1] != '\0' &&
	    strspn(s + 1, "0123456789") == strlen(s + 1);
}

/*
 * 1 when script[0..len) is a mount of req: a plain URL path (a Location
 * is made from it) whose *k segments begin req's, a version following.
 */
static int
rs_http_mounted(const struct rs_req *req, const char *script, size_t len,
    int *k)
{
	static const char ok[] = RS_CONFIG_SEGMENT_CHARS "/";

	return len > 0 && len <= RS_MAX_BASE_PATH &&
	    strspn(script, ok) >= len &&
	    (*k = rs_http_prefix(req, script, len)) > 0 &&
	    (size_t)*k < req->nseg && *k < RS_MAX_PATH_SEGMENTS &&
	    rs_http_version(req->seg[*k]);
}

/*
 * The mount point SCRIPT_NAME gives: SCRIPT_NAME itself (a program
 * mapped at the mount, PATH_INFO the API path: lighttpd's mod_cgi, an
 * Apache ScriptAlias), else its directory (a rewrite to the program in
 * the mount's directory: an .htaccess install); NULL when neither is
 * followed by a version. *k: its segments.
 */
static const char *
rs_http_script_mount(struct rs_req *req, int *k)
{
	const char	*script = rs_http_env(req, "SCRIPT_NAME"), *slash;
	size_t		 len;

	if (script == NULL)
		return NULL;
	len = strlen(script);
	if (!rs_http_mounted(req, script, len, k)) {
		if ((slash = strrchr(script, '/')) == NULL)
			return NULL;
		len = (size_t)(slash - script);
		if (!rs_http_mounted(req, script, len, k))
			return NULL;
	}
	return rs_arena_strndup(req->arena, script, len);
}

void
rs_http_mount(struct rs_req *req, const char *base)
{
	const char	*m = NULL;
	int		 k = 0;

	req->mount = "";
	if (base != NULL) {
		if ((k = rs_http_prefix(req, base, strlen(base))) < 0) {
			req->outside = 1;
			return;
		}
		m = base;
	} else if ((m = rs_http_script_mount(req, &k)) == NULL)
		return;
	req->mount = m;
	if (req->nseg > RS_MAX_PATH_SEGMENTS) {
		/* Segments were not kept: too long before and after. */
		if ((req->nseg -= (size_t)k) <= RS_MAX_PATH_SEGMENTS)
			req->nseg = RS_MAX_PATH_SEGMENTS + 1;
		return;
	}
	memmove(req->seg, req->seg + k, (req->nseg - (size_t)k) *
	    sizeof(req->seg[0]));
	req->nseg -= (size_t)k;
}

int
rs_http_read_body(struct rs_req *req, rs_http_reader rd, void *ctx,
    struct rs_http_fail *fail)
{
	char	 sink[8192];
	size_t	 got = 0, drained = 0;
	int	 n;

	if (req->content_length == 0)
		return 0;
	if (req->content_length > RS_MAX_BODY) {
		/* Read what was sent (to a bound) so the connection stays
		 * in step; the answer does not depend on it. */
		while (drained < 64u * RS_MAX_BODY &&
		    (n = rd(ctx, sink, sizeof(sink))) > 0)
			drained += (size_t)n;
		fail->code = RS_PROB_PAYLOAD_TOO_LARGE;
		fail->detail = rs_arena_printf(req->arena,
		    "request body of %zu bytes exceeds the limit of %d bytes",
		    req->content_length, RS_MAX_BODY);
		return -1;
	}
	if ((req->body = rs_arena_alloc(req->arena,
	    req->content_length + 1)) == NULL) {
		fail->code = RS_PROB_INTERNAL;
		fail->detail = NULL;
		return -1;
	}
	while (got < req->content_length) {
		n = rd(ctx, req->body + got, (int)(req->content_length - got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	req->body[got] = '\0';
	req->bodylen = got;
	if (got != req->content_length) {
		fail->code = RS_PROB_INVALID_REQUEST;
		fail->detail = "request body shorter than its Content-Length";
		return -1;
	}
	return 0;
}

/*
 * The address X-Forwarded-For (xff) names as the client, read from the
 * right past cfg's trusted proxies: 0 with *ip set, or -1 with *ip as it
 * was when an entry read is not an IP literal or more than
 * RS_MAX_FORWARDED_HOPS are trusted.
 */
static int
rs_http_forwarded(const struct rs_config *cfg, const char *xff,
    struct rs_ip *ip)
{
	const char	*end = xff + strlen(xff), *s, *a, *b;
	struct rs_ip	 hop;
	int		 n;

	for (n = 0; n < RS_MAX_FORWARDED_HOPS; n++) {
		for (s = end; s > xff && s[-1] != ','; s--)
			continue;
		for (a = s, b = end; a < b && (*a == ' ' || *a == '\t'); a++)
			continue;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (rs_config_ip(a, (size_t)(b - a), &hop) != 0)
			return -1;
		if (!rs_config_trusted(cfg, &hop) || s == xff) {
			*ip = hop;
			return 0;
		}
		end = s - 1;
	}
	return -1;
}

const char *
rs_http_client(const struct rs_req *req, const struct rs_config *cfg)
{
	struct rs_ip	 ip;
	const char	*xff, *s;
	char		 buf[INET6_ADDRSTRLEN + 4];

	if (rs_config_ip(req->remote_addr, strlen(req->remote_addr),
	    &ip) != 0)
		return req->remote_addr;
	if (rs_config_trusted(cfg, &ip) &&
	    (xff = rs_http_header(req, "X-Forwarded-For")) != NULL)
		(void)rs_http_forwarded(cfg, xff, &ip);
	if (!ip.v6)
		s = inet_ntop(AF_INET, ip.b, buf, sizeof(buf));
	else {
		memset(ip.b + 8, 0, 8);
		if ((s = inet_ntop(AF_INET6, ip.b, buf, INET6_ADDRSTRLEN)))
			strcat(buf, "/64");
	}
	if (s == NULL || (s = rs_arena_strdup(req->arena, buf)) == NULL)
		return req->remote_addr;
	return s;
}
