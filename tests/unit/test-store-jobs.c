/*
 * test-store-jobs: delivery jobs (lib/store_jobs.h), in SQLite and, with
 * RS_TEST_PG, PostgreSQL, as the queue API sees them: state names, the
 * list with its filters and keyset paging, the counts per state, get
 * scoped by org, the retry rules (succeeded and running refused, dead
 * given a fresh budget), the jobs of a deleted endpoint dropped, and
 * replay (the window, the type match, "*", the original events, the
 * cap); and two workers leasing at once (one job never leased twice).
 * Each test has its own migrated database in a mkdtemp directory;
 * endpoints are made with rs_store_webhooks_create, events as txn.c
 * writes them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>
#include <sqlite3.h>

#include "arena.h"
#include "clock.h"
#include "db.h"
#include "id.h"
#include "store_jobs.h"
#include "store_orgseq.h"
#include "store_outbox.h"
#include "store_webhooks.h"
#define FIXTURE_BOTH	/* store_jobs_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define MAXJ	32

static char		 dir[64];
static int		 ndb;
static struct rs_arena	 arena;

/* A new migrated database with org "Acme" (its id into org). */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* A second org in db, its id into org. */
static void
org_new(struct rs_db *db, char org[RS_ID_MAX])
{
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org) == RS_OK);
}

/* An endpoint of org wanting events (a JSON array); its seq. */
static int64_t
webhook(struct rs_db *db, const char *org, const char *events)
{
	struct rs_store_webhook	 w;

	memset(&w, 0, sizeof(w));
	w.url = "https://hooks.example.com/in";
	w.events = events;
	randombytes_buf(w.secret, sizeof(w.secret));
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_webhooks_create(db, org, &w, NOW_MS) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	return w.seq;
}

/*
 * Writes one event of org as txn.c does (numbered, appended) at time
 * at, about record_id (may be NULL) in queue with priority; its rowid,
 * its id into id (may be NULL).
 */
static int64_t
event(struct rs_db *db, const char *org, const char *type,
    const char *record_id, int64_t at, const char *queue, int priority,
    char *id)
{
	struct rs_store_outbox_event	 ev;
	struct rs_store_orgseq		 s;
	struct json_object		*data;

	TAP_SETUP((data = json_object_new_object()) != NULL);
	TAP_SETUP(rs_store_outbox_event(&arena, &ev, org, type, record_id,
	    data, at) == RS_OK);
	json_object_put(data);
	ev.queue = queue;
	ev.priority = priority;
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgseq_take(db, org, 0, 1, &s) == RS_OK);
	ev.seq = rs_store_orgseq_rowid(&s, s.event);
	TAP_SETUP(rs_store_outbox_put(db, org, &ev) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	if (id != NULL)
		memcpy(id, ev.id, RS_ID_MAX);
	return ev.seq;
}

/* Makes the job of event ev (of type, about record) for endpoint wh. */
static int64_t
job(struct rs_db *db, const char *org, int64_t wh, int64_t ev,
    const char *type, const char *record, const char *queue)
{
	struct rs_store_jobs_new	 nj;

	memset(&nj, 0, sizeof(nj));
	nj.webhook_seq = wh;
	nj.event_seq = ev;
	nj.event_type = type;
	nj.record_id = record;
	nj.queue = queue;
	nj.priority = 5;
	nj.due_at = NOW_MS;
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_jobs_add(db, org, &nj, NOW_MS) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	/* The newest job: seq grows on both backends. */
	return fixture_query_int(db, "SELECT max(seq) FROM jobs", NULL);
}

/* Sets job seq's state and attempts by hand. */
static void
set_state(struct rs_db *db, int64_t seq, const char *state, int attempts)
{
	char	 q[256];

	snprintf(q, sizeof(q), "UPDATE jobs SET state = '%s', attempts = %d, "
	    "last_status = 500, last_error = 'boom' WHERE seq = %lld", state,
	    attempts, (long long)seq);
	TAP_SETUP(rs_db_exec(db, q) == RS_OK);
}

