/*
 * test-db-pg: the PostgreSQL connection (lib/db_pg.h) behind db.h, on a
 * real server: the schema's version, constraint errors, transactions and
 * savepoints, the per-org turn of writers, a connection lost outside
 * and inside a transaction (503, nothing half-applied, the next
 * transaction reconnected), a deadlock made into RS_ERR_RETRY, and the
 * writes sent ahead in libpq's pipeline (rs_pg_later): where their
 * failures show, and that a nest's show in that nest.
 *
 * PostgreSQL only: it runs with RS_TEST_PG (tests/pg/cluster start's
 * conninfo; scripts/test sets it), and without it says it skipped.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "limits.h"
#include "admin.h"
#include "clock.h"
#include "db.h"
#include "db_pg.h"
#include "id.h"
#include "migrate.h"
#include "store_orgs.h"
#define FIXTURE_BOTH	/* its databases are PostgreSQL's */
#include "fixture.h"
#include "tap.h"

static char	 dir[64];
static int	 ndb;

#ifdef RS_HAVE_PG
/* The conninfo of this program's n-th database, into ci. */
static const char *
conninfo(char *ci, size_t cisz, int n)
{
	char	 name[64];

	snprintf(ci, cisz, "%s dbname=%s", fixture_pg(),
	    fixture_pg_name(name, sizeof(name), n));
	return ci;
}

/* A second connection to the database of conninfo ci. */
static struct rs_db *
connect_to(const char *ci)
{
	struct rs_db	*db;

	if (rs_db_open(ci, 0, 0, &db) != RS_OK)
		tap_bail("cannot connect to %s", ci);
	return db;
}

/* A second connection to this program's n-th database. */
static struct rs_db *
second(int n)
{
	char	 ci[512];

	return connect_to(conninfo(ci, sizeof(ci), n));
}

/* Ends the server's process of connection db, as a failover would. */
static void
cut(struct rs_db *other, struct rs_db *db)
{
	int64_t	 pid;
	char	 sql[96];

	pid = fixture_query_int(db, "SELECT pg_backend_pid()", NULL);
	TAP_SETUP(pid > 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
	    (long long)pid);
	TAP_SETUP(fixture_query_int(other, sql, NULL) == 1);
	usleep(100 * 1000);	/* the backend goes */
}

static void
test_pg_schema(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);

	TAP_OK(rs_db_pg(db), "pg schema: a conninfo opens PostgreSQL");
	TAP_IS_STR(rs_db_backend(db), "postgresql", "pg schema: its name");
	TAP_IS_INT(rs_db_user_version(db), rs_migrate_latest_of(db),
	    "pg schema: migrated to PostgreSQL's latest version");
	TAP_IS_INT(rs_migrate_check(db), RS_OK, "pg schema: check is ok");
	TAP_IS_INT(rs_migrate_run(db), RS_OK,
	    "pg schema: migrating again changes nothing");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM rs_schema",
	    NULL), 1, "pg schema: one version row");
	rs_db_close(db);
}

static void
test_pg_tx(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);

	TAP_SETUP(rs_db_begin_org(db, "org_a") == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, "org_a", "A", 10, 1) == RS_OK);
	TAP_IS_INT(rs_store_orgs_create(db, "org_a", "A", 10, 1),
	    RS_ERR_EXISTS, "pg tx: a unique violation is RS_ERR_EXISTS");
	TAP_IS_INT(rs_db_commit(db), RS_ERR_DB,
	    "pg tx: a transaction that failed cannot pass for committed");
	TAP_IS_INT(rs_store_orgs_exists(db, "org_a"), RS_ERR_NOTFOUND,
	    "pg tx: ... and nothing of it is kept");

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, "org_b", "B", 10, 1) == RS_OK);
	rs_db_rollback(db);
	TAP_IS_INT(rs_store_orgs_exists(db, "org_b"), RS_ERR_NOTFOUND,
	    "pg tx: a rollback keeps nothing");

	TAP_SETUP(rs_db_nest_begin(db, "org_c") == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, "org_c", "C", 10, 1) == RS_OK);
	rs_db_rollback(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_orgs_create(db, "org_d", "D", 10, 1), RS_OK,
	    "pg tx: after an undone savepoint the transaction goes on");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(rs_db_nest_commit(db), RS_OK, "pg tx: the nest commits");
	TAP_IS_INT(rs_store_orgs_exists(db, "org_c"), RS_ERR_NOTFOUND,
	    "pg tx: the undone savepoint's row is not kept");
	TAP_IS_INT(rs_store_orgs_exists(db, "org_d"), RS_OK,
	    "pg tx: the released savepoint's row is");
	rs_db_close(db);
}

