/*
 * test-ulid: ULIDs (lib/ulid.h), the causal tokens of records.
 *
 * rs_ulid_new() keeps the last millisecond it used in process state, so
 * the tests below ask for ever later milliseconds (each test has its own
 * range past the one before) unless a test means to go backwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ulid.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define NBURST	1000

static const char	 crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The millisecond time the first 10 characters of u encode, or -1. */
static int64_t
ulid_time(const char *u)
{
	const char	*p;
	int64_t		 v = 0;
	int		 i;

	for (i = 0; i < 10; i++) {
		if (u[i] == '\0' || (p = strchr(crockford, u[i])) == NULL)
			return -1;
		v = v << 5 | (int64_t)(p - crockford);
	}
	return v;
}

/* 1 when each of the RS_ULID_LEN characters of u is Crockford upper case. */
static int
all_crockford(const char *u)
{
	size_t	 i;

	for (i = 0; i < RS_ULID_LEN; i++)
		if (u[i] == '\0' || strchr(crockford, u[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Must run first: the ULID spec's example time, 1469922850259, is
 * earlier than every other time used here.
 */
static void
test_ulid_spec_time_prefix(void)
{
	char	 u[RS_ULID_LEN + 1];

	rs_ulid_new(u, sizeof(u), INT64_C(1469922850259));
	TAP_OK(strncmp(u, "01ARZ3NDEK", 10) == 0,
	    "ulid new: time 1469922850259 encodes as 01ARZ3NDEK (the spec)");
}

static void
test_ulid_format(void)
{
	char	 u[RS_ULID_LEN + 1];

	rs_ulid_new(u, sizeof(u), NOW_MS);
	TAP_IS_INT(strlen(u), RS_ULID_LEN, "ulid new: 26 characters");
	TAP_OK(all_crockford(u),
	    "ulid new: only Crockford base32 upper-case characters");
	TAP_OK(u[0] <= '7', "ulid new: the first character is at most 7");
	TAP_IS_INT(rs_ulid_valid(u), 1, "ulid valid: accepts a new ULID");
}

static void
test_ulid_small_buffer(void)
{
	char	 u[RS_ULID_LEN];

	memset(u, 'x', sizeof(u));
	rs_ulid_new(u, sizeof(u), NOW_MS + 1000);
	TAP_IS_STR(u, "", "ulid new: a buffer without room for the NUL "
	    "gets the empty string");
}

static void
test_ulid_time_encoded(void)
{
	char	 u[RS_ULID_LEN + 1];

	rs_ulid_new(u, sizeof(u), NOW_MS + 2000);
	TAP_IS_INT(ulid_time(u), NOW_MS + 2000,
	    "ulid new: the first 10 characters encode the millisecond time");
}

static void
test_ulid_next_ms_sorts_after(void)
{
	char	 a[RS_ULID_LEN + 1], b[RS_ULID_LEN + 1];

	rs_ulid_new(a, sizeof(a), NOW_MS + 3000);
	rs_ulid_new(b, sizeof(b), NOW_MS + 3001);
	TAP_OK(strcmp(a, b) < 0, "ulid new: time t sorts before time t+1");
	TAP_IS_INT(ulid_time(b) - ulid_time(a), 1,
	    "ulid new: t and t+1 differ by one in the time part");
}

static void
test_ulid_same_ms_increasing(void)
{
	char	(*u)[RS_ULID_LEN + 1];
	size_t	 i, j;
	int	 increasing = 1, distinct = 1, same_time = 1;

	TAP_SETUP((u = calloc(NBURST, sizeof(*u))) != NULL);
	for (i = 0; i < NBURST; i++)
		rs_ulid_new(u[i], sizeof(u[i]), NOW_MS + 4000);
	for (i = 1; i < NBURST; i++) {
		if (strcmp(u[i - 1], u[i]) >= 0)
			increasing = 0;
		if (ulid_time(u[i]) != NOW_MS + 4000)
			same_time = 0;
	}
	for (i = 0; i < NBURST && distinct; i++)
		for (j = i + 1; j < NBURST; j++)
			if (strcmp(u[i], u[j]) == 0) {
				distinct = 0;
				break;
			}
	TAP_OK(increasing,
	    "ulid new: 1000 in the same millisecond strictly increase");
	TAP_OK(distinct, "ulid new: 1000 in the same millisecond are distinct");
	TAP_OK(same_time,
	    "ulid new: 1000 in the same millisecond keep its time part");
	free(u);
}

static void
test_ulid_earlier_ms_monotonic(void)
{
	char	 a[RS_ULID_LEN + 1], b[RS_ULID_LEN + 1];

	rs_ulid_new(a, sizeof(a), NOW_MS + 6000);
	rs_ulid_new(b, sizeof(b), NOW_MS + 5000);
	TAP_OK(strcmp(a, b) < 0,
	    "ulid new: one made for an earlier ms still sorts after");
	TAP_IS_INT(rs_ulid_valid(b), 1,
	    "ulid new: one made for an earlier ms is valid");
}

/*
 * One rs_ulid_valid() case: s is accepted (want 1) or refused (want 0).
 * The spec's example, 01ARZ3NDEKTSV4RRFFQ69G5FAV, has letters in both
 * its time and its randomness.
 */
static const struct valid_case {
	int		 line;
	const char	*s;
	int		 want;
	const char	*name;
} valid_cases[] = {
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1,
	    "ulid valid: the spec's example" },
	{ __LINE__, "01arz3ndektsv4rrffq69g5fav", 0,
	    "ulid valid: refuses lower case" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ69G5FAv", 0,
	    "ulid valid: refuses one lower-case character" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ69G5FA", 0,
	    "ulid valid: refuses 25 characters" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ69G5FAVV", 0,
	    "ulid valid: refuses 27 characters" },
	{ __LINE__, "", 0,
	    "ulid valid: refuses the empty string" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ6IG5FAV", 0,
	    "ulid valid: refuses 'I'" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ6LG5FAV", 0,
	    "ulid valid: refuses 'L'" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ6OG5FAV", 0,
	    "ulid valid: refuses 'O'" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ6UG5FAV", 0,
	    "ulid valid: refuses 'U'" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ69G5FA-", 0,
	    "ulid valid: refuses '-'" },
	{ __LINE__, "01ARZ3NDEKTSV4RRFFQ69G5FA ", 0,
	    "ulid valid: refuses a space" },
	{ __LINE__, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", 1,
	    "ulid valid: accepts the largest ULID (first char 7)" },
	{ __LINE__, "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", 0,
	    "ulid valid: refuses first char 8 (past 128 bits)" },
	{ __LINE__, "Z0000000000000000000000000", 0,
	    "ulid valid: refuses first char Z" },
};

static void
test_ulid_valid_cases(void)
{
	const struct valid_case	*t;
	size_t			 i;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		t = &valid_cases[i];
		if (!TAP_IS_INT(rs_ulid_valid(t->s), t->want, t->name))
			tap_diag("valid case at line %d", t->line);
	}
}

/* Known 128-bit values: the spec's example (its UUID form), the two
 * extremes, and a pattern whose digits straddle every byte edge. */
static void
test_ulid_encode_vectors(void)
{
	static const struct {
		const char	*hex, *want, *name;
	} t[] = {
		{ "01563e3ab5d3d6764c61efb99302bd5b",
		    "01ARZ3NDEKTSV4RRFFQ69G5FAV", "the spec's example" },
		{ "00000000000000000000000000000000",
		    "00000000000000000000000000", "zero" },
		{ "ffffffffffffffffffffffffffffffff",
		    "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "all ones" },
		{ "0123456789abcdeffedcba9876543210",
		    "014D2PF2DBSQQZXQ5TK1V58CGG", "a byte pattern" },
	};
	unsigned char	 b[16];
	char		 u[RS_ULID_LEN + 1], name[96];
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		TAP_SETUP(sodium_hex2bin(b, sizeof(b), t[i].hex,
		    strlen(t[i].hex), NULL, NULL, NULL) == 0);
		rs_ulid_encode(u, b);
		snprintf(name, sizeof(name), "ulid encode: %s", t[i].name);
		TAP_IS_STR(u, t[i].want, name);
	}
}

int
main(void)
{
	tap_plan(33);
	TAP_SETUP(sodium_init() >= 0);

	test_ulid_spec_time_prefix();	/* first: earliest time */
	test_ulid_format();
	test_ulid_small_buffer();
	test_ulid_time_encoded();
	test_ulid_next_ms_sorts_after();
	test_ulid_same_ms_increasing();
	test_ulid_earlier_ms_monotonic();
	test_ulid_valid_cases();
	test_ulid_encode_vectors();

	return tap_done();
}
