/*
 * test-txn: the one write transaction (lib/txn.h) over a real migrated
 * SQLite database: a committed change with its numbered events, a
 * declined and a failed change that leave nothing behind, the
 * Idempotency-Key (answer kept, replayed, reused, missing), numbering
 * inside the change, the event limit and a busy write lock. Each test
 * has its own database file in a mkdtemp directory, with one org.
 * Every committed change appends one audit entry in the same
 * transaction; a declined, failed or replayed one none, and one that
 * would commit without an action fails.
 *
 * rs_db_note_shared: the pool is told of a committed holder change once
 * (test_txn_shared).
 *
 * The busy tests never wait the full RS_BUSY_TIMEOUT_MS: the waiting
 * connection polls the writers' queue (rs_db_set_polling) and its
 * db->busy_limit_ms is cut to BUSY_MS; nothing asserts on timing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "idem.h"
#include "store_orgs.h"
#include "store_orgseq.h"
#include "store_users.h"
#include "txn.h"
#define FIXTURE_BOTH	/* idem and outbox's PostgreSQL halves too */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define BUSY_MS	50			/* a short wait for the lock */

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;

/*
 * What the change does, in this order: inserts a user (email, unless
 * NULL), builds events events, takes numbers (when number is set: one
 * change number), builds late more events, then says say (setting
 * t->err to err first when say is RS_TXN_FAILED and err is not RS_OK).
 */
struct chg {
	const char		*email;
	int			 events;
	int			 number;
	int			 late;
	enum rs_txn_do		 say;
	enum rs_err		 err;
	struct json_object	*data;		/* of every event */
	const char		*action;	/* of its audit entry, or NULL */
	int			 races;		/* its first runs lose a race
						 * (RS_ERR_RETRY) at the end */
	/* what it saw */
	int			 calls;
	struct rs_store_orgseq	 seq;
	int64_t			 numbered[RS_TXN_MAX_EVENTS]; /* ev seqs
					 * right after numbering */
	size_t			 nnumbered;
};

static enum rs_txn_do
change(struct rs_txn *t, void *arg)
{
	struct chg	*c = arg;
	struct rs_user	 u;
	size_t		 i;
	int		 n;

	c->calls++;
	/* The entry's facts, before anything can fail: t owns the
	 * detail however the run ends. */
	t->audit.actor_type = "user";
	t->audit.actor_id = "usr_test";
	t->audit.action = c->action;
	t->audit.target = "rec_1";
	t->audit.detail = json_object_new_object();
	TAP_SETUP(t->audit.detail != NULL && json_object_object_add(
	    t->audit.detail, "fields", json_object_new_string("title")) == 0);
	if (c->email != NULL) {
		memset(&u, 0, sizeof(u));
		rs_id_new(u.id, sizeof(u.id), "usr_");
		u.email = c->email;
		u.role = "viewer";
		u.status = "active";
		if ((t->err = rs_store_users_insert(t->db, t->org, &u,
		    t->now)) != RS_OK)
			return RS_TXN_FAILED;
	}
	for (n = 0; n < c->events; n++)
		if ((t->err = rs_txn_event(t, "test.changed", "rec_1",
		    c->data)) != RS_OK)
			return RS_TXN_FAILED;
	if (c->number) {
		if ((t->err = rs_txn_number(t, 1, &c->seq)) != RS_OK)
			return RS_TXN_FAILED;
		for (i = 0; i < t->nev; i++)
			c->numbered[i] = t->ev[i].seq;
		c->nnumbered = t->nev;
	}
	for (n = 0; n < c->late; n++)
		if ((t->err = rs_txn_event(t, "test.late", NULL,
		    c->data)) != RS_OK)
			return RS_TXN_FAILED;
	if (c->calls <= c->races) {
		t->err = RS_ERR_RETRY;	/* as a PostgreSQL deadlock */
		return RS_TXN_FAILED;
	}
	if (c->say == RS_TXN_FAILED && c->err != RS_OK)
		t->err = c->err;
	return c->say;
}

/* A change that commits: inserts a user with email (unless NULL) and
 * builds one event when there is data to carry. */
static void
chg_init(struct chg *c, const char *email, struct json_object *data)
{
	memset(c, 0, sizeof(*c));
	c->email = email;
	c->events = data != NULL;	/* an event needs data */
	c->say = RS_TXN_COMMIT;
	c->data = data;
	c->action = "test.change";
}

/* The first text column of sql's first row, ?1 bound to p; NULL if none. */
static const char *
query_text(struct rs_db *db, const char *sql, const char *p)
{
	return fixture_query_text(db, &arena, sql, p);
}

static int64_t
users(struct rs_db *db)
{
	return fixture_query_int(db, "SELECT count(*) FROM users", NULL);
}

static int64_t
events(struct rs_db *db)
{
	return fixture_query_int(db, "SELECT count(*) FROM events", NULL);
}

static int64_t
audits(struct rs_db *db)
{
	return fixture_query_int(db, "SELECT count(*) FROM audit", NULL);
}

static int64_t
idem_rows(struct rs_db *db)
{
	return fixture_query_int(db, "SELECT count(*) FROM idempotency_keys",
	    NULL);
}

/* The org's two counters as one number: change_seq * 1000 + event_seq. */
static int64_t
counters(struct rs_db *db, const char *org)
{
	return fixture_query_int(db, "SELECT change_seq * 1000 + event_seq "
	    "FROM orgs WHERE id = ?1", org);
}

/* The org's counters with its number only, for rs_store_orgseq_rowid. */
static struct rs_store_orgseq
org_num(struct rs_db *db, const char *org)
{
	struct rs_store_orgseq	 s;

	memset(&s, 0, sizeof(s));
	s.num = fixture_query_int(db, "SELECT num FROM orgs WHERE id = ?1",
	    org);
	TAP_SETUP(s.num > 0);
	return s;
}

/* {"n":n}, owned by the caller. */
static struct json_object *
data_new(int n)
{
	struct json_object	*o = json_object_new_object();

	TAP_SETUP(o != NULL);
	TAP_SETUP(json_object_object_add(o, "n", json_object_new_int(n)) == 0);
	return o;
}