/*
 * One org's writers take turns; another org's do not wait. The waiter
 * gives up after RS_BUSY_TIMEOUT_MS (lock_timeout): busy, a 503. The
 * lock goes ahead of the transaction's first statement (db_pg.h), so
 * that statement is where a writer waits.
 */
static void
test_pg_org_turns(void)
{
	struct rs_db	*a = fixture_db_open(dir, &ndb, 1), *b;
	int64_t		 start;

	b = second(ndb);
	TAP_SETUP(rs_db_begin_org(a, "org_x") == RS_OK);
	TAP_SETUP(rs_store_orgs_exists(a, "org_x") == RS_ERR_NOTFOUND);
	start = rs_clock_now_ms();
	TAP_SETUP(rs_db_begin_org(b, "org_y") == RS_OK);
	TAP_IS_INT(rs_store_orgs_exists(b, "org_y"), RS_ERR_NOTFOUND,
	    "pg turns: another org's writer does not wait");
	TAP_OK(rs_clock_now_ms() - start < RS_BUSY_TIMEOUT_MS / 2,
	    "pg turns: ... at all");
	TAP_SETUP(rs_db_commit(b) == RS_OK);
	TAP_SETUP(rs_db_begin_org(b, "org_x") == RS_OK);
	TAP_IS_INT(rs_store_orgs_exists(b, "org_x"), RS_ERR_BUSY,
	    "pg turns: the same org's writer waits, then is busy");
	TAP_OK(rs_clock_now_ms() - start >= RS_BUSY_TIMEOUT_MS - 100,
	    "pg turns: ... after the busy timeout");
	TAP_IS_INT(rs_db_commit(b), RS_ERR_DB,
	    "pg turns: ... and its transaction cannot commit");
	TAP_IS_INT(rs_db_nest_begin(b, "org_x"), RS_ERR_BUSY,
	    "pg turns: a nest (a batch) is busy at its begin, before any "
	    "item runs");
	TAP_IS_INT(rs_db_in_tx(b), 0, "pg turns: ... and left nothing open");
	rs_db_rollback(a);
	TAP_SETUP(rs_db_begin_org(b, "org_x") == RS_OK);
	TAP_IS_INT(rs_store_orgs_exists(b, "org_x"), RS_ERR_NOTFOUND,
	    "pg turns: once the first ends, the org's next writer goes");
	rs_db_rollback(b);
	rs_db_close(b);
	rs_db_close(a);
}

/*
 * A connection the server dropped: the statement is busy (503), the next
 * transaction reconnects; one dropped inside a transaction keeps none of
 * it.
 */
static void
test_pg_lost(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1), *other;

	other = second(ndb);
	cut(other, db);
	/* cut() waits 100 ms: the connection is idle past RS_PG_IDLE_MS. */
	TAP_IS_INT(rs_store_orgs_exists(db, "org_q"), RS_ERR_NOTFOUND,
	    "pg lost: a connection idle through a drop reconnects before "
	    "its next statement, which runs (it was a 503)");
	TAP_IS_INT(rs_store_orgs_exists(db, "org_q"), RS_ERR_NOTFOUND,
	    "pg lost: ... and the one after it runs too");
	TAP_SETUP(rs_db_begin_org(db, "org_q") == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, "org_q", "Q", 10, 1) == RS_OK);
	cut(other, db);
	TAP_IS_INT(rs_store_orgs_create(db, "org_r", "R", 10, 1),
	    RS_ERR_BUSY, "pg lost: inside a transaction: busy");
	TAP_OK(rs_db_commit(db) != RS_OK,
	    "pg lost: ... and it cannot commit");
	rs_db_rollback(db);
	TAP_IS_INT(rs_db_begin_org(db, "org_q"), RS_OK,
	    "pg lost: the next transaction begins on a new connection");
	TAP_IS_INT(rs_store_orgs_exists(db, "org_q"), RS_ERR_NOTFOUND,
	    "pg lost: nothing of the cut transaction was kept");
	rs_db_rollback(db);
	rs_db_close(other);
	rs_db_close(db);
}

