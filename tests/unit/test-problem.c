/*
 * test-problem: RFC 9457 problem details (lib/problem.h).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "problem.h"
#include "resp.h"
#include "tap.h"

/* The string member k of o, or NULL when absent or not a string. */
static const char *
str(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* 1 when a and b are both non-NULL and equal. */
static int
eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* 1 when o has a member named k. */
static int
has(struct json_object *o, const char *k)
{
	return json_object_object_get_ex(o, k, NULL);
}

static void
test_problem_not_found_fields(void)
{
	struct json_object	*p, *st;

	p = rs_problem_new(RS_PROB_NOT_FOUND, "no route for /v1/x",
	    "/v1/x", "req-1");
	if (!TAP_OK(p != NULL, "problem new: not_found created"))
		return;
	TAP_IS_STR(str(p, "type"), "https://relaysync.io/problems/not_found",
	    "problem new: type is base + code");
	TAP_IS_STR(str(p, "title"), "Not found", "problem new: title");
	TAP_OK(json_object_object_get_ex(p, "status", &st) &&
	    json_object_is_type(st, json_type_int) &&
	    json_object_get_int(st) == 404,
	    "problem new: status is the integer 404");
	TAP_IS_STR(str(p, "detail"), "no route for /v1/x",
	    "problem new: detail");
	TAP_IS_STR(str(p, "code"), "not_found", "problem new: code");
	TAP_IS_STR(str(p, "instance"), "/v1/x", "problem new: instance");
	TAP_IS_STR(str(p, "request_id"), "req-1",
	    "problem new: request_id");
	json_object_put(p);
}

static void
test_problem_codes(void)
{
	static const struct {
		int		 line;
		enum rs_problem	 p;
		const char	*code;
		int		 status;
	} t[] = {
		{ __LINE__, RS_PROB_METHOD_NOT_ALLOWED, "method_not_allowed",
		    405 },
		{ __LINE__, RS_PROB_PAYLOAD_TOO_LARGE, "payload_too_large",
		    413 },
		{ __LINE__, RS_PROB_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", 415 },
		{ __LINE__, RS_PROB_INVALID_JSON, "invalid_json", 400 },
		{ __LINE__, RS_PROB_UNAUTHORIZED, "unauthorized", 401 },
		{ __LINE__, RS_PROB_FORBIDDEN, "forbidden", 403 },
		{ __LINE__, RS_PROB_RATE_LIMITED, "rate_limited", 429 },
		{ __LINE__, RS_PROB_UNAVAILABLE, "service_unavailable", 503 },
		{ __LINE__, RS_PROB_REQUEST_TIMEOUT, "request_timeout", 408 },
		{ __LINE__, RS_PROB_LENGTH_REQUIRED, "length_required", 411 },
		{ __LINE__, RS_PROB_URI_TOO_LONG, "uri_too_long", 414 },
		{ __LINE__, RS_PROB_HEADERS_TOO_LARGE,
		    "request_header_fields_too_large", 431 },
		{ __LINE__, RS_PROB_NOT_IMPLEMENTED, "not_implemented", 501 },
	};
	struct json_object	*p, *st;
	char			 type[128], name[96];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = rs_problem_new(t[i].p, NULL, NULL, NULL);
		snprintf(type, sizeof(type), "%s%s", RS_PROBLEM_TYPE_BASE,
		    t[i].code);
		snprintf(name, sizeof(name), "problem new: %s is %d with its "
		    "type", t[i].code, t[i].status);
		if (!TAP_OK(p != NULL && eq(str(p, "code"), t[i].code) &&
		    eq(str(p, "type"), type) &&
		    json_object_object_get_ex(p, "status", &st) &&
		    json_object_get_int(st) == t[i].status &&
		    rs_problem_status(t[i].p) == t[i].status, name))
			tap_diag("problem case at line %d", t[i].line);
		json_object_put(p);
	}
}

/*
 * The problem for a status the web server set: the generic code of that
 * status, else invalid_request (4xx) or internal_error (5xx).
 */
static void
test_problem_for_status(void)
{
	static const struct {
		int		 line;
		int		 status;
		enum rs_problem	 p;
	} t[] = {
		{ __LINE__, 400, RS_PROB_INVALID_REQUEST },
		{ __LINE__, 401, RS_PROB_UNAUTHORIZED },
		{ __LINE__, 403, RS_PROB_FORBIDDEN },
		{ __LINE__, 404, RS_PROB_NOT_FOUND },
		{ __LINE__, 405, RS_PROB_METHOD_NOT_ALLOWED },
		{ __LINE__, 408, RS_PROB_REQUEST_TIMEOUT },
		{ __LINE__, 409, RS_PROB_INVALID_REQUEST },
		{ __LINE__, 410, RS_PROB_INVALID_REQUEST },
		{ __LINE__, 411, RS_PROB_LENGTH_REQUIRED },
		{ __LINE__, 413, RS_PROB_PAYLOAD_TOO_LARGE },
		{ __LINE__, 414, RS_PROB_URI_TOO_LONG },
		{ __LINE__, 415, RS_PROB_UNSUPPORTED_MEDIA_TYPE },
		{ __LINE__, 418, RS_PROB_INVALID_REQUEST },
		{ __LINE__, 429, RS_PROB_RATE_LIMITED },
		{ __LINE__, 431, RS_PROB_HEADERS_TOO_LARGE },
		{ __LINE__, 499, RS_PROB_INVALID_REQUEST },
		{ __LINE__, 500, RS_PROB_INTERNAL },
		{ __LINE__, 501, RS_PROB_NOT_IMPLEMENTED },
		{ __LINE__, 502, RS_PROB_INTERNAL },
		{ __LINE__, 503, RS_PROB_UNAVAILABLE },
		{ __LINE__, 504, RS_PROB_INTERNAL },
		{ __LINE__, 599, RS_PROB_INTERNAL },
	};
	char	 name[96];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "problem for status %d: %s",
		    t[i].status, rs_problem_code(t[i].p));
		if (!TAP_IS_STR(rs_problem_code(rs_problem_for_status(
		    t[i].status)), rs_problem_code(t[i].p), name))
			tap_diag("status case at line %d", t[i].line);
	}
}

