/*
 * shm.h: the pool's shared table (ratelimit.h, the file
 * <RELAYSYNC_DB>.ratelimit beside the database) as this process maps it,
 * at the first need, and the failure counters on it that a handler reads
 * and counts: the key exchange's throttle (api_auth.c), so a flood of
 * wrong keys costs no database write. The org buckets on the same table
 * are the pipeline's (rate.h), and so is the generation word: what a
 * process keeps from the database between requests (auth.c, app.c) is
 * good while the word stays the same. A table that cannot be used (said
 * once per process, with what to do) lets everything through, counts
 * nothing, and keeps nothing between requests.
 */
#ifndef RS_SHM_H
#define RS_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/* The process's mapping, made at the first call; NULL when unusable. */
struct rs_ratelimit	*rs_shm_table(struct rs_app *app);
/*
 * Seconds until none of the n failure counters keys (keyed hashes: the
 * caller's) holds max failures in an open window of window_s: 0 to go
 * on, and 0 when the table cannot be used.
 */
int		 rs_shm_fail_wait(struct rs_ctx *ctx, const uint64_t *keys,
		    size_t n, int max, int window_s);
/* Counts one failure under each of the n keys; a lost count is logged. */
void		 rs_shm_fail_count(struct rs_ctx *ctx, const uint64_t *keys,
		    size_t n, int window_s);

/*
 * The pool's generation word (ratelimit.h) into *gen: 0, or -1 when the
 * table cannot be used (then nothing read from the database may be kept
 * across requests).
 */
int		 rs_shm_gen(struct rs_app *app, uint64_t *gen);
/* Steps the word on; app is a struct rs_app (an rs_db_on_shared hook). */
void		 rs_shm_bump(void *app);

#endif /* RS_SHM_H */
