/*
 * test-http: the request side (lib/http.h): parameters to struct rs_req,
 * the body reader and the JSON media-type check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "arena.h"
#include "config.h"
#include "http.h"
#include "tap.h"

static struct rs_arena	 arena;

/*
 * An in-memory body: data[0..len), or len bytes of 'x' when data is
 * NULL; at most chunk bytes per read.
 */
struct mem_body {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	size_t		 chunk;
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct mem_body	*b = ctx;
	size_t		 k = (size_t)n;

	if (k > b->len - b->pos)
		k = b->len - b->pos;
	if (k > b->chunk)
		k = b->chunk;
	if (b->data != NULL)
		memcpy(buf, b->data + b->pos, k);
	else
		memset(buf, 'x', k);
	b->pos += k;
	return (int)k;
}

/* Parses a request whose parameters are REQUEST_METHOD=POST and uri. */
static int
parse_uri(struct rs_req *req, const char *uri, struct rs_http_fail *fail)
{
	char	 var[256];
	char	*envp[] = { "REQUEST_METHOD=POST", var, NULL };

	snprintf(var, sizeof(var), "REQUEST_URI=%s", uri);
	return rs_http_parse(req, &arena, envp, fail);
}

/* As parse_uri, for a URI of any length, with GET. */
static int
parse_long(struct rs_req *req, const char *uri, struct rs_http_fail *fail)
{
	static char	 var[RS_MAX_URI + 128];
	char		*envp[] = { "REQUEST_METHOD=GET", var, NULL };

	snprintf(var, sizeof(var), "REQUEST_URI=%s", uri);
	return rs_http_parse(req, &arena, envp, fail);
}

/* Parses a POST to /v1/x with the given CONTENT_LENGTH. */
static int
parse_length(struct rs_req *req, const char *cl, struct rs_http_fail *fail)
{
	char	 var[256];
	char	*envp[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/v1/x", var,
		    NULL };

	snprintf(var, sizeof(var), "CONTENT_LENGTH=%s", cl);
	return rs_http_parse(req, &arena, envp, fail);
}

static void
test_http_parse_request(void)
{
	char			*envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/v1/x?y=1",
		"REMOTE_ADDR=192.0.2.7",
		"CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=12",
		NULL,
	};
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	if (!TAP_IS_INT(rs_http_parse(&req, &arena, envp, &fail), 0,
	    "http parse: a plain POST parses"))
		return;
	TAP_IS_INT(req.method, RS_METHOD_POST, "http parse: POST method");
	TAP_IS_STR(req.method_name, "POST", "http parse: method name");
	TAP_IS_STR(req.uri, "/v1/x?y=1", "http parse: uri as sent");
	TAP_IS_STR(req.path, "/v1/x", "http parse: path without query");
	TAP_IS_STR(rs_query_get(&req.query, "y"), "1",
	    "http parse: query parsed");
	TAP_IS_STR(req.query_err, NULL, "http parse: no query error");
	TAP_IS_STR(req.remote_addr, "192.0.2.7", "http parse: remote addr");
	TAP_IS_STR(req.content_type, "application/json",
	    "http parse: content type");
	TAP_IS_INT(req.content_length, 12, "http parse: content length");
}

