/*
 * test-app: the request pipeline in-process (lib/app.h). Every request is
 * a FastCGI parameter list and a body handed to rs_app_handle(), with no
 * web server; the answer is read back from the CGI header block the
 * writer receives ("Status: 201 Created", headers, blank line, body).
 *
 * The cases are tables, one row per request (as lighttpd's
 * src/t/test_burl.c), run in order against one database: a row may save
 * members of its answer into named variables ("r1=id") that later rows
 * use as ${r1} in their URI, headers and body. Every row checks the
 * status, the Content-Type, the problem code (or, for a success, that
 * the body is a JSON object) and the envelope every answer shares
 * (X-Request-Id, Cache-Control, Content-Length, and for problems the
 * RFC 9457 members: type, status, title, detail, instance, request_id);
 * then the headers and members its row names. The expectations agree
 * with tests/integration/ and openapi/openapi.json.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "admin.h"
#include "app.h"
#include "db.h"
#include "migrate.h"
#include "ratelimit.h"
#include "problem.h"
#include "role.h"
#include "secret.h"
#include "slot.h"
#include "fixture.h"
#include "tap.h"

#define MAXHDR		6	/* header checks of one row */
#define MAXMEM		5	/* member checks of one row */
#define MAXENV		16
#define ENVSZ		2048
#define TPLSZ		4096
#define MAXVARS		128
#define MAXRESPHDR	32

/*
 * One request and what its answer must be.
 *
 * auth: the Authorization header (a template), or NULL for none.
 * hdrs: more request headers, "Name: value" lines (a template), or NULL;
 * a line "$NAME: value" is the FastCGI parameter NAME itself (what the
 * web server sets: REMOTE_ADDR, REDIRECT_STATUS), not a header.
 * ctype: the request's Content-Type; NULL means application/json when
 * there is a body.
 * code: the problem code of a failure (Content-Type
 * application/problem+json), or NULL for a success (application/json).
 * h: response headers: "Name" present, "Name=value" equal, "Name~text"
 * containing, "!Name" absent. Values are templates.
 * m: answer members by path ("user.id", "data.0.id", "data.*" for an
 * array's length): "path" present and not null, "path=value" equal as
 * text (strings as they are, others as compact JSON), "path!=value"
 * different, "path~text" containing, "!path" absent; "@body=value"
 * compares the raw body. Values are templates. A HEAD answer has no
 * body: its Content-Length must be there and its body empty, and it has
 * no member checks.
 * save: "var=path,..." sets variables from the answer after it came and
 * before the checks; a path "@body" is the raw body, "^Name" a header.
 */
struct tcase {
	int		 line;
	const char	*label;
	const char	*method;
	const char	*uri;
	const char	*auth;
	const char	*hdrs;
	const char	*ctype;
	const char	*body;
	int		 status;
	const char	*code;
	const char	*h[MAXHDR];
	const char	*m[MAXMEM];
	const char	*save;
};

#define ADM	"Bearer ${adm}"		/* org A's admin */
#define OPR	"Bearer ${opr}"		/* org A's operator */
#define VWR	"Bearer ${vwr}"		/* org A's viewer */
#define ORGB	"Bearer ${orgb}"	/* org B's admin */
#define JSON	NULL			/* application/json (with a body) */
#define PROB	"application/problem+json"
#define UNKNOWN_REC	"rec_00000000000000000000000000"
#define ZERO_ULID	"00000000000000000000000000"
#define WRONG_KEY	"rs_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
/* A wrong key whose prefix (the first 16 characters) is "rs_live_" p
 * and six more; p is two characters. */
#define WRONG(p)	"rs_live_" p "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
/* A token exchange with a wrong key, its extra lines hdrs: 401, or 429. */
#define BAD_KEY(label, hdrs, key) \
	{ __LINE__, label, "POST", "/v1/auth/token", NULL, hdrs, JSON, \
	    "{\"api_key\":\"" key "\"}", 401, "invalid_api_key", { NULL }, \
	    { NULL }, NULL }
#define THROTTLED(label, hdrs, key) \
	{ __LINE__, label, "POST", "/v1/auth/token", NULL, hdrs, JSON, \
	    "{\"api_key\":\"" key "\"}", 429, "rate_limited", \
	    { "Retry-After" }, { "detail~retry in" }, NULL }
#define GOOD_KEY(label, hdrs) \
	{ __LINE__, label, "POST", "/v1/auth/token", NULL, hdrs, JSON, \
	    "{\"api_key\":\"${kadm}\"}", 200, NULL, { NULL }, \
	    { "access_token", "role=admin" }, NULL }
#define WSR	"web server refused the request before RelaySync read it"
/* Eight e-acutes (2 bytes each), as sent and %-encoded. */
#define EACUTE8	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define PCT_EACUTE8 "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9"

/* ---- the cases ---------------------------------------------------------- */

/* Public routes, routing, request bodies, token exchange and /v1/me. */
static const struct tcase ops_cases[] = {
	{ __LINE__, "health", "GET", "/v1/health", NULL, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "status=ok", "version", "schema" }, "hlen=^Content-Length" },
	{ __LINE__, "HEAD health: GET's headers, no body", "HEAD",
	    "/v1/health", NULL, NULL, NULL, NULL,
	    200, NULL, { "Content-Length=${hlen}", "!Allow" }, { NULL },
	    NULL },
	{ __LINE__, "HEAD unknown path", "HEAD", "/v1/nope", NULL, NULL,
	    NULL, NULL,
	    404, "not_found", { "Content-Length" }, { NULL }, NULL },
	{ __LINE__, "HEAD on a POST-only path", "HEAD", "/v1/auth/token",
	    NULL, NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow=POST" }, { NULL }, NULL },
	{ __LINE__, "HEAD me without a token", "HEAD", "/v1/me", NULL, NULL,
	    NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "escaped letters route as their letters", "GET",
	    "/v1/%68ealth", NULL, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "%2F does not separate segments", "GET", "/v1%2Fhealth",
	    NULL, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "a path that does not decode keeps its instance", "GET",
	    "/v1/%zz/x?a=1", NULL, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~malformed path" },
	    NULL },
	{ __LINE__, "an escaped NUL in the path", "GET", "/v1/health%00",
	    NULL, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { NULL }, NULL },

	/* The web server's own error, handed to us (REDIRECT_STATUS). */
	{ __LINE__, "REDIRECT_STATUS 200 is a normal request", "GET",
	    "/v1/health", NULL, "$REDIRECT_STATUS: 200", NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "REDIRECT_STATUS 302 is a normal request", "GET",
	    "/v1/health", NULL, "$REDIRECT_STATUS: 302", NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "REDIRECT_STATUS 4040 is a normal request", "GET",
	    "/v1/health", NULL, "$REDIRECT_STATUS: 4040", NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "REDIRECT_STATUS 40x is a normal request", "GET",
	    "/v1/health", NULL, "$REDIRECT_STATUS: 40x", NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "a client's Redirect-Status header is a header", "GET",
	    "/v1/health", NULL, "Redirect-Status: 404", NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "web server 404 on a routed path", "GET", "/v1/health",
	    NULL, "$REDIRECT_STATUS: 404", NULL, NULL,
	    404, "not_found", { "!Allow" },
	    { "detail~" WSR " (404 ", "status=404" }, NULL },
	{ __LINE__, "web server 414", "GET", "/v1/nope", NULL,
	    "$REDIRECT_STATUS: 414", NULL, NULL,
	    414, "uri_too_long", { NULL }, { "detail~" WSR " (414 " }, NULL },
	{ __LINE__, "web server 413: the body is not read", "POST",
	    "/v1/records", ADM, "$REDIRECT_STATUS: 413", JSON, "{\"title\":1}",
	    413, "payload_too_large", { "!Location" }, { "detail~" WSR },
	    NULL },
	{ __LINE__, "web server 400 before the token", "GET", "/v1/me", NULL,
	    "$REDIRECT_STATUS: 400", NULL, NULL,
	    400, "invalid_request", { "!WWW-Authenticate" },
	    { "detail~" WSR }, NULL },
	{ __LINE__, "web server 403", "GET", "/v1/records", NULL,
	    "$REDIRECT_STATUS: 403", NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 405", "PUT", "/v1/x", NULL,
	    "$REDIRECT_STATUS: 405", NULL, NULL,
	    405, "method_not_allowed", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 408", "GET", "/v1/x", NULL,
	    "$REDIRECT_STATUS: 408", NULL, NULL,
	    408, "request_timeout", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 411", "POST", "/v1/records", NULL,
	    "$REDIRECT_STATUS: 411", NULL, NULL,
	    411, "length_required", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 418: invalid_request as 418", "GET", "/v1/x",
	    NULL, "$REDIRECT_STATUS: 418", NULL, NULL,
	    418, "invalid_request", { NULL }, { "status=418" }, NULL },
	{ __LINE__, "web server 431", "GET", "/v1/x", NULL,
	    "$REDIRECT_STATUS: 431", NULL, NULL,
	    431, "request_header_fields_too_large", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 500", "GET", "/v1/x", NULL,
	    "$REDIRECT_STATUS: 500", NULL, NULL,
	    500, "internal_error", { NULL }, { "detail~" WSR " (500 " },
	    NULL },
	{ __LINE__, "web server 501", "BREW", "/v1/x", NULL,
	    "$REDIRECT_STATUS: 501", NULL, NULL,
	    501, "not_implemented", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 502: internal_error as 502", "GET", "/v1/x",
	    NULL, "$REDIRECT_STATUS: 502", NULL, NULL,
	    502, "internal_error", { NULL }, { "status=502" }, NULL },
	{ __LINE__, "web server 503", "GET", "/v1/x", NULL,
	    "$REDIRECT_STATUS: 503", NULL, NULL,
	    503, "service_unavailable", { NULL }, { NULL }, NULL },
	{ __LINE__, "web server 404 with REDIRECT_URL as the instance", "GET",
	    "/v1/errors/404", NULL,
	    "$REDIRECT_STATUS: 404\n$REDIRECT_URL: /v1/gone", NULL, NULL,
	    404, "not_found", { NULL }, { "instance=/v1/gone" }, NULL },
	{ __LINE__, "web server 400 on a path that does not decode", "GET",
	    "/v1/%zz", NULL, "$REDIRECT_STATUS: 400", NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~" WSR }, NULL },
	{ __LINE__, "web server 404 to a HEAD: no body", "HEAD", "/v1/x",
	    NULL, "$REDIRECT_STATUS: 404", NULL, NULL,
	    404, "not_found", { "Content-Length" }, { NULL }, NULL },
	{ __LINE__, "openapi document", "GET", "/v1/openapi.json", NULL, NULL,
	    NULL, NULL,
	    200, NULL, { NULL },
	    { "openapi~3.1", "paths./v1/records", "paths./v1/users/invite" },
	    NULL },
	{ __LINE__, "unknown path", "GET", "/v1/nope", NULL, NULL, NULL, NULL,
	    404, "not_found", { "!Allow" }, { NULL }, NULL },
	{ __LINE__, "other version", "GET", "/v2/health", NULL, NULL, NULL,
	    NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "health wrong method", "DELETE", "/v1/health", NULL, NULL,
	    NULL, NULL,
	    405, "method_not_allowed", { "Allow=GET, HEAD" }, { NULL }, NULL },
	{ __LINE__, "me wrong method", "POST", "/v1/me", NULL, NULL, NULL,
	    NULL,
	    405, "method_not_allowed", { "Allow=GET, HEAD" }, { NULL }, NULL },
	{ __LINE__, "record wrong method", "PUT", "/v1/records/" UNKNOWN_REC,
	    NULL, NULL, JSON, "{\"title\":\"x\"}",
	    405, "method_not_allowed", { "Allow~GET", "Allow~PATCH",
	    "Allow~DELETE" }, { NULL }, NULL },
	{ __LINE__, "unknown query parameter", "GET", "/v1/health?x=1", NULL,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~x" }, NULL },
	{ __LINE__, "X-Request-Id echoed on a 200", "GET", "/v1/health", NULL,
	    "X-Request-Id: abc-123_X.y", NULL, NULL,
	    200, NULL, { "X-Request-Id=abc-123_X.y" }, { NULL }, NULL },
	{ __LINE__, "X-Request-Id echoed on a problem", "GET", "/v1/nope",
	    NULL, "X-Request-Id: abc-123_X.y", NULL, NULL,
	    404, "not_found", { "X-Request-Id=abc-123_X.y" },
	    { "request_id=abc-123_X.y" }, NULL },
	{ __LINE__, "X-Request-Id with a space replaced", "GET", "/v1/health",
	    NULL, "X-Request-Id: abc 123", NULL, NULL,
	    200, NULL, { "X-Request-Id!=abc 123" }, { NULL }, NULL },

	/* POST /v1/auth/token */
	{ __LINE__, "token for the admin key", "POST", "/v1/auth/token", NULL,
	    NULL, JSON, "{\"api_key\":\"${kadm}\"}",
	    200, NULL, { NULL },
	    { "token_type=Bearer", "expires_in=900", "role=admin",
	    "org_id=${orga}", "expires_at" },
	    "adm=access_token,uadm=user_id" },
	{ __LINE__, "token for the operator key", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":\"${kopr}\"}",
	    200, NULL, { NULL }, { "role=operator", "org_id=${orga}" },
	    "opr=access_token,uopr=user_id" },
	{ __LINE__, "token for the viewer key", "POST", "/v1/auth/token", NULL,
	    NULL, JSON, "{\"api_key\":\"${kvwr}\"}",
	    200, NULL, { NULL }, { "role=viewer", "org_id=${orga}" },
	    "vwr=access_token,uvwr=user_id" },
	{ __LINE__, "token for org B's admin key", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":\"${korgb}\"}",
	    200, NULL, { NULL }, { "role=admin", "org_id=${orgbid}" },
	    "orgb=access_token,uorgb=user_id" },
	{ __LINE__, "token with a wrong key", "POST", "/v1/auth/token", NULL,
	    NULL, JSON, "{\"api_key\":\"" WRONG_KEY "\"}",
	    401, "invalid_api_key", { NULL }, { NULL }, NULL },
	{ __LINE__, "token with a malformed key", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":\"x\"}",
	    401, "invalid_api_key", { NULL }, { NULL }, NULL },
	{ __LINE__, "token body {}", "POST", "/v1/auth/token", NULL, NULL,
	    JSON, "{}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=api_key", "errors.*=1" }, NULL },
	{ __LINE__, "token body with an unknown member", "POST",
	    "/v1/auth/token", NULL, NULL, JSON,
	    "{\"api_key\":\"x\",\"extra\":1}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=extra", "errors.*=1" }, NULL },
	{ __LINE__, "token body [1]", "POST", "/v1/auth/token", NULL, NULL,
	    JSON, "[1]",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "token with a numeric api_key", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":12345}",
	    400, "invalid_request", { NULL }, { "errors.0.field=api_key" },
	    NULL },
	{ __LINE__, "token without a body", "POST", "/v1/auth/token", NULL,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "token as text/plain", "POST", "/v1/auth/token", NULL,
	    NULL, "text/plain", "{\"api_key\":\"${kadm}\"}",
	    415, "unsupported_media_type", { NULL }, { NULL }, NULL },
	{ __LINE__, "token with malformed JSON", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\": }",
	    400, "invalid_json", { NULL }, { "detail~byte" }, NULL },
	{ __LINE__, "token with a duplicate member", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":\"a\",\"api_key\":\"b\"}",
	    400, "invalid_json", { NULL }, { NULL }, NULL },
	/* Found by tests/fuzz (fuzz-bodies): a detail or message quoting
	 * what was sent stays UTF-8, or the answer is not JSON: a raw byte
	 * after a backslash; a name cut by "%.64s" inside a character. */
	{ __LINE__, "token with a raw byte escaped", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":\"\\\x85\"}",
	    400, "invalid_json", { NULL }, { "detail~invalid escape '\\?'" },
	    NULL },
	{ __LINE__, "token with a long unknown member", "POST",
	    "/v1/auth/token", NULL, NULL, JSON, "{\"api_key\":\"${kadm}\","
	    "\"a" EACUTE8 EACUTE8 EACUTE8 EACUTE8 EACUTE8 "\":1}",
	    400, "invalid_request", { NULL },
	    { "errors.0.message~" EACUTE8 "?\"" }, NULL },
	{ __LINE__, "a long unknown query parameter", "GET",
	    "/v1/me?a" PCT_EACUTE8 PCT_EACUTE8 PCT_EACUTE8 PCT_EACUTE8
	    PCT_EACUTE8 "=1", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL },
	    { "detail~" EACUTE8 "?\"" }, NULL },
	{ __LINE__, "token as application/json; charset=utf-8", "POST",
	    "/v1/auth/token", NULL, NULL, "application/json; charset=utf-8",
	    "{\"api_key\":\"${kadm}\"}",
	    200, NULL, { NULL }, { "access_token", "user_id=${uadm}" }, NULL },
	{ __LINE__, "token as curl -d's form type", "POST", "/v1/auth/token",
	    NULL, NULL, "application/x-www-form-urlencoded",
	    "{\"api_key\":\"${kadm}\"}",
	    200, NULL, { NULL }, { "access_token" }, NULL },
	{ __LINE__, "token as application/json; charset=\"UTF-8\"", "POST",
	    "/v1/auth/token", NULL, NULL, "application/json; charset=\"UTF-8\"",
	    "{\"api_key\":\"${kadm}\"}",
	    200, NULL, { NULL }, { "access_token" }, NULL },
	{ __LINE__, "token as application/json; charset=latin1", "POST",
	    "/v1/auth/token", NULL, NULL, "application/json; charset=latin1",
	    "{\"api_key\":\"${kadm}\"}",
	    415, "unsupported_media_type", { NULL }, { "detail~latin1" },
	    NULL },
	{ __LINE__, "token as the form type; charset=iso-8859-1", "POST",
	    "/v1/auth/token", NULL, NULL,
	    "application/x-www-form-urlencoded; charset=iso-8859-1",
	    "{\"api_key\":\"${kadm}\"}",
	    415, "unsupported_media_type", { NULL }, { NULL }, NULL },

	/* GET /v1/me */
	{ __LINE__, "me as the admin", "GET", "/v1/me", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "user_id=${uadm}", "email=admin@example.com", "role=admin",
	    "org_id=${orga}", "token_expires_at" }, NULL },
	{ __LINE__, "me as org B's admin", "GET", "/v1/me", ORGB, NULL, NULL,
	    NULL,
	    200, NULL, { NULL },
	    { "user_id=${uorgb}", "email=admin@other.example.com",
	    "org_id=${orgbid}" }, NULL },
	{ __LINE__, "me without a token", "GET", "/v1/me", NULL, NULL, NULL,
	    NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "me with Bearer garbage", "GET", "/v1/me",
	    "Bearer garbage", NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "me with the Basic scheme", "GET", "/v1/me",
	    "Basic YWRtaW46YWRtaW4=", NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "me with an API key as the bearer", "GET", "/v1/me",
	    "Bearer ${kadm}", NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "me with a body", "GET", "/v1/me", ADM, NULL, JSON, "{}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
};

