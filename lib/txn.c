#include <string.h>

#include <stdlib.h>

#include <json-c/json.h>

#include "limits.h"
#include "arena.h"
#include "audit.h"
#include "db.h"
#include "log.h"
#include "store_audit.h"
#include "store_idem.h"
#include "txn.h"

void
rs_txn_init(struct rs_txn *t, struct rs_db *db, struct rs_arena *a,
    const char *org, int64_t now)
{
	memset(t, 0, sizeof(*t));
	t->db = db;
	t->arena = a;
	t->now = now;
	t->queue = "default";
	t->priority = RS_POLICY_DEFAULT_PRIORITY;
	/* An org id too long to keep is not cut to one that names nobody:
	 * rs_txn_run() then refuses to run. */
	if (org != NULL && strlen(org) >= sizeof(t->org))
		t->err = RS_ERR_RANGE;
	else if (org != NULL)
		strcpy(t->org, org);
}

enum rs_err
rs_txn_event(struct rs_txn *t, const char *type, const char *record_id,
    struct json_object *data)
{
	return rs_txn_event_more(t, type, record_id, data, NULL);
}

enum rs_err
rs_txn_event_more(struct rs_txn *t, const char *type, const char *record_id,
    struct json_object *data, struct json_object *more)
{
	enum rs_err	 rc;

	if (t->nev == RS_TXN_MAX_EVENTS)
		return RS_ERR_RANGE;
	if (data == NULL)
		return RS_ERR_INVAL;
	/* A slot counts only once its event is whole. */
	if ((rc = rs_store_outbox_event_more(t->arena, &t->ev[t->nev],
	    t->org, type, record_id, data, more, t->now)) != RS_OK)
		return rc;
	t->ev[t->nev].queue = t->queue;
	t->ev[t->nev].priority = t->priority;
	t->ev[t->nev].not_before = t->now + t->delay_ms;
	t->nev++;
	return RS_OK;
}

enum rs_err
rs_txn_number(struct rs_txn *t, int nchanges, struct rs_store_orgseq *seq)
{
	size_t		 n = t->nev - t->numbered, i;
	enum rs_err	 rc;

	if ((rc = rs_store_orgseq_take(t->db, t->org, nchanges, (int)n,
	    seq)) != RS_OK)
		return rc;
	for (i = 0; i < n; i++)
		t->ev[t->numbered + i].seq = rs_store_orgseq_rowid(seq,
		    seq->event + (int64_t)i);
	t->numbered = t->nev;
	return RS_OK;
}

/* Has the key answered before? RS_TXN_DONE: no, go on. */
static enum rs_txn_result
rs_txn_seen(struct rs_txn *t)
{
	if (t->idem == NULL || t->idem->key == NULL)
		return RS_TXN_DONE;
	switch (rs_store_idem_find(t->db, t->arena, t->org, t->idem, t->now,
	    &t->replay)) {
	case RS_IDEM_NEW:
		return RS_TXN_DONE;
	case RS_IDEM_REPLAY:
		return RS_TXN_REPLAY;
	case RS_IDEM_MISMATCH:
		return RS_TXN_KEY_REUSED;
	default:
		t->err = RS_ERR_DB;
		return RS_TXN_ERROR;
	}
}

/*
 * Appends the change's audit entry to its org's chain. A change that
 * commits without an action is a bug (every write has its entry):
 * RS_ERR_INVAL, logged, and the transaction rolls back.
 */
static enum rs_err
rs_txn_audit(struct rs_txn *t)
{
	struct rs_audit_entry	 e;
	char			*detail;
	enum rs_err		 rc;

	if (t->audit.action == NULL) {
		rs_log_err("org %s: a change would commit without an audit "
		    "action; rolled back", t->org);
		return RS_ERR_INVAL;
	}
	if ((rc = rs_audit_detail(t->audit.detail, &detail)) != RS_OK) {
		rs_log_err("org %s: %s: the audit detail has no canonical "
		    "form (%s)", t->org, t->audit.action, rs_strerror(rc));
		return rc;
	}
	memset(&e, 0, sizeof(e));
	e.at = t->now;
	e.org_id = t->org;
	e.actor_type = t->audit.actor_type;
	e.actor_id = t->audit.actor_id;
	e.action = t->audit.action;
	e.target = t->audit.target;
	e.request_id = t->audit.request_id;
	e.ip = t->audit.ip;
	e.detail = detail;
	if ((rc = rs_store_audit_append(t->db, &e)) == RS_ERR_INVAL)
		rs_log_err("org %s: %s: the audit entry's actor or action is "
		    "not one (%s %s); rolled back", t->org, t->audit.action,
		    t->audit.actor_type ? t->audit.actor_type : "(none)",
		    t->audit.actor_id ? t->audit.actor_id : "(none)");
	free(detail);
	return rc;
}

/* After the change: the events not yet numbered, then every event, then
 * the answer under the key, then the audit entry. */