static void
test_http_parse_methods(void)
{
	static const struct {
		int		 line;
		const char	*var;
		enum rs_method	 m;
	} t[] = {
		{ __LINE__, "REQUEST_METHOD=GET", RS_METHOD_GET },
		{ __LINE__, "REQUEST_METHOD=HEAD", RS_METHOD_HEAD },
		{ __LINE__, "REQUEST_METHOD=PUT", RS_METHOD_PUT },
		{ __LINE__, "REQUEST_METHOD=PATCH", RS_METHOD_PATCH },
		{ __LINE__, "REQUEST_METHOD=DELETE", RS_METHOD_DELETE },
		{ __LINE__, "REQUEST_METHOD=OPTIONS", RS_METHOD_OPTIONS },
		{ __LINE__, "REQUEST_METHOD=BREW", RS_METHOD__MAX },
		{ __LINE__, "REQUEST_METHOD=get", RS_METHOD__MAX },
	};
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	char			 var[64], name[96];
	char			*envp[] = { var, "REQUEST_URI=/v1/x", NULL };
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(var, sizeof(var), "%s", t[i].var);
		snprintf(name, sizeof(name), "http parse: %s maps to %d",
		    t[i].var, (int)t[i].m);
		if (!TAP_OK(rs_http_parse(&req, &arena, envp, &fail) == 0 &&
		    req.method == t[i].m, name))
			tap_diag("method case at line %d", t[i].line);
	}
}

static void
test_http_parse_unknown_method_name(void)
{
	char			*envp[] = { "REQUEST_METHOD=BREW",
				    "REQUEST_URI=/v1/x", NULL };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
	TAP_IS_STR(req.method_name, "BREW",
	    "http parse: unknown method keeps its name");
}

static void
test_http_parse_path_raw(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(parse_uri(&req, "/v1/a%20b+c?q=x+y", &fail) == 0);
	TAP_IS_STR(req.path, "/v1/a%20b+c",
	    "http parse: path kept as sent, without the query");
	TAP_IS_INT(req.nseg, 2, "http parse: path split into 2 segments");
	TAP_IS_STR(req.seg[1], "a b+c",
	    "http parse: a segment percent-decoded, '+' kept");
	TAP_IS_STR(rs_query_get(&req.query, "q"), "x y",
	    "http parse: '+' in the query is a space");
}

static void
test_http_parse_encoded_slash(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(parse_uri(&req, "/v1/records%2Frec_1", &fail) == 0);
	TAP_IS_STR(req.path, "/v1/records%2Frec_1",
	    "http parse: %2F left encoded in the path");
	TAP_IS_INT(req.nseg, 2,
	    "http parse: %2F does not separate segments");
	TAP_IS_STR(req.seg[1], "records/rec_1",
	    "http parse: %2F decodes inside its segment");
}

static void
test_http_parse_segments(void)
{
	static const struct {
		int		 line;
		const char	*uri;
		size_t		 nseg;
		const char	*last;	/* the last segment kept */
	} t[] = {
		{ __LINE__, "/", 1, "" },
		{ __LINE__, "/v1", 1, "v1" },
		{ __LINE__, "/v1/health/", 3, "" },
		{ __LINE__, "//v1", 2, "v1" },
		{ __LINE__, "/v1/%2e%2e", 2, ".." },
		{ __LINE__, "/a/b/c/d/e/f/g/h", 8, "h" },
		{ __LINE__, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", 18, "p" },
	};
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	char			 name[128];
	size_t			 i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "http parse: %s is %zu "
		    "segments, the last kept \"%s\"", t[i].uri, t[i].nseg,
		    t[i].last);
		k = t[i].nseg < RS_MAX_PATH_SEGMENTS ? t[i].nseg :
		    RS_MAX_PATH_SEGMENTS;
		if (!TAP_OK(parse_uri(&req, t[i].uri, &fail) == 0 &&
		    req.nseg == t[i].nseg &&
		    strcmp(req.seg[k - 1], t[i].last) == 0, name))
			tap_diag("segments case at line %d", t[i].line);
	}
}

static void
test_http_parse_path_printable(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(parse_uri(&req, "/v1/caf\xc3\xa9", &fail) == 0);
	TAP_IS_STR(req.path, "/v1/caf%C3%A9",
	    "http parse: raw bytes in the path are percent-encoded");
	TAP_IS_STR(req.seg[1], "caf\xc3\xa9",
	    "http parse: ... and decode to themselves in the segment");
}

