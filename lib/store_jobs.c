#include <string.h>

#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "store_jobs.h"
#include "store_jobs_pg.h"

enum {
	STMT_LIST,
	STMT_COUNTS,
	STMT_GET,
	STMT_RETRY,
	STMT_DROP,
	STMT_REPLAY_COUNT,
	STMT_REPLAY_EVENTS,
	STMT_INSERT,
	STMT_DUE,
	STMT_LEASE,
	STMT_LEASED,
	STMT_UNLEASE,
	STMT_EXPIRE,
	STMT_SETTLE,
	STMT_PURGE_SUCCEEDED,
	STMT_PURGE_DEAD,
	STMT__MAX
};

/*
 * The states a job waits or runs in: written exactly as in the partial
 * index jobs_due (sql/0008), so the planner sees that a query's WHERE
 * implies the index's and may use it.
 */
#define WAITING	"state IN ('pending', 'running', 'failed')"

/* An org's events: its rowid range (sql/0004), bound by its id as ?1. */
#define ORG_EVENTS \
	"e.seq > (SELECT num << " RS_STR(RS_ORG_ROW_BITS) " FROM orgs " \
	"WHERE id = ?1) AND e.seq < ((SELECT num FROM orgs WHERE id = ?1) " \
	"+ 1) << " RS_STR(RS_ORG_ROW_BITS) " AND +e.org_id = ?1 "

/*
 * Replay's window ?3..?4 and the endpoint's "events" array ?5. The IN
 * subqueries do not depend on the row, so SQLite reads the array once.
 */
#define REPLAY_MATCH \
	"AND e.created_at >= ?3 AND e.created_at < ?4 " \
	"AND (e.type IN (SELECT value FROM json_each(?5)) " \
	"OR '*' IN (SELECT value FROM json_each(?5))) "

/*
 * May job j be leased at ?1: attempts left, its endpoint enabled, and no
 * earlier event of its record to that endpoint still waiting (one
 * record's events reach one endpoint in order). Shared by the read that
 * picks the due jobs and the write that leases each.
 * The order test probes jobs_chain, which holds only waiting jobs
 * (sql/0008): one step, however many of the record's jobs were
 * delivered before. (Over an index of every job, NOT EXISTS stepped over
 * all the delivered jobs before j: 10,000 events of 100 records took
 * 16 s of CPU to deliver instead of 3.)
 */
#define LEASABLE \
	"j.due_at <= ?1 AND j.attempts < j.max_attempts " \
	"AND EXISTS (SELECT 1 FROM webhooks w WHERE w.seq = j.webhook_seq " \
	"AND w.status = 'enabled') " \
	"AND (j.record_id IS NULL OR (SELECT 1 FROM jobs p " \
	"WHERE p.webhook_seq = j.webhook_seq AND p.record_id = j.record_id " \
	"AND p.event_seq < j.event_seq AND p." WAITING " " \
	"ORDER BY p.event_seq DESC LIMIT 1) IS NULL) "

