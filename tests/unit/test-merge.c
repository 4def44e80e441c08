/*
 * test-merge: the field merge's decision table (lib/merge.h). One row
 * per case: a patch body, what changed since its base (found, unknown,
 * the names), and the decision and clashing name expected. Then the
 * names a patch is said to change, which records.changed keeps.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "merge.h"
#include "tap.h"

#define MAXN	8

struct mcase {
	int		 line;
	const char	*patch;
	int		 found;
	int		 unknown;
	const char	*since[MAXN];	/* NULL-ended */
	enum rs_merge	 want;
	const char	*clash;		/* on RS_MERGE_OVERLAP */
};

#define APPLY		RS_MERGE_APPLY
#define OVERLAP		RS_MERGE_OVERLAP
#define NOBASE		RS_MERGE_UNKNOWN_BASE
#define NOCHANGE	RS_MERGE_UNKNOWN_CHANGE

static const struct mcase cases[] = {
	/* Disjoint members. */
	{ __LINE__, "{\"title\":\"a\"}", 1, 0, { "status" }, APPLY, NULL },
	{ __LINE__, "{\"status\":\"synced\"}", 1, 0, { "title", "site" },
	    APPLY, NULL },
	{ __LINE__, "{\"site\":null}", 1, 0, { "type" }, APPLY, NULL },
	{ __LINE__, "{\"type\":\"x\",\"causal\":\"01M8CEGGV036B4WNF6GHSD0682\"}",
	    1, 0, { "title", "status", "site" }, APPLY, NULL },
	{ __LINE__, "{\"title\":\"a\"}", 1, 0, { NULL }, APPLY, NULL },
	/* The same member. */
	{ __LINE__, "{\"title\":\"a\"}", 1, 0, { "title" }, OVERLAP, "title" },
	{ __LINE__, "{\"status\":\"failed\"}", 1, 0, { "title", "status" },
	    OVERLAP, "status" },
	{ __LINE__, "{\"site\":null}", 1, 0, { "site" }, OVERLAP, "site" },
	{ __LINE__, "{\"title\":\"a\",\"type\":\"b\"}", 1, 0, { "type" },
	    OVERLAP, "type" },
	/* data's keys, one level deep. */
	{ __LINE__, "{\"data\":{\"a\":1}}", 1, 0, { "data.b" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"a\":1}}", 1, 0, { "data.a" }, OVERLAP,
	    "data.a" },
	{ __LINE__, "{\"data\":{\"a\":null}}", 1, 0, { "data.a" }, OVERLAP,
	    "data.a" },
	{ __LINE__, "{\"data\":{\"a\":{\"x\":1}}}", 1, 0, { "data.a" },
	    OVERLAP, "data.a" },
	{ __LINE__, "{\"data\":{\"a\":{\"x\":1}}}", 1, 0, { "data.b", "title" },
	    APPLY, NULL },
	{ __LINE__, "{\"data\":{\"a\":1,\"b\":2}}", 1, 0, { "data.c", "data.b" },
	    OVERLAP, "data.b" },
	{ __LINE__, "{\"data\":{}}", 1, 0, { "data.a", "title" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"a\":1}}", 1, 0, { "title", "status" }, APPLY,
	    NULL },
	{ __LINE__, "{\"title\":\"t\"}", 1, 0, { "data.title" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"title\":1}}", 1, 0, { "title" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"a.b\":1}}", 1, 0, { "data.a" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"a\":1}}", 1, 0, { "data.a.b" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"a.b\":1}}", 1, 0, { "data.a.b" }, OVERLAP,
	    "data.a.b" },
	{ __LINE__, "{\"data\":{\"A\":1}}", 1, 0, { "data.a" }, APPLY, NULL },
	{ __LINE__, "{\"data\":{\"\":1}}", 1, 0, { "data." }, OVERLAP,
	    "data." },
	{ __LINE__, "{\"data\":{\"\\u00e9\":1}}", 1, 0, { "data.\xc3\xa9" },
	    OVERLAP, "data.\xc3\xa9" },
	{ __LINE__, "{\"title\":\"a\",\"data\":{\"x\":1}}", 1, 0,
	    { "data.y", "site", "data.x" }, OVERLAP, "data.x" },
	/* A delete since the base: nothing to merge into. */
	{ __LINE__, "{\"title\":\"a\"}", 1, 0, { "deleted" }, OVERLAP,
	    "deleted" },
	{ __LINE__, "{\"data\":{\"a\":1}}", 1, 0, { "data.b", "deleted" },
	    OVERLAP, "deleted" },
	/* A base that is not a version kept (unknown, or purged). */
	{ __LINE__, "{\"title\":\"a\"}", 0, 0, { NULL }, NOBASE, NULL },
	{ __LINE__, "{\"data\":{\"a\":1}}", 0, 0, { "data.b" }, NOBASE, NULL },
	{ __LINE__, "{\"title\":\"a\"}", 0, 1, { NULL }, NOBASE, NULL },
	/* A later version that does not say what it changed. */
	{ __LINE__, "{\"title\":\"a\"}", 1, 1, { "status" }, NOCHANGE, NULL },
	{ __LINE__, "{\"data\":{}}", 1, 1, { NULL }, NOCHANGE, NULL },
	/* Only the causal token: names nothing, so nothing clashes. */
	{ __LINE__, "{\"causal\":\"01M8CEGGV036B4WNF6GHSD0682\"}", 1, 0,
	    { "causal", "title" }, APPLY, NULL },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static size_t
since_count(const struct mcase *c)
{
	size_t	 n = 0;

	while (n < MAXN && c->since[n] != NULL)
		n++;
	return n;
}

static void
run_case(const struct mcase *c)
{
	struct rs_merge_since	 s;
	struct json_object	*patch;
	const char		*clash = "unset";
	char			 name[96];

	snprintf(name, sizeof(name), "line %d: %s", c->line, c->patch);
	if (rs_json_parse(c->patch, strlen(c->patch), &patch, NULL, 0) != 0)
		tap_bail("line %d: the patch does not parse", c->line);
	s.found = c->found;
	s.unknown = c->unknown;
	s.names = c->since;
	s.n = since_count(c);
	TAP_IS_INT(rs_merge_decide(patch, &s, &clash), c->want, name);
	TAP_IS_STR(clash, c->clash, name);
	json_object_put(patch);
}

struct collect {
	char	 buf[256];
};

static int
collect_name(void *arg, const char *prefix, const char *name)
{
	struct collect	*c = arg;
	size_t		 len = strlen(c->buf);

	snprintf(c->buf + len, sizeof(c->buf) - len, "%s%s%s",
	    len > 0 ? " " : "", prefix, name);
	return 0;
}

static int
stop_at_second(void *arg, const char *prefix, const char *name)
{
	int	*n = arg;

	(void)prefix;
	(void)name;
	return ++*n == 2 ? 7 : 0;
}

/* The names a patch changes, in its order; causal is not one. */
static void
test_names(void)
{
	static const struct {
		const char	*patch;
		const char	*names;
	} rows[] = {
		{ "{\"title\":\"a\",\"causal\":\"x\",\"site\":null}",
		    "title site" },
		{ "{\"data\":{\"b\":1,\"a\":{\"c\":2}},\"status\":\"synced\"}",
		    "data.b data.a status" },
		{ "{\"data\":{}}", "" },
		{ "{\"causal\":\"x\"}", "" },
	};
	struct json_object	*o;
	struct collect		 c;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rs_json_parse(rows[i].patch, strlen(rows[i].patch), &o,
		    NULL, 0) != 0)
			tap_bail("names row %zu does not parse", i);
		c.buf[0] = '\0';
		TAP_IS_INT(rs_merge_names(o, collect_name, &c), 0,
		    "names: the walk ends");
		TAP_IS_STR(c.buf, rows[i].names, rows[i].patch);
		json_object_put(o);
	}
	if (rs_json_parse("{\"a\":1,\"b\":2,\"c\":3}", 19, &o, NULL, 0) != 0)
		tap_bail("the stop patch does not parse");
	TAP_IS_INT(rs_merge_names(o, stop_at_second, &n), 7,
	    "names: a callback's nonzero result stops the walk");
	TAP_IS_INT(n, 2, "names: no name after the stop");
	json_object_put(o);
}

int
main(void)
{
	size_t	 i;

	tap_plan((int)(2 * NCASES + 2 * 4 + 2));
	for (i = 0; i < NCASES; i++)
		run_case(&cases[i]);
	test_names();
	return tap_done();
}
