/*
 * test-arena: per-request memory (lib/arena.h), and the small pure
 * helpers that use it or nothing: field validators (lib/valid.h) and
 * RFC 3339 time (lib/clock.h).
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "limits.h"
#include "arena.h"
#include "clock.h"
#include "json.h"
#include "valid.h"
#include "tap.h"

/* 1 when p is aligned for any object. */
static int
aligned(const void *p)
{
	return (uintptr_t)p % alignof(max_align_t) == 0;
}

static void
test_arena_alignment(void)
{
	struct rs_arena	 a;
	size_t		 sizes[] = { 1, 3, 7, 8, 13, 16, 17, 31, 100 };
	size_t		 i;
	int		 bad = 0;

	rs_arena_init(&a);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!aligned(rs_arena_alloc(&a, sizes[i])))
			bad++;
	TAP_IS_INT(bad, 0, "arena alloc: every pointer max-aligned");
	rs_arena_free(&a);
}

static void
test_arena_distinct(void)
{
	struct rs_arena	 a;
	char		*p, *q;

	rs_arena_init(&a);
	p = rs_arena_alloc(&a, 5);
	q = rs_arena_alloc(&a, 5);
	TAP_OK(p != NULL && q != NULL && (q >= p + 5 || p >= q + 5),
	    "arena alloc: allocations do not overlap");
	rs_arena_free(&a);
}

static void
test_arena_strdup(void)
{
	struct rs_arena	 a;
	char		 src[] = "hello";
	char		*d;

	rs_arena_init(&a);
	d = rs_arena_strdup(&a, src);
	src[0] = 'j';
	TAP_IS_STR(d, "hello", "arena strdup: an independent copy");
	TAP_IS_STR(rs_arena_strndup(&a, "abcdef", 3), "abc",
	    "arena strndup: copies len bytes and terminates");
	rs_arena_free(&a);
}

static void
test_arena_printf(void)
{
	struct rs_arena	 a;

	rs_arena_init(&a);
	TAP_IS_STR(rs_arena_printf(&a, "%s-%d-%04x", "id", 42, 255),
	    "id-42-00ff", "arena printf: formats");
	rs_arena_free(&a);
}

static void
test_arena_printf_long(void)
{
	struct rs_arena	 a;
	const char	*s;

	rs_arena_init(&a);
	s = rs_arena_printf(&a, "%*s|", RS_ARENA_CHUNK + 10, "x");
	TAP_OK(s != NULL && strlen(s) == RS_ARENA_CHUNK + 11 &&
	    s[RS_ARENA_CHUNK + 10] == '|',
	    "arena printf: output longer than a chunk");
	rs_arena_free(&a);
}

static void
test_arena_cat(void)
{
	struct rs_arena	 a;
	char		 s[] = "data.";
	const char	*c;

	rs_arena_init(&a);
	c = rs_arena_cat(&a, s, "pres", "", "sure", NULL);
	s[0] = 'X';
	TAP_IS_STR(c, "data.pressure",
	    "arena cat: the strings up to NULL, copied into the arena");
	TAP_IS_STR(rs_arena_cat(&a, "", NULL), "",
	    "arena cat: one empty string makes one");
	rs_arena_free(&a);
}

static void
test_arena_calloc(void)
{
	struct rs_arena	 a;
	unsigned char	*p;
	size_t		 i;
	int		 nonzero = 0;

	rs_arena_init(&a);
	/* Dirty the chunk first so calloc has something to clear. */
	TAP_SETUP((p = rs_arena_alloc(&a, 256)) != NULL);
	memset(p, 0xa5, 256);
	rs_arena_reset(&a);
	p = rs_arena_calloc(&a, 32, 8);
	for (i = 0; p != NULL && i < 256; i++)
		nonzero += p[i] != 0;
	TAP_OK(p != NULL && nonzero == 0, "arena calloc: memory is zeroed");
	TAP_OK(rs_arena_calloc(&a, SIZE_MAX / 2, 4) == NULL,
	    "arena calloc: n * size overflow is NULL");
	rs_arena_free(&a);
}