/* An Idempotency-Key key whose request hash is all b. */
static void
idem_set(struct rs_idem *id, const char *key, unsigned char b)
{
	id->key = key;
	memset(id->hash, b, sizeof(id->hash));
}

static void
answer_set(struct rs_txn *t)
{
	t->answer.status = 201;
	t->answer.headers = "Location: /v1/records/rec_1\nETag: \"v1\"\n";
	t->answer.body = "{\"id\":\"rec_1\",\"n\":1}";
}

static void
test_txn_commit(void)
{
	struct rs_store_orgseq	 s;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db, *db2;
	struct json_object	*data = data_new(1);
	const char		*payload;
	char			 org[RS_ID_MAX];
	int64_t			 seq;

	db = fixture_db_org(dir, &ndb, org);
	s = org_num(db, org);
	chg_init(&c, "ann@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn commit: a change that commits is done");
	TAP_IS_INT(c.calls, 1, "txn commit: the change ran once");
	TAP_IS_INT(t.err, RS_OK, "txn commit: no error");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn commit: the transaction and the writers' queue are left");
	db2 = fixture_db_again(dir, ndb);
	TAP_IS_INT(fixture_query_int(db2, "SELECT count(*) FROM users "
	    "WHERE email = ?1", "ann@example.com"), 1,
	    "txn commit: the change's row is committed (another connection "
	    "sees it)");
	TAP_IS_INT(fixture_query_int(db2, "SELECT count(*) FROM events "
	    "WHERE org_id = ?1", org), 1,
	    "txn commit: its event is committed with it");
	rs_db_close(db2);
	seq = fixture_query_int(db, "SELECT seq FROM events WHERE org_id = ?1",
	    org);
	TAP_OK(seq >= rs_store_orgseq_rowid(&s, 0) &&
	    seq < (s.num + 1) << RS_ORG_ROW_BITS,
	    "txn commit: the event's seq lies in the org's rowid range");
	TAP_IS_INT(seq, rs_store_orgseq_rowid(&s, 1),
	    "txn commit: the first event is the org's event 1");
	TAP_IS_INT(t.ev[0].seq, seq, "txn commit: t.ev[0].seq is its rowid");
	TAP_IS_INT(counters(db, org), 1,
	    "txn commit: event_seq 1, no change number taken");
	TAP_IS_STR(query_text(db, "SELECT id FROM events WHERE org_id = ?1",
	    org), t.ev[0].id, "txn commit: the event keeps its id");
	TAP_IS_STR(query_text(db, "SELECT type || '/' || record_id FROM "
	    "events WHERE org_id = ?1", org), "test.changed/rec_1",
	    "txn commit: the event's type and record_id");
	payload = query_text(db, "SELECT payload FROM events WHERE "
	    "org_id = ?1", org);
	TAP_HAS_STR(payload, "\"type\":\"test.changed\"",
	    "txn commit: the payload names the type");
	TAP_HAS_STR(payload, rs_arena_printf(&arena, "\"org_id\":\"%s\"", org),
	    "txn commit: the payload names the org");
	TAP_HAS_STR(payload, "\"data\":{\"n\":1}",
	    "txn commit: the payload carries the data");
	TAP_HAS_STR(payload, rs_arena_printf(&arena, "\"id\":\"%s\"",
	    t.ev[0].id), "txn commit: the payload carries the event id");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_decline(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(2);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, n0, a0;

	db = fixture_db_org(dir, &ndb, org);
	u0 = users(db);
	e0 = events(db);
	n0 = counters(db, org);
	a0 = audits(db);
	chg_init(&c, "bob@example.com", data);
	c.number = 1;
	c.say = RS_TXN_DECLINE;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DECLINED,
	    "txn decline: a declining change is declined");
	TAP_IS_INT(c.calls, 1, "txn decline: the change ran once");
	TAP_IS_INT(users(db), u0,
	    "txn decline: the row the change wrote is gone");
	TAP_IS_INT(events(db), e0, "txn decline: no event is written");
	TAP_IS_INT(audits(db), a0, "txn decline: no audit entry is written");
	TAP_OK(t.audit.detail == NULL,
	    "txn decline: the entry's detail is released");
	TAP_IS_INT(counters(db, org), n0,
	    "txn decline: the org's counters are as before");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn decline: the transaction and the writers' queue are left");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_failed(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(3);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, n0, a0;

	db = fixture_db_org(dir, &ndb, org);
	u0 = users(db);
	e0 = events(db);
	n0 = counters(db, org);
	a0 = audits(db);
	chg_init(&c, "cat@example.com", data);
	c.number = 1;
	c.say = RS_TXN_FAILED;
	c.err = RS_ERR_EXISTS;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "txn failed: a failing change is an error");
	TAP_IS_INT(t.err, RS_ERR_EXISTS,
	    "txn failed: t.err is what the change set");
	TAP_IS_INT(users(db), u0,
	    "txn failed: the row the change wrote is rolled back");
	TAP_IS_INT(events(db), e0, "txn failed: no event is written");
	TAP_IS_INT(audits(db), a0, "txn failed: no audit entry is written");
	TAP_OK(t.audit.detail == NULL,
	    "txn failed: the entry's detail is released");
	TAP_IS_INT(counters(db, org), n0,
	    "txn failed: the numbers the change took are given back");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn failed: the transaction and the writers' queue are left");
	chg_init(&c, "cat@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn failed: the same change commits afterwards");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_failed_no_err(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int64_t			 u0;

	db = fixture_db_org(dir, &ndb, org);
	u0 = users(db);
	chg_init(&c, "dan@example.com", NULL);
	c.events = 0;
	c.say = RS_TXN_FAILED;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "txn failed: without t.err still an error");
	TAP_IS_INT(t.err, RS_ERR_DB,
	    "txn failed: t.err defaults to RS_ERR_DB");
	TAP_IS_INT(users(db), u0,
	    "txn failed: without t.err the row is rolled back too");
	rs_db_close(db);
}

