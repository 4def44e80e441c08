/*
 * fuzz-batch.c: a libFuzzer target for the batch envelope (batch.h,
 * POST /v1/batch), through the whole pipeline in-process on a real
 * SQLite database (pipeline.h), as the org's admin. Built and run by
 * tests/fuzz/run; seeds in tests/fuzz/corpus/batch/.
 *
 * The input is the request body (${rec}, ${causal}, ${usr}, ${wh},
 * ${cfl} and ${invite} in it are the fixtures' values). Beyond what the
 * sanitizers catch, the target abort()s when:
 *   - the batch or any item is answered 5xx, or an answer is malformed
 *     (pipeline.c);
 *   - a refused envelope (4xx) changed the database;
 *   - a 200 does not hold one response per request, each with a status
 *     of 200..499;
 *   - an atomic batch with an item answered 400 or more changed the
 *     database (it rolls back whole), or a batch whose every item was
 *     refused did (each item's savepoint leaves nothing), but for a
 *     records patch's lost causal check, kept as a conflict by design.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "pipeline.h"

#define FUZZ_NAME	"batch"
#include "fuzz.h"

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
	struct json_object	*body = NULL, *reqs, *resps, *r, *st, *at;
	char			 err[128];
	size_t			 i, n;
	int			 refused = 0, kept = 0, atomic = 0, s;
	uint64_t		 v0, v1;

	v0 = fz_pipe_version();
	fz_pipe_call("POST", "/v1/batch", NULL, (const char *)data, size, 0,
	    &a);
	v1 = fz_pipe_version();
	if (a.status >= 400) {
		CHECK(v1 == v0);
		goto out;
	}
	CHECK(a.status == 200);
	/* It was accepted: the body is JSON, an object with requests. */
	CHECK(rs_json_parse((const char *)data, size, &body, err,
	    sizeof(err)) == 0);
	CHECK(json_object_object_get_ex(body, "requests", &reqs) &&
	    json_object_is_type(reqs, json_type_array));
	if (json_object_object_get_ex(body, "atomic", &at))
		atomic = json_object_get_boolean(at);
	CHECK(json_object_object_get_ex(a.json, "responses", &resps) &&
	    json_object_is_type(resps, json_type_array));
	n = json_object_array_length(reqs);
	CHECK(json_object_array_length(resps) == n);
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(resps, i);
		CHECK(json_object_object_get_ex(r, "status", &st));
		s = json_object_get_int(st);
		CHECK(s >= 200 && s <= 499);
		if (s >= 400)
			refused++;
		if (s == 409 || s == 412)
			kept++;
	}
	if (kept == 0 && ((atomic && refused > 0) ||
	    (n > 0 && refused == (int)n)))
		CHECK(v1 == v0);
out:
	json_object_put(body);
	fz_answer_free(&a);
	return 0;
}
