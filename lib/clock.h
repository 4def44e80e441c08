/*
 * clock.h: wall-clock time in milliseconds and its RFC 3339 form
 * (UTC, milliseconds: 2026-11-26T17:45:21.123Z), the one time format of
 * the API.
 */
#ifndef RS_CLOCK_H
#define RS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define RS_CLOCK_RFC3339_LEN	24	/* without the NUL */

int64_t	rs_clock_now_ms(void);
/* CLOCK_MONOTONIC in ms: a clock that never goes back, the same for
 * every process of a machine (timeouts, ages, idle spans). */
int64_t	rs_clock_mono_ms(void);
/*
 * Writes the RFC 3339 form of ms into out (>= 25 bytes); returns out.
 * Out of range (before 1970, after 9999) or too small: "".
 */
char	*rs_clock_format(char *out, size_t outsz, int64_t ms);
/* Parses the strict RFC 3339 form above (also without milliseconds, or
 * with a numeric offset); returns 0 and sets *ms, or -1. */
int	 rs_clock_parse(const char *s, int64_t *ms);

#endif /* RS_CLOCK_H */