static const char *const sql[STMT__MAX] = {
	/* STMT_LIST: NULL filters mean "any" */
	"SELECT " JCOLS "WHERE j.org_id = ?1 AND j.seq > ?2 "
	"AND (?3 IS NULL OR j.state = ?3) AND (?4 IS NULL OR j.queue = ?4) "
	"AND (?5 IS NULL OR j.event_type = ?5) ORDER BY j.seq LIMIT ?6",
	/* STMT_COUNTS */
	"SELECT state, count(*) FROM jobs WHERE org_id = ?1 GROUP BY state",
	/* STMT_GET */
	"SELECT " JCOLS "WHERE j.org_id = ?1 AND j.id = ?2",
	/*
	 * STMT_RETRY: pending and due now; a dead job gets a fresh budget
	 * and keeps counting its tries.
	 */
	"UPDATE jobs SET state = 'pending', due_at = ?2, updated_at = ?2, "
	"max_attempts = CASE WHEN state = 'dead' THEN attempts + "
	RS_STR(RS_STORE_JOBS_MAX_ATTEMPTS) " ELSE max_attempts END "
	"WHERE seq = ?1 AND state IN ('pending', 'failed', 'dead')",
	/* STMT_DROP */
	"DELETE FROM jobs WHERE webhook_seq = ?1",
	/* STMT_REPLAY_COUNT */
	"SELECT count(*) FROM events e WHERE " ORG_EVENTS REPLAY_MATCH,
	/* STMT_REPLAY_EVENTS */
	"SELECT e.seq, e.type, e.record_id, e.queue, e.priority "
	"FROM events e WHERE " ORG_EVENTS REPLAY_MATCH "ORDER BY e.seq",
	/* STMT_INSERT */
	"INSERT INTO jobs (id, org_id, webhook_seq, event_seq, event_type, "
	"record_id, queue, priority, max_attempts, due_at, created_at, "
	"updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	RS_STR(RS_STORE_JOBS_MAX_ATTEMPTS) ", ?9, ?10, ?10)",
	/* STMT_DUE: walks jobs_due; ?2 rows */
	"SELECT j.seq FROM jobs j WHERE j." WAITING " AND " LEASABLE
	"ORDER BY j.priority DESC, j.due_at, j.seq LIMIT ?2",
	/* STMT_LEASE: ?2 the job, ?3 the lease's end */
	"UPDATE jobs AS j SET state = 'running', attempts = attempts + 1, "
	"due_at = ?3, updated_at = ?1 WHERE j.seq = ?2 AND j." WAITING
	" AND " LEASABLE,
	/* STMT_LEASED: what the delivery of job ?1 needs */
	"SELECT j.seq, j.attempts, j.max_attempts, j.webhook_seq, e.id, "
	"e.payload, w.url, w.secret FROM jobs j "
	"JOIN events e ON e.seq = j.event_seq "
	"JOIN webhooks w ON w.seq = j.webhook_seq WHERE j.seq = ?1",
	/* STMT_UNLEASE */
	"UPDATE jobs SET state = CASE WHEN attempts > 1 THEN 'failed' "
	"ELSE 'pending' END, attempts = attempts - 1, due_at = ?3, "
	"updated_at = ?3 WHERE seq = ?1 AND state = 'running' "
	"AND attempts = ?2",
	/* STMT_EXPIRE: walks jobs_leased */
	"UPDATE jobs SET state = 'dead', last_status = NULL, "
	"last_error = 'the worker stopped during the last attempt', "
	"updated_at = ?1 WHERE state = 'running' "
	"AND due_at <= ?1 AND attempts >= max_attempts",
	/* STMT_SETTLE */
	"UPDATE jobs SET state = ?3, due_at = ?4, last_error = ?5, "
	"last_status = ?6, updated_at = ?7 "
	"WHERE seq = ?1 AND state = 'running' AND attempts = ?2",
	/* STMT_PURGE_SUCCEEDED: walks jobs_done */
	"DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs "
	"WHERE state = 'succeeded' AND updated_at < ?1 LIMIT ?2)",
	/* STMT_PURGE_DEAD: per org, through jobs_org_state (CROSS JOIN
	 * keeps orgs outside: a plain join scans every job) */
	"DELETE FROM jobs WHERE seq IN (SELECT j.seq FROM orgs o "
	"CROSS JOIN jobs j ON j.org_id = o.id AND j.state = 'dead' "
	"WHERE j.updated_at < ?1 LIMIT ?2)",
};

static const char *const states[RS_JOB__MAX] = {
	"pending", "running", "succeeded", "failed", "dead",
};

const char *
rs_job_state_name(enum rs_job_state s)
{
	if ((unsigned)s >= RS_JOB__MAX)
		return NULL;
	return states[s];
}

int
rs_job_state_parse(const char *s)
{
	int	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < RS_JOB__MAX; i++)
		if (strcmp(states[i], s) == 0)
			return i;
	return -1;
}