static void
test_arena_large(void)
{
	struct rs_arena	 a;
	char		*big, *small;
	size_t		 n = RS_ARENA_CHUNK * 2 + 1;

	rs_arena_init(&a);
	TAP_SETUP(rs_arena_strdup(&a, "first") != NULL);
	big = rs_arena_alloc(&a, n);
	if (!TAP_OK(big != NULL && aligned(big),
	    "arena alloc: larger than RS_ARENA_CHUNK"))
		goto out;
	memset(big, 'b', n);	/* the sanitizer build checks the bounds */
	small = rs_arena_strdup(&a, "after");
	TAP_OK(small != NULL && (small >= big + n || small + 6 <= big),
	    "arena alloc: small allocation after a large one is apart");
	TAP_OK(big[0] == 'b' && big[n - 1] == 'b',
	    "arena alloc: large block kept intact");
out:
	rs_arena_free(&a);
}

static void
test_arena_reset(void)
{
	struct rs_arena	 a;
	char		*s;
	int		 i;

	rs_arena_init(&a);
	for (i = 0; i < 100; i++)	/* several chunks */
		TAP_SETUP(rs_arena_alloc(&a, 4096) != NULL);
	rs_arena_reset(&a);
	TAP_IS_INT(a.total, 0, "arena reset: total back to 0");
	TAP_OK(a.head != NULL, "arena reset: keeps a chunk");
	s = rs_arena_strdup(&a, "again");
	TAP_IS_STR(s, "again", "arena reset: allocation works after reset");
	rs_arena_free(&a);
}

static void
test_arena_reset_after_large(void)
{
	struct rs_arena	 a;
	char		*s;

	rs_arena_init(&a);
	TAP_SETUP(rs_arena_alloc(&a, RS_ARENA_CHUNK * 3) != NULL);
	rs_arena_reset(&a);
	s = rs_arena_alloc(&a, RS_ARENA_CHUNK);
	if (s != NULL)
		memset(s, 'x', RS_ARENA_CHUNK);
	TAP_OK(s != NULL, "arena reset: a full chunk fits after reset");
	rs_arena_free(&a);
}

static void
test_arena_free_empty(void)
{
	struct rs_arena	 a;

	rs_arena_init(&a);
	rs_arena_free(&a);
	rs_arena_free(&a);
	rs_arena_reset(&a);
	TAP_OK(a.head == NULL && a.total == 0,
	    "arena free: on an empty arena is harmless");
	TAP_IS_STR(rs_arena_strdup(&a, "x"), "x",
	    "arena free: the arena is usable afterwards");
	rs_arena_free(&a);
}

static void
test_valid_email(void)
{
	static const struct {
		int		 line;
		const char	*s;
		int		 want;	/* 1: accepted, 0: refused */
	} t[] = {
		{ __LINE__, "a@b.co", 1 },
		{ __LINE__, "first.last+tag@sub.example.org", 1 },
		{ __LINE__, "", 0 },
		{ __LINE__, "a", 0 },
		{ __LINE__, "a@b", 0 },
		{ __LINE__, "@b.co", 0 },
		{ __LINE__, "a@@b.co", 0 },
		{ __LINE__, "a b@c.co", 0 },
		{ __LINE__, "a@b..co", 0 },
		{ __LINE__, "a@b.co.", 0 },
		{ __LINE__, "a@.b.co", 0 },
		{ __LINE__, ".a@b.co", 0 },
		{ __LINE__, "a.@b.co", 0 },
		{ __LINE__, "a@b.co@c.co", 0 },
		{ __LINE__, "a<b>@c.co", 0 },
	};
	char	 name[96];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].want)
			snprintf(name, sizeof(name),
			    "valid email: accepts %s", t[i].s);
		else
			snprintf(name, sizeof(name),
			    "valid email: refuses \"%s\"", t[i].s);
		if (!TAP_IS_INT(rs_valid_email(t[i].s), t[i].want, name))
			tap_diag("email case at line %d", t[i].line);
	}
}

/*
 * An otherwise valid address of exactly len bytes: a 64-byte local
 * part and a domain of "b.b.b...co".
 */
static void
email_of(char *buf, size_t len)
{
	size_t	 i;

	memset(buf, 'a', 64);
	buf[64] = '@';
	for (i = 65; i < len - 3; i++)
		buf[i] = (i % 2) ? 'b' : '.';
	if (buf[len - 4] == '.')
		buf[len - 4] = 'b';
	memcpy(buf + len - 3, ".co", 3);
	buf[len] = '\0';
}