/* Records: create, get, list, patch, delta sync, delete, idempotency. */
static const struct tcase records_cases[] = {
	/* POST /v1/records */
	{ __LINE__, "create a record", "POST", "/v1/records", ADM, NULL, JSON,
	    "{\"title\":\"Pressure check\",\"type\":\"inspection\","
	    "\"site\":\"alpha\",\"data\":{\"pressure\":7}}",
	    201, NULL, { "Location=/v1/records/${r1}", "ETag=\"${c1}\"" },
	    { "version=1", "status=queued", "size=14", "created_by=${uadm}",
	    "deleted=false" },
	    "r1=id,c1=causal" },
	{ __LINE__, "create as the operator", "POST", "/v1/records", OPR,
	    NULL, JSON, "{\"title\":\"Second\",\"type\":\"note\"}",
	    201, NULL, { "Location=/v1/records/${r2}", "ETag=\"${c2}\"" },
	    { "created_by=${uopr}", "site=null", "data={}", "size=2",
	    "queue=default" },
	    "r2=id,c2=causal" },
	{ __LINE__, "create without title and type", "POST", "/v1/records",
	    ADM, NULL, JSON, "{\"site\":\"alpha\"}",
	    400, "invalid_request", { "!Location" },
	    { "errors.*=2", "errors.0.field=title", "errors.1.field=type" },
	    NULL },
	{ __LINE__, "create with status bogus", "POST", "/v1/records", ADM,
	    NULL, JSON, "{\"title\":\"t\",\"type\":\"x\",\"status\":\"bogus\"}",
	    400, "invalid_request", { NULL },
	    { "errors.*=1", "errors.0.field=status" }, NULL },
	{ __LINE__, "create with an unknown member", "POST", "/v1/records",
	    ADM, NULL, JSON, "{\"title\":\"t\",\"type\":\"x\",\"colour\":\"red\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=colour" },
	    NULL },
	{ __LINE__, "create with data [1]", "POST", "/v1/records", ADM, NULL,
	    JSON, "{\"title\":\"t\",\"type\":\"x\",\"data\":[1]}",
	    400, "invalid_request", { NULL }, { "errors.0.field=data" }, NULL },
	{ __LINE__, "create with body [1]", "POST", "/v1/records", ADM, NULL,
	    JSON, "[1]",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "create as text/plain", "POST", "/v1/records", ADM, NULL,
	    "text/plain", "{\"title\":\"t\",\"type\":\"x\"}",
	    415, "unsupported_media_type", { NULL }, { NULL }, NULL },
	{ __LINE__, "create with malformed JSON", "POST", "/v1/records", ADM,
	    NULL, JSON, "{\"title\":",
	    400, "invalid_json", { NULL }, { NULL }, NULL },
	{ __LINE__, "create without a token", "POST", "/v1/records", NULL,
	    NULL, JSON, "{\"title\":\"t\",\"type\":\"x\"}",
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "create as the viewer", "POST", "/v1/records", VWR, NULL,
	    JSON, "{\"title\":\"t\",\"type\":\"x\"}",
	    403, "forbidden", { "!Location" }, { NULL }, NULL },

	/* GET /v1/records/:id */
	{ __LINE__, "get the record", "GET", "/v1/records/${r1}", ADM, NULL,
	    NULL, NULL,
	    200, NULL, { "ETag=\"${c1}\"" },
	    { "id=${r1}", "causal=${c1}", "title=Pressure check",
	    "data.pressure=7", "deleted_at=null" }, "r1len=^Content-Length" },
	{ __LINE__, "HEAD the record: GET's headers, no body", "HEAD",
	    "/v1/records/${r1}", ADM, NULL, NULL, NULL,
	    200, NULL, { "ETag=\"${c1}\"", "Content-Length=${r1len}" },
	    { NULL }, NULL },
	{ __LINE__, "HEAD an unknown record", "HEAD",
	    "/v1/records/" UNKNOWN_REC, ADM, NULL, NULL, NULL,
	    404, "not_found", { "!ETag" }, { NULL }, NULL },
	{ __LINE__, "the record behind an encoded slash is not reached",
	    "GET", "/v1/records%2F${r1}", ADM, NULL, NULL, NULL,
	    404, "not_found", { "!ETag" }, { NULL }, NULL },
	{ __LINE__, "an encoded slash inside the id", "GET",
	    "/v1/records/%2F${r1}", ADM, NULL, NULL, NULL,
	    404, "not_found", { "!ETag" }, { NULL }, NULL },
	{ __LINE__, "an escaped id reaches the record", "GET",
	    "/v1/records/rec%5F${r1}", ADM, NULL, NULL, NULL,
	    404, "not_found", { "!ETag" }, { NULL }, NULL },
	{ __LINE__, "get the record as the viewer", "GET", "/v1/records/${r1}",
	    VWR, NULL, NULL, NULL,
	    200, NULL, { "ETag=\"${c1}\"" }, { "id=${r1}" }, NULL },
	{ __LINE__, "get an unknown record", "GET", "/v1/records/" UNKNOWN_REC,
	    ADM, NULL, NULL, NULL,
	    404, "not_found", { "!ETag" }, { NULL }, NULL },
	{ __LINE__, "get a malformed record id", "GET", "/v1/records/rec_1011",
	    ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "get another org's record", "GET", "/v1/records/${r1}",
	    ORGB, NULL, NULL, NULL,
	    404, "not_found", { "!ETag" }, { NULL }, NULL },
	{ __LINE__, "get without a token", "GET", "/v1/records/${r1}", NULL,
	    NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "patch another org's record", "PATCH",
	    "/v1/records/${r1}", ORGB, NULL, JSON,
	    "{\"title\":\"mine\",\"causal\":\"${c1}\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete another org's record", "DELETE",
	    "/v1/records/${r1}", ORGB, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "the record is unchanged by org B", "GET",
	    "/v1/records/${r1}", ADM, NULL, NULL, NULL,
	    200, NULL, { "ETag=\"${c1}\"" },
	    { "title=Pressure check", "version=1", "deleted=false" }, NULL },

	/* GET /v1/records */
	{ __LINE__, "list", "GET", "/v1/records", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=2", "data.0.id=${r1}", "has_more=false",
	    "next_cursor=null", "sync_token" },
	    "st=sync_token,listlen=^Content-Length" },
	{ __LINE__, "HEAD the list", "HEAD", "/v1/records", ADM, NULL, NULL,
	    NULL,
	    200, NULL, { "Content-Length=${listlen}" }, { NULL }, NULL },
	{ __LINE__, "DELETE the list: Allow has HEAD", "DELETE",
	    "/v1/records", ADM, NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow=POST, GET, HEAD" }, { NULL },
	    NULL },
	{ __LINE__, "create as application/json; charset=latin1", "POST",
	    "/v1/records", ADM, NULL, "application/json; charset=latin1",
	    "{\"title\":\"t\",\"type\":\"x\"}",
	    415, "unsupported_media_type", { "!Location" }, { NULL }, NULL },
	{ __LINE__, "list limit=1", "GET", "/v1/records?limit=1", ADM, NULL,
	    NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.id=${r1}", "has_more=true", "next_cursor",
	    "sync_token" },
	    "nc=next_cursor" },
	{ __LINE__, "list the next page", "GET",
	    "/v1/records?limit=1&cursor=${nc}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.id=${r2}", "has_more=false",
	    "next_cursor=null" }, NULL },
	{ __LINE__, "list type filter", "GET", "/v1/records?type=inspection",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${r1}" }, NULL },
	{ __LINE__, "list created_by filter", "GET",
	    "/v1/records?created_by=${uopr}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${r2}" }, NULL },
	{ __LINE__, "list as the viewer", "GET", "/v1/records", VWR, NULL,
	    NULL, NULL,
	    200, NULL, { NULL }, { "data.*=2" }, NULL },
	{ __LINE__, "list as org B", "GET", "/v1/records", ORGB, NULL, NULL,
	    NULL,
	    200, NULL, { NULL }, { "data.*=0", "has_more=false" }, NULL },
	{ __LINE__, "list without a token", "GET", "/v1/records", NULL, NULL,
	    NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "list limit=0", "GET", "/v1/records?limit=0", ADM, NULL,
	    NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=limit" },
	    NULL },
	{ __LINE__, "list limit=201", "GET", "/v1/records?limit=201", ADM,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=limit" },
	    NULL },
	{ __LINE__, "list limit=abc", "GET", "/v1/records?limit=abc", ADM,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=limit" },
	    NULL },
	{ __LINE__, "list include_deleted=maybe", "GET",
	    "/v1/records?include_deleted=maybe", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL },
	    { "errors.0.field=include_deleted" }, NULL },
	{ __LINE__, "list status=bogus", "GET", "/v1/records?status=bogus",
	    ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=status" },
	    NULL },
	{ __LINE__, "list updated_after=yesterday", "GET",
	    "/v1/records?updated_after=yesterday", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL },
	    { "errors.0.field=updated_after" }, NULL },
	{ __LINE__, "list with an unknown parameter", "GET",
	    "/v1/records?colour=red", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~colour" }, NULL },
	{ __LINE__, "list with a garbage cursor", "GET",
	    "/v1/records?cursor=garbage", ADM, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list with a cursor and another filter", "GET",
	    "/v1/records?limit=1&type=x&cursor=${nc}", ADM, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list with org A's cursor as org B", "GET",
	    "/v1/records?limit=1&cursor=${nc}", ORGB, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },

	/* PATCH /v1/records/:id */
	{ __LINE__, "patch with body causal", "PATCH", "/v1/records/${r1}",
	    ADM, NULL, JSON, "{\"title\":\"Renamed\",\"causal\":\"${c1}\"}",
	    200, NULL, { "ETag=\"${c1b}\"", "!Location" },
	    { "title=Renamed", "version=2", "causal!=${c1}", "site=alpha",
	    "data.pressure=7" },
	    "c1b=causal" },
	{ __LINE__, "patch without a causal token", "PATCH",
	    "/v1/records/${r1}", ADM, NULL, JSON, "{\"title\":\"x\"}",
	    428, "causal_required", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch with a stale body causal", "PATCH",
	    "/v1/records/${r1}", ADM, NULL, JSON,
	    "{\"title\":\"second\",\"causal\":\"${c1}\"}",
	    409, "causal_conflict", { "ETag=\"${c1b}\"" },
	    { "current.causal=${c1b}", "current.title=Renamed",
	    "current.version=2" }, NULL },
	{ __LINE__, "patch with a stale If-Match", "PATCH",
	    "/v1/records/${r1}", ADM, "If-Match: \"${c1}\"", JSON,
	    "{\"title\":\"second\"}",
	    412, "causal_conflict", { "ETag=\"${c1b}\"" },
	    { "current.causal=${c1b}", "current.title=Renamed" }, NULL },
	{ __LINE__, "patch with If-Match", "PATCH", "/v1/records/${r1}", ADM,
	    "If-Match: \"${c1b}\"", JSON, "{\"status\":\"conflict\"}",
	    200, NULL, { "ETag=\"${c1c}\"" },
	    { "status=conflict", "version=3", "title=Renamed" },
	    "c1c=causal" },
	{ __LINE__, "patch with If-Match and body causal different", "PATCH",
	    "/v1/records/${r1}", ADM, "If-Match: \"${c1c}\"", JSON,
	    "{\"title\":\"x\",\"causal\":\"${c1}\"}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch with a malformed If-Match", "PATCH",
	    "/v1/records/${r1}", ADM, "If-Match: abc", JSON,
	    "{\"title\":\"x\"}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch with only causal", "PATCH", "/v1/records/${r1}",
	    ADM, NULL, JSON, "{\"causal\":\"${c1c}\"}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch with status bogus", "PATCH", "/v1/records/${r1}",
	    ADM, NULL, JSON, "{\"status\":\"bogus\",\"causal\":\"${c1c}\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=status" },
	    NULL },
	{ __LINE__, "patch with an unknown member", "PATCH",
	    "/v1/records/${r1}", ADM, NULL, JSON,
	    "{\"colour\":\"red\",\"causal\":\"${c1c}\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=colour" },
	    NULL },
	{ __LINE__, "patch without a body", "PATCH", "/v1/records/${r1}", ADM,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch as the viewer", "PATCH", "/v1/records/${r1}", VWR,
	    NULL, JSON, "{\"title\":\"x\",\"causal\":\"${c1c}\"}",
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch an unknown record", "PATCH",
	    "/v1/records/" UNKNOWN_REC, ADM, NULL, JSON,
	    "{\"title\":\"x\",\"causal\":\"" ZERO_ULID "\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch data as the operator (merge)", "PATCH",
	    "/v1/records/${r1}", OPR, NULL, JSON,
	    "{\"data\":{\"a\":1},\"causal\":\"${c1c}\"}",
	    200, NULL, { "ETag=\"${c1d}\"" },
	    { "data.a=1", "data.pressure=7", "version=4", "size=20" },
	    "c1d=causal" },
	{ __LINE__, "the refused patches changed nothing", "GET",
	    "/v1/records/${r1}", VWR, NULL, NULL, NULL,
	    200, NULL, { "ETag=\"${c1d}\"" },
	    { "version=4", "title=Renamed", "status=conflict" }, NULL },

	/* delta sync: r1 changed since st */
	{ __LINE__, "delta sync since", "GET", "/v1/records?since=${st}", ADM,
	    NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.id=${r1}", "data.0.causal=${c1d}",
	    "has_more=false", "sync_token" },
	    "st2=sync_token" },
	{ __LINE__, "delta sync since, caught up", "GET",
	    "/v1/records?since=${st2}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=0", "has_more=false" }, NULL },
	{ __LINE__, "delta sync with a type filter", "GET",
	    "/v1/records?since=${st}&type=x", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=type" }, NULL },
	{ __LINE__, "delta sync with a forged token", "GET",
	    "/v1/records?since=garbage", ADM, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "delta sync with org A's token as org B", "GET",
	    "/v1/records?since=${st}", ORGB, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },

	/* DELETE /v1/records/:id */
	{ __LINE__, "delete as the viewer", "DELETE", "/v1/records/${r2}",
	    VWR, NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete with a stale If-Match", "DELETE",
	    "/v1/records/${r2}", OPR, "If-Match: \"${c1}\"", NULL, NULL,
	    409, "causal_conflict", { "ETag=\"${c2}\"" },
	    { "current.id=${r2}", "current.deleted=false" }, NULL },
	{ __LINE__, "delete", "DELETE", "/v1/records/${r2}", OPR, NULL, NULL,
	    NULL,
	    200, NULL, { "ETag=\"${c2b}\"" },
	    { "deleted=true", "deleted_at", "version=2", "causal!=${c2}",
	    "title=Second" },
	    "c2b=causal,t2=@body" },
	{ __LINE__, "delete again: the same tombstone", "DELETE",
	    "/v1/records/${r2}", ADM, NULL, NULL, NULL,
	    200, NULL, { "ETag=\"${c2b}\"" }, { "@body=${t2}" }, NULL },
	{ __LINE__, "get a deleted record", "GET", "/v1/records/${r2}", ADM,
	    NULL, NULL, NULL,
	    410, "record_deleted", { "ETag=\"${c2b}\"" },
	    { "record.id=${r2}", "record.deleted=true",
	    "record.causal=${c2b}" }, NULL },
	{ __LINE__, "patch a deleted record", "PATCH", "/v1/records/${r2}",
	    ADM, NULL, JSON, "{\"title\":\"x\",\"causal\":\"${c2b}\"}",
	    410, "record_deleted", { NULL }, { "record.deleted=true" }, NULL },
	{ __LINE__, "delete an unknown record", "DELETE",
	    "/v1/records/" UNKNOWN_REC, ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete without a token", "DELETE", "/v1/records/${r1}",
	    NULL, NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "list leaves the deleted record out", "GET", "/v1/records",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${r1}" }, NULL },
	{ __LINE__, "list include_deleted=true", "GET",
	    "/v1/records?include_deleted=true", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=2", "data.1.id=${r2}", "data.1.deleted=true" }, NULL },
	{ __LINE__, "delta sync shows the tombstone", "GET",
	    "/v1/records?since=${st2}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.id=${r2}", "data.0.deleted=true" }, NULL },

	/* Idempotency-Key */
	{ __LINE__, "create with an Idempotency-Key", "POST", "/v1/records",
	    ADM, "Idempotency-Key: k-1", JSON,
	    "{\"title\":\"Idem\",\"type\":\"idem\"}",
	    201, NULL, { "!Idempotent-Replayed", "Location", "ETag" },
	    { "title=Idem" },
	    "i1=@body,i1id=id,i1loc=^Location,i1etag=^ETag" },
	{ __LINE__, "the same request again: replayed", "POST", "/v1/records",
	    ADM, "Idempotency-Key: k-1", JSON,
	    "{\"title\":\"Idem\",\"type\":\"idem\"}",
	    201, NULL, { "Idempotent-Replayed=true", "Location=${i1loc}",
	    "ETag=${i1etag}" },
	    { "@body=${i1}" }, NULL },
	{ __LINE__, "the same body reordered and the key quoted: replayed",
	    "POST", "/v1/records", ADM, "Idempotency-Key: \"k-1\"", JSON,
	    "{ \"type\" : \"idem\", \"title\" : \"Idem\" }",
	    201, NULL, { "Idempotent-Replayed=true" }, { "@body=${i1}" },
	    NULL },
	{ __LINE__, "the same key with another body", "POST", "/v1/records",
	    ADM, "Idempotency-Key: k-1", JSON,
	    "{\"title\":\"Something else\",\"type\":\"idem\"}",
	    422, "idempotency_key_reused", { "!Location", "!ETag",
	    "!Idempotent-Replayed" }, { NULL }, NULL },
	{ __LINE__, "an Idempotency-Key with a space", "POST", "/v1/records",
	    ADM, "Idempotency-Key: k 2", JSON,
	    "{\"title\":\"Idem\",\"type\":\"idem\"}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "org B's same key is its own", "POST", "/v1/records",
	    ORGB, "Idempotency-Key: k-1", JSON,
	    "{\"title\":\"Idem\",\"type\":\"idem\"}",
	    201, NULL, { "!Idempotent-Replayed" }, { "id!=${i1id}" }, NULL },
	{ __LINE__, "the replays made one record", "GET",
	    "/v1/records?type=idem", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${i1id}" }, NULL },
	{ __LINE__, "patch with an Idempotency-Key", "PATCH",
	    "/v1/records/${r1}", ADM, "Idempotency-Key: p-1", JSON,
	    "{\"title\":\"once\",\"causal\":\"${c1d}\"}",
	    200, NULL, { "!Idempotent-Replayed" }, { "version=5" },
	    "p1=@body,c1e=causal" },
	{ __LINE__, "the same patch again: replayed", "PATCH",
	    "/v1/records/${r1}", ADM, "Idempotency-Key: p-1", JSON,
	    "{\"title\":\"once\",\"causal\":\"${c1d}\"}",
	    200, NULL, { "Idempotent-Replayed=true", "ETag=\"${c1e}\"" },
	    { "@body=${p1}" }, NULL },
	{ __LINE__, "the patch key with another body", "PATCH",
	    "/v1/records/${r1}", ADM, "Idempotency-Key: p-1", JSON,
	    "{\"title\":\"twice\",\"causal\":\"${c1e}\"}",
	    422, "idempotency_key_reused", { NULL }, { NULL }, NULL },
	{ __LINE__, "the replayed patch wrote once", "GET",
	    "/v1/records/${r1}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "version=5", "title=once" }, NULL },
	{ __LINE__, "delete with an Idempotency-Key", "DELETE",
	    "/v1/records/${i1id}", ADM, "Idempotency-Key: d-1", NULL, NULL,
	    200, NULL, { "!Idempotent-Replayed" }, { "deleted=true" },
	    "d1=@body" },
	{ __LINE__, "the same delete again: replayed", "DELETE",
	    "/v1/records/${i1id}", ADM, "Idempotency-Key: d-1", NULL, NULL,
	    200, NULL, { "Idempotent-Replayed=true" }, { "@body=${d1}" },
	    NULL },
};

/* Users: list, invite, accept, patch. */
/*
 * Conflicts and history (issue 15): a lost causal check kept, read,
 * listed and resolved; the supersede rule; a record's history.
 */
static const struct tcase conflicts_cases[] = {
	{ __LINE__, "a record to fight over", "POST", "/v1/records", ADM,
	    NULL, JSON, "{\"title\":\"Fought\",\"type\":\"cfl\"}",
	    201, NULL, { NULL }, { NULL }, "f1=id,fc1=causal" },
	{ __LINE__, "the admin changes it", "PATCH", "/v1/records/${f1}", ADM,
	    NULL, JSON, "{\"title\":\"first\",\"causal\":\"${fc1}\"}",
	    200, NULL, { NULL }, { "version=2" }, "fc2=causal" },
	{ __LINE__, "the operator's stale patch: 409 and a conflict",
	    "PATCH", "/v1/records/${f1}", OPR, NULL, JSON,
	    "{\"title\":\"second\",\"causal\":\"${fc1}\"}",
	    409, "causal_conflict", { "ETag=\"${fc2}\"" },
	    { "conflict_id~cfl_", "current.causal=${fc2}" }, "k1=conflict_id" },
	{ __LINE__, "the admin's stale If-Match: 412 and a conflict", "PATCH",
	    "/v1/records/${f1}", ADM, "If-Match: \"${fc1}\"", JSON,
	    "{\"site\":\"x\"}",
	    412, "causal_conflict", { NULL }, { "conflict_id~cfl_" },
	    "k2=conflict_id" },
	{ __LINE__, "a viewer reads the conflict", "GET",
	    "/v1/conflicts/${k1}", VWR, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "id=${k1}", "record_id=${f1}", "base_causal=${fc1}",
	    "attempted={\"title\":\"second\"}", "current.causal=${fc2}" },
	    NULL },
	{ __LINE__, "... open, the operator's", "GET",
	    "/v1/conflicts/${k1}", VWR, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "status=open", "created_by=${uopr}", "resolved_at=null",
	    "resolved_by=null", "resolution=null" }, NULL },
	{ __LINE__, "org B does not", "GET", "/v1/conflicts/${k1}", ORGB,
	    NULL, NULL, NULL, 404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "the record's conflicts, oldest first", "GET",
	    "/v1/conflicts?record_id=${f1}", VWR, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=2", "data.0.id=${k1}", "data.1.id=${k2}",
	    "data.1.attempted={\"site\":\"x\"}", "has_more=false" }, NULL },
	{ __LINE__, "a bad status filter", "GET", "/v1/conflicts?status=shut",
	    ADM, NULL, NULL, NULL, 400, "invalid_request", { NULL },
	    { "errors.0.field=status" }, NULL },
	{ __LINE__, "the history: the created version", "GET",
	    "/v1/records/${f1}/history", VWR, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.version=1", "data.0.causal=${fc1}",
	    "data.0.changed=[\"title\",\"type\"]", "data.0.actor=${uadm}" },
	    NULL },
	{ __LINE__, "... as it was", "GET", "/v1/records/${f1}/history", VWR,
	    NULL, NULL, NULL, 200, NULL, { NULL },
	    { "data.0.record.causal=${fc1}", "data.0.record.title=Fought",
	    "data.0.record.version=1", "has_more=false", "next_cursor=null" },
	    NULL },
	{ __LINE__, "a viewer cannot resolve", "POST",
	    "/v1/conflicts/${k1}/resolve", VWR, NULL, JSON,
	    "{\"take\":\"current\"}", 403, "forbidden", { NULL }, { NULL },
	    NULL },
	{ __LINE__, "resolve: neither take nor record", "POST",
	    "/v1/conflicts/${k1}/resolve", OPR, NULL, JSON, "{}",
	    400, "invalid_request", { NULL }, { "errors.0.field=take" }, NULL },
	{ __LINE__, "the operator takes what it attempted", "POST",
	    "/v1/conflicts/${k1}/resolve", OPR, NULL, JSON,
	    "{\"take\":\"attempted\"}",
	    200, NULL, { "ETag=\"${fc3}\"" },
	    { "conflict.status=resolved", "conflict.resolution=attempted",
	    "conflict.resolved_by=${uopr}", "record.title=second",
	    "record.version=3" }, "fc3=record.causal" },
	{ __LINE__, "the admin's conflict stays open", "GET",
	    "/v1/conflicts/${k2}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "status=open" }, NULL },
	{ __LINE__, "resolving it again: conflict_closed", "POST",
	    "/v1/conflicts/${k1}/resolve", OPR, NULL, JSON,
	    "{\"take\":\"current\"}", 409, "conflict_closed", { NULL },
	    { "conflict.id=${k1}", "conflict.resolution=attempted" }, NULL },
	{ __LINE__, "the history: two versions, newest first", "GET",
	    "/v1/records/${f1}/history?limit=1", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.version=2", "data.0.changed=[\"title\"]",
	    "data.0.actor=${uadm}", "has_more=true" }, "hc=next_cursor" },
	{ __LINE__, "the history's next page", "GET",
	    "/v1/records/${f1}/history?limit=1&cursor=${hc}", ADM, NULL, NULL,
	    NULL, 200, NULL, { NULL },
	    { "data.*=1", "data.0.version=1", "has_more=false" }, NULL },
	{ __LINE__, "its cursor on another record's history", "GET",
	    "/v1/records/${r1}/history?limit=1&cursor=${hc}", ADM, NULL, NULL,
	    NULL, 400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "the admin writes the record", "PATCH",
	    "/v1/records/${f1}", ADM, NULL, JSON,
	    "{\"status\":\"synced\",\"causal\":\"${fc3}\"}",
	    200, NULL, { NULL }, { "version=4" }, NULL },
	{ __LINE__, "which supersedes the admin's conflict", "GET",
	    "/v1/conflicts/${k2}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "status=superseded", "resolution=superseded",
	    "resolved_by=${uadm}" }, NULL },
	{ __LINE__, "the history of org B's view: none", "GET",
	    "/v1/records/${f1}/history", ORGB, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
};

