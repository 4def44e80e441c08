/*
 * test-relay: what the worker does with the database (lib/relay.h):
 * the backoff schedule and its jitter bounds, Retry-After values;
 * fan-out (each event to each enabled endpoint that wants its type
 * exactly once, across batches and after a batch that failed midway;
 * from_event, disabled endpoints, type lists and "*"); leases (one
 * record's events to one endpoint in order, priority first, a lease
 * that runs out comes back, a lease that runs out on the last attempt
 * is dead, disabled and deleted endpoints are not leased, the secret
 * opened); settling (success, backoff with jitter, Retry-After, 410
 * disabling the endpoint, dead after 8 attempts, a moved job skipped);
 * leases given back; and the purges, which remove only what is past its
 * horizon. Each test has its own migrated database in a mkdtemp
 * directory. The HTTP side is tested by the integration tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "arena.h"
#include "db.h"
#include "id.h"
#include "relay.h"
#include "secret.h"
#include "store_jobs.h"
#include "store_orgseq.h"
#include "store_outbox.h"
#include "store_webhooks.h"
#include "whsig.h"
#define FIXTURE_BOTH	/* the worker's steps on PostgreSQL's stores too */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define DAY_MS	INT64_C(86400000)
#define LEASE	INT64_C(60000)
#define MAXJ	32

static char		 dir[64];
static int		 ndb;
static struct rs_arena	 arena;
static unsigned char	 master[RS_SECRET_BYTES], sealkey[RS_SECRET_BYTES];
static unsigned char	 hookkey[RS_WHSIG_KEY];	/* every endpoint's */
static double		 draw;			/* what fixed_u returns */

static double
fixed_u(void)
{
	return draw;
}

static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* An endpoint of org wanting events (a JSON array); its seq. */
static int64_t
webhook(struct rs_db *db, const char *org, const char *events)
{
	struct rs_store_webhook	 w;

	memset(&w, 0, sizeof(w));
	w.url = "https://hooks.example.com/in";
	w.events = events;
	rs_whsig_seal(sealkey, hookkey, w.secret);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_webhooks_create(db, org, &w, NOW_MS) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	return w.seq;
}

/* Disables endpoint seq. */
static void
disable(struct rs_db *db, int64_t seq)
{
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_webhooks_disable(db, seq, "test", NOW_MS) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
}

/*
 * Writes one event of org as txn.c does, about record_id (may be NULL),
 * with priority and not_before; its rowid, its id into id (may be NULL).
 */
static int64_t
event(struct rs_db *db, const char *org, const char *type,
    const char *record_id, int priority, int64_t not_before, char *id)
{
	struct rs_store_outbox_event	 ev;
	struct rs_store_orgseq		 s;
	struct json_object		*data;

	TAP_SETUP((data = json_object_new_object()) != NULL);
	TAP_SETUP(rs_store_outbox_event(&arena, &ev, org, type, record_id,
	    data, NOW_MS) == RS_OK);
	json_object_put(data);
	ev.queue = priority == 5 ? "default" : "urgent";
	ev.priority = priority;
	ev.not_before = not_before;
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgseq_take(db, org, 0, 1, &s) == RS_OK);
	ev.seq = rs_store_orgseq_rowid(&s, s.event);
	TAP_SETUP(rs_store_outbox_put(db, org, &ev) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	if (id != NULL)
		memcpy(id, ev.id, RS_ID_MAX);
	return ev.seq;
}

/* n events of type about record (may be NULL). */
static void
events(struct rs_db *db, const char *org, const char *type,
    const char *record, int n)
{
	while (n-- > 0)
		event(db, org, type, record, 5, NOW_MS, NULL);
}

/* The single integer of sql (with ?1 = p, may be NULL). */
static int64_t
q(struct rs_db *db, const char *sql, const char *p)
{
	return fixture_query_int(db, sql, p);
}

/* Runs sql, which must succeed. */
static void
x(struct rs_db *db, const char *sql)
{
	TAP_SETUP(rs_db_exec(db, sql) == RS_OK);
}

/* Pairs (event, endpoint) with more than one job: 0 when exact. */
static int64_t
duplicates(struct rs_db *db)
{
	return q(db, "SELECT count(*) FROM (SELECT event_seq, webhook_seq "
	    "FROM jobs GROUP BY 1, 2 HAVING count(*) > 1) d", NULL);
}

/* Fans out at NOW_MS in batches of batch; t into *out (may be NULL). */
static enum rs_err
fanout(struct rs_db *db, size_t batch, struct rs_relay_tally *out)
{
	struct rs_relay_tally	 t;
	enum rs_err		 rc;

	memset(&t, 0, sizeof(t));
	rc = rs_relay_fanout(db, NOW_MS, batch, &t);
	if (out != NULL)
		*out = t;
	return rc;
}

/* Leases up to max at now; the event seqs leased, comma-separated. */
static const char *
lease_at(struct rs_db *db, int64_t now, size_t max, struct rs_relay_job *jobs,
    size_t *n, struct rs_relay_tally *t)
{
	static char		 buf[512];
	struct rs_relay_job	 local[MAXJ];
	struct rs_relay_tally	 tl;
	size_t			 i, nl;
	char			 sql[128];

	if (jobs == NULL) {
		jobs = local;
		n = &nl;
	}
	if (t == NULL) {
		memset(&tl, 0, sizeof(tl));
		t = &tl;
	}
	buf[0] = '\0';
	if (rs_relay_lease(db, &arena, sealkey, now, LEASE, max, jobs, n,
	    t) != RS_OK)
		return "(error)";
	for (i = 0; i < *n; i++) {
		snprintf(sql, sizeof(sql), "SELECT event_seq & 1099511627775 "
		    "FROM jobs WHERE seq = %lld", (long long)jobs[i].seq);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "%s%lld", i > 0 ? "," : "", (long long)q(db, sql, NULL));
	}
	rs_relay_wipe(jobs, *n);
	return buf;
}

