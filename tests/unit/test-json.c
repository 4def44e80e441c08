/*
 * test-json: the strict JSON parser, the canonical form, raw JSON text
 * and JSON Merge Patch (lib/json.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "limits.h"
#include "json.h"
#include "tap.h"

static char	 err[256];

/* Parses the NUL-terminated s; the result is the caller's. */
static int
parse(const char *s, struct json_object **out)
{
	return rs_json_parse(s, strlen(s), out, err, sizeof(err));
}

/* Stands for "not written" in *out; never dereferenced. */
static int		 unset_mark;
#define UNSET		((struct json_object *)&unset_mark)

/* Releases o unless it is NULL or UNSET. */
static void
put(struct json_object *o)
{
	if (o != UNSET)
		json_object_put(o);
}

/* 1 when s is refused with an error message and *out set to NULL. */
static int
refused(const char *s)
{
	struct json_object	*o = UNSET;
	int			 rc;

	err[0] = '\0';
	rc = parse(s, &o);
	if (rc == 0)
		put(o);
	return rc == -1 && o == NULL && err[0] != '\0';
}

/* Canonical form of the fixed JSON text s, malloc'd; bails when s does
 * not parse. */
static char *
canonical(const char *s)
{
	struct json_object	*o;
	char			*c;

	if (parse(s, &o) != 0)
		tap_bail("bad test JSON %s: %s", s, err);
	c = rs_json_canonical(o);
	json_object_put(o);
	return c;
}

