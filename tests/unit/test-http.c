/*
 * test-http: the request side (lib/http.h): parameters to struct rs_req,
 * the body reader and the JSON media-type check.
 */
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "arena.h"
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
test_http_parse_path_decoded(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_SETUP(parse_uri(&req, "/v1/a%20b+c?q=x+y", &fail) == 0);
	TAP_IS_STR(req.path, "/v1/a b+c",
	    "http parse: path percent-decoded, '+' kept");
	TAP_IS_STR(rs_query_get(&req.query, "q"), "x y",
	    "http parse: '+' in the query is a space");
}

static void
test_http_parse_bad_path(void)
{
	struct rs_req		 req;
	struct rs_http_fail	 fail;

	TAP_IS_INT(parse_uri(&req, "/v1/%zz", &fail), -1,
	    "http parse: malformed path escape fails");
	TAP_IS_INT(fail.code, RS_PROB_INVALID_REQUEST,
	    "http parse: malformed path is invalid_request");
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

int
main(void)
{
	tap_plan(61);
	rs_arena_init(&arena);

	test_http_parse_request();
	test_http_parse_methods();
	test_http_parse_unknown_method_name();
	test_http_parse_path_decoded();
	test_http_parse_bad_path();
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

	rs_arena_free(&arena);
	return tap_done();
}