/* An outcome for leased job j: status, error ("" none), retry_after. */
static struct rs_relay_outcome
outcome(const struct rs_relay_job *j, int status, const char *error,
    int64_t retry_after)
{
	struct rs_relay_outcome	 o;

	memset(&o, 0, sizeof(o));
	o.seq = j->seq;
	o.attempts = j->attempts;
	o.max_attempts = j->max_attempts;
	o.webhook_seq = j->webhook_seq;
	o.status = status;
	snprintf(o.error, sizeof(o.error), "%s", error);
	o.retry_after_ms = retry_after;
	return o;
}

/* Settles o alone at now, with jitter draw u. */
static enum rs_err
settle1(struct rs_db *db, struct rs_relay_outcome o, int64_t now, double u,
    struct rs_relay_tally *t)
{
	struct rs_relay_tally	 tl;

	memset(&tl, 0, sizeof(tl));
	draw = u;
	return rs_relay_settle(db, &o, 1, now, fixed_u, t != NULL ? t : &tl);
}

/* A text column of job seq (NULL: SQL NULL), in the arena. */
static const char *
job_text(struct rs_db *db, int64_t seq, const char *col)
{
	char		 sql[128];

	snprintf(sql, sizeof(sql), "SELECT %s FROM jobs WHERE seq = %lld",
	    col, (long long)seq);
	return fixture_query_text(db, &arena, sql, NULL);
}

/* An integer column of job seq, or -1 for SQL NULL or no row. */
static int64_t
job_int(struct rs_db *db, int64_t seq, const char *col)
{
	char	 sql[128];

	snprintf(sql, sizeof(sql), "SELECT coalesce(%s, -1) FROM jobs "
	    "WHERE seq = %lld", col, (long long)seq);
	return q(db, sql, NULL);
}

static void
test_relay_backoff(void)
{
	static const int64_t	 base[] = { 5, 300, 1800, 7200, 18000,
	    36000, 36000 };
	int			 k, ok_lo = 1, ok_hi = 1, ok_mid = 1;
	int64_t			 b;

	for (k = 1; k <= 7; k++) {
		b = base[k - 1] * 1000;
		ok_lo &= rs_relay_backoff_ms(k, 0.0) == b * 8 / 10;
		ok_hi &= rs_relay_backoff_ms(k, 0.999999) < b * 12 / 10 &&
		    rs_relay_backoff_ms(k, 0.999999) > b * 119 / 100;
		ok_mid &= rs_relay_backoff_ms(k, 0.5) == b;
	}
	TAP_OK(ok_lo, "test_relay_backoff: u = 0 is 0.8 of each step");
	TAP_OK(ok_hi, "test_relay_backoff: u near 1 is under 1.2 of each step");
	TAP_OK(ok_mid, "test_relay_backoff: u = 0.5 is each step: 5 s, 5 min, "
	    "30 min, 2 h, 5 h, 10 h, 10 h");
	TAP_IS_INT(rs_relay_backoff_ms(8, 0.5), 36000000,
	    "test_relay_backoff: past the table, the last step");
	TAP_IS_INT(rs_relay_backoff_ms(0, 0.5), 5000,
	    "test_relay_backoff: before the table, the first step");
	TAP_IS_INT(rs_relay_backoff_ms(1, 1.5), 5000,
	    "test_relay_backoff: a draw out of range counts as 0.5");
}

static void
test_relay_retry_after(void)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	const int64_t	 date = INT64_C(784111777000);

	TAP_IS_INT(rs_relay_retry_after("120", NOW_MS), 120000,
	    "test_relay_retry_after: seconds");
	TAP_IS_INT(rs_relay_retry_after(" 30 ", NOW_MS), 30000,
	    "test_relay_retry_after: seconds with spaces around");
	TAP_IS_INT(rs_relay_retry_after("0", NOW_MS), 1000,
	    "test_relay_retry_after: clamped up to 1 s");
	TAP_IS_INT(rs_relay_retry_after("99999999999999999999", NOW_MS),
	    86400000, "test_relay_retry_after: clamped down to 24 h");
	TAP_IS_INT(rs_relay_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
	    date - 90000), 90000, "test_relay_retry_after: an HTTP date");
	TAP_IS_INT(rs_relay_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
	    date + 5000), 1000, "test_relay_retry_after: a past date is 1 s");
	TAP_IS_INT(rs_relay_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
	    date - 3 * DAY_MS), 86400000,
	    "test_relay_retry_after: a date days away is 24 h");
	TAP_IS_INT(rs_relay_retry_after("12abc", NOW_MS), -1,
	    "test_relay_retry_after: trailing bytes are refused");
	TAP_IS_INT(rs_relay_retry_after("-5", NOW_MS), -1,
	    "test_relay_retry_after: a negative number is refused");
	TAP_IS_INT(rs_relay_retry_after("Sun, 06 Foo 1994 08:49:37 GMT",
	    NOW_MS), -1, "test_relay_retry_after: a bad month is refused");
	TAP_IS_INT(rs_relay_retry_after("Sun, 06 Nov 1994 08:49:37 PST",
	    NOW_MS), -1, "test_relay_retry_after: a zone but GMT is refused");
	TAP_IS_INT(rs_relay_retry_after(NULL, NOW_MS), -1,
	    "test_relay_retry_after: none is -1");
}