/*
 * A connection keeps a statement's plan (a generic one, after a few
 * runs) made from the table as it was then. Planned while the table
 * was small, a keyed look-up walked it whole, and went on walking it as
 * it grew (bench/run: a create's Idempotency-Key look-up at 1.3 ms, the
 * rate a quarter of its own, until autovacuum analyzed the table). Our
 * statements are written for their indexes (as SQLite runs them): the
 * session never plans a walk of a table that has one.
 */
/* Whether any line of an EXPLAIN result r holds s. */
static int
explained(const struct pg_result *r, const char *s)
{
	const char	*line;
	int		 i;

	for (i = 0; i < rs_pg_rows(r); i++)
		if ((line = rs_pg_str(r, i, 0)) != NULL &&
		    strstr(line, s) != NULL)
			return 1;
	return 0;
}

static void
test_pg_plans(void)
{
	struct rs_db		*db = fixture_db_open(dir, &ndb, 1);
	struct pg_result	*r;
	const char		*plan;

	TAP_SETUP(rs_db_exec(db, "CREATE TABLE t_small (seq bigint PRIMARY "
	    "KEY, org_id text NOT NULL, key text NOT NULL, created_at bigint, "
	    "UNIQUE (org_id, key)); INSERT INTO t_small SELECT g, 'org_a', "
	    "'k' || g, g FROM generate_series(1, 50) g; ANALYZE t_small") ==
	    RS_OK);
	TAP_SETUP(rs_pg_once(db, "EXPLAIN SELECT * FROM t_small WHERE org_id "
	    "= 'org_a' AND key = 'k7' AND created_at > 0", NULL, &r) == RS_OK);
	plan = rs_pg_str(r, 0, 0);
	TAP_OK(plan != NULL && strstr(plan, "Index Scan") != NULL,
	    "pg plans: a keyed look-up on a small table is an index scan");
	rs_pg_clear(r);
	/* A walk of a table with no index is costed as one not wanted,
	 * past any threshold of the JIT compiler, which took 50-100 ms. */
	TAP_SETUP(rs_pg_once(db, "EXPLAIN (ANALYZE) SELECT coalesce(max("
	    "version), 0) FROM rs_schema", NULL, &r) == RS_OK);
	TAP_OK(!explained(r, "JIT"), "pg plans: ... and nothing is compiled "
	    "by the JIT (the schema check took 50-100 ms)");
	rs_pg_clear(r);
	rs_db_close(db);
}

/* The integers the server prints read back as they are, the two ends
 * of bigint and booleans included (rs_pg_int64 parses no locale). */
