/*
 * store_jobs_pg.c: store_jobs.h on PostgreSQL (see store_jobs_pg.h).
 *
 * SQLite had one writer at a time; here a worker may run on every host,
 * each with its own connection, beside the pool's API writers. So the
 * worker's writes that pick rows (lease, expire, purge) lock the rows
 * they pick with FOR UPDATE SKIP LOCKED: a row another worker is taking
 * is passed over, never waited for, and never taken twice. The writes
 * that name one job and one attempt (unlease, settle, retry) stay
 * compare-and-set updates that check the count: one that waits behind
 * another writer sees its commit and matches nothing when the job has
 * moved on (READ COMMITTED re-reads the row it waited for).
 */
#include <string.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_jobs_pg.h"

enum {
	STMT_LIST,
	STMT_COUNTS,
	STMT_GET,
	STMT_RETRY,
	STMT_DROP,
	STMT_REPLAY_EVENTS,
	STMT_INSERT,
	STMT_DUE,
	STMT_LEASE,
	STMT_UNLEASE,
	STMT_EXPIRE,
	STMT_SETTLE,
	STMT_PURGE_SUCCEEDED,
	STMT_PURGE_DEAD,
	STMT__MAX
};

/*
 * The states a job waits or runs in: written exactly as in the partial
 * index jobs_due (sql/pg/0001), so the planner sees that a query's
 * WHERE implies the index's and may use it.
 */
#define WAITING	"state IN ('pending', 'running', 'failed')"

/*
 * An org's events: its rowid range (sql/0004), bound by its id as $1.
 * SQLite's "+e.org_id" kept its planner off an index; PostgreSQL has
 * none to avoid here.
 */
#define ORG_EVENTS \
	"e.seq > (SELECT num << " RS_STR(RS_ORG_ROW_BITS) " FROM orgs " \
	"WHERE id = $1) AND e.seq < ((SELECT num FROM orgs WHERE id = $1) " \
	"+ 1) << " RS_STR(RS_ORG_ROW_BITS) " AND e.org_id = $1 "

/*
 * Replay's window $2..$3 and the endpoint's "events" array $4 (SQLite's
 * json_each is jsonb_array_elements_text here). The IN subqueries do
 * not depend on the row: the array is read once.
 */
#define REPLAY_MATCH \
	"AND e.created_at >= $2 AND e.created_at < $3 " \
	"AND (e.type IN (SELECT jsonb_array_elements_text($4::jsonb)) " \
	"OR '*' IN (SELECT jsonb_array_elements_text($4::jsonb))) "

/*
 * May job j be leased at $1: attempts left, its endpoint enabled, and no
 * earlier event of its record to that endpoint still waiting (one
 * record's events reach one endpoint in order). Shared by the read that
 * picks the due jobs and the write that leases each. The order test
 * probes jobs_chain, which holds only waiting jobs: one step, however
 * many of the record's jobs were delivered before. A job is made only
 * after the earlier ones of its record (fan-out goes in event order),
 * so a snapshot that sees it sees them.
 */
#define LEASABLE \
	"j.due_at <= $1 AND j.attempts < j.max_attempts " \
	"AND EXISTS (SELECT 1 FROM webhooks w WHERE w.seq = j.webhook_seq " \
	"AND w.status = 'enabled') " \
	"AND (j.record_id IS NULL OR (SELECT 1 FROM jobs p " \
	"WHERE p.webhook_seq = j.webhook_seq AND p.record_id = j.record_id " \
	"AND p.event_seq < j.event_seq AND p." WAITING " " \
	"ORDER BY p.event_seq DESC LIMIT 1) IS NULL) "