/* Fills j from the current row of a JCOLS query. */
static enum rs_err
rs_store_jobs_row(struct rs_arena *a, sqlite3_stmt *st, struct rs_store_job *j)
{
	int	 state;

	memset(j, 0, sizeof(*j));
	j->seq = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, j->id, sizeof(j->id)) != RS_OK ||
	    rs_db_column_copy(st, 2, j->org, sizeof(j->org)) != RS_OK ||
	    rs_db_column_copy(st, 4, j->webhook_id,
	    sizeof(j->webhook_id)) != RS_OK ||
	    rs_db_column_copy(st, 6, j->event_id,
	    sizeof(j->event_id)) != RS_OK)
		return RS_ERR_RANGE;
	j->webhook_seq = sqlite3_column_int64(st, 3);
	j->event_seq = sqlite3_column_int64(st, 5);
	j->event_type = rs_db_column_dup(st, 7, a);
	j->record_id = rs_db_column_dup(st, 8, a);
	j->queue = rs_db_column_dup(st, 9, a);
	j->priority = sqlite3_column_int(st, 10);
	if ((state = rs_job_state_parse((const char *)
	    sqlite3_column_text(st, 11))) < 0)
		return RS_ERR_DB;
	j->state = (enum rs_job_state)state;
	j->attempts = sqlite3_column_int(st, 12);
	j->max_attempts = sqlite3_column_int(st, 13);
	j->due_at = sqlite3_column_int64(st, 14);
	j->last_error = rs_db_column_dup(st, 15, a);
	j->last_status = sqlite3_column_int(st, 16);	/* NULL reads 0 */
	j->created_at = sqlite3_column_int64(st, 17);
	j->updated_at = sqlite3_column_int64(st, 18);
	if (j->event_type == NULL || j->queue == NULL ||
	    (j->record_id == NULL &&
	    sqlite3_column_type(st, 8) != SQLITE_NULL) ||
	    (j->last_error == NULL &&
	    sqlite3_column_type(st, 15) != SQLITE_NULL))
		return RS_ERR_NOMEM;
	return RS_OK;
}

/* Binds s as text parameter i, or NULL when s is. */
static void
rs_store_jobs_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

