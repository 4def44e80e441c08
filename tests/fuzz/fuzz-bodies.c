/*
 * fuzz-bodies.c: a libFuzzer target for every write endpoint's body
 * validator, reached the way a request reaches it: the whole pipeline
 * in-process on a real SQLite database (pipeline.h), as the org's admin.
 * Built and run by tests/fuzz/run; seeds in tests/fuzz/corpus/bodies/.
 *
 * The first byte picks the endpoint (byte % 12, the table below); the
 * rest is the JSON body (${rec}, ${causal}, ${usr}, ${wh}, ${cfl} and
 * ${invite} in it are the fixtures' current values). A records patch
 * whose body names no "causal" is sent with If-Match: the record's
 * current causal token. Beyond what the sanitizers catch, the target
 * abort()s when:
 *   - any answer is a 5xx, malformed, or a body that is not a JSON
 *     object (pipeline.c);
 *   - a refusal (4xx) changed the database (fz_pipe_version moved):
 *     a refused body leaves no state behind. The one refusal that keeps
 *     something is a lost causal check (409/412 on a records patch),
 *     kept as a conflict by design (CONTRACT: conflicts);
 *   - a 400 does not name what was wrong (an "errors" list with a
 *     field, or a detail);
 *   - an accepted records create or patch does not answer the record
 *     with the title, type, site, status and data the body gave (data
 *     by merge patch, RFC 7396, onto what was there for a patch), or
 *     changed nothing in the database.
 */
#define _GNU_SOURCE	/* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "pipeline.h"

#define FUZZ_NAME	"bodies"
#include "fuzz.h"

static const struct {
	const char	*method;
	const char	*uri;
	int		 public;
} ep[] = {
	{ "POST", "/v1/records", 0 },				/* 0 */
	{ "PATCH", "/v1/records/${rec}", 0 },			/* 1 */
	{ "POST", "/v1/users/invite", 0 },			/* 2 */
	{ "POST", "/v1/users/accept", 1 },			/* 3 */
	{ "PATCH", "/v1/users/${usr}", 0 },			/* 4 */
	{ "POST", "/v1/policies", 0 },				/* 5 */
	{ "POST", "/v1/policies/evaluate", 0 },			/* 6 */
	{ "POST", "/v1/webhooks", 0 },				/* 7 */
	{ "PATCH", "/v1/webhooks/${wh}", 0 },			/* 8 */
	{ "POST", "/v1/webhooks/${wh}/replay", 0 },		/* 9 */
	{ "POST", "/v1/conflicts/${cfl}/resolve", 0 },		/* 10 */
	{ "POST", "/v1/auth/token", 1 },			/* 11 */
};
#define NEP	(sizeof(ep) / sizeof(ep[0]))

/* The record before a patch: its answer to GET. */
static struct json_object *
fz_record(void)
{
	struct fz_answer	 a;
	struct json_object	*r;

	fz_pipe_call("GET", "/v1/records/${rec}", NULL, NULL, 0, 0, &a);
	CHECK(a.status == 200);
	r = json_object_get(a.json);
	fz_answer_free(&a);
	return r;
}

/* The member of the answer named by the body equals what it gave. */
static void
fz_member(struct json_object *body, struct json_object *rec,
    const char *name)
{
	struct json_object	*b, *r;

	if (!json_object_object_get_ex(body, name, &b))
		return;
	CHECK(json_object_object_get_ex(rec, name, &r));
	CHECK(fuzz_json_same(b, r));
}

/* A records create or patch that was accepted: the record is the body's. */
static void
fz_written(const char *raw, size_t len, struct json_object *before,
    struct json_object *rec)
{
	struct json_object	*body, *want, *bd, *rd, *d0;
	char			 err[128];

	CHECK(rs_json_parse(raw, len, &body, err, sizeof(err)) == 0);
	CHECK(json_object_is_type(body, json_type_object));
	fz_member(body, rec, "title");
	fz_member(body, rec, "type");
	fz_member(body, rec, "status");
	if (json_object_object_get_ex(body, "site", &bd))
		fz_member(body, rec, "site");
	if (json_object_object_get_ex(body, "data", &bd) && bd != NULL) {
		CHECK(json_object_object_get_ex(rec, "data", &rd));
		if (before == NULL || !json_object_is_type(bd,
		    json_type_object))
			CHECK(fuzz_json_same(bd, rd));
		else {
			want = NULL;
			CHECK(json_object_object_get_ex(before, "data", &d0));
			CHECK(json_object_deep_copy(d0, &want, NULL) == 0);
			if (json_object_is_type(want, json_type_object)) {
				CHECK(rs_json_merge_patch(want, bd) == 0);
				CHECK(fuzz_json_same(want, rd));
			}
			json_object_put(want);
		}
	}
	json_object_put(body);
}

/* A 400 says what was wrong. */
static void
fz_refusal(const struct fz_answer *a)
{
	struct json_object	*errs, *e, *f, *d;
	size_t			 i;

	CHECK(a->json != NULL);
	if (json_object_object_get_ex(a->json, "errors", &errs)) {
		CHECK(json_object_is_type(errs, json_type_array) &&
		    json_object_array_length(errs) > 0);
		for (i = 0; i < json_object_array_length(errs); i++) {
			e = json_object_array_get_idx(errs, i);
			/* A member named "" is named "". */
			CHECK(json_object_object_get_ex(e, "field", &f) &&
			    json_object_is_type(f, json_type_string));
			CHECK(json_object_object_get_ex(e, "message", &f) &&
			    json_object_get_string_len(f) > 0);
		}
	} else
		CHECK(json_object_object_get_ex(a->json, "detail", &d) &&
		    json_object_get_string_len(d) > 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_pipe_open();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_answer	 a;
	struct json_object	*before = NULL;
	const char		*body = (const char *)data + 1, *hdrs = NULL;
	size_t			 i, len;
	uint64_t		 v0, v1;

	if (size == 0)
		return 0;
	i = data[0] % NEP;
	len = size - 1;
	if (i == 1) {
		before = fz_record();
		if (memmem(body, len, "\"causal\"", 8) == NULL)
			hdrs = "If-Match: \"${causal}\"\n";
	}
	v0 = fz_pipe_version();
	fz_pipe_call(ep[i].method, ep[i].uri, hdrs, body, len, ep[i].public,
	    &a);
	v1 = fz_pipe_version();
	if (a.status >= 400) {
		if (!(i == 1 && (a.status == 409 || a.status == 412)))
			CHECK(v1 == v0);
		if (a.status == 400)
			fz_refusal(&a);
	} else if (a.status >= 200 && a.status < 300) {
		if (i == 0 || i == 1) {
			CHECK(v1 != v0);
			if (memmem(body, len, "${", 2) == NULL)
				fz_written(body, len, before, a.json);
		}
		if (i == 1 && a.etag[0] != '\0')
			fz_pipe_set_causal(a.etag);
		if (i == 10)
			fz_pipe_new_conflict();
		if (i == 3)
			fz_pipe_new_invite();
	}
	json_object_put(before);
	fz_answer_free(&a);
	return 0;
}
