#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "limits.h"
#include "clock.h"
#include "db.h"
#include "store_backup.h"
#include "store_backup_pg.h"

enum {
	STMT_PIN,
	STMT_INTEGRITY,
	STMT_FKEYS,
	STMT_PAGES,
	STMT_PAGE_SIZE,
	STMT_CENSUS,
	STMT__MAX
};

#define STR(x)	#x
#define XSTR(x)	STR(x)

static const char *const sql[STMT__MAX] = {
	/* STMT_PIN: any read, to start the snapshot a copy is made from. */
	"SELECT count(*) FROM sqlite_master",
	/* STMT_INTEGRITY */
	"PRAGMA integrity_check(" XSTR(RS_STORE_BACKUP_PROBLEMS) ")",
	/* STMT_FKEYS: table, rowid, parent table, constraint. */
	"PRAGMA foreign_key_check",
	/* STMT_PAGES */
	"PRAGMA page_count",
	/* STMT_PAGE_SIZE */
	"PRAGMA page_size",
	/* STMT_CENSUS */
	"SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users), "
	"(SELECT count(*) FROM api_keys), (SELECT count(*) FROM records), "
	"(SELECT count(*) FROM events), (SELECT count(*) FROM audit), "
	"(SELECT count(*) FROM webhooks), (SELECT count(*) FROM jobs)",
};

/* The journal mode statements run on connections of this module only. */
static const char rs_store_backup_exclusive[] = "PRAGMA locking_mode=EXCLUSIVE";
static const char rs_store_backup_delete[] = "PRAGMA journal_mode=DELETE";
static const char rs_store_backup_lock[] = "BEGIN EXCLUSIVE; COMMIT";

/* errmsg (when not NULL) receives what, ": ", SQLite's message. */
static void
rs_store_backup_say(char *errmsg, size_t errsz, const char *what,
    const char *msg)
{
	if (errmsg != NULL && errsz > 0)
		snprintf(errmsg, errsz, "%s: %s", what, msg);
}

enum rs_err
rs_store_backup_open_ro(const char *path, struct rs_db **out, char *errmsg,
    size_t errsz)
{
	return rs_db_open_bare(path, 1, RS_BUSY_TIMEOUT_MS, out, errmsg,
	    errsz);
}

/*
 * Runs the journal mode statement on h and checks that the mode it
 * reports is "delete". SQLite's result, or SQLITE_ERROR when the mode
 * did not change.
 */
static int
rs_store_backup_to_delete(sqlite3 *h)
{
	sqlite3_stmt	*st;
	const char	*mode;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(h, rs_store_backup_delete, -1, &st,
	    NULL)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mode = (const char *)sqlite3_column_text(st, 0);
		rc = mode != NULL && strcmp(mode, "delete") == 0 ? SQLITE_OK :
		    SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	return rc;
}

enum rs_err
rs_store_backup_seize(const char *path, struct rs_db **out, char *errmsg,
    size_t errsz)
{
	struct rs_db	*db;
	enum rs_err	 err;
	int		 rc;

	if ((err = rs_db_open_bare(path, 0, 0, &db, errmsg, errsz)) != RS_OK)
		return err;
	/*
	 * In exclusive locking mode a WAL database's first read takes an
	 * exclusive lock on the file, which every other connection's
	 * shared lock (held while it is open) refuses; leaving WAL mode
	 * then keeps it, as a rollback database in this mode keeps the
	 * lock of its last write until it closes. A file in rollback mode
	 * already (no process of the pool opened it: they turn it to WAL)
	 * changes nothing, so a write transaction takes the lock.
	 */
	if ((rc = sqlite3_exec(db->h, rs_store_backup_exclusive, NULL, NULL,
	    NULL)) == SQLITE_OK &&
	    (rc = rs_store_backup_to_delete(db->h)) == SQLITE_OK)
		rc = sqlite3_exec(db->h, rs_store_backup_lock, NULL, NULL,
		    NULL);
	if (rc != SQLITE_OK) {
		rs_store_backup_say(errmsg, errsz, path, (rc & 0xff) ==
		    SQLITE_BUSY ? "in use" : rc == SQLITE_ERROR ?
		    "its journal mode cannot be changed" :
		    sqlite3_errmsg(db->h));
		rs_db_close(db);
		return (rc & 0xff) == SQLITE_BUSY ? RS_ERR_BUSY :
		    rs_db_err(rc);
	}
	*out = db;
	return RS_OK;
}