enum rs_err
rs_store_jobs_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_store_jobs_filter *f, int64_t after_seq, size_t max,
    struct rs_store_job *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_list(db, a, org, f, after_seq, max,
		    out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_seq);
	if (f != NULL) {
		rs_store_jobs_bind_text(st, 3, f->state < 0 ? NULL :
		    rs_job_state_name((enum rs_job_state)f->state));
		rs_store_jobs_bind_text(st, 4, f->queue);
		rs_store_jobs_bind_text(st, 5, f->event_type);
	}
	sqlite3_bind_int64(st, 6, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_jobs_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_jobs_counts(struct rs_db *db, const char *org,
    int64_t counts[RS_JOB__MAX])
{
	sqlite3_stmt	*st;
	int		 step, s;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_counts(db, org, counts);

	memset(counts, 0, sizeof(int64_t) * RS_JOB__MAX);
	if ((st = rs_db_stmt(db, sql[STMT_COUNTS])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((s = rs_job_state_parse((const char *)
		    sqlite3_column_text(st, 0))) >= 0)
			counts[s] = sqlite3_column_int64(st, 1);
	rs_db_done(st);
	return step == SQLITE_DONE ? RS_OK : rs_db_err(step);
}

enum rs_err
rs_store_jobs_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_store_job *j)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_get(db, a, org, id, j);

	if ((st = rs_db_stmt(db, sql[STMT_GET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_jobs_row(a, st, j);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

/* Runs the write st to its end: RS_OK and *n rows changed, or an error. */
static enum rs_err
rs_store_jobs_changed(sqlite3_stmt *st, size_t *n)
{
	sqlite3		*h = sqlite3_db_handle(st);
	enum rs_err	 rc;

	*n = 0;
	if ((rc = rs_db_run(st)) == RS_OK)
		*n = (size_t)sqlite3_changes(h);
	return rc;
}

enum rs_err
rs_store_jobs_retry(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, int64_t now, struct rs_store_job *j)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	size_t		 n;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_retry(db, a, org, id, now, j);

	if ((rc = rs_store_jobs_get(db, a, org, id, j)) != RS_OK)
		return rc;
	if (j->state == RS_JOB_SUCCEEDED || j->state == RS_JOB_RUNNING)
		return RS_ERR_STATE;
	if ((st = rs_db_stmt(db, sql[STMT_RETRY])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, j->seq);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = rs_store_jobs_changed(st, &n)) != RS_OK)
		return rc;
	/* Read under the caller's transaction: nothing moved it since. */
	if (n != 1)
		return RS_ERR_STATE;
	return rs_store_jobs_get(db, a, org, id, j);
}

enum rs_err
rs_store_jobs_drop_webhook(struct rs_db *db, int64_t webhook_seq)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_drop_webhook(db, webhook_seq);

	if ((st = rs_db_stmt(db, sql[STMT_DROP])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, webhook_seq);
	return rs_db_run(st);
}

/* Binds replay's parameters ?1..?5 to st. */
static void
rs_store_jobs_bind_replay(sqlite3_stmt *st, const char *org,
    const char *events_json, int64_t since, int64_t until)
{
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, until);
	sqlite3_bind_text(st, 5, events_json, -1, SQLITE_STATIC);
}

enum rs_err
rs_store_jobs_add(struct rs_db *db, const char *org,
    const struct rs_store_jobs_new *nj, int64_t now)
{
	sqlite3_stmt	*st;
	char		 id[RS_ID_MAX];

	if (rs_db_pg(db))
		return rs_store_jobs_pg_add(db, org, nj, now);

	/* Time-sorted ids: the unique index on id grows at its right
	 * edge, as jobs are made in bulk by fan-out. */
	rs_id_new_sorted(id, sizeof(id), "job_", now);
	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, nj->webhook_seq);
	sqlite3_bind_int64(st, 4, nj->event_seq);
	sqlite3_bind_text(st, 5, nj->event_type, -1, SQLITE_STATIC);
	rs_store_jobs_bind_text(st, 6, nj->record_id);
	sqlite3_bind_text(st, 7, nj->queue, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, nj->priority);
	sqlite3_bind_int64(st, 9, nj->due_at);
	sqlite3_bind_int64(st, 10, now);
	return rs_db_run(st);
}

enum rs_err
rs_store_jobs_replay(struct rs_db *db, const char *org, int64_t webhook_seq,
    const char *events_json, int64_t since, int64_t until, int64_t now,
    size_t max, size_t *n)
{
	sqlite3_stmt		*st;
	struct rs_store_jobs_new nj;
	struct rs_arena		 a;
	enum rs_err		 rc = RS_OK;
	int64_t			 count;
	int			 step;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_replay(db, org, webhook_seq,
		    events_json, since, until, now, max, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_REPLAY_COUNT])) == NULL)
		return RS_ERR_DB;
	rs_store_jobs_bind_replay(st, org, events_json, since, until);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		rs_db_done(st);
		return rs_db_err(step == SQLITE_DONE ? SQLITE_ERROR : step);
	}
	count = sqlite3_column_int64(st, 0);
	rs_db_done(st);
	if (count > (int64_t)max)
		return RS_ERR_RANGE;
	if ((st = rs_db_stmt(db, sql[STMT_REPLAY_EVENTS])) == NULL)
		return RS_ERR_DB;
	rs_store_jobs_bind_replay(st, org, events_json, since, until);
	rs_arena_init(&a);
	/* Inserting into jobs while reading events is well defined: the
	 * read walks another table. The count bounds the loop. */
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&nj, 0, sizeof(nj));
		nj.webhook_seq = webhook_seq;
		nj.event_seq = sqlite3_column_int64(st, 0);
		nj.event_type = rs_db_column_dup(st, 1, &a);
		nj.record_id = rs_db_column_dup(st, 2, &a);
		nj.queue = rs_db_column_dup(st, 3, &a);
		nj.priority = sqlite3_column_int(st, 4);
		nj.due_at = now;
		if (nj.event_type == NULL || nj.queue == NULL) {
			rc = RS_ERR_NOMEM;
			break;
		}
		if ((rc = rs_store_jobs_add(db, org, &nj, now)) != RS_OK)
			break;
		(*n)++;
	}
	if (rc == RS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = rs_db_err(step);
	rs_db_done(st);
	rs_arena_free(&a);
	return rc;
}

