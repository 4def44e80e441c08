/*
 * test-num: decimal numbers from outside input (lib/num.h), one case
 * table in the manner of lighttpd's src/t/test_burl.c: each row gives
 * its source line, the input, the range and what rs_num_parse() must
 * answer. Every row checks both the value and errstr, so a success
 * always has errstr NULL and a failure always has value 0.
 *
 * "007" is 7: the code parses base 10 with strtoll(), so leading zeros
 * are accepted and never mean octal (num.h only forbids spaces, '+' and
 * trailing bytes). "-0" is likewise 0.
 */
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "num.h"
#include "tap.h"

struct num_case {
	int		 line;
	const char	*in;
	long long	 min;
	long long	 max;
	long long	 want;
	const char	*err;		/* NULL: success */
};

static const struct num_case cases[] = {
	/* in range */
	{ __LINE__, "0", 0, 10, 0, NULL },
	{ __LINE__, "5", 0, 10, 5, NULL },
	{ __LINE__, "-5", -10, 10, -5, NULL },
	{ __LINE__, "-0", 0, 10, 0, NULL },
	{ __LINE__, "007", 0, 10, 7, NULL },	/* decimal, not octal */
	{ __LINE__, "010", 0, 100, 10, NULL },	/* not octal either */
	/* the bounds themselves */
	{ __LINE__, "1", 1, 100, 1, NULL },
	{ __LINE__, "100", 1, 100, 100, NULL },
	{ __LINE__, "-10", -10, -1, -10, NULL },
	{ __LINE__, "-1", -10, -1, -1, NULL },
	{ __LINE__, "7", 7, 7, 7, NULL },
	/* one past them */
	{ __LINE__, "0", 1, 100, 0, "too small" },
	{ __LINE__, "101", 1, 100, 0, "too large" },
	{ __LINE__, "-11", -10, -1, 0, "too small" },
	{ __LINE__, "0", -10, -1, 0, "too large" },
	{ __LINE__, "-1", 0, 10, 0, "too small" },
	/* the whole long long range */
	{ __LINE__, "9223372036854775807", LLONG_MIN, LLONG_MAX, LLONG_MAX,
	    NULL },
	{ __LINE__, "-9223372036854775808", LLONG_MIN, LLONG_MAX, LLONG_MIN,
	    NULL },
	{ __LINE__, "9223372036854775808", LLONG_MIN, LLONG_MAX, 0,
	    "too large" },
	{ __LINE__, "-9223372036854775809", LLONG_MIN, LLONG_MAX, 0,
	    "too small" },
	{ __LINE__, "99999999999999999999999", LLONG_MIN, LLONG_MAX, 0,
	    "too large" },
	{ __LINE__, "-99999999999999999999999", LLONG_MIN, LLONG_MAX, 0,
	    "too small" },
	/* overflow is judged as overflow even in a narrow range */
	{ __LINE__, "99999999999999999999", 0, 100, 0, "too large" },
	{ __LINE__, "-99999999999999999999", 0, 100, 0, "too small" },
	/* not a number at all */
	{ __LINE__, "", 0, 10, 0, "invalid" },
	{ __LINE__, NULL, 0, 10, 0, "invalid" },
	{ __LINE__, " 5", 0, 10, 0, "invalid" },
	{ __LINE__, "\t5", 0, 10, 0, "invalid" },
	{ __LINE__, "+5", 0, 10, 0, "invalid" },
	{ __LINE__, "5 ", 0, 10, 0, "invalid" },
	{ __LINE__, "5\n", 0, 10, 0, "invalid" },
	{ __LINE__, "12a", 0, 100, 0, "invalid" },
	{ __LINE__, "a12", 0, 100, 0, "invalid" },
	{ __LINE__, "-", -10, 10, 0, "invalid" },
	{ __LINE__, "--5", -10, 10, 0, "invalid" },
	{ __LINE__, "-+5", -10, 10, 0, "invalid" },
	{ __LINE__, "- 5", -10, 10, 0, "invalid" },
	{ __LINE__, "0x10", 0, 100, 0, "invalid" },
	{ __LINE__, "1.5", 0, 10, 0, "invalid" },
	{ __LINE__, "1e3", 0, 10000, 0, "invalid" },
	/* invalid wins over out of range */
	{ __LINE__, "1000x", 0, 10, 0, "invalid" },
};

#define NCASES	((int)(sizeof(cases) / sizeof(cases[0])))

/* s quoted for a TAP name: control bytes escaped, NULL as NULL. */
static const char *
shown(char *buf, size_t bufsz, const char *s)
{
	size_t	 n = 0;

	if (s == NULL)
		return "NULL";
	n += (size_t)snprintf(buf, bufsz, "\"");
	for (; *s != '\0' && n + 6 < bufsz; s++) {
		if (*s == '\t')
			n += (size_t)snprintf(buf + n, bufsz - n, "\\t");
		else if (*s == '\n')
			n += (size_t)snprintf(buf + n, bufsz - n, "\\n");
		else
			buf[n++] = *s;
	}
	snprintf(buf + n, bufsz - n, "\"");
	return buf;
}

static void
test_num_case(const struct num_case *c)
{
	const char	*err = "(not set)";
	long long	 v;
	char		 name[160], in[64];

	v = rs_num_parse(c->in, c->min, c->max, &err);
	snprintf(name, sizeof(name), "num parse (line %d): %s in "
	    "[%lld, %lld] gives %lld", c->line, shown(in, sizeof(in), c->in),
	    c->min, c->max, c->want);
	if (!TAP_IS_INT(v, c->want, name))
		tap_diag("case at %s:%d", __FILE__, c->line);
	snprintf(name, sizeof(name), "num parse (line %d): errstr is %s",
	    c->line, c->err ? c->err : "NULL");
	if (!TAP_IS_STR(err, c->err, name))
		tap_diag("case at %s:%d", __FILE__, c->line);
}

/* rs_num_text() against printf, at the edges and between. */
static void
test_num_text(void)
{
	static const int64_t	 v[] = { 0, 1, -1, 9, 10, -10, 99, 100,
	    1234567890, -1234567890, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	char			 buf[RS_NUM_TEXT_MAX + 1], want[32], name[64];
	char			*p;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf[RS_NUM_TEXT_MAX] = '\0';
		p = rs_num_text(buf + RS_NUM_TEXT_MAX, v[i]);
		snprintf(want, sizeof(want), "%" PRId64, v[i]);
		snprintf(name, sizeof(name), "num text: %s", want);
		TAP_IS_STR(p, want, name);
	}
}

#define NTEXT	13

int
main(void)
{
	int	 i;

	tap_plan(2 * NCASES + NTEXT);
	for (i = 0; i < NCASES; i++)
		test_num_case(&cases[i]);
	test_num_text();
	return tap_done();
}