static void
test_relay_fanout_exact(void)
{
	struct rs_relay_tally	 t;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	webhook(db, org, "[\"*\"]");
	events(db, org, "record.created", "rec_1", 10);
	TAP_IS_INT(fanout(db, 3, &t), RS_OK,
	    "test_relay_fanout_exact: fan out in batches of 3");
	TAP_OK(t.events == 10 && t.jobs == 20,
	    "test_relay_fanout_exact: 10 events into 20 jobs");
	TAP_IS_INT(q(db, "SELECT fanout_seq FROM orgs WHERE id = ?1", org), 10,
	    "test_relay_fanout_exact: the place is past the last event");
	TAP_IS_INT(fanout(db, 3, &t), RS_OK,
	    "test_relay_fanout_exact: again");
	TAP_OK(t.events == 0 && t.jobs == 0 &&
	    q(db, "SELECT count(*) FROM jobs", NULL) == 20,
	    "test_relay_fanout_exact: nothing new, nothing twice");
	/* A batch that fails midway (the 5th job's insert) leaves nothing
	 * of itself: neither jobs nor a moved place. */
	events(db, org, "record.updated", "rec_1", 6);
	if (rs_db_pg(db))
		x(db, "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql "
		    "AS $$ BEGIN IF (SELECT count(*) FROM jobs) >= 24 THEN "
		    "RAISE EXCEPTION 'boom' USING ERRCODE = '23000'; END IF; "
		    "RETURN NEW; END $$; CREATE TRIGGER boom BEFORE INSERT ON "
		    "jobs FOR EACH ROW EXECUTE FUNCTION boom()");
	else
		x(db, "CREATE TRIGGER boom BEFORE INSERT ON jobs WHEN (SELECT "
		    "count(*) FROM jobs) >= 24 BEGIN SELECT RAISE(ABORT, "
		    "'boom'); END");
	TAP_OK(fanout(db, 2, &t) != RS_OK,
	    "test_relay_fanout_exact: a batch fails midway");
	TAP_OK(q(db, "SELECT count(*) FROM jobs", NULL) == 24 &&
	    q(db, "SELECT fanout_seq FROM orgs WHERE id = ?1", org) == 12,
	    "test_relay_fanout_exact: the committed batches stay, the failed "
	    "one left nothing");
	x(db, rs_db_pg(db) ? "DROP TRIGGER boom ON jobs" : "DROP TRIGGER boom");
	TAP_IS_INT(fanout(db, 2, &t), RS_OK,
	    "test_relay_fanout_exact: the next run");
	TAP_OK(t.events == 4 && t.jobs == 8 &&
	    q(db, "SELECT count(*) FROM jobs", NULL) == 32,
	    "test_relay_fanout_exact: resumes where the place is");
	TAP_IS_INT(duplicates(db), 0,
	    "test_relay_fanout_exact: no event twice to one endpoint");
	TAP_IS_INT(q(db, "SELECT count(DISTINCT event_seq) FROM jobs", NULL),
	    16, "test_relay_fanout_exact: no event skipped");
	rs_db_close(db);
}

static void
test_relay_fanout_match(void)
{
	struct rs_relay_tally	 t;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	int64_t			 all, created, off, late, ev;

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, other) == RS_OK);
	all = webhook(db, org, "[\"*\"]");
	created = webhook(db, org, "[\"record.created\",\"user.invited\"]");
	off = webhook(db, org, "[\"*\"]");
	disable(db, off);
	webhook(db, other, "[\"*\"]");
	events(db, org, "record.created", "rec_1", 2);
	events(db, org, "record.synced", "rec_1", 1);
	/* Made after the 3rd event: only later ones reach it. */
	late = webhook(db, org, "[\"record.created\"]");
	ev = event(db, org, "record.created", "rec_2", 9, NOW_MS + 7000, NULL);
	events(db, org, "user.invited", NULL, 1);
	events(db, other, "record.created", NULL, 2);
	TAP_IS_INT(fanout(db, 0, &t), RS_OK, "test_relay_fanout_match: fan out");
	TAP_OK(t.events == 7 && t.jobs == 5 + 4 + 1 + 2,
	    "test_relay_fanout_match: 7 events (two orgs) into 12 jobs");
	{
		char	 sql[160];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE "
		    "webhook_seq = %lld", (long long)all);
		TAP_IS_INT(q(db, sql, NULL), 5,
		    "test_relay_fanout_match: \"*\" gets all 5 of its org");
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE "
		    "webhook_seq = %lld AND event_type IN ('record.created', "
		    "'user.invited')", (long long)created);
		TAP_IS_INT(q(db, sql, NULL), 4,
		    "test_relay_fanout_match: a type list gets its types");
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE "
		    "webhook_seq = %lld", (long long)created);
		TAP_IS_INT(q(db, sql, NULL), 4,
		    "test_relay_fanout_match: and nothing else");
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE "
		    "webhook_seq = %lld", (long long)off);
		TAP_IS_INT(q(db, sql, NULL), 0,
		    "test_relay_fanout_match: a disabled endpoint gets none");
		snprintf(sql, sizeof(sql), "SELECT event_seq FROM jobs WHERE "
		    "webhook_seq = %lld", (long long)late);
		TAP_IS_INT(q(db, sql, NULL), ev,
		    "test_relay_fanout_match: a new endpoint gets later events "
		    "only");
		snprintf(sql, sizeof(sql), "SELECT priority * 1000000 + "
		    "(due_at - %lld) FROM jobs WHERE webhook_seq = %lld",
		    (long long)NOW_MS, (long long)late);
		TAP_IS_INT(q(db, sql, NULL), 9007000,
		    "test_relay_fanout_match: a job has its event's priority "
		    "and is due at its not_before");
		snprintf(sql, sizeof(sql), "SELECT queue = 'urgent' AND "
		    "record_id = 'rec_2' FROM jobs WHERE webhook_seq = %lld",
		    (long long)late);
		TAP_IS_INT(q(db, sql, NULL), 1,
		    "test_relay_fanout_match: and its queue and record");
	}
	TAP_IS_INT(q(db, "SELECT count(*) FROM jobs WHERE org_id = ?1", other),
	    2, "test_relay_fanout_match: each org's events to its own "
	    "endpoints");
	rs_db_close(db);
}

