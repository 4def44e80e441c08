/*
 * test-json: the strict JSON parser, the canonical form, raw JSON text
 * and JSON Merge Patch (lib/json.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

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

/* Canonical form of s, malloc'd, or NULL when s does not parse. */
static char *
canonical(const char *s)
{
	struct json_object	*o;
	char			*c;

	if (parse(s, &o) != 0)
		return NULL;
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

static void
test_json_empty(void)
{
	TAP_OK(refused(""), "json parse: empty input refused");
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
test_json_duplicate(void)
{
	TAP_OK(refused("{\"a\":1,\"b\":2,\"a\":3}"),
	    "json parse: duplicate member refused");
	TAP_HAS_STR(err, "given twice",
	    "json parse: duplicate member says given twice");
}

static void
test_json_duplicate_null(void)
{
	TAP_OK(refused("{\"a\":null,\"a\":1}"),
	    "json parse: duplicate of a null member refused");
}

static void
test_json_duplicate_nested_ok(void)
{
	struct json_object	*o = NULL;

	TAP_IS_INT(parse("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", &o), 0,
	    "json parse: same name in different objects accepted");
	json_object_put(o);
}

static void
test_json_bad_utf8(void)
{
	TAP_OK(refused("\"\xff\""), "json parse: byte 0xff refused");
	TAP_HAS_STR(err, "UTF-8", "json parse: 0xff says UTF-8");
	TAP_OK(refused("\"\xc0\xaf\""),
	    "json parse: overlong 0xc0 0xaf refused");
	TAP_OK(refused("\"\xed\xa0\x80\""),
	    "json parse: UTF-8 encoded surrogate refused");
	TAP_OK(refused("\"\xe4\xb8\""),
	    "json parse: truncated UTF-8 sequence refused");
}

static void
test_json_good_utf8(void)
{
	struct json_object	*o = NULL;

	TAP_IS_INT(parse("\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"", &o), 0,
	    "json parse: 2-, 3- and 4-byte UTF-8 accepted");
	json_object_put(o);
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

	parse("\"\\u00e9\\u4E2D\"", &o);
	TAP_IS_STR(json_object_get_string(o), "\xc3\xa9\xe4\xb8\xad",
	    "json parse: \\u escapes decode to UTF-8");
	json_object_put(o);
}

static void
test_json_lone_surrogates(void)
{
	TAP_OK(refused("\"\\udc00\""), "json parse: lone low surrogate refused");
	TAP_OK(refused("\"\\ud83d\""),
	    "json parse: lone high surrogate refused");
	TAP_OK(refused("\"\\ud83d\\u0041\""),
	    "json parse: high surrogate with a non-surrogate refused");
}

static void
test_json_control_char(void)
{
	TAP_OK(refused("\"a\x01z\""),
	    "json parse: control character in string refused");
	TAP_OK(refused("\"a\nz\""),
	    "json parse: raw newline in string refused");
}

static void
test_json_bad_escape(void)
{
	TAP_OK(refused("\"\\x41\""), "json parse: \\x escape refused");
}

static void
test_json_nul_in_name(void)
{
	TAP_OK(refused("{\"a\\u0000b\":1}"),
	    "json parse: U+0000 in a member name refused");
}

static void
test_json_trailing(void)
{
	struct json_object	*o = NULL;

	TAP_OK(refused("{} x"), "json parse: trailing garbage refused");
	TAP_OK(refused("1 2"), "json parse: two values refused");
	TAP_IS_INT(parse("{}\n\t ", &o), 0,
	    "json parse: trailing whitespace accepted");
	json_object_put(o);
}

static void
test_json_error_offset(void)
{
	TAP_OK(refused("{\"a\": }"), "json parse: missing value refused");
	TAP_HAS_STR(err, "at byte 6:",
	    "json parse: error names the byte offset");
}

static void
test_json_error_offset_duplicate(void)
{
	refused("{\"a\":1, \"a\":2}");
	TAP_HAS_STR(err, "at byte 8:",
	    "json parse: duplicate error points at the second name");
}

static void
test_json_int64(void)
{
	struct json_object	*o = NULL;

	parse("9223372036854775807", &o);
	TAP_OK(json_object_is_type(o, json_type_int) &&
	    json_object_get_int64(o) == INT64_MAX,
	    "json parse: INT64_MAX is an int64");
	json_object_put(o);
	o = NULL;
	parse("-9223372036854775808", &o);
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

	parse("1e2", &o);
	TAP_OK(json_object_is_type(o, json_type_double) &&
	    json_object_get_double(o) == 100.0,
	    "json parse: 1e2 is the double 100");
	json_object_put(o);
}

static void
test_json_number_refusals(void)
{
	TAP_OK(refused("1e999"), "json parse: 1e999 refused");
	TAP_HAS_STR(err, "out of range", "json parse: 1e999 says why");
	TAP_OK(refused("01"), "json parse: leading zero refused");
	TAP_OK(refused("1."), "json parse: 1. refused");
	TAP_OK(refused("-"), "json parse: lone minus refused");
	TAP_OK(refused("+1"), "json parse: leading plus refused");
	TAP_OK(refused(".5"), "json parse: leading dot refused");
}

static void
test_json_literals(void)
{
	TAP_OK(refused("tru"), "json parse: truncated literal refused");
	TAP_OK(refused("True"), "json parse: capitalised literal refused");
	TAP_OK(refused("{'a':1}"), "json parse: single quotes refused");
	TAP_OK(refused("[1,]"), "json parse: trailing comma refused");
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

/*
 * Applies the merge patch patch to target (both JSON objects as text) and
 * compares the canonical result with want; patch is released before the
 * result is read, so the result must own what it took from it.
 */
static void
merge(const char *target, const char *patch, const char *want,
    const char *name)
{
	struct json_object	*t = NULL, *p = NULL;
	char			*got = NULL, *exp = canonical(want);

	if (parse(target, &t) != 0 || parse(patch, &p) != 0) {
		TAP_OK(0, name);
		tap_diag("bad test JSON: %s", err);
	} else if (!TAP_IS_INT(rs_json_merge_patch(t, p), 0, name)) {
		/* counted */
	} else {
		json_object_put(p);
		p = NULL;
		got = rs_json_canonical(t);
		TAP_IS_STR(got, exp, name);
	}
	json_object_put(p);
	json_object_put(t);
	free(got);
	free(exp);
}

static void
test_json_merge_replace(void)
{
	merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}",
	    "json merge patch: a member is replaced (RFC 7396 A.1)");
}

static void
test_json_merge_add(void)
{
	merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}",
	    "json merge patch: a member is added (RFC 7396 A.2)");
}