static void
test_pg_numbers(void)
{
	struct rs_db		*db = fixture_db_open(dir, &ndb, 1);
	struct rs_pg_args	 a;
	struct pg_result	*r;

	TAP_SETUP(rs_pg_once(db, "SELECT 0::bigint, -1::bigint, "
	    "9223372036854775807::bigint, (-9223372036854775807 - 1)::bigint, "
	    "1099511627793::bigint, true, false, 42::int", NULL, &r) == RS_OK);
	TAP_OK(rs_pg_int64(r, 0, 0) == 0 && rs_pg_int64(r, 0, 1) == -1,
	    "pg numbers: 0 and -1");
	TAP_OK(rs_pg_int64(r, 0, 2) == INT64_MAX &&
	    rs_pg_int64(r, 0, 3) == INT64_MIN,
	    "pg numbers: the largest and smallest bigint");
	TAP_OK(rs_pg_int64(r, 0, 4) == ((INT64_C(1) << 40) | 17) &&
	    rs_pg_int64(r, 0, 7) == 42, "pg numbers: a row number, an int");
	TAP_OK(rs_pg_int64(r, 0, 5) == 1 && rs_pg_int64(r, 0, 6) == 0,
	    "pg numbers: booleans as 1 and 0");
	rs_pg_clear(r);
	rs_pg_args(&a);
	rs_pg_numbers(&a);
	TAP_SETUP(rs_pg_once(db, "SELECT 0::bigint, -1::bigint, "
	    "9223372036854775807::bigint, (-9223372036854775807 - 1)::bigint, "
	    "1099511627793::bigint, true, false, -42::int, -7::smallint, "
	    "octet_length('caf\xc3\xa9'::text)", &a, &r) == RS_OK);
	TAP_OK(rs_pg_int64(r, 0, 0) == 0 && rs_pg_int64(r, 0, 1) == -1 &&
	    rs_pg_int64(r, 0, 2) == INT64_MAX &&
	    rs_pg_int64(r, 0, 3) == INT64_MIN &&
	    rs_pg_int64(r, 0, 4) == ((INT64_C(1) << 40) | 17),
	    "pg numbers: in binary, the same bigints");
	TAP_OK(rs_pg_int64(r, 0, 5) == 1 && rs_pg_int64(r, 0, 6) == 0 &&
	    rs_pg_int64(r, 0, 7) == -42 && rs_pg_int64(r, 0, 8) == -7 &&
	    rs_pg_int64(r, 0, 9) == 5,
	    "pg numbers: in binary, booleans, int, smallint, a length");
	rs_pg_clear(r);
	rs_db_close(db);
}

/* A result's rows ordered by an integer column, NULLs left out, in
 * place and past RS_PG_ORDER_ROWS (rs_pg_order: the record pages' order
 * is made there, not by the server). */
static void
test_pg_order(void)
{
	struct rs_db		*db = fixture_db_open(dir, &ndb, 1);
	struct pg_result	*r;
	struct rs_pg_order	 o;
	int			 j, sorted = 1;

	TAP_SETUP(rs_pg_once(db, "SELECT * FROM (VALUES (3::bigint, 'c'), "
	    "(NULL, 'x'), (1, 'a'), (-2, 'b'), (1, 'a2')) v (k, t)", NULL,
	    &r) == RS_OK);
	TAP_SETUP(rs_pg_order(r, 0, 0, &o) == RS_OK);
	TAP_OK(o.n == 4 && o.i[0] == 3 && o.i[1] == 2 && o.i[2] == 4 &&
	    o.i[3] == 0, "pg order: rows by their number, the NULL's left "
	    "out, equal ones as they came");
	rs_pg_order_free(&o);
	rs_pg_clear(r);
	TAP_SETUP(rs_pg_once(db, "SELECT g, g % 7 FROM generate_series(600, "
	    "1, -1) g", NULL, &r) == RS_OK);
	TAP_SETUP(rs_pg_order(r, 0, 0, &o) == RS_OK);
	for (j = 0; j < o.n; j++)
		if (rs_pg_int64(r, o.i[j], 0) != j + 1)
			sorted = 0;
	TAP_OK(o.n == 600 && sorted && o.i != o.ibuf,
	    "pg order: 600 rows backwards, in order (more than it holds "
	    "without allocating)");
	rs_pg_order_free(&o);
	rs_pg_clear(r);
	rs_db_close(db);
}

static const char later_sql[] = "INSERT INTO t_later (k) VALUES ($1::int)";
static const char later_bad[] = "INSERT INTO t_nowhere (k) VALUES ($1::int)";
static const char later_count[] = "SELECT count(*) FROM t_later";

/* Sends INSERT k ahead (rs_pg_later). */
static enum rs_err
later(struct rs_db *db, const char *sql, int64_t k)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_int(&a, k);
	return rs_pg_later(db, sql, &a);
}

/*
 * In a nest (its first level its own when own), a write of k sent ahead
 * after other cut db's connection: what the level's commit answers.
 */
