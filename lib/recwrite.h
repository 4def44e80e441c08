/*
 * recwrite.h: the one record write path: create, patch and delete, for
 * the record handlers (api_records.c) and the conflicts API's resolve
 * (api_conflicts.c). A write's members are checked before the lock;
 * then it is one write transaction (txn.h): the Idempotency-Key, the
 * causal check (a lost one is stored as a conflict, with its event and
 * its 409 or 412), the change, the version it replaces kept in the
 * record's history, the writer's other open conflicts on the record
 * superseded (or, asked with Prefer: merge=fields, a stale token's patch
 * applied over what changed since when nothing it names did: merge.h),
 * a new version and causal token, the org's next change
 * number, the events and the kept answer, committed together -- or
 * nothing at all.
 *
 * It owns no request parsing but the Idempotency-Key (the handler reads
 * the path and the causal token) and answers through reply.h. A handler
 * with a transaction of its own (a resolve) runs it through
 * rs_recwrite_run() and builds it from the steps below.
 */
#ifndef RS_RECWRITE_H
#define RS_RECWRITE_H

#include <stddef.h>

#include "ctx.h"
#include "idem.h"
#include "store_records.h"
#include "txn.h"

struct json_object;
struct rs_valid;

enum rs_recwrite_op {
	RS_RECWRITE_CREATE,
	RS_RECWRITE_PATCH,
	RS_RECWRITE_DELETE,
};

/* One write, validated as far as it can be before the transaction. */
struct rs_recwrite {
	struct rs_ctx		*ctx;
	enum rs_recwrite_op	 op;
	const char		*id;		/* patch, delete */
	const char		*causal;	/* expected; NULL: no check */
	int			 causal_header;	/* it came as If-Match: 412 */
	int			 merge;		/* Prefer: merge=fields */
	const char		*merged_from;	/* the stale causal a field
						 * merge applied the patch
						 * over, or NULL */
	const char		*merge_refused;	/* why a merge asked for was
						 * not made, or NULL */
	struct json_object	*patch;		/* the members written
						 * (borrowed): the request body,
						 * or what a resolve applies;
						 * NULL for a delete */
	struct rs_idem		 idem;
	struct rs_record	 rec;		/* the record, as written */
	struct json_object	*shown;		/* rec as the API shows it, once
						 * built (rs_recwrite_modify) */
	size_t			 nhdr;		/* headers before the answer */
	struct json_object	*detail;	/* the audit entry's, built
						 * before the lock (create) */
	struct rs_txn		 t;
};

/* A write of op by ctx's caller, now; its members are the request body. */
void		rs_recwrite_begin(struct rs_recwrite *w, struct rs_ctx *ctx,
		    enum rs_recwrite_op op);
/*
 * Checks the members of w->patch for w->op into v (nothing answered);
 * a create's new record is built in w->rec, a patch is tried on a
 * scratch record. RS_OK (then look at v->n), or RS_ERR_NOMEM.
 */
enum rs_err	rs_recwrite_validate(struct rs_recwrite *w, struct rs_valid *v);
/*
 * rs_recwrite_validate(), answering 400 for a bad member, or for a
 * patch with nothing to change: RS_NEXT, RS_ANSWERED, or RS_FAIL.
 */
enum rs_step	rs_recwrite_check(struct rs_recwrite *w);
/*
 * Runs the write: change(t, arg) in the one write transaction (NULL:
 * the record write itself, arg w), and the answer for how it ended
 * (the change's own, a replay, 503, 409 idempotency_in_progress, 422).
 * A create's record, events and answer are made before the lock.
 */
enum rs_step	rs_recwrite_run(struct rs_recwrite *w, rs_txn_change change,
		    void *arg);

/* ---- steps of a change, inside the transaction ------------------------ */

/*
 * Loads record w->id into w->rec: RS_NEXT (live or a tombstone: look
 * at w->rec.deleted_at), RS_ANSWERED (404), or RS_FAIL (w->t.err).
 */
enum rs_step	rs_recwrite_load(struct rs_recwrite *w);
/*
 * Answers 410 record_deleted with the tombstone r in member record:
 * RS_ANSWERED, or RS_FAIL.
 */
enum rs_step	rs_recwrite_gone(struct rs_ctx *ctx, const struct rs_record *r);
/*
 * Makes the loaded live record's next version in w->rec, with no causal
 * check: applies w->patch (patch) or the tombstone (delete); keeps the
 * version it replaces in the history; supersedes the caller's open
 * conflicts on the record; lets the policies choose its queue; builds
 * w->shown and the write's events. Nothing is answered but a patch
 * whose data outgrows the limit. RS_NEXT, RS_ANSWERED (400), RS_FAIL.
 */
enum rs_step	rs_recwrite_modify(struct rs_recwrite *w);
/*
 * Numbers the write from the org's counters (its events with it) and
 * stores w->rec. RS_OK or an error.
 */
enum rs_err	rs_recwrite_store(struct rs_recwrite *w);
/* r as the API shows it, raw JSON in the request arena (caller owns). */
struct json_object *rs_recwrite_shown(struct rs_ctx *ctx,
		    const struct rs_record *r);
/* The ETag value of a record at causal, "\"<causal>\"", in the request
 * arena; NULL without memory. */
const char	*rs_recwrite_etag(struct rs_ctx *ctx, const char *causal);

#endif /* RS_RECWRITE_H */