static const struct tcase users_cases[] = {
	/* GET /v1/users */
	{ __LINE__, "list users", "GET", "/v1/users", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=3", "data.0.id=${uadm}", "data.0.role=admin",
	    "has_more=false", "next_cursor=null" }, NULL },
	{ __LINE__, "list users as the operator", "GET", "/v1/users", OPR,
	    NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "list users as the viewer", "GET", "/v1/users", VWR, NULL,
	    NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "list users without a token", "GET", "/v1/users", NULL,
	    NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "list users as org B", "GET", "/v1/users", ORGB, NULL,
	    NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${uorgb}" }, NULL },
	{ __LINE__, "list users role=operator", "GET",
	    "/v1/users?role=operator", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${uopr}" }, NULL },
	{ __LINE__, "list users limit=1", "GET", "/v1/users?limit=1", ADM,
	    NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "has_more=true", "next_cursor" }, "unc=next_cursor" },
	{ __LINE__, "list users, the next page", "GET",
	    "/v1/users?limit=1&cursor=${unc}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id!=${uadm}" }, NULL },
	{ __LINE__, "list users role=wizard", "GET", "/v1/users?role=wizard",
	    ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=role" }, NULL },
	{ __LINE__, "list users status=gone", "GET", "/v1/users?status=gone",
	    ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=status" },
	    NULL },
	{ __LINE__, "list users limit=0", "GET", "/v1/users?limit=0", ADM,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=limit" },
	    NULL },
	{ __LINE__, "list users with an unknown parameter", "GET",
	    "/v1/users?foo=1", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "list users with a garbage cursor", "GET",
	    "/v1/users?cursor=garbage", ADM, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list users with a records cursor", "GET",
	    "/v1/users?limit=1&cursor=${nc}", ADM, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list users with org A's cursor as org B", "GET",
	    "/v1/users?limit=1&cursor=${unc}", ORGB, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },

	/* POST /v1/users/invite */
	{ __LINE__, "invite", "POST", "/v1/users/invite", ADM, NULL, JSON,
	    "{\"email\":\"New.User@example.com\",\"role\":\"operator\"}",
	    201, NULL, { NULL },
	    { "user.status=invited", "user.role=operator",
	    "user.last_sync_at=null", "invite_token~rsi_",
	    "invite_expires_at" },
	    "unew=user.id,inv1=invite_token" },
	{ __LINE__, "invite the same email in another case", "POST",
	    "/v1/users/invite", ADM, NULL, JSON,
	    "{\"email\":\"new.user@EXAMPLE.COM\",\"role\":\"viewer\"}",
	    409, "user_exists", { NULL }, { NULL }, NULL },
	{ __LINE__, "invite an active user's email", "POST",
	    "/v1/users/invite", ADM, NULL, JSON,
	    "{\"email\":\"ADMIN@example.com\",\"role\":\"viewer\"}",
	    409, "user_exists", { NULL }, { NULL }, NULL },
	{ __LINE__, "invite the same email in org B", "POST",
	    "/v1/users/invite", ORGB, NULL, JSON,
	    "{\"email\":\"new.user@example.com\",\"role\":\"viewer\"}",
	    201, NULL, { NULL }, { "user.id!=${unew}" }, "uinvb=user.id" },
	{ __LINE__, "invite a bad email", "POST", "/v1/users/invite", ADM,
	    NULL, JSON, "{\"email\":\"nope\",\"role\":\"viewer\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=email" }, NULL },
	{ __LINE__, "invite a bad role", "POST", "/v1/users/invite", ADM, NULL,
	    JSON, "{\"email\":\"w@example.com\",\"role\":\"wizard\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=role" }, NULL },
	{ __LINE__, "invite with an unknown member", "POST",
	    "/v1/users/invite", ADM, NULL, JSON,
	    "{\"email\":\"w@example.com\",\"role\":\"viewer\",\"extra\":1}",
	    400, "invalid_request", { NULL }, { "errors.0.field=extra" }, NULL },
	{ __LINE__, "invite as the operator", "POST", "/v1/users/invite", OPR,
	    NULL, JSON, "{\"email\":\"w@example.com\",\"role\":\"viewer\"}",
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "invite without a token", "POST", "/v1/users/invite",
	    NULL, NULL, JSON, "{\"email\":\"w@example.com\",\"role\":\"viewer\"}",
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "invite as text/plain", "POST", "/v1/users/invite", ADM,
	    NULL, "text/plain",
	    "{\"email\":\"w@example.com\",\"role\":\"viewer\"}",
	    415, "unsupported_media_type", { NULL }, { NULL }, NULL },
	{ __LINE__, "invite a second user", "POST", "/v1/users/invite", ADM,
	    NULL, JSON, "{\"email\":\"pending@example.com\",\"role\":\"viewer\"}",
	    201, NULL, { NULL }, { "user.status=invited" }, "upend=user.id" },
	{ __LINE__, "invite wrong method", "GET", "/v1/users/invite", ADM,
	    NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow~POST" }, { NULL }, NULL },

	/* POST /v1/users/accept */
	{ __LINE__, "accept", "POST", "/v1/users/accept", NULL, NULL, JSON,
	    "{\"invite_token\":\"${inv1}\"}",
	    201, NULL, { NULL },
	    { "user.id=${unew}", "user.status=active", "user.role=operator",
	    "user.email=New.User@example.com", "api_key~rs_live_" },
	    "knew=api_key" },
	{ __LINE__, "accept the same invite again", "POST", "/v1/users/accept",
	    NULL, NULL, JSON, "{\"invite_token\":\"${inv1}\"}",
	    410, "invite_invalid", { NULL }, { NULL }, NULL },
	{ __LINE__, "accept an unknown invite", "POST", "/v1/users/accept",
	    NULL, NULL, JSON,
	    "{\"invite_token\":\"rsi_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    410, "invite_invalid", { NULL }, { NULL }, NULL },
	{ __LINE__, "accept nonsense", "POST", "/v1/users/accept", NULL, NULL,
	    JSON, "{\"invite_token\":\"nonsense\"}",
	    410, "invite_invalid", { NULL }, { NULL }, NULL },
	{ __LINE__, "accept {}", "POST", "/v1/users/accept", NULL, NULL, JSON,
	    "{}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=invite_token" }, NULL },
	{ __LINE__, "accept with an extra member", "POST", "/v1/users/accept",
	    NULL, NULL, JSON, "{\"invite_token\":\"rsi_x\",\"extra\":true}",
	    400, "invalid_request", { NULL }, { "errors.0.field=extra" }, NULL },
	{ __LINE__, "accept as text/plain", "POST", "/v1/users/accept", NULL,
	    NULL, "text/plain", "{\"invite_token\":\"${inv1}\"}",
	    415, "unsupported_media_type", { NULL }, { NULL }, NULL },
	{ __LINE__, "token for the accepted key", "POST", "/v1/auth/token",
	    NULL, NULL, JSON, "{\"api_key\":\"${knew}\"}",
	    200, NULL, { NULL },
	    { "role=operator", "user_id=${unew}", "org_id=${orga}" },
	    "tnew=access_token" },
	{ __LINE__, "me as the accepted user", "GET", "/v1/me",
	    "Bearer ${tnew}", NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "user_id=${unew}", "email=New.User@example.com",
	    "role=operator" }, NULL },

	/* PATCH /v1/users/:id */
	{ __LINE__, "patch a user's role", "PATCH", "/v1/users/${unew}", ADM,
	    NULL, JSON, "{\"role\":\"viewer\"}",
	    200, NULL, { NULL },
	    { "id=${unew}", "role=viewer", "status=active",
	    "email=New.User@example.com" }, NULL },
	{ __LINE__, "the new role shows in /v1/me", "GET", "/v1/me",
	    "Bearer ${tnew}", NULL, NULL, NULL,
	    200, NULL, { NULL }, { "role=viewer" }, NULL },
	{ __LINE__, "demote the last admin", "PATCH", "/v1/users/${uadm}",
	    ADM, NULL, JSON, "{\"role\":\"viewer\"}",
	    409, "last_admin", { NULL }, { NULL }, NULL },
	{ __LINE__, "disable the last admin", "PATCH", "/v1/users/${uadm}",
	    ADM, NULL, JSON, "{\"status\":\"disabled\"}",
	    409, "last_admin", { NULL }, { NULL }, NULL },
	{ __LINE__, "a no-op patch of the last admin", "PATCH",
	    "/v1/users/${uadm}", ADM, NULL, JSON,
	    "{\"role\":\"admin\",\"status\":\"active\"}",
	    200, NULL, { NULL }, { "role=admin", "status=active" }, NULL },
	{ __LINE__, "patch an unknown user", "PATCH",
	    "/v1/users/usr_doesnotexist0", ADM, NULL, JSON,
	    "{\"role\":\"viewer\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch another org's user", "PATCH", "/v1/users/${uorgb}",
	    ADM, NULL, JSON, "{\"status\":\"disabled\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "activate an invited user", "PATCH", "/v1/users/${upend}",
	    ADM, NULL, JSON, "{\"status\":\"active\"}",
	    409, "invalid_user_state", { NULL }, { NULL }, NULL },
	{ __LINE__, "disable an invited user", "PATCH", "/v1/users/${upend}",
	    ADM, NULL, JSON, "{\"status\":\"disabled\"}",
	    409, "invalid_user_state", { NULL }, { NULL }, NULL },
	{ __LINE__, "change an invited user's role", "PATCH",
	    "/v1/users/${upend}", ADM, NULL, JSON, "{\"role\":\"operator\"}",
	    200, NULL, { NULL }, { "role=operator", "status=invited" }, NULL },
	{ __LINE__, "patch a user with {}", "PATCH", "/v1/users/${unew}", ADM,
	    NULL, JSON, "{}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch a user to status invited", "PATCH",
	    "/v1/users/${unew}", ADM, NULL, JSON, "{\"status\":\"invited\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=status" },
	    NULL },
	{ __LINE__, "patch a user's email", "PATCH", "/v1/users/${unew}", ADM,
	    NULL, JSON, "{\"email\":\"x@example.com\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=email" }, NULL },
	{ __LINE__, "patch a user as the operator", "PATCH",
	    "/v1/users/${unew}", OPR, NULL, JSON, "{\"role\":\"admin\"}",
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch a user without a token", "PATCH",
	    "/v1/users/${unew}", NULL, NULL, JSON, "{\"role\":\"admin\"}",
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "patch a user wrong method", "PUT", "/v1/users/${unew}",
	    ADM, NULL, JSON, "{\"role\":\"admin\"}",
	    405, "method_not_allowed", { "Allow=PATCH" }, { NULL }, NULL },
	{ __LINE__, "disable a user", "PATCH", "/v1/users/${unew}", ADM, NULL,
	    JSON, "{\"status\":\"disabled\"}",
	    200, NULL, { NULL }, { "status=disabled", "role=viewer" }, NULL },
	{ __LINE__, "a disabled user's token", "GET", "/v1/me",
	    "Bearer ${tnew}", NULL, NULL, NULL,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "a disabled user's key", "POST", "/v1/auth/token", NULL,
	    NULL, JSON, "{\"api_key\":\"${knew}\"}",
	    401, "invalid_api_key", { NULL }, { NULL }, NULL },
	{ __LINE__, "list users status=disabled", "GET",
	    "/v1/users?status=disabled", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=1", "data.0.id=${unew}" }, NULL },
	{ __LINE__, "enable the user again", "PATCH", "/v1/users/${unew}",
	    ADM, NULL, JSON, "{\"status\":\"active\"}",
	    200, NULL, { NULL }, { "status=active" }, NULL },
	{ __LINE__, "the enabled user's token works", "GET", "/v1/me",
	    "Bearer ${tnew}", NULL, NULL, NULL,
	    200, NULL, { NULL }, { "user_id=${unew}" }, NULL },
	{ __LINE__, "list users at the end", "GET", "/v1/users", ADM, NULL,
	    NULL, NULL,
	    200, NULL, { NULL }, { "data.*=5", "has_more=false" }, NULL },
};

/* Policies: create or replace, list and page, read, evaluate, delete. */
#define POL_SEED	"{\"name\":\"defer_media\",\"when\":\"size>5120\"," \
			"\"then\":\"queue=wifi\"}"
#define POL_MEDIA	"{\"name\":\"aaa\",\"when\":\"data.kind == media\"," \
			"\"then\":\"queue=x;priority=1;delay=2h\"}"
