/*
 * test-query: percent-decoding and query-string parsing (lib/query.h).
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "query.h"
#include "tap.h"

static struct rs_arena	 arena;

/* Decodes s (all of it); NULL with *why on refusal. */
static char *
decode(const char *s, int plus, const char **why)
{
	*why = NULL;
	return rs_query_decode(&arena, s, strlen(s), plus, why);
}

static void
test_query_decode_percent(void)
{
	const char	*why;

	TAP_IS_STR(decode("%41b%2fc", 0, &why), "Ab/c",
	    "query decode: %41 and %2f decode");
}

static void
test_query_decode_utf8_escape(void)
{
	const char	*why;

	TAP_IS_STR(decode("caf%C3%A9", 0, &why), "caf\xc3\xa9",
	    "query decode: escaped two-byte UTF-8 accepted");
}

static void
test_query_decode_plus_in_query(void)
{
	const char	*why;

	TAP_IS_STR(decode("two+words", 1, &why), "two words",
	    "query decode: '+' is a space in a query");
}

static void
test_query_decode_plus_in_path(void)
{
	const char	*why;

	TAP_IS_STR(decode("/v1/a+b", 0, &why), "/v1/a+b",
	    "query decode: '+' stays '+' in a path");
}

static void
test_query_decode_truncated(void)
{
	const char	*why;

	TAP_IS_STR(decode("ab%4", 1, &why), NULL,
	    "query decode: truncated %4 refused");
	TAP_HAS_STR(why, "truncated", "query decode: truncated says why");
}

static void
test_query_decode_bad_hex(void)
{
	const char	*why;

	TAP_IS_STR(decode("%zz", 1, &why), NULL,
	    "query decode: %zz refused");
	TAP_HAS_STR(why, "bad percent escape",
	    "query decode: %zz says why");
}

static void
test_query_decode_nul(void)
{
	const char	*why;

	TAP_IS_STR(decode("a%00b", 1, &why), NULL,
	    "query decode: %00 refused");
	TAP_HAS_STR(why, "NUL", "query decode: %00 says why");
}

static void
test_query_decode_bad_utf8(void)
{
	const char	*why;

	TAP_IS_STR(decode("%ff", 1, &why), NULL,
	    "query decode: %ff (invalid UTF-8) refused");
	TAP_HAS_STR(why, "UTF-8", "query decode: %ff says why");
}

static void
test_query_parse_pairs(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena, "a=1&b=two+words", &q, err,
	    sizeof(err)), 0, "query parse: a=1&b=two+words accepted");
	TAP_IS_INT(q.n, 2, "query parse: two pairs");
	TAP_IS_STR(rs_query_get(&q, "a"), "1", "query parse: a is 1");
	TAP_IS_STR(rs_query_get(&q, "b"), "two words",
	    "query parse: b is decoded with spaces");
	TAP_IS_STR(rs_query_get(&q, "c"), NULL,
	    "query parse: absent name is NULL");
}

static void
test_query_parse_empty_pairs(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena, "a=1&&b=2&", &q, err,
	    sizeof(err)), 0, "query parse: empty pairs skipped");
	TAP_IS_INT(q.n, 2, "query parse: a=1&&b=2& has two pairs");
	TAP_IS_STR(rs_query_get(&q, "b"), "2",
	    "query parse: pair after an empty one read");
}

static void
test_query_parse_null_and_empty(void)
{
	struct rs_query	 q;
	char		 err[128];

	q.n = 99;
	TAP_OK(rs_query_parse(&arena, NULL, &q, err, sizeof(err)) == 0 &&
	    q.n == 0, "query parse: NULL query is empty");
	q.n = 99;
	TAP_OK(rs_query_parse(&arena, "", &q, err, sizeof(err)) == 0 &&
	    q.n == 0, "query parse: empty query is empty");
}

static void
test_query_parse_flag(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena, "flag", &q, err, sizeof(err)), 0,
	    "query parse: name without value accepted");
	TAP_IS_STR(rs_query_get(&q, "flag"), "",
	    "query parse: name without value has empty value");
}

static void
test_query_parse_duplicate(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena, "limit=1&x=2&limit=3", &q, err,
	    sizeof(err)), -1, "query parse: duplicate name refused");
	TAP_HAS_STR(err, "\"limit\"",
	    "query parse: duplicate message names the parameter");
}

static void
test_query_parse_duplicate_escaped(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena, "a=1&%61=2", &q, err,
	    sizeof(err)), -1,
	    "query parse: duplicate after decoding refused");
}

static void
test_query_parse_bad_escape(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena, "a=%zz", &q, err, sizeof(err)),
	    -1, "query parse: bad escape in a value refused");
	TAP_HAS_STR(err, "malformed", "query parse: bad escape says why");
}

/* Builds "p0=1&p1=1&..." with n pairs into buf. */
static void
many_params(char *buf, size_t bufsz, int n)
{
	size_t	 len = 0;
	int	 i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, bufsz - len, "%sp%d=1",
		    i ? "&" : "", i);
}