static const char *const sql[STMT__MAX] = {
	/* STMT_LIST: NULL filters mean "any" (cast: no type of their own) */
	"SELECT " JCOLS "WHERE j.org_id = $1 AND j.seq > $2 "
	"AND ($3::text IS NULL OR j.state = $3::text) "
	"AND ($4::text IS NULL OR j.queue = $4::text) "
	"AND ($5::text IS NULL OR j.event_type = $5::text) "
	"ORDER BY j.seq LIMIT $6",
	/* STMT_COUNTS */
	"SELECT state, count(*) FROM jobs WHERE org_id = $1 GROUP BY state",
	/* STMT_GET */
	"SELECT " JCOLS "WHERE j.org_id = $1 AND j.id = $2",
	/*
	 * STMT_RETRY: pending and due now; a dead job gets a fresh budget
	 * and keeps counting its tries.
	 */
	"UPDATE jobs SET state = 'pending', due_at = $2, updated_at = $2, "
	"max_attempts = CASE WHEN state = 'dead' THEN attempts + "
	RS_STR(RS_STORE_JOBS_MAX_ATTEMPTS) " ELSE max_attempts END "
	"WHERE seq = $1 AND state IN ('pending', 'failed', 'dead')",
	/*
	 * STMT_DROP: the endpoint's jobs, locked in seq order before they
	 * go, so that two writers taking several of them wait for each
	 * other in one order rather than each holding what the other needs.
	 */
	"DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs "
	"WHERE webhook_seq = $1 ORDER BY seq FOR UPDATE)",
	/*
	 * STMT_REPLAY_EVENTS: up to $5 of them, in order. SQLite counted
	 * them first, then read them; here one statement reads one more
	 * than may be made, which says "too many" from the same snapshot
	 * as the rows it makes jobs of.
	 */
	"SELECT e.seq, e.type, e.record_id, e.queue, e.priority "
	"FROM events e WHERE " ORG_EVENTS REPLAY_MATCH "ORDER BY e.seq "
	"LIMIT $5",
	/* STMT_INSERT */
	"INSERT INTO jobs (id, org_id, webhook_seq, event_seq, event_type, "
	"record_id, queue, priority, max_attempts, due_at, created_at, "
	"updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	RS_STR(RS_STORE_JOBS_MAX_ATTEMPTS) ", $9, $10, $10)",
	/* STMT_DUE: walks jobs_due; $2 rows */
	"SELECT j.seq FROM jobs j WHERE j." WAITING " AND " LEASABLE
	"ORDER BY j.priority DESC, j.due_at, j.seq LIMIT $2",
	/*
	 * STMT_LEASE: $2 the job, $3 the lease's end, $4 the most secret
	 * bytes kept. The job is locked as it is checked, SKIP LOCKED: one
	 * another worker is leasing (or settling) is not this one's, and
	 * a worker never waits on another. What its delivery needs comes
	 * back with it, in the same statement (SQLite read it after).
	 * The joins are outer so that a job whose event or endpoint is
	 * gone (a damaged database) comes back as such, not as "taken".
	 */
	"WITH l AS (UPDATE jobs SET state = 'running', "
	"attempts = attempts + 1, due_at = $3, updated_at = $1 "
	"WHERE seq = (SELECT j.seq FROM jobs j WHERE j.seq = $2 AND j."
	WAITING " AND " LEASABLE "FOR UPDATE OF j SKIP LOCKED) "
	"RETURNING seq, attempts, max_attempts, webhook_seq, event_seq) "
	"SELECT l.seq, l.attempts, l.max_attempts, l.webhook_seq, e.id, "
	"e.payload, w.url, substring(w.secret FROM 1 FOR $4::int) FROM l "
	"LEFT JOIN events e ON e.seq = l.event_seq "
	"LEFT JOIN webhooks w ON w.seq = l.webhook_seq",
	/* STMT_UNLEASE */
	"UPDATE jobs SET state = CASE WHEN attempts > 1 THEN 'failed' "
	"ELSE 'pending' END, attempts = attempts - 1, due_at = $3, "
	"updated_at = $3 WHERE seq = $1 AND state = 'running' "
	"AND attempts = $2",
	/*
	 * STMT_EXPIRE: walks jobs_leased; a job another worker holds (it
	 * is settling or expiring it) is skipped, not waited for.
	 */
	"UPDATE jobs SET state = 'dead', last_status = NULL, "
	"last_error = 'the worker stopped during the last attempt', "
	"updated_at = $1 WHERE seq IN (SELECT seq FROM jobs "
	"WHERE state = 'running' AND due_at <= $1 "
	"AND attempts >= max_attempts FOR UPDATE SKIP LOCKED)",
	/* STMT_SETTLE */
	"UPDATE jobs SET state = $3, due_at = $4, last_error = $5, "
	"last_status = $6, updated_at = $7 "
	"WHERE seq = $1 AND state = 'running' AND attempts = $2",
	/* STMT_PURGE_SUCCEEDED: walks jobs_done; skips rows another
	 * worker's purge holds */
	"DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs "
	"WHERE state = 'succeeded' AND updated_at < $1 LIMIT $2 "
	"FOR UPDATE SKIP LOCKED)",
	/*
	 * STMT_PURGE_DEAD: per org, through jobs_org_state. SQLite needed
	 * CROSS JOIN to keep orgs outside; PostgreSQL's planner chooses
	 * the order itself. Only the jobs are locked (OF j): an org's row
	 * is its writers'.
	 */
	"DELETE FROM jobs WHERE seq IN (SELECT j.seq FROM orgs o "
	"JOIN jobs j ON j.org_id = o.id AND j.state = 'dead' "
	"WHERE j.updated_at < $1 LIMIT $2 FOR UPDATE OF j SKIP LOCKED)",
};