/* depth nested arrays: "[[...]]". */
static char *
nested(int depth)
{
	char	*s = malloc((size_t)depth * 2 + 1);
	int	 i;

	for (i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

static void
test_json_object(void)
{
	struct json_object	*o, *v;

	if (!TAP_IS_INT(parse(" {\"a\": 1, \"b\": [true, null, \"x\"]} ",
	    &o), 0, "json parse: valid object"))
		return;
	TAP_OK(json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "b", &v) &&
	    json_object_array_length(v) == 3,
	    "json parse: object holds its members");
	json_object_put(o);
}

static void
test_json_null(void)
{
	struct json_object	*o = UNSET;

	TAP_IS_INT(parse("null", &o), 0, "json parse: null parses");
	TAP_OK(o == NULL, "json parse: null gives a NULL object");
	put(o);
}

/*
 * One parse case: in is accepted (ok set) or refused with an error
 * message and *out NULL; when why is set, the message contains it. The
 * check names are name and, with why, why_name.
 */
static const struct parse_case {
	int		 line;
	const char	*in;
	int		 ok;
	const char	*why;
	const char	*name;
	const char	*why_name;
} parse_cases[] = {
	{ __LINE__, "", 0, NULL,
	    "json parse: empty input refused", NULL },
	{ __LINE__, "{\"a\":1,\"b\":2,\"a\":3}", 0, "given twice",
	    "json parse: duplicate member refused",
	    "json parse: duplicate member says given twice" },
	{ __LINE__, "{\"a\":null,\"a\":1}", 0, NULL,
	    "json parse: duplicate of a null member refused", NULL },
	{ __LINE__, "{\"a\":{\"a\":1},\"b\":{\"a\":2}}", 1, NULL,
	    "json parse: same name in different objects accepted", NULL },
	{ __LINE__, "\"\xff\"", 0, "UTF-8",
	    "json parse: byte 0xff refused",
	    "json parse: 0xff says UTF-8" },
	{ __LINE__, "\"\xc0\xaf\"", 0, NULL,
	    "json parse: overlong 0xc0 0xaf refused", NULL },
	{ __LINE__, "\"\xed\xa0\x80\"", 0, NULL,
	    "json parse: UTF-8 encoded surrogate refused", NULL },
	{ __LINE__, "\"\xe4\xb8\"", 0, NULL,
	    "json parse: truncated UTF-8 sequence refused", NULL },
	{ __LINE__, "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"", 1, NULL,
	    "json parse: 2-, 3- and 4-byte UTF-8 accepted", NULL },
	{ __LINE__, "\"\\udc00\"", 0, NULL,
	    "json parse: lone low surrogate refused", NULL },
	{ __LINE__, "\"\\ud83d\"", 0, NULL,
	    "json parse: lone high surrogate refused", NULL },
	{ __LINE__, "\"\\ud83d\\u0041\"", 0, NULL,
	    "json parse: high surrogate with a non-surrogate refused", NULL },
	{ __LINE__, "\"a\x01z\"", 0, NULL,
	    "json parse: control character in string refused", NULL },
	{ __LINE__, "\"a\nz\"", 0, NULL,
	    "json parse: raw newline in string refused", NULL },
	{ __LINE__, "\"\\x41\"", 0, NULL,
	    "json parse: \\x escape refused", NULL },
	{ __LINE__, "{\"a\\u0000b\":1}", 0, NULL,
	    "json parse: U+0000 in a member name refused", NULL },
	{ __LINE__, "{} x", 0, NULL,
	    "json parse: trailing garbage refused", NULL },
	{ __LINE__, "1 2", 0, NULL,
	    "json parse: two values refused", NULL },
	{ __LINE__, "{}\n\t ", 1, NULL,
	    "json parse: trailing whitespace accepted", NULL },
	{ __LINE__, "{\"a\": }", 0, "at byte 6:",
	    "json parse: missing value refused",
	    "json parse: error names the byte offset" },
	{ __LINE__, "1e999", 0, "out of range",
	    "json parse: 1e999 refused",
	    "json parse: 1e999 says why" },
	{ __LINE__, "01", 0, NULL, "json parse: leading zero refused", NULL },
	{ __LINE__, "1.", 0, NULL, "json parse: 1. refused", NULL },
	{ __LINE__, "-", 0, NULL, "json parse: lone minus refused", NULL },
	{ __LINE__, "+1", 0, NULL, "json parse: leading plus refused", NULL },
	{ __LINE__, ".5", 0, NULL, "json parse: leading dot refused", NULL },
	{ __LINE__, "tru", 0, NULL,
	    "json parse: truncated literal refused", NULL },
	{ __LINE__, "True", 0, NULL,
	    "json parse: capitalised literal refused", NULL },
	{ __LINE__, "{'a':1}", 0, NULL,
	    "json parse: single quotes refused", NULL },
	{ __LINE__, "[1,]", 0, NULL,
	    "json parse: trailing comma refused", NULL },
};

static void
test_json_parse_cases(void)
{
	const struct parse_case	*t;
	struct json_object	*o;
	size_t			 i;
	int			 ok;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		t = &parse_cases[i];
		if (t->ok) {
			o = NULL;
			ok = TAP_IS_INT(parse(t->in, &o), 0, t->name);
			json_object_put(o);
		} else
			ok = TAP_OK(refused(t->in), t->name);
		if (!ok)
			tap_diag("parse case at line %d", t->line);
		if (t->why != NULL && !TAP_HAS_STR(err, t->why, t->why_name))
			tap_diag("parse case at line %d", t->line);
	}
}

static void
test_json_depth_limit(void)
{
	struct json_object	*o = NULL;
	char			*s = nested(RS_MAX_JSON_DEPTH);

	TAP_IS_INT(parse(s, &o), 0,
	    "json parse: nesting of RS_MAX_JSON_DEPTH accepted");
	json_object_put(o);
	free(s);
}

static void
test_json_depth_over(void)
{
	char	*s = nested(RS_MAX_JSON_DEPTH + 1);

	TAP_OK(refused(s), "json parse: nesting past RS_MAX_JSON_DEPTH refused");
	TAP_HAS_STR(err, "nesting", "json parse: deep nesting says why");
	free(s);
}