static void
test_http_parse_bad_path(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(parse_uri(&req, "/v1/%zz?a=1", &fail), -1,
	    "http parse: malformed path escape fails");
	TAP_IS_INT(fail.code, RS_PROB_INVALID_REQUEST,
	    "http parse: malformed path is invalid_request");
	TAP_IS_STR(req.path, "/v1/%zz",
	    "http parse: a path that does not decode is still the instance");
	TAP_IS_INT(parse_uri(&req, "/v1/\xff%00", &fail), -1,
	    "http parse: an escaped NUL fails");
	TAP_IS_STR(req.path, "/v1/%FF%00",
	    "http parse: ... its instance printable");
}

static void
test_http_parse_long_uri(void)
{
	static char		 uri[RS_MAX_URI + 64];
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	memset(uri, 'a', sizeof(uri) - 1);
	uri[0] = '/';
	uri[sizeof(uri) - 1] = '\0';
	TAP_IS_INT(rs_http_parse(&req, &arena, (char *[]){ "REQUEST_URI=x",
	    NULL }, &fail), -1, "http parse: a relative URI fails");
	TAP_IS_STR(req.path, "x", "http parse: ... with an instance");
	TAP_IS_INT(parse_long(&req, uri, &fail), -1,
	    "http parse: a URI over RS_MAX_URI fails");
	TAP_OK(req.path != NULL && strlen(req.path) <= RS_MAX_INSTANCE &&
	    strncmp(req.path, "/aaaa", 5) == 0,
	    "http parse: ... with an instance of at most RS_MAX_INSTANCE");
}

static void
test_http_parse_query_err_kept(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(parse_uri(&req, "/v1/x?a=1&a=2", &fail), 0,
	    "http parse: bad query is not a parse failure");
	TAP_HAS_STR(req.query_err, "\"a\"",
	    "http parse: query error kept in query_err");
	TAP_IS_STR(req.path, "/v1/x",
	    "http parse: path still set with a bad query");
}

static void
test_http_parse_no_uri(void)
{
	char			*envp[] = { "REQUEST_METHOD=GET", NULL };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(rs_http_parse(&req, &arena, envp, &fail), -1,
	    "http parse: missing REQUEST_URI fails");
	TAP_IS_INT(fail.code, RS_PROB_INVALID_REQUEST,
	    "http parse: missing REQUEST_URI is invalid_request");
}

static void
test_http_parse_relative_uri(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(parse_uri(&req, "v1/x", &fail), -1,
	    "http parse: REQUEST_URI not starting with / fails");
}

static void
test_http_parse_content_length_bad(void)
{
	static const struct {
		int		 line;
		const char	*cl;
	} bad[] = {
		{ __LINE__, "12a" },
		{ __LINE__, "-1" },
		{ __LINE__, "99999999999999999999" },
		{ __LINE__, "+5" },
		{ __LINE__, " 5" },
		{ __LINE__, "0x10" },
	};
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	char			 name[96];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name),
		    "http parse: CONTENT_LENGTH \"%s\" is invalid_request",
		    bad[i].cl);
		fail.code = RS_PROB_INTERNAL;
		if (!TAP_OK(parse_length(&req, bad[i].cl, &fail) == -1 &&
		    fail.code == RS_PROB_INVALID_REQUEST, name))
			tap_diag("CONTENT_LENGTH case at line %d", bad[i].line);
	}
}

static void
test_http_parse_content_length_empty(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_OK(parse_length(&req, "", &fail) == 0 &&
	    req.content_length == 0,
	    "http parse: empty CONTENT_LENGTH means no body");
}

static void
test_http_header(void)
{
	char			*envp[] = {
		"REQUEST_URI=/v1/x",
		"HTTP_X_REQUEST_ID=req-42",
		"HTTP_AUTHORIZATION=Bearer abc",
		NULL,
	};
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
	TAP_IS_STR(rs_http_header(&req, "X-Request-Id"), "req-42",
	    "http header: X-Request-Id reads HTTP_X_REQUEST_ID");
	TAP_IS_STR(rs_http_header(&req, "Authorization"), "Bearer abc",
	    "http header: Authorization reads HTTP_AUTHORIZATION");
	TAP_IS_STR(rs_http_header(&req, "X-Missing"), NULL,
	    "http header: absent header is NULL");
}