/* Fills j from row i of a JCOLS query. */
static enum rs_err
rs_store_jobs_pg_row(struct rs_arena *a, const struct pg_result *r, int i,
    struct rs_store_job *j)
{
	int	 state;

	memset(j, 0, sizeof(*j));
	j->seq = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, j->id, sizeof(j->id)) != RS_OK ||
	    rs_pg_copy(r, i, 2, j->org, sizeof(j->org)) != RS_OK ||
	    rs_pg_copy(r, i, 4, j->webhook_id,
	    sizeof(j->webhook_id)) != RS_OK ||
	    rs_pg_copy(r, i, 6, j->event_id, sizeof(j->event_id)) != RS_OK)
		return RS_ERR_RANGE;
	j->webhook_seq = rs_pg_int64(r, i, 3);
	j->event_seq = rs_pg_int64(r, i, 5);
	j->event_type = rs_pg_dup(r, i, 7, a);
	j->record_id = rs_pg_dup(r, i, 8, a);
	j->queue = rs_pg_dup(r, i, 9, a);
	j->priority = (int)rs_pg_int64(r, i, 10);
	if ((state = rs_job_state_parse(rs_pg_str(r, i, 11))) < 0)
		return RS_ERR_DB;
	j->state = (enum rs_job_state)state;
	j->attempts = (int)rs_pg_int64(r, i, 12);
	j->max_attempts = (int)rs_pg_int64(r, i, 13);
	j->due_at = rs_pg_int64(r, i, 14);
	j->last_error = rs_pg_dup(r, i, 15, a);
	j->last_status = (int)rs_pg_int64(r, i, 16);	/* NULL reads 0 */
	j->created_at = rs_pg_int64(r, i, 17);
	j->updated_at = rs_pg_int64(r, i, 18);
	if (j->event_type == NULL || j->queue == NULL ||
	    (j->record_id == NULL && !rs_pg_isnull(r, i, 8)) ||
	    (j->last_error == NULL && !rs_pg_isnull(r, i, 15)))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_jobs_pg_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_store_jobs_filter *f, int64_t after_seq, size_t max,
    struct rs_store_job *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, after_seq);
	rs_pg_text(&args, f == NULL || f->state < 0 ? NULL :
	    rs_job_state_name((enum rs_job_state)f->state));
	rs_pg_text(&args, f != NULL ? f->queue : NULL);
	rs_pg_text(&args, f != NULL ? f->event_type : NULL);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_jobs_pg_row(a, r, i, &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_jobs_pg_counts(struct rs_db *db, const char *org,
    int64_t counts[RS_JOB__MAX])
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i, s;

	memset(counts, 0, sizeof(int64_t) * RS_JOB__MAX);
	rs_pg_args(&a);
	rs_pg_text(&a, org);
	if ((rc = rs_pg_query(db, sql[STMT_COUNTS], &a, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r); i++)
		if ((s = rs_job_state_parse(rs_pg_str(r, i, 0))) >= 0)
			counts[s] = rs_pg_int64(r, i, 1);
	rs_pg_clear(r);
	return RS_OK;
}

enum rs_err
rs_store_jobs_pg_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_store_job *j)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	if ((rc = rs_pg_query(db, sql[STMT_GET], &args, &r)) != RS_OK)
		return rc;
	rc = rs_pg_rows(r) == 1 ? rs_store_jobs_pg_row(a, r, 0, j) :
	    RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_jobs_pg_retry(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, int64_t now, struct rs_store_job *j)
{
	struct rs_pg_args	 args;
	enum rs_err		 rc;
	int64_t			 n;

	if ((rc = rs_store_jobs_pg_get(db, a, org, id, j)) != RS_OK)
		return rc;
	if (j->state == RS_JOB_SUCCEEDED || j->state == RS_JOB_RUNNING)
		return RS_ERR_STATE;
	rs_pg_args(&args);
	rs_pg_int(&args, j->seq);
	rs_pg_int(&args, now);
	if ((rc = rs_pg_run(db, sql[STMT_RETRY], &args, &n)) != RS_OK)
		return rc;
	/*
	 * Unlike SQLite's one writer, a worker may have leased the job
	 * since the read (the org's lock does not hold the worker back):
	 * then the update matched nothing, and the job is given back as
	 * it is now.
	 */
	if (n != 1) {
		if ((rc = rs_store_jobs_pg_get(db, a, org, id, j)) != RS_OK)
			return rc;
		return RS_ERR_STATE;
	}
	return rs_store_jobs_pg_get(db, a, org, id, j);
}