static void
test_relay_lease_order(void)
{
	struct rs_relay_job	 j[MAXJ];
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	size_t			 n;

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	events(db, org, "record.created", "rec_a", 1);	/* 1 */
	events(db, org, "record.updated", "rec_a", 1);	/* 2 */
	events(db, org, "record.created", "rec_b", 1);	/* 3 */
	events(db, org, "record.updated", "rec_a", 1);	/* 4 */
	events(db, org, "user.invited", NULL, 1);	/* 5 */
	events(db, org, "user.invited", NULL, 1);	/* 6 */
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	TAP_IS_STR(lease_at(db, NOW_MS, MAXJ, j, &n, NULL), "1,3,5,6",
	    "test_relay_lease_order: a record's first event only; events "
	    "without a record all");
	TAP_IS_STR(lease_at(db, NOW_MS, MAXJ, NULL, NULL, NULL), "",
	    "test_relay_lease_order: the later ones wait while it runs");
	TAP_IS_INT(settle1(db, outcome(&j[0], 500, "", -1), NOW_MS, 0.5, NULL),
	    RS_OK, "test_relay_lease_order: the first fails");
	TAP_IS_STR(lease_at(db, NOW_MS + 1000, MAXJ, NULL, NULL, NULL), "",
	    "test_relay_lease_order: they wait while it is failed");
	TAP_IS_STR(lease_at(db, NOW_MS + 5000, MAXJ, j, &n, NULL), "1",
	    "test_relay_lease_order: the failed one comes back first");
	TAP_IS_INT(settle1(db, outcome(&j[0], 204, "", -1), NOW_MS + 5000, 0.5,
	    NULL), RS_OK, "test_relay_lease_order: it succeeds");
	TAP_IS_STR(lease_at(db, NOW_MS + 5000, MAXJ, j, &n, NULL), "2",
	    "test_relay_lease_order: then the next event of the record");
	x(db, "UPDATE jobs SET attempts = 8 WHERE state = 'running'");
	j[0].attempts = 8;
	TAP_IS_INT(settle1(db, outcome(&j[0], 500, "", -1), NOW_MS + 5000, 0.5,
	    NULL), RS_OK, "test_relay_lease_order: it fails its last attempt");
	TAP_IS_STR(lease_at(db, NOW_MS + 5000, MAXJ, NULL, NULL, NULL), "4",
	    "test_relay_lease_order: a dead one lets the next go");
	rs_db_close(db);
}

static void
test_relay_lease_priority(void)
{
	struct rs_db	*db;
	char		 org[RS_ID_MAX];

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	event(db, org, "record.created", "r1", 1, NOW_MS, NULL);	/* 1 */
	event(db, org, "record.created", "r2", 5, NOW_MS - 10, NULL);	/* 2 */
	event(db, org, "record.created", "r3", 9, NOW_MS, NULL);	/* 3 */
	event(db, org, "record.created", "r4", 5, NOW_MS - 20, NULL);	/* 4 */
	event(db, org, "record.created", "r5", 9, NOW_MS + 50, NULL);	/* 5 */
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	TAP_IS_STR(lease_at(db, NOW_MS, 1, NULL, NULL, NULL), "3",
	    "test_relay_lease_priority: priority 9 first");
	TAP_IS_STR(lease_at(db, NOW_MS, 2, NULL, NULL, NULL), "4,2",
	    "test_relay_lease_priority: then 5, earliest due first");
	TAP_IS_STR(lease_at(db, NOW_MS, 5, NULL, NULL, NULL), "1",
	    "test_relay_lease_priority: then 1; not what is not due yet");
	TAP_IS_STR(lease_at(db, NOW_MS + 50, 5, NULL, NULL, NULL), "5",
	    "test_relay_lease_priority: due at its not_before");
	rs_db_close(db);
}

static void
test_relay_lease_expired(void)
{
	struct rs_relay_job	 j[MAXJ];
	struct rs_relay_tally	 t;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	size_t			 n;

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	events(db, org, "record.created", "rec_1", 1);
	events(db, org, "record.created", "rec_2", 1);
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	TAP_IS_STR(lease_at(db, NOW_MS, MAXJ, j, &n, NULL), "1,2",
	    "test_relay_lease_expired: leased");
	TAP_OK(j[0].attempts == 1 && job_int(db, j[0].seq, "due_at") ==
	    NOW_MS + LEASE && strcmp(job_text(db, j[0].seq, "state"),
	    "running") == 0,
	    "test_relay_lease_expired: running, attempt 1, due at the lease's "
	    "end");
	TAP_IS_STR(lease_at(db, NOW_MS + LEASE - 1, MAXJ, NULL, NULL, NULL),
	    "", "test_relay_lease_expired: not again while leased");
	x(db, "UPDATE jobs SET attempts = 8 WHERE event_seq & 1099511627775 "
	    "= 2");
	memset(&t, 0, sizeof(t));
	TAP_IS_STR(lease_at(db, NOW_MS + LEASE, MAXJ, j, &n, &t), "1",
	    "test_relay_lease_expired: a lease that ran out comes back");
	TAP_IS_INT(j[0].attempts, 2,
	    "test_relay_lease_expired: as the next attempt");
	TAP_OK(t.expired == 1 && t.dead == 1 &&
	    q(db, "SELECT count(*) FROM jobs WHERE state = 'dead' AND "
	    "last_error LIKE '%stopped%' AND last_status IS NULL", NULL) == 1,
	    "test_relay_lease_expired: one that ran out on its last attempt "
	    "is dead");
	rs_db_close(db);
}

