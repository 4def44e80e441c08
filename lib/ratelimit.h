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
 * says so once).
 *
 * The same file holds the failure counters (rs_ratelimit_fail_*): how
 * many failed attempts a key (a keyed hash of a client address or a key
 * prefix, chosen by the caller) made in a fixed window from its first
 * failure. Each counter is one 64-bit word too (16 bits of the key, the
 * window's start in seconds, the count), so a counter is claimed,
 * counted, restarted or given to another key by one compare-and-swap.
 * Keys come and go (every address that ever failed), so a counter whose
 * window closed is free again, and when a key's few slots are all live
 * the one with the fewest failures gives way: a flood of one-off
 * failures cannot push out a persistent guesser's count. Two keys
 * sharing 16 bits and a slot count together (about 1 in 65,536 per
 * neighbour; the keys are keyed hashes, so no one can aim at another's).
 *
 * The same file holds the pool's generation: one word every process
 * reads before it trusts what it keeps in memory from the database (a
 * token's holder, the schema version), bumped after every commit that
 * changes such a thing (db.h: rs_db_note_shared).
 *
 * The file opens with one word naming its layout, set by the first
 * process that maps it; a file with another word (damaged, or of
 * another version) is not used. Core: no request, no database.
 */
#ifndef RS_RATELIMIT_H
#define RS_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A full bucket, in units: divisible by 1000 (it refills in 1 s) and by
 * most rates (1..12, 15, 16, 20, 25, 50, 60, 100, 120 ...), below 2^24. */
#define RS_RATELIMIT_FULL	11088000ULL
#define RS_RATELIMIT_SLOTS	4096		/* orgs the table holds */
#define RS_RATELIMIT_PROBE	64		/* slots looked at per org */
#define RS_RATELIMIT_FAIL_SLOTS	16384		/* failure counters */
#define RS_RATELIMIT_FAIL_PROBE	8		/* slots looked at per key */
#define RS_RATELIMIT_FAIL_MAX	((1 << 24) - 1)	/* a counter's ceiling */

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
 * *out, RS_ERR_IO (errno kept) when it cannot be used, RS_ERR_STATE when
 * the file is not such a table (another layout, or damaged).
 */
enum rs_err	rs_ratelimit_open(const char *path, struct rs_ratelimit **out);
void		rs_ratelimit_close(struct rs_ratelimit *rl);
/*
 * The same, for a program that only bumps the generation (the admin
 * CLI): a missing file is not made (RS_ERR_IO, errno ENOENT: no process
 * has mapped it, so none keeps anything to forget), nor a short one
 * grown (RS_ERR_STATE).
 */
enum rs_err	rs_ratelimit_attach(const char *path,
		    struct rs_ratelimit **out);
/*
 * The table's file for the database at db_path, "<db_path>.ratelimit",
 * into buf: RS_OK, or RS_ERR_RANGE when it does not fit.
 */
enum rs_err	rs_ratelimit_path(char *buf, size_t bufsz,
		    const char *db_path);
/* The pool's generation word (acquire), and one step on (release). */
uint64_t	rs_ratelimit_gen(struct rs_ratelimit *rl);
void		rs_ratelimit_gen_bump(struct rs_ratelimit *rl);
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
/*
 * The failures counted under key in its window of window_s seconds
 * (1..2^23), if that is still open at now_ms: *fails, and *left_s, the
 * whole seconds until it closes (both 0 with no open window).
 */
void		rs_ratelimit_fail_get(struct rs_ratelimit *rl, uint64_t key,
		    int64_t now_ms, int window_s, int *fails, int *left_s);
/*
 * Counts one failure under key at now_ms, in its open window or in a new
 * one starting now: RS_OK, or RS_ERR_BUSY when its slots kept changing
 * under it (not counted).
 */
enum rs_err	rs_ratelimit_fail_hit(struct rs_ratelimit *rl, uint64_t key,
		    int64_t now_ms, int window_s);
/* 1 when keys a and b start their probe at the same slot (for tests). */
int		rs_ratelimit_collide(const char *a, const char *b);
/* The same for two failure counter keys. */
int		rs_ratelimit_fail_collide(uint64_t a, uint64_t b);
/* CLOCK_MONOTONIC in ms: the clock every process of a machine shares. */
int64_t		rs_ratelimit_now(void);

#endif /* RS_RATELIMIT_H */
