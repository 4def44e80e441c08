/*
 * test-db-pg: the PostgreSQL connection (lib/db_pg.h) behind db.h, on a
 * real server: the schema's version, constraint errors, transactions and
 * savepoints, the per-org turn of writers, a connection lost outside
 * and inside a transaction (503, nothing half-applied, the next
 * transaction reconnected), and a deadlock made into RS_ERR_RETRY.
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
 * gives up after RS_BUSY_TIMEOUT_MS (lock_timeout): busy, a 503.
 */
static void
test_pg_org_turns(void)
{
	struct rs_db	*a = fixture_db_open(dir, &ndb, 1), *b;
	int64_t		 start;

	b = second(ndb);
	TAP_SETUP(rs_db_begin_org(a, "org_x") == RS_OK);
	start = rs_clock_now_ms();
	TAP_IS_INT(rs_db_begin_org(b, "org_y"), RS_OK,
	    "pg turns: another org's writer does not wait");
	TAP_OK(rs_clock_now_ms() - start < RS_BUSY_TIMEOUT_MS / 2,
	    "pg turns: ... at all");
	TAP_SETUP(rs_db_commit(b) == RS_OK);
	TAP_IS_INT(rs_db_begin_org(b, "org_x"), RS_ERR_BUSY,
	    "pg turns: the same org's writer waits, then is busy");
	TAP_OK(rs_clock_now_ms() - start >= RS_BUSY_TIMEOUT_MS - 100,
	    "pg turns: ... after the busy timeout");
	rs_db_rollback(a);
	TAP_IS_INT(rs_db_begin_org(b, "org_x"), RS_OK,
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
	TAP_IS_INT(rs_store_orgs_exists(db, "org_q"), RS_ERR_BUSY,
	    "pg lost: the first statement after a drop is busy");
	TAP_IS_INT(rs_store_orgs_exists(db, "org_q"), RS_ERR_NOTFOUND,
	    "pg lost: the next one reconnected and ran");
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
	tap_plan(6 + 8 + 5 + 6 + 2);
	test_pg_schema();
	test_pg_tx();
	test_pg_org_turns();
	test_pg_lost();
	test_pg_deadlock();
	fixture_db_cleanup(dir, ndb);
	return tap_done();
#else
	printf("1..0 # SKIP built without PostgreSQL\n");
	return 0;
#endif
}