static void
test_txn_idem_first(void)
{
	struct rs_idem		 id;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(4);
	char			 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	idem_set(&id, "key-1", 0x11);
	chg_init(&c, "eve@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.idem = &id;
	answer_set(&t);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn idem: the first request under a key commits");
	TAP_IS_INT(c.calls, 1, "txn idem: the first request runs the change");
	TAP_IS_INT(fixture_query_int(db, rs_arena_printf(&arena, "SELECT "
	    "count(*) FROM idempotency_keys WHERE org_id = ?1 AND "
	    "key = 'key-1' AND status = 201 AND created_at = %lld",
	    (long long)NOW_MS), org), 1,
	    "txn idem: the answer is kept under the key, with its status");
	TAP_IS_STR(query_text(db, "SELECT headers FROM idempotency_keys "
	    "WHERE org_id = ?1", org), t.answer.headers,
	    "txn idem: the headers are kept");
	TAP_IS_STR(query_text(db, "SELECT body FROM idempotency_keys "
	    "WHERE org_id = ?1", org), t.answer.body,
	    "txn idem: the body is kept");
	TAP_IS_INT(events(db), 1, "txn idem: the change's event is written");
	json_object_put(data);
	rs_db_close(db);
}

/* Runs the first request under key-1 (hash 0x11) in org, its answer
 * into first when not NULL; bails on failure. */
static void
idem_first(struct rs_db *db, const char *org, struct rs_idem *id,
    struct json_object *data, struct rs_idem_answer *first)
{
	struct rs_txn	 t;
	struct chg	 c;

	idem_set(id, "key-1", 0x11);
	chg_init(&c, "fay@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.idem = id;
	answer_set(&t);
	TAP_SETUP(rs_txn_run(&t, change, &c) == RS_TXN_DONE);
	if (first != NULL)
		*first = t.answer;
}

static void
test_txn_idem_replay(void)
{
	struct rs_idem		 id, again;
	struct rs_idem_answer	 first;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(5);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, k0, a0;

	db = fixture_db_org(dir, &ndb, org);
	idem_first(db, org, &id, data, &first);
	u0 = users(db);
	e0 = events(db);
	k0 = idem_rows(db);
	idem_set(&again, "key-1", 0x11);
	chg_init(&c, "gus@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS + 1000);
	t.idem = &again;
	a0 = audits(db);
	t.audit.detail = json_object_new_object();	/* set by the edge */
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_REPLAY,
	    "txn idem replay: the same key and request replays");
	TAP_IS_INT(c.calls, 0, "txn idem replay: the change is not called");
	TAP_IS_INT(t.replay.status, first.status,
	    "txn idem replay: the first answer's status");
	TAP_IS_STR(t.replay.headers, first.headers,
	    "txn idem replay: the first answer's headers");
	TAP_IS_STR(t.replay.body, first.body,
	    "txn idem replay: the first answer's body");
	TAP_OK(users(db) == u0 && events(db) == e0 && idem_rows(db) == k0,
	    "txn idem replay: nothing is written");
	TAP_IS_INT(audits(db), a0, "txn idem replay: no audit entry");
	TAP_OK(t.audit.detail == NULL,
	    "txn idem replay: a detail set before the run is released");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn idem replay: the transaction and the writers' queue are "
	    "left");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_idem_reused(void)
{
	struct rs_idem		 id, other;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(6);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0;

	db = fixture_db_org(dir, &ndb, org);
	idem_first(db, org, &id, data, NULL);
	u0 = users(db);
	e0 = events(db);
	idem_set(&other, "key-1", 0x22);
	chg_init(&c, "hal@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS + 1000);
	t.idem = &other;
	answer_set(&t);
	t.answer.body = "{\"other\":true}";
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_KEY_REUSED,
	    "txn idem reused: the same key with another request is refused");
	TAP_IS_INT(c.calls, 0, "txn idem reused: the change is not called");
	TAP_OK(users(db) == u0 && events(db) == e0,
	    "txn idem reused: nothing is written");
	TAP_IS_STR(query_text(db, "SELECT body FROM idempotency_keys WHERE "
	    "org_id = ?1 AND key = 'key-1'", org), "{\"id\":\"rec_1\",\"n\":1}",
	    "txn idem reused: the key keeps the first answer");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_idem_per_org(void)
{
	struct rs_idem		 id, again;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(7);
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	idem_first(db, org, &id, data, NULL);
	idem_set(&again, "key-1", 0x11);
	chg_init(&c, "ida@example.com", data);
	rs_txn_init(&t, db, &arena, org2, NOW_MS + 1000);
	t.idem = &again;
	answer_set(&t);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn idem: another org's key of the same name is not seen");
	TAP_IS_INT(c.calls, 1, "txn idem: another org's request runs");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_idem_expired(void)
{
	struct rs_idem		 id, again;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(8);
	char			 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	idem_first(db, org, &id, data, NULL);
	idem_set(&again, "key-1", 0x22);
	chg_init(&c, "jon@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS + RS_IDEM_TTL_MS);
	t.idem = &again;
	answer_set(&t);
	t.answer.status = 200;
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn idem: a key RS_IDEM_TTL_MS old is new again");
	TAP_IS_INT(c.calls, 1, "txn idem: an expired key runs the change");
	TAP_IS_INT(fixture_query_int(db, "SELECT status FROM idempotency_keys "
	    "WHERE org_id = ?1 AND key = 'key-1'", org), 200,
	    "txn idem: the new answer replaces the expired one");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_idem_no_answer(void)
{
	struct rs_idem		 id;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(9);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, n0;

	db = fixture_db_org(dir, &ndb, org);
	u0 = users(db);
	e0 = events(db);
	n0 = counters(db, org);
	idem_set(&id, "key-1", 0x11);
	chg_init(&c, "kim@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.idem = &id;
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "txn idem: a key without an answer to keep is an error");
	TAP_IS_INT(t.err, RS_ERR_INVAL,
	    "txn idem: without an answer t.err is RS_ERR_INVAL");
	TAP_IS_INT(c.calls, 1, "txn idem: without an answer the change ran");
	TAP_IS_INT(users(db), u0,
	    "txn idem: without an answer the change's row is rolled back");
	TAP_OK(events(db) == e0 && counters(db, org) == n0,
	    "txn idem: without an answer no event is written or numbered");
	TAP_IS_INT(idem_rows(db), 0,
	    "txn idem: without an answer the key is not kept");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_idem_null_key(void)
{
	struct rs_idem		 id;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	idem_set(&id, NULL, 0x11);
	chg_init(&c, "lea@example.com", NULL);
	c.events = 0;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.idem = &id;		/* a request without the header */
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn idem: a NULL key needs no answer and commits");
	TAP_IS_INT(idem_rows(db), 0, "txn idem: a NULL key keeps nothing");
	rs_db_close(db);
}

static void
test_txn_number(void)
{
	struct rs_store_orgseq	 s;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(10);
	char			 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	s = org_num(db, org);
	chg_init(&c, NULL, data);
	c.events = 2;
	c.number = 1;
	c.late = 1;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn number: a change that numbers itself commits");
	TAP_OK(c.seq.change == 1 && c.seq.event == 1 && c.seq.num == s.num,
	    "txn number: the org's first change and event numbers, in one "
	    "step");
	TAP_OK(c.nnumbered == 2 &&
	    c.numbered[0] == rs_store_orgseq_rowid(&s, 1) &&
	    c.numbered[1] == rs_store_orgseq_rowid(&s, 2),
	    "txn number: the events built so far are numbered at once");
	TAP_IS_INT(t.ev[2].seq, rs_store_orgseq_rowid(&s, 3),
	    "txn number: an event built after it is numbered at commit");
	TAP_IS_INT(fixture_query_int(db, rs_arena_printf(&arena, "SELECT "
	    "count(*) FROM events WHERE org_id = ?1 AND seq IN (%lld, %lld, "
	    "%lld)",
	    (long long)rs_store_orgseq_rowid(&s, 1),
	    (long long)rs_store_orgseq_rowid(&s, 2),
	    (long long)rs_store_orgseq_rowid(&s, 3)), org), 3,
	    "txn number: all three events are written at their rowids");
	TAP_IS_INT(counters(db, org), 1003,
	    "txn number: the org's counters: change 1, event 3");
	chg_init(&c, NULL, data);
	c.number = 1;
	rs_txn_init(&t, db, &arena, org, NOW_MS + 1);
	TAP_SETUP(rs_txn_run(&t, change, &c) == RS_TXN_DONE);
	TAP_OK(c.seq.change == 2 && c.seq.event == 4,
	    "txn number: the next change goes on from both counters");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_events_max(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(11);
	char			 org[RS_ID_MAX];
	enum rs_err		 rc = RS_OK;
	int			 i;

	db = fixture_db_org(dir, &ndb, org);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	for (i = 0; i < RS_TXN_MAX_EVENTS && rc == RS_OK; i++)
		rc = rs_txn_event(&t, "test.before", NULL, data);
	TAP_IS_INT(rc, RS_OK,
	    "txn events: RS_TXN_MAX_EVENTS events can be built before the run");
	TAP_IS_INT(rs_txn_event(&t, "test.before", NULL, data), RS_ERR_RANGE,
	    "txn events: one more is RS_ERR_RANGE");
	TAP_IS_INT(t.nev, RS_TXN_MAX_EVENTS,
	    "txn events: the refused event is not counted");
	t.nev--;
	TAP_IS_INT(rs_txn_event(&t, "test.before", NULL, NULL), RS_ERR_INVAL,
	    "txn events: an event without data is RS_ERR_INVAL");
	TAP_IS_INT(t.nev, RS_TXN_MAX_EVENTS - 1,
	    "txn events: and takes no slot");
	TAP_SETUP(rs_txn_event(&t, "test.before", NULL, data) == RS_OK);
	chg_init(&c, NULL, data);
	c.events = 0;
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn events: events built before the run are committed by it");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM events WHERE "
	    "org_id = ?1 AND type = 'test.before'", org), RS_TXN_MAX_EVENTS,
	    "txn events: all of them are written");
	TAP_IS_INT(fixture_query_int(db, "SELECT max(seq) - min(seq) FROM "
	    "events WHERE org_id = ?1", org), RS_TXN_MAX_EVENTS - 1,
	    "txn events: numbered one after another");
	json_object_put(data);
	rs_db_close(db);
}

static void
test_txn_events_max_in_change(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(12);
	char			 org[RS_ID_MAX];
	int64_t			 e0;

	db = fixture_db_org(dir, &ndb, org);
	e0 = events(db);
	chg_init(&c, NULL, data);
	c.events = RS_TXN_MAX_EVENTS + 1;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "txn events: a change that builds one too many fails");
	TAP_IS_INT(t.err, RS_ERR_RANGE, "txn events: with RS_ERR_RANGE");
	TAP_IS_INT(events(db), e0, "txn events: and none of them is written");
	json_object_put(data);
	rs_db_close(db);
}

/* A second connection to the newest database. */
static struct rs_db *
db_second(void)
{
	struct rs_db	*db2;

	db2 = fixture_db_again(dir, ndb);
	return db2;
}

static void
test_txn_busy_queue(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db, *db2;
	char			 org[RS_ID_MAX];
	int64_t			 u0;

	db = fixture_db_org(dir, &ndb, org);
	db2 = db_second();
	/* db2 holds the writers' queue and SQLite's write lock. */
	TAP_SETUP(rs_db_begin(db2) == RS_OK);
	rs_db_set_polling(db);
	db->busy_limit_ms = BUSY_MS;
	u0 = users(db);
	chg_init(&c, "max@example.com", NULL);
	c.events = 0;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_BUSY,
	    "txn busy: another writer holding the lock makes it busy");
	TAP_IS_INT(t.err, RS_ERR_BUSY, "txn busy: t.err is RS_ERR_BUSY");
	TAP_IS_INT(c.calls, 0, "txn busy: the change is not called");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn busy: no transaction or queue is left held");
	rs_db_rollback(db2);
	TAP_IS_INT(users(db), u0, "txn busy: nothing is written");
	chg_init(&c, "max@example.com", NULL);
	c.events = 0;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn busy: once the other writer is gone it commits");
	rs_db_close(db2);
	rs_db_close(db);
}

static void
test_txn_busy_sqlite(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db, *db2;
	char			 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	db2 = db_second();
	/* SQLite's write lock only, outside the writers' queue. */
	TAP_SETUP(rs_db_exec(db2, "BEGIN IMMEDIATE") == RS_OK);
	db->busy_limit_ms = BUSY_MS;
	chg_init(&c, "ned@example.com", NULL);
	c.events = 0;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_BUSY,
	    "txn busy: SQLite's write lock held elsewhere makes it busy");
	TAP_IS_INT(t.err, RS_ERR_BUSY,
	    "txn busy: SQLite's lock: t.err is RS_ERR_BUSY");
	TAP_IS_INT(c.calls, 0, "txn busy: SQLite's lock: no change called");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn busy: SQLite's lock: the writers' queue is given back");
	TAP_SETUP(rs_db_exec(db2, "ROLLBACK") == RS_OK);
	chg_init(&c, "ned@example.com", NULL);
	c.events = 0;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn busy: SQLite's lock: commits once it is free");
	rs_db_close(db2);
	rs_db_close(db);
}

/* A change whose store says only "it failed" (a count of -1, say). */
static enum rs_txn_do
change_vague(struct rs_txn *t, void *arg)
{
	int	*calls = arg;

	(*calls)++;
	if (rs_store_orgs_exists(t->db, t->org) != RS_OK) {
		t->err = RS_ERR_DB;
		return RS_TXN_FAILED;
	}
	return RS_TXN_DECLINE;
}

/*
 * Another writer of the org holds its turn past the busy timeout: the
 * change is busy (503), on both backends, whether the wait shows at the
 * begin (SQLite) or at the transaction's first statement (PostgreSQL:
 * the idempotency key's look-up, or a store that only says "failed"),
 * never an error (500).
 */
static void
test_txn_busy_turn(void)
{
	struct rs_idem		 id;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db, *db2;
	char			 org[RS_ID_MAX];
	int			 calls = 0;

	db = fixture_db_org(dir, &ndb, org);
	db2 = db_second();
	TAP_SETUP(rs_db_begin_org(db2, org) == RS_OK &&
	    rs_store_orgs_exists(db2, org) == RS_OK);
	rs_db_set_polling(db);
	db->busy_limit_ms = BUSY_MS;
	idem_set(&id, "key-busy", 0x33);
	chg_init(&c, "ida@example.com", NULL);
	c.events = 0;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.idem = &id;
	answer_set(&t);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_BUSY,
	    "txn busy turn: a keyed change is busy, not an error");
	TAP_IS_INT(t.err, RS_ERR_BUSY, "txn busy turn: ... t.err says busy");
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change_vague, &calls), RS_TXN_BUSY,
	    "txn busy turn: a change whose store only says it failed is "
	    "busy too");
	TAP_IS_INT(rs_db_in_tx(db), 0, "txn busy turn: nothing left open");
	rs_db_rollback(db2);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change_vague, &calls), RS_TXN_DECLINED,
	    "txn busy turn: once the turn is free the change runs");
	rs_db_close(db2);
	rs_db_close(db);
}