/* The id of job seq, into id, read by the test's own query. */
static void
job_id(struct rs_db *db, int64_t seq, char id[RS_ID_MAX])
{
	sqlite3_stmt	*st;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db)) {
		struct rs_pg_args	 a;
		struct pg_result	*r;

		rs_pg_args(&a);
		rs_pg_int(&a, seq);
		TAP_SETUP(rs_pg_once(db, "SELECT id FROM jobs WHERE seq = $1",
		    &a, &r) == RS_OK);
		TAP_SETUP(rs_pg_rows(r) == 1);
		snprintf(id, RS_ID_MAX, "%s", rs_pg_str(r, 0, 0));
		rs_pg_clear(r);
		return;
	}
#endif
	TAP_SETUP(sqlite3_prepare_v2(db->h, "SELECT id FROM jobs WHERE seq = ?1",
	    -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_int64(st, 1, seq);
	TAP_SETUP(sqlite3_step(st) == SQLITE_ROW);
	snprintf(id, RS_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* The job seqs a list yields, comma-separated, as positions in seqs[]. */
static const char *
listed(struct rs_db *db, const char *org, const struct rs_store_jobs_filter *f,
    int64_t after, size_t max, const int64_t *seqs, size_t nseqs,
    int64_t *last)
{
	static char		 buf[256];
	struct rs_store_job	 rows[MAXJ];
	size_t			 n, i, k;

	buf[0] = '\0';
	if (rs_store_jobs_list(db, &arena, org, f, after, max, rows, &n) !=
	    RS_OK)
		return "(error)";
	for (i = 0; i < n; i++) {
		for (k = 0; k < nseqs && seqs[k] != rows[i].seq; k++)
			;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "%s%zu", i > 0 ? "," : "", k);
	}
	if (n > 0 && last != NULL)
		*last = rows[n - 1].seq;
	return buf;
}

static void
test_jobs_state_names(void)
{
	static const char *const want[] = { "pending", "running",
	    "succeeded", "failed", "dead" };
	int	 i, ok = 1;

	for (i = 0; i < RS_JOB__MAX; i++)
		ok &= rs_job_state_name((enum rs_job_state)i) != NULL &&
		    strcmp(rs_job_state_name((enum rs_job_state)i),
		    want[i]) == 0 && rs_job_state_parse(want[i]) == i;
	TAP_OK(ok, "test_jobs_state_names: each name and its parse");
	TAP_OK(rs_job_state_name(RS_JOB__MAX) == NULL,
	    "test_jobs_state_names: past the end is NULL");
	TAP_IS_INT(rs_job_state_parse("queued"), -1,
	    "test_jobs_state_names: an unknown name is -1");
	TAP_IS_INT(rs_job_state_parse("Pending"), -1,
	    "test_jobs_state_names: names are lower case");
	TAP_IS_INT(rs_job_state_parse(NULL), -1,
	    "test_jobs_state_names: NULL is -1");
}

static void
test_jobs_add_get(void)
{
	struct rs_store_job	 j;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	char			 evid[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_store_webhook	 w;
	int64_t			 wh, ev, seq;

	db = db_new(org);
	org_new(db, other);
	wh = webhook(db, org, "[\"*\"]");
	ev = event(db, org, "record.created", "rec_1", NOW_MS, "wifi", 7,
	    evid);
	seq = job(db, org, wh, ev, "record.created", "rec_1", "wifi");
	job_id(db, seq, id);
	TAP_OK(rs_id_valid(id, "job_"), "test_jobs_add_get: a job_ id");
	TAP_IS_INT(rs_store_jobs_get(db, &arena, org, id, &j), RS_OK,
	    "test_jobs_add_get: get");
	TAP_IS_STR(j.event_id, evid, "test_jobs_add_get: the event's id");
	TAP_SETUP(rs_store_webhooks_by_seq(db, &arena, wh, &w) == RS_OK);
	TAP_IS_STR(j.webhook_id, w.id, "test_jobs_add_get: the endpoint's id");
	TAP_IS_STR(j.record_id, "rec_1", "test_jobs_add_get: record_id");
	TAP_IS_STR(j.queue, "wifi", "test_jobs_add_get: queue");
	TAP_IS_STR(j.event_type, "record.created",
	    "test_jobs_add_get: event_type");
	TAP_OK(j.state == RS_JOB_PENDING && j.attempts == 0 &&
	    j.max_attempts == RS_STORE_JOBS_MAX_ATTEMPTS && j.due_at == NOW_MS &&
	    j.last_error == NULL && j.last_status == 0,
	    "test_jobs_add_get: pending, no attempt, 8 allowed, due");
	TAP_IS_INT(rs_store_jobs_get(db, &arena, other, id, &j),
	    RS_ERR_NOTFOUND, "test_jobs_add_get: another org's id is not found");
	TAP_IS_INT(rs_store_jobs_get(db, &arena, org,
	    "job_aaaaaaaaaaaaaaaaaaaaaaaaaa", &j), RS_ERR_NOTFOUND,
	    "test_jobs_add_get: an unknown id is not found");
	rs_db_close(db);
}

static void
test_jobs_list(void)
{
	struct rs_store_jobs_filter	 f;
	int64_t				 counts[RS_JOB__MAX];
	int64_t				 s[6], ev, last = 0;
	struct rs_db			*db;
	char				 org[RS_ID_MAX], other[RS_ID_MAX];
	int64_t				 wh, wo;

	db = db_new(org);
	org_new(db, other);
	wh = webhook(db, org, "[\"*\"]");
	wo = webhook(db, other, "[\"*\"]");
	ev = event(db, org, "record.created", "rec_1", NOW_MS, "default", 5,
	    NULL);
	s[0] = job(db, org, wh, ev, "record.created", "rec_1", "default");
	s[1] = job(db, org, wh, ev, "record.updated", "rec_1", "wifi");
	s[2] = job(db, org, wh, ev, "record.created", NULL, "wifi");
	s[3] = job(db, org, wh, ev, "record.deleted", "rec_2", "default");
	s[4] = job(db, org, wh, ev, "record.created", "rec_3", "default");
	s[5] = job(db, other, wo, event(db, other, "record.created", NULL,
	    NOW_MS, "default", 5, NULL), "record.created", NULL, "default");
	set_state(db, s[1], "failed", 1);
	set_state(db, s[3], "dead", 8);
	set_state(db, s[4], "succeeded", 1);

	TAP_IS_STR(listed(db, org, NULL, 0, 2, s, 6, &last), "0,1",
	    "test_jobs_list: first page, oldest first");
	TAP_IS_STR(listed(db, org, NULL, last, 2, s, 6, &last), "2,3",
	    "test_jobs_list: second page after the last seq");
	TAP_IS_STR(listed(db, org, NULL, last, 2, s, 6, &last), "4",
	    "test_jobs_list: last page, not another org's");
	f.state = RS_JOB_FAILED;
	f.queue = NULL;
	f.event_type = NULL;
	TAP_IS_STR(listed(db, org, &f, 0, MAXJ, s, 6, NULL), "1",
	    "test_jobs_list: state filter");
	f.state = -1;
	f.queue = "wifi";
	TAP_IS_STR(listed(db, org, &f, 0, MAXJ, s, 6, NULL), "1,2",
	    "test_jobs_list: queue filter");
	f.queue = "default";
	f.event_type = "record.created";
	TAP_IS_STR(listed(db, org, &f, 0, MAXJ, s, 6, NULL), "0,4",
	    "test_jobs_list: queue and event_type filters together");
	f.state = RS_JOB_PENDING;
	TAP_IS_STR(listed(db, org, &f, 0, MAXJ, s, 6, NULL), "0",
	    "test_jobs_list: three filters together");
	TAP_IS_INT(rs_store_jobs_counts(db, org, counts), RS_OK,
	    "test_jobs_list: counts");
	TAP_OK(counts[RS_JOB_PENDING] == 2 && counts[RS_JOB_RUNNING] == 0 &&
	    counts[RS_JOB_SUCCEEDED] == 1 && counts[RS_JOB_FAILED] == 1 &&
	    counts[RS_JOB_DEAD] == 1,
	    "test_jobs_list: counts per state, the org's own only");
	rs_db_close(db);
}

static void
test_jobs_retry(void)
{
	struct rs_store_job	 j;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	char			 id[5][RS_ID_MAX];
	int64_t			 wh, ev, s[5];
	int			 i;

	db = db_new(org);
	org_new(db, other);
	wh = webhook(db, org, "[\"*\"]");
	ev = event(db, org, "record.created", "rec_1", NOW_MS, "default", 5,
	    NULL);
	for (i = 0; i < 5; i++) {
		s[i] = job(db, org, wh, ev, "record.created", "rec_1",
		    "default");
		job_id(db, s[i], id[i]);
	}
	set_state(db, s[0], "failed", 3);
	set_state(db, s[1], "succeeded", 1);
	set_state(db, s[2], "running", 2);
	set_state(db, s[3], "dead", 8);
	/* s[4] pending */

	TAP_IS_INT(rs_store_jobs_retry(db, &arena, org, id[0], NOW_MS + 5,
	    &j), RS_OK, "test_jobs_retry: a failed job");
	TAP_OK(j.state == RS_JOB_PENDING && j.due_at == NOW_MS + 5 &&
	    j.attempts == 3 && j.max_attempts == 8,
	    "test_jobs_retry: failed: pending, due now, same budget");
	TAP_IS_INT(rs_store_jobs_retry(db, &arena, org, id[1], NOW_MS, &j),
	    RS_ERR_STATE, "test_jobs_retry: a succeeded job is refused");
	TAP_OK(j.state == RS_JOB_SUCCEEDED,
	    "test_jobs_retry: refused: the job as it is");
	TAP_IS_INT(rs_store_jobs_retry(db, &arena, org, id[2], NOW_MS, &j),
	    RS_ERR_STATE, "test_jobs_retry: a running job is refused");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM jobs "
	    "WHERE state = 'running'", NULL), 1,
	    "test_jobs_retry: the running job stays running");
	TAP_IS_INT(rs_store_jobs_retry(db, &arena, org, id[3], NOW_MS + 7,
	    &j), RS_OK, "test_jobs_retry: a dead job");
	TAP_OK(j.state == RS_JOB_PENDING && j.due_at == NOW_MS + 7 &&
	    j.attempts == 8 && j.max_attempts == 16,
	    "test_jobs_retry: dead: pending with a fresh budget of 8");
	TAP_IS_INT(rs_store_jobs_retry(db, &arena, org, id[4], NOW_MS + 9,
	    &j), RS_OK, "test_jobs_retry: a pending job");
	TAP_OK(j.state == RS_JOB_PENDING && j.due_at == NOW_MS + 9,
	    "test_jobs_retry: pending: due now");
	TAP_IS_INT(rs_store_jobs_retry(db, &arena, other, id[0], NOW_MS, &j),
	    RS_ERR_NOTFOUND, "test_jobs_retry: another org's job is not found");
	TAP_IS_INT(rs_store_jobs_retry(db, &arena, org,
	    "job_aaaaaaaaaaaaaaaaaaaaaaaaaa", NOW_MS, &j), RS_ERR_NOTFOUND,
	    "test_jobs_retry: an unknown job is not found");
	rs_db_close(db);
}

static void
test_jobs_drop_webhook(void)
{
	struct rs_db	*db;
	char		 org[RS_ID_MAX];
	int64_t		 w1, w2, ev;

	db = db_new(org);
	w1 = webhook(db, org, "[\"*\"]");
	w2 = webhook(db, org, "[\"*\"]");
	ev = event(db, org, "record.created", NULL, NOW_MS, "default", 5,
	    NULL);
	job(db, org, w1, ev, "record.created", NULL, "default");
	job(db, org, w1, ev, "record.created", NULL, "default");
	job(db, org, w2, ev, "record.created", NULL, "default");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_jobs_drop_webhook(db, w1), RS_OK,
	    "test_jobs_drop_webhook: drop");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM jobs", NULL), 1,
	    "test_jobs_drop_webhook: the endpoint's jobs are gone");
	TAP_IS_INT(fixture_query_int(db, "SELECT webhook_seq FROM jobs", NULL),
	    w2, "test_jobs_drop_webhook: the other endpoint's job stays");
	rs_db_close(db);
}

