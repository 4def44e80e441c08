/*
 * num.h: decimal numbers from outside input, range-checked in one step,
 * in the manner of OpenBSD's strtonum(3). Every module that reads a
 * number from a header, a query, a token or the environment uses this;
 * and decimal text for numbers written on every answer, without printf.
 */
#ifndef RS_NUM_H
#define RS_NUM_H

#include <stdint.h>

/* The longest text rs_num_text() writes: "-9223372036854775808". */
#define RS_NUM_TEXT_MAX	20

/*
 * Parses s, a base-10 integer with an optional leading '-' and nothing
 * else (no spaces, no '+', no trailing bytes), into [min, max].
 * Returns the value with *errstr NULL; or 0 with *errstr set to a static
 * "invalid", "too small" or "too large" (and the value must be ignored).
 */
long long	rs_num_parse(const char *s, long long min, long long max,
		    const char **errstr);
/*
 * Writes v in decimal, without a NUL, so that it ends at end (a buffer
 * of at least RS_NUM_TEXT_MAX bytes ends there); returns where it
 * starts.
 */
char		*rs_num_text(char *end, int64_t v);

#endif /* RS_NUM_H */
