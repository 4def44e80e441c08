/*
 * test-router: the route table and matching (lib/router.h).
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "role.h"
#include "router.h"
#include "tap.h"

static struct rs_arena	 arena;

static struct rs_req	 last;	/* the request match() made */

/*
 * Matches method and path (a REQUEST_URI, parsed as a request would be);
 * route and allow are written back.
 */
static enum rs_match
match(enum rs_method m, const char *path, const struct rs_route **route,
    char *allow, size_t allowsz)
{
	struct rs_http_fail	 fail;
	char			 meth[64], uri[256];
	char			*envp[] = { meth, uri, NULL };

	snprintf(meth, sizeof(meth), "REQUEST_METHOD=%s",
	    rs_http_method_name(m));
	snprintf(uri, sizeof(uri), "REQUEST_URI=%s", path);
	TAP_SETUP(rs_http_parse(&last, &arena, envp, &fail) == 0);
	return rs_router_match(&last, route, allow, allowsz);
}

static void
test_router_health(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	TAP_IS_INT(match(RS_METHOD_GET, "/v1/health", &r, allow,
	    sizeof(allow)), RS_MATCH_OK, "router: GET /v1/health matches");
	TAP_OK(r != NULL && strcmp(r->pattern, "/v1/health") == 0 &&
	    r->method == RS_METHOD_GET,
	    "router: GET /v1/health gives its row");
}

static void
test_router_bad_method(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	TAP_IS_INT(match(RS_METHOD_POST, "/v1/me", &r, allow, sizeof(allow)),
	    RS_MATCH_BAD_METHOD, "router: POST /v1/me is a bad method");
	TAP_IS_STR(allow, "GET, HEAD",
	    "router: POST /v1/me allows GET and HEAD");
	TAP_OK(r == NULL, "router: bad method gives no route");
}

static void
test_router_unknown_method(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	TAP_IS_INT(match(RS_METHOD__MAX, "/v1/health", &r, allow,
	    sizeof(allow)), RS_MATCH_BAD_METHOD,
	    "router: unknown method on a known path is a bad method");
}

static void
test_router_not_found(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	TAP_IS_INT(match(RS_METHOD_GET, "/v1/nope", &r, allow,
	    sizeof(allow)), RS_MATCH_NOT_FOUND, "router: /v1/nope not found");
	TAP_IS_STR(allow, "", "router: not found leaves allow empty");
}

static void
test_router_near_misses(void)
{
	static const struct {
		int		 line;
		const char	*path;
		const char	*name;
	} t[] = {
		{ __LINE__, "/v1/health/",
		    "router: /v1/health/ (trailing slash) not found" },
		{ __LINE__, "/v2/health", "router: /v2/health not found" },
		{ __LINE__, "/v1/heal",
		    "router: a prefix of a segment does not match" },
		{ __LINE__, "/v1/healthz",
		    "router: a longer segment does not match" },
		{ __LINE__, "/v1", "router: /v1 alone not found" },
		{ __LINE__, "/v1%2Fhealth",
		    "router: %2F does not separate segments" },
		{ __LINE__, "/v1/records%2Frec_00000000000000000000000000",
		    "router: /v1/records%2F<id> not found" },
		{ __LINE__, "/v1/a/b/c/d/e/f/g/h/i",
		    "router: more segments than any route" },
	};
	const struct rs_route	*r;
	char			 allow[64];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!TAP_IS_INT(match(RS_METHOD_GET, t[i].path, &r, allow,
		    sizeof(allow)), RS_MATCH_NOT_FOUND, t[i].name))
			tap_diag("near miss at line %d", t[i].line);
}

static void
test_router_decoded_segments(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	TAP_IS_INT(match(RS_METHOD_GET, "/v1/%68ealth", &r, allow,
	    sizeof(allow)), RS_MATCH_OK,
	    "router: an escaped letter matches the literal segment");
	TAP_IS_INT(match(RS_METHOD_GET, "/v1/records/rec%2F1", &r, allow,
	    sizeof(allow)), RS_MATCH_OK,
	    "router: %2F inside a parameter segment matches :id");
	TAP_IS_STR(last.nparams == 1 ? last.params[0] : NULL, "rec/1",
	    "router: ... and the parameter holds the decoded '/'");
}