/* Sleeps ms milliseconds. */
static void
rs_store_backup_pause(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/*
 * Steps backup b to its end, step_pages at a time; SQLite's result
 * (SQLITE_DONE when it got there), or SQLITE_INTERRUPT when cancelled.
 */
static int
rs_store_backup_steps(sqlite3_backup *b, int step_pages, int pause_ms,
    int (*cancelled)(void), struct rs_store_backup_copy *out)
{
	int64_t	 busy_since = 0;
	int	 rc;

	for (;;) {
		rc = sqlite3_backup_step(b, step_pages);
		out->steps++;
		if (rc == SQLITE_DONE)
			return rc;
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			/* Only another writer of the copy could: wait a
			 * while, then give up. */
			if (busy_since == 0)
				busy_since = rs_clock_now_ms();
			else if (rs_clock_now_ms() - busy_since >
			    RS_BUSY_TIMEOUT_MS)
				return rc;
		} else if (rc != SQLITE_OK)
			return rc;
		else
			busy_since = 0;
		if (cancelled != NULL && cancelled())
			return SQLITE_INTERRUPT;
		if (pause_ms > 0)
			rs_store_backup_pause(pause_ms);
	}
}

/* Starts src's read snapshot: BEGIN, and a read. */
static enum rs_err
rs_store_backup_pin(struct rs_db *src)
{
	sqlite3_stmt	*st;
	enum rs_err	 err;
	int		 rc;

	if ((err = rs_db_begin_read(src)) != RS_OK)
		return err;
	if ((st = rs_db_stmt(src, sql[STMT_PIN])) == NULL) {
		rs_db_rollback(src);
		return RS_ERR_DB;
	}
	rc = sqlite3_step(st);
	rs_db_done(st);
	if (rc != SQLITE_ROW) {
		rs_db_rollback(src);
		return rs_db_err(rc);
	}
	return RS_OK;
}

enum rs_err
rs_store_backup_copy(struct rs_db *src, const char *dest, int step_pages,
    int pause_ms, int (*cancelled)(void), struct rs_store_backup_copy *out,
    char *errmsg, size_t errsz)
{
	sqlite3_backup	*b;
	sqlite3		*d = NULL;
	enum rs_err	 err;
	int		 rc;

	/* A file's whole: PostgreSQL's are pg_dump's and the server's. */
	if (rs_db_pg(src))
		return RS_ERR_STATE;
	memset(out, 0, sizeof(*out));
	if ((err = rs_store_backup_pin(src)) != RS_OK) {
		rs_store_backup_say(errmsg, errsz, "the database",
		    sqlite3_errmsg(src->h));
		return err;
	}
	if ((err = rs_store_backup_size(src, &out->pages,
	    &out->page_size)) != RS_OK) {
		rs_store_backup_say(errmsg, errsz, "the database",
		    sqlite3_errmsg(src->h));
		goto out;
	}
	if ((rc = sqlite3_open_v2(dest, &d, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL)) != SQLITE_OK) {
		rs_store_backup_say(errmsg, errsz, dest, d != NULL ?
		    sqlite3_errmsg(d) : sqlite3_errstr(rc));
		err = RS_ERR_IO;
		goto out;
	}
	if ((b = sqlite3_backup_init(d, "main", src->h, "main")) == NULL) {
		rs_store_backup_say(errmsg, errsz, dest, sqlite3_errmsg(d));
		err = RS_ERR_DB;
		goto out;
	}
	rc = rs_store_backup_steps(b, step_pages, pause_ms, cancelled, out);
	out->pages = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK && rc == SQLITE_DONE)
		rc = sqlite3_errcode(d);
	if (rc == SQLITE_INTERRUPT) {
		rs_store_backup_say(errmsg, errsz, dest, "interrupted");
		err = RS_ERR_STATE;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rs_store_backup_say(errmsg, errsz, dest, sqlite3_errstr(rc));
		err = rs_db_err(rc) == RS_OK ? RS_ERR_DB : rs_db_err(rc);
		goto out;
	}
	/*
	 * The pages copied carry src's header, which names WAL: a copy
	 * left so would need a -wal beside it wherever it is opened, and
	 * could not be opened read only. Rollback mode makes it one file.
	 */
	if ((rc = rs_store_backup_to_delete(d)) != SQLITE_OK) {
		rs_store_backup_say(errmsg, errsz, dest, rc == SQLITE_ERROR ?
		    "its journal mode cannot be changed" : sqlite3_errmsg(d));
		err = rs_db_err(rc) == RS_OK ? RS_ERR_DB : rs_db_err(rc);
		goto out;
	}
	err = RS_OK;