static void
test_relay_lease_endpoint(void)
{
	struct rs_store_webhook	 w;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int64_t			 w1, w2, w3;

	db = db_new(org);
	w1 = webhook(db, org, "[\"*\"]");
	w2 = webhook(db, org, "[\"*\"]");
	w3 = webhook(db, org, "[\"*\"]");
	events(db, org, "record.created", NULL, 1);
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	TAP_SETUP(q(db, "SELECT count(*) FROM jobs", NULL) == 3);
	disable(db, w1);
	TAP_SETUP(rs_store_webhooks_by_seq(db, &arena, w2, &w) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_webhooks_delete(db, &arena, org, w.id, NULL) ==
	    RS_OK);
	TAP_SETUP(rs_store_jobs_drop_webhook(db, w2) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	/* An endpoint row gone without its jobs (no API does this). */
	{
		char	 sql[96];

		snprintf(sql, sizeof(sql), "DELETE FROM webhooks WHERE seq = "
		    "%lld", (long long)w3);
		x(db, sql);
	}
	TAP_IS_STR(lease_at(db, NOW_MS, MAXJ, NULL, NULL, NULL), "",
	    "test_relay_lease_endpoint: no job of a disabled or deleted "
	    "endpoint is leased");
	TAP_IS_INT(q(db, "SELECT count(*) FROM jobs WHERE state = 'pending'",
	    NULL), 2, "test_relay_lease_endpoint: they stay pending");
	rs_db_close(db);
}

static void
test_relay_lease_secret(void)
{
	struct rs_relay_job	 j[MAXJ];
	unsigned char		 other[RS_SECRET_BYTES];
	struct rs_relay_tally	 t;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], evid[RS_ID_MAX];
	size_t			 n = 0;
	int64_t			 ev;

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	ev = event(db, org, "record.created", "rec_1", 5, NOW_MS, evid);
	events(db, org, "record.created", "rec_2", 1);
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	memset(&t, 0, sizeof(t));
	TAP_IS_INT(rs_relay_lease(db, &arena, sealkey, NOW_MS, LEASE, 1, j, &n,
	    &t), RS_OK, "test_relay_lease_secret: lease");
	TAP_IS_INT(n, 1, "test_relay_lease_secret: one");
	TAP_IS_STR(j[0].event_id, evid,
	    "test_relay_lease_secret: the event's id is the webhook-id");
	TAP_IS_STR(j[0].url, "https://hooks.example.com/in",
	    "test_relay_lease_secret: the endpoint's url");
	{
		char	 sql[96];

		snprintf(sql, sizeof(sql), "SELECT payload = ?1 FROM events "
		    "WHERE seq = %lld", (long long)ev);
		TAP_IS_INT(q(db, sql, j[0].body), 1,
		    "test_relay_lease_secret: the body is the payload verbatim");
	}
	TAP_OK(j[0].bodylen == strlen(j[0].body) && j[0].webhook_seq > 0,
	    "test_relay_lease_secret: its length and endpoint");
	TAP_OK(j[0].key_ok && sodium_memcmp(j[0].key, hookkey,
	    sizeof(hookkey)) == 0, "test_relay_lease_secret: the key opened");
	rs_relay_wipe(j, n);
	TAP_OK(sodium_is_zero(j[0].key, sizeof(j[0].key)),
	    "test_relay_lease_secret: wiped");
	randombytes_buf(other, sizeof(other));
	TAP_IS_INT(rs_relay_lease(db, &arena, other, NOW_MS, LEASE, 1, j, &n,
	    &t), RS_OK, "test_relay_lease_secret: lease with another key");
	TAP_OK(n == 1 && !j[0].key_ok,
	    "test_relay_lease_secret: the secret does not open: said so");
	rs_db_close(db);
}

