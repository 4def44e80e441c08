/*
 * fixture.h: header-only setup shared by the unit tests: the mkdtemp
 * directory, the numbered migrated databases in it, filler rows that
 * grow a WAL, one-integer queries, and a random master secret with its
 * subkey.
 *
 * Every helper is static inline, so a test program pays nothing for
 * those it does not use. A helper that cannot set up what it promises
 * bails out (tap_bail: "Bail out!", a failed program), never returning
 * a half-made fixture; so using one does not change a program's count,
 * and a test cannot pass on a database that was never made.
 */
#ifndef RS_FIXTURE_H
#define RS_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "admin.h"
#include "arena.h"
#include "db.h"
#ifdef RS_HAVE_PG
#include "db_pg.h"
#endif
#include "id.h"
#include "migrate.h"
#include "secret.h"
#include "tap.h"

/*
 * Makes a fresh directory $TMPDIR/name.XXXXXX (/tmp when TMPDIR is
 * unset, empty or too long for dir) and puts its path in dir. Returns 0
 * (it bails out on failure). The caller removes it: fixture_db_cleanup(),
 * or rmdir() once its own files are gone.
 */
static inline int
fixture_tmpdir(char *dir, size_t dirsz, const char *name)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(dir, dirsz, "%s/%s.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 40 ? tmp : "/tmp",
	    name);
	if (mkdtemp(dir) == NULL)
		tap_bail("mkdtemp %s failed", dir);
	return 0;
}

/*
 * The start of a test program with databases: libsodium, then
 * fixture_tmpdir(). Returns 0 (it bails out on failure).
 */
static inline int
fixture_start(char *dir, size_t dirsz, const char *name)
{
	if (sodium_init() < 0)
		tap_bail("sodium_init failed");
	return fixture_tmpdir(dir, dirsz, name);
}

/*
 * The backend of the databases fixture_db_open() makes. A test program
 * whose body holds on both backends defines FIXTURE_BOTH before it
 * includes this header; then, when RS_TEST_PG is set (tests/pg/cluster
 * start's conninfo, without a dbname), its databases are PostgreSQL
 * databases made in that cluster for it, dropped by fixture_db_cleanup().
 * Every other program, and every program without RS_TEST_PG, gets
 * SQLite files.
 */
static inline const char *
fixture_pg(void)
{
#if defined(RS_HAVE_PG) && defined(FIXTURE_BOTH)
	const char	*s = getenv("RS_TEST_PG");

	return s != NULL && *s != '\0' ? s : NULL;
#else
	return NULL;
#endif
}

#ifdef RS_HAVE_PG
/* The name of the n-th PostgreSQL database of this program. */
static inline const char *
fixture_pg_name(char *buf, size_t bufsz, int n)
{
	snprintf(buf, bufsz, "rs_t%ld_%d", (long)getpid(), n);
	return buf;
}

/* Runs sql on the cluster's maintenance database; bails out on failure. */
static inline void
fixture_pg_admin(const char *sql)
{
	struct rs_db	*adm;
	char		 ci[512];

	snprintf(ci, sizeof(ci), "%s dbname=postgres", fixture_pg());
	if (rs_db_open(ci, 0, 0, &adm) != RS_OK)
		tap_bail("cannot connect to %s", ci);
	if (rs_db_exec(adm, sql) != RS_OK)
		tap_bail("%s failed", sql);
	rs_db_close(adm);
}

/*
 * fixture_query_int() on PostgreSQL: the tests write SQLite's ?1; it is
 * $1 here.
 */