static void
test_http_env_prefix(void)
{
	char			*envp[] = { "REQUEST_URI=/v1/x",
				    "HTTP_X_AB=1", NULL };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
	TAP_IS_STR(rs_http_env(&req, "HTTP_X_A"), NULL,
	    "http env: a name's prefix does not match");
}

static void
test_http_env_copied(void)
{
	char			 uri[] = "REQUEST_URI=/v1/x";
	char			*envp[] = { uri, NULL };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
	memset(uri, 'z', sizeof(uri) - 1);
	TAP_IS_STR(rs_http_env(&req, "REQUEST_URI"), "/v1/x",
	    "http parse: parameters are copied, not borrowed");
}

/* Parses (setup) a POST of length cl to /v1/x and reads body from b. */
static int
read_body(struct rs_req *req, const char *cl, struct mem_body *b,
    struct rs_http_fail *fail)
{
	TAP_SETUP(parse_length(req, cl, fail) == 0);
	return rs_http_read_body(req, mem_read, b, fail);
}

static void
test_http_body_exact(void)
{
	struct mem_body		 b = { "{\"a\":1}", 7, 0, 3 };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(read_body(&req, "7", &b, &fail), 0,
	    "http body: exact body read in short chunks");
	TAP_IS_STR(req.body, "{\"a\":1}", "http body: bytes kept");
	TAP_IS_INT(req.bodylen, 7, "http body: length kept");
}

static void
test_http_body_none(void)
{
	char			*envp[] = { "REQUEST_URI=/v1/x", NULL };
	struct mem_body		 b = { "ignored", 7, 0, 7 };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
	TAP_OK(rs_http_read_body(&req, mem_read, &b, &fail) == 0 &&
	    req.body == NULL && b.pos == 0,
	    "http body: no CONTENT_LENGTH reads nothing");
}

static void
test_http_body_short(void)
{
	struct mem_body		 b = { "12345", 5, 0, 5 };
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(read_body(&req, "10", &b, &fail), -1,
	    "http body: short body fails");
	TAP_IS_INT(fail.code, RS_PROB_INVALID_REQUEST,
	    "http body: short body is invalid_request");
}

static void
test_http_body_too_large(void)
{
	struct mem_body		 b = { NULL, RS_MAX_BODY + 100, 0, 4096 };
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	char			 cl[32];

	snprintf(cl, sizeof(cl), "%d", RS_MAX_BODY + 100);
	TAP_IS_INT(read_body(&req, cl, &b, &fail), -1,
	    "http body: over RS_MAX_BODY fails");
	TAP_IS_INT(fail.code, RS_PROB_PAYLOAD_TOO_LARGE,
	    "http body: over RS_MAX_BODY is payload_too_large");
	TAP_IS_INT(b.pos, b.len, "http body: oversized body drained");
	TAP_IS_STR(req.body, NULL, "http body: oversized body not kept");
}

static void
test_http_body_at_limit(void)
{
	struct mem_body		 b = { NULL, RS_MAX_BODY, 0, 65536 };
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	char			 cl[32];

	snprintf(cl, sizeof(cl), "%d", RS_MAX_BODY);
	TAP_OK(read_body(&req, cl, &b, &fail) == 0 &&
	    req.bodylen == RS_MAX_BODY,
	    "http body: exactly RS_MAX_BODY accepted");
}

