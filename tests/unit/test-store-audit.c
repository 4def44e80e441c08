/*
 * test-store-audit: the audit log's store (lib/store_audit.h) over a
 * real migrated database: the chain of appends per org (seq, prev_hash,
 * hash, rowid range), isolation between orgs, the list's filters and
 * paging, the triggers that refuse UPDATE and DELETE, two writers that
 * begin without naming the org appending at once, two workers indexing
 * one org at once, and the verifier (admin.h: rs_admin_audit_verify) on
 * a copy whose triggers were dropped and a row altered.
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

#include "limits.h"
#include "admin.h"
#include "arena.h"
#include "audit.h"
#include "db.h"
#include "id.h"
#include "store_audit.h"
#include "store_orgs.h"
#define FIXTURE_BOTH	/* store_audit_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */

static char		 dir[64];
static int		 ndb;
static struct rs_arena	 arena;

/* An org made by the store alone: no entry of its own. */
static void
org_bare(struct rs_db *db, char id[RS_ID_MAX])
{
	rs_id_new(id, RS_ID_MAX, "org_");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, id, "Bare", 120, NOW_MS) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
}

/* Appends one entry in its own transaction into *e; the append's error. */
static enum rs_err
append(struct rs_db *db, const char *org, const char *action,
    const char *actor, const char *target, struct rs_audit_entry *e)
{
	enum rs_err	 rc;

	memset(e, 0, sizeof(*e));
	e->at = NOW_MS;
	e->org_id = org;
	e->actor_type = "user";
	e->actor_id = actor;
	e->action = action;
	e->target = target;
	e->request_id = "req_1";
	e->ip = "203.0.113.9";
	e->detail = "{\"fields\":[\"title\"]}";
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	if ((rc = rs_store_audit_append(db, e)) == RS_OK)
		TAP_SETUP(rs_db_commit(db) == RS_OK);
	else
		rs_db_rollback(db);
	return rc;
}

static int64_t
org_num(struct rs_db *db, const char *org)
{
	return fixture_query_int(db, "SELECT num FROM orgs WHERE id = ?1", org);
}

static void
test_store_audit_chain(void)
{
	struct rs_audit_entry	 e1, e2, e3, chk;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int64_t			 num;

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, org);
	num = org_num(db, org);
	TAP_IS_INT(append(db, org, "record.create", "usr_a", "rec_1", &e1),
	    RS_OK, "store audit chain: the first entry is appended");
	TAP_IS_INT(e1.n, 1, "store audit chain: its seq is 1");
	TAP_IS_STR(e1.prev_hash, rs_audit_genesis,
	    "store audit chain: its prev_hash is 64 zeros");
	chk = e1;
	TAP_SETUP(rs_audit_seal(&chk) == RS_OK);
	TAP_IS_STR(e1.hash, chk.hash,
	    "store audit chain: its hash is its facts' (audit.h)");
	TAP_IS_INT(fixture_query_int(db, "SELECT seq FROM audit WHERE n = 1 "
	    "AND org_id = ?1", org), (num << RS_ORG_ROW_BITS) | 1,
	    "store audit chain: its rowid is num << 40 | 1");
	TAP_SETUP(append(db, org, "record.update", "usr_a", "rec_1", &e2) ==
	    RS_OK);
	TAP_SETUP(append(db, org, "record.delete", "usr_b", "rec_1", &e3) ==
	    RS_OK);
	TAP_OK(e2.n == 2 && e3.n == 3, "store audit chain: seq 2, 3");
	TAP_OK(strcmp(e2.prev_hash, e1.hash) == 0 &&
	    strcmp(e3.prev_hash, e2.hash) == 0,
	    "store audit chain: each prev_hash is the previous hash");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM audit WHERE "
	    "org_id = ?1 AND length(hash) = 64 AND hash = lower(hash)", org),
	    3, "store audit chain: hashes stored as lower-case hex");
	rs_db_close(db);
}

