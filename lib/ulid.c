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
rs_ulid_new(char *out, size_t outsz, int64_t ms)
{
	unsigned char	 b[16];
	int		 i, bit;

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
	/* 128 bits as 26 five-bit digits; the first holds the top 3 bits. */
	for (i = 0; i < RS_ULID_LEN; i++) {
		int	 v = 0, k;

		for (k = 0; k < 5; k++) {
			bit = i * 5 + k - 2;
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = rs_ulid_digits[v];
	}
	out[RS_ULID_LEN] = '\0';
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