static void
test_http_json_type(void)
{
	static const struct {
		int		 line;
		const char	*type;
		int		 want;	/* 1: accepted, 0: refused */
	} t[] = {
		{ __LINE__, "application/json", 1 },
		{ __LINE__, "application/json; charset=utf-8", 1 },
		{ __LINE__, "application/json;charset=UTF-8", 1 },
		{ __LINE__, "application/json; charset=\"utf-8\"", 1 },
		{ __LINE__, "application/json; Charset = Utf-8 ", 1 },
		{ __LINE__, "application/json; foo=bar; charset=utf-8", 1 },
		{ __LINE__, "application/json; foo=bar", 1 },
		{ __LINE__, "application/json; charset=latin1", 0 },
		{ __LINE__, "application/json; charset=iso-8859-1", 0 },
		{ __LINE__, "application/json; charset=utf-16", 0 },
		{ __LINE__, "application/json; charset=\"latin1\"", 0 },
		{ __LINE__, "application/json; charset=", 0 },
		{ __LINE__, "application/json; charset=utf-8x", 0 },
		{ __LINE__, "application/json; charset=utf-8; charset=latin1",
		    0 },
		{ __LINE__, "application/x-www-form-urlencoded; charset=utf-8",
		    1 },
		{ __LINE__, "application/x-www-form-urlencoded; charset=latin1",
		    0 },
		{ __LINE__, "APPLICATION/JSON", 1 },
		{ __LINE__, "application/x-www-form-urlencoded", 1 },
		{ __LINE__, "text/plain", 0 },
		{ __LINE__, "application/jsonx", 0 },
		{ __LINE__, "application/jso", 0 },
		{ __LINE__, "", 0 },
	};
	char	 name[96];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].want)
			snprintf(name, sizeof(name),
			    "http json type: accepts %s", t[i].type);
		else
			snprintf(name, sizeof(name),
			    "http json type: refuses \"%s\"", t[i].type);
		if (!TAP_IS_INT(rs_http_json_type(t[i].type), t[i].want, name))
			tap_diag("json type case at line %d", t[i].line);
	}
	TAP_IS_INT(rs_http_json_type(NULL), 0,
	    "http json type: refuses NULL");
}

/* Prefer (RFC 7240): is merge=fields among the preferences sent? */
static void
test_http_prefer(void)
{
	static const struct {
		int		 line;
		const char	*prefer;	/* NULL: no header */
		int		 want;
	} t[] = {
		{ __LINE__, "merge=fields", 1 },
		{ __LINE__, "Merge=Fields", 1 },
		{ __LINE__, "merge=\"fields\"", 1 },
		{ __LINE__, "merge = fields", 1 },
		{ __LINE__, "return=minimal, merge=fields", 1 },
		{ __LINE__, "return=minimal,merge=fields;x=1", 1 },
		{ __LINE__, "merge=fields; x=\"a,b\", respond-async", 1 },
		{ __LINE__, "respond-async, wait=5, merge=fields", 1 },
		{ __LINE__, "return=\"merge=fields\"", 0 },
		{ __LINE__, "x=1; merge=fields", 0 },
		{ __LINE__, "merge=fieldsx", 0 },
		{ __LINE__, "merge=field", 0 },
		{ __LINE__, "merge", 0 },
		{ __LINE__, "merge=", 0 },
		{ __LINE__, "mergefields", 0 },
		{ __LINE__, "xmerge=fields", 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, NULL, 0 },
	};
	char			 env[128], name[128];
	char			*envp[3];
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		envp[0] = "REQUEST_URI=/v1/x";
		envp[1] = NULL;
		if (t[i].prefer != NULL) {
			snprintf(env, sizeof(env), "HTTP_PREFER=%s",
			    t[i].prefer);
			envp[1] = env;
		}
		envp[2] = NULL;
		TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
		snprintf(name, sizeof(name), "http prefer: %s%s%s: %s",
		    t[i].prefer ? "\"" : "", t[i].prefer ? t[i].prefer :
		    "no header", t[i].prefer ? "\"" : "",
		    t[i].want ? "merge=fields" : "not merge=fields");
		if (!TAP_IS_INT(rs_http_prefer(&req, "merge", "fields"),
		    t[i].want, name))
			tap_diag("prefer case at line %d", t[i].line);
	}
}