static void
test_json_merge_remove(void)
{
	merge("{\"a\":\"b\"}", "{\"a\":null}", "{}",
	    "json merge patch: null removes the only member (RFC 7396 A.3)");
}

static void
test_json_merge_remove_one(void)
{
	merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}",
	    "json merge patch: null removes one member (RFC 7396 A.4)");
}

static void
test_json_merge_array_by_scalar(void)
{
	merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}",
	    "json merge patch: an array replaced by a string (RFC 7396 A.5)");
}

static void
test_json_merge_scalar_by_array(void)
{
	merge("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}",
	    "json merge patch: a string replaced by an array (RFC 7396 A.6)");
}

static void
test_json_merge_nested(void)
{
	merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
	    "{\"a\":{\"b\":\"d\"}}",
	    "json merge patch: objects merge recursively (RFC 7396 A.7)");
}

static void
test_json_merge_array_wholesale(void)
{
	merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}",
	    "json merge patch: arrays are replaced wholesale (RFC 7396 A.8)");
}

static void
test_json_merge_keeps_null_member(void)
{
	merge("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}",
	    "json merge patch: a null already in the target stays "
	    "(RFC 7396 A.13)");
}

static void
test_json_merge_non_object_member(void)
{
	merge("{\"x\":[1,2]}", "{\"x\":{\"a\":\"b\",\"c\":null}}",
	    "{\"x\":{\"a\":\"b\"}}",
	    "json merge patch: a non-object member patched by an object "
	    "becomes one (RFC 7396 A.14)");
	merge("{\"x\":\"s\"}", "{\"x\":{\"a\":1}}", "{\"x\":{\"a\":1}}",
	    "json merge patch: a string member patched by an object becomes "
	    "the object");
}