static inline int64_t
fixture_query_int_pg(struct rs_db *db, const char *sql, const char *p)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	char			 q[2048];
	size_t			 i, j;
	int64_t			 v = -1;

	for (i = j = 0; sql[i] != '\0' && j + 1 < sizeof(q); i++)
		q[j++] = sql[i] == '?' ? '$' : sql[i];
	q[j] = '\0';
	rs_pg_args(&a);
	if (p != NULL)
		rs_pg_text(&a, p);
	if (rs_pg_once(db, q, &a, &r) != RS_OK)
		return -1;
	if (rs_pg_rows(r) > 0 && !rs_pg_isnull(r, 0, 0))
		v = rs_pg_int64(r, 0, 0);
	rs_pg_clear(r);
	return v;
}
#endif

/*
 * The single integer sql yields, with text parameter ?1 bound to p
 * unless p is NULL; -1 when it yields none or fails.
 */
static inline int64_t
fixture_query_int(struct rs_db *db, const char *sql, const char *p)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return fixture_query_int_pg(db, sql, p);
#endif
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (p != NULL)
		sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Initialises libsodium, fills master with random bytes and derives its
 * subkey for use into subkey. Returns 0 (it bails out on failure). Both
 * buffers are the caller's.
 */
static inline int
fixture_subkey(unsigned char master[RS_SECRET_BYTES], enum rs_secret_use use,
    unsigned char subkey[RS_SECRET_BYTES])
{
	if (sodium_init() < 0)
		tap_bail("sodium_init failed");
	randombytes_buf(master, RS_SECRET_BYTES);
	rs_secret_derive(master, use, subkey);
	return 0;
}

/* dir/test-N.db followed by suffix, into buf; returns buf. */
static inline const char *
fixture_db_path(char *buf, size_t bufsz, const char *dir, int n,
    const char *suffix)
{
	snprintf(buf, bufsz, "%s/test-%d.db%s", dir, n, suffix);
	return buf;
}

/*
 * Opens (creating it) the next database of dir, test-N.db with N one
 * more than *ndb, the count of those made so far, which it bumps; migrates
 * it when migrate is set. Returns the handle (never NULL: it bails out).
 * The caller closes it with rs_db_close(); fixture_db_cleanup() removes
 * the files.
 */
static inline struct rs_db *
fixture_db_open(const char *dir, int *ndb, int migrate)
{
	struct rs_db	*db;
	char		 p[640];

#ifdef RS_HAVE_PG
	if (fixture_pg() != NULL) {
		char	 name[64], sql[160];

		fixture_pg_name(name, sizeof(name), ++*ndb);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
		fixture_pg_admin(sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
		fixture_pg_admin(sql);
		snprintf(p, sizeof(p), "%s dbname=%s", fixture_pg(), name);
		if (rs_db_open(p, 1, 0, &db) != RS_OK)
			tap_bail("cannot open %s", p);
		if (migrate && rs_migrate_run(db) != RS_OK)
			tap_bail("cannot migrate %s", p);
		return db;
	}
#endif
	if (rs_db_open(fixture_db_path(p, sizeof(p), dir, ++*ndb, ""), 1, 0,
	    &db) != RS_OK)
		tap_bail("cannot open %s", p);
	if (migrate && rs_migrate_run(db) != RS_OK)
		tap_bail("cannot migrate %s", p);
	return db;
}

/*
 * Another connection to the n-th database fixture_db_open() made in dir
 * (either backend). Returns the handle (never NULL: it bails out).
 */
static inline struct rs_db *
fixture_db_again(const char *dir, int n)
{
	struct rs_db	*db;
	char		 p[640];

#ifdef RS_HAVE_PG
	if (fixture_pg() != NULL) {
		char	 name[64];

		snprintf(p, sizeof(p), "%s dbname=%s", fixture_pg(),
		    fixture_pg_name(name, sizeof(name), n));
	} else
#endif
		fixture_db_path(p, sizeof(p), dir, n, "");
	if (rs_db_open(p, 0, 0, &db) != RS_OK)
		tap_bail("cannot open %s again", p);
	return db;
}

/*
 * The first column of sql's first row as text, ?1 bound to p unless p
 * is NULL, copied into arena a; NULL when there is none or it fails.
 */
static inline const char *
fixture_query_text(struct rs_db *db, struct rs_arena *a, const char *sql,
    const char *p)
{
	const char	*v = NULL;
	sqlite3_stmt	*st;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db)) {
		struct rs_pg_args	 args;
		struct pg_result	*r;
		char			 q[2048];
		size_t			 i, j;

		for (i = j = 0; sql[i] != '\0' && j + 1 < sizeof(q); i++)
			q[j++] = sql[i] == '?' ? '$' : sql[i];
		q[j] = '\0';
		rs_pg_args(&args);
		if (p != NULL)
			rs_pg_text(&args, p);
		if (rs_pg_once(db, q, &args, &r) != RS_OK)
			return NULL;
		if (rs_pg_rows(r) > 0 && !rs_pg_isnull(r, 0, 0))
			v = rs_arena_strdup(a, rs_pg_str(r, 0, 0));
		rs_pg_clear(r);
		return v;
	}