static void
test_json_surrogate_pair(void)
{
	struct json_object	*o = NULL;

	if (!TAP_IS_INT(parse("\"\\ud83d\\ude00\"", &o), 0,
	    "json parse: surrogate pair escape accepted"))
		return;
	TAP_IS_STR(json_object_get_string(o), "\xf0\x9f\x98\x80",
	    "json parse: surrogate pair decodes to 4-byte UTF-8");
	TAP_IS_INT(json_object_get_string_len(o), 4,
	    "json parse: surrogate pair decodes to 4 bytes");
	json_object_put(o);
}

static void
test_json_bmp_escape(void)
{
	struct json_object	*o = NULL;

	TAP_SETUP(parse("\"\\u00e9\\u4E2D\"", &o) == 0);
	TAP_IS_STR(json_object_get_string(o), "\xc3\xa9\xe4\xb8\xad",
	    "json parse: \\u escapes decode to UTF-8");
	json_object_put(o);
}

static void
test_json_error_offset_duplicate(void)
{
	TAP_SETUP(refused("{\"a\":1, \"a\":2}"));
	TAP_HAS_STR(err, "at byte 8:",
	    "json parse: duplicate error points at the second name");
}

static void
test_json_int64(void)
{
	struct json_object	*o = NULL;

	TAP_SETUP(parse("9223372036854775807", &o) == 0);
	TAP_OK(json_object_is_type(o, json_type_int) &&
	    json_object_get_int64(o) == INT64_MAX,
	    "json parse: INT64_MAX is an int64");
	json_object_put(o);
	o = NULL;
	TAP_SETUP(parse("-9223372036854775808", &o) == 0);
	TAP_OK(json_object_is_type(o, json_type_int) &&
	    json_object_get_int64(o) == INT64_MIN,
	    "json parse: INT64_MIN is an int64");
	json_object_put(o);
}

static void
test_json_negative_zero(void)
{
	struct json_object	*o = NULL;

	TAP_IS_INT(parse("-0", &o), 0, "json parse: -0 accepted");
	TAP_OK(o != NULL && json_object_get_double(o) == 0.0,
	    "json parse: -0 is zero");
	json_object_put(o);
}

static void
test_json_exponent(void)
{
	struct json_object	*o = NULL;

	TAP_SETUP(parse("1e2", &o) == 0);
	TAP_OK(json_object_is_type(o, json_type_double) &&
	    json_object_get_double(o) == 100.0,
	    "json parse: 1e2 is the double 100");
	json_object_put(o);
}

static void
test_json_canonical_sorted(void)
{
	char	*c = canonical(
	    "{\"b\":1,\"a\":{\"d\":[1,{\"z\":1,\"y\":2}],\"c\":\"x\"}}");

	TAP_IS_STR(c, "{\"a\":{\"c\":\"x\",\"d\":[1,{\"y\":2,\"z\":1}]},"
	    "\"b\":1}", "json canonical: keys sorted recursively, compact");
	free(c);
}

static void
test_json_canonical_equal(void)
{
	char	*a = canonical("{\"id\":\"r1\",\"tags\":[\"x\",\"y\"],"
		    "\"meta\":{\"n\":null,\"ok\":true}}");
	char	*b = canonical(" {\n  \"meta\" : { \"ok\" : true , "
		    "\"n\" : null } ,\n  \"tags\" : [ \"x\" , \"y\" ] ,"
		    "\t\"id\" : \"r1\"\n}\n");

	TAP_OK(a != NULL && b != NULL && strcmp(a, b) == 0,
	    "json canonical: member order and whitespace do not matter");
	free(a);
	free(b);
}

static void
test_json_canonical_differs(void)
{
	char	*a = canonical("{\"tags\":[\"x\",\"y\"]}");
	char	*b = canonical("{\"tags\":[\"y\",\"x\"]}");

	TAP_OK(a != NULL && b != NULL && strcmp(a, b) != 0,
	    "json canonical: array order matters");
	free(a);
	free(b);
}