static void
test_store_audit_orgs(void)
{
	struct rs_audit_entry	 e;
	struct rs_db		*db;
	char			 a[RS_ID_MAX], b[RS_ID_MAX];

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, a);
	org_bare(db, b);
	TAP_SETUP(append(db, a, "policy.put", "usr_a", NULL, &e) == RS_OK);
	TAP_SETUP(append(db, a, "policy.put", "usr_a", NULL, &e) == RS_OK);
	TAP_SETUP(append(db, b, "policy.put", "usr_b", NULL, &e) == RS_OK);
	TAP_OK(e.n == 1 && strcmp(e.prev_hash, rs_audit_genesis) == 0,
	    "store audit orgs: another org's chain starts at 1 from zeros");
	TAP_SETUP(append(db, a, "policy.delete", "usr_a", NULL, &e) == RS_OK);
	TAP_IS_INT(e.n, 3, "store audit orgs: and the first org's goes on");
	TAP_IS_INT(append(db, "org_nobody", "policy.put", "usr_a", NULL, &e),
	    RS_ERR_NOTFOUND, "store audit orgs: an unknown org is NOTFOUND");
	TAP_IS_INT(append(db, a, NULL, "usr_a", NULL, &e), RS_ERR_INVAL,
	    "store audit: an entry without an action is RS_ERR_INVAL");
	TAP_IS_INT(append(db, a, "policy.put", NULL, NULL, &e), RS_ERR_INVAL,
	    "store audit: an entry without an actor is RS_ERR_INVAL");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM audit WHERE "
	    "org_id = ?1", a), 3, "store audit: refused entries leave no row");
	rs_db_close(db);
}

/* The seqs of a list, "1,2,3", in the arena. */
static const char *
seqs(struct rs_db *db, const char *org, const struct rs_store_audit_filter *f,
    size_t max)
{
	struct rs_store_audit_row	 rows[16];
	size_t				 n, i;
	char				*s = "";

	if (rs_store_audit_list(db, &arena, org, f, max, rows, &n) != RS_OK)
		return "error";
	for (i = 0; i < n; i++)
		s = rs_arena_printf(&arena, "%s%s%lld", s, i ? "," : "",
		    (long long)rows[i].e.n);
	return s;
}

static void
test_store_audit_list(void)
{
	struct rs_store_audit_filter	 f;
	struct rs_store_audit_row	 rows[4];
	struct rs_audit_entry		 e;
	struct rs_db			*db;
	char				 a[RS_ID_MAX], b[RS_ID_MAX];
	size_t				 n;

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, a);
	org_bare(db, b);
	/* a: 1 create rec_1 ann, 2 update rec_1 bob, 3 create rec_2 ann,
	 * 4 policy.put ann (no target), 5 update rec_2 bob */
	TAP_SETUP(append(db, a, "record.create", "usr_ann", "rec_1", &e) == 0);
	TAP_SETUP(append(db, a, "record.update", "usr_bob", "rec_1", &e) == 0);
	TAP_SETUP(append(db, b, "record.create", "usr_ann", "rec_1", &e) == 0);
	TAP_SETUP(append(db, a, "record.create", "usr_ann", "rec_2", &e) == 0);
	TAP_SETUP(append(db, a, "policy.put", "usr_ann", NULL, &e) == 0);
	TAP_SETUP(append(db, a, "record.update", "usr_bob", "rec_2", &e) == 0);
	memset(&f, 0, sizeof(f));
	TAP_IS_STR(seqs(db, a, &f, 16), "1,2,3,4,5",
	    "store audit list: the org's entries, oldest first");
	TAP_IS_STR(seqs(db, b, &f, 16), "1",
	    "store audit list: another org's are not seen");
	f.action = "record.create";
	TAP_IS_STR(seqs(db, a, &f, 16), "1,3", "store audit list: by action");
	f.action = NULL;
	f.actor = "usr_bob";
	TAP_IS_STR(seqs(db, a, &f, 16), "2,5", "store audit list: by actor");
	f.actor = NULL;
	f.target = "rec_1";
	TAP_IS_STR(seqs(db, a, &f, 16), "1,2", "store audit list: by target");
	f.action = "record.update";
	TAP_IS_STR(seqs(db, a, &f, 16), "2",
	    "store audit list: target and action together");
	f.target = NULL;
	f.actor = "usr_bob";
	f.after_n = 2;
	TAP_IS_STR(seqs(db, a, &f, 16), "5",
	    "store audit list: actor, action and after_seq together");
	memset(&f, 0, sizeof(f));
	f.after_n = 1;
	TAP_IS_STR(seqs(db, a, &f, 2), "2,3",
	    "store audit list: after_seq and max make a page");
	f.after_n = 3;
	TAP_IS_STR(seqs(db, a, &f, 2), "4,5", "store audit list: the next page");
	f.after_n = 5;
	TAP_IS_STR(seqs(db, a, &f, 2), "", "store audit list: past the end");
	memset(&f, 0, sizeof(f));
	f.after_n = 3;
	TAP_SETUP(rs_store_audit_list(db, &arena, a, &f, 4, rows, &n) ==
	    RS_OK && n == 2);
	TAP_OK(rows[0].e.target == NULL && rows[0].e.ip != NULL &&
	    strcmp(rows[0].e.ip, "203.0.113.9") == 0 &&
	    strcmp(rows[0].e.detail, "{\"fields\":[\"title\"]}") == 0 &&
	    strcmp(rows[0].e.action, "policy.put") == 0 &&
	    rows[0].e.at == NOW_MS,
	    "store audit list: a row's facts as appended (no target: NULL)");
	rs_db_close(db);
}