/* An org id too long for the transaction is refused, not cut short. */
static void
test_txn_org_too_long(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], longorg[RS_ID_MAX + 8];

	db = fixture_db_org(dir, &ndb, org);
	memset(longorg, 'o', sizeof(longorg) - 1);
	longorg[sizeof(longorg) - 1] = '\0';
	chg_init(&c, NULL, NULL);
	rs_txn_init(&t, db, &arena, longorg, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "txn org: an org id too long to keep is RS_TXN_ERROR");
	TAP_OK(c.calls == 0 && t.err == RS_ERR_RANGE,
	    "txn org: the change never ran, and t.err says why");
	rs_db_close(db);
}

/* A committed change appends exactly one entry, with its facts. */
static void
test_txn_audit_one(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int64_t			 a0;

	db = fixture_db_org(dir, &ndb, org);
	a0 = audits(db);
	chg_init(&c, "oli@example.com", NULL);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.audit.request_id = "req_1";
	t.audit.ip = "203.0.113.9";
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn audit: a change with its action commits");
	TAP_IS_INT(audits(db), a0 + 1,
	    "txn audit: exactly one entry is appended");
	TAP_IS_STR(query_text(db, "SELECT actor_type || ' ' || actor_id || "
	    "' ' || action || ' ' || target || ' ' || request_id || ' ' || ip "
	    "|| ' ' || detail || ' ' || at FROM audit WHERE org_id = ?1 "
	    "ORDER BY seq DESC LIMIT 1", org), rs_arena_printf(&arena,
	    "user usr_test test.change rec_1 req_1 203.0.113.9 "
	    "{\"fields\":\"title\"} %lld", (long long)NOW_MS),
	    "txn audit: the entry holds the change's facts, detail canonical");
	TAP_IS_INT(fixture_query_int(db, "SELECT max(n) FROM audit WHERE "
	    "org_id = ?1", org), 2,
	    "txn audit: it follows the org's org.create entry: seq 2");
	TAP_OK(t.audit.detail == NULL,
	    "txn audit: the detail is released after the commit");
	rs_db_close(db);
}