static void
test_query_parse_max_params(void)
{
	struct rs_query	 q;
	char		 qs[1024], err[128];

	many_params(qs, sizeof(qs), RS_MAX_QUERY_PARAMS);
	TAP_IS_INT(rs_query_parse(&arena, qs, &q, err, sizeof(err)), 0,
	    "query parse: RS_MAX_QUERY_PARAMS params accepted");
	TAP_IS_INT(q.n, RS_MAX_QUERY_PARAMS,
	    "query parse: all RS_MAX_QUERY_PARAMS params kept");
}

static void
test_query_parse_too_many_params(void)
{
	struct rs_query	 q;
	char		 qs[1024], err[128];

	many_params(qs, sizeof(qs), RS_MAX_QUERY_PARAMS + 1);
	TAP_IS_INT(rs_query_parse(&arena, qs, &q, err, sizeof(err)), -1,
	    "query parse: RS_MAX_QUERY_PARAMS + 1 params refused");
	TAP_HAS_STR(err, "query parameters",
	    "query parse: too many params says why");
}

/* "v=" followed by n 'x' characters, in the arena. */
static char *
long_value(size_t n)
{
	char	*s = rs_arena_alloc(&arena, n + 3);

	memcpy(s, "v=", 2);
	memset(s + 2, 'x', n);
	s[n + 2] = '\0';
	return s;
}

static void
test_query_parse_value_at_limit(void)
{
	struct rs_query	 q;
	char		 err[128];
	const char	*v;

	TAP_IS_INT(rs_query_parse(&arena, long_value(RS_MAX_QUERY_VALUE), &q,
	    err, sizeof(err)), 0,
	    "query parse: value of RS_MAX_QUERY_VALUE bytes accepted");
	v = rs_query_get(&q, "v");
	TAP_IS_INT(v == NULL ? 0 : strlen(v), RS_MAX_QUERY_VALUE,
	    "query parse: value at the limit kept whole");
}

static void
test_query_parse_value_too_long(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_IS_INT(rs_query_parse(&arena,
	    long_value(RS_MAX_QUERY_VALUE + 1), &q, err, sizeof(err)), -1,
	    "query parse: value over RS_MAX_QUERY_VALUE refused");
	TAP_HAS_STR(err, "too long",
	    "query parse: over-long value says why");
}

/*
 * limits.h defines RS_MAX_QUERY_VALUE as the bound on one *decoded*
 * value, but rs_query_parse compares the encoded length: 600 bytes of
 * escaped UTF-8 (1800 bytes on the wire) are refused.
 */
static void
test_query_parse_value_limit_is_decoded(void)
{
	struct rs_query	 q;
	char		 err[128], *qs;
	size_t		 i, n = 200;	/* U+4E2D, 3 bytes each */

	qs = rs_arena_alloc(&arena, 2 + n * 9 + 1);
	memcpy(qs, "v=", 2);
	for (i = 0; i < n; i++)
		memcpy(qs + 2 + i * 9, "%E4%B8%AD", 9);
	qs[2 + n * 9] = '\0';
	TAP_IS_INT(rs_query_parse(&arena, qs, &q, err, sizeof(err)), 0,
	    "query parse: 600 decoded bytes (1800 encoded) accepted");
}

static void
test_query_unknown_allowed(void)
{
	static const char *const allowed[] = { "limit", "cursor", NULL };
	struct rs_query	 q;
	char		 err[128];

	rs_query_parse(&arena, "limit=5&sort=x", &q, err, sizeof(err));
	TAP_IS_STR(rs_query_unknown(&q, allowed), "sort",
	    "query unknown: names the parameter not allowed");
	rs_query_parse(&arena, "cursor=a&limit=5", &q, err, sizeof(err));
	TAP_IS_STR(rs_query_unknown(&q, allowed), NULL,
	    "query unknown: NULL when all are allowed");
}

static void
test_query_unknown_null_list(void)
{
	struct rs_query	 q;
	char		 err[128];

	rs_query_parse(&arena, "limit=5", &q, err, sizeof(err));
	TAP_IS_STR(rs_query_unknown(&q, NULL), "limit",
	    "query unknown: NULL list admits no parameter");
	rs_query_parse(&arena, "", &q, err, sizeof(err));
	TAP_IS_STR(rs_query_unknown(&q, NULL), NULL,
	    "query unknown: NULL list and empty query is fine");
}

int
main(void)
{
	rs_arena_init(&arena);

	test_query_decode_percent();
	test_query_decode_utf8_escape();
	test_query_decode_plus_in_query();
	test_query_decode_plus_in_path();
	test_query_decode_truncated();
	test_query_decode_bad_hex();
	test_query_decode_nul();
	test_query_decode_bad_utf8();
	test_query_parse_pairs();
	test_query_parse_empty_pairs();
	test_query_parse_null_and_empty();
	test_query_parse_flag();
	test_query_parse_duplicate();
	test_query_parse_duplicate_escaped();
	test_query_parse_bad_escape();
	test_query_parse_max_params();
	test_query_parse_too_many_params();
	test_query_parse_value_at_limit();
	test_query_parse_value_too_long();
	test_query_parse_value_limit_is_decoded();
	test_query_unknown_allowed();
	test_query_unknown_null_list();

	rs_arena_free(&arena);
	return tap_done();
}
