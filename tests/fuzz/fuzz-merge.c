/*
 * fuzz-merge.c: a libFuzzer target for merge patch (rs_json_merge_patch,
 * json.h: RFC 7396) and the field merge's decision (merge.h). Built and
 * run by tests/fuzz/run; seeds in tests/fuzz/corpus/merge/.
 *
 * The input is three parts split at NUL bytes: a target object (JSON),
 * a patch object (JSON), and what changed since the patch's base: a
 * first byte whose bit 0 says the base was found and bit 1 that what
 * changed is unknown, then names, one a line ("title", "data.k").
 * Parts that are not JSON objects are taken as {}. Beyond what the
 * sanitizers catch, the target abort()s when:
 *   - the patched target is not what RFC 7396 says, member by member:
 *     a null in the patch removes, an object merges into the member
 *     (an object made when it was none), anything else replaces;
 *     members the patch does not name stay as they were; nothing else
 *     appears;
 *   - applying the patch twice differs from once, or the patch changed;
 *   - rs_merge_names does not call back exactly once per member but
 *     "causal", or per key of an object "data" instead of "data";
 *   - rs_merge_decide's answer is not, in order: unknown base, unknown
 *     change, overlap when "deleted" or a name of the patch is among
 *     what changed (its clash one of those names), else apply.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "merge.h"

#define FUZZ_NAME	"merge"
#include "fuzz.h"

#define MAXNAMES	32

/* A JSON object from s[0..len), or a new {}. */
static struct json_object *
fz_object(const char *s, size_t len)
{
	struct json_object	*o;
	char			 err[128];

	if (rs_json_parse(s, len, &o, err, sizeof(err)) == 0 &&
	    json_object_is_type(o, json_type_object))
		return o;
	json_object_put(o);
	if ((o = json_object_new_object()) == NULL)
		abort();
	return o;
}

static struct json_object *
fz_copy(struct json_object *o)
{
	struct json_object	*c = NULL;

	if (json_object_deep_copy(o, &c, NULL) != 0)
		abort();
	return c;
}

/* RFC 7396 section 2, as a check of r = MergePatch(t, p); t may be NULL
 * (not an object: the member becomes {} patched). */
static void
fz_merged(struct json_object *t, struct json_object *p, struct json_object *r)
{
	struct json_object	*tv, *rv, *pv;

	CHECK(json_object_is_type(r, json_type_object));
	json_object_object_foreach(p, k, v) {
		if (v == NULL) {
			CHECK(!json_object_object_get_ex(r, k, NULL));
			continue;
		}
		CHECK(json_object_object_get_ex(r, k, &rv));
		if (json_object_is_type(v, json_type_object)) {
			if (t == NULL || !json_object_object_get_ex(t, k, &tv) ||
			    !json_object_is_type(tv, json_type_object))
				tv = NULL;
			fz_merged(tv, v, rv);
		} else
			CHECK(fuzz_json_same(v, rv));
	}
	json_object_object_foreach(r, rk, rval) {
		if (json_object_object_get_ex(p, rk, NULL))
			continue;
		CHECK(t != NULL && json_object_object_get_ex(t, rk, &tv));
		CHECK(fuzz_json_same(tv, rval));
	}
	if (t == NULL)
		return;
	json_object_object_foreach(t, tk, tval) {
		(void)tval;
		if (!json_object_object_get_ex(p, tk, &pv))
			CHECK(json_object_object_get_ex(r, tk, NULL));
	}
}

struct fz_names {
	size_t	 n;
	size_t	 calls;
	struct json_object *patch;
};

static int
fz_name(void *arg, const char *prefix, const char *name)
{
	struct fz_names		*f = arg;
	struct json_object	*d;

	f->calls++;
	if (strcmp(prefix, "data.") == 0) {
		CHECK(json_object_object_get_ex(f->patch, "data", &d) &&
		    json_object_is_type(d, json_type_object) &&
		    json_object_object_get_ex(d, name, NULL));
	} else {
		CHECK(prefix[0] == '\0');
		CHECK(strcmp(name, "causal") != 0);
		CHECK(json_object_object_get_ex(f->patch, name, &d));
		CHECK(strcmp(name, "data") != 0 ||
		    !json_object_is_type(d, json_type_object));
	}
	return 0;
}