static void
test_json_merge_nested_null_in_new(void)
{
	merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}",
	    "json merge patch: nulls inside a new object are dropped "
	    "(RFC 7396 A.15)");
}

static void
test_json_merge_remove_absent(void)
{
	merge("{\"a\":1}", "{\"b\":null}", "{\"a\":1}",
	    "json merge patch: removing an absent member changes nothing");
}

static void
test_json_merge_empty_patch(void)
{
	merge("{\"a\":{\"b\":[1,2]}}", "{}", "{\"a\":{\"b\":[1,2]}}",
	    "json merge patch: the empty patch changes nothing");
}

static void
test_json_merge_deep_object_value(void)
{
	merge("{\"a\":1}", "{\"b\":{\"c\":{\"d\":[true,{\"e\":\"f\"}]}}}",
	    "{\"a\":1,\"b\":{\"c\":{\"d\":[true,{\"e\":\"f\"}]}}}",
	    "json merge patch: a new nested value is copied from the patch");
}

static void
test_json_merge_scalar_types(void)
{
	merge("{\"a\":\"x\",\"k\":0}",
	    "{\"a\":1.5,\"b\":true,\"c\":-3,\"d\":\"s/t\",\"e\":false}",
	    "{\"a\":1.5,\"b\":true,\"c\":-3,\"d\":\"s/t\",\"e\":false,"
	    "\"k\":0}",
	    "json merge patch: numbers, booleans and strings are copied");
}

static void
test_json_raw_verbatim(void)
{
	static const char	 text[] = "{\"a\":[1,2],\"u\":\"x/y\","
	    "\"q\":\"\\\"\"}";
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string("r1"));
	json_object_object_add(o, "data", rs_json_raw(text, strlen(text)));
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

	json_object_object_add(o, "d", rs_json_raw(text, 5));
	TAP_IS_STR(rs_json_compact(o), "{\"d\":[1,2]}",
	    "json raw: only the first len bytes are emitted");
	json_object_put(o);
}

static void
test_json_raw_pretty(void)
{
	static const char	 text[] = "{\"a\":1}";
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "d", rs_json_raw(text, strlen(text)));
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

int
main(void)
{
	test_json_object();
	test_json_null();
	test_json_empty();
	test_json_depth_limit();
	test_json_depth_over();
	test_json_duplicate();
	test_json_duplicate_null();
	test_json_duplicate_nested_ok();
	test_json_bad_utf8();
	test_json_good_utf8();
	test_json_surrogate_pair();
	test_json_bmp_escape();
	test_json_lone_surrogates();
	test_json_control_char();
	test_json_bad_escape();
	test_json_nul_in_name();
	test_json_trailing();
	test_json_error_offset();
	test_json_error_offset_duplicate();
	test_json_int64();
	test_json_negative_zero();
	test_json_exponent();
	test_json_number_refusals();
	test_json_literals();
	test_json_canonical_sorted();
	test_json_canonical_equal();
	test_json_canonical_differs();
	test_json_canonical_bytewise();
	test_json_canonical_no_slash_escape();
	test_json_merge_replace();
	test_json_merge_add();
	test_json_merge_remove();
	test_json_merge_remove_one();
	test_json_merge_array_by_scalar();
	test_json_merge_scalar_by_array();
	test_json_merge_nested();
	test_json_merge_array_wholesale();
	test_json_merge_keeps_null_member();
	test_json_merge_non_object_member();
	test_json_merge_nested_null_in_new();
	test_json_merge_remove_absent();
	test_json_merge_empty_patch();
	test_json_merge_deep_object_value();
	test_json_merge_scalar_types();
	test_json_raw_verbatim();
	test_json_raw_len();
	test_json_raw_pretty();
	test_json_raw_string_value();

	return tap_done();
}