static void
test_valid_email_length(void)
{
	char	 buf[300];

	email_of(buf, RS_MAX_EMAIL);
	TAP_IS_INT(rs_valid_email(buf), 1,
	    "valid email: RS_MAX_EMAIL bytes accepted");
	email_of(buf, RS_MAX_EMAIL + 1);
	TAP_IS_INT(rs_valid_email(buf), 0,
	    "valid email: RS_MAX_EMAIL + 1 (255) bytes refused");
}

/* Parses s, which the tests write as valid JSON; bails when it is not. */
static struct json_object *
obj(const char *s)
{
	struct json_object	*o = NULL;
	char			 err[128];

	if (rs_json_parse(s, strlen(s), &o, err, sizeof(err)) != 0)
		tap_bail("bad test JSON %s: %s", s, err);
	return o;
}

static void
test_valid_string(void)
{
	struct rs_arena		 a;
	struct rs_valid		 v;
	struct json_object	*o;

	rs_arena_init(&a);
	rs_valid_init(&v, &a);
	o = obj("{\"name\":\"Acme\",\"title\":5,\"code\":\"ab\","
	    "\"nul\":\"a\\u0000b\"}");
	TAP_IS_STR(rs_valid_string(&v, o, "name", 1, 1, 10), "Acme",
	    "valid string: a good member is returned");
	TAP_IS_INT(v.n, 0, "valid string: a good member records nothing");
	TAP_IS_STR(rs_valid_string(&v, o, "title", 1, 1, 10), NULL,
	    "valid string: a number is refused");
	TAP_IS_STR(rs_valid_string(&v, o, "code", 1, 3, 10), NULL,
	    "valid string: too short is refused");
	TAP_IS_STR(rs_valid_string(&v, o, "email", 1, 3, 254), NULL,
	    "valid string: a missing required member is NULL");
	TAP_IS_STR(rs_valid_string(&v, o, "note", 0, 0, 10), NULL,
	    "valid string: a missing optional member is NULL");
	TAP_IS_STR(rs_valid_string(&v, o, "nul", 1, 1, 10), NULL,
	    "valid string: U+0000 is refused");
	if (TAP_IS_INT(v.n, 4, "valid string: four errors recorded")) {
		TAP_IS_STR(v.e[0].field, "title",
		    "valid string: wrong type names its field");
		TAP_IS_STR(v.e[0].message, "must be a string",
		    "valid string: wrong type says why");
		TAP_IS_STR(v.e[1].field, "code",
		    "valid string: wrong length names its field");
		TAP_IS_STR(v.e[1].message, "must be 3 to 10 bytes long",
		    "valid string: wrong length says the bounds");
		TAP_IS_STR(v.e[2].field, "email",
		    "valid string: missing names its field");
		TAP_IS_STR(v.e[2].message, "is required",
		    "valid string: missing says required");
		TAP_IS_STR(v.e[3].field, "nul",
		    "valid string: U+0000 names its field");
	}
	json_object_put(o);
	rs_arena_free(&a);
}

static void
test_valid_known(void)
{
	static const char *const names[] = { "name", "rate_limit", NULL };
	struct rs_arena		 a;
	struct rs_valid		 v;
	struct json_object	*o;

	rs_arena_init(&a);
	rs_valid_init(&v, &a);
	o = obj("{\"name\":\"x\",\"colour\":1,\"rate_limit\":2}");
	rs_valid_known(&v, o, names);
	if (TAP_IS_INT(v.n, 1, "valid known: one unknown member recorded")) {
		TAP_IS_STR(v.e[0].field, "colour",
		    "valid known: names the unknown member");
		TAP_HAS_STR(v.e[0].message, "unknown",
		    "valid known: says it is unknown");
	}
	json_object_put(o);
	rs_arena_free(&a);
}

static void
test_valid_max_errors(void)
{
	struct rs_arena	 a;
	struct rs_valid	 v;
	int		 i;

	rs_arena_init(&a);
	rs_valid_init(&v, &a);
	for (i = 0; i < RS_VALID_MAX_ERRORS + 5; i++)
		rs_valid_add(&v, "f", "error %d", i);
	TAP_IS_INT(v.n, RS_VALID_MAX_ERRORS,
	    "valid add: stops at RS_VALID_MAX_ERRORS");
	rs_arena_free(&a);
}