/*
 * The plan of the target lookup q, its lines joined by "|", in the
 * arena: SQLite's EXPLAIN QUERY PLAN details, or PostgreSQL's EXPLAIN.
 */
static const char *
plan_of(struct rs_db *db, const char *q)
{
	sqlite3_stmt	*st;
	char		*plan = NULL;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db)) {
		struct pg_result	*r;
		int			 i;

		TAP_SETUP(rs_pg_once(db, rs_arena_printf(&arena,
		    "EXPLAIN (COSTS OFF) %s", q), NULL, &r) == RS_OK);
		for (i = 0; i < rs_pg_rows(r); i++)
			plan = rs_arena_printf(&arena, "%s|%s",
			    plan ? plan : "", rs_pg_str(r, i, 0));
		rs_pg_clear(r);
		return plan;
	}
#endif
	TAP_SETUP(sqlite3_prepare_v2(db->h, rs_arena_printf(&arena,
	    "EXPLAIN QUERY PLAN %s", q), -1, &st, NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		plan = rs_arena_printf(&arena, "%s|%s", plan ? plan : "",
		    (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return plan;
}

static void
test_store_audit_plan(void)
{
	struct rs_db	*db;
	const char	*plan;
	int		 pg;

	db = fixture_db_open(dir, &ndb, 1);
	pg = rs_db_pg(db);
	plan = plan_of(db, "SELECT seq FROM audit_targets "
	    "WHERE target = 'rec_1' AND seq > 5 AND seq < 100 ORDER BY seq");
	/* The same plan in each backend's words: the index read within
	 * the range (seq named at the index's end on PostgreSQL), no sort. */
	if (!TAP_OK(plan != NULL && strstr(plan, "Sort") == NULL &&
	    strstr(plan, "TEMP B-TREE") == NULL && strstr(plan, pg ?
	    "Index Only Scan using audit_targets_target on audit_targets|"
	    "  Index Cond: ((target = 'rec_1'::text) AND (seq > 5) AND "
	    "(seq < 100))" :
	    "USING COVERING INDEX audit_targets_target "
	    "(target=? AND rowid>? AND rowid<?)") != NULL,
	    "store audit plan: the target lookup reads its index within the "
	    "org's range, no sort"))
		tap_diag("plan: %s", plan != NULL ? plan : "(none)");
	/* An append writes one B-tree: the log's own, nothing else (on
	 * PostgreSQL the key is an index of its own, audit_pkey). */
	TAP_IS_INT(fixture_query_int(db, pg ?
	    "SELECT count(*) FROM pg_indexes WHERE tablename = ?1 "
	    "AND indexname <> 'audit_pkey'" :
	    "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND tbl_name = ?1", "audit"), 0,
	    "store audit plan: the log itself has no index to keep up");
	rs_db_close(db);
}

/* Org number num's target lookup brought up to date, max at a time. */
static size_t
index_org(struct rs_db *db, int64_t num, size_t max)
{
	size_t	 n = 0;

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_audit_index(db, num, max, &n) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	return n;
}

static void
test_store_audit_index(void)
{
	struct rs_store_audit_filter	 f;
	struct rs_audit_entry		 e;
	struct rs_db			*db;
	char				 a[RS_ID_MAX], b[RS_ID_MAX];
	int64_t				 na, nb, num;

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, a);
	org_bare(db, b);
	na = org_num(db, a);
	nb = org_num(db, b);
	/* a: 1 rec_1, 2 rec_1, 3 none, 4 rec_2, 5 rec_2, 6 rec_1; b: 1 rec_1 */
	TAP_SETUP(append(db, a, "record.create", "usr_ann", "rec_1", &e) == 0);
	TAP_SETUP(append(db, a, "record.update", "usr_bob", "rec_1", &e) == 0);
	TAP_SETUP(append(db, a, "policy.put", "usr_ann", NULL, &e) == 0);
	TAP_SETUP(append(db, a, "record.create", "usr_ann", "rec_2", &e) == 0);
	TAP_SETUP(append(db, a, "record.update", "usr_ann", "rec_2", &e) == 0);
	TAP_SETUP(append(db, a, "record.update", "usr_bob", "rec_1", &e) == 0);
	TAP_SETUP(append(db, b, "record.create", "usr_ann", "rec_1", &e) == 0);
	memset(&f, 0, sizeof(f));
	f.target = "rec_1";
	TAP_IS_STR(seqs(db, a, &f, 16), "1,2,6",
	    "store audit index: nothing indexed, the log itself is read");
	TAP_IS_INT(index_org(db, na, 3), 3,
	    "store audit index: a batch of an org's first entries");
	TAP_IS_STR(seqs(db, a, &f, 16), "1,2,6",
	    "store audit index: half indexed, the lookup and the rest agree");
	f.after_n = 1;
	TAP_IS_STR(seqs(db, a, &f, 16), "2,6",
	    "store audit index: after_seq inside the indexed part");
	f.after_n = 4;
	TAP_IS_STR(seqs(db, a, &f, 16), "6",
	    "store audit index: after_seq past the indexed part");
	f.after_n = 0;
	TAP_IS_STR(seqs(db, a, &f, 1), "1", "store audit index: max holds");
	f.action = "record.update";
	TAP_IS_STR(seqs(db, a, &f, 16), "2,6",
	    "store audit index: other filters apply on both parts");
	f.action = NULL;
	TAP_IS_INT(index_org(db, na, 3), 3, "store audit index: the next "
	    "batch goes on from the last row");
	TAP_IS_INT(index_org(db, na, 3), 0, "store audit index: then nothing "
	    "is left (an entry with no target counts too)");
	TAP_IS_STR(seqs(db, a, &f, 16), "1,2,6",
	    "store audit index: all indexed, the same answer");
	TAP_SETUP(append(db, a, "record.delete", "usr_ann", "rec_1", &e) == 0);
	TAP_IS_STR(seqs(db, a, &f, 16), "1,2,6,7",
	    "store audit index: an entry appended since is found too");
	TAP_IS_STR(seqs(db, b, &f, 16), "1",
	    "store audit index: another org's entries, not indexed, found");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM audit_targets "
	    "WHERE seq >> 40 = (SELECT num FROM orgs WHERE id = ?1)", b), 0,
	    "store audit index: and indexing one org leaves another alone");
	TAP_IS_INT(rs_store_audit_org_next(db, 0, &num) == RS_OK &&
	    num == (na < nb ? na : nb), 1, "store audit index: the first org");
	TAP_IS_INT(rs_store_audit_org_next(db, na > nb ? na : nb, &num),
	    RS_ERR_NOTFOUND, "store audit index: none after the last");
	rs_db_close(db);
}

