#include <string.h>

#include <sodium.h>

#include "ulid.h"

static const char rs_ulid_digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int64_t		rs_ulid_last_ms = -1;
static unsigned char	rs_ulid_last_rand[10];

/* Adds one to the 80-bit big-endian number r; 1 when it wrapped. */
static int
rs_ulid_incr(unsigned char r[10])
{
	int	 i;

	for (i = 9; i >= 0; i--)
		if (++r[i] != 0)
			return 0;
	return 1;
}

void
rs_ulid_encode(char *out, const unsigned char b[16])
{
	uint64_t	 hi = 0, lo = 0;
	unsigned	 sh, v;
	int		 i;

	for (i = 0; i < 8; i++) {
		hi = hi << 8 | b[i];
		lo = lo << 8 | b[i + 8];
	}
	/* Digit i holds bits 125 - 5i up of the 128; the first only 3. */
	for (i = 0; i < RS_ULID_LEN; i++) {
		sh = 125 - 5 * (unsigned)i;
		if (sh >= 64)
			v = (unsigned)(hi >> (sh - 64));
		else if (sh > 59)
			v = (unsigned)(hi << (64 - sh) | lo >> sh);
		else
			v = (unsigned)(lo >> sh);
		out[i] = rs_ulid_digits[v & 31];
	}
	out[RS_ULID_LEN] = '\0';
}

void
rs_ulid_new(char *out, size_t outsz, int64_t ms)
{
	unsigned char	 b[16];
	int		 i;

	if (outsz < RS_ULID_LEN + 1) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	if (ms <= rs_ulid_last_ms) {
		/* Same (or an earlier) millisecond: keep the order. */
		ms = rs_ulid_last_ms;
		if (rs_ulid_incr(rs_ulid_last_rand))
			ms = ++rs_ulid_last_ms;
	} else
		randombytes_buf(rs_ulid_last_rand, sizeof(rs_ulid_last_rand));
	rs_ulid_last_ms = ms;
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	memcpy(b + 6, rs_ulid_last_rand, 10);
	rs_ulid_encode(out, b);
}

int
rs_ulid_valid(const char *s)
{
	size_t	 i;

	if (strlen(s) != RS_ULID_LEN || s[0] > '7')
		return 0;
	for (i = 0; i < RS_ULID_LEN; i++)
		if (s[i] == '\0' || strchr(rs_ulid_digits, s[i]) == NULL)
			return 0;
	return 1;
}