static void
test_clock_epoch(void)
{
	char	 buf[RS_CLOCK_RFC3339_LEN + 1];

	TAP_IS_STR(rs_clock_format(buf, sizeof(buf), 0),
	    "1970-01-01T00:00:00.000Z", "clock format: the epoch");
}

static void
test_clock_format(void)
{
	char	 buf[RS_CLOCK_RFC3339_LEN + 1];

	TAP_IS_STR(rs_clock_format(buf, sizeof(buf),
	    INT64_C(1764179121123)), "2025-11-26T17:45:21.123Z",
	    "clock format: milliseconds kept");
	TAP_IS_STR(rs_clock_format(buf, RS_CLOCK_RFC3339_LEN, 0), "",
	    "clock format: too small a buffer gets \"\"");
}

static void
test_clock_round_trip(void)
{
	static const struct {
		int	 line;
		int64_t	 ms;
	} t[] = {
		{ __LINE__, 0 },
		{ __LINE__, 1 },
		{ __LINE__, 999 },
		{ __LINE__, INT64_C(1764179121123) },
		{ __LINE__, INT64_C(951782400007) },
	};
	char	 buf[RS_CLOCK_RFC3339_LEN + 1], name[96];
	int64_t	 got;
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		TAP_SETUP(*rs_clock_format(buf, sizeof(buf), t[i].ms) != '\0');
		got = -1;
		snprintf(name, sizeof(name), "clock: %s parses back", buf);
		if (!TAP_OK(rs_clock_parse(buf, &got) == 0 && got == t[i].ms,
		    name))
			tap_diag("round-trip case at line %d", t[i].line);
	}
}

static void
test_clock_parse_forms(void)
{
	int64_t	 z = 0, off = -1, plain = -1, neg = -1;

	TAP_SETUP(rs_clock_parse("2026-01-01T00:00:00.000Z", &z) == 0);
	TAP_OK(rs_clock_parse("2026-01-01T02:00:00.000+02:00", &off) == 0 &&
	    off == z, "clock parse: +02:00 offset");
	TAP_OK(rs_clock_parse("2025-12-31T19:30:00-04:30", &neg) == 0 &&
	    neg == z, "clock parse: -04:30 offset without milliseconds");
	TAP_OK(rs_clock_parse("2026-01-01T00:00:00Z", &plain) == 0 &&
	    plain == z, "clock parse: without milliseconds");
}

static void
test_clock_parse_refuses(void)
{
	static const struct {
		int		 line;
		const char	*s;
	} bad[] = {
		{ __LINE__, "2026-13-01T00:00:00Z" },
		{ __LINE__, "2026-00-01T00:00:00Z" },
		{ __LINE__, "2026-01-32T00:00:00Z" },
		{ __LINE__, "2026-01-01T24:00:00Z" },
		{ __LINE__, "2026-01-01 00:00:00Z" },
		{ __LINE__, "2026-01-01T00:00:00" },
		{ __LINE__, "2026-01-01T00:00:00.Z" },
		{ __LINE__, "2026-01-01T00:00:00+2:00" },
		{ __LINE__, "2026-01-01T00:00:00Zjunk" },
		{ __LINE__, "" },
		{ __LINE__, "yesterday" },
	};
	char	 name[96];
	int64_t	 ms;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "clock parse: refuses \"%s\"",
		    bad[i].s);
		if (!TAP_IS_INT(rs_clock_parse(bad[i].s, &ms), -1, name))
			tap_diag("refusal case at line %d", bad[i].line);
	}
}

/*
 * clock.h promises the strict RFC 3339 form, but a day past the end of
 * its month passes the 1..31 check and timegm() rolls it into the next
 * month: 2026-02-31 is read as 2026-03-03.
 */
static void
test_clock_parse_day_of_month(void)
{
	int64_t	 ms;

	TAP_IS_INT(rs_clock_parse("2026-02-31T00:00:00Z", &ms), -1,
	    "clock parse: refuses 2026-02-31");
}

