/*
 * store_throttle.h: counters of failures in fixed windows, one per
 * (kind, key): failed key exchanges per client address and per key
 * prefix (api_auth.c). It only counts and reads; what is too many is
 * the caller's to decide. Counting happens inside the caller's write
 * transaction (txn.h). Small on purpose: the counters are to move to
 * shared memory behind this same interface.
 */
#ifndef RS_STORE_THROTTLE_H
#define RS_STORE_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rs_db;

enum rs_throttle_kind {
	RS_THROTTLE_ADDR,	/* a client address */
	RS_THROTTLE_KEY,	/* a (hashed) API key prefix */
	RS_THROTTLE__MAX
};

/*
 * The failures counted under (kind, k) in its window of window seconds,
 * if that is still open at now (s): RS_OK with *fails and *left, the
 * seconds until it closes (both 0 when there is no open window), or an
 * error.
 */
enum rs_err	 rs_store_throttle_get(struct rs_db *db,
		    enum rs_throttle_kind kind, const char *k, int64_t now,
		    int window, int *fails, int *left);
/*
 * Inside a write transaction: counts one failure under (kind, k) at now
 * (s), in the open window or in a new one of window seconds starting
 * now; removes up to RS_AUTH_FAIL_PURGE rows whose window has closed.
 */
enum rs_err	 rs_store_throttle_hit(struct rs_db *db,
		    enum rs_throttle_kind kind, const char *k, int64_t now,
		    int window);
/*
 * Inside a write transaction: removes up to max counters whose window
 * of window seconds has closed at now (s), oldest first; *n removed.
 */
enum rs_err	 rs_store_throttle_purge(struct rs_db *db, int64_t now,
		    int window, size_t max, size_t *n);

#endif /* RS_STORE_THROTTLE_H */