/*
 * The client address cases: REMOTE_ADDR, X-Forwarded-For (NULL: none)
 * and the address failures are counted under, with RELAYSYNC_TRUSTED_
 * PROXIES set to "192.0.2.1, 192.0.2.2,2001:db8::1".
 */
static void
test_http_client(void)
{
	static const struct {
		int		 line;
		const char	*remote;
		const char	*xff;
		const char	*want;
	} t[] = {
		{ __LINE__, "198.51.100.7", NULL, "198.51.100.7" },
		{ __LINE__, "198.51.100.7", "203.0.113.5", "198.51.100.7" },
		{ __LINE__, "192.0.2.1", NULL, "192.0.2.1" },
		{ __LINE__, "192.0.2.1", "203.0.113.5", "203.0.113.5" },
		{ __LINE__, "192.0.2.1", "10.0.0.1, 203.0.113.5",
		    "203.0.113.5" },
		{ __LINE__, "192.0.2.1", "10.0.0.1,203.0.113.5 , 192.0.2.2",
		    "203.0.113.5" },
		{ __LINE__, "192.0.2.1", "192.0.2.2, 192.0.2.1", "192.0.2.2" },
		{ __LINE__, "192.0.2.1", "unknown, 203.0.113.5",
		    "203.0.113.5" },
		{ __LINE__, "192.0.2.1", "203.0.113.5, junk", "192.0.2.1" },
		{ __LINE__, "192.0.2.1", "203.0.113.5:4711", "192.0.2.1" },
		{ __LINE__, "192.0.2.1", "", "192.0.2.1" },
		{ __LINE__, "192.0.2.1", " , ", "192.0.2.1" },
		{ __LINE__, "192.0.2.1", "::ffff:203.0.113.5", "203.0.113.5" },
		{ __LINE__, "192.0.2.1", "2001:db8:1:2:3:4:5:6",
		    "2001:db8:1:2::/64" },
		{ __LINE__, "::ffff:192.0.2.1", "203.0.113.9", "203.0.113.9" },
		{ __LINE__, "2001:db8::1", "203.0.113.9", "203.0.113.9" },
		{ __LINE__, "2001:0db8:0::1", "203.0.113.9", "203.0.113.9" },
		{ __LINE__, "2001:db8::2", "203.0.113.9", "2001:db8::/64" },
		{ __LINE__, "::ffff:198.51.100.7", NULL, "198.51.100.7" },
		{ __LINE__, "not-an-address", "203.0.113.9", "not-an-address" },
	};
	struct rs_config	 cfg;
	struct rs_req		 req;
	struct rs_http_fail	 fail;
	char			 err[160], remote[128], xff[256], name[256];
	char			*envp[] = { "REQUEST_URI=/v1/x", remote, xff,
				    NULL };
	size_t			 i;

	TAP_SETUP(setenv("RELAYSYNC_TRUSTED_PROXIES",
	    "192.0.2.1, 192.0.2.2,2001:db8::1", 1) == 0);
	TAP_SETUP(rs_config_load(&cfg, err, sizeof(err)) == 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(remote, sizeof(remote), "REMOTE_ADDR=%s",
		    t[i].remote);
		snprintf(xff, sizeof(xff), "HTTP_X_FORWARDED_FOR=%s",
		    t[i].xff ? t[i].xff : "");
		envp[2] = t[i].xff ? xff : NULL;
		TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
		snprintf(name, sizeof(name), "http client: from %s with "
		    "X-Forwarded-For %s is %s", t[i].remote,
		    t[i].xff ? t[i].xff : "(none)", t[i].want);
		if (!TAP_IS_STR(rs_http_client(&req, &cfg), t[i].want, name))
			tap_diag("client case at line %d", t[i].line);
	}
	TAP_SETUP(unsetenv("RELAYSYNC_TRUSTED_PROXIES") == 0);
	TAP_SETUP(rs_config_load(&cfg, err, sizeof(err)) == 0);
	envp[2] = xff;
	snprintf(remote, sizeof(remote), "REMOTE_ADDR=192.0.2.1");
	snprintf(xff, sizeof(xff), "HTTP_X_FORWARDED_FOR=203.0.113.5");
	TAP_SETUP(rs_http_parse(&req, &arena, envp, &fail) == 0);
	TAP_IS_STR(rs_http_client(&req, &cfg), "192.0.2.1",
	    "http client: X-Forwarded-For ignored with no trusted proxy");
}

