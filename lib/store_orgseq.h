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

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"

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

/*
 * The worker's place in an org's events (orgs.fanout_seq, sql/0008): a
 * count like event_seq; the events past it are not fanned out yet.
 */
struct rs_store_orgseq_fanout {
	int64_t		 num;		/* the org's number */
	int64_t		 fanout;	/* events fanned out */
	int64_t		 event;		/* events written */
};

/*
 * Up to max orgs with events not yet fanned out, ids into ids, *n of
 * them, in the order of their numbers after org number after_num (0:
 * from the first); *last_num the number of the last one.
 */
enum rs_err	 rs_store_orgseq_behind(struct rs_db *db, int64_t after_num,
		    size_t max, char (*ids)[RS_ID_MAX], size_t *n,
		    int64_t *last_num);
/* Org's place: RS_OK and *f, or RS_ERR_NOTFOUND. */
enum rs_err	 rs_store_orgseq_fanout(struct rs_db *db, const char *org,
		    struct rs_store_orgseq_fanout *f);
/*
 * Inside a write transaction: moves org's place from was to to. RS_ERR_STATE
 * (nothing changed) when it is not at was any more: another run moved it.
 */
enum rs_err	 rs_store_orgseq_fanout_set(struct rs_db *db, const char *org,
		    int64_t was, int64_t to);

#endif /* RS_STORE_ORGSEQ_H */