static enum rs_err
later_cut_nest(struct rs_db *db, struct rs_db *other, int own, int64_t k)
{
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	if (own)
		rs_db_nest_own(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	cut(other, db);
	(void)later(db, later_sql, k);
	return rs_db_commit(db);
}

/* The rows of t_later, or -1. */
static int64_t
later_rows(struct rs_db *db)
{
	struct pg_result	*r;
	int64_t			 n = -1;

	if (rs_pg_query(db, later_count, NULL, &r) == RS_OK) {
		n = rs_pg_int64(r, 0, 0);
		rs_pg_clear(r);
	}
	return n;
}

/*
 * Writes sent ahead: nothing is waited for until a statement that needs
 * an answer, or the commit; a failure among them fails that statement
 * (RS_ERR_DB, a clash too: it is not that statement's) and the
 * transaction; more than the pipeline holds are all kept; inside a nest
 * the release learns its writes' fate, so one failed item is undone
 * alone; outside a transaction a write is run at once.
 */
static void
test_pg_later(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1), *other;
	int		 i, ok;

	other = second(ndb);
	TAP_SETUP(rs_db_exec(db, "CREATE TABLE t_later (k int PRIMARY KEY)") ==
	    RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	for (ok = 1, i = 1; i <= 3 * RS_PG_WAIT; i++)
		ok = ok && later(db, later_sql, i) == RS_OK;
	TAP_OK(ok, "pg later: writes go ahead, past what the pipeline holds");
	TAP_IS_INT(fixture_query_int(other, later_count, NULL), 0,
	    "pg later: ... in the transaction, unseen by others");
	TAP_IS_INT(later_rows(db), 3 * RS_PG_WAIT,
	    "pg later: the next statement sees every one");
	TAP_IS_INT(rs_db_commit(db), RS_OK, "pg later: and they commit");
	TAP_IS_INT(fixture_query_int(other, later_count, NULL), 3 * RS_PG_WAIT,
	    "pg later: ... all of them");

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(later(db, later_sql, 1), RS_OK,
	    "pg later: a clash is not known when it is sent");
	TAP_SETUP(later(db, later_sql, 1000) == RS_OK);
	TAP_IS_INT(later_rows(db), -1,
	    "pg later: ... the next statement fails");
	TAP_IS_INT(rs_db_commit(db), RS_ERR_DB,
	    "pg later: ... and the transaction cannot commit");
	TAP_IS_INT(fixture_query_int(other, later_count, NULL), 3 * RS_PG_WAIT,
	    "pg later: ... nothing of it was kept");

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(later(db, later_sql, 2000) == RS_OK);
	TAP_SETUP(later(db, later_sql, 2) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_ERR_DB,
	    "pg later: a clash shown only by the commit fails it");
	TAP_IS_INT(fixture_query_int(other, later_count, NULL), 3 * RS_PG_WAIT,
	    "pg later: ... nothing kept");

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(later(db, later_bad, 1) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_ERR_DB,
	    "pg later: a statement the server cannot prepare fails the "
	    "transaction");
	TAP_SETUP(rs_db_exec(db, "CREATE TABLE t_nowhere (k int)") == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(later(db, later_bad, 1) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_OK,
	    "pg later: ... once it can be, it is prepared again and runs "
	    "(the failed name was not kept)");
	TAP_IS_INT(later_rows(db), 3 * RS_PG_WAIT,
	    "pg later: ... and the connection goes on");

	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK && later(db, later_sql, 3000) ==
	    RS_OK && rs_db_commit(db) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK && later(db, later_sql, 3001) ==
	    RS_OK && later(db, later_sql, 3) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_ERR_DB,
	    "pg later: in a nest, the release learns of its item's clash");
	TAP_SETUP(rs_db_begin(db) == RS_OK && later(db, later_sql, 3002) ==
	    RS_OK && rs_db_commit(db) == RS_OK);
	TAP_IS_INT(rs_db_nest_commit(db), RS_OK,
	    "pg later: ... the nest goes on and commits");
	TAP_IS_INT(fixture_query_int(other,
	    "SELECT count(*) FROM t_later WHERE k >= 3000", NULL), 2,
	    "pg later: ... without the failed item's writes");

	/* The nest's own level (a batch's): its commit learns as a release
	 * would, and its failure takes the nest. */
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	rs_db_nest_own(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK && later(db, later_sql, 3003) ==
	    RS_OK && later(db, later_sql, 3) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_ERR_DB,
	    "pg later: a nest's own level: its commit learns of its clash");
	TAP_IS_INT(rs_db_nest_depth(db), -1, "pg later: ... the nest is gone");
	TAP_IS_INT(fixture_query_int(other,
	    "SELECT count(*) FROM t_later WHERE k = 3003", NULL), 0,
	    "pg later: ... nothing of it kept");

	TAP_IS_INT(later(db, later_sql, 4), RS_ERR_EXISTS,
	    "pg later: outside a transaction a write runs at once");
	/* Cut in a nest (a batch) under an item's writes sent ahead: the
	 * item's release is busy, the nest is gone, and the transaction's
	 * first failure says busy, which the batch answers (503). */
	TAP_IS_INT(later_cut_nest(db, other, 0, 4000), RS_ERR_BUSY,
	    "pg later: a nest's connection lost under an item's writes: "
	    "its release is busy");
	TAP_IS_INT(rs_db_nest_depth(db), -1, "pg later: ... the nest is gone");
	TAP_IS_INT(rs_db_tx_err(db), RS_ERR_BUSY,
	    "pg later: ... and the transaction's failure says busy");
	/* The same under the nest's own level. */
	TAP_IS_INT(later_cut_nest(db, other, 1, 4001), RS_ERR_BUSY,
	    "pg later: a connection lost under the own level's writes: its "
	    "commit is busy");
	TAP_IS_INT(rs_db_nest_depth(db), -1, "pg later: ... the nest is gone");
	/* Cut inside the transaction: an idle connection found cut is
	 * made again before a transaction begins (test_pg_lost). */
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	cut(other, db);
	TAP_SETUP(later(db, later_sql, 5000) == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_ERR_BUSY,
	    "pg later: a connection lost under writes sent ahead is busy");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(later_rows(db), 3 * RS_PG_WAIT + 2,
	    "pg later: ... nothing of it kept, the next transaction "
	    "reconnected");
	rs_db_rollback(db);
	rs_db_close(other);
	rs_db_close(db);
}

/*
 * Two transactions that each hold a row the other wants: the server
 * ends one of them, which is RS_ERR_RETRY (txn.c runs it again).
 */
static void
test_pg_deadlock(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1), *child;
	enum rs_err	 rc;
	pid_t		 pid;
	int		 status, child_rc;
	char		 ci[512];

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, "org_1", "1", 10, 1) == RS_OK &&
	    rs_store_orgs_create(db, "org_2", "2", 10, 1) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	conninfo(ci, sizeof(ci), ndb);	/* named by this process's pid */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		child = connect_to(ci);
		if (rs_db_begin(child) != RS_OK ||
		    rs_store_orgs_set_rate(child, "org_2", 20) != RS_OK)
			_exit(100);
		sleep(1);	/* the parent holds org_1 by now */
		rc = rs_store_orgs_set_rate(child, "org_1", 20);
		rs_db_rollback(child);
		rs_db_close(child);
		_exit((int)rc);
	}
	TAP_SETUP(pid > 0);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_set_rate(db, "org_1", 30) == RS_OK);
	usleep(300 * 1000);	/* the child holds org_2 */
	rc = rs_store_orgs_set_rate(db, "org_2", 30);
	rs_db_rollback(db);
	TAP_SETUP(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	child_rc = WEXITSTATUS(status);
	TAP_OK((rc == RS_ERR_RETRY) != (child_rc == RS_ERR_RETRY),
	    "pg deadlock: exactly one of the two is told to run again");
	TAP_OK((rc == RS_OK || rc == RS_ERR_RETRY) &&
	    (child_rc == RS_OK || child_rc == RS_ERR_RETRY),
	    "pg deadlock: the other goes on");
	rs_db_close(db);
}

