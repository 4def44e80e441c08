/*
 * txn.h: the one write transaction. Every writer (records, users,
 * invites, keys and tokens, the admin CLI) changes the database through
 * rs_txn_run(), which:
 *
 *   takes the write lock (BEGIN IMMEDIATE behind the writers' queue;
 *     inside a nest, db.h, a savepoint of the outer transaction),
 *   checks the Idempotency-Key, if any (a replay or a reused key ends
 *     here, changing nothing),
 *   runs the caller's change,
 *   numbers and appends the outbox events the change was given,
 *   keeps the answer under the key,
 *   appends the change's audit entry (struct rs_txn_audit),
 *   and commits; or rolls back and has changed nothing.
 *
 * It never sees a request: the org, the key and the answer to keep are
 * given as data, so the admin CLI writes through it as the API does.
 */
#ifndef RS_TXN_H
#define RS_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "idem.h"
#include "store_orgseq.h"
#include "store_outbox.h"

struct json_object;
struct rs_arena;
struct rs_db;

#define RS_TXN_MAX_EVENTS	4	/* events one change may write */
#define RS_TXN_RUNS		4	/* runs of a change that lost a race */

/* What a change says, run inside the transaction. */
enum rs_txn_do {
	RS_TXN_COMMIT,		/* write the events and the key; commit */
	RS_TXN_DECLINE,		/* change nothing (the caller knows why) */
	RS_TXN_FAILED,		/* an error: roll back */
};

/* How rs_txn_run() ended. */
enum rs_txn_result {
	RS_TXN_DONE,		/* committed */
	RS_TXN_DECLINED,	/* the change declined: nothing written */
	RS_TXN_REPLAY,		/* the key answered this request: t->replay */
	RS_TXN_KEY_REUSED,	/* the key belongs to another request */
	RS_TXN_BUSY,		/* no write lock in time, or busy midway
				 * and rolled back (t->err says why) */
	RS_TXN_ERROR,		/* rolled back (t->err says why) */
};

/*
 * The audit entry of the change (CONTRACT section 7), appended by
 * rs_txn_run() in the same transaction, after the events. Who and where
 * are filled by the edge for a request (reply.h: rs_reply_txn_init) or
 * by the CLI; what (action, target, detail) by the change itself, which
 * knows the ids it made. A change that commits without an action is a
 * bug: rs_txn_run() then fails and rolls back, so no write can forget
 * its entry. Replays and declined changes write none.
 */
struct rs_txn_audit {
	const char		*actor_type;	/* "user" or "system" */
	const char		*actor_id;	/* usr_..., or the program */
	const char		*action;	/* "record.create", ... */
	const char		*target;	/* an id, or NULL */
	const char		*request_id;	/* or NULL */
	const char		*ip;		/* the client's, or NULL */
	struct json_object	*detail;	/* what changed: names, never a
						 * secret or a payload; t owns
						 * it once set (NULL: {}) */
	/*
	 * Set (instead of an action) by the server's own bookkeeping that
	 * no one asked for and that changes no one's data: the failed-key
	 * counters and last_sync_at. Such a write has no entry. Stated,
	 * never inferred, so a change that forgot its action still fails.
	 */
	int			 bookkeeping;
};

struct rs_txn {
	struct rs_db		*db;
	struct rs_arena		*arena;
	char			 org[RS_ID_MAX]; /* whose key and events */
	int64_t			 now;		/* the time of the change */
	const struct rs_idem	*idem;		/* NULL, or key NULL: none */
	struct rs_idem_answer	 answer;	/* kept under the key */
	struct rs_idem_answer	 replay;	/* set on RS_TXN_REPLAY */
	/* Where and when the events go (policy_set.h): set before they
	 * are built; rs_txn_init sets "default", 5, no delay. */
	const char		*queue;
	int			 priority;
	int64_t			 delay_ms;
	struct rs_store_outbox_event ev[RS_TXN_MAX_EVENTS];
	size_t			 nev;
	size_t			 numbered;	/* events already numbered */
	struct rs_txn_audit	 audit;		/* the entry (see above) */
	enum rs_err		 err;		/* why it was busy or failed;
						 * a failing change may set it */
	/*
	 * Set by a caller whose change must not run again inside a nest
	 * when it loses a race (a batch: its items run again on their own,
	 * and a run again of all of them would count them twice in the rate
	 * limiter); it is then busy.
	 */
	int			 once;
};

/* The change: runs inside the transaction with the caller's arg. */
typedef enum rs_txn_do	(*rs_txn_change)(struct rs_txn *t, void *arg);

/*
 * Prepares t for a write by org (may be NULL and set by the change, as
 * accepting an invite learns its org) at now; strings go to arena a. An
 * org id of RS_ID_MAX bytes or more sets t->err to RS_ERR_RANGE, and
 * rs_txn_run() then fails without running anything.
 */
void		 rs_txn_init(struct rs_txn *t, struct rs_db *db,
		    struct rs_arena *a, const char *org, int64_t now);
/*
 * Builds one event of type about record_id (may be NULL) with data
 * (borrowed: the resource as the API shows it) into t, before or during
 * the change; rs_txn_run() appends it. RS_ERR_RANGE past
 * RS_TXN_MAX_EVENTS, RS_ERR_INVAL without data; t is unchanged then.
 */
enum rs_err	 rs_txn_event(struct rs_txn *t, const char *type,
		    const char *record_id, struct json_object *data);
/*
 * As rs_txn_event, with the members of more (borrowed, may be NULL)
 * beside data at the payload's top level (record.conflict's
 * conflict_id).
 */
enum rs_err	 rs_txn_event_more(struct rs_txn *t, const char *type,
		    const char *record_id, struct json_object *data,
		    struct json_object *more);
/*
 * Inside the change: takes nchanges of the org's change numbers into
 * *seq and numbers every event built so far, in one step (one statement
 * under the lock instead of two).
 */
enum rs_err	 rs_txn_number(struct rs_txn *t, int nchanges,
		    struct rs_store_orgseq *seq);
/* Runs change(t, arg) in the one write transaction; see above. */
enum rs_txn_result rs_txn_run(struct rs_txn *t, rs_txn_change change,
		    void *arg);

#endif /* RS_TXN_H */
