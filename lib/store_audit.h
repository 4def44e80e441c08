/*
 * store_audit.h: the audit log (sql/0009): each org's chain of entries,
 * appended inside the write transaction (txn.h) and read by the list and
 * the verifier. Entries are never changed or removed (the database
 * refuses it). Entries of an org are numbered n = 1, 2, 3 ... and lie in
 * the org's rowid range (num << RS_ORG_ROW_BITS | n), so the chain's head
 * is the range's last row: one probe, no second copy to keep in step.
 * Writers take turns on the one write lock (db.h), which is what
 * serialises them on each org's head; on PostgreSQL the append first
 * takes the org's row lock (store_audit_pg.c), so writers that began
 * without naming the org (the CLI, an invite accepted) take turns too. The lookup by target is kept off
 * that path: audit_targets (sql/0010) is filled in afterwards, in
 * batches (rs_store_audit_index, run by the worker), and a list by
 * target reads it as far as it goes and the log itself past that. A store never sees a request; the
 * strings of the entries it reads live in the arena given.
 */
#ifndef RS_STORE_AUDIT_H
#define RS_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"

struct rs_arena;
struct rs_db;

/* One stored entry: its facts and its rowid. */
struct rs_store_audit_row {
	int64_t			 seq;	/* the rowid: num << 40 | n */
	struct rs_audit_entry	 e;
};

/* What a list keeps; NULL members (and after_n 0) keep everything. */
struct rs_store_audit_filter {
	const char	*action;
	const char	*actor;		/* an actor id */
	const char	*target;
	int64_t		 after_n;	/* entries after this seq */
};

/*
 * Inside a write transaction: appends e to org e->org_id's chain. Sets
 * e->n (the head's plus one), e->prev_hash (the head's hash, or
 * rs_audit_genesis) and e->hash; e->detail must be canonical JSON
 * (audit.h: rs_audit_detail). RS_ERR_INVAL for facts that make no entry
 * (rs_audit_check), RS_ERR_NOTFOUND for an unknown org, RS_ERR_DB when
 * the org's numbers are spent or the head is damaged (logged).
 */
enum rs_err	rs_store_audit_append(struct rs_db *db, struct rs_audit_entry *e);
/*
 * Up to max entries of org passing f, oldest first, into out, *n of
 * them, strings in a. Filters on target, actor and action read their
 * index within the org's range, in that order of preference.
 */
enum rs_err	rs_store_audit_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_store_audit_filter *f,
		    size_t max, struct rs_store_audit_row *out, size_t *n);
/* The seq of org's last entry (0 before the first), or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_audit_last(struct rs_db *db, const char *org,
		    int64_t *n);
/* The number of the first org numbered after after: RS_OK and *num,
 * or RS_ERR_NOTFOUND past the last. */
enum rs_err	rs_store_audit_org_next(struct rs_db *db, int64_t after,
		    int64_t *num);
/*
 * Inside a write transaction: adds up to max of org number num's
 * entries, the first not there yet, to the target lookup; *n of them
 * (fewer than max: it has all of them now).
 */
enum rs_err	rs_store_audit_index(struct rs_db *db, int64_t num, size_t max,
		    size_t *n);
/* The org's number (its rows' range), or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_audit_org_num(struct rs_db *db, const char *org,
		    int64_t *num);

#endif /* RS_STORE_AUDIT_H */