static const struct tcase policies_cases[] = {
	/* POST /v1/policies */
	{ __LINE__, "create the seed policy", "POST", "/v1/policies", ADM,
	    NULL, JSON, POL_SEED,
	    201, NULL, { "Location=/v1/policies/defer_media" },
	    { "id~pol_", "name=defer_media", "order=100", "enabled=true",
	    "then=queue=wifi" }, "p1=id" },
	{ __LINE__, "replace the seed policy", "POST", "/v1/policies", ADM,
	    NULL, JSON, POL_SEED,
	    200, NULL, { "!Location" }, { "id=${p1}", "when=size>5120" },
	    NULL },
	{ __LINE__, "create a policy as the operator", "POST", "/v1/policies",
	    OPR, NULL, JSON, POL_SEED,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "create a policy as the viewer", "POST", "/v1/policies",
	    VWR, NULL, JSON, POL_SEED,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "create a policy with a bad when", "POST", "/v1/policies",
	    ADM, NULL, JSON,
	    "{\"name\":\"bad\",\"when\":\"size>\",\"then\":\"queue=a\"}",
	    400, "invalid_policy", { NULL },
	    { "detail=when: position 6: expected a number or string",
	    "errors.*=1", "errors.0.field=when",
	    "errors.0.message=position 6: expected a number or string" },
	    NULL },
	{ __LINE__, "create a policy with a bad then", "POST", "/v1/policies",
	    ADM, NULL, JSON,
	    "{\"name\":\"bad\",\"when\":\"true\",\"then\":\"priority=12\"}",
	    400, "invalid_policy", { NULL },
	    { "detail~then: position 10: ", "errors.0.field=then" }, NULL },
	{ __LINE__, "create a policy with a bad name", "POST", "/v1/policies",
	    ADM, NULL, JSON,
	    "{\"name\":\"Bad\",\"when\":\"true\",\"then\":\"queue=a\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=name" },
	    NULL },
	{ __LINE__, "create a second policy", "POST", "/v1/policies", ADM,
	    NULL, JSON, POL_MEDIA,
	    201, NULL, { "Location=/v1/policies/aaa" }, { "name=aaa" }, NULL },
	/* GET /v1/policies, GET /v1/policies/:name */
	{ __LINE__, "list policies as the viewer", "GET", "/v1/policies", VWR,
	    NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=2", "data.0.name=aaa", "data.1.id=${p1}",
	    "has_more=false", "next_cursor=null" }, NULL },
	{ __LINE__, "list policies limit=1", "GET", "/v1/policies?limit=1",
	    OPR, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.name=aaa", "has_more=true", "next_cursor" },
	    "pnc=next_cursor" },
	{ __LINE__, "list policies, the next page", "GET",
	    "/v1/policies?limit=1&cursor=${pnc}", OPR, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.name=defer_media", "has_more=false" }, NULL },
	{ __LINE__, "list policies with org A's cursor as org B", "GET",
	    "/v1/policies?limit=1&cursor=${pnc}", ORGB, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list policies as org B", "GET", "/v1/policies", ORGB,
	    NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=0" }, NULL },
	{ __LINE__, "list policies with an unknown parameter", "GET",
	    "/v1/policies?foo=1", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "read a policy as the viewer", "GET",
	    "/v1/policies/defer_media", VWR, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "id=${p1}", "then=queue=wifi" }, NULL },
	{ __LINE__, "read an unknown policy", "GET", "/v1/policies/nope",
	    ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	/* POST /v1/policies/evaluate */
	{ __LINE__, "evaluate a media record as the viewer", "POST",
	    "/v1/policies/evaluate", VWR, NULL, JSON,
	    "{\"record\":{\"title\":\"t\",\"type\":\"p\","
	    "\"data\":{\"kind\":\"media\"}}}",
	    200, NULL, { NULL },
	    { "policy.name=aaa", "queue=x", "priority=1", "delay=7200",
	    "tried=[\"aaa\"]" }, NULL },
	{ __LINE__, "evaluate a record no policy matches", "POST",
	    "/v1/policies/evaluate", OPR, NULL, JSON,
	    "{\"record\":{\"title\":\"t\",\"type\":\"p\"}}",
	    200, NULL, { NULL },
	    { "policy=null", "queue=default", "priority=5", "delay=0",
	    "tried=[\"aaa\",\"defer_media\"]" }, NULL },
	{ __LINE__, "evaluate without a record", "POST",
	    "/v1/policies/evaluate", ADM, NULL, JSON, "{}",
	    400, "invalid_request", { NULL }, { "errors.0.field=record" },
	    NULL },
	{ __LINE__, "evaluate wrong method", "PUT", "/v1/policies/evaluate",
	    ADM, NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow~POST", "Allow~DELETE" },
	    { NULL }, NULL },
	{ __LINE__, "GET /v1/policies/evaluate reads a policy so named",
	    "GET", "/v1/policies/evaluate", ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { "detail=no policy evaluate" },
	    NULL },
	/* DELETE /v1/policies/:name (its 204 has no body: integration) */
	{ __LINE__, "delete a policy as the viewer", "DELETE",
	    "/v1/policies/aaa", VWR, NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete another org's policy", "DELETE",
	    "/v1/policies/aaa", ORGB, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete an unknown policy", "DELETE", "/v1/policies/nope",
	    ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
};

/*
 * Failed key exchanges are counted per client address and per key prefix
 * and throttled past RS_AUTH_FAIL_BURST; a correct key always works. The
 * process trusts the proxy 192.0.2.200 (RELAYSYNC_TRUSTED_PROXIES).
 */
#define FROM_A	"$REMOTE_ADDR: 192.0.2.10"
#define PROXY	"$REMOTE_ADDR: 192.0.2.200\nX-Forwarded-For: "
static const struct tcase throttle_cases[] = {
	/* One address, ten different key prefixes. */
	BAD_KEY("wrong key 1 from A", FROM_A, WRONG("B0")),
	BAD_KEY("wrong key 2 from A", FROM_A, WRONG("B1")),
	BAD_KEY("wrong key 3 from A", FROM_A, WRONG("B2")),
	BAD_KEY("wrong key 4 from A", FROM_A, WRONG("B3")),
	BAD_KEY("wrong key 5 from A", FROM_A, WRONG("B4")),
	BAD_KEY("wrong key 6 from A", FROM_A, WRONG("B5")),
	BAD_KEY("wrong key 7 from A", FROM_A, WRONG("B6")),
	BAD_KEY("wrong key 8 from A", FROM_A, WRONG("B7")),
	BAD_KEY("wrong key 9 from A", FROM_A, WRONG("B8")),
	BAD_KEY("wrong key 10 from A", FROM_A, WRONG("B9")),
	GOOD_KEY("a correct key from A still works", FROM_A),
	THROTTLED("the 11th wrong key from A", FROM_A, WRONG("C0")),
	{ __LINE__, "a malformed key from A", "POST", "/v1/auth/token", NULL,
	    FROM_A, JSON, "{\"api_key\":\"x\"}",
	    429, "rate_limited", { "Retry-After" }, { NULL }, NULL },
	GOOD_KEY("a correct key from A works while A is throttled", FROM_A),
	BAD_KEY("another address is not throttled",
	    "$REMOTE_ADDR: 192.0.2.11", WRONG("C1")),
	BAD_KEY("an IPv6 address", "$REMOTE_ADDR: 2001:db8:5::1",
	    WRONG("C2")),

	/* One key prefix, ten addresses. */
	BAD_KEY("prefix D0 from 1", "$REMOTE_ADDR: 198.51.100.1", WRONG("D0")),
	BAD_KEY("prefix D0 from 2", "$REMOTE_ADDR: 198.51.100.2", WRONG("D0")),
	BAD_KEY("prefix D0 from 3", "$REMOTE_ADDR: 198.51.100.3", WRONG("D0")),
	BAD_KEY("prefix D0 from 4", "$REMOTE_ADDR: 198.51.100.4", WRONG("D0")),
	BAD_KEY("prefix D0 from 5", "$REMOTE_ADDR: 198.51.100.5", WRONG("D0")),
	BAD_KEY("prefix D0 from 6", "$REMOTE_ADDR: 198.51.100.6", WRONG("D0")),
	BAD_KEY("prefix D0 from 7", "$REMOTE_ADDR: 198.51.100.7", WRONG("D0")),
	BAD_KEY("prefix D0 from 8", "$REMOTE_ADDR: 198.51.100.8", WRONG("D0")),
	BAD_KEY("prefix D0 from 9", "$REMOTE_ADDR: 198.51.100.9", WRONG("D0")),
	BAD_KEY("prefix D0 from 10", "$REMOTE_ADDR: 198.51.100.10",
	    WRONG("D0")),
	THROTTLED("prefix D0 from an 11th address",
	    "$REMOTE_ADDR: 198.51.100.11", WRONG("D0")),
	BAD_KEY("another prefix from that address",
	    "$REMOTE_ADDR: 198.51.100.11", WRONG("D1")),

	/* Behind the trusted proxy: X-Forwarded-For names the client. */
	BAD_KEY("via the proxy 1", PROXY "203.0.113.7", WRONG("E0")),
	BAD_KEY("via the proxy 2", PROXY "203.0.113.7", WRONG("E1")),
	BAD_KEY("via the proxy 3", PROXY "203.0.113.7", WRONG("E2")),
	BAD_KEY("via the proxy 4", PROXY "203.0.113.7", WRONG("E3")),
	BAD_KEY("via the proxy 5", PROXY "203.0.113.7", WRONG("E4")),
	BAD_KEY("via the proxy 6", PROXY "203.0.113.7", WRONG("E5")),
	BAD_KEY("via the proxy 7", PROXY "203.0.113.7", WRONG("E6")),
	BAD_KEY("via the proxy 8", PROXY "203.0.113.7", WRONG("E7")),
	BAD_KEY("via the proxy 9", PROXY "203.0.113.7", WRONG("E8")),
	BAD_KEY("via the proxy 10", PROXY "203.0.113.7", WRONG("E9")),
	BAD_KEY("another client behind the proxy is not throttled",
	    PROXY "203.0.113.8", WRONG("F0")),
	THROTTLED("the client behind the proxy, spoofing a first hop",
	    PROXY "198.51.100.99, 203.0.113.7", WRONG("F1")),
	GOOD_KEY("a correct key from the throttled client",
	    PROXY "203.0.113.7"),
	BAD_KEY("an untrusted REMOTE_ADDR's X-Forwarded-For is ignored",
	    "$REMOTE_ADDR: 192.0.2.201\nX-Forwarded-For: 203.0.113.7",
	    WRONG("F2")),
};

/*
 * Webhook endpoints (CONTRACT §8). URLs are literal public addresses or
 * the seed's name (which may not resolve here: accepted then), so no
 * row waits for DNS longer than the 2 s bound. The process does not
 * allow private targets.
 */
#define D50	"ddddddddddddddddddddddddddddddddddddddddddddddddd" "d"
#define D500	D50 D50 D50 D50 D50 D50 D50 D50 D50 D50
#define SEED_HOOK \
	"{\"url\":\"https://hooks.org.io/relaysync\"," \
	"\"events\":[\"record.synced\",\"record.conflict\"]}"
#define HOOK2	"{\"url\":\"https://8.8.8.8/hook\",\"events\":[\"*\"]," \
		"\"description\":\"ops\"}"
/* A create with url u that must be refused as invalid_webhook_url. */
#define BAD_URL(label, u, why) \
	{ __LINE__, label, "POST", "/v1/webhooks", ADM, NULL, JSON, \
	    "{\"url\":\"" u "\",\"events\":[\"*\"]}", \
	    400, "invalid_webhook_url", { "!Location" }, { "detail~" why }, \
	    NULL }
/* A create whose events member e must be refused. */
#define BAD_EVENTS(label, e, msg) \
	{ __LINE__, label, "POST", "/v1/webhooks", ADM, NULL, JSON, \
	    "{\"url\":\"https://8.8.8.8/\",\"events\":" e "}", \
	    400, "invalid_request", { NULL }, \
	    { "errors.*=1", "errors.0.field=events", \
	    "errors.0.message~" msg }, NULL }
static const struct tcase webhooks_cases[] = {
	/* POST /v1/webhooks */
	{ __LINE__, "create the seed's webhook", "POST", "/v1/webhooks", ADM,
	    NULL, JSON, SEED_HOOK,
	    201, NULL, { "Location=/v1/webhooks/${w1}" },
	    { "secret~whsec_", "status=enabled", "events.1=record.conflict",
	    "description=null", "disabled_reason=null" },
	    "w1=id,s1=secret" },
	{ __LINE__, "create with an Idempotency-Key", "POST", "/v1/webhooks",
	    ADM, "Idempotency-Key: wh-1", JSON, HOOK2,
	    201, NULL, { "!Idempotent-Replayed", "Location=/v1/webhooks/${w2}" },
	    { "events.0=*", "events.*=1", "description=ops", "secret~whsec_",
	    "url=https://8.8.8.8/hook" },
	    "w2=id,s2=secret" },
	{ __LINE__, "the same key and body again: the same answer", "POST",
	    "/v1/webhooks", ADM, "Idempotency-Key: wh-1", JSON, HOOK2,
	    201, NULL, { "Idempotent-Replayed=true",
	    "Location=/v1/webhooks/${w2}" },
	    { "id=${w2}", "secret=${s2}" }, NULL },
	{ __LINE__, "the same key, another body", "POST", "/v1/webhooks", ADM,
	    "Idempotency-Key: wh-1", JSON, SEED_HOOK,
	    422, "idempotency_key_reused", { "!Location" }, { NULL }, NULL },
	{ __LINE__, "two creates give two secrets", "GET",
	    "/v1/webhooks/${w2}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "id!=${w1}", "!secret" }, NULL },
	{ __LINE__, "create with a 500-character description", "POST",
	    "/v1/webhooks", ADM, NULL, JSON,
	    "{\"url\":\"https://1.1.1.1/\",\"events\":[\"user.invited\"],"
	    "\"description\":\"" D500 "\"}",
	    201, NULL, { "Location=/v1/webhooks/${w3}" },
	    { "description=" D500, "events.0=user.invited" }, "w3=id" },
	{ __LINE__, "create with a 501-character description", "POST",
	    "/v1/webhooks", ADM, NULL, JSON,
	    "{\"url\":\"https://1.1.1.1/\",\"events\":[\"*\"],"
	    "\"description\":\"" D500 "d\"}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=description", "errors.*=1" }, NULL },
	{ __LINE__, "create with a numeric description", "POST",
	    "/v1/webhooks", ADM, NULL, JSON,
	    "{\"url\":\"https://1.1.1.1/\",\"events\":[\"*\"],"
	    "\"description\":5}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=description" }, NULL },
	{ __LINE__, "create with {}", "POST", "/v1/webhooks", ADM, NULL, JSON,
	    "{}",
	    400, "invalid_request", { "!Location" },
	    { "errors.*=2", "errors.0.field=url", "errors.1.field=events" },
	    NULL },
	{ __LINE__, "create with a numeric url", "POST", "/v1/webhooks", ADM,
	    NULL, JSON, "{\"url\":5,\"events\":[\"*\"]}",
	    400, "invalid_request", { NULL }, { "errors.0.field=url" }, NULL },
	{ __LINE__, "create with an unknown member", "POST", "/v1/webhooks",
	    ADM, NULL, JSON,
	    "{\"url\":\"https://8.8.8.8/\",\"events\":[\"*\"],\"colour\":1}",
	    400, "invalid_request", { NULL }, { "errors.0.field=colour" },
	    NULL },
	{ __LINE__, "create without a body", "POST", "/v1/webhooks", ADM, NULL,
	    NULL, NULL,
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	BAD_EVENTS("events []", "[]", "non-empty"),
	BAD_EVENTS("events a string", "\"record.created\"", "non-empty"),
	BAD_EVENTS("events [1]", "[1]", "strings"),
	BAD_EVENTS("an unknown event type", "[\"record.exploded\"]",
	    "record.exploded"),
	BAD_EVENTS("\"*\" with another", "[\"*\",\"record.created\"]",
	    "only member"),
	BAD_EVENTS("a type twice", "[\"user.invited\",\"user.invited\"]",
	    "twice"),
	BAD_URL("http:// refused", "http://8.8.8.8/", "https://"),
	BAD_URL("ftp:// refused", "ftp://example.com/", "https://"),
	BAD_URL("loopback refused", "https://127.0.0.1/", "loopback"),
	BAD_URL("another loopback spelling refused", "https://0x7f.1/",
	    "dotted-decimal"),
	BAD_URL("private refused", "https://10.0.0.8/", "private"),
	BAD_URL("CGNAT refused", "https://100.64.1.1/", "CGNAT"),
	BAD_URL("metadata refused", "https://169.254.169.254/latest",
	    "metadata"),
	BAD_URL("IPv6 loopback refused", "https://[::1]/", "loopback"),
	BAD_URL("IPv4-mapped refused", "https://[::ffff:127.0.0.1]/",
	    "IPv4-mapped"),
	BAD_URL("localhost refused", "https://localhost:8443/", "loopback"),
	BAD_URL("a name under .localhost refused", "https://x.localhost/",
	    "loopback"),
	BAD_URL("user information refused", "https://u:p@example.com/",
	    "user information"),
	BAD_URL("a fragment refused", "https://example.com/#x", "fragment"),
	BAD_URL("port 0 refused", "https://example.com:0/", "port"),
	BAD_URL("port 65536 refused", "https://example.com:65536/", "port"),
	BAD_URL("a space refused", "https://exa mple.com/", "printable"),
	{ __LINE__, "create as the operator", "POST", "/v1/webhooks", OPR,
	    NULL, JSON, SEED_HOOK,
	    403, "forbidden", { "!Location" }, { NULL }, NULL },
	{ __LINE__, "create as the viewer", "POST", "/v1/webhooks", VWR, NULL,
	    JSON, SEED_HOOK,
	    403, "forbidden", { "!Location" }, { NULL }, NULL },
	{ __LINE__, "create without a token", "POST", "/v1/webhooks", NULL,
	    NULL, JSON, SEED_HOOK,
	    401, "unauthorized", { "WWW-Authenticate~Bearer" }, { NULL },
	    NULL },
	{ __LINE__, "PUT the list", "PUT", "/v1/webhooks", ADM, NULL, JSON,
	    "{}",
	    405, "method_not_allowed", { "Allow=POST, GET, HEAD" }, { NULL },
	    NULL },

	/* GET /v1/webhooks */
	{ __LINE__, "list", "GET", "/v1/webhooks", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=3", "data.0.id=${w1}", "!data.0.secret", "has_more=false",
	    "next_cursor=null" }, NULL },
	{ __LINE__, "list limit=2", "GET", "/v1/webhooks?limit=2", ADM, NULL,
	    NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=2", "data.1.id=${w2}", "has_more=true", "next_cursor" },
	    "wc=next_cursor" },
	{ __LINE__, "list the next page", "GET",
	    "/v1/webhooks?limit=2&cursor=${wc}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=1", "data.0.id=${w3}", "!data.0.secret",
	    "has_more=false", "next_cursor=null" }, NULL },
	{ __LINE__, "list with a garbage cursor", "GET",
	    "/v1/webhooks?cursor=garbage", ADM, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list with org A's cursor as org B", "GET",
	    "/v1/webhooks?limit=2&cursor=${wc}", ORGB, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "list limit=0", "GET", "/v1/webhooks?limit=0", ADM, NULL,
	    NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=limit" },
	    NULL },
	{ __LINE__, "list with an unknown parameter", "GET",
	    "/v1/webhooks?status=enabled", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~status" }, NULL },
	{ __LINE__, "list as org B", "GET", "/v1/webhooks", ORGB, NULL, NULL,
	    NULL,
	    200, NULL, { NULL }, { "data.*=0" }, NULL },
	{ __LINE__, "list as the operator", "GET", "/v1/webhooks", OPR, NULL,
	    NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "list as the viewer", "GET", "/v1/webhooks", VWR, NULL,
	    NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },

	/* GET /v1/webhooks/:id */
	{ __LINE__, "get", "GET", "/v1/webhooks/${w1}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "id=${w1}", "url=https://hooks.org.io/relaysync", "!secret",
	    "created_at", "updated_at" }, NULL },
	{ __LINE__, "get as the viewer", "GET", "/v1/webhooks/${w1}", VWR,
	    NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "get another org's", "GET", "/v1/webhooks/${w1}", ORGB,
	    NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "get an unknown one", "GET",
	    "/v1/webhooks/whk_00000000000000000000000000", ADM, NULL, NULL,
	    NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "PUT one", "PUT", "/v1/webhooks/${w1}", ADM, NULL, JSON,
	    "{}",
	    405, "method_not_allowed", { "Allow~GET", "Allow~PATCH",
	    "Allow~DELETE" }, { NULL }, NULL },

	/* PATCH /v1/webhooks/:id */
	{ __LINE__, "disable", "PATCH", "/v1/webhooks/${w1}", ADM, NULL, JSON,
	    "{\"status\":\"disabled\"}",
	    200, NULL, { NULL },
	    { "status=disabled", "disabled_reason=null", "!secret",
	    "url=https://hooks.org.io/relaysync" }, NULL },
	{ __LINE__, "enable, every event, no description", "PATCH",
	    "/v1/webhooks/${w1}", ADM, NULL, JSON,
	    "{\"status\":\"enabled\",\"events\":[\"*\"],\"description\":null}",
	    200, NULL, { NULL },
	    { "status=enabled", "events.0=*", "events.*=1", "description=null",
	    "!secret" }, NULL },
	{ __LINE__, "a new public url", "PATCH", "/v1/webhooks/${w3}", ADM,
	    NULL, JSON, "{\"url\":\"https://9.9.9.9/new\"}",
	    200, NULL, { NULL },
	    { "url=https://9.9.9.9/new", "description=" D500 }, NULL },
	{ __LINE__, "a private url", "PATCH", "/v1/webhooks/${w3}", ADM, NULL,
	    JSON, "{\"url\":\"https://192.168.1.1/\"}",
	    400, "invalid_webhook_url", { NULL }, { "detail~private" }, NULL },
	{ __LINE__, "status bogus", "PATCH", "/v1/webhooks/${w3}", ADM, NULL,
	    JSON, "{\"status\":\"paused\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=status" },
	    NULL },
	{ __LINE__, "bad events", "PATCH", "/v1/webhooks/${w3}", ADM, NULL,
	    JSON, "{\"events\":[]}",
	    400, "invalid_request", { NULL }, { "errors.0.field=events" },
	    NULL },
	{ __LINE__, "patch {}", "PATCH", "/v1/webhooks/${w3}", ADM, NULL, JSON,
	    "{}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch an unknown member", "PATCH", "/v1/webhooks/${w3}",
	    ADM, NULL, JSON, "{\"secret\":\"whsec_x\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=secret" },
	    NULL },
	{ __LINE__, "patch as the operator", "PATCH", "/v1/webhooks/${w3}",
	    OPR, NULL, JSON, "{\"status\":\"disabled\"}",
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "patch another org's", "PATCH", "/v1/webhooks/${w3}",
	    ORGB, NULL, JSON, "{\"status\":\"disabled\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },

	/* POST /v1/webhooks/:id/rotate-secret */
	{ __LINE__, "rotate the secret", "POST",
	    "/v1/webhooks/${w1}/rotate-secret", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "id=${w1}", "secret~whsec_", "secret!=${s1}", "status=enabled" },
	    "s1b=secret" },
	{ __LINE__, "rotate again: another secret", "POST",
	    "/v1/webhooks/${w1}/rotate-secret", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "secret!=${s1b}", "secret!=${s1}" }, NULL },
	{ __LINE__, "the secret is not shown after", "GET",
	    "/v1/webhooks/${w1}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "!secret" }, NULL },
	{ __LINE__, "rotate with a body", "POST",
	    "/v1/webhooks/${w1}/rotate-secret", ADM, NULL, JSON, "{}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "rotate as the operator", "POST",
	    "/v1/webhooks/${w1}/rotate-secret", OPR, NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "rotate another org's", "POST",
	    "/v1/webhooks/${w1}/rotate-secret", ORGB, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "GET rotate-secret", "GET",
	    "/v1/webhooks/${w1}/rotate-secret", ADM, NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow=POST" }, { NULL }, NULL },

	/* POST /v1/webhooks/:id/replay */
	{ __LINE__, "replay everything so far", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, "Idempotency-Key: rp-1", JSON,
	    "{\"since\":\"2000-01-01T00:00:00Z\"}",
	    202, NULL, { NULL }, { "jobs!=0" }, "nj=jobs" },
	{ __LINE__, "the replay's key again: not queued twice", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, "Idempotency-Key: rp-1", JSON,
	    "{\"since\":\"2000-01-01T00:00:00Z\"}",
	    202, NULL, { "Idempotent-Replayed=true" }, { "jobs=${nj}" }, NULL },
	{ __LINE__, "replay the same window to another endpoint", "POST",
	    "/v1/webhooks/${w1}/replay", ADM, NULL, JSON,
	    "{\"since\":\"2000-01-01T00:00:00Z\","
	    "\"until\":\"2999-01-01T00:00:00.000Z\"}",
	    202, NULL, { NULL }, { "jobs=${nj}" }, NULL },
	{ __LINE__, "replay an empty past window", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON,
	    "{\"since\":\"2000-01-01T00:00:00Z\","
	    "\"until\":\"2000-01-02T00:00:00Z\"}",
	    202, NULL, { NULL }, { "jobs=0" }, NULL },
	{ __LINE__, "replay without since", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON, "{}",
	    400, "invalid_request", { NULL },
	    { "errors.*=1", "errors.0.field=since" }, NULL },
	{ __LINE__, "replay since yesterday", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON,
	    "{\"since\":\"yesterday\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=since" },
	    NULL },
	{ __LINE__, "replay until before since", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON,
	    "{\"since\":\"2020-01-02T00:00:00Z\","
	    "\"until\":\"2020-01-01T00:00:00Z\"}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=until", "errors.0.message~before" }, NULL },
	{ __LINE__, "replay since = until", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON,
	    "{\"since\":\"2020-01-01T00:00:00Z\","
	    "\"until\":\"2020-01-01T00:00:00Z\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=until" },
	    NULL },
	{ __LINE__, "replay since in the future", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON,
	    "{\"since\":\"2999-01-01T00:00:00Z\"}",
	    400, "invalid_request", { NULL }, { "errors.0.field=since" },
	    NULL },
	{ __LINE__, "replay with an unknown member", "POST",
	    "/v1/webhooks/${w2}/replay", ADM, NULL, JSON,
	    "{\"since\":\"2020-01-01T00:00:00Z\",\"types\":[]}",
	    400, "invalid_request", { NULL }, { "errors.0.field=types" },
	    NULL },
	{ __LINE__, "replay as the operator", "POST",
	    "/v1/webhooks/${w2}/replay", OPR, NULL, JSON,
	    "{\"since\":\"2000-01-01T00:00:00Z\"}",
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "replay another org's", "POST",
	    "/v1/webhooks/${w2}/replay", ORGB, NULL, JSON,
	    "{\"since\":\"2000-01-01T00:00:00Z\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "replay an unknown one", "POST",
	    "/v1/webhooks/whk_00000000000000000000000000/replay", ADM, NULL,
	    JSON, "{\"since\":\"2000-01-01T00:00:00Z\"}",
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "GET replay", "GET", "/v1/webhooks/${w2}/replay", ADM,
	    NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow=POST" }, { NULL }, NULL },

	/* DELETE /v1/webhooks/:id (the 204 itself: webhook_delete()) */
	{ __LINE__, "delete as the operator", "DELETE", "/v1/webhooks/${w1}",
	    OPR, NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete another org's", "DELETE", "/v1/webhooks/${w1}",
	    ORGB, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "delete an unknown one", "DELETE",
	    "/v1/webhooks/whk_00000000000000000000000000", ADM, NULL, NULL,
	    NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
};

/*
 * The sync queue (CONTRACT §4), after webhook_delete() removed ${w1}
 * (and its ${nj} jobs): the jobs are the replay's to ${w2}.
 */
/*
 * A create's kept answer holds no secret: after a rotation, replaying
 * the create's key shows the endpoint's secret as it is now.
 */
static const struct tcase webhooks_kept_cases[] = {
	{ __LINE__, "rotate the keyed endpoint's secret", "POST",
	    "/v1/webhooks/${w2}/rotate-secret", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "secret~whsec_", "secret!=${s2}" },
	    "s2b=secret" },
	{ __LINE__, "the create's key replayed: the current secret", "POST",
	    "/v1/webhooks", ADM, "Idempotency-Key: wh-1", JSON, HOOK2,
	    201, NULL, { "Idempotent-Replayed=true",
	    "Location=/v1/webhooks/${w2}" },
	    { "id=${w2}", "secret=${s2b}" }, NULL },
};