static void
test_store_audit_triggers(void)
{
	struct rs_audit_entry	 e;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, org);
	TAP_SETUP(append(db, org, "record.create", "usr_a", "rec_1", &e) ==
	    RS_OK);
	TAP_OK(rs_db_exec(db, "UPDATE audit SET action = 'record.delete'") !=
	    RS_OK, "store audit: the database refuses an UPDATE");
	TAP_OK(rs_db_exec(db, "DELETE FROM audit") != RS_OK,
	    "store audit: the database refuses a DELETE");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM audit WHERE "
	    "action = 'record.create' AND hash = ?1", e.hash), 1,
	    "store audit: the entry is as it was");
	rs_db_close(db);
}

/*
 * Where the n-th database of this program is (its path, or its
 * conninfo), into buf: read in the process that made it (the name of a
 * PostgreSQL one holds its pid), opened in another.
 */
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

/*
 * Appends e (its facts; n and the hashes are set) in a transaction of
 * its own, begun without naming the org, as the CLI begins. When tell is
 * not -1, writes to it once the entry is in, then holds the transaction
 * hold_ms before the commit.
 */
static enum rs_err
append_held(struct rs_db *db, struct rs_audit_entry *e, int tell,
    int hold_ms)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_audit_append(db, e)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	if (tell != -1) {
		if (write(tell, "x", 1) != 1)
			tap_diag("cannot tell the other writer");
		usleep(hold_ms * 1000);
	}
	return rs_db_commit(db);
}