/* The RFC 3339 text of ms by gmtime_r() and snprintf(), as it was made. */
static void
clock_reference(char *out, size_t outsz, int64_t ms)
{
	time_t		 secs = (time_t)(ms / 1000);
	struct tm	 tm;

	gmtime_r(&secs, &tm);
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/*
 * rs_clock_format() computes the date itself: it must agree with the C
 * library on every day from 1970 to 9999 (each day's last millisecond
 * and a pseudo-random one), and print nothing out of range.
 */
static void
test_clock_format_every_day(void)
{
	char		 got[32], want[80];
	int64_t		 day, ms, bad = -1;
	uint64_t	 x = 88172645463325252ULL;
	int		 n = 0;

	for (day = 0; day <= 2932896; day++) {	/* 9999-12-31 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ms = day * 86400000 + (int64_t)(x % 86400000);
		rs_clock_format(got, sizeof(got), ms);
		clock_reference(want, sizeof(want), ms);
		if (strcmp(got, want) != 0 && bad < 0)
			bad = ms;
		ms = day * 86400000 + 86399999;
		rs_clock_format(got, sizeof(got), ms);
		clock_reference(want, sizeof(want), ms);
		if (strcmp(got, want) != 0 && bad < 0)
			bad = ms;
		n++;
	}
	TAP_IS_INT(bad, -1, "clock format: agrees with gmtime_r on every day "
	    "from 1970 to 9999");
	TAP_IS_INT(n, 2932897, "clock format: every day was tried");
	TAP_IS_STR(rs_clock_format(got, sizeof(got), INT64_C(253402300799999)),
	    "9999-12-31T23:59:59.999Z", "clock format: the last time it prints");
	TAP_IS_STR(rs_clock_format(got, sizeof(got), INT64_C(253402300800000)),
	    "", "clock format: year 10000 prints nothing");
	TAP_IS_STR(rs_clock_format(got, sizeof(got), -1), "",
	    "clock format: before 1970 prints nothing");
	TAP_IS_STR(rs_clock_format(got, sizeof(got), INT64_C(951782400000)),
	    "2000-02-29T00:00:00.000Z", "clock format: 2000 is a leap year");
	TAP_IS_STR(rs_clock_format(got, sizeof(got), INT64_C(4107542400000)),
	    "2100-03-01T00:00:00.000Z", "clock format: 2100 is not");
}

/* Standard chunks outlive a reset, up to RS_ARENA_KEEP, and are reused. */
static void
test_arena_keeps_chunks(void)
{
	struct rs_arena	 a;
	char		*p;
	size_t		 i;
	int		 ok = 1;

	rs_arena_init(&a);
	for (i = 0; i < RS_ARENA_KEEP + 4; i++)
		TAP_SETUP(rs_arena_alloc(&a, RS_ARENA_CHUNK) != NULL);
	TAP_SETUP(rs_arena_alloc(&a, 4 * RS_ARENA_CHUNK) != NULL);
	rs_arena_reset(&a);
	TAP_IS_INT(a.nspare, RS_ARENA_KEEP, "arena reset: keeps "
	    "RS_ARENA_KEEP standard chunks, frees the rest");
	for (i = 0; i < 3; i++) {
		TAP_SETUP((p = rs_arena_alloc(&a, RS_ARENA_CHUNK)) != NULL);
		memset(p, 'x', RS_ARENA_CHUNK);		/* usable whole */
	}
	/* The first fills the chunk the reset kept as the head. */
	TAP_IS_INT(a.nspare, RS_ARENA_KEEP - 2, "arena: a new chunk comes "
	    "from the kept ones");
	TAP_SETUP((p = rs_arena_strdup(&a, "after")) != NULL);
	ok = strcmp(p, "after") == 0;
	TAP_OK(ok, "arena: a kept chunk holds what is put in it");
	rs_arena_free(&a);
	TAP_IS_INT(a.nspare, 0, "arena free: no chunk is kept");
}

int
main(void)
{
	tap_plan(76 + 7 + 4 + 2);

	test_arena_alignment();
	test_arena_keeps_chunks();
	test_clock_format_every_day();
	test_arena_distinct();
	test_arena_strdup();
	test_arena_printf();
	test_arena_printf_long();
	test_arena_cat();
	test_arena_calloc();
	test_arena_large();
	test_arena_reset();
	test_arena_reset_after_large();
	test_arena_free_empty();
	test_valid_email();
	test_valid_email_length();
	test_valid_string();
	test_valid_known();
	test_valid_max_errors();
	test_clock_epoch();
	test_clock_format();
	test_clock_round_trip();
	test_clock_parse_forms();
	test_clock_parse_refuses();
	test_clock_parse_day_of_month();

	return tap_done();
}