static const struct tcase queue_cases[] = {
	{ __LINE__, "the deleted endpoint is gone", "GET",
	    "/v1/webhooks/${w1}", ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "queue", "GET", "/v1/sync/queue?limit=3", ADM, NULL, NULL,
	    NULL,
	    200, NULL, { NULL },
	    { "counts.pending=${nj}", "counts.running=0", "counts.succeeded=0",
	    "data.0.webhook_id=${w2}", "data.*=3" },
	    "j1=data.0.id,j2=data.1.id,j3=data.2.id,e1=data.0.event_id,"
	    "t1=data.0.event_type,q1=data.0.queue" },
	{ __LINE__, "a job's members", "GET", "/v1/sync/queue?limit=1", ADM,
	    NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.0.kind=webhook", "data.0.state=pending",
	    "data.0.attempts=0", "data.0.max_attempts=8",
	    "data.0.next_attempt_at" }, "qc=next_cursor" },
	{ __LINE__, "a job's other members", "GET", "/v1/sync/queue?limit=1",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.0.last_error=null", "data.0.last_status=null",
	    "data.0.priority", "counts.failed=0", "counts.dead=0" }, NULL },
	{ __LINE__, "queue as the operator", "GET", "/v1/sync/queue", OPR,
	    NULL, NULL, NULL,
	    200, NULL, { NULL }, { "counts.pending=${nj}" }, NULL },
	{ __LINE__, "queue as the viewer", "GET", "/v1/sync/queue", VWR, NULL,
	    NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "queue without a token", "GET", "/v1/sync/queue", NULL,
	    NULL, NULL, NULL,
	    401, "unauthorized", { NULL }, { NULL }, NULL },
	{ __LINE__, "queue as org B", "GET", "/v1/sync/queue", ORGB, NULL,
	    NULL, NULL,
	    200, NULL, { NULL },
	    { "data.*=0", "counts.pending=0", "has_more=false" }, NULL },
	{ __LINE__, "the next page", "GET",
	    "/v1/sync/queue?limit=1&cursor=${qc}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.0.id=${j2}", "data.*=1" }, NULL },
	{ __LINE__, "a cursor with another filter", "GET",
	    "/v1/sync/queue?limit=1&state=pending&cursor=${qc}", ADM, NULL,
	    NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "a garbage cursor", "GET", "/v1/sync/queue?cursor=x", ADM,
	    NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "org A's cursor as org B", "GET",
	    "/v1/sync/queue?limit=1&cursor=${qc}", ORGB, NULL, NULL, NULL,
	    400, "invalid_cursor", { NULL }, { NULL }, NULL },
	{ __LINE__, "state=pending", "GET", "/v1/sync/queue?state=pending",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "data.0.state=pending", "counts.pending=${nj}" }, NULL },
	{ __LINE__, "state=dead: none, counts unfiltered", "GET",
	    "/v1/sync/queue?state=dead", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=0", "counts.pending=${nj}" }, NULL },
	{ __LINE__, "state=bogus", "GET", "/v1/sync/queue?state=bogus", ADM,
	    NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=state" },
	    NULL },
	{ __LINE__, "event_type filter", "GET",
	    "/v1/sync/queue?limit=1&event_type=${t1}", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.0.event_type=${t1}" }, NULL },
	{ __LINE__, "event_type nothing has", "GET",
	    "/v1/sync/queue?event_type=record.exploded", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=0" }, NULL },
	{ __LINE__, "queue filter", "GET", "/v1/sync/queue?limit=1&queue=${q1}",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.0.queue=${q1}" }, NULL },
	{ __LINE__, "queue nothing has", "GET",
	    "/v1/sync/queue?queue=no-such-queue", ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=0" }, NULL },
	{ __LINE__, "queue=", "GET", "/v1/sync/queue?queue=", ADM, NULL, NULL,
	    NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=queue" },
	    NULL },
	{ __LINE__, "limit=201", "GET", "/v1/sync/queue?limit=201", ADM, NULL,
	    NULL, NULL,
	    400, "invalid_request", { NULL }, { "errors.0.field=limit" },
	    NULL },
	{ __LINE__, "an unknown parameter", "GET", "/v1/sync/queue?kind=x",
	    ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~kind" }, NULL },
	{ __LINE__, "POST the queue", "POST", "/v1/sync/queue", ADM, NULL,
	    NULL, NULL,
	    405, "method_not_allowed", { "Allow=GET, HEAD" }, { NULL }, NULL },

	/* POST /v1/sync/retry/:job */
	{ __LINE__, "retry a pending job", "POST", "/v1/sync/retry/${j1}", ADM,
	    NULL, NULL, NULL,
	    202, NULL, { NULL },
	    { "id=${j1}", "state=pending", "event_id=${e1}",
	    "webhook_id=${w2}", "kind=webhook" }, NULL },
	{ __LINE__, "retry as the operator", "POST", "/v1/sync/retry/${j1}",
	    OPR, NULL, NULL, NULL,
	    202, NULL, { NULL }, { "id=${j1}" }, NULL },
	{ __LINE__, "retry as the viewer", "POST", "/v1/sync/retry/${j1}",
	    VWR, NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "retry another org's job", "POST", "/v1/sync/retry/${j1}",
	    ORGB, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "retry the seed's job_2003", "POST",
	    "/v1/sync/retry/job_2003", ADM, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { "detail~job_2003" }, NULL },
	{ __LINE__, "retry with a body", "POST", "/v1/sync/retry/${j1}", ADM,
	    NULL, JSON, "{}",
	    400, "invalid_request", { NULL }, { NULL }, NULL },
	{ __LINE__, "GET a retry", "GET", "/v1/sync/retry/${j1}", ADM, NULL,
	    NULL, NULL,
	    405, "method_not_allowed", { "Allow=POST" }, { NULL }, NULL },
};

/* After jobs_set(): ${j1} succeeded, ${j2} running, ${j3} dead. */
static const struct tcase queue_state_cases[] = {
	{ __LINE__, "counts by state", "GET", "/v1/sync/queue?state=dead",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL },
	    { "counts.succeeded=1", "counts.running=1", "counts.dead=1",
	    "data.0.id=${j3}", "data.*=1" }, NULL },
	{ __LINE__, "retry a succeeded job", "POST", "/v1/sync/retry/${j1}",
	    ADM, NULL, NULL, NULL,
	    409, "job_not_retryable", { NULL }, { "detail~succeeded" }, NULL },
	{ __LINE__, "retry a running job", "POST", "/v1/sync/retry/${j2}",
	    OPR, NULL, NULL, NULL,
	    409, "job_not_retryable", { NULL }, { "detail~running" }, NULL },
	{ __LINE__, "retry a dead job", "POST", "/v1/sync/retry/${j3}", ADM,
	    NULL, NULL, NULL,
	    202, NULL, { NULL },
	    { "id=${j3}", "state=pending" }, NULL },
	{ __LINE__, "no dead job left", "GET", "/v1/sync/queue?state=dead",
	    ADM, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "counts.dead=0", "data.*=0" }, NULL },
	{ __LINE__, "org B's seventeenth endpoint", "POST", "/v1/webhooks",
	    ORGB, NULL, JSON, SEED_HOOK,
	    409, "webhook_limit_reached", { "!Location" }, { "detail~16" },
	    NULL },
};

/* Event streams' refusals: roles, where they start, types, unknown query. */
static const struct tcase stream_cases[] = {
	{ __LINE__, "audit stream: a viewer may not", "GET", "/v1/audit/stream",
	    VWR, NULL, NULL, NULL,
	    403, "forbidden", { NULL }, { NULL }, NULL },
	{ __LINE__, "audit stream: no token", "GET", "/v1/audit/stream",
	    NULL, NULL, NULL, NULL,
	    401, "unauthorized", { NULL }, { NULL }, NULL },
	{ __LINE__, "audit stream: Last-Event-ID not a number", "GET",
	    "/v1/audit/stream", ADM, "Last-Event-ID: abc", NULL, NULL,
	    400, "invalid_request", { "!Retry-After" },
	    { "detail~Last-Event-ID" }, NULL },
	{ __LINE__, "audit stream: the header wins over a good query", "GET",
	    "/v1/audit/stream?after_seq=1", ADM, "Last-Event-ID: -1", NULL,
	    NULL,
	    400, "invalid_request", { NULL }, { "detail~Last-Event-ID" },
	    NULL },
	{ __LINE__, "audit stream: after_seq negative", "GET",
	    "/v1/audit/stream?after_seq=-1", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~after_seq" }, NULL },
	{ __LINE__, "audit stream: last_event_id past 2^40", "GET",
	    "/v1/audit/stream?last_event_id=1099511627776", ADM, NULL, NULL,
	    NULL,
	    400, "invalid_request", { NULL }, { "detail~last_event_id" },
	    NULL },
	{ __LINE__, "audit stream: unknown parameter", "GET",
	    "/v1/audit/stream?types=record.created", ADM, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~types" }, NULL },
	{ __LINE__, "event stream: unknown type", "GET",
	    "/v1/events/stream?types=record.created,record.bogus", VWR, NULL,
	    NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~record.bogus" },
	    NULL },
	{ __LINE__, "event stream: an empty type", "GET",
	    "/v1/events/stream?types=record.created,", VWR, NULL, NULL, NULL,
	    400, "invalid_request", { NULL }, { "detail~not an event type" },
	    NULL },
	{ __LINE__, "event stream: no token", "GET", "/v1/events/stream",
	    NULL, NULL, NULL, NULL,
	    401, "unauthorized", { NULL }, { NULL }, NULL },
	{ __LINE__, "event stream: POST", "POST", "/v1/events/stream",
	    VWR, NULL, JSON, "{}",
	    405, "method_not_allowed", { "Allow=GET, HEAD" }, { NULL }, NULL },
};

/* Rate limits: the headers of an org's answers, its empty bucket. */
static const struct tcase limit_cases[] = {
	{ __LINE__, "no limit headers without a token", "GET", "/v1/health",
	    NULL, NULL, NULL, NULL,
	    200, NULL, { "!RateLimit-Limit", "!RateLimit" }, { NULL }, NULL },
	{ __LINE__, "no limit headers on a 401", "GET", "/v1/me",
	    "Bearer nope", NULL, NULL, NULL,
	    401, "unauthorized", { "!RateLimit-Limit", "!RateLimit-Policy" },
	    { NULL }, NULL },
	{ __LINE__, "an org's answers carry its limit", "GET", "/v1/me", ADM,
	    NULL, NULL, NULL,
	    200, NULL, { "RateLimit-Limit=1000000",
	    "RateLimit-Policy=\"org\";q=1000000;w=1", "RateLimit-Remaining",
	    "RateLimit-Reset", "RateLimit~\"org\";r=" }, { NULL }, NULL },
	{ __LINE__, "token for the slow org (no limit on the exchange)", "POST",
	    "/v1/auth/token", NULL, NULL, JSON, "{\"api_key\":\"${kslow}\"}",
	    200, NULL, { "!RateLimit-Limit" }, { "role=admin" },
	    "slow=access_token" },
	{ __LINE__, "slow org: the first of 2", "GET", "/v1/me",
	    "Bearer ${slow}", NULL, NULL, NULL,
	    200, NULL, { "RateLimit-Limit=2", "RateLimit-Remaining=1",
	    "RateLimit-Reset=1", "RateLimit-Policy=\"org\";q=2;w=1",
	    "RateLimit=\"org\";r=1;t=1" }, { NULL }, NULL },
	{ __LINE__, "slow org: the second, an answer of any status counts",
	    "GET", "/v1/users", "Bearer ${slow}", NULL, NULL, NULL,
	    200, NULL, { "RateLimit-Remaining=0", "RateLimit=\"org\";r=0;t=1" },
	    { NULL }, NULL },
	{ __LINE__, "slow org: empty", "GET", "/v1/me", "Bearer ${slow}", NULL,
	    NULL, NULL,
	    429, "rate_limited", { "Retry-After=1", "RateLimit-Limit=2",
	    "RateLimit-Remaining=0", "RateLimit-Reset=1" },
	    { "detail~2 requests a second" }, NULL },
	{ __LINE__, "slow org: a write is refused before it is read", "POST",
	    "/v1/records", "Bearer ${slow}", NULL, JSON, "{\"title\":",
	    429, "rate_limited", { "Retry-After" }, { NULL }, NULL },
	{ __LINE__, "another org goes on", "GET", "/v1/me", ORGB, NULL, NULL,
	    NULL,
	    200, NULL, { "RateLimit-Limit=1000000" }, { NULL }, NULL },
};

/*
 * Mounted under a sub-path (an .htaccess install at /crew/rs): the mount
 * is SCRIPT_NAME's directory when a version follows it; routes, Location,
 * instance and the OpenAPI servers follow it.
 */
#define MOUNT	"$SCRIPT_NAME: /crew/rs/relaysync.cgi"
static const struct tcase mount_cases[] = {
	{ __LINE__, "mounted: create, Location under the mount", "POST",
	    "/crew/rs/v1/records", ADM, MOUNT, JSON,
	    "{\"title\":\"Mounted\",\"type\":\"note\"}",
	    201, NULL, { "Location=/crew/rs/v1/records/${mr1}" },
	    { "title=Mounted" }, "mr1=id" },
	{ __LINE__, "mounted: read it at its Location", "GET",
	    "/crew/rs/v1/records/${mr1}", ADM, MOUNT, NULL, NULL,
	    200, NULL, { NULL }, { "id=${mr1}" }, NULL },
	{ __LINE__, "mounted: a policy's Location", "POST",
	    "/crew/rs/v1/policies", ADM, MOUNT, JSON,
	    "{\"name\":\"mounted\",\"when\":\"size>999999\","
	    "\"then\":\"queue=q\"}",
	    201, NULL, { "Location=/crew/rs/v1/policies/mounted" }, { NULL },
	    NULL },
	{ __LINE__, "mounted: the OpenAPI servers URL is the mount's", "GET",
	    "/crew/rs/v1/openapi.json", NULL, MOUNT, NULL, NULL,
	    200, NULL, { NULL }, { "servers.0.url=/crew/rs/",
	    "openapi=3.1.0" }, NULL },
	{ __LINE__, "mounted: an unknown path's instance is the whole path",
	    "GET", "/crew/rs/v1/nothing", NULL, MOUNT, NULL, NULL,
	    404, "not_found", { NULL }, { "instance=/crew/rs/v1/nothing" },
	    NULL },
	{ __LINE__, "mounted: the mount matches decoded (%7E is ~)", "GET",
	    "/%7Ecrew/rs/v1/health", NULL,
	    "$SCRIPT_NAME: /~crew/rs/relaysync.cgi", NULL, NULL,
	    200, NULL, { NULL }, { "status=ok" }, NULL },
	{ __LINE__, "mounted: a path SCRIPT_NAME's directory does not begin "
	    "is not routed", "GET", "/crew/rs/v1/health", NULL,
	    "$SCRIPT_NAME: /other/relaysync.cgi", NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "mounted: no version after the directory: not a mount",
	    "GET", "/crew/rs/x/v1/health", NULL, MOUNT, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "mounted: too many segments after the mount", "GET",
	    "/crew/rs/v1/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", NULL, MOUNT, NULL,
	    NULL, 404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "at the root, the root's OpenAPI servers URL", "GET",
	    "/v1/openapi.json", NULL, "$SCRIPT_NAME: /v1/openapi.json", NULL,
	    NULL, 200, NULL, { NULL }, { "servers.0.url=/" }, NULL },
};

/* POST /v1/batch: items answered as alone, in one transaction. */
#define ITEM_NEW(t)	"{\"method\":\"POST\",\"path\":\"/v1/records\"," \
	"\"body\":{\"title\":\"" t "\",\"type\":\"note\"}"
static const struct tcase batch_cases[] = {
	{ __LINE__, "batch: two creates with keys", "POST", "/v1/batch", OPR,
	    NULL, JSON, "{\"requests\":[" ITEM_NEW("B1") ",\"headers\":"
	    "{\"Idempotency-Key\":\"bk-1\"}}," ITEM_NEW("B2") ",\"headers\":"
	    "{\"idempotency-key\":\"bk-2\"}}]}",
	    200, NULL, { "!Idempotent-Replayed" },
	    { "responses.*=2", "responses.0.status=201",
	    "responses.0.headers.Location=/v1/records/${b1}",
	    "responses.1.body.title=B2", "!responses.0.failed" },
	    "b1=responses.0.body.id,bc1=responses.0.body.causal" },
	{ __LINE__, "batch: the same items again replay, item by item",
	    "POST", "/v1/batch", OPR, NULL, JSON, "{\"requests\":["
	    ITEM_NEW("B1") ",\"headers\":{\"Idempotency-Key\":\"bk-1\"}},"
	    ITEM_NEW("B2") ",\"headers\":{\"Idempotency-Key\":\"bk-2\"}}]}",
	    200, NULL, { "!Idempotent-Replayed" },
	    { "responses.0.status=201", "responses.0.body.id=${b1}",
	    "responses.0.headers.Idempotent-Replayed=true",
	    "responses.1.headers.Idempotent-Replayed=true" }, NULL },
	{ __LINE__, "batch: an item's key replays when sent alone", "POST",
	    "/v1/records", OPR, "Idempotency-Key: bk-1", JSON,
	    "{\"title\":\"B1\",\"type\":\"note\"}",
	    201, NULL, { "Idempotent-Replayed=true",
	    "Location=/v1/records/${b1}" }, { "id=${b1}" }, NULL },
	{ __LINE__, "batch: independent items, one invalid", "POST",
	    "/v1/batch", OPR, NULL, JSON, "{\"requests\":[" ITEM_NEW("B3")
	    "}," "{\"method\":\"POST\",\"path\":\"/v1/records\",\"body\":"
	    "{\"title\":\"no type\"}},{\"method\":\"GET\",\"path\":"
	    "\"/v1/records/" UNKNOWN_REC "\"}]}",
	    200, NULL, { NULL },
	    { "responses.0.status=201", "responses.1.status=400",
	    "responses.1.body.errors.0.field=type",
	    "responses.2.body.code=not_found",
	    "responses.2.body.instance=/v1/records/" UNKNOWN_REC },
	    "b3=responses.0.body.id" },
	{ __LINE__, "batch: the independent item stayed", "GET",
	    "/v1/records/${b3}", OPR, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "title=B3" }, NULL },
	{ __LINE__, "batch: atomic, one item fails: nothing stays", "POST",
	    "/v1/batch", OPR, NULL, JSON, "{\"atomic\":true,\"requests\":["
	    ITEM_NEW("B4") ",\"headers\":{\"Idempotency-Key\":\"bk-4\"}},"
	    "{\"method\":\"PATCH\",\"path\":\"/v1/records/${b1}\",\"headers\":"
	    "{\"If-Match\":\"\\\"" ZERO_ULID "\\\"\"},\"body\":{\"title\":"
	    "\"x\"}}]}",
	    409, "batch_failed", { NULL },
	    { "responses.0.status=201", "!responses.0.failed",
	    "responses.1.status=412", "responses.1.failed=true",
	    "responses.1.body.code=causal_conflict" },
	    "b4=responses.0.body.id" },
	{ __LINE__, "batch: the atomic batch's create is gone", "GET",
	    "/v1/records/${b4}", OPR, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "batch: nor is its item's key kept", "POST",
	    "/v1/records", OPR, "Idempotency-Key: bk-4", JSON,
	    "{\"title\":\"B4\",\"type\":\"note\"}",
	    201, NULL, { "!Idempotent-Replayed" }, { "id!=${b4}" }, NULL },
	{ __LINE__, "batch: atomic, every item succeeds", "POST",
	    "/v1/batch", OPR, NULL, JSON, "{\"atomic\":true,\"requests\":["
	    "{\"method\":\"PATCH\",\"path\":\"/v1/records/${b1}\",\"body\":"
	    "{\"causal\":\"${bc1}\",\"status\":\"synced\"}},{\"method\":"
	    "\"GET\",\"path\":\"/v1/records/${b1}\"}]}",
	    200, NULL, { NULL },
	    { "responses.0.status=200", "responses.1.body.status=synced",
	    "responses.1.headers.ETag" }, NULL },
	{ __LINE__, "batch: a viewer's items each meet their role", "POST",
	    "/v1/batch", VWR, NULL, JSON, "{\"requests\":[{\"method\":\"GET\","
	    "\"path\":\"/v1/records/${b1}\"}," ITEM_NEW("V") "}]}",
	    200, NULL, { NULL },
	    { "responses.0.status=200", "responses.1.status=403",
	    "responses.1.body.code=forbidden" }, NULL },
	{ __LINE__, "batch: with its own key", "POST", "/v1/batch", OPR,
	    "Idempotency-Key: bb-1", JSON, "{\"requests\":[" ITEM_NEW("B5")
	    "}]}",
	    200, NULL, { "!Idempotent-Replayed" },
	    { "responses.0.status=201" }, "b5=responses.0.body.id,bb=@body" },
	{ __LINE__, "batch: its key replays the whole answer", "POST",
	    "/v1/batch", OPR, "Idempotency-Key: bb-1", JSON,
	    "{\"requests\":[" ITEM_NEW("B5") "}]}",
	    200, NULL, { "Idempotent-Replayed=true" },
	    { "@body=${bb}", "responses.0.body.id=${b5}" }, NULL },
	{ __LINE__, "batch: its key with another batch", "POST", "/v1/batch",
	    OPR, "Idempotency-Key: bb-1", JSON,
	    "{\"requests\":[" ITEM_NEW("B6") "}]}",
	    422, "idempotency_key_reused", { NULL }, { NULL }, NULL },
	{ __LINE__, "batch: a route no batch holds", "POST", "/v1/batch",
	    OPR, NULL, JSON, "{\"requests\":[" ITEM_NEW("B7") "},{\"method\":"
	    "\"POST\",\"path\":\"/v1/auth/token\",\"body\":{}}]}",
	    400, "invalid_request", { NULL },
	    { "errors.*=1", "errors.0.field=requests[1].path",
	    "errors.0.message~cannot be part of a batch" }, NULL },
	{ __LINE__, "batch: a batch inside a batch", "POST", "/v1/batch",
	    OPR, NULL, JSON, "{\"requests\":[{\"method\":\"POST\",\"path\":"
	    "\"/v1/batch\",\"body\":{\"requests\":[]}}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests[0].path" }, NULL },
	{ __LINE__, "batch: a method the path does not serve", "POST",
	    "/v1/batch", OPR, NULL, JSON, "{\"requests\":[{\"method\":"
	    "\"DELETE\",\"path\":\"/v1/records\"}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests[0].method",
	    "errors.0.message~allowed: POST, GET" }, NULL },
	{ __LINE__, "batch: a method no item may have", "POST", "/v1/batch",
	    OPR, NULL, JSON, "{\"requests\":[{\"method\":\"HEAD\",\"path\":"
	    "\"/v1/records\"}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests[0].method" }, NULL },
	{ __LINE__, "batch: an unknown path", "POST", "/v1/batch", OPR, NULL,
	    JSON, "{\"requests\":[{\"method\":\"GET\",\"path\":\"/v1/nope\"}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests[0].path" }, NULL },
	{ __LINE__, "batch: a header no item may carry", "POST", "/v1/batch",
	    OPR, NULL, JSON, "{\"requests\":[{\"method\":\"GET\",\"path\":"
	    "\"/v1/records\",\"headers\":{\"Authorization\":\"Bearer x\"}}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests[0].headers",
	    "errors.0.message~Authorization" }, NULL },
	{ __LINE__, "batch: a header twice in two cases", "POST", "/v1/batch",
	    OPR, NULL, JSON, "{\"requests\":[{\"method\":\"GET\",\"path\":"
	    "\"/v1/records\",\"headers\":{\"Prefer\":\"a\",\"prefer\":\"b\"}}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests[0].headers",
	    "errors.0.message~twice" }, NULL },
	{ __LINE__, "batch: unknown members, a body that is no object",
	    "POST", "/v1/batch", OPR, NULL, JSON, "{\"requests\":[{\"method\":"
	    "\"POST\",\"path\":\"/v1/records\",\"bodyy\":{}},{\"method\":"
	    "\"POST\",\"path\":\"/v1/records\",\"body\":[1]}],\"x\":1}",
	    400, "invalid_request", { NULL },
	    { "errors.*=3", "errors.0.field=x",
	    "errors.1.field=requests[0].bodyy",
	    "errors.2.field=requests[1].body" }, NULL },
	{ __LINE__, "batch: no requests", "POST", "/v1/batch", OPR, NULL,
	    JSON, "{\"requests\":[]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=requests" }, NULL },
	{ __LINE__, "batch: atomic must be a boolean", "POST", "/v1/batch",
	    OPR, NULL, JSON, "{\"atomic\":1,\"requests\":[" ITEM_NEW("B8")
	    "}]}",
	    400, "invalid_request", { NULL },
	    { "errors.0.field=atomic" }, NULL },
	{ __LINE__, "batch: an item's body where its route takes none, as "
	    "alone", "POST", "/v1/batch", OPR, NULL, JSON, "{\"requests\":["
	    "{\"method\":\"GET\",\"path\":\"/v1/records?limit=1\",\"body\":"
	    "{}},{\"method\":\"GET\",\"path\":\"/v1/records?limit=1&x=2\"}]}",
	    200, NULL, { NULL },
	    { "responses.0.status=400",
	    "responses.0.body.detail~takes no request body",
	    "responses.1.body.detail~unknown query parameter" }, NULL },
	{ __LINE__, "batch: without a token", "POST", "/v1/batch", NULL,
	    NULL, JSON, "{\"requests\":[" ITEM_NEW("B9") "}]}",
	    401, "unauthorized", { NULL }, { NULL }, NULL },
	{ __LINE__, "batch: mounted, Location under the mount, the mount's "
	    "path accepted", "POST", "/crew/rs/v1/batch", ADM, MOUNT, JSON,
	    "{\"requests\":[" ITEM_NEW("M1") "},{\"method\":\"GET\",\"path\":"
	    "\"/crew/rs/v1/records/${b1}\"}]}",
	    200, NULL, { NULL },
	    { "responses.0.headers.Location~/crew/rs/v1/records/rec_",
	    "responses.1.status=200" }, NULL },
};

