/*
 * ulid.h: ULIDs (48-bit millisecond time, 80 random bits, 26 characters
 * of Crockford base32, upper case), the causal tokens of records.
 * Monotonic within a process: two made in the same millisecond differ by
 * one in the random part, so they still sort in the order they were made.
 */
#ifndef RS_ULID_H
#define RS_ULID_H

#include <stddef.h>
#include <stdint.h>

#define RS_ULID_LEN	26

/* Writes a new ULID for time ms into out (>= RS_ULID_LEN + 1). */
void	rs_ulid_new(char *out, size_t outsz, int64_t ms);
/* Writes the 128 bits b (big-endian) as RS_ULID_LEN digits and a NUL. */
void	rs_ulid_encode(char *out, const unsigned char b[16]);
/* 1 when s is a well-formed ULID, else 0. */
int	rs_ulid_valid(const char *s);

#endif /* RS_ULID_H */