static void
test_router_head(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	if (!TAP_IS_INT(match(RS_METHOD_HEAD, "/v1/records/rec_1", &r, allow,
	    sizeof(allow)), RS_MATCH_OK,
	    "router: HEAD matches a GET route"))
		return;
	TAP_OK(r != NULL && r->method == RS_METHOD_GET &&
	    strcmp(r->pattern, "/v1/records/:id") == 0,
	    "router: HEAD gives the GET row");
	TAP_IS_STR(last.nparams == 1 ? last.params[0] : NULL, "rec_1",
	    "router: HEAD sets the GET row's parameters");
	TAP_IS_INT(match(RS_METHOD_HEAD, "/v1/auth/token", &r, allow,
	    sizeof(allow)), RS_MATCH_BAD_METHOD,
	    "router: HEAD on a POST-only path is a bad method");
	TAP_IS_STR(allow, "POST", "router: ... Allow lists no HEAD there");
	TAP_IS_INT(match(RS_METHOD_PUT, "/v1/records/rec_1", &r, allow,
	    sizeof(allow)), RS_MATCH_BAD_METHOD,
	    "router: PUT on a record is a bad method");
	TAP_IS_STR(allow, "GET, HEAD, PATCH, DELETE",
	    "router: ... Allow lists HEAD after GET");
	TAP_IS_INT(match(RS_METHOD_DELETE, "/v1/records", &r, allow,
	    sizeof(allow)), RS_MATCH_BAD_METHOD,
	    "router: DELETE on the records is a bad method");
	TAP_IS_STR(allow, "POST, GET, HEAD",
	    "router: ... Allow lists HEAD with GET");
}

static void
test_router_rows_shape(void)
{
	const struct rs_route	*r;
	int			 n = 0, bad = 0;

	for (r = rs_router_table(); r->pattern != NULL; r++, n++)
		if (strncmp(r->pattern, "/v1/", 4) != 0 || r->handler == NULL ||
		    r->method >= RS_METHOD__MAX) {
			tap_diag("bad row: %s", r->pattern);
			bad++;
		}
	TAP_OK(n > 0, "router table: has rows");
	TAP_IS_INT(bad, 0,
	    "router table: every row is /v1/..., has a handler and a method");
}

static void
test_router_rows_unique(void)
{
	const struct rs_route	*r, *s;
	int			 dup = 0;

	for (r = rs_router_table(); r->pattern != NULL; r++)
		for (s = r + 1; s->pattern != NULL; s++)
			if (r->method == s->method &&
			    strcmp(r->pattern, s->pattern) == 0)
				dup++;
	TAP_IS_INT(dup, 0, "router table: no (method, pattern) twice");
}

static void
test_router_public_rows(void)
{
	static const char *const required[] = {
		"/v1/health", "/v1/openapi.json", "/v1/auth/token",
	};
	static const char *const optional = "/v1/users/accept";
	const struct rs_route	*r;
	size_t			 i;
	int			 found, stray = 0;
	char			 name[96];

	for (r = rs_router_table(); r->pattern != NULL; r++) {
		if (r->roles != RS_ROLES_NONE)
			continue;
		for (found = 0, i = 0; i < sizeof(required) /
		    sizeof(required[0]); i++)
			found |= strcmp(r->pattern, required[i]) == 0;
		if (!found && strcmp(r->pattern, optional) != 0) {
			tap_diag("unexpected public row: %s", r->pattern);
			stray++;
		}
	}
	TAP_IS_INT(stray, 0, "router table: no other public rows");
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		found = 0;
		for (r = rs_router_table(); r->pattern != NULL; r++)
			if (strcmp(r->pattern, required[i]) == 0 &&
			    r->roles == RS_ROLES_NONE)
				found = 1;
		snprintf(name, sizeof(name), "router table: %s is public",
		    required[i]);
		TAP_OK(found, name);
	}
}

static void
test_router_me_needs_role(void)
{
	const struct rs_route	*r;
	char			 allow[64];

	if (match(RS_METHOD_GET, "/v1/me", &r, allow, sizeof(allow)) !=
	    RS_MATCH_OK || r == NULL) {
		TAP_OK(0, "router: GET /v1/me matches");
		return;
	}
	TAP_OK((r->roles & RS_ROLES_ANY) == RS_ROLES_ANY,
	    "router: /v1/me admits every role");
}

int
main(void)
{
	tap_plan(36);
	rs_arena_init(&arena);

	test_router_health();
	test_router_bad_method();
	test_router_unknown_method();
	test_router_not_found();
	test_router_near_misses();
	test_router_decoded_segments();
	test_router_head();
	test_router_rows_shape();
	test_router_rows_unique();
	test_router_public_rows();
	test_router_me_needs_role();

	rs_arena_free(&arena);
	return tap_done();
}