/* Replays org's window [since, until) for endpoint wh wanting events. */
static enum rs_err
replay(struct rs_db *db, const char *org, int64_t wh, const char *events,
    int64_t since, int64_t until, size_t max, size_t *n)
{
	enum rs_err	 rc;

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rc = rs_store_jobs_replay(db, org, wh, events, since, until,
	    NOW_MS + 50000, max, n);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	return rc;
}

static void
test_jobs_replay(void)
{
	struct rs_store_job	 rows[MAXJ];
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	char			 ids[4][RS_ID_MAX];
	int64_t			 wh, ev[4];
	size_t			 n = 99, k;

	db = db_new(org);
	org_new(db, other);
	ev[0] = event(db, org, "record.created", "rec_1", NOW_MS + 1000,
	    "default", 5, ids[0]);
	ev[1] = event(db, org, "record.synced", "rec_1", NOW_MS + 2000,
	    "wifi", 9, ids[1]);
	ev[2] = event(db, org, "record.created", "rec_2", NOW_MS + 3000,
	    "default", 5, ids[2]);
	ev[3] = event(db, org, "user.invited", NULL, NOW_MS + 4000,
	    "default", 5, ids[3]);
	event(db, other, "record.created", NULL, NOW_MS + 2500, "default",
	    5, NULL);
	/* Made after the events: a replay reaches back before from_event. */
	wh = webhook(db, org, "[\"record.created\",\"record.synced\"]");

	TAP_IS_INT(replay(db, org, wh, "[\"record.created\","
	    "\"record.synced\"]", NOW_MS + 1000, NOW_MS + 3000, 100, &n),
	    RS_OK, "test_jobs_replay: a window");
	TAP_IS_INT(n, 2, "test_jobs_replay: since included, until excluded");
	TAP_SETUP(rs_store_jobs_list(db, &arena, org, NULL, 0, MAXJ, rows,
	    &k) == RS_OK);
	TAP_OK(k == 2 && strcmp(rows[0].event_id, ids[0]) == 0 &&
	    strcmp(rows[1].event_id, ids[1]) == 0 &&
	    rows[0].event_seq == ev[0] && rows[1].event_seq == ev[1],
	    "test_jobs_replay: jobs of the original events, in order");
	TAP_OK(rows[1].state == RS_JOB_PENDING &&
	    rows[1].due_at == NOW_MS + 50000 && rows[1].priority == 9 &&
	    strcmp(rows[1].queue, "wifi") == 0 &&
	    strcmp(rows[1].record_id, "rec_1") == 0,
	    "test_jobs_replay: pending, due now, the event's queue and "
	    "priority");
	TAP_IS_INT(replay(db, org, wh, "[\"record.synced\"]", NOW_MS,
	    NOW_MS + 10000, 100, &n), RS_OK,
	    "test_jobs_replay: one type");
	TAP_IS_INT(n, 1, "test_jobs_replay: only the named type");
	TAP_IS_INT(replay(db, org, wh, "[\"*\"]", NOW_MS, NOW_MS + 10000, 100,
	    &n), RS_OK, "test_jobs_replay: \"*\"");
	TAP_IS_INT(n, 4, "test_jobs_replay: \"*\" takes every type, not "
	    "another org's events");
	TAP_IS_INT(replay(db, org, wh, "[\"*\"]", NOW_MS, NOW_MS + 10000, 3,
	    &n), RS_ERR_RANGE, "test_jobs_replay: more than max is refused");
	TAP_IS_INT(n, 0, "test_jobs_replay: refused: nothing made");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM jobs", NULL), 7,
	    "test_jobs_replay: 2 + 1 + 4 jobs in all");
	TAP_IS_INT(replay(db, org, wh, "[\"*\"]", NOW_MS + 5000,
	    NOW_MS + 9000, 100, &n), RS_OK, "test_jobs_replay: an empty window");
	TAP_IS_INT(n, 0, "test_jobs_replay: an empty window makes none");
	rs_db_close(db);
}

