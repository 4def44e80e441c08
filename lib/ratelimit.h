/*
 * ratelimit.h: each org's token bucket (CONTRACT §9), shared by every
 * process of the pool through a small file mapped into each: a fixed
 * table of 16-byte slots, open addressing keyed by a 64-bit hash of
 * the org id, each slot's state one 64-bit word changed only by
 * compare-and-swap (C11 atomics).
 *
 * Why atomics and not a lock: a process can be killed at any point (a
 * web server recycles its pool with SIGKILL); a lock held then would
 * wedge every process, or need robust-mutex recovery that leaves a
 * half-written bucket anyway. A compare-and-swap either happened or not:
 * the table is never left in between, and nothing needs recovering.
 * One word holds a bucket because burst equals the rate: a bucket always
 * refills fully in one second, so its level is kept as a fraction of full
 * (24 bits) beside the last refill time (40 bits of milliseconds of
 * CLOCK_MONOTONIC, 34 years), whatever the rate; a changed rate applies
 * to the next request with the level it had. A request takes full /
 * rate units, rounded up, so no more than the rate ever gets in: a full
 * bucket holds exactly rate requests when rate divides full (every rate
 * up to 12, and 15, 16, 20, 25, 50, 60, 100, 120, ...), else up to 0.1%
 * fewer at 10,000/s and below (up to 8% fewer near the top, 1,000,000).
 *
 * A slot, once an org's, stays its (an org's key is never removed: orgs
 * are few; a full table, or an unusable file, lets requests through and
 * says so once). Core: no request, no database.
 */
#ifndef RS_RATELIMIT_H
#define RS_RATELIMIT_H

#include <stdint.h>

#include "err.h"

/* A full bucket, in units: divisible by 1000 (it refills in 1 s) and by
 * most rates (1..12, 15, 16, 20, 25, 50, 60, 100, 120 ...), below 2^24. */
#define RS_RATELIMIT_FULL	11088000ULL
#define RS_RATELIMIT_SLOTS	4096		/* orgs the table holds */
#define RS_RATELIMIT_PROBE	64		/* slots looked at per org */

struct rs_ratelimit;

/* What one request found. */
struct rs_ratelimit_result {
	int		 allowed;
	int64_t		 remaining;	/* whole requests left */
	int64_t		 reset_ms;	/* until the bucket is full again */
	int64_t		 retry_ms;	/* refused: until one request fits */
};

/*
 * Maps the table in file path (made, mode 0600, when missing): RS_OK and
 * *out, or RS_ERR_IO (errno kept) when it cannot be used.
 */
enum rs_err	rs_ratelimit_open(const char *path, struct rs_ratelimit **out);
void		rs_ratelimit_close(struct rs_ratelimit *rl);
/*
 * Takes one request from key's bucket of rate requests/s (1..1000000)
 * at now_ms (CLOCK_MONOTONIC): RS_OK and *r; RS_ERR_RANGE when key finds
 * no slot (the table is full), RS_ERR_BUSY when the slot kept changing
 * under it: the caller lets the request through.
 */
enum rs_err	rs_ratelimit_take(struct rs_ratelimit *rl, const char *key,
		    int rate, int64_t now_ms, struct rs_ratelimit_result *r);
/*
 * The bucket arithmetic alone: state (0: never used, a full bucket)
 * after one request of a bucket of rate at now_ms, with *r. Exposed for
 * tests.
 */
uint64_t	rs_ratelimit_step(uint64_t state, int64_t now_ms, int rate,
		    struct rs_ratelimit_result *r);
/* 1 when keys a and b start their probe at the same slot (for tests). */
int		rs_ratelimit_collide(const char *a, const char *b);
/* CLOCK_MONOTONIC in ms: the clock every process of a machine shares. */
int64_t		rs_ratelimit_now(void);

#endif /* RS_RATELIMIT_H */
