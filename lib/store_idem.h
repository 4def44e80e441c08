/*
 * store_idem.h: Idempotency-Key rows, per org. A key is looked up and
 * its answer stored inside the same write transaction as the change it
 * guards (txn.h does both), so two processes racing on one key cannot
 * both write: the second waits for the lock and then finds the answer
 * to replay. Keys older than RS_IDEM_TTL_MS are ignored.
 */
#ifndef RS_STORE_IDEM_H
#define RS_STORE_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "idem.h"

struct rs_arena;
struct rs_db;

enum rs_store_idem_found {
	RS_IDEM_NEW,		/* go ahead, then rs_store_idem_store() */
	RS_IDEM_REPLAY,		/* same request seen: answer with *ans */
	RS_IDEM_MISMATCH,	/* same key, another request: 422 */
	RS_IDEM_ERROR,
};

/*
 * Inside the write transaction: has org seen the key? On RS_IDEM_REPLAY
 * *ans is filled, its strings in arena a.
 */
enum rs_store_idem_found rs_store_idem_find(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    const struct rs_idem *id, int64_t now,
		    struct rs_idem_answer *ans);
/* Inside the write transaction: remembers ans under the key. */
enum rs_err	 rs_store_idem_store(struct rs_db *db, const char *org,
		    const struct rs_idem *id, int64_t now,
		    const struct rs_idem_answer *ans);
/*
 * Inside a write transaction: removes keys expired at now (older than
 * RS_IDEM_TTL_MS), up to max of the oldest rows; *n removed. Fewer than
 * max means none expired is left (rows append in the order they were
 * kept, so only the oldest rows are looked at).
 */
enum rs_err	 rs_store_idem_purge(struct rs_db *db, int64_t now, size_t max,
		    size_t *n);

#endif /* RS_STORE_IDEM_H */