/* A check that holds on one backend only, passed over on the other. */
static void
skip(const char *name, const char *why)
{
	tap_result(1, rs_arena_printf(&arena, "%s # SKIP %s", name, why),
	    __FILE__, __LINE__, "skipped");
}

/* Where the n-th database is (path or conninfo), read before a fork. */
static const char *
db_where(int n, char *buf, size_t bufsz)
{
#ifdef RS_HAVE_PG
	if (fixture_pg() != NULL) {
		char	 name[64];

		snprintf(buf, bufsz, "%s dbname=%s", fixture_pg(),
		    fixture_pg_name(name, sizeof(name), n));
		return buf;
	}
#endif
	return fixture_db_path(buf, bufsz, dir, n, "");
}

/* What the second worker saw, as its exit status's bits. */
#define RACE_X_REFUSED	1	/* the first's job was not leased */
#define RACE_Y_LEASED	2	/* the other due job was */
#define RACE_NO_WAIT	4	/* in less than the first held its lease */
#define RACE_HOLD_MS	800

/*
 * The second worker: once told the first holds job x, leases x and y in
 * a transaction of its own, on a connection of its own. Never returns.
 */
static void
race_second(const char *where, int told, int64_t x, int64_t y)
{
	struct rs_store_jobs_lease	 l;
	struct rs_db			*db;
	int64_t				 t0;
	int				 bits = 0;
	char				 c;

	if (read(told, &c, 1) != 1 || rs_db_open(where, 0, 0, &db) != RS_OK)
		_exit(99);
	t0 = rs_clock_now_ms();
	if (rs_db_begin(db) != RS_OK)
		_exit(98);
	if (rs_store_jobs_lease(db, &arena, x, NOW_MS, NOW_MS + 60000,
	    &l) == RS_ERR_NOTFOUND)
		bits |= RACE_X_REFUSED;
	if (rs_store_jobs_lease(db, &arena, y, NOW_MS, NOW_MS + 60000,
	    &l) == RS_OK)
		bits |= RACE_Y_LEASED;
	if (rs_clock_now_ms() - t0 < RACE_HOLD_MS / 2)
		bits |= RACE_NO_WAIT;
	if (rs_db_commit(db) != RS_OK)
		_exit(97);
	rs_db_close(db);
	_exit(bits);
}

