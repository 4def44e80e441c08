/*
 * fuzz-request.c: a libFuzzer target for the request parser: a FastCGI
 * parameter list (the CGI environment, headers as HTTP_*) made into a
 * struct rs_req by rs_http_parse (http.h), its mount point taken off
 * (rs_http_mount), its query string (query.h) and the header readers.
 * Built and run by tests/fuzz/run; seeds in tests/fuzz/corpus/request/.
 *
 * The input is lines, each one "NAME=VALUE" parameter as the web server
 * hands it over (a NUL byte ends the input); a line "!BASE=/path" is not
 * a parameter but RELAYSYNC_BASE_PATH for the mount (when the
 * configuration admits it, rs_config_load). Beyond what the
 * sanitizers catch, the target abort()s when:
 *
 *   - a refusal has no problem code and detail, or no copied env;
 *   - an accepted request's method is not its REQUEST_METHOD's (GET
 *     when none), its path holds a byte outside printable ASCII or is
 *     not the %-escaped text of REQUEST_URI before '?', its segments are
 *     not those of the path split on '/' and each decoded as
 *     rs_query_decode would, or its Content-Length is over the bound;
 *   - an accepted query's names are empty or given twice, a name does
 *     not find its own value, or the pairs written out again (every
 *     byte %-escaped) do not parse back to the same pairs in order;
 *     a refused one has no reason;
 *   - the mount leaves segments that are not the tail of those before,
 *     or a mount that is not "" or a path;
 *   - rs_http_header and rs_http_env disagree, rs_http_prefer or
 *     rs_http_json_type say yes to a header without the words asked
 *     for, or rs_http_client gives other than REMOTE_ADDR when that is
 *     no address, or other than an IPv4 address or an IPv6 one's /64.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "arena.h"
#include "config.h"
#include "http.h"
#include "query.h"

#define FUZZ_NAME	"request"
#include "fuzz.h"

#define MAXENV	64

static struct rs_arena	 arena;
static struct rs_config	 cfg;

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};

/* The value of NAME in envp as rs_http_env finds it (the first). */
static const char *
fz_env(char *const *envp, const char *name)
{
	size_t	 len = strlen(name), i;

	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

/* 1 when s holds word (case ignored). */
static int
fz_has(const char *s, const char *word)
{
	size_t	 n = strlen(word);

	for (; s != NULL && *s != '\0'; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

/* The path as the request keeps it: uri[0..len) with bytes outside
 * printable ASCII %-escaped (upper-case hex). */
static void
fz_path(const char *uri, size_t len, const char *path)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)path;
	size_t			 i;

	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)uri[i];

		if (c > 0x20 && c < 0x7f) {
			CHECK(*p++ == c);
		} else {
			CHECK(p[0] == '%' && p[1] == hex[c >> 4] &&
			    p[2] == hex[c & 15]);
			p += 3;
		}
	}
	CHECK(*p == '\0');
}

/* The segments of req against a fresh split of its URI. */
static void
fz_segments(const struct rs_req *req)
{
	const char	*p = req->uri, *e, *why, *seg;
	size_t		 n = 0, len = strcspn(req->uri, "?");

	while (p < req->uri + len && *p == '/') {
		p++;
		e = p + strcspn(p, "/?");
		seg = rs_query_decode(&arena, p, (size_t)(e - p), 0, &why);
		CHECK(seg != NULL);
		if (n < RS_MAX_PATH_SEGMENTS)
			CHECK(strcmp(req->seg[n], seg) == 0);
		n++;
		p = e;
	}
	CHECK(req->nseg == n);
}

/* name or value written out with every byte %-escaped. */
static size_t
fz_escape(char *o, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 n = 0;

	for (; *s != '\0'; s++) {
		o[n++] = '%';
		o[n++] = hex[(unsigned char)*s >> 4];
		o[n++] = hex[(unsigned char)*s & 15];
	}
	return n;
}

static void
fz_query(const struct rs_req *req)
{
	struct rs_query	 again;
	char		*qs, err[160];
	size_t		 i, j, n = 0, cap = 1;

	if (strchr(req->uri, '?') == NULL) {
		CHECK(req->query.n == 0 && req->query_err == NULL);
		return;
	}
	if (req->query_err != NULL) {
		CHECK(req->query_err[0] != '\0');
		return;
	}
	CHECK(req->query.n <= RS_MAX_QUERY_PARAMS);
	for (i = 0; i < req->query.n; i++) {
		const struct rs_param *p = &req->query.p[i];

		CHECK(p->name[0] != '\0');
		CHECK(strlen(p->name) <= RS_MAX_QUERY_VALUE &&
		    strlen(p->value) <= RS_MAX_QUERY_VALUE);
		CHECK(rs_query_get(&req->query, p->name) == p->value);
		for (j = 0; j < i; j++)
			CHECK(strcmp(req->query.p[j].name, p->name) != 0);
		cap += 3 * (strlen(p->name) + strlen(p->value)) + 2;
	}
	/* Written out again, every byte escaped: the same pairs. */
	if ((qs = malloc(cap)) == NULL)
		abort();
	for (i = 0; i < req->query.n; i++) {
		if (i > 0)
			qs[n++] = '&';
		n += fz_escape(qs + n, req->query.p[i].name);
		qs[n++] = '=';
		n += fz_escape(qs + n, req->query.p[i].value);
	}
	qs[n] = '\0';
	/* The escaped form may be longer than a query may be sent. */
	if (rs_query_parse(&arena, qs, &again, err, sizeof(err)) == 0) {
		CHECK(again.n == req->query.n);
		for (i = 0; i < again.n; i++)
			CHECK(strcmp(again.p[i].name,
			    req->query.p[i].name) == 0 &&
			    strcmp(again.p[i].value,
			    req->query.p[i].value) == 0);
	} else
		CHECK(strstr(err, "too long") != NULL);
	free(qs);
}