out:
	if (d != NULL && sqlite3_close(d) != SQLITE_OK && err == RS_OK) {
		rs_store_backup_say(errmsg, errsz, dest, "cannot be closed");
		err = RS_ERR_IO;
	}
	if (rs_db_commit(src) != RS_OK && err == RS_OK)
		err = RS_ERR_DB;	/* only a read ends: nothing lost */
	return err;
}

enum rs_err
rs_store_backup_integrity(struct rs_db *db, int64_t *problems, char *first,
    size_t firstsz)
{
	sqlite3_stmt	*st;
	const char	*line;
	int		 rc;

	if (rs_db_pg(db))
		return RS_ERR_STATE;	/* the server's: pg_amcheck */
	*problems = 0;
	first[0] = '\0';
	if ((st = rs_db_stmt(db, sql[STMT_INTEGRITY])) == NULL) {
		/* Not even a statement: the file is no database, or its
		 * schema is damaged. */
		*problems = 1;
		snprintf(first, firstsz, "%s", sqlite3_errmsg(db->h));
		return RS_OK;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		line = (const char *)sqlite3_column_text(st, 0);
		if (line != NULL && strcmp(line, "ok") == 0)
			continue;
		if ((*problems)++ == 0)
			snprintf(first, firstsz, "%s", line ? line : "?");
	}
	if (rc != SQLITE_DONE && *problems == 0) {
		*problems = 1;
		snprintf(first, firstsz, "%s", sqlite3_errmsg(db->h));
	}
	rs_db_done(st);
	return rc == SQLITE_DONE || (rc & 0xff) == SQLITE_CORRUPT ||
	    (rc & 0xff) == SQLITE_NOTADB ? RS_OK : rs_db_err(rc);
}

enum rs_err
rs_store_backup_fkeys(struct rs_db *db, int64_t *violations, char *first,
    size_t firstsz)
{
	sqlite3_stmt	*st;
	const char	*table, *parent;
	int		 rc;

	if (rs_db_pg(db))
		return RS_ERR_STATE;	/* PostgreSQL never defers them */
	*violations = 0;
	first[0] = '\0';
	if ((st = rs_db_stmt(db, sql[STMT_FKEYS])) == NULL)
		return RS_ERR_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((*violations)++ != 0)
			continue;
		table = (const char *)sqlite3_column_text(st, 0);
		parent = (const char *)sqlite3_column_text(st, 2);
		snprintf(first, firstsz, "%s rowid %lld refers to a missing "
		    "row of %s", table ? table : "?",
		    (long long)sqlite3_column_int64(st, 1),
		    parent ? parent : "?");
	}
	rs_db_done(st);
	return rc == SQLITE_DONE ? RS_OK : rs_db_err(rc);
}

/* The one integer statement s yields, into *v. */
static enum rs_err
rs_store_backup_int(struct rs_db *db, const char *s, int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	*v = 0;
	if ((st = rs_db_stmt(db, s)) == NULL)
		return RS_ERR_DB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	rs_db_done(st);
	return rc == SQLITE_ROW ? RS_OK : rs_db_err(rc);
}

enum rs_err
rs_store_backup_size(struct rs_db *db, int64_t *pages, int64_t *page_size)
{
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return RS_ERR_STATE;
	if ((rc = rs_store_backup_int(db, sql[STMT_PAGES], pages)) != RS_OK)
		return rc;
	return rs_store_backup_int(db, sql[STMT_PAGE_SIZE], page_size);
}

enum rs_err
rs_store_backup_census(struct rs_db *db, struct rs_store_backup_census *c)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (rs_db_pg(db))
		return rs_store_backup_pg_census(db, c);
	memset(c, 0, sizeof(*c));
	if ((st = rs_db_stmt(db, sql[STMT_CENSUS])) == NULL)
		return RS_ERR_DB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c->orgs = sqlite3_column_int64(st, 0);
		c->users = sqlite3_column_int64(st, 1);
		c->keys = sqlite3_column_int64(st, 2);
		c->records = sqlite3_column_int64(st, 3);
		c->events = sqlite3_column_int64(st, 4);
		c->audit = sqlite3_column_int64(st, 5);
		c->webhooks = sqlite3_column_int64(st, 6);
		c->jobs = sqlite3_column_int64(st, 7);
	}
	rs_db_done(st);
	return rc == SQLITE_ROW ? RS_OK : rs_db_err(rc);
}