/*
 * Records keep their text as shown (sql/0013); a row without it (written
 * before) is printed from its columns: the answers must not differ.
 */
static const struct tcase stored_before_cases[] = {
	{ __LINE__, "stored text: a record as stored", "GET",
	    "/v1/records/${b1}", OPR, NULL, NULL, NULL,
	    200, NULL, { "ETag" }, { "id=${b1}" }, "sg=@body,se=^ETag" },
	{ __LINE__, "stored text: a page as stored", "GET",
	    "/v1/records?limit=5&include_deleted=true", OPR, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.*=5" }, "sl=data" },
	{ __LINE__, "stored text: delta sync as stored", "GET",
	    "/v1/records?since=${st}", OPR, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data.0" }, "sd=data" },
};
static const struct tcase stored_after_cases[] = {
	{ __LINE__, "stored text: the record printed from its columns",
	    "GET", "/v1/records/${b1}", OPR, NULL, NULL, NULL,
	    200, NULL, { "ETag=${se}" }, { "@body=${sg}" }, NULL },
	{ __LINE__, "stored text: the page printed from its columns", "GET",
	    "/v1/records?limit=5&include_deleted=true", OPR, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data=${sl}" }, NULL },
	{ __LINE__, "stored text: delta sync printed from its columns",
	    "GET", "/v1/records?since=${st}", OPR, NULL, NULL, NULL,
	    200, NULL, { NULL }, { "data=${sd}" }, NULL },
};

/* Forgets every record's stored text, as a database from before 0013. */
static void
stored_forget(const char *dbpath)
{
	sqlite3	*h;

	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_exec(h, "UPDATE records SET json = NULL", NULL, NULL,
	    NULL) == SQLITE_OK && sqlite3_changes(h) > 5);
	sqlite3_close(h);
}

/* The slow org's limit changed (relaysync-admin org set-rate-limit). */
static const struct tcase limit_changed_cases[] = {
	{ __LINE__, "slow org: the new limit at once, the level as it was "
	    "(empty)", "GET", "/v1/me", "Bearer ${slow}", NULL, NULL, NULL,
	    429, "rate_limited", { "RateLimit-Limit=50",
	    "RateLimit-Policy=\"org\";q=50;w=1", "Retry-After=1" },
	    { "detail~50 requests a second" }, NULL },
};

/* A process that cannot read its secret: every routed request is 503. */
static const struct tcase broken_cases[] = {
	{ __LINE__, "no secret: health", "GET", "/v1/health", NULL, NULL,
	    NULL, NULL,
	    503, "service_unavailable", { NULL }, { NULL }, NULL },
	{ __LINE__, "no secret: token", "POST", "/v1/auth/token", NULL, NULL,
	    JSON, "{\"api_key\":\"" WRONG_KEY "\"}",
	    503, "service_unavailable", { NULL }, { NULL }, NULL },
	{ __LINE__, "no secret: records", "GET", "/v1/records", ADM, NULL,
	    NULL, NULL,
	    503, "service_unavailable", { NULL }, { NULL }, NULL },
	{ __LINE__, "no secret: routing still answers 404", "GET", "/v1/nope",
	    NULL, NULL, NULL, NULL,
	    404, "not_found", { NULL }, { NULL }, NULL },
	{ __LINE__, "no secret: routing still answers 405", "DELETE",
	    "/v1/health", NULL, NULL, NULL, NULL,
	    405, "method_not_allowed", { "Allow=GET, HEAD" }, { NULL }, NULL },
};

/* ---- variables and templates ------------------------------------------ */

static struct {
	char	 name[32];
	char	*value;
}		 vars[MAXVARS];
static size_t	 nvars;

static const char *
var_get(const char *name)
{
	size_t	 i;

	for (i = 0; i < nvars; i++)
		if (strcmp(vars[i].name, name) == 0)
			return vars[i].value;
	return NULL;
}

static void
var_set(const char *name, const char *value)
{
	size_t	 i;

	for (i = 0; i < nvars; i++)
		if (strcmp(vars[i].name, name) == 0)
			break;
	if (i == MAXVARS || strlen(name) >= sizeof(vars[i].name))
		tap_bail("variable table full or name too long: %s", name);
	if (i == nvars)
		snprintf(vars[nvars++].name, sizeof(vars[0].name), "%s", name);
	free(vars[i].value);
	if ((vars[i].value = strdup(value)) == NULL)
		tap_bail("out of memory");
}

static void
var_free(void)
{
	size_t	 i;

	for (i = 0; i < nvars; i++) {
		if (vars[i].value != NULL)
			sodium_memzero(vars[i].value, strlen(vars[i].value));
		free(vars[i].value);
		vars[i].value = NULL;
	}
	nvars = 0;
}

/*
 * tpl with every ${name} replaced by its variable, into out. An unset
 * variable becomes "UNSET-name" (with a diagnostic), so the checks that
 * depend on it fail rather than the program stopping.
 */
static const char *
expand(const char *tpl, char *out, size_t outsz)
{
	const char	*p = tpl, *e, *v;
	char		 name[32];
	size_t		 o = 0, n;
	char		 unset[48];

	while (*p != '\0') {
		if (p[0] == '$' && p[1] == '{' && (e = strchr(p, '}')) != NULL &&
		    (n = (size_t)(e - p - 2)) < sizeof(name)) {
			memcpy(name, p + 2, n);
			name[n] = '\0';
			if ((v = var_get(name)) == NULL) {
				tap_diag("variable %s is not set", name);
				snprintf(unset, sizeof(unset), "UNSET-%s", name);
				v = unset;
			}
			n = strlen(v);
			if (o + n >= outsz)
				tap_bail("template too long: %s", tpl);
			memcpy(out + o, v, n);
			o += n;
			p = e + 1;
			continue;
		}
		if (o + 1 >= outsz)
			tap_bail("template too long: %s", tpl);
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

/* ---- one request ------------------------------------------------------- */

struct answer {
	char			*raw;	/* everything written, NUL-terminated */
	size_t			 len;
	size_t			 cap;
	int			 status;
	const char		*body;	/* in raw */
	size_t			 bodylen;
	size_t			 nh;
	struct {
		const char	*name;
		const char	*value;
	}			 h[MAXRESPHDR];
	struct json_object	*json;	/* the body parsed, or NULL */
	size_t			 body_read; /* request body bytes read */
	int			 flushes; /* writes with no bytes (streams) */
};

struct reqbody {
	const char	*data;
	size_t		 len;
	size_t		 pos;
};

static int
body_read(void *ctx, char *buf, int n)
{
	struct reqbody	*b = ctx;
	size_t		 k = (size_t)n;

	if (k > b->len - b->pos)
		k = b->len - b->pos;
	memcpy(buf, b->data + b->pos, k);
	b->pos += k;
	return (int)k;
}

static int
answer_write(void *ctx, const char *buf, size_t n)
{
	struct answer	*a = ctx;
	char		*p;
	size_t		 cap;

	if (buf == NULL) {		/* a flush */
		a->flushes++;
		return 0;
	}
	if (a->len + n + 1 > a->cap) {
		cap = a->cap ? a->cap : 4096;
		while (cap < a->len + n + 1)
			cap *= 2;
		if ((p = realloc(a->raw, cap)) == NULL)
			return -1;
		a->raw = p;
		a->cap = cap;
	}
	memcpy(a->raw + a->len, buf, n);
	a->len += n;
	a->raw[a->len] = '\0';
	return 0;
}

static void
answer_free(struct answer *a)
{
	json_object_put(a->json);
	free(a->raw);
	memset(a, 0, sizeof(*a));
}

/* The first value of response header name, or NULL. */
static const char *
answer_header(const struct answer *a, const char *name)
{
	size_t	 i;

	for (i = 0; i < a->nh; i++)
		if (strcasecmp(a->h[i].name, name) == 0)
			return a->h[i].value;
	return NULL;
}

/* Splits the CGI header block from the body; 0, or -1 when malformed. */
static int
answer_parse(struct answer *a)
{
	char	*p, *end, *line, *colon;

	if (a->raw == NULL || (end = strstr(a->raw, "\r\n\r\n")) == NULL)
		return -1;
	*end = '\0';
	a->body = end + 4;
	a->bodylen = a->len - (size_t)(a->body - a->raw);
	for (p = a->raw; p != NULL; p = line) {
		if ((line = strstr(p, "\r\n")) != NULL) {
			*line = '\0';
			line += 2;
		}
		if ((colon = strstr(p, ": ")) == NULL)
			return -1;
		*colon = '\0';
		if (strcmp(p, "Status") == 0) {
			a->status = atoi(colon + 2);
			continue;
		}
		if (a->nh == MAXRESPHDR)
			return -1;
		a->h[a->nh].name = p;
		a->h[a->nh].value = colon + 2;
		a->nh++;
	}
	if (a->bodylen > 0)
		a->json = json_tokener_parse(a->body);
	return a->status > 0 ? 0 : -1;
}

/* Appends "NAME=value" to the environment being built. */
static void
env_add(char env[][ENVSZ], char **envp, size_t *n, const char *name,
    const char *value)
{
	if (*n == MAXENV)
		tap_bail("too many request parameters");
	if ((size_t)snprintf(env[*n], ENVSZ, "%s=%s", name, value) >= ENVSZ)
		tap_bail("request parameter %s too long", name);
	envp[*n] = env[*n];
	(*n)++;
	envp[*n] = NULL;
}

/*
 * Serves one request: method, uri, Authorization (or NULL), more headers
 * as "Name: value" lines (or NULL), content type (or NULL) and body (or
 * NULL), as a FastCGI server would hand them over. The answer goes to a.
 */
static void
call(struct rs_app *app, const char *method, const char *uri,
    const char *auth, const char *hdrs, const char *ctype, const char *body,
    struct answer *a)
{
	static char	 env[MAXENV][ENVSZ];
	char		*envp[MAXENV + 1];
	char		 var[128], val[ENVSZ], len[32];
	const char	*q, *p, *e, *colon;
	struct reqbody	 rb = { body, body ? strlen(body) : 0, 0 };
	size_t		 n = 0, i, k;

	memset(a, 0, sizeof(*a));
	envp[0] = NULL;
	env_add(env, envp, &n, "GATEWAY_INTERFACE", "CGI/1.1");
	env_add(env, envp, &n, "SERVER_PROTOCOL", "HTTP/1.1");
	env_add(env, envp, &n, "REQUEST_METHOD", method);
	env_add(env, envp, &n, "REQUEST_URI", uri);
	q = strchr(uri, '?');
	env_add(env, envp, &n, "QUERY_STRING", q ? q + 1 : "");
	if (hdrs == NULL || strstr(hdrs, "$REMOTE_ADDR: ") == NULL)
		env_add(env, envp, &n, "REMOTE_ADDR", "127.0.0.1");
	if (body != NULL) {
		snprintf(len, sizeof(len), "%zu", rb.len);
		env_add(env, envp, &n, "CONTENT_LENGTH", len);
		env_add(env, envp, &n, "CONTENT_TYPE",
		    ctype ? ctype : "application/json");
	}
	if (auth != NULL)
		env_add(env, envp, &n, "HTTP_AUTHORIZATION", auth);
	for (p = hdrs; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		if ((colon = strstr(p, ": ")) == NULL || colon > e ||
		    (size_t)(colon - p) + 6 > sizeof(var) ||
		    (size_t)(e - colon - 2) >= sizeof(val))
			tap_bail("bad request header line in \"%s\"", hdrs);
		if (*p == '$') {
			memcpy(var, p + 1, (size_t)(colon - p - 1));
			var[colon - p - 1] = '\0';
		} else {
			memcpy(var, "HTTP_", 5);
			for (i = 0, k = 5; p + i < colon; i++)
				var[k++] = p[i] == '-' ? '_' :
				    (char)toupper((unsigned char)p[i]);
			var[k] = '\0';
		}
		memcpy(val, colon + 2, (size_t)(e - colon - 2));
		val[e - colon - 2] = '\0';
		env_add(env, envp, &n, var, val);
	}
	rs_app_handle(app, envp, body_read, &rb, answer_write, a);
	a->body_read = rb.pos;
	if (answer_parse(a) != 0)
		tap_diag("%s %s: malformed answer: %.200s", method, uri,
		    a->raw ? a->raw : "(nothing)");
}

/* ---- reading answers -------------------------------------------------- */

/*
 * The value at path in o as text (strings as they are, null as "null",
 * others as compact JSON; "*" of an array is its length), or NULL when
 * there is nothing there.
 */
static const char *
json_path(struct json_object *o, const char *path, char *buf, size_t bufsz)
{
	struct json_object	*cur = o;
	const char		*p = path, *e;
	char			 seg[128], *end;
	size_t			 n;
	unsigned long		 idx;

	if (o == NULL)
		return NULL;
	for (;;) {
		e = strchr(p, '.');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof(seg) || cur == NULL)
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (json_object_is_type(cur, json_type_array)) {
			if (strcmp(seg, "*") == 0) {
				if (e != NULL)
					return NULL;
				snprintf(buf, bufsz, "%zu",
				    (size_t)json_object_array_length(cur));
				return buf;
			}
			idx = strtoul(seg, &end, 10);
			if (seg[0] == '\0' || *end != '\0' ||
			    idx >= (unsigned long)json_object_array_length(cur))
				return NULL;
			cur = json_object_array_get_idx(cur, idx);
		} else if (json_object_is_type(cur, json_type_object)) {
			if (!json_object_object_get_ex(cur, seg, &cur))
				return NULL;
		} else
			return NULL;
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (cur == NULL)
		return "null";
	if (json_object_is_type(cur, json_type_string))
		return json_object_get_string(cur);
	snprintf(buf, bufsz, "%s",
	    json_object_to_json_string_ext(cur, JSON_C_TO_STRING_PLAIN));
	return buf;
}

/* A save or check target: "@body", "^Header" or a member path. */
static const char *
answer_value(const struct answer *a, const char *what, char *buf,
    size_t bufsz)
{
	if (strcmp(what, "@body") == 0)
		return a->body;
	if (what[0] == '^')
		return answer_header(a, what + 1);
	return json_path(a->json, what, buf, bufsz);
}

/* Applies a row's "var=path,..." to the answer. */
static void
answer_save(const struct answer *a, const char *save, int line)
{
	char		 spec[256], buf[TPLSZ], *tok, *last, *eq;
	const char	*v;

	if (save == NULL)
		return;
	snprintf(spec, sizeof(spec), "%s", save);
	for (tok = strtok_r(spec, ",", &last); tok != NULL;
	    tok = strtok_r(NULL, ",", &last)) {
		if ((eq = strchr(tok, '=')) == NULL)
			tap_bail("line %d: bad save spec %s", line, save);
		*eq = '\0';
		if ((v = answer_value(a, eq + 1, buf, sizeof(buf))) == NULL ||
		    strcmp(v, "null") == 0) {
			tap_diag("line %d: nothing to save as %s from %s",
			    line, tok, eq + 1);
			continue;
		}
		var_set(tok, v);
	}
}

/*
 * One header or member check: spec is "what", "what=value",
 * "what!=value", "what~text" or "!what"; get() reads "what".
 */
static int
check_spec(const struct answer *a, const char *spec, int header,
    const char *name, int line)
{
	char		 what[128], want[TPLSZ], buf[TPLSZ], full[TPLSZ + 160];
	const char	*got, *val = NULL;
	size_t		 n;
	int		 absent = 0, ok;
	char		 op = '\0';

	if (spec[0] == '!') {
		absent = 1;
		spec++;
	}
	n = strcspn(spec, "=~!");
	if (n >= sizeof(what))
		tap_bail("line %d: check too long: %s", line, spec);
	memcpy(what, spec, n);
	what[n] = '\0';
	if (spec[n] == '!' && spec[n + 1] == '=') {
		op = '!';
		val = spec + n + 2;
	} else if (spec[n] == '=' || spec[n] == '~') {
		op = spec[n];
		val = spec + n + 1;
	}
	if (val != NULL)
		expand(val, want, sizeof(want));
	got = header ? answer_header(a, what) :
	    answer_value(a, what, buf, sizeof(buf));
	if (absent)
		ok = got == NULL;
	else if (op == '\0')
		ok = got != NULL && strcmp(got, "null") != 0;
	else if (op == '=')
		ok = got != NULL && strcmp(got, want) == 0;
	else if (op == '!')
		ok = got != NULL && strcmp(got, want) != 0;
	else
		ok = got != NULL && strstr(got, want) != NULL;
	snprintf(full, sizeof(full), "%s: %s %s%s", name,
	    header ? "header" : "member", absent ? "!" : "", spec);
	if (!tap_result(ok, full, __FILE__, line, spec)) {
		tap_diag("       got: %.300s", got ? got : "(absent)");
		if (val != NULL)
			tap_diag("  expected: %s%.300s", op == '!' ? "not " :
			    op == '~' ? "containing " : "", want);
	}
	return ok;
}

/*
 * What every answer carries: X-Request-Id, Cache-Control: no-store and a
 * Content-Length that matches (a HEAD answer: any, and no body); a
 * problem also its RFC 9457 members, with the status member equal to the
 * HTTP status, instance the request path (path) and request_id the
 * X-Request-Id. An answer to the web server's own error (unread set)
 * must not have read the request body. NULL when all hold, else why not.
 */
static const char *
envelope(const struct answer *a, const char *code, const char *path,
    int head, int unread)
{
	static char	 why[256];
	const char	*rid = answer_header(a, "X-Request-Id"), *s;
	char		 buf[64], type[128];

	if (rid == NULL || *rid == '\0' || strcmp(rid, "-") == 0)
		return "no X-Request-Id";
	if ((s = answer_header(a, "Cache-Control")) == NULL ||
	    strcmp(s, "no-store") != 0)
		return "Cache-Control is not no-store";
	if (unread && a->body_read > 0)
		return "the request body was read";
	if (head)
		return answer_header(a, "Content-Length") == NULL ?
		    "no Content-Length" : a->bodylen > 0 ?
		    "a body in the answer to HEAD" : NULL;
	if ((s = answer_header(a, "Content-Length")) == NULL ||
	    strtoul(s, NULL, 10) != a->bodylen)
		return "Content-Length does not match the body";
	if (code == NULL)
		return NULL;
	snprintf(type, sizeof(type), "%s%s", RS_PROBLEM_TYPE_BASE, code);
	if ((s = json_path(a->json, "type", buf, sizeof(buf))) == NULL ||
	    strcmp(s, type) != 0)
		return "member type is not the code's";
	snprintf(type, sizeof(type), "%d", a->status);
	if ((s = json_path(a->json, "status", buf, sizeof(buf))) == NULL ||
	    strcmp(s, type) != 0)
		return "member status is not the HTTP status";
	if ((s = json_path(a->json, "title", buf, sizeof(buf))) == NULL ||
	    *s == '\0' || strcmp(s, "null") == 0)
		return "no title";
	if ((s = json_path(a->json, "detail", buf, sizeof(buf))) == NULL ||
	    *s == '\0' || strcmp(s, "null") == 0)
		return "no detail";
	if ((s = json_path(a->json, "instance", buf, sizeof(buf))) == NULL ||
	    strcmp(s, path) != 0) {
		snprintf(why, sizeof(why), "instance is %.100s, not %.100s",
		    s ? s : "absent", path);
		return why;
	}
	if ((s = json_path(a->json, "request_id", buf, sizeof(buf))) == NULL ||
	    strcmp(s, rid) != 0)
		return "request_id is not the X-Request-Id";
	return NULL;
}

/* ---- running the tables ------------------------------------------------ */

/* The number of checks run_case() makes for c. */
static int
case_checks(const struct tcase *c)
{
	int	 n = 4, i;

	for (i = 0; i < MAXHDR; i++)
		n += c->h[i] != NULL;
	for (i = 0; i < MAXMEM; i++)
		n += c->m[i] != NULL;
	return n;
}

static int
table_checks(const struct tcase *t, size_t n)
{
	size_t	 i;
	int	 sum = 0;

	for (i = 0; i < n; i++)
		sum += case_checks(&t[i]);
	return sum;
}

static void
run_case(struct rs_app *app, const struct tcase *c)
{
	static char	 uri[TPLSZ], auth[TPLSZ], hdrs[TPLSZ], body[TPLSZ];
	char		 name[256], path[TPLSZ], full[320], buf[TPLSZ];
	const char	*ct, *code, *why, *rs, *ru;
	struct answer	 a;
	int		 i, head = strcmp(c->method, "HEAD") == 0, unread;

	expand(c->uri, uri, sizeof(uri));
	if (c->auth != NULL)
		expand(c->auth, auth, sizeof(auth));
	if (c->hdrs != NULL)
		expand(c->hdrs, hdrs, sizeof(hdrs));
	if (c->body != NULL)
		expand(c->body, body, sizeof(body));
	/* The instance: the path, or what REDIRECT_URL says it was. */
	if (c->hdrs != NULL && (ru = strstr(hdrs, "$REDIRECT_URL: ")) != NULL)
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(ru + 15,
		    "\n"), ru + 15);
	else
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(uri, "?"),
		    uri);
	rs = c->hdrs != NULL ? strstr(hdrs, "$REDIRECT_STATUS: ") : NULL;
	unread = rs != NULL && atoi(rs + 18) >= 400 && atoi(rs + 18) <= 599;
	snprintf(name, sizeof(name), "%s %s, %s", c->method, c->uri,
	    c->label);
	call(app, c->method, uri, c->auth ? auth : NULL,
	    c->hdrs ? hdrs : NULL, c->ctype, c->body ? body : NULL, &a);
	answer_save(&a, c->save, c->line);

	snprintf(full, sizeof(full), "%s: status %d", name, c->status);
	if (!tap_is_int(a.status, c->status, full, __FILE__, c->line,
	    "status") && a.json != NULL)
		tap_diag("    answer: %.400s", json_object_to_json_string_ext(
		    a.json, JSON_C_TO_STRING_PLAIN));
	ct = answer_header(&a, "Content-Type");
	snprintf(full, sizeof(full), "%s: Content-Type", name);
	tap_is_str(ct, c->code ? PROB : "application/json", full, __FILE__,
	    c->line, "Content-Type");
	if (head) {
		snprintf(full, sizeof(full), "%s: no body", name);
		tap_result(a.bodylen == 0, full, __FILE__, c->line, "no body");
	} else if (c->code != NULL) {
		code = json_path(a.json, "code", buf, sizeof(buf));
		snprintf(full, sizeof(full), "%s: code %s", name, c->code);
		tap_is_str(code, c->code, full, __FILE__, c->line, "code");
	} else {
		snprintf(full, sizeof(full), "%s: a JSON object body", name);
		tap_result(a.json != NULL &&
		    json_object_is_type(a.json, json_type_object), full,
		    __FILE__, c->line, "JSON object body");
	}
	why = envelope(&a, c->code, path, head, unread);
	snprintf(full, sizeof(full), "%s: envelope", name);
	if (!tap_result(why == NULL, full, __FILE__, c->line, "envelope"))
		tap_diag("    %s", why);
	for (i = 0; i < MAXHDR; i++)
		if (c->h[i] != NULL)
			check_spec(&a, c->h[i], 1, name, c->line);
	for (i = 0; i < MAXMEM; i++)
		if (c->m[i] != NULL)
			check_spec(&a, c->m[i], 0, name, c->line);
	answer_free(&a);
}

static void
run_table(struct rs_app *app, const struct tcase *t, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		run_case(app, &t[i]);
}

#define NELEM(t)	(sizeof(t) / sizeof((t)[0]))

/* ---- event streams: answers that run ------------------------------------ */

#define STREAM_CHECKS	(9 + 3 + 3 + 4 + 2)

/* GET uri as auth in buffered mode (it ends once it has sent something). */
static void
stream_call(struct rs_app *app, const char *uri, const char *auth,
    struct answer *a)
{
	char	 au[TPLSZ];

	expand(auth, au, sizeof(au));
	call(app, "GET", uri, au, "$RELAYSYNC_STREAM: buffered", NULL, NULL, a);
}

/* Is every "event: " line of body the event type? */
static int
stream_only(const char *body, const char *type)
{
	const char	*p;
	size_t		 n = strlen(type);
	int		 seen = 0;

	for (p = body; (p = strstr(p, "\nevent: ")) != NULL; p += 8) {
		if (strncmp(p + 8, type, n) != 0 || p[8 + n] != '\n')
			return 0;
		seen++;
	}
	return seen > 0;
}

static void
stream_checks(struct rs_app *app, const char *dbpath)
{
	struct rs_slot	 held[2];
	struct answer	 a;
	char		 dir[256];
	size_t		 blen;

	/* The audit stream from the start: the org's first entries. */
	stream_call(app, "/v1/audit/stream?after_seq=0", ADM, &a);
	blen = a.body ? strlen(a.body) : 0;
	TAP_IS_INT(a.status, 200, "stream: audit from the start, 200");
	TAP_IS_STR(answer_header(&a, "Content-Type"), "text/event-stream",
	    "stream: text/event-stream");
	TAP_OK(answer_header(&a, "Content-Length") == NULL,
	    "stream: no Content-Length");
	TAP_IS_STR(answer_header(&a, "X-Accel-Buffering"), "no",
	    "stream: X-Accel-Buffering: no");
	TAP_IS_STR(answer_header(&a, "Cache-Control"), "no-store",
	    "stream: Cache-Control: no-store");
	TAP_OK(a.body && strncmp(a.body, "retry: 1000\nid: 0\n\nid: 1\n"
	    "event: audit\ndata: {\"seq\":1,", 53) == 0,
	    "stream: retry, then entry 1 as GET /v1/audit shows it");
	TAP_OK(blen > 13 && strcmp(a.body + blen - 13, "retry: 1000\n\n") == 0 &&
	    strstr(a.body, "\nid: 1\nretry: 1000\n\n") == NULL,
	    "stream: ends with its place and retry");
	TAP_OK(stream_only(a.body ? a.body : "", "audit"),
	    "stream: every frame an audit entry");
	TAP_OK(a.flushes >= 2, "stream: flushed as it went");
	answer_free(&a);

	/* Events of one type, for a viewer. */
	stream_call(app, "/v1/events/stream?after_seq=0&types=record.updated",
	    VWR, &a);
	TAP_IS_INT(a.status, 200, "stream: events for a viewer, 200");
	TAP_OK(a.body && strstr(a.body, "\nid: ") != NULL &&
	    strstr(a.body, "data: {\"id\":\"evt_") != NULL,
	    "stream: events with their webhook body");
	TAP_OK(stream_only(a.body ? a.body : "", "record.updated"),
	    "stream: only the type asked for");
	answer_free(&a);

	/* HEAD: the headers, and no stream is run. */
	call(app, "HEAD", "/v1/audit/stream", NULL, NULL, NULL, NULL, &a);
	TAP_IS_INT(a.status, 401, "stream: HEAD without a token is 401");
	answer_free(&a);
	{
		char	 au[TPLSZ];

		expand(ADM, au, sizeof(au));
		call(app, "HEAD", "/v1/audit/stream", au, NULL, NULL, NULL,
		    &a);
	}
	TAP_IS_INT(a.status, 200, "stream: HEAD is 200");
	TAP_OK(a.bodylen == 0 && a.flushes == 0, "stream: HEAD runs no "
	    "stream");
	answer_free(&a);

	/* Caps: what other processes hold, taken here. */
	snprintf(dir, sizeof(dir), "%s-streams", dbpath);
	rs_slot_init(&held[0]);
	rs_slot_init(&held[1]);
	TAP_SETUP(rs_slot_take(&held[0], dir, var_get("orga"), 2) == RS_OK);
	TAP_SETUP(rs_slot_take(&held[1], dir, var_get("orga"), 2) == RS_OK);
	stream_call(app, "/v1/events/stream", VWR, &a);
	TAP_IS_INT(a.status, 429, "stream: the org's 2 places held: 429");
	TAP_OK(answer_header(&a, "Retry-After") != NULL && a.json != NULL &&
	    strcmp(json_object_get_string(json_object_object_get(a.json,
	    "code")), "too_many_streams") == 0,
	    "stream: too_many_streams with Retry-After");
	answer_free(&a);
	stream_call(app, "/v1/audit/stream?after_seq=0", ORGB, &a);
	TAP_IS_INT(a.status, 200, "stream: another org still streams");
	answer_free(&a);
	call(app, "GET", "/v1/records", NULL, NULL, NULL, NULL, &a);
	TAP_IS_INT(a.status, 401, "stream: and ordinary requests go on");
	answer_free(&a);
	rs_slot_release(&held[0]);
	rs_slot_release(&held[1]);
	TAP_SETUP(rs_slot_take(&held[0], dir, "pool", 2) == RS_OK);
	TAP_SETUP(rs_slot_take(&held[1], dir, "pool", 2) == RS_OK);
	stream_call(app, "/v1/audit/stream", ADM, &a);
	TAP_IS_INT(a.status, 503, "stream: the pool's 2 places held: 503");
	TAP_OK(answer_header(&a, "Retry-After") != NULL,
	    "stream: with Retry-After");
	answer_free(&a);
	rs_slot_release(&held[0]);
	rs_slot_release(&held[1]);
}

/* ---- setup ------------------------------------------------------------- */

/* An API key for email in org with role, kept as variable var. */
static void
make_key(struct rs_db *db, const unsigned char sub[RS_SECRET_BYTES],
    const char *org, const char *email, enum rs_role role, const char *var)
{
	char	 key[RS_APIKEY_LEN + 1], key_id[RS_ID_MAX];

	TAP_SETUP(rs_admin_key_create(db, sub, org, email, role, key,
	    key_id) == RS_OK);
	var_set(var, key);
	sodium_memzero(key, sizeof(key));
}

/*
 * DELETE /v1/webhooks/${w1} as the admin: a 204 has no body, which the
 * table's checks expect of every answer. One check.
 */
static void
webhook_delete(struct rs_app *app)
{
	char		 uri[TPLSZ], auth[TPLSZ];
	struct answer	 a;

	expand("/v1/webhooks/${w1}", uri, sizeof(uri));
	expand(ADM, auth, sizeof(auth));
	call(app, "DELETE", uri, auth, NULL, NULL, NULL, &a);
	if (!TAP_OK(a.status == 204 && a.bodylen == 0 &&
	    answer_header(&a, "Content-Type") == NULL,
	    "DELETE /v1/webhooks/${w1}: 204, no body, no Content-Type"))
		tap_diag("status %d, body %.200s", a.status,
		    a.body ? a.body : "");
	answer_free(&a);
}

/*
 * No Idempotency-Key row holds a secret in the clear: the kept create
 * answer has the mark where the secret was. Two checks.
 */
static void
webhooks_secret_not_kept(const char *dbpath)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	int		 leaked = 0, marked = 0;

	TAP_SETUP(var_get("s2") && var_get("s2b"));
	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_prepare_v2(h, "SELECT key, body FROM "
	    "idempotency_keys", -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const char *body = (const char *)sqlite3_column_text(st, 1);

		if (strstr(body, var_get("s2")) != NULL ||
		    strstr(body, var_get("s2b")) != NULL ||
		    strstr(body, "whsec_") != NULL)
			leaked++;
		if (strcmp(key, "wh-1") == 0 &&
		    strstr(body, "\"secret\":\"(kept sealed)\"") != NULL)
			marked++;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	TAP_IS_INT(leaked, 0, "idempotency_keys: no row holds a whsec_ secret");
	TAP_IS_INT(marked, 1, "idempotency_keys: the create's kept answer "
	    "has the mark instead");
}

/*
 * Sets the replayed jobs ${j1} succeeded, ${j2} running and ${j3} dead
 * out of attempts, as the worker would have, through a connection of
 * its own (the queue API only reads and retries).
 */
static void
jobs_set(const char *dbpath)
{
	sqlite3	*h;
	char	*q;

	TAP_SETUP(var_get("j1") && var_get("j2") && var_get("j3"));
	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	q = sqlite3_mprintf("UPDATE jobs SET state = 'succeeded', "
	    "attempts = 1, last_status = 200 WHERE id = %Q; "
	    "UPDATE jobs SET state = 'running', attempts = 1 WHERE id = %Q; "
	    "UPDATE jobs SET state = 'dead', attempts = 8, last_status = 500, "
	    "last_error = 'HTTP 500' WHERE id = %Q;", var_get("j1"),
	    var_get("j2"), var_get("j3"));
	TAP_SETUP(q != NULL && sqlite3_exec(h, q, NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_free(q);
	sqlite3_close(h);
}

/* Org B makes RS_STORE_WEBHOOKS_MAX (16) endpoints. One check. */
static void
webhooks_fill_orgb(struct rs_app *app)
{
	char		 auth[TPLSZ];
	struct answer	 a;
	int		 i, ok = 1;

	expand(ORGB, auth, sizeof(auth));
	for (i = 0; i < 16; i++) {
		call(app, "POST", "/v1/webhooks", auth, NULL, NULL,
		    "{\"url\":\"https://8.8.4.4/\",\"events\":[\"*\"]}", &a);
		ok &= a.status == 201;
		answer_free(&a);
	}
	TAP_OK(ok, "POST /v1/webhooks: org B makes 16 endpoints");
}

/* ---- the audit log: one entry per write -------------------------------- */

/*
 * A write and the one audit entry it must append (action NULL: none, as
 * for a refused, declined or replayed write). target, actor, org, ip and
 * detail are templates; target NULL is SQL NULL; detail "~text" means
 * containing, else the canonical JSON exactly (NULL: not checked); ip
 * NULL is 127.0.0.1, the default REMOTE_ADDR.
 */
struct astep {
	int		 line;
	const char	*label;
	const char	*method;
	const char	*uri;
	const char	*auth;
	const char	*hdrs;
	const char	*body;
	int		 status;
	const char	*save;
	const char	*action;
	const char	*target;
	const char	*actor;
	const char	*detail;
	const char	*ip;
};

#define AUD_ORG		"${orga}"
#define AUD_REC		"{\"title\":\"audited\",\"type\":\"note\"," \
			"\"data\":{\"pin\":\"payload-value-zz\"}}"
#define AUD_POL		"{\"name\":\"audit_p\",\"when\":\"size>1\"," \
			"\"then\":\"queue=a\"}"
#define AUD_HOOK	"{\"url\":\"https://8.8.4.4/\"," \
			"\"events\":[\"record.created\"]}"

static const struct astep audit_steps[] = {
	{ __LINE__, "who the admin is: a read", "GET", "/v1/me", ADM, NULL,
	    NULL, 200, "uadm=user_id,kadmid=key_id", NULL, NULL, NULL, NULL,
	    NULL },
	{ __LINE__, "a token", "POST", "/v1/auth/token", NULL,
	    "$REMOTE_ADDR: 198.51.100.7", "{\"api_key\":\"${kadm}\"}", 200,
	    "atok=access_token", "token.issue", "${kadmid}", "${uadm}",
	    "{\"key_id\":\"${kadmid}\"}", "198.51.100.7" },
	{ __LINE__, "a wrong key", "POST", "/v1/auth/token", NULL,
	    "$REMOTE_ADDR: 198.51.100.8", "{\"api_key\":\"" WRONG("zq") "\"}",
	    401, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "a record", "POST", "/v1/records", ADM, NULL, AUD_REC,
	    201, "ra=id,rc1=causal", "record.create", "${ra}", "${uadm}",
	    "{\"fields\":[\"title\",\"type\",\"data\"],\"version\":1}", NULL },
	{ __LINE__, "a bad record", "POST", "/v1/records", ADM, NULL,
	    "{\"title\":\"\"}", 400, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "a patch", "PATCH", "/v1/records/${ra}", ADM, NULL,
	    "{\"causal\":\"${rc1}\",\"status\":\"synced\"}", 200, "rc2=causal",
	    "record.update", "${ra}", "${uadm}",
	    "{\"fields\":[\"status\"],\"version\":2}", NULL },
	{ __LINE__, "a stale patch", "PATCH", "/v1/records/${ra}", ADM, NULL,
	    "{\"causal\":\"${rc1}\",\"title\":\"x\"}", 409, "cf1=conflict_id",
	    "record.conflict", "${ra}", "${uadm}",
	    "{\"causal_current\":\"${rc2}\",\"causal_sent\":\"${rc1}\","
	    "\"conflict_id\":\"${cf1}\"}", NULL },
	{ __LINE__, "a conflict resolved", "POST",
	    "/v1/conflicts/${cf1}/resolve", ADM, NULL,
	    "{\"take\":\"attempted\"}", 200, NULL, "conflict.resolve",
	    "${cf1}", "${uadm}", "{\"record_id\":\"${ra}\",\"take\":"
	    "\"attempted\",\"version\":3}", NULL },
	{ __LINE__, "the conflict resolved again", "POST",
	    "/v1/conflicts/${cf1}/resolve", ADM, NULL,
	    "{\"take\":\"current\"}", 409, NULL, NULL, NULL, NULL, NULL,
	    NULL },
	{ __LINE__, "a patch of no record", "PATCH",
	    "/v1/records/" UNKNOWN_REC, ADM, NULL,
	    "{\"causal\":\"" ZERO_ULID "\",\"title\":\"x\"}", 404, NULL, NULL,
	    NULL, NULL, NULL, NULL },
	{ __LINE__, "a record with a key", "POST", "/v1/records", ADM,
	    "Idempotency-Key: aud-1", "{\"title\":\"idem\",\"type\":\"note\"}",
	    201, "rb=id", "record.create", "${rb}", "${uadm}",
	    "{\"fields\":[\"title\",\"type\"],\"version\":1}", NULL },
	{ __LINE__, "the same again: replayed", "POST", "/v1/records", ADM,
	    "Idempotency-Key: aud-1", "{\"title\":\"idem\",\"type\":\"note\"}",
	    201, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "a delete", "DELETE", "/v1/records/${ra}", ADM, NULL, NULL,
	    200, NULL, "record.delete", "${ra}", "${uadm}",
	    "{\"version\":4}", NULL },
	{ __LINE__, "the delete again: its tombstone", "DELETE",
	    "/v1/records/${ra}", ADM, NULL, NULL, 200, NULL, NULL, NULL, NULL,
	    NULL, NULL },
	{ __LINE__, "a policy", "POST", "/v1/policies", ADM, NULL, AUD_POL,
	    201, "pa=id", "policy.put", "${pa}", "${uadm}",
	    "{\"name\":\"audit_p\"}", NULL },
	{ __LINE__, "a bad policy", "POST", "/v1/policies", ADM, NULL,
	    "{\"name\":\"audit_q\",\"when\":\"size>\",\"then\":\"queue=a\"}",
	    400, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "the policy deleted", "DELETE", "/v1/policies/audit_p",
	    ADM, NULL, NULL, 204, NULL, "policy.delete", "${pa}", "${uadm}",
	    "{\"name\":\"audit_p\"}", NULL },
	{ __LINE__, "deleted again", "DELETE", "/v1/policies/audit_p", ADM,
	    NULL, NULL, 404, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "an invite", "POST", "/v1/users/invite", ADM, NULL,
	    "{\"email\":\"audit@example.com\",\"role\":\"viewer\"}", 201,
	    "uaud=user.id,iaud=invite_token", "user.invite", "${uaud}",
	    "${uadm}", "{\"email\":\"audit@example.com\",\"role\":\"viewer\"}",
	    NULL },
	{ __LINE__, "the invite again", "POST", "/v1/users/invite", ADM, NULL,
	    "{\"email\":\"audit@example.com\",\"role\":\"viewer\"}", 409, NULL,
	    NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "accepted: by the invitee", "POST", "/v1/users/accept",
	    NULL, NULL, "{\"invite_token\":\"${iaud}\"}", 201, "kaud=api_key",
	    "user.accept", "${uaud}", "${uaud}", "~{\"key_id\":\"key_",
	    NULL },
	{ __LINE__, "accepted again", "POST", "/v1/users/accept", NULL, NULL,
	    "{\"invite_token\":\"${iaud}\"}", 410, NULL, NULL, NULL, NULL, NULL,
	    NULL },
	{ __LINE__, "a role changed", "PATCH", "/v1/users/${uaud}", ADM, NULL,
	    "{\"role\":\"operator\"}", 200, NULL, "user.update", "${uaud}",
	    "${uadm}", "{\"role\":\"operator\"}", NULL },
	{ __LINE__, "no such user", "PATCH",
	    "/v1/users/usr_00000000000000000000000000", ADM, NULL,
	    "{\"role\":\"operator\"}", 404, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "an endpoint", "POST", "/v1/webhooks", ADM, NULL, AUD_HOOK,
	    201, "wa=id,wsa=secret", "webhook.create", "${wa}", "${uadm}",
	    "{\"events\":[\"record.created\"],\"url\":\"https://8.8.4.4/\"}",
	    NULL },
	{ __LINE__, "a bad endpoint", "POST", "/v1/webhooks", ADM, NULL,
	    "{\"url\":\"ftp://8.8.4.4/\",\"events\":[\"*\"]}", 400, NULL, NULL,
	    NULL, NULL, NULL, NULL },
	{ __LINE__, "a record for it", "POST", "/v1/records", ADM, NULL,
	    "{\"title\":\"hooked\",\"type\":\"note\"}", 201, "rh=id",
	    "record.create", "${rh}", "${uadm}", NULL, NULL },
	{ __LINE__, "replayed to it", "POST", "/v1/webhooks/${wa}/replay", ADM,
	    NULL, "{\"since\":\"2020-01-01T00:00:00.000Z\"}", 202, NULL,
	    "webhook.replay", "${wa}", "${uadm}",
	    "~\"since\":\"2020-01-01T00:00:00.000Z\"", NULL },
	{ __LINE__, "changed", "PATCH", "/v1/webhooks/${wa}", ADM, NULL,
	    "{\"description\":\"audited\",\"events\":[\"record.created\","
	    "\"record.updated\"]}", 200, NULL, "webhook.update", "${wa}",
	    "${uadm}", "{\"fields\":[\"description\",\"events\"]}", NULL },
	{ __LINE__, "a new secret", "POST", "/v1/webhooks/${wa}/rotate-secret",
	    ADM, NULL, NULL, 200, "wsb=secret", "webhook.rotate_secret",
	    "${wa}", "${uadm}", "{}", NULL },
};

static const struct astep audit_steps2[] = {
	{ __LINE__, "a job retried", "POST", "/v1/sync/retry/${jaud}", ADM,
	    NULL, NULL, 202, NULL, "job.retry", "${jaud}", "${uadm}",
	    "{\"job_state_before\":\"pending\"}", NULL },
	{ __LINE__, "no such job", "POST",
	    "/v1/sync/retry/job_00000000000000000000000000", ADM, NULL, NULL,
	    404, NULL, NULL, NULL, NULL, NULL, NULL },
	{ __LINE__, "the endpoint deleted", "DELETE", "/v1/webhooks/${wa}",
	    ADM, NULL, NULL, 204, NULL, "webhook.delete", "${wa}", "${uadm}",
	    "{\"url\":\"https://8.8.4.4/\"}", NULL },
	{ __LINE__, "deleted again", "DELETE", "/v1/webhooks/${wa}", ADM,
	    NULL, NULL, 404, NULL, NULL, NULL, NULL, NULL, NULL },
};

/* An audit row as read back. */
struct arow {
	char	 org[64], actor_type[16], actor_id[64], action[64];
	char	 target[64], request_id[64], ip[64], detail[1024];
	int	 has_target, has_request_id, has_ip;
};

/* The last seq seen of each org: later entries are new. */
static struct {
	char		 org[64];
	sqlite3_int64	 seq;
}		 audit_last[16];
static size_t	 naudit_last;

static void
audit_col(sqlite3_stmt *st, int i, char *buf, size_t bufsz, int *has)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	if (has != NULL)
		*has = t != NULL;
	snprintf(buf, bufsz, "%s", t ? (const char *)t : "");
}

/*
 * The entries appended since the last call (every org): how many, the
 * last one in *r (when r is not NULL).
 */
static int
audit_new(const char *dbpath, struct arow *r)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	sqlite3_int64	 seq;
	const char	*org;
	size_t		 i;
	int		 n = 0;

	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_prepare_v2(h, "SELECT seq, org_id, actor_type, "
	    "actor_id, action, target, request_id, ip, detail FROM audit "
	    "ORDER BY seq", -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		org = (const char *)sqlite3_column_text(st, 1);
		for (i = 0; i < naudit_last; i++)
			if (strcmp(audit_last[i].org, org) == 0)
				break;
		if (i == naudit_last) {
			TAP_SETUP(naudit_last < NELEM(audit_last));
			snprintf(audit_last[i].org, sizeof(audit_last[i].org),
			    "%s", org);
			audit_last[naudit_last++].seq = 0;
		}
		if (seq <= audit_last[i].seq)
			continue;
		audit_last[i].seq = seq;
		n++;
		if (r == NULL)
			continue;
		audit_col(st, 1, r->org, sizeof(r->org), NULL);
		audit_col(st, 2, r->actor_type, sizeof(r->actor_type), NULL);
		audit_col(st, 3, r->actor_id, sizeof(r->actor_id), NULL);
		audit_col(st, 4, r->action, sizeof(r->action), NULL);
		audit_col(st, 5, r->target, sizeof(r->target),
		    &r->has_target);
		audit_col(st, 6, r->request_id, sizeof(r->request_id),
		    &r->has_request_id);
		audit_col(st, 7, r->ip, sizeof(r->ip), &r->has_ip);
		audit_col(st, 8, r->detail, sizeof(r->detail), NULL);
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* Whether got (has: not NULL) is want (NULL: SQL NULL); names it if not. */
static int
audit_is(const char *field, const char *got, int has, const char *want)
{
	char	 buf[TPLSZ];

	if (want == NULL && !has)
		return 1;
	if (want != NULL && has) {
		expand(want, buf, sizeof(buf));
		if (want[0] == '~' ? strstr(got, buf + 1) != NULL :
		    strcmp(got, buf) == 0)
			return 1;
	} else
		buf[0] = '\0';
	tap_diag("    %s: got %s, want %s", field, has ? got : "NULL",
	    want ? buf : "NULL");
	return 0;
}

/*
 * One entry was appended (two checks: how many, and its fields), or
 * none (one check), as a (with the want_* facts) says.
 */
static void
audit_expect(const char *dbpath, const char *name, int line,
    const char *action, const char *org, const char *actor_type,
    const char *actor, const char *target, const char *request_id,
    const char *ip, const char *detail)
{
	struct arow	 r;
	char		 full[320];
	int		 n, ok;

	memset(&r, 0, sizeof(r));
	n = audit_new(dbpath, &r);
	snprintf(full, sizeof(full), "%s: %s", name, action ? action :
	    "no audit entry");
	tap_is_int(n, action ? 1 : 0, full, __FILE__, line, "entries");
	if (action == NULL)
		return;
	snprintf(full, sizeof(full), "%s: the entry's facts", name);
	ok = audit_is("action", r.action, 1, action);
	ok &= audit_is("org_id", r.org, 1, org);
	ok &= audit_is("actor_type", r.actor_type, 1, actor_type);
	ok &= audit_is("actor_id", r.actor_id, 1, actor);
	ok &= audit_is("target", r.target, r.has_target, target);
	ok &= audit_is("request_id", r.request_id, r.has_request_id,
	    request_id);
	ok &= audit_is("ip", r.ip, r.has_ip, ip);
	if (detail != NULL)
		ok &= audit_is("detail", r.detail, 1, detail);
	tap_result(ok, full, __FILE__, line, "entry");
}

static int
audit_steps_checks(const struct astep *s, size_t n)
{
	size_t	 i;
	int	 sum = 0;

	for (i = 0; i < n; i++)
		sum += 1 + (s[i].action ? 2 : 1);
	return sum;
}

static void
audit_run(struct rs_app *app, const char *dbpath, const struct astep *s,
    size_t n)
{
	static char	 uri[TPLSZ], auth[TPLSZ], hdrs[TPLSZ], body[TPLSZ];
	char		 name[256], full[320];
	const char	*rid;
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < n; i++, s++) {
		expand(s->uri, uri, sizeof(uri));
		if (s->auth != NULL)
			expand(s->auth, auth, sizeof(auth));
		if (s->hdrs != NULL)
			expand(s->hdrs, hdrs, sizeof(hdrs));
		if (s->body != NULL)
			expand(s->body, body, sizeof(body));
		snprintf(name, sizeof(name), "audit: %s %s, %s", s->method,
		    s->uri, s->label);
		call(app, s->method, uri, s->auth ? auth : NULL,
		    s->hdrs ? hdrs : NULL, NULL, s->body ? body : NULL, &a);
		answer_save(&a, s->save, s->line);
		snprintf(full, sizeof(full), "%s: status %d", name, s->status);
		if (!tap_is_int(a.status, s->status, full, __FILE__, s->line,
		    "status") && a.body != NULL)
			tap_diag("    answer: %.400s", a.body);
		rid = answer_header(&a, "X-Request-Id");
		var_set("arid", rid ? rid : "(none)");
		audit_expect(dbpath, name, s->line, s->action, AUD_ORG, "user",
		    s->actor, s->target, "${arid}", s->ip ? s->ip :
		    "127.0.0.1", s->detail);
		answer_free(&a);
	}
}

/* ${jaud}: a pending job of endpoint ${wa}, as its replay queued it. */
static void
audit_job(const char *dbpath)
{
	sqlite3		*h;
	sqlite3_stmt	*st;

	TAP_SETUP(var_get("wa") != NULL);
	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_prepare_v2(h, "SELECT j.id FROM jobs j JOIN webhooks "
	    "w ON w.seq = j.webhook_seq WHERE w.id = ?1 AND "
	    "j.state = 'pending' ORDER BY j.seq LIMIT 1", -1, &st, NULL) ==
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, var_get("wa"), -1, SQLITE_STATIC);
	TAP_SETUP(sqlite3_step(st) == SQLITE_ROW);
	var_set("jaud", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

#define AUDIT_CLI_CHECKS	13

/*
 * The CLI's writes (org create, key create, key revoke) have their
 * entries, by the system actor, with no request id nor address; its
 * refused and idempotent ones none. AUDIT_CLI_CHECKS checks.
 */
static void
audit_cli(const char *dbpath, const char *secret)
{
	unsigned char	 master[RS_SECRET_BYTES], sub[RS_SECRET_BYTES];
	char		 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1];
	char		 key_id[RS_ID_MAX];
	struct rs_db	*db;

	TAP_SETUP(rs_secret_load(secret, master) == RS_OK);
	rs_secret_derive(master, RS_SECRET_APIKEY, sub);
	sodium_memzero(master, sizeof(master));
	TAP_SETUP(rs_db_open(dbpath, 0, 0, &db) == RS_OK);

	TAP_SETUP(rs_admin_org_create(db, "Audited", 120, org) == RS_OK);
	var_set("orgc", org);
	audit_expect(dbpath, "audit: org create", __LINE__, "org.create",
	    "${orgc}", "system", "relaysync-admin", "${orgc}", NULL, NULL,
	    "{\"name\":\"Audited\"}");
	TAP_SETUP(rs_admin_key_create(db, sub, org, "cli@example.com",
	    RS_ROLE_ADMIN, key, key_id) == RS_OK);
	var_set("kcli", key);
	var_set("kcliid", key_id);
	sodium_memzero(key, sizeof(key));
	audit_expect(dbpath, "audit: key create", __LINE__, "key.create",
	    "${orgc}", "system", "relaysync-admin", "${kcliid}", NULL, NULL,
	    "{\"email\":\"cli@example.com\",\"role\":\"admin\"}");
	TAP_OK(rs_admin_key_create(db, sub, "org_00000000000000000000000000",
	    "cli@example.com", RS_ROLE_ADMIN, key, key_id) ==
	    RS_ERR_NOTFOUND, "audit: key create for no org: refused");
	audit_expect(dbpath, "audit: key create for no org", __LINE__, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	TAP_OK(rs_admin_key_revoke(db, var_get("kcliid")) == RS_OK,
	    "audit: key revoke");
	audit_expect(dbpath, "audit: key revoke", __LINE__, "key.revoke",
	    "${orgc}", "system", "relaysync-admin", "${kcliid}", NULL, NULL,
	    "{}");
	TAP_OK(rs_admin_key_revoke(db, var_get("kcliid")) == RS_OK,
	    "audit: key revoke again: idempotent");
	audit_expect(dbpath, "audit: key revoke again", __LINE__, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL);
	TAP_OK(rs_admin_key_revoke(db, "key_00000000000000000000000000") ==
	    RS_ERR_NOTFOUND, "audit: key revoke of no key");
	audit_expect(dbpath, "audit: key revoke of no key", __LINE__, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	sodium_memzero(sub, sizeof(sub));
	rs_db_close(db);
}

/*
 * No entry's detail, target or actor holds a secret: a webhook secret,
 * an API key, an invite token, an access token, or a record's payload.
 * One check.
 */
static void
audit_no_secret(const char *dbpath)
{
	static const char *const vars_secret[] = {
		"adm", "opr", "atok", "kadm", "kaud", "kcli", "wsa", "wsb",
		"iaud", NULL,
	};
	sqlite3		*h;
	sqlite3_stmt	*st;
	const char	*v, *d;
	size_t		 i;
	int		 rows = 0, bad = 0, leak;

	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_prepare_v2(h, "SELECT seq, coalesce(target, '') || "
	    "' ' || actor_id || ' ' || detail FROM audit", -1, &st, NULL) ==
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		d = (const char *)sqlite3_column_text(st, 1);
		leak = strstr(d, "whsec_") || strstr(d, "rs_live_") ||
		    strstr(d, "rsi_") || strstr(d, "payload-value-zz");
		for (i = 0; vars_secret[i] != NULL; i++)
			if ((v = var_get(vars_secret[i])) != NULL &&
			    strlen(v) > 8 && strstr(d, v) != NULL)
				leak = 1;
		if (leak && bad++ == 0)
			tap_diag("    entry %lld: %.300s", (long long)
			    sqlite3_column_int64(st, 0), d);
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	TAP_OK(rows > 0 && bad == 0, "audit: no entry holds a secret, key, "
	    "token or payload value");
}

#define AUDIT_CHECKS	(audit_steps_checks(audit_steps, \
	NELEM(audit_steps)) + audit_steps_checks(audit_steps2, \
	NELEM(audit_steps2)) + AUDIT_CLI_CHECKS + 1)

/* Every kind of write, and what the audit table holds after each. */
static void
audit_checks(struct rs_app *app, const char *dbpath, const char *secret)
{
	audit_new(dbpath, NULL);	/* what came before is not counted */
	audit_run(app, dbpath, audit_steps, NELEM(audit_steps));
	audit_job(dbpath);
	audit_run(app, dbpath, audit_steps2, NELEM(audit_steps2));
	audit_cli(dbpath, secret);
	audit_no_secret(dbpath);
}

/*
 * What a process keeps between requests (the schema check, a key's
 * holder) and the pool's generation word (shm.h, whocache.h): a change
 * made by hand is seen within RS_SHARED_TTL_MS, one announced by a step
 * of the word at once; a refusal is never kept.
 */
#define ME_AS(label, role) \
	{ __LINE__, label, "GET", "/v1/me", VWR, NULL, NULL, NULL, \
	    200, NULL, { NULL }, { "role=" role }, NULL }
#define HEALTH(label, status, code) \
	{ __LINE__, label, "GET", "/v1/health", NULL, NULL, NULL, NULL, \
	    status, code, { NULL }, { NULL }, NULL }
static const struct tcase shared_warm_cases[] = {
	HEALTH("kept: the schema is read", 200, NULL),
	ME_AS("kept: the viewer's holder is read", "viewer"),
};
static const struct tcase shared_kept_cases[] = {
	HEALTH("kept: a schema changed by hand is not read again at once",
	    200, NULL),
	ME_AS("kept: nor a role changed by hand", "viewer"),
};
static const struct tcase shared_told_cases[] = {
	HEALTH("told: a step of the word and the new schema is read: 503",
	    503, "service_unavailable"),
	{ __LINE__, "told: every request is refused", "GET", "/v1/me", VWR,
	    NULL, NULL, NULL, 503, "service_unavailable", { NULL }, { NULL },
	    NULL },
};
static const struct tcase shared_back_cases[] = {
	HEALTH("told: the schema put back by hand serves again at once: a "
	    "refusal is not kept", 200, NULL),
	ME_AS("told: and the role read after the step is the new one",
	    "admin"),
};
static const struct tcase shared_aged_cases[] = {
	HEALTH("aged: a schema changed by hand is read after its time", 503,
	    "service_unavailable"),
};
static const struct tcase shared_done_cases[] = {
	HEALTH("aged: and back", 200, NULL),
	ME_AS("aged: a role changed by hand is read after its time", "viewer"),
};

/* Runs sql on the database by hand (no step of the word). */
static void
shared_by_hand(const char *dbpath, const char *sql)
{
	sqlite3	*h;

	TAP_SETUP(sqlite3_open(dbpath, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
}

/* Steps the pool's word, as relaysync-admin does after a change. */
static void
shared_step(const char *dbpath)
{
	struct rs_ratelimit	*rl;
	char			 path[256];

	TAP_SETUP(rs_ratelimit_path(path, sizeof(path), dbpath) == RS_OK);
	TAP_SETUP(rs_ratelimit_attach(path, &rl) == RS_OK);
	rs_ratelimit_gen_bump(rl);
	rs_ratelimit_close(rl);
}

static void
shared_checks(struct rs_app *app, const char *dbpath)
{
	char	 sql[128];

	run_table(app, shared_warm_cases, NELEM(shared_warm_cases));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    rs_migrate_latest() + 1);
	shared_by_hand(dbpath, sql);
	shared_by_hand(dbpath, "UPDATE users SET role = 'admin' "
	    "WHERE email = 'viewer@example.com'");
	run_table(app, shared_kept_cases, NELEM(shared_kept_cases));
	shared_step(dbpath);
	run_table(app, shared_told_cases, NELEM(shared_told_cases));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    rs_migrate_latest());
	shared_by_hand(dbpath, sql);
	run_table(app, shared_back_cases, NELEM(shared_back_cases));
	shared_by_hand(dbpath, "UPDATE users SET role = 'viewer' "
	    "WHERE email = 'viewer@example.com'");
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    rs_migrate_latest() + 1);
	shared_by_hand(dbpath, sql);
	usleep((RS_SHARED_TTL_MS + 100) * 1000);
	run_table(app, shared_aged_cases, NELEM(shared_aged_cases));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    rs_migrate_latest());
	shared_by_hand(dbpath, sql);
	run_table(app, shared_done_cases, NELEM(shared_done_cases));
}

int
main(void)
{
	char		 dir[64], secret[128], dbpath[128], missing[128];
	char		 orga[RS_ID_MAX], orgb[RS_ID_MAX], orgslow[RS_ID_MAX];
	unsigned char	 master[RS_SECRET_BYTES], sub[RS_SECRET_BYTES];
	struct rs_app	 app, broken;
	struct rs_db	*db;
	int		 ndb = 0;

	tap_plan(table_checks(ops_cases, NELEM(ops_cases)) +
	    table_checks(records_cases, NELEM(records_cases)) +
	    table_checks(conflicts_cases, NELEM(conflicts_cases)) +
	    table_checks(users_cases, NELEM(users_cases)) +
	    table_checks(policies_cases, NELEM(policies_cases)) +
	    table_checks(webhooks_cases, NELEM(webhooks_cases)) + 1 +
	    table_checks(webhooks_kept_cases, NELEM(webhooks_kept_cases)) + 2 +
	    table_checks(queue_cases, NELEM(queue_cases)) + 1 +
	    table_checks(queue_state_cases, NELEM(queue_state_cases)) +
	    table_checks(throttle_cases, NELEM(throttle_cases)) +
	    table_checks(broken_cases, NELEM(broken_cases)) +
	    AUDIT_CHECKS +
	    table_checks(stream_cases, NELEM(stream_cases)) + STREAM_CHECKS +
	    table_checks(limit_cases, NELEM(limit_cases)) +
	    table_checks(limit_changed_cases, NELEM(limit_changed_cases)) +
	    table_checks(mount_cases, NELEM(mount_cases)) +
	    table_checks(batch_cases, NELEM(batch_cases)) +
	    table_checks(stored_before_cases, NELEM(stored_before_cases)) +
	    table_checks(stored_after_cases, NELEM(stored_after_cases)) +
	    table_checks(shared_warm_cases, NELEM(shared_warm_cases)) +
	    table_checks(shared_kept_cases, NELEM(shared_kept_cases)) +
	    table_checks(shared_told_cases, NELEM(shared_told_cases)) +
	    table_checks(shared_back_cases, NELEM(shared_back_cases)) +
	    table_checks(shared_aged_cases, NELEM(shared_aged_cases)) +
	    table_checks(shared_done_cases, NELEM(shared_done_cases)));

	fixture_start(dir, sizeof(dir), "test-app");
	snprintf(secret, sizeof(secret), "%s/secret.key", dir);
	snprintf(missing, sizeof(missing), "%s/missing.key", dir);
	TAP_SETUP(rs_secret_create(secret) == RS_OK);
	TAP_SETUP(rs_secret_load(secret, master) == RS_OK);
	rs_secret_derive(master, RS_SECRET_APIKEY, sub);
	sodium_memzero(master, sizeof(master));

	/* Org A with an admin, an operator and a viewer; org B, an admin. */
	db = fixture_db_open(dir, &ndb, 1);
	fixture_db_path(dbpath, sizeof(dbpath), dir, ndb, "");
	/* Limits these tables never reach; one org limited to 2/s. */
	TAP_SETUP(rs_admin_org_create(db, "Acme", RS_RATE_LIMIT_MAX, orga) ==
	    RS_OK);
	TAP_SETUP(rs_admin_org_create(db, "Other", RS_RATE_LIMIT_MAX, orgb) ==
	    RS_OK);
	TAP_SETUP(rs_admin_org_create(db, "Slow", 2, orgslow) == RS_OK);
	var_set("orga", orga);
	var_set("orgbid", orgb);
	make_key(db, sub, orga, "admin@example.com", RS_ROLE_ADMIN, "kadm");
	make_key(db, sub, orga, "operator@example.com", RS_ROLE_OPERATOR,
	    "kopr");
	make_key(db, sub, orga, "viewer@example.com", RS_ROLE_VIEWER, "kvwr");
	make_key(db, sub, orgb, "admin@other.example.com", RS_ROLE_ADMIN,
	    "korgb");
	make_key(db, sub, orgslow, "admin@slow.example.com", RS_ROLE_ADMIN,
	    "kslow");
	sodium_memzero(sub, sizeof(sub));
	rs_db_close(db);

	/* The process environment, as FcgidInitialEnv would set it. */
	TAP_SETUP(setenv("RELAYSYNC_DB", dbpath, 1) == 0);
	TAP_SETUP(setenv("RELAYSYNC_SECRET_FILE", secret, 1) == 0);
	TAP_SETUP(setenv("RELAYSYNC_TOKEN_TTL", "900", 1) == 0);
	TAP_SETUP(unsetenv("RELAYSYNC_MAX_REQUESTS") == 0);
	TAP_SETUP(unsetenv("RELAYSYNC_TOMBSTONE_DAYS") == 0);
	TAP_SETUP(unsetenv("RELAYSYNC_HISTORY_DAYS") == 0);
	TAP_SETUP(unsetenv("RELAYSYNC_SYNCHRONOUS") == 0);
	TAP_SETUP(unsetenv("RELAYSYNC_WEBHOOK_ALLOW_PRIVATE") == 0);
	TAP_SETUP(setenv("RELAYSYNC_TRUSTED_PROXIES", "192.0.2.200", 1) == 0);
	rs_app_open(&app);
	TAP_SETUP(app.state == RS_OK);

	run_table(&app, ops_cases, NELEM(ops_cases));
	run_table(&app, records_cases, NELEM(records_cases));
	run_table(&app, conflicts_cases, NELEM(conflicts_cases));
	run_table(&app, users_cases, NELEM(users_cases));
	run_table(&app, policies_cases, NELEM(policies_cases));
	run_table(&app, webhooks_cases, NELEM(webhooks_cases));
	run_table(&app, webhooks_kept_cases, NELEM(webhooks_kept_cases));
	webhooks_secret_not_kept(dbpath);
	webhook_delete(&app);
	run_table(&app, queue_cases, NELEM(queue_cases));
	jobs_set(dbpath);
	webhooks_fill_orgb(&app);
	run_table(&app, queue_state_cases, NELEM(queue_state_cases));
	run_table(&app, throttle_cases, NELEM(throttle_cases));
	audit_checks(&app, dbpath, secret);
	run_table(&app, stream_cases, NELEM(stream_cases));
	stream_checks(&app, dbpath);
	run_table(&app, limit_cases, NELEM(limit_cases));
	TAP_SETUP(rs_admin_org_set_rate(app.db, orgslow, 50) == RS_OK);
	run_table(&app, limit_changed_cases, NELEM(limit_changed_cases));
	run_table(&app, mount_cases, NELEM(mount_cases));
	run_table(&app, batch_cases, NELEM(batch_cases));
	run_table(&app, stored_before_cases, NELEM(stored_before_cases));
	stored_forget(dbpath);
	run_table(&app, stored_after_cases, NELEM(stored_after_cases));
	shared_checks(&app, dbpath);

	/* A second process whose secret is missing answers 503. */
	TAP_SETUP(setenv("RELAYSYNC_SECRET_FILE", missing, 1) == 0);
	rs_app_open(&broken);
	TAP_SETUP(broken.state != RS_OK);
	run_table(&broken, broken_cases, NELEM(broken_cases));
	rs_app_close(&broken);

	rs_app_close(&app);
	var_free();
	unlink(secret);
	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