static enum rs_err
rs_txn_finish(struct rs_txn *t)
{
	struct rs_store_orgseq	 seq;
	enum rs_err		 rc;
	size_t			 i;

	if (t->numbered < t->nev &&
	    (rc = rs_txn_number(t, 0, &seq)) != RS_OK)
		return rc;
	for (i = 0; i < t->nev; i++)
		if ((rc = rs_store_outbox_put(t->db, t->org,
		    &t->ev[i])) != RS_OK)
			return rc;
	if (t->idem != NULL && t->idem->key != NULL) {
		/* A key with no answer to keep would replay nothing. */
		if (t->answer.body == NULL || t->answer.headers == NULL)
			return RS_ERR_INVAL;
		if ((rc = rs_store_idem_store(t->db, t->org, t->idem, t->now,
		    &t->answer)) != RS_OK)
			return rc;
	}
	return t->audit.bookkeeping ? RS_OK : rs_txn_audit(t);
}

/*
 * A failure in a transaction that had failed before, busy or losing a
 * race (rs_db_tx_err: PostgreSQL's lock not had in time, its connection
 * lost, a deadlock), is that first failure, whatever the failing step
 * made of it: 503 or a run again, not a 500.
 */
static void
rs_txn_cause(struct rs_txn *t)
{
	enum rs_err	 first = rs_db_tx_err(t->db);

	if (first == RS_ERR_BUSY || first == RS_ERR_RETRY)
		t->err = first;
}

/* rs_txn_run() but for the release of t->audit.detail. */
static enum rs_txn_result
rs_txn_run1(struct rs_txn *t, rs_txn_change change, void *arg)
{
	enum rs_txn_result	 res;

	if (t->err != RS_OK)
		return RS_TXN_ERROR;
	/* An org's writers take turns; one learnt in the change (an
	 * invite accepted) has none yet, and takes its turn by the rows
	 * it changes. */
	if ((t->err = rs_db_begin_org(t->db,
	    t->org[0] != '\0' ? t->org : NULL)) != RS_OK)
		return RS_TXN_BUSY;
	if ((res = rs_txn_seen(t)) != RS_TXN_DONE) {
		if (res == RS_TXN_ERROR)
			rs_txn_cause(t);
		rs_db_rollback(t->db);
		return res;
	}
	switch (change(t, arg)) {
	case RS_TXN_COMMIT:
		break;
	case RS_TXN_DECLINE:
		rs_db_rollback(t->db);
		return RS_TXN_DECLINED;
	default:
		if (t->err == RS_OK)
			t->err = RS_ERR_DB;
		goto fail;
	}
	if ((t->err = rs_txn_finish(t)) != RS_OK ||
	    (t->err = rs_db_commit(t->db)) != RS_OK)
		goto fail;
	return RS_TXN_DONE;
fail:
	rs_txn_cause(t);
	rs_db_rollback(t->db);
	return RS_TXN_ERROR;
}

/* Forgets what a run that lost a race made, for the next run. */
static void
rs_txn_again(struct rs_txn *t)
{
	json_object_put(t->audit.detail);
	t->audit.detail = NULL;
	t->audit.action = NULL;
	t->audit.target = NULL;
	memset(&t->answer, 0, sizeof(t->answer));
	t->nev = 0;
	t->numbered = 0;
	t->err = RS_OK;
}

/*
 * Whether a run that lost a race left nothing of itself and may run
 * again: outside a nest its whole transaction was undone; inside one
 * (a batch item), its savepoint was, and the nest stands as it stood
 * before the run (depth), its earlier work intact.
 */
static int
rs_txn_undone(const struct rs_txn *t, int depth)
{
	if (depth == -1)
		return rs_db_nest_depth(t->db) == -1;
	return !t->once && rs_db_nest_depth(t->db) == depth &&
	    rs_db_tx_err(t->db) == RS_OK;
}

enum rs_txn_result
rs_txn_run(struct rs_txn *t, rs_txn_change change, void *arg)
{
	enum rs_txn_result	 res;
	int			 runs = 0, depth = rs_db_nest_depth(t->db);

	/*
	 * A deadlock or serialization failure (PostgreSQL) undid the
	 * transaction, or the savepoint the run had inside a nest (an
	 * error there aborts the savepoint only, PostgreSQL's
	 * subtransaction, and its locks go with it): run it again from the
	 * start, a few times.
	 */
	while ((res = rs_txn_run1(t, change, arg)) == RS_TXN_ERROR &&
	    t->err == RS_ERR_RETRY && rs_txn_undone(t, depth) &&
	    ++runs < RS_TXN_RUNS)
		rs_txn_again(t);
	if (t->err == RS_ERR_RETRY)
		t->err = RS_ERR_BUSY;
	/* Busy midway (a statement that waited too long; a connection to
	 * PostgreSQL lost): rolled back whole, so busy, 503, not a 500. */
	if (res == RS_TXN_ERROR && t->err == RS_ERR_BUSY)
		res = RS_TXN_BUSY;
	/* t owns the detail however the run ended. */
	json_object_put(t->audit.detail);
	t->audit.detail = NULL;
	return res;
}