/*
 * The same inside a nest (a batch), where the loser's error undoes its
 * savepoint only: the nest's earlier work stays, the transaction's
 * failure is forgotten, and the item runs again (txn.c). The child
 * waits longer before it looks for a deadlock, so the parent, nested,
 * is the one the server ends.
 */
static void
test_pg_deadlock_nest(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1), *child;
	enum rs_err	 rc;
	pid_t		 pid;
	int		 status;
	char		 ci[512];

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgs_create(db, "org_1", "1", 10, 1) == RS_OK &&
	    rs_store_orgs_create(db, "org_2", "2", 10, 1) == RS_OK &&
	    rs_store_orgs_create(db, "org_3", "3", 10, 1) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	conninfo(ci, sizeof(ci), ndb);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		child = connect_to(ci);
		if (rs_pg_exec(child, "SET deadlock_timeout = '10s'") !=
		    RS_OK || rs_db_begin(child) != RS_OK ||
		    rs_store_orgs_set_rate(child, "org_2", 20) != RS_OK)
			_exit(100);
		sleep(1);	/* the parent holds org_1 by now */
		rc = rs_store_orgs_set_rate(child, "org_1", 20);
		if (rc == RS_OK)
			rc = rs_db_commit(child);
		else
			rs_db_rollback(child);
		rs_db_close(child);
		_exit((int)rc);
	}
	TAP_SETUP(pid > 0);
	TAP_SETUP(rs_db_nest_begin(db, NULL) == RS_OK);
	TAP_SETUP(rs_store_orgs_set_rate(db, "org_3", 30) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);	/* the item's savepoint */
	TAP_SETUP(rs_store_orgs_set_rate(db, "org_1", 30) == RS_OK);
	usleep(300 * 1000);	/* the child holds org_2 */
	rc = rs_store_orgs_set_rate(db, "org_2", 30);
	TAP_IS_INT(rc, RS_ERR_RETRY,
	    "pg deadlock nest: the nested item is told to run again");
	rs_db_rollback(db);
	TAP_IS_INT(rs_db_nest_depth(db), 0,
	    "pg deadlock nest: its savepoint undone, the nest stands");
	TAP_IS_INT(rs_db_tx_err(db), RS_OK,
	    "pg deadlock nest: ... its failure forgotten");
	/* The item again: org_1 waits for the child, which got it. */
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_orgs_set_rate(db, "org_1", 30), RS_OK,
	    "pg deadlock nest: the item runs again");
	TAP_IS_INT(rs_db_commit(db), RS_OK, "pg deadlock nest: ... released");
	TAP_IS_INT(rs_db_nest_commit(db), RS_OK,
	    "pg deadlock nest: the nest commits");
	TAP_SETUP(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	TAP_IS_INT(WEXITSTATUS(status), RS_OK,
	    "pg deadlock nest: the child went on and committed");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM orgs WHERE "
	    "id IN ('org_1', 'org_3') AND rate_limit = 30", NULL), 2,
	    "pg deadlock nest: the nest's work before and after the loss "
	    "kept");
	rs_db_close(db);
}
#endif

int
main(void)
{
#ifdef RS_HAVE_PG
	if (fixture_pg() == NULL) {
		printf("1..0 # SKIP no PostgreSQL cluster (RS_TEST_PG)\n");
		return 0;
	}
	fixture_start(dir, sizeof(dir), "rs-db-pg");
	tap_plan(6 + 8 + 8 + 6 + 2 + 8 + 28 + 2 + 6 + 2);
	test_pg_schema();
	test_pg_tx();
	test_pg_org_turns();
	test_pg_lost();
	test_pg_deadlock();
	test_pg_deadlock_nest();
	test_pg_later();
	test_pg_plans();
	test_pg_numbers();
	test_pg_order();
	fixture_db_cleanup(dir, ndb);
	return tap_done();
#else
	printf("1..0 # SKIP built without PostgreSQL\n");
	return 0;
#endif
}