static void
test_problem_optional_left_out(void)
{
	struct json_object	*p;

	p = rs_problem_new(RS_PROB_INTERNAL, NULL, NULL, NULL);
	if (!TAP_OK(p != NULL, "problem new: without optional members"))
		return;
	TAP_OK(!has(p, "detail"), "problem new: NULL detail left out");
	TAP_OK(!has(p, "instance"), "problem new: NULL instance left out");
	TAP_OK(!has(p, "request_id"),
	    "problem new: NULL request_id left out");
	TAP_OK(!has(p, "errors"), "problem new: no errors member");
	TAP_IS_INT(json_object_object_length(p), 4,
	    "problem new: type, title, status and code only");
	json_object_put(p);
}

static void
test_problem_field_order(void)
{
	struct json_object	*p, *errs, *e;

	TAP_SETUP((p = rs_problem_new(RS_PROB_INVALID_REQUEST, "2 fields",
	    NULL, NULL)) != NULL);
	TAP_IS_INT(rs_problem_field(p, "email", "is required"), 0,
	    "problem field: first appended");
	TAP_IS_INT(rs_problem_field(p, "role", "must be a role"), 0,
	    "problem field: second appended");
	if (!TAP_OK(json_object_object_get_ex(p, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array),
	    "problem field: errors is an array")) {
		json_object_put(p);
		return;
	}
	TAP_IS_INT(json_object_array_length(errs), 2,
	    "problem field: two errors");
	e = json_object_array_get_idx(errs, 0);
	TAP_IS_STR(str(e, "field"), "email", "problem field: first field");
	TAP_IS_STR(str(e, "message"), "is required",
	    "problem field: first message");
	e = json_object_array_get_idx(errs, 1);
	TAP_IS_STR(str(e, "field"), "role", "problem field: second field");
	TAP_IS_STR(str(e, "message"), "must be a role",
	    "problem field: second message");
	json_object_put(p);
}

static void
test_problem_table_complete(void)
{
	const char	*code, *title;
	char		 name[96];
	int		 i, st;

	for (i = 0; i < RS_PROB__MAX; i++) {
		code = rs_problem_code((enum rs_problem)i);
		title = rs_problem_title((enum rs_problem)i);
		st = rs_problem_status((enum rs_problem)i);
		snprintf(name, sizeof(name), "problem table: row %d (%s) has "
		    "code, title and a 4xx/5xx status", i,
		    code != NULL ? code : "NULL");
		TAP_OK(code != NULL && code[0] != '\0' && title != NULL &&
		    title[0] != '\0' && st >= 400 && st <= 599, name);
	}
}

/*
 * Every status a problem can carry -- each code's own, and each a web
 * server can hand over in REDIRECT_STATUS -- has its reason phrase on
 * the Status line, not "Unknown".
 */
static void
test_problem_reasons(void)
{
	static const int	 relayed[] = { 408, 411, 414, 431, 501, 502,
				    504 };
	int			 i, unknown = 0;

	for (i = 0; i < RS_PROB__MAX; i++)
		if (strcmp(rs_resp_reason(rs_problem_status(
		    (enum rs_problem)i)), "Unknown") == 0) {
			tap_diag("no reason phrase for %d",
			    rs_problem_status((enum rs_problem)i));
			unknown++;
		}
	for (i = 0; i < (int)(sizeof(relayed) / sizeof(relayed[0])); i++)
		if (strcmp(rs_resp_reason(relayed[i]), "Unknown") == 0) {
			tap_diag("no reason phrase for %d", relayed[i]);
			unknown++;
		}
	TAP_IS_INT(unknown, 0, "problem statuses: each has a reason phrase");
}

static void
test_problem_codes_unique(void)
{
	int	 i, j, dup = 0;

	for (i = 0; i < RS_PROB__MAX; i++)
		for (j = i + 1; j < RS_PROB__MAX; j++)
			if (strcmp(rs_problem_code((enum rs_problem)i),
			    rs_problem_code((enum rs_problem)j)) == 0)
				dup++;
	TAP_IS_INT(dup, 0, "problem table: codes are unique");
}

int
main(void)
{
	tap_plan(54 + 5 + RS_PROB__MAX);	/* a table check per code */

	test_problem_not_found_fields();
	test_problem_codes();
	test_problem_for_status();
	test_problem_optional_left_out();
	test_problem_field_order();
	test_problem_table_complete();
	test_problem_codes_unique();
	test_problem_reasons();

	return tap_done();
}