/* A change that would commit without an action fails and changes nothing. */
static void
test_txn_audit_no_action(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db;
	struct json_object	*data = data_new(13);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, n0, a0;

	db = fixture_db_org(dir, &ndb, org);
	u0 = users(db);
	e0 = events(db);
	n0 = counters(db, org);
	a0 = audits(db);
	chg_init(&c, "pam@example.com", data);
	c.number = 1;
	c.action = NULL;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "txn audit: a commit without an action is an error");
	TAP_IS_INT(t.err, RS_ERR_INVAL, "txn audit: RS_ERR_INVAL");
	TAP_OK(users(db) == u0 && events(db) == e0 &&
	    counters(db, org) == n0 && audits(db) == a0,
	    "txn audit: without an action nothing is written or numbered");
	TAP_OK(db->in_tx == 0 && db->wlock_held == 0,
	    "txn audit: the transaction and the writers' queue are left");
	TAP_OK(t.audit.detail == NULL,
	    "txn audit: the detail is released after the failure");
	json_object_put(data);
	rs_db_close(db);
}


/*
 * A nest (db.h): one outer write transaction, each change in a savepoint
 * of it. A change that commits is kept, one that fails leaves nothing
 * (row, events, numbers, audit entry, key), a key kept by one is seen by
 * the next, nothing is visible to another connection until the whole
 * commits, and a rolled-back nest leaves nothing at all.
 */