enum rs_err
rs_store_jobs_due(struct rs_db *db, int64_t now, size_t max, int64_t *seqs,
    size_t *n)
{
	sqlite3_stmt	*st;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_due(db, now, max, seqs, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_DUE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		seqs[(*n)++] = sqlite3_column_int64(st, 0);
	rs_db_done(st);
	return step == SQLITE_DONE || step == SQLITE_ROW ? RS_OK :
	    rs_db_err(step);
}

/* Fills l from the current row of STMT_LEASED. */
static enum rs_err
rs_store_jobs_leased_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_store_jobs_lease *l)
{
	int	 len;

	memset(l, 0, sizeof(*l));
	l->seq = sqlite3_column_int64(st, 0);
	l->attempts = sqlite3_column_int(st, 1);
	l->max_attempts = sqlite3_column_int(st, 2);
	l->webhook_seq = sqlite3_column_int64(st, 3);
	if (rs_db_column_copy(st, 4, l->event_id,
	    sizeof(l->event_id)) != RS_OK)
		return RS_ERR_RANGE;
	l->payload = rs_db_column_dup(st, 5, a);
	l->url = rs_db_column_dup(st, 6, a);
	/* A sealed secret of another size is kept as it is, cut to the
	 * buffer: opening it fails, and the delivery says so. */
	len = sqlite3_column_bytes(st, 7);
	l->secretlen = len < 0 ? 0 : (size_t)len;
	if (l->secretlen > sizeof(l->secret))
		l->secretlen = sizeof(l->secret);
	if (l->secretlen > 0)
		memcpy(l->secret, sqlite3_column_blob(st, 7), l->secretlen);
	return l->payload && l->url ? RS_OK : RS_ERR_NOMEM;
}

enum rs_err
rs_store_jobs_lease(struct rs_db *db, struct rs_arena *a, int64_t seq,
    int64_t now, int64_t until, struct rs_store_jobs_lease *l)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	size_t		 n;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_lease(db, a, seq, now, until, l);

	if ((st = rs_db_stmt(db, sql[STMT_LEASE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, until);
	if ((rc = rs_store_jobs_changed(st, &n)) != RS_OK)
		return rc;
	if (n != 1)
		return RS_ERR_NOTFOUND;
	if ((st = rs_db_stmt(db, sql[STMT_LEASED])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, seq);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_jobs_leased_row(a, st, l);
	else	/* its event is gone: a damaged database */
		rc = step == SQLITE_DONE ? RS_ERR_DB : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_jobs_unlease(struct rs_db *db, int64_t seq, int attempts, int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	size_t		 n;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_unlease(db, seq, attempts, now);

	if ((st = rs_db_stmt(db, sql[STMT_UNLEASE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int(st, 2, attempts);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = rs_store_jobs_changed(st, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_jobs_expire(struct rs_db *db, int64_t now, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_expire(db, now, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_EXPIRE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, now);
	return rs_store_jobs_changed(st, n);
}

enum rs_err
rs_store_jobs_settle(struct rs_db *db, int64_t seq, int attempts,
    enum rs_job_state state, int64_t due_at, const char *error, int status,
    int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	size_t		 n;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_settle(db, seq, attempts, state,
		    due_at, error, status, now);

	if (rs_job_state_name(state) == NULL)
		return RS_ERR_INVAL;
	if ((st = rs_db_stmt(db, sql[STMT_SETTLE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int(st, 2, attempts);
	sqlite3_bind_text(st, 3, rs_job_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, due_at);
	rs_store_jobs_bind_text(st, 5, error);
	if (status != 0)
		sqlite3_bind_int(st, 6, status);
	sqlite3_bind_int64(st, 7, now);
	if ((rc = rs_store_jobs_changed(st, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_jobs_purge(struct rs_db *db, enum rs_job_state state, int64_t before,
    size_t max, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_jobs_pg_purge(db, state, before, max, n);

	*n = 0;
	if (state != RS_JOB_SUCCEEDED && state != RS_JOB_DEAD)
		return RS_ERR_INVAL;
	if ((st = rs_db_stmt(db, sql[state == RS_JOB_SUCCEEDED ?
	    STMT_PURGE_SUCCEEDED : STMT_PURGE_DEAD])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	return rs_store_jobs_changed(st, n);
}