enum rs_err
rs_store_jobs_pg_drop_webhook(struct rs_db *db, int64_t webhook_seq)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_int(&a, webhook_seq);
	return rs_pg_run(db, sql[STMT_DROP], &a, NULL);
}

enum rs_err
rs_store_jobs_pg_add(struct rs_db *db, const char *org,
    const struct rs_store_jobs_new *nj, int64_t now)
{
	struct rs_pg_args	 a;
	char			 id[RS_ID_MAX];

	/* Time-sorted ids: the unique index on id grows at its right
	 * edge, as jobs are made in bulk by fan-out. */
	rs_id_new_sorted(id, sizeof(id), "job_", now);
	rs_pg_args(&a);
	rs_pg_text(&a, id);
	rs_pg_text(&a, org);
	rs_pg_int(&a, nj->webhook_seq);
	rs_pg_int(&a, nj->event_seq);
	rs_pg_text(&a, nj->event_type);
	rs_pg_text(&a, nj->record_id);
	rs_pg_text(&a, nj->queue);
	rs_pg_int(&a, nj->priority);
	rs_pg_int(&a, nj->due_at);
	rs_pg_int(&a, now);
	return rs_pg_run(db, sql[STMT_INSERT], &a, NULL);
}

/* Makes the job of row i of STMT_REPLAY_EVENTS for endpoint wseq. */
static enum rs_err
rs_store_jobs_pg_replay_one(struct rs_db *db, const char *org,
    const struct pg_result *r, int i, int64_t wseq, int64_t now)
{
	struct rs_store_jobs_new nj;

	memset(&nj, 0, sizeof(nj));
	nj.webhook_seq = wseq;
	nj.event_seq = rs_pg_int64(r, i, 0);
	nj.event_type = rs_pg_str(r, i, 1);
	nj.record_id = rs_pg_str(r, i, 2);
	nj.queue = rs_pg_str(r, i, 3);
	nj.priority = (int)rs_pg_int64(r, i, 4);
	nj.due_at = now;
	if (nj.event_type == NULL || nj.queue == NULL)
		return RS_ERR_DB;	/* NOT NULL columns */
	return rs_store_jobs_pg_add(db, org, &nj, now);
}

enum rs_err
rs_store_jobs_pg_replay(struct rs_db *db, const char *org,
    int64_t webhook_seq, const char *events_json, int64_t since,
    int64_t until, int64_t now, size_t max, size_t *n)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc = RS_OK;
	int			 i;

	*n = 0;
	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_int(&a, since);
	rs_pg_int(&a, until);
	rs_pg_text(&a, events_json);
	rs_pg_int(&a, max < (size_t)INT64_MAX ? (int64_t)max + 1 :
	    INT64_MAX);
	if ((rc = rs_pg_query(db, sql[STMT_REPLAY_EVENTS], &a, &r)) != RS_OK)
		return rc;
	if ((size_t)rs_pg_rows(r) > max) {
		rs_pg_clear(r);
		return RS_ERR_RANGE;
	}
	/* The rows are all here: the inserts run after the read. */
	for (i = 0; i < rs_pg_rows(r); i++) {
		if ((rc = rs_store_jobs_pg_replay_one(db, org, r, i,
		    webhook_seq, now)) != RS_OK)
			break;
		(*n)++;
	}
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_jobs_pg_due(struct rs_db *db, int64_t now, size_t max,
    int64_t *seqs, size_t *n)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&a);
	rs_pg_int(&a, now);
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_DUE], &a, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		seqs[(*n)++] = rs_pg_int64(r, i, 0);
	rs_pg_clear(r);
	return RS_OK;
}