static void
test_json_canonical_bytewise(void)
{
	char	*c = canonical("{\"b\":1,\"B\":2,\"\xc3\xa9\":3,\"a\":4}");

	TAP_IS_STR(c, "{\"B\":2,\"a\":4,\"b\":1,\"\xc3\xa9\":3}",
	    "json canonical: names sorted bytewise");
	free(c);
}

static void
test_json_canonical_no_slash_escape(void)
{
	char	*c = canonical("{\"u\":\"a/b\"}");

	TAP_IS_STR(c, "{\"u\":\"a/b\"}",
	    "json canonical: slash not escaped");
	free(c);
}

/* json-c's compact print of o, appended to pb: the oracle the canonical
 * form's scalars must match byte for byte (stored idempotency hashes
 * were made from it). */
static void
jsonc_print(struct printbuf *pb, struct json_object *o)
{
	const char	*t = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	printbuf_memappend(pb, t, (int)strlen(t));
}

static void
test_json_canonical_scalars_as_jsonc(void)
{
	struct json_object	*o, *k;
	struct printbuf		*want = printbuf_new();
	char			 text[2048], *got;
	size_t			 n = 0, i;
	int			 c;

	/* Strings with every control character, NUL inside, quote,
	 * backslash, slash, DEL, 2-, 3- and 4-byte UTF-8; integers at
	 * their edges; doubles; literals. */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[\"");
	for (c = 1; c < 0x20; c++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "\\u%04x", c);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
	    "\",\"a\\u0000b\",\"\\\"\\\\/\x7f\",\"\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\",\"\",0,-1,9223372036854775807,"
	    "-9223372036854775808,9007199254740993,0.1,-0.0,1e300,1.5,"
	    "-2.5e-7,true,false,null,{},[]]");
	TAP_SETUP(parse(text, &o) == 0);
	printbuf_memappend(want, "[", 1);
	for (i = 0; i < json_object_array_length(o); i++) {
		if (i > 0)
			printbuf_memappend(want, ",", 1);
		jsonc_print(want, json_object_array_get_idx(o, i));
	}
	printbuf_memappend(want, "]", 1);
	got = rs_json_canonical(o);
	TAP_IS_STR(got, want->buf,
	    "json canonical: strings, integers, doubles and literals print "
	    "as json-c prints them");
	free(got);
	json_object_put(o);

	/* A member name with a control character, a quote and a slash. */
	TAP_SETUP(parse("{\"k\\u0001\\\"/\":1}", &o) == 0);
	printbuf_reset(want);
	TAP_SETUP((k = json_object_new_string("k\x01\"/")) != NULL);
	printbuf_memappend(want, "{", 1);
	jsonc_print(want, k);
	printbuf_memappend(want, ":1}", 3);
	json_object_put(k);
	got = rs_json_canonical(o);
	TAP_IS_STR(got, want->buf,
	    "json canonical: member names escaped as json-c escapes them");
	free(got);
	json_object_put(o);
	printbuf_free(want);
}

/*
 * Applies the merge patch patch to target (both fixed JSON objects as
 * text) and compares the canonical result with want, as the check name;
 * patch is released before the result is read, so the result must own
 * what it took from it. Returns whether the check passed.
 */
static int
merge(const char *target, const char *patch, const char *want,
    const char *name)
{
	struct json_object	*t = NULL, *p = NULL;
	char			*got = NULL, *exp = canonical(want);
	int			 ok;

	if (parse(target, &t) != 0 || parse(patch, &p) != 0)
		tap_bail("bad test JSON in \"%s\": %s", name, err);
	if ((ok = TAP_IS_INT(rs_json_merge_patch(t, p), 0, name))) {
		json_object_put(p);
		p = NULL;
		got = rs_json_canonical(t);
		ok = TAP_IS_STR(got, exp, name);
	}
	json_object_put(p);
	json_object_put(t);
	free(got);
	free(exp);
	return ok;
}