/* RELAYSYNC_TRUSTED_PROXIES as rs_config_load() takes or refuses it. */
static void
test_http_trusted_config(void)
{
	static const struct {
		int		 line;
		const char	*value;
		int		 ok;
		size_t		 n;
	} t[] = {
		{ __LINE__, "", 1, 0 },
		{ __LINE__, "127.0.0.1", 1, 1 },
		{ __LINE__, " 10.0.0.1 ,::1", 1, 2 },
		{ __LINE__, "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,"
		    "7.7.7.7,8.8.8.8,9.9.9.9,1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,"
		    "1.0.0.5,1.0.0.6,1.0.0.7", 1, 16 },
		{ __LINE__, "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,"
		    "7.7.7.7,8.8.8.8,9.9.9.9,1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,"
		    "1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8", 0, 0 },
		{ __LINE__, "proxy.example.com", 0, 0 },
		{ __LINE__, "10.0.0.0/8", 0, 0 },
		{ __LINE__, "10.0.0.1,,10.0.0.2", 0, 0 },
		{ __LINE__, "10.0.0.1,", 0, 0 },
		{ __LINE__, "300.0.0.1", 0, 0 },
	};
	struct rs_config	 cfg;
	char			 err[160], name[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		TAP_SETUP(setenv("RELAYSYNC_TRUSTED_PROXIES", t[i].value,
		    1) == 0);
		err[0] = '\0';
		rc = rs_config_load(&cfg, err, sizeof(err));
		snprintf(name, sizeof(name), "config: RELAYSYNC_TRUSTED_PROXIES"
		    " \"%.60s\" is %s", t[i].value, t[i].ok ? "taken" :
		    "refused, naming the variable");
		if (!TAP_OK(t[i].ok ? rc == 0 && cfg.ntrusted == t[i].n :
		    rc == -1 &&
		    strstr(err, "RELAYSYNC_TRUSTED_PROXIES") != NULL, name))
			tap_diag("trusted case at line %d: %s", t[i].line, err);
	}
	TAP_SETUP(unsetenv("RELAYSYNC_TRUSTED_PROXIES") == 0);
}

int
main(void)
{
	tap_plan(127 + 18);
	rs_arena_init(&arena);

	test_http_parse_request();
	test_http_parse_methods();
	test_http_parse_unknown_method_name();
	test_http_parse_path_raw();
	test_http_parse_encoded_slash();
	test_http_parse_segments();
	test_http_parse_path_printable();
	test_http_parse_bad_path();
	test_http_parse_long_uri();
	test_http_parse_query_err_kept();
	test_http_parse_no_uri();
	test_http_parse_relative_uri();
	test_http_parse_content_length_bad();
	test_http_parse_content_length_empty();
	test_http_header();
	test_http_env_prefix();
	test_http_env_copied();
	test_http_body_exact();
	test_http_body_none();
	test_http_body_short();
	test_http_body_too_large();
	test_http_body_at_limit();
	test_http_json_type();
	test_http_prefer();
	test_http_client();
	test_http_trusted_config();

	rs_arena_free(&arena);
	return tap_done();
}