static void
fz_mount(struct rs_req *req, const char *base)
{
	const char	*before[RS_MAX_PATH_SEGMENTS];
	size_t		 nbefore = req->nseg, i, k;

	memcpy(before, req->seg, sizeof(before));
	rs_http_mount(req, base);
	CHECK(req->mount != NULL);
	CHECK(req->mount[0] == '\0' || req->mount[0] == '/');
	if (req->outside) {
		CHECK(base != NULL);
		return;
	}
	if (nbefore > RS_MAX_PATH_SEGMENTS) {
		CHECK(req->nseg > RS_MAX_PATH_SEGMENTS);
		return;
	}
	CHECK(req->nseg <= nbefore);
	k = nbefore - req->nseg;
	CHECK(k == 0 || req->mount[0] == '/');
	for (i = 0; i < req->nseg; i++)
		CHECK(req->seg[i] == before[k + i]);
}

static void
fz_headers(const struct rs_req *req)
{
	const char	*p, *ct, *c;
	struct rs_ip	 ip;

	CHECK(rs_http_header(req, "X-Request-Id") ==
	    rs_http_env(req, "HTTP_X_REQUEST_ID"));
	CHECK(rs_http_header(req, "If-Match") ==
	    rs_http_env(req, "HTTP_IF_MATCH"));
	p = rs_http_header(req, "Prefer");
	if (rs_http_prefer(req, "merge", "fields"))
		CHECK(fz_has(p, "merge") && fz_has(p, "fields"));
	if (rs_http_prefer(req, "return", "minimal"))
		CHECK(fz_has(p, "return") && fz_has(p, "minimal"));
	ct = req->content_type;
	if (rs_http_json_type(ct)) {
		while (*ct == ' ' || *ct == '\t')
			ct++;
		CHECK(strncasecmp(ct, "application/json", 16) == 0 ||
		    strncasecmp(ct, "application/x-www-form-urlencoded",
		    33) == 0);
	}
	c = rs_http_client(req, &cfg);
	CHECK(c != NULL);
	if (rs_config_ip(req->remote_addr, strlen(req->remote_addr),
	    &ip) != 0)
		CHECK(c == req->remote_addr);
	else if (strlen(c) > 3 && strcmp(c + strlen(c) - 3, "/64") == 0)
		CHECK(rs_config_ip(c, strlen(c) - 3, &ip) == 0 && ip.v6);
	else
		CHECK(rs_config_ip(c, strlen(c), &ip) == 0 && !ip.v6);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rs_arena_init(&arena);
	memset(&cfg, 0, sizeof(cfg));
	if (rs_config_ip("192.0.2.200", 11, &cfg.trusted[0]) != 0 ||
	    rs_config_ip("2001:db8::7", 11, &cfg.trusted[1]) != 0)
		abort();
	cfg.ntrusted = 2;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*text, *envp[MAXENV + 1], *line, *save;
	const char		*base = NULL, *m, *uri;
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	size_t			 n = 0, i;

	text = fuzz_text(data, size);
	for (line = strtok_r(text, "\n", &save); line != NULL && n < MAXENV;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "!BASE=", 6) == 0)
			base = line + 6;
		else
			envp[n++] = line;
	}
	envp[n] = NULL;

	if (rs_http_parse(&req, &arena, envp, &fail) != 0) {
		CHECK(req.env != NULL && req.nenv == n);
		CHECK(fail.code == RS_PROB_INTERNAL || fail.detail != NULL);
		goto out;
	}
	CHECK(req.nenv == n);
	for (i = 0; i < n; i++)
		CHECK(strcmp(req.env[i], envp[i]) == 0 &&
		    req.env[i] != envp[i]);
	m = fz_env(envp, "REQUEST_METHOD");
	CHECK(strcmp(req.method_name, m ? m : "GET") == 0);
	CHECK(req.method <= RS_METHOD__MAX);
	if (req.method < RS_METHOD__MAX)
		CHECK(strcmp(methods[req.method], req.method_name) == 0);
	else
		for (i = 0; i < RS_METHOD__MAX; i++)
			CHECK(strcmp(methods[i], req.method_name) != 0);
	uri = fz_env(envp, "REQUEST_URI");
	CHECK(uri != NULL && uri[0] == '/' && strcmp(req.uri, uri) == 0);
	CHECK(strlen(uri) <= RS_MAX_URI);
	fz_path(uri, strcspn(uri, "?"), req.path);
	CHECK(req.content_length <= RS_MAX_CONTENT_LENGTH);
	CHECK(req.remote_addr != NULL);
	fz_segments(&req);
	fz_query(&req);
	fz_headers(&req);
	/* RELAYSYNC_BASE_PATH as the configuration admits it, or none. */
	if (base != NULL) {
		struct rs_config	 c;
		char			 err[256];

		if (setenv("RELAYSYNC_BASE_PATH", base, 1) != 0)
			abort();
		base = rs_config_load(&c, err, sizeof(err)) == 0 ?
		    c.base_path : NULL;
	}
	fz_mount(&req, base);
out:
	rs_arena_reset(&arena);
	free(text);
	return 0;
}