/*
 * Two writers in two processes that begin without naming the org (as
 * the CLI does; on PostgreSQL they hold no org lock) append to one
 * chain at once: the second reads the head only once the first has
 * committed, so the chain goes on from it and never forks. Each opens
 * its own connection after the fork (a connection never crosses one).
 */
static void
test_store_audit_race(void)
{
	struct rs_audit_entry	 e;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], where[640], c;
	enum rs_err		 rc;
	pid_t			 pid;
	int			 status, fd[2];

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, org);
	rs_db_close(db);
	db_where(ndb, where, sizeof(where));
	memset(&e, 0, sizeof(e));
	e.at = NOW_MS;
	e.org_id = org;
	e.actor_type = "system";
	e.actor_id = "relaysync-admin";
	e.action = "org.rate_limit";
	e.target = org;
	e.detail = "{}";
	TAP_SETUP(pipe(fd) == 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		/* Once the parent holds its entry: waits, then appends. */
		close(fd[1]);
		if (read(fd[0], &c, 1) != 1 ||
		    rs_db_open(where, 0, 0, &db) != RS_OK)
			_exit(99);
		rc = append_held(db, &e, -1, 0);
		rs_db_close(db);
		_exit(rc == RS_OK ? (int)e.n : 100 + (int)rc);
	}
	TAP_SETUP(pid > 0);
	close(fd[0]);
	TAP_SETUP(rs_db_open(where, 0, 0, &db) == RS_OK);
	rc = append_held(db, &e, fd[1], 300);
	close(fd[1]);
	TAP_SETUP(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	TAP_OK(rc == RS_OK && e.n == 1 && WEXITSTATUS(status) == 2,
	    "store audit race: the second writer appends entry 2, after the "
	    "first's commit");
	if (WEXITSTATUS(status) != 2)
		tap_diag("first: %s, n %lld; second: exit %d", rs_strerror(rc),
		    (long long)e.n, WEXITSTATUS(status));
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM audit a "
	    "JOIN audit b ON b.org_id = a.org_id AND b.n = a.n + 1 "
	    "AND b.prev_hash = a.hash WHERE a.org_id = ?1", org), 1,
	    "store audit race: entry 2 links to entry 1: one chain");
	rs_db_close(db);
}

/*
 * Two workers bring one org's target lookup up to date at once: the
 * second goes on from the first's last row, once it has committed,
 * so no entry is indexed twice or left out.
 */
static void
test_store_audit_index_race(void)
{
	struct rs_audit_entry	 e;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], where[640], c = 'x';
	int64_t			 num;
	size_t			 n = 0;
	pid_t			 pid;
	int			 i, status, fd[2];

	db = fixture_db_open(dir, &ndb, 1);
	org_bare(db, org);
	num = org_num(db, org);
	for (i = 0; i < 6; i++)
		TAP_SETUP(append(db, org, "record.update", "usr_a", "rec_1",
		    &e) == RS_OK);
	rs_db_close(db);
	db_where(ndb, where, sizeof(where));
	TAP_SETUP(pipe(fd) == 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fd[1]);
		if (read(fd[0], &c, 1) != 1 ||
		    rs_db_open(where, 0, 0, &db) != RS_OK ||
		    rs_db_begin(db) != RS_OK ||
		    rs_store_audit_index(db, num, 3, &n) != RS_OK ||
		    rs_db_commit(db) != RS_OK)
			_exit(99);
		rs_db_close(db);
		_exit((int)n);
	}
	TAP_SETUP(pid > 0);
	close(fd[0]);
	TAP_SETUP(rs_db_open(where, 0, 0, &db) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_audit_index(db, num, 3, &n) == RS_OK && n == 3);
	TAP_SETUP(write(fd[1], &c, 1) == 1);
	usleep(300 * 1000);	/* the other is waiting by now */
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	close(fd[1]);
	TAP_SETUP(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	TAP_IS_INT(WEXITSTATUS(status), 3, "store audit index race: the "
	    "second worker indexes the next three");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(DISTINCT t.seq) FROM "
	    "audit_targets t JOIN audit a ON a.seq = t.seq "
	    "WHERE a.org_id = ?1", org), 6,
	    "store audit index race: each entry indexed once, none left out");
	rs_db_close(db);
}

/* What verify reported, one org. */
struct seen {
	int			 calls;
	struct rs_admin_audit_result r[4];
};

static int
seen_fn(const struct rs_admin_audit_result *r, void *arg)
{
	struct seen	*s = arg;

	if (s->calls < 4)
		s->r[s->calls] = *r;
	s->calls++;
	return 0;
}