#endif
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (p != NULL)
		sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = rs_arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/*
 * As fixture_db_open() with migrate set, plus one org "Acme" (rate
 * limit 120) whose id goes into org. Returns the handle (never NULL: it
 * bails out). The caller closes it with rs_db_close().
 */
static inline struct rs_db *
fixture_db_org(const char *dir, int *ndb, char org[RS_ID_MAX])
{
	struct rs_db	*db;
	char		 p[128];

	db = fixture_db_open(dir, ndb, 1);
	if (rs_admin_org_create(db, "Acme", 120, org) != RS_OK)
		tap_bail("cannot create an org in %s",
		    fixture_db_path(p, sizeof(p), dir, *ndb, ""));
	return db;
}

/*
 * Removes the ndb databases fixture_db_open() made in dir, with their
 * -wal, -shm, -journal, .wlock (the writers' queue) and .ratelimit files
 * and -streams directory, then dir itself (a diagnostic when it cannot).
 */
static inline void
fixture_db_cleanup(const char *dir, int ndb)
{
	static const char *const suffix[] = { "", "-wal", "-shm",
	    "-journal", ".wlock", ".ratelimit" };
	char	 p[128];
	size_t	 i;
	int	 n;

	char	 cmd[200];

#ifdef RS_HAVE_PG
	if (fixture_pg() != NULL) {
		char	 name[64];

		for (n = 1; n <= ndb; n++) {
			snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS "
			    "%s WITH (FORCE)", fixture_pg_name(name,
			    sizeof(name), n));
			fixture_pg_admin(cmd);
		}
	}
#endif
	for (n = 1; n <= ndb; n++) {
		for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
			unlink(fixture_db_path(p, sizeof(p), dir, n,
			    suffix[i]));
		/* The event streams' slot files (slot.h). */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'",
		    fixture_db_path(p, sizeof(p), dir, n, "-streams"));
		if (system(cmd) != 0)
			tap_diag("cannot run %s", cmd);
	}
	if (rmdir(dir) != 0)
		tap_diag("cannot remove %s", dir);
}

/* The size of the file at path, or -1. */
static inline long long
fixture_file_size(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/*
 * Commits n rows of table filler (made when missing), about a database
 * page each, in one transaction: the WAL grows by n pages. Returns 0, or
 * -1 with nothing committed.
 */
static inline int
fixture_fill_pages(struct rs_db *db, int n)
{
	int	 i;

	if (rs_db_exec(db, "CREATE TABLE IF NOT EXISTS filler (b BLOB)") !=
	    RS_OK || rs_db_begin(db) != RS_OK)
		return -1;
	for (i = 0; i < n; i++)
		if (rs_db_exec(db, "INSERT INTO filler VALUES "
		    "(randomblob(4000))") != RS_OK) {
			rs_db_rollback(db);
			return -1;
		}
	return rs_db_commit(db) == RS_OK ? 0 : -1;
}

#endif /* RS_FIXTURE_H */