/*
 * One merge case (JSON texts): patch applied to target gives want; the
 * check is named name.
 */
static const struct merge_case {
	int		 line;
	const char	*target;
	const char	*patch;
	const char	*want;
	const char	*name;
} merge_cases[] = {
	{ __LINE__, "{\"a\":\"b\"}", "{\"a\":\"c\"}",
	    "{\"a\":\"c\"}",
	    "json merge patch: a member is replaced (RFC 7396 A.1)" },
	{ __LINE__, "{\"a\":\"b\"}", "{\"b\":\"c\"}",
	    "{\"a\":\"b\",\"b\":\"c\"}",
	    "json merge patch: a member is added (RFC 7396 A.2)" },
	{ __LINE__, "{\"a\":\"b\"}", "{\"a\":null}",
	    "{}",
	    "json merge patch: null removes the only member (RFC 7396 A.3)" },
	{ __LINE__, "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}",
	    "{\"b\":\"c\"}",
	    "json merge patch: null removes one member (RFC 7396 A.4)" },
	{ __LINE__, "{\"a\":[\"b\"]}", "{\"a\":\"c\"}",
	    "{\"a\":\"c\"}",
	    "json merge patch: an array replaced by a string (RFC 7396 A.5)" },
	{ __LINE__, "{\"a\":\"c\"}", "{\"a\":[\"b\"]}",
	    "{\"a\":[\"b\"]}",
	    "json merge patch: a string replaced by an array (RFC 7396 A.6)" },
	{ __LINE__, "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
	    "{\"a\":{\"b\":\"d\"}}",
	    "json merge patch: objects merge recursively (RFC 7396 A.7)" },
	{ __LINE__, "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}",
	    "{\"a\":[1]}",
	    "json merge patch: arrays are replaced wholesale (RFC 7396 A.8)" },
	{ __LINE__, "{\"e\":null}", "{\"a\":1}",
	    "{\"e\":null,\"a\":1}",
	    "json merge patch: a null already in the target stays "
	    "(RFC 7396 A.13)" },
	{ __LINE__, "{\"x\":[1,2]}", "{\"x\":{\"a\":\"b\",\"c\":null}}",
	    "{\"x\":{\"a\":\"b\"}}",
	    "json merge patch: a non-object member patched by an object "
	    "becomes one (RFC 7396 A.14)" },
	{ __LINE__, "{\"x\":\"s\"}", "{\"x\":{\"a\":1}}",
	    "{\"x\":{\"a\":1}}",
	    "json merge patch: a string member patched by an object becomes "
	    "the object" },
	{ __LINE__, "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}",
	    "{\"a\":{\"bb\":{}}}",
	    "json merge patch: nulls inside a new object are dropped "
	    "(RFC 7396 A.15)" },
	{ __LINE__, "{\"a\":1}", "{\"b\":null}",
	    "{\"a\":1}",
	    "json merge patch: removing an absent member changes nothing" },
	{ __LINE__, "{\"a\":{\"b\":[1,2]}}", "{}",
	    "{\"a\":{\"b\":[1,2]}}",
	    "json merge patch: the empty patch changes nothing" },
	{ __LINE__, "{\"a\":1}", "{\"b\":{\"c\":{\"d\":[true,{\"e\":\"f\"}]}}}",
	    "{\"a\":1,\"b\":{\"c\":{\"d\":[true,{\"e\":\"f\"}]}}}",
	    "json merge patch: a new nested value is copied from the patch" },
	{ __LINE__, "{\"a\":\"x\",\"k\":0}",
	    "{\"a\":1.5,\"b\":true,\"c\":-3,\"d\":\"s/t\",\"e\":false}",
	    "{\"a\":1.5,\"b\":true,\"c\":-3,\"d\":\"s/t\",\"e\":false,\"k\":0}",
	    "json merge patch: numbers, booleans and strings are copied" },
};

