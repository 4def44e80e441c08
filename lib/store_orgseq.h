/*
 * store_orgseq.h: an org's counters, taken inside a write transaction: its
 * change numbers (delta sync walks them) and its event numbers (the
 * event stream's ids), with the org's own number, which places its rows:
 * the rowid of an org's n-th record or event is num << RS_ORG_ROW_BITS
 * | n (sql/0004), so one org's rows are one range, in order.
 * One UPDATE takes both counters: writers take turns, and each statement
 * under the lock is time every other writer waits.
 */
#ifndef RS_STORE_ORGSEQ_H
#define RS_STORE_ORGSEQ_H

#include <stdint.h>

#include "err.h"

struct rs_db;

struct rs_store_orgseq {
	int64_t		 num;		/* the org's number */
	int64_t		 change;	/* the first change number taken */
	int64_t		 event;		/* the first event number taken */
};

/*
 * Takes the org's next changes change numbers and events event numbers
 * (either may be 0) into *out. RS_ERR_NOTFOUND for an unknown org,
 * RS_ERR_DB when a number would leave its range (logged).
 */
enum rs_err	 rs_store_orgseq_take(struct rs_db *db, const char *org,
		    int changes, int events, struct rs_store_orgseq *out);
/* The rowid of the org's row number n. */
int64_t		 rs_store_orgseq_rowid(const struct rs_store_orgseq *s, int64_t n);

#endif /* RS_STORE_ORGSEQ_H */