static void
test_txn_nest(void)
{
	struct rs_idem		 ka, kb;
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db, *db2;
	struct json_object	*data = data_new(3);
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, a0, i0, n1, e1, a1;

	db = fixture_db_org(dir, &ndb, org);
	db2 = fixture_db_again(dir, ndb);
	u0 = users(db);
	e0 = events(db);
	a0 = audits(db);
	i0 = idem_rows(db);
	TAP_IS_INT(rs_db_nest_begin(db, NULL), RS_OK, "txn nest: begin");
	TAP_IS_INT(rs_db_nest_begin(db, NULL), RS_ERR_STATE, "txn nest: not twice");
	/* A: commits, with a key. */
	chg_init(&c, "nest-a@example.com", data);
	c.number = 1;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	idem_set(&ka, "nest-key", 7);
	t.idem = &ka;
	answer_set(&t);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE, "txn nest: a "
	    "change that commits is done");
	/* SQLite's writers' queue; PostgreSQL's org lock goes with the
	 * transaction, no file. */
	TAP_OK(db->in_tx == 1 && db->nest == 1 && db->depth == 0 &&
	    db->wlock_held == !rs_db_pg(db), "txn nest: its savepoint "
	    "released, the "
	    "outer transaction and the lock kept");
	n1 = counters(db, org);
	e1 = events(db);
	a1 = audits(db);
	TAP_OK(users(db) == u0 + 1 && e1 == e0 + 1 && a1 == a0 + 1 &&
	    idem_rows(db) == i0 + 1, "txn nest: its row, event, audit entry "
	    "and key are there");
	/* B: writes a row, events and numbers, then fails. */
	chg_init(&c, "nest-b@example.com", data);
	c.number = 1;
	c.say = RS_TXN_FAILED;
	c.err = RS_ERR_INVAL;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	idem_set(&kb, "nest-key-b", 8);
	t.idem = &kb;
	answer_set(&t);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR, "txn nest: a "
	    "change that fails is an error");
	TAP_OK(users(db) == u0 + 1 && events(db) == e1 && audits(db) == a1 &&
	    counters(db, org) == n1 && idem_rows(db) == i0 + 1,
	    "txn nest: it leaves nothing: no row, event, number, audit entry "
	    "or key");
	TAP_OK(db->in_tx == 1 && db->nest == 1 && db->depth == 0,
	    "txn nest: and the outer transaction goes on");
	/* C: A's key again, the same request: a replay. */
	chg_init(&c, "nest-c@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.idem = &ka;
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_REPLAY, "txn nest: a "
	    "key kept by an earlier change replays");
	TAP_IS_INT(c.calls, 0, "txn nest: ... without running the change");
	/* A read in the nest. */
	TAP_OK(rs_db_begin_read(db) == RS_OK && db->depth == 1 &&
	    rs_db_commit(db) == RS_OK && db->depth == 0, "txn nest: a read "
	    "transaction is a savepoint too");
	TAP_IS_INT(fixture_query_int(db2, "SELECT count(*) FROM users WHERE "
	    "email = ?1", "nest-a@example.com"), 0, "txn nest: another "
	    "connection sees nothing before the commit");
	TAP_IS_INT(rs_db_nest_commit(db), RS_OK, "txn nest: commit");
	TAP_OK(db->in_tx == 0 && db->nest == 0 && db->wlock_held == 0,
	    "txn nest: the transaction and the writers' queue are left");
	TAP_OK(fixture_query_int(db2, "SELECT count(*) FROM users WHERE "
	    "email = ?1", "nest-a@example.com") == 1 &&
	    fixture_query_int(db2, "SELECT count(*) FROM users WHERE "
	    "email = ?1", "nest-b@example.com") == 0 &&
	    fixture_query_int(db2, "SELECT count(*) FROM audit", NULL) ==
	    a0 + 1, "txn nest: committed: A's row and entry, nothing of B");
	/* A nest rolled back (all or nothing): nothing of its changes. */
	u0 = users(db);
	a0 = audits(db);
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	chg_init(&c, "nest-d@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_SETUP(rs_txn_run(&t, change, &c) == RS_TXN_DONE);
	rs_db_nest_rollback(db);
	TAP_OK(users(db) == u0 && audits(db) == a0 && db->in_tx == 0 &&
	    db->wlock_held == 0, "txn nest: rolled back, even its committed "
	    "changes leave nothing");
	/* Only rs_db_nest_commit() ends a nest. */
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_ERR_STATE, "txn nest: a commit "
	    "without a savepoint is refused ...");
	TAP_OK(db->in_tx == 0 && db->nest == 0 && db->wlock_held == 0,
	    "txn nest: ... and the whole is rolled back");
	json_object_put(data);
	rs_db_close(db2);
	rs_db_close(db);
}

/* How many files the process has open (/proc/self/fd, its own listing's
 * descriptor included): a sub-journal SQLite moved to a temporary file
 * is one more while the transaction lasts. */