/*
 * 1 when the patch names s: the names' own rule, restated. A member
 * spelled "data.j" at the top (which validation refuses before any merge)
 * names the same as data's key j: either reading counts.
 */
static int
fz_names_it(struct json_object *patch, const char *s)
{
	struct json_object	*d;

	if (strncmp(s, "data.", 5) == 0 &&
	    json_object_object_get_ex(patch, "data", &d) &&
	    json_object_is_type(d, json_type_object) &&
	    json_object_object_get_ex(d, s + 5, NULL))
		return 1;
	if (strcmp(s, "causal") == 0 || !json_object_object_get_ex(patch, s,
	    &d))
		return 0;
	return strcmp(s, "data") != 0 ||
	    !json_object_is_type(d, json_type_object);
}

static void
fz_decide(struct json_object *patch, const char *spec, size_t len)
{
	struct rs_merge_since	 since;
	struct fz_names		 f;
	const char		*names[MAXNAMES], *clash;
	char			*copy, *line, *save;
	size_t			 i, want = 0;
	int			 overlap = 0;
	enum rs_merge		 m;

	/* The names callback: once per name the patch changes. */
	memset(&f, 0, sizeof(f));
	f.patch = patch;
	CHECK(rs_merge_names(patch, fz_name, &f) == 0);
	json_object_object_foreach(patch, k, v) {
		if (strcmp(k, "causal") == 0)
			continue;
		if (strcmp(k, "data") == 0 &&
		    json_object_is_type(v, json_type_object))
			want += (size_t)json_object_object_length(v);
		else
			want++;
	}
	CHECK(f.calls == want);

	memset(&since, 0, sizeof(since));
	if (len > 0) {
		since.found = spec[0] & 1;
		since.unknown = (spec[0] & 2) != 0;
		spec++;
		len--;
	}
	if ((copy = strndup(spec, len)) == NULL)
		abort();
	for (line = strtok_r(copy, "\n", &save); line != NULL &&
	    since.n < MAXNAMES; line = strtok_r(NULL, "\n", &save)) {
		names[since.n++] = line;
		if (strcmp(line, "deleted") == 0 || fz_names_it(patch, line))
			overlap = 1;
	}
	since.names = names;
	m = rs_merge_decide(patch, &since, &clash);
	if (!since.found)
		CHECK(m == RS_MERGE_UNKNOWN_BASE && clash == NULL);
	else if (since.unknown)
		CHECK(m == RS_MERGE_UNKNOWN_CHANGE && clash == NULL);
	else if (overlap) {
		CHECK(m == RS_MERGE_OVERLAP && clash != NULL);
		for (i = 0; i < since.n && names[i] != clash; i++)
			continue;
		CHECK(i < since.n);
		CHECK(strcmp(clash, "deleted") == 0 ||
		    fz_names_it(patch, clash));
	} else
		CHECK(m == RS_MERGE_APPLY && clash == NULL);
	CHECK(rs_merge_decide(patch, &since, NULL) == m);
	free(copy);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*s = (const char *)data, *e1, *e2;
	struct json_object	*t, *p, *p0, *r, *r2;
	size_t			 n1, n2;

	e1 = memchr(s, '\0', size);
	n1 = e1 ? (size_t)(e1 - s) : size;
	e2 = e1 ? memchr(e1 + 1, '\0', size - n1 - 1) : NULL;
	n2 = e1 ? (e2 ? (size_t)(e2 - e1 - 1) : size - n1 - 1) : 0;
	t = fz_object(s, n1);
	p = fz_object(e1 ? e1 + 1 : "", n2);
	p0 = fz_copy(p);

	r = fz_copy(t);
	CHECK(rs_json_merge_patch(r, p) == 0);
	fz_merged(t, p, r);
	r2 = fz_copy(r);
	CHECK(rs_json_merge_patch(r2, p) == 0);
	CHECK(fuzz_json_same(r, r2));
	CHECK(fuzz_json_same(p, p0));

	fz_decide(p, e2 ? e2 + 1 : "", e2 ? size - (size_t)(e2 + 1 - s) : 0);

	json_object_put(r2);
	json_object_put(r);
	json_object_put(p0);
	json_object_put(p);
	json_object_put(t);
	return 0;
}