/*
 * Two workers (a worker on every host) lease at once: the job the first
 * holds in its open transaction is never the second's too, and the
 * second takes another due job beside it. On PostgreSQL the second
 * passes the held job over at once (SKIP LOCKED) instead of waiting.
 */
static void
test_jobs_lease_race(void)
{
	struct rs_store_jobs_lease	 l;
	struct rs_db			*db;
	char				 org[RS_ID_MAX], where[640], c = 'x';
	int64_t				 wh, x, y;
	pid_t				 pid;
	int				 pg, status, bits, fd[2];
	enum rs_err			 rc;

	db = db_new(org);
	pg = rs_db_pg(db);
	wh = webhook(db, org, "[\"*\"]");
	x = job(db, org, wh, event(db, org, "record.created", "rec_1",
	    NOW_MS, "default", 5, NULL), "record.created", "rec_1",
	    "default");
	y = job(db, org, wh, event(db, org, "record.created", "rec_2",
	    NOW_MS, "default", 5, NULL), "record.created", "rec_2",
	    "default");
	/* Each process opens its own connection after the fork. */
	rs_db_close(db);
	db_where(ndb, where, sizeof(where));
	TAP_SETUP(pipe(fd) == 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fd[1]);
		race_second(where, fd[0], x, y);
	}
	TAP_SETUP(pid > 0);
	close(fd[0]);
	TAP_SETUP(rs_db_open(where, 0, 0, &db) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rc = rs_store_jobs_lease(db, &arena, x, NOW_MS, NOW_MS + 60000, &l);
	TAP_SETUP(write(fd[1], &c, 1) == 1);
	usleep(RACE_HOLD_MS * 1000);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	close(fd[1]);
	TAP_SETUP(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	bits = WEXITSTATUS(status);
	TAP_OK(rc == RS_OK && bits < 8 && (bits & RACE_X_REFUSED),
	    "test_jobs_lease_race: a job held by one worker is not the "
	    "other's");
	TAP_OK(bits < 8 && (bits & RACE_Y_LEASED),
	    "test_jobs_lease_race: the other takes another due job");
	if (bits >= 8)
		tap_diag("the second worker failed: exit %d", bits);
	TAP_IS_INT(fixture_query_int(db, "SELECT sum(attempts) FROM jobs",
	    NULL), 2, "test_jobs_lease_race: two leases in all, each job "
	    "leased once");
	if (pg)
		TAP_OK(bits < 8 && (bits & RACE_NO_WAIT),
		    "test_jobs_lease_race: the held job is passed over, "
		    "not waited for");
	else
		skip("test_jobs_lease_race: the held job is passed over, "
		    "not waited for", "SQLite has one writer at a time: the "
		    "second worker begins only once the first commits");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(52 + 4);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-jobs") == 0);
	rs_arena_init(&arena);

	test_jobs_state_names();
	test_jobs_add_get();
	test_jobs_list();
	test_jobs_retry();
	test_jobs_drop_webhook();
	test_jobs_replay();
	test_jobs_lease_race();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