static void
test_store_audit_verify(void)
{
	struct rs_audit_entry	 e;
	struct seen		 s;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	int			 i;

	/* Orgs made the CLI's way have their org.create entry: seq 1. */
	db = fixture_db_org(dir, &ndb, org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, other) == RS_OK);
	for (i = 0; i < 5; i++)
		TAP_SETUP(append(db, org, "record.create", "usr_a", "rec_1",
		    &e) == RS_OK);
	memset(&s, 0, sizeof(s));
	TAP_IS_INT(rs_admin_audit_verify(db, NULL, seen_fn, &s), RS_OK,
	    "audit verify: runs over every org");
	TAP_OK(s.calls == 2 && strcmp(s.r[0].org, org) == 0 &&
	    s.r[0].entries == 6 && s.r[0].broken == 0 &&
	    s.r[1].entries == 1 && s.r[1].broken == 0,
	    "audit verify: both chains intact, with their counts");
	memset(&s, 0, sizeof(s));
	TAP_IS_INT(rs_admin_audit_verify(db, "org_nobody", seen_fn, &s),
	    RS_ERR_NOTFOUND, "audit verify: an unknown --org is NOTFOUND");

	/* The tamper: on this copy the triggers are dropped. */
	TAP_SETUP(rs_db_exec(db, rs_db_pg(db) ?
	    "DROP TRIGGER audit_no_update ON audit" :
	    "DROP TRIGGER audit_no_update") == RS_OK);
	TAP_SETUP(rs_db_exec(db, rs_db_pg(db) ?
	    "DROP TRIGGER audit_no_delete ON audit" :
	    "DROP TRIGGER audit_no_delete") == RS_OK);
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "UPDATE audit SET "
	    "target = 'rec_9' WHERE org_id = '%s' AND n = 4", org)) == RS_OK);
	memset(&s, 0, sizeof(s));
	TAP_IS_INT(rs_admin_audit_verify(db, org, seen_fn, &s), RS_OK,
	    "audit verify: a tampered chain is verified");
	TAP_OK(s.calls == 1 && s.r[0].broken == 4 && s.r[0].entries == 3,
	    "audit verify: an altered fact breaks that entry, seq 4");
	TAP_HAS_STR(s.r[0].why, "hash", "audit verify: says its hash fails");

	/* Rehash it to hide the change: the next link breaks instead. */
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "UPDATE audit SET "
	    "target = 'rec_1' WHERE org_id = '%s' AND n = 4", org)) == RS_OK);
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "UPDATE audit SET "
	    "hash = '%s' WHERE org_id = '%s' AND n = 2",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    org)) == RS_OK);
	memset(&s, 0, sizeof(s));
	TAP_SETUP(rs_admin_audit_verify(db, org, seen_fn, &s) == RS_OK);
	TAP_OK(s.r[0].broken == 2,
	    "audit verify: a stored hash not its facts' breaks seq 2");
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "UPDATE audit SET "
	    "hash = prev_hash WHERE org_id = '%s' AND n = 2", org)) == RS_OK);

	/* Put the true hash of 2 back from 3's link, then delete 3. */
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "UPDATE audit SET "
	    "hash = (SELECT prev_hash FROM audit WHERE org_id = '%s' AND "
	    "n = 3) WHERE org_id = '%s' AND n = 2", org, org)) == RS_OK);
	memset(&s, 0, sizeof(s));
	TAP_SETUP(rs_admin_audit_verify(db, org, seen_fn, &s) == RS_OK);
	TAP_OK(s.r[0].broken == 0 && s.r[0].entries == 6,
	    "audit verify: restored, the chain is intact again");
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "DELETE FROM audit "
	    "WHERE org_id = '%s' AND n = 3", org)) == RS_OK);
	memset(&s, 0, sizeof(s));
	TAP_SETUP(rs_admin_audit_verify(db, org, seen_fn, &s) == RS_OK);
	TAP_OK(s.r[0].broken == 3 && s.r[0].entries == 2,
	    "audit verify: a removed entry breaks its seq, 3");
	TAP_HAS_STR(s.r[0].why, "missing", "audit verify: says it is missing");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(39 + 1 + 15 + 2 + 2);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-store-audit") == 0);
	rs_arena_init(&arena);

	test_store_audit_chain();
	test_store_audit_orgs();
	test_store_audit_list();
	test_store_audit_plan();
	test_store_audit_index();
	test_store_audit_triggers();
	test_store_audit_race();
	test_store_audit_index_race();
	test_store_audit_verify();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