static void
test_relay_settle(void)
{
	struct rs_relay_job	 j[MAXJ];
	struct rs_relay_outcome	 o[8];
	struct rs_relay_tally	 t;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	size_t			 n;
	int64_t			 wh, now = NOW_MS + 100;

	db = db_new(org);
	wh = webhook(db, org, "[\"*\"]");
	events(db, org, "user.invited", NULL, 8);
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	TAP_SETUP(strcmp(lease_at(db, NOW_MS, MAXJ, j, &n, NULL),
	    "1,2,3,4,5,6,7,8") == 0);
	x(db, "UPDATE jobs SET attempts = 8 WHERE event_seq & 1099511627775 "
	    "= 6");
	j[5].attempts = 8;
	o[0] = outcome(&j[0], 200, "", -1);
	o[1] = outcome(&j[1], 500, "", -1);
	o[2] = outcome(&j[2], 0, "timed out after 10 s", -1);
	o[3] = outcome(&j[3], 429, "the endpoint answered 429", 30000);
	o[4] = outcome(&j[4], 410, "the endpoint answered 410", -1);
	o[5] = outcome(&j[5], 502, "", -1);
	o[6] = outcome(&j[6], 302, "the endpoint answered 302 (redirects "
	    "are not followed)", -1);
	o[7] = outcome(&j[7], 201, "", -1);
	x(db, "DELETE FROM jobs WHERE event_seq & 1099511627775 = 8");
	memset(&t, 0, sizeof(t));
	draw = 0.0;
	TAP_IS_INT(rs_relay_settle(db, o, 8, now, fixed_u, &t), RS_OK,
	    "test_relay_settle: eight outcomes in one transaction");
	TAP_OK(t.delivered == 1 && t.failed == 4 && t.dead == 2,
	    "test_relay_settle: tallied: 1 delivered, 4 failed, 2 dead, the "
	    "moved one skipped");
	TAP_OK(strcmp(job_text(db, j[0].seq, "state"), "succeeded") == 0 &&
	    job_int(db, j[0].seq, "last_status") == 200 &&
	    job_text(db, j[0].seq, "last_error") == NULL,
	    "test_relay_settle: 2xx: succeeded, its status, no error");
	TAP_OK(strcmp(job_text(db, j[1].seq, "state"), "failed") == 0 &&
	    job_int(db, j[1].seq, "last_status") == 500 &&
	    job_int(db, j[1].seq, "due_at") == now + 4000,
	    "test_relay_settle: 500: failed, due after 0.8 x 5 s (u = 0)");
	TAP_IS_STR(job_text(db, j[1].seq, "last_error"),
	    "the endpoint answered 500",
	    "test_relay_settle: 500: last_error says so");
	TAP_OK(job_int(db, j[2].seq, "last_status") == -1 &&
	    strcmp(job_text(db, j[2].seq, "last_error"),
	    "timed out after 10 s") == 0,
	    "test_relay_settle: a timeout: no status, its error");
	TAP_IS_INT(job_int(db, j[3].seq, "due_at"), now + 30000,
	    "test_relay_settle: 429 with Retry-After: due then");
	TAP_OK(strcmp(job_text(db, j[4].seq, "state"), "dead") == 0 &&
	    strcmp(job_text(db, j[4].seq, "last_error"),
	    RS_RELAY_GONE_REASON) == 0 && job_int(db, j[4].seq,
	    "last_status") == 410, "test_relay_settle: 410: dead");
	{
		struct rs_store_webhook	 w;

		TAP_SETUP(rs_store_webhooks_by_seq(db, &arena, wh, &w) ==
		    RS_OK);
		TAP_OK(!w.enabled && w.disabled_reason != NULL &&
		    strcmp(w.disabled_reason, RS_RELAY_GONE_REASON) == 0,
		    "test_relay_settle: 410: the endpoint is disabled, "
		    "saying why");
	}
	TAP_OK(strcmp(job_text(db, j[5].seq, "state"), "dead") == 0 &&
	    job_int(db, j[5].seq, "last_status") == 502,
	    "test_relay_settle: a failed 8th attempt: dead");
	TAP_OK(strcmp(job_text(db, j[6].seq, "state"), "failed") == 0 &&
	    job_int(db, j[6].seq, "last_status") == 302,
	    "test_relay_settle: a redirect is a failure with its status");
	TAP_IS_INT(q(db, "SELECT count(*) FROM jobs WHERE event_seq & "
	    "1099511627775 = 8", NULL), 0,
	    "test_relay_settle: the moved job was not made again");
	rs_db_close(db);
}

static void
test_relay_settle_schedule(void)
{
	struct rs_relay_job	 j[MAXJ];
	struct rs_store_job	 sj;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], id[RS_ID_MAX];
	size_t			 n;
	int64_t			 now = NOW_MS, due, base, k;
	int			 ok = 1;
	static const int64_t	 step[] = { 5, 300, 1800, 7200, 18000,
	    36000, 36000 };

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	events(db, org, "record.created", "rec_1", 1);
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	/* Eight failing attempts, each leased when due: the schedule with
	 * its jitter bounds, then dead. */
	for (k = 1; k <= 8; k++) {
		if (strcmp(lease_at(db, now, MAXJ, j, &n, NULL), "1") != 0) {
			ok = 0;
			break;
		}
		TAP_SETUP(settle1(db, outcome(&j[0], 503, "", -1), now,
		    k % 2 ? 0.0 : 0.999999, NULL) == RS_OK);
		if (k == 8)
			break;
		due = job_int(db, j[0].seq, "due_at");
		base = step[k - 1] * 1000;
		ok &= due - now >= base * 8 / 10 && due - now < base * 12 / 10;
		now = due;
	}
	TAP_OK(ok, "test_relay_settle_schedule: 7 retries, each within "
	    "0.8..1.2 of its step");
	TAP_IS_STR(job_text(db, j[0].seq, "state"), "dead",
	    "test_relay_settle_schedule: the 8th failure is dead");
	/* Retried by hand: a fresh budget, the schedule from its start. */
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_jobs_get(db, &arena, org, job_text(db, j[0].seq,
	    "id"), &sj) == RS_OK);
	memcpy(id, sj.id, sizeof(id));
	TAP_SETUP(rs_store_jobs_retry(db, &arena, org, id, now, &sj) ==
	    RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_STR(lease_at(db, now, MAXJ, j, &n, NULL), "1",
	    "test_relay_settle_schedule: a retried dead job is leased");
	TAP_SETUP(settle1(db, outcome(&j[0], 500, "", -1), now, 0.5,
	    NULL) == RS_OK);
	TAP_OK(j[0].attempts == 9 && job_int(db, j[0].seq, "due_at") ==
	    now + 5000 && strcmp(job_text(db, j[0].seq, "state"),
	    "failed") == 0,
	    "test_relay_settle_schedule: its 9th attempt fails: 5 s again");
	rs_db_close(db);
}