static void
test_json_merge_cases(void)
{
	const struct merge_case	*t;
	size_t			 i;

	for (i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		t = &merge_cases[i];
		if (!merge(t->target, t->patch, t->want, t->name))
			tap_diag("merge case at line %d", t->line);
	}
}

static void
test_json_raw_verbatim(void)
{
	static const char	 text[] = "{\"a\":[1,2],\"u\":\"x/y\","
	    "\"q\":\"\\\"\"}";
	struct json_object	*o = json_object_new_object();

	TAP_SETUP(json_object_object_add(o, "id",
	    json_object_new_string("r1")) == 0);
	TAP_SETUP(json_object_object_add(o, "data",
	    rs_json_raw(text, strlen(text))) == 0);
	TAP_IS_STR(rs_json_compact(o), "{\"id\":\"r1\",\"data\":{\"a\":[1,2],"
	    "\"u\":\"x/y\",\"q\":\"\\\"\"}}",
	    "json raw: serialises its text verbatim inside an object");
	json_object_put(o);
}

static void
test_json_raw_len(void)
{
	static const char	 text[] = "[1,2]trailing";
	struct json_object	*o = json_object_new_object();

	TAP_SETUP(json_object_object_add(o, "d", rs_json_raw(text, 5)) == 0);
	TAP_IS_STR(rs_json_compact(o), "{\"d\":[1,2]}",
	    "json raw: only the first len bytes are emitted");
	json_object_put(o);
}

static void
test_json_raw_pretty(void)
{
	static const char	 text[] = "{\"a\":1}";
	struct json_object	*o = json_object_new_object();

	TAP_SETUP(json_object_object_add(o, "d",
	    rs_json_raw(text, strlen(text))) == 0);
	TAP_HAS_STR(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY), "{\"a\":1}",
	    "json raw: emitted as it is under any flags");
	json_object_put(o);
}

static void
test_json_raw_string_value(void)
{
	struct json_object	*o = rs_json_raw("{\"a\":1}", 7);

	TAP_IS_STR(json_object_get_string(o), "{\"a\":1}",
	    "json raw: holds the text as its string value");
	TAP_IS_STR(rs_json_compact(o), "{\"a\":1}",
	    "json raw: serialises alone as the text itself");
	json_object_put(o);
}

static void
test_json_raw_known(void)
{
	struct json_object	*a = json_object_new_array();
	struct json_object	*r = rs_json_raw("{\"b\":2,\"a\":1}", 13);
	struct json_object	*p = json_object_new_string("{\"a\":1}");
	char			*c;

	TAP_SETUP(a != NULL && r != NULL && p != NULL);
	TAP_OK(rs_json_is_raw(r) && !rs_json_is_raw(p) &&
	    !rs_json_is_raw(a), "json raw: known as raw; a plain string and "
	    "an array are not");
	json_object_array_add(a, r);
	json_object_array_add(a, p);
	c = rs_json_canonical(a);
	TAP_IS_STR(c, "[{\"b\":2,\"a\":1},\"{\\\"a\\\":1}\"]",
	    "json canonical: a raw string prints as its text, a plain one as "
	    "a string");
	free(c);
	json_object_put(a);
}

int
main(void)
{
	tap_plan(97);

	test_json_object();
	test_json_null();
	test_json_parse_cases();
	test_json_depth_limit();
	test_json_depth_over();
	test_json_surrogate_pair();
	test_json_bmp_escape();
	test_json_error_offset_duplicate();
	test_json_int64();
	test_json_negative_zero();
	test_json_exponent();
	test_json_canonical_sorted();
	test_json_canonical_equal();
	test_json_canonical_differs();
	test_json_canonical_bytewise();
	test_json_canonical_no_slash_escape();
	test_json_canonical_scalars_as_jsonc();
	test_json_merge_cases();
	test_json_raw_verbatim();
	test_json_raw_len();
	test_json_raw_pretty();
	test_json_raw_string_value();
	test_json_raw_known();

	return tap_done();
}
