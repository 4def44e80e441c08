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

/*
 * One decode case: in (all of it, '+' a space when plus is set) decodes
 * to want, or, when want is NULL, is refused with a reason containing
 * why. The check names are name and, for a refusal, why_name.
 */
static const struct decode_case {
	int		 line;
	const char	*in;
	int		 plus;
	const char	*want;
	const char	*why;
	const char	*name;
	const char	*why_name;
} decode_cases[] = {
	{ __LINE__, "%41b%2fc", 0, "Ab/c", NULL,
	    "query decode: %41 and %2f decode", NULL },
	{ __LINE__, "caf%C3%A9", 0, "caf\xc3\xa9", NULL,
	    "query decode: escaped two-byte UTF-8 accepted", NULL },
	{ __LINE__, "two+words", 1, "two words", NULL,
	    "query decode: '+' is a space in a query", NULL },
	{ __LINE__, "/v1/a+b", 0, "/v1/a+b", NULL,
	    "query decode: '+' stays '+' in a path", NULL },
	{ __LINE__, "ab%4", 1, NULL, "truncated",
	    "query decode: truncated %4 refused",
	    "query decode: truncated says why" },
	{ __LINE__, "%zz", 1, NULL, "bad percent escape",
	    "query decode: %zz refused",
	    "query decode: %zz says why" },
	{ __LINE__, "a%00b", 1, NULL, "NUL",
	    "query decode: %00 refused",
	    "query decode: %00 says why" },
	{ __LINE__, "%ff", 1, NULL, "UTF-8",
	    "query decode: %ff (invalid UTF-8) refused",
	    "query decode: %ff says why" },
};

static void
test_query_decode_cases(void)
{
	const struct decode_case	*t;
	const char			*why;
	size_t				 i;

	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		t = &decode_cases[i];
		if (!TAP_IS_STR(decode(t->in, t->plus, &why), t->want, t->name))
			tap_diag("decode case at line %d", t->line);
		if (t->want == NULL && !TAP_HAS_STR(why, t->why, t->why_name))
			tap_diag("decode case at line %d", t->line);
	}
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

	TAP_SETUP(rs_query_parse(&arena, "limit=5&sort=x", &q, err,
	    sizeof(err)) == 0);
	TAP_IS_STR(rs_query_unknown(&q, allowed), "sort",
	    "query unknown: names the parameter not allowed");
	TAP_SETUP(rs_query_parse(&arena, "cursor=a&limit=5", &q, err,
	    sizeof(err)) == 0);
	TAP_IS_STR(rs_query_unknown(&q, allowed), NULL,
	    "query unknown: NULL when all are allowed");
}

static void
test_query_unknown_null_list(void)
{
	struct rs_query	 q;
	char		 err[128];

	TAP_SETUP(rs_query_parse(&arena, "limit=5", &q, err, sizeof(err)) == 0);
	TAP_IS_STR(rs_query_unknown(&q, NULL), "limit",
	    "query unknown: NULL list admits no parameter");
	TAP_SETUP(rs_query_parse(&arena, "", &q, err, sizeof(err)) == 0);
	TAP_IS_STR(rs_query_unknown(&q, NULL), NULL,
	    "query unknown: NULL list and empty query is fine");
}

int
main(void)
{
	tap_plan(42);
	rs_arena_init(&arena);

	test_query_decode_cases();
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