static void
test_relay_release(void)
{
	struct rs_relay_job	 j[MAXJ];
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	size_t			 n;

	db = db_new(org);
	webhook(db, org, "[\"*\"]");
	events(db, org, "record.created", "rec_1", 1);
	events(db, org, "record.created", "rec_2", 1);
	TAP_SETUP(fanout(db, 0, NULL) == RS_OK);
	TAP_SETUP(strcmp(lease_at(db, NOW_MS, MAXJ, j, &n, NULL), "1,2") == 0);
	TAP_SETUP(settle1(db, outcome(&j[1], 500, "", -1), NOW_MS, 0.5,
	    NULL) == RS_OK);
	TAP_SETUP(strcmp(lease_at(db, NOW_MS + 10000, MAXJ, &j[1], &n, NULL),
	    "2") == 0);
	TAP_IS_INT(rs_relay_release(db, j, 2, NOW_MS + 10000), RS_OK,
	    "test_relay_release: give back two leases");
	TAP_OK(strcmp(job_text(db, j[0].seq, "state"), "pending") == 0 &&
	    job_int(db, j[0].seq, "attempts") == 0 &&
	    strcmp(job_text(db, j[1].seq, "state"), "failed") == 0 &&
	    job_int(db, j[1].seq, "attempts") == 1,
	    "test_relay_release: they wait as before, the attempt not counted");
	TAP_IS_STR(lease_at(db, NOW_MS + 10000, MAXJ, NULL, NULL, NULL), "1,2",
	    "test_relay_release: and are due at once");
	rs_db_close(db);
}

/* Inserts a record of org, deleted at deleted (0: live), as seq n. */
static void
record(struct rs_db *db, const char *org, int n, int64_t deleted)
{
	char	 sql[640], del[32] = "NULL";

	if (deleted != 0)
		snprintf(del, sizeof(del), "%lld", (long long)deleted);
	snprintf(sql, sizeof(sql), "INSERT INTO records (seq, id, org_id, "
	    "title, type, status, data, size, causal, version, deleted_at, "
	    "created_at, updated_at, created_by, queue, change_seq) VALUES "
	    "(((SELECT num FROM orgs WHERE id = '%s') << 40) | %d, 'rec_%d', "
	    "'%s', 't', 'note', 'queued', '{}', 2, "
	    "'01JDABCDEFGHJKMNPQRSTVWXYZ', 1, %s, 0, 0, 'usr_x', 'default', "
	    "%d)", org, n, n, org, del, n);
	x(db, sql);
}

static void
test_relay_purge(void)
{
	struct rs_relay_purge_cfg	 c;
	struct rs_relay_tally		 t;
	struct rs_db			*db;
	char				 org[RS_ID_MAX], sql[512];
	int64_t				 now = NOW_MS, wh, ev, i;

	db = db_new(org);
	wh = webhook(db, org, "[\"*\"]");
	ev = event(db, org, "record.created", NULL, 5, NOW_MS, NULL);
	/* Idempotency keys: two expired, one at the edge (expired: find
	 * takes only keys younger than the TTL), one live. */
	for (i = 0; i < 4; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO idempotency_keys "
		    "(org_id, key, request_hash, status, headers, body, "
		    "created_at) VALUES ('%s', 'k%lld', %s, 201, '', "
		    "'{}', %lld)", org, (long long)i, rs_db_pg(db) ?
		    "decode(repeat('00', 32), 'hex')" : "zeroblob(32)",
		    (long long)(now -
		    (i == 0 ? 2 * DAY_MS : i == 1 ? DAY_MS + 1 : i == 2 ?
		    DAY_MS : DAY_MS - 1)));
		x(db, sql);
	}
	/* Tombstones: past the 90-day horizon, inside it; a live record. */
	record(db, org, 1, now - 91 * DAY_MS);
	record(db, org, 2, now - 90 * DAY_MS + 1);
	record(db, org, 3, 0);
	/* Jobs: succeeded 8 and 6 days ago, dead 31 and 29, failed 40. */
	for (i = 0; i < 5; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO jobs (id, org_id, "
		    "webhook_seq, event_seq, event_type, queue, priority, "
		    "state, max_attempts, due_at, created_at, updated_at) "
		    "VALUES ('job_%lld', '%s', %lld, %lld, 'record.created', "
		    "'default', 5, '%s', 8, 0, 0, %lld)", (long long)i, org,
		    (long long)wh, (long long)ev, i < 2 ? "succeeded" :
		    i < 4 ? "dead" : "failed", (long long)(now - DAY_MS *
		    (i == 0 ? 8 : i == 1 ? 6 : i == 2 ? 31 : i == 3 ? 29 :
		    40)));
		x(db, sql);
	}
	memset(&c, 0, sizeof(c));
	c.tombstone_days = 90;
	c.history_days = 30;
	memset(&t, 0, sizeof(t));
	TAP_IS_INT(rs_relay_purge(db, &c, now, 0, &t), RS_OK,
	    "test_relay_purge: purge");
	TAP_IS_INT(q(db, "SELECT count(*) FROM idempotency_keys WHERE key = "
	    "'k3'", NULL) * 10 + q(db, "SELECT count(*) FROM "
	    "idempotency_keys", NULL), 11,
	    "test_relay_purge: expired keys gone (those find ignores), live "
	    "ones kept");
	TAP_IS_INT(q(db, "SELECT count(*) FROM records WHERE id IN ('rec_2', "
	    "'rec_3')", NULL) * 10 + q(db, "SELECT count(*) FROM records",
	    NULL), 22, "test_relay_purge: tombstones past the horizon gone, "
	    "newer ones and live records kept");
	TAP_IS_INT(q(db, "SELECT count(*) FROM jobs WHERE id IN ('job_1', "
	    "'job_3', 'job_4')", NULL) * 10 + q(db, "SELECT count(*) FROM "
	    "jobs", NULL), 33, "test_relay_purge: succeeded after 7 days and "
	    "dead after 30 gone; newer and waiting ones kept");
	TAP_IS_INT(t.purged, 3 + 1 + 1 + 1,
	    "test_relay_purge: the rows counted");
	rs_db_close(db);
}