static int
open_files(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	TAP_SETUP((d = opendir("/proc/self/fd")) != NULL);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Items in a nest, each changing ~80 KiB of pages (20 rows of 4000
 * bytes, one page each): below the in-memory sub-journal's limit one
 * at a time, far above it together. Opens level (a savepoint, or the
 * nest's own level when own), runs the items in savepoints of it, and
 * answers the files open at the end minus those open before.
 */
static int
nest_items_files(struct rs_db *db, int own)
{
	int	 before, after, i;

	before = open_files();
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	if (own)
		rs_db_nest_own(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	for (i = 0; i < 10; i++) {
		TAP_SETUP(rs_db_begin(db) == RS_OK);
		TAP_SETUP(rs_db_exec(db, "UPDATE pages SET v = "
		    "printf('%.4000c', char(97 + abs(random()) % 26))") ==
		    RS_OK);
		TAP_SETUP(rs_db_commit(db) == RS_OK);
	}
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	after = open_files();
	TAP_SETUP(rs_db_nest_commit(db) == RS_OK);
	return after - before;
}

/*
 * rs_db_nest_own (db.h): the nest's own level is no savepoint. Its
 * commit keeps the nest open for rs_db_nest_commit(), a savepoint in it
 * undoes only itself, its rollback undoes the whole nest and lets go of
 * the lock. And the reason for it: with a savepoint held open around
 * every item SQLite kept each item's pages in its sub-journal to the
 * end, which outgrew memory and became a temporary file written page by
 * page (a batch of 100 creates spent most of its time there); with the
 * own level each item's journal is dropped at its release.
 */
static void
test_txn_nest_own(void)
{
	struct rs_txn		 t;
	struct chg		 c;
	struct rs_db		*db, *db2;
	struct json_object	*data = data_new(4);
	char			 org[RS_ID_MAX];
	int64_t			 u0;

	db = fixture_db_org(dir, &ndb, org);
	db2 = fixture_db_again(dir, ndb);
	u0 = users(db);
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	rs_db_nest_own(db);
	TAP_OK(rs_db_begin(db) == RS_OK && rs_db_nest_depth(db) == 1,
	    "nest own: its level is the first");
	if (!rs_db_pg(db))
		TAP_OK(sqlite3_exec(db->h, "RELEASE rs_nest", NULL, NULL,
		    NULL) != SQLITE_OK, "nest own: ... and no savepoint");
	else
		tap_skip(1, "SQLite's savepoints");
	chg_init(&c, "own-a@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "nest own: a change in it commits");
	chg_init(&c, "own-b@example.com", data);
	c.say = RS_TXN_FAILED;
	c.err = RS_ERR_INVAL;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_ERROR,
	    "nest own: a change in it fails ...");
	TAP_OK(users(db) == u0 + 1 && rs_db_nest_depth(db) == 1,
	    "nest own: ... undoing itself only");
	TAP_OK(rs_db_commit(db) == RS_OK && rs_db_nest_depth(db) == 0 &&
	    db->in_tx == 1, "nest own: its commit leaves the nest open");
	TAP_IS_INT(fixture_query_int(db2, "SELECT count(*) FROM users WHERE "
	    "email = ?1", "own-a@example.com"), 0, "nest own: ... nothing "
	    "committed yet");
	TAP_IS_INT(rs_db_nest_commit(db), RS_OK, "nest own: the nest commits");
	TAP_OK(fixture_query_int(db2, "SELECT count(*) FROM users WHERE "
	    "email = ?1", "own-a@example.com") == 1 &&
	    fixture_query_int(db2, "SELECT count(*) FROM users WHERE "
	    "email = ?1", "own-b@example.com") == 0,
	    "nest own: committed: A, nothing of B");
	/* Its rollback is the nest's. */
	u0 = users(db);
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	rs_db_nest_own(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	chg_init(&c, "own-c@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_SETUP(rs_txn_run(&t, change, &c) == RS_TXN_DONE);
	rs_db_rollback(db);
	TAP_OK(rs_db_nest_depth(db) == -1 && db->in_tx == 0 &&
	    db->wlock_held == 0 && users(db) == u0, "nest own: its rollback "
	    "undoes the nest, its changes and lock");
	/* Not asked for: every level a savepoint, as before. */
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rs_db_rollback(db);
	TAP_IS_INT(rs_db_nest_depth(db), 0, "nest own: not asked for, the "
	    "first level is a savepoint");
	rs_db_nest_rollback(db);
	if (!rs_db_pg(db)) {
		TAP_SETUP(rs_db_exec(db, "CREATE TABLE pages (v TEXT)") ==
		    RS_OK);
		TAP_SETUP(rs_db_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 "
		    "UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
		    "INSERT INTO pages SELECT printf('%.4000c', 'a') "
		    "FROM n") == RS_OK);
		TAP_IS_INT(nest_items_files(db, 0), 1, "nest own: items under "
		    "a savepoint kept open: their journal went to a file");
		TAP_IS_INT(nest_items_files(db, 1), 0, "nest own: items under "
		    "the own level: each one's journal stays in memory");
	} else
		tap_skip(2, "SQLite's sub-journal");
	json_object_put(data);
	rs_db_close(db2);
	rs_db_close(db);
}

/* The rs_db_on_shared hook of test_txn_shared: counts, and notes whether
 * a transaction was still open when it ran. */
struct shared_seen {
	struct rs_db	*db;
	int		 calls;
	int		 in_tx;
};

static void
shared_hook(void *arg)
{
	struct shared_seen	*s = arg;

	s->calls++;
	if (s->db->in_tx || rs_db_in_tx(s->db))
		s->in_tx = 1;
}

/*
 * rs_db_note_shared (db.h): the hook runs once after the commit of a
 * transaction that noted a shared change, never for one rolled back,
 * at once for a statement outside a transaction, once at the end of a
 * nest; the stores that change a key's holder note it, the last-sync
 * bookkeeping does not.
 */
static void
test_txn_shared(void)
{
	struct shared_seen	 s;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	memset(&s, 0, sizeof(s));
	s.db = db;
	rs_db_on_shared(db, shared_hook, &s);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rs_db_note_shared(db);
	TAP_IS_INT(s.calls, 0, "shared: not told before the commit");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_OK(s.calls == 1 && s.in_tx == 0, "shared: told once, after the "
	    "commit ended the transaction");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(s.calls, 1, "shared: a commit that noted nothing tells "
	    "nothing");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rs_db_note_shared(db);
	rs_db_rollback(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(s.calls, 1, "shared: a note rolled back is forgotten");
	rs_db_note_shared(db);
	TAP_IS_INT(s.calls, 2, "shared: outside a transaction, told at once");
	/* A nest: told at its end, not at a savepoint's release. */
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rs_db_note_shared(db);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(s.calls, 2, "shared: a savepoint released tells nothing");
	TAP_SETUP(rs_db_nest_commit(db) == RS_OK);
	TAP_OK(s.calls == 3 && s.in_tx == 0, "shared: the nest's commit "
	    "tells, once");
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	rs_db_note_shared(db);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_nest_rollback(db);
	TAP_IS_INT(s.calls, 3, "shared: a nest rolled back tells nothing");
	/* The stores. */
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_set_rate(db, org, 7) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(s.calls, 4, "shared: an org's new rate is told");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_set_rate(db, "org_nobody", 7) ==
	    RS_ERR_NOTFOUND);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(s.calls, 4, "shared: a rate for no org tells nothing");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_users_touch(db, "usr_nobody", NOW_MS, 1) ==
	    RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(s.calls, 4, "shared: the last-sync bookkeeping is not");
	rs_db_close(db);
}

/*
 * A savepoint inside a nest whose journal outgrows memory (every page of
 * a 3 MiB table changed in one item): SQLite moves the journal to a
 * temporary file, copying what it held in one write. With a 1 MiB piece
 * that write failed (SQLITE_FULL: the unix VFS takes less than 128 KiB
 * at once) and SQLite rolled the whole transaction back; found by the
 * JavaScript client's end-to-end tests (large records in a batch).
 */
static void
test_txn_big_savepoint(void)
{
	struct rs_db	*db;
	char		 org[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org);
	TAP_SETUP(rs_db_exec(db, "CREATE TABLE big (v TEXT)") == RS_OK);
	TAP_SETUP(rs_db_exec(db, rs_db_pg(db) ? "INSERT INTO big SELECT "
	    "repeat('a', 1000) FROM generate_series(1, 3000)" :
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
	    "SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO big "
	    "SELECT printf('%.1000c', 'a') FROM n") == RS_OK);
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_db_exec(db, rs_db_pg(db) ?
	    "UPDATE big SET v = repeat('b', 1000)" :
	    "UPDATE big SET v = printf('%.1000c', 'b')"),
	    RS_OK, "big savepoint: an item changing 3 MiB of pages runs");
	TAP_IS_INT(rs_db_commit(db), RS_OK, "big savepoint: its release");
	TAP_IS_INT(rs_db_nest_commit(db), RS_OK, "big savepoint: the nest "
	    "commits");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM big WHERE "
	    "substr(v, 1, 1) = 'b'", NULL), 3000, "big savepoint: every row "
	    "changed");
	rs_db_close(db);
}

/*
 * A change that lost a race (a deadlock, a serialization failure: what
 * PostgreSQL makes RS_ERR_RETRY) runs again from the start, a few times,
 * each losing run leaving nothing; then it is busy (503). Inside a
 * batch's nest only the whole batch could run again: busy at once.
 */
static void
test_txn_retry(void)
{
	struct rs_db		*db;
	struct rs_txn		 t;
	struct chg		 c;
	struct json_object	*data = json_object_new_object();
	char			 org[RS_ID_MAX];
	int64_t			 u0, e0, a0;

	TAP_SETUP(data != NULL);
	db = fixture_db_org(dir, &ndb, org);
	u0 = users(db);
	e0 = events(db);
	a0 = audits(db);
	chg_init(&c, "race@example.com", data);
	c.number = 1;
	c.races = 2;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn retry: a change that lost two races commits on its third "
	    "run");
	TAP_IS_INT(c.calls, 3, "txn retry: the change ran three times");
	TAP_IS_INT(users(db), u0 + 1,
	    "txn retry: the lost runs' rows are gone, the last one's kept");
	TAP_IS_INT(events(db), e0 + 1, "txn retry: one event, not three");
	TAP_IS_INT(audits(db), a0 + 1, "txn retry: one audit entry");

	chg_init(&c, "lost@example.com", data);
	c.races = 1000;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_BUSY,
	    "txn retry: a change that always loses is busy");
	TAP_IS_INT(c.calls, RS_TXN_RUNS,
	    "txn retry: ... after RS_TXN_RUNS runs");
	TAP_IS_INT(t.err, RS_ERR_BUSY,
	    "txn retry: ... that says busy (503), not retry");
	TAP_IS_INT(users(db), u0 + 1, "txn retry: ... and wrote nothing");

	/* A batch: the nest's first item commits, its second loses two
	 * races; only the second's savepoint is undone, and it runs again
	 * inside the nest. */
	TAP_SETUP(rs_db_nest_begin(db, org) == RS_OK);
	chg_init(&c, "nest-1@example.com", data);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_SETUP(rs_txn_run(&t, change, &c) == RS_TXN_DONE);
	chg_init(&c, "nest-2@example.com", data);
	c.races = 2;
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_DONE,
	    "txn retry: inside a nest a lost race runs again, its savepoint "
	    "undone");
	TAP_IS_INT(c.calls, 3, "txn retry: ... three runs");
	TAP_IS_INT(rs_db_nest_depth(db), 0,
	    "txn retry: ... the nest stands where it stood");
	TAP_SETUP(rs_db_nest_commit(db) == RS_OK);
	TAP_IS_INT(users(db), u0 + 3,
	    "txn retry: ... the nest's earlier item and the run again kept");
	TAP_IS_INT(events(db), e0 + 3, "txn retry: ... one event each");
	TAP_IS_INT(audits(db), a0 + 3, "txn retry: ... one entry each");

	/* A change that must run once (a batch's own) is busy at once. */
	chg_init(&c, "nest-3@example.com", data);
	c.races = 1;
	TAP_SETUP(rs_db_nest_begin(db, org) == RS_OK);
	rs_txn_init(&t, db, &arena, org, NOW_MS);
	t.once = 1;
	TAP_IS_INT(rs_txn_run(&t, change, &c), RS_TXN_BUSY,
	    "txn retry: a change run once is not run again in a nest");
	TAP_IS_INT(c.calls, 1, "txn retry: ... the change ran once");
	TAP_IS_INT(t.err, RS_ERR_BUSY, "txn retry: ... busy");
	rs_db_nest_rollback(db);
	TAP_IS_INT(users(db), u0 + 3, "txn retry: ... nothing written");
	json_object_put(data);
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(109 + 18 + 11 + 4 + 19 + 5 + 13);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-txn") == 0);
	rs_arena_init(&arena);

	test_txn_commit();
	test_txn_decline();
	test_txn_failed();
	test_txn_failed_no_err();
	test_txn_idem_first();
	test_txn_idem_replay();
	test_txn_idem_reused();
	test_txn_idem_per_org();
	test_txn_idem_expired();
	test_txn_idem_no_answer();
	test_txn_idem_null_key();
	test_txn_number();
	test_txn_events_max();
	test_txn_org_too_long();
	test_txn_events_max_in_change();
	test_txn_busy_turn();
	if (fixture_pg() == NULL) {
		test_txn_busy_queue();
		test_txn_busy_sqlite();
	} else
		tap_skip(6 + 5, "the writers' queue and SQLite's lock are "
		    "SQLite's (PostgreSQL's org turns: test-db-pg)");
	test_txn_audit_one();
	test_txn_audit_no_action();
	test_txn_nest();
	test_txn_nest_own();
	test_txn_shared();
	test_txn_big_savepoint();
	test_txn_retry();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