/* Fills l from row 0 of STMT_LEASE. */
static enum rs_err
rs_store_jobs_pg_leased_row(struct rs_arena *a, const struct pg_result *r,
    struct rs_store_jobs_lease *l)
{
	memset(l, 0, sizeof(*l));
	/* Its event or endpoint is gone: a damaged database. */
	if (rs_pg_isnull(r, 0, 4) || rs_pg_isnull(r, 0, 6))
		return RS_ERR_DB;
	l->seq = rs_pg_int64(r, 0, 0);
	l->attempts = (int)rs_pg_int64(r, 0, 1);
	l->max_attempts = (int)rs_pg_int64(r, 0, 2);
	l->webhook_seq = rs_pg_int64(r, 0, 3);
	if (rs_pg_copy(r, 0, 4, l->event_id, sizeof(l->event_id)) != RS_OK)
		return RS_ERR_RANGE;
	l->payload = rs_pg_dup(r, 0, 5, a);
	l->url = rs_pg_dup(r, 0, 6, a);
	/* A sealed secret of another size is kept as it is, cut to the
	 * buffer (by the statement): opening it fails, and the delivery
	 * says so. */
	if (rs_pg_bytea(r, 0, 7, l->secret, sizeof(l->secret),
	    &l->secretlen) != RS_OK)
		l->secretlen = 0;
	return l->payload && l->url ? RS_OK : RS_ERR_NOMEM;
}

enum rs_err
rs_store_jobs_pg_lease(struct rs_db *db, struct rs_arena *a, int64_t seq,
    int64_t now, int64_t until, struct rs_store_jobs_lease *l)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	rs_pg_int(&args, now);
	rs_pg_int(&args, seq);
	rs_pg_int(&args, until);
	rs_pg_int(&args, (int64_t)sizeof(l->secret));
	if ((rc = rs_pg_query(db, sql[STMT_LEASE], &args, &r)) != RS_OK)
		return rc;
	rc = rs_pg_rows(r) == 1 ? rs_store_jobs_pg_leased_row(a, r, l) :
	    RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_jobs_pg_unlease(struct rs_db *db, int64_t seq, int attempts,
    int64_t now)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_int(&a, seq);
	rs_pg_int(&a, attempts);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_run(db, sql[STMT_UNLEASE], &a, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

/* Runs the write i with a: RS_OK and *n rows changed, or an error. */
static enum rs_err
rs_store_jobs_pg_changed(struct rs_db *db, int i, const struct rs_pg_args *a,
    size_t *n)
{
	enum rs_err	 rc;
	int64_t		 changed;

	*n = 0;
	if ((rc = rs_pg_run(db, sql[i], a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}

enum rs_err
rs_store_jobs_pg_expire(struct rs_db *db, int64_t now, size_t *n)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_int(&a, now);
	return rs_store_jobs_pg_changed(db, STMT_EXPIRE, &a, n);
}

enum rs_err
rs_store_jobs_pg_settle(struct rs_db *db, int64_t seq, int attempts,
    enum rs_job_state state, int64_t due_at, const char *error, int status,
    int64_t now)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	if (rs_job_state_name(state) == NULL)
		return RS_ERR_INVAL;
	rs_pg_args(&a);
	rs_pg_int(&a, seq);
	rs_pg_int(&a, attempts);
	rs_pg_text(&a, rs_job_state_name(state));
	rs_pg_int(&a, due_at);
	rs_pg_text(&a, error);
	if (status != 0)
		rs_pg_int(&a, status);
	else
		rs_pg_null(&a);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_run(db, sql[STMT_SETTLE], &a, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_jobs_pg_purge(struct rs_db *db, enum rs_job_state state,
    int64_t before, size_t max, size_t *n)
{
	struct rs_pg_args	 a;

	*n = 0;
	if (state != RS_JOB_SUCCEEDED && state != RS_JOB_DEAD)
		return RS_ERR_INVAL;
	rs_pg_args(&a);
	rs_pg_int(&a, before);
	rs_pg_int(&a, (int64_t)max);
	return rs_store_jobs_pg_changed(db, state == RS_JOB_SUCCEEDED ?
	    STMT_PURGE_SUCCEEDED : STMT_PURGE_DEAD, &a, n);
}