/* A history row of org's rec_<n>, version v, superseded at when. */
static void
history(struct rs_db *db, const char *org, int n, int v, int64_t when)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO record_history (org_id, "
	    "record_id, version, causal, record, changed, actor, written_at, "
	    "superseded_at) VALUES ('%s', 'rec_%d', %d, "
	    "'01JDABCDEFGHJKMNPQRSTVWXYZ', '{}', '[]', 'usr_x', 0, %lld)",
	    org, n, v, (long long)when);
	x(db, sql);
}

/* A conflict cfl_<n> on org's rec_<r>, closed at closed (0: open). */
static void
conflict(struct rs_db *db, const char *org, int n, int r, int64_t closed)
{
	char	 sql[640], at[32] = "NULL";

	if (closed != 0)
		snprintf(at, sizeof(at), "%lld", (long long)closed);
	snprintf(sql, sizeof(sql), "INSERT INTO conflicts (id, org_id, "
	    "record_id, base_causal, attempted, current, status, created_by, "
	    "created_at, resolved_at, resolved_by, resolution) VALUES "
	    "('cfl_%d', '%s', 'rec_%d', '01JDABCDEFGHJKMNPQRSTVWXYZ', '{}', "
	    "'{}', '%s', 'usr_x', 0, %s, %s, %s)", n, org, r,
	    closed != 0 ? "resolved" : "open", at,
	    closed != 0 ? "'usr_x'" : "NULL",
	    closed != 0 ? "'current'" : "NULL");
	x(db, sql);
}

static void
test_relay_purge_history(void)
{
	struct rs_relay_purge_cfg	 c;
	struct rs_relay_tally		 t;
	struct rs_db			*db;
	char				 org[RS_ID_MAX];
	int64_t				 now = NOW_MS;

	db = db_new(org);
	/* rec_1 a tombstone past the horizon, rec_2 live. */
	record(db, org, 1, now - 91 * DAY_MS);
	record(db, org, 2, 0);
	history(db, org, 1, 1, now);
	history(db, org, 2, 1, now - 31 * DAY_MS);
	history(db, org, 2, 2, now - 30 * DAY_MS + 1);
	conflict(db, org, 1, 1, 0);
	conflict(db, org, 2, 2, now - 31 * DAY_MS);
	conflict(db, org, 3, 2, now - 30 * DAY_MS + 1);
	conflict(db, org, 4, 2, 0);
	memset(&c, 0, sizeof(c));
	c.tombstone_days = 90;
	c.history_days = 30;
	memset(&t, 0, sizeof(t));
	TAP_IS_INT(rs_relay_purge(db, &c, now, 0, &t), RS_OK,
	    "test_relay_purge_history: purge");
	TAP_IS_INT(q(db, "SELECT count(*) FROM record_history WHERE "
	    "record_id = 'rec_2' AND version = 2", NULL) * 10 + q(db,
	    "SELECT count(*) FROM record_history", NULL), 11,
	    "test_relay_purge_history: versions superseded past the days "
	    "gone, and a purged tombstone's; newer ones kept");
	TAP_IS_INT(q(db, "SELECT count(*) FROM conflicts WHERE id IN "
	    "('cfl_3', 'cfl_4')", NULL) * 10 + q(db, "SELECT count(*) FROM "
	    "conflicts", NULL), 22,
	    "test_relay_purge_history: closed conflicts past the days gone, "
	    "and a purged tombstone's even open; newer and open ones kept");
	TAP_IS_INT(t.purged, 1 + 1 + 1, "test_relay_purge_history: the "
	    "rows counted (a tombstone's own history is not counted)");
	/* 0 days: every history row goes, closed conflicts stay. */
	history(db, org, 2, 3, now);
	c.history_days = 0;
	TAP_IS_INT(rs_relay_purge(db, &c, now + 1, 0, &t), RS_OK,
	    "test_relay_purge_history: purge keeping no history");
	TAP_IS_INT(q(db, "SELECT count(*) FROM record_history", NULL) * 10 +
	    q(db, "SELECT count(*) FROM conflicts", NULL), 2,
	    "test_relay_purge_history: 0 days keeps no history row and "
	    "every conflict");
	rs_db_close(db);
}

static void
test_relay_index(void)
{
	struct rs_relay_tally	 t;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	int64_t			 n;

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, other) == RS_OK);
	n = q(db, "SELECT count(*) FROM audit", NULL);
	TAP_SETUP(n >= 2);
	memset(&t, 0, sizeof(t));
	TAP_IS_INT(rs_relay_index(db, NOW_MS, &t), RS_OK,
	    "test_relay_index: a deadline passed already");
	TAP_IS_INT(t.indexed, 0, "test_relay_index: then nothing is done");
	TAP_IS_INT(rs_relay_index(db, 0, &t), RS_OK, "test_relay_index: run");
	TAP_IS_INT(t.indexed * 1000 + q(db, "SELECT count(*) FROM "
	    "audit_targets", NULL), n * 1000 + n,
	    "test_relay_index: every org's entries, each once");
	memset(&t, 0, sizeof(t));
	TAP_IS_INT(rs_relay_index(db, 0, &t) == RS_OK && t.indexed == 0, 1,
	    "test_relay_index: again, nothing left");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(94 + 5 + 6);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-relay") == 0);
	TAP_SETUP(fixture_subkey(master, RS_SECRET_WEBHOOK, sealkey) == 0);
	randombytes_buf(hookkey, sizeof(hookkey));
	rs_arena_init(&arena);

	test_relay_backoff();
	test_relay_retry_after();
	test_relay_fanout_exact();
	test_relay_fanout_match();
	test_relay_lease_order();
	test_relay_lease_priority();
	test_relay_lease_expired();
	test_relay_lease_endpoint();
	test_relay_lease_secret();
	test_relay_settle();
	test_relay_settle_schedule();
	test_relay_release();
	test_relay_purge();
	test_relay_purge_history();
	test_relay_index();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
