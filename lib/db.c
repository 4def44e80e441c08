#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "db.h"
#ifdef RS_HAVE_PG
#include "db_pg.h"
#endif

enum rs_err
rs_db_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return RS_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return RS_ERR_BUSY;
	case SQLITE_CONSTRAINT:
		return RS_ERR_EXISTS;
	case SQLITE_NOMEM:
		return RS_ERR_NOMEM;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
		return RS_ERR_IO;
	default:
		return RS_ERR_DB;
	}
}

/*
 * SQLite's own busy handler sleeps in coarse steps (up to 100 ms), which
 * shows as a long tail under write contention. Wait in short, growing
 * steps instead, up to db->busy_limit_ms (RS_BUSY_TIMEOUT_MS) in all.
 */
static int
rs_db_busy(void *arg, int count)
{
	struct rs_db	*db = arg;
	struct timespec	 ts;
	int64_t		 now = rs_clock_now_ms();
	long		 us;

	if (count == 0)
		db->busy_start_ms = now;
	if (now - db->busy_start_ms >= db->busy_limit_ms)
		return 0;
	us = 50L << (count < 6 ? count : 6);	/* 50 us .. 3.2 ms */
	us += rand() % 200;			/* de-synchronise waiters */
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

/* Opens "<path>.wlock"; without it writers only poll SQLite's lock. */
static void
rs_db_wlock_open(struct rs_db *db, const char *path)
{
	char	 name[4096];

	db->wlock_fd = -1;
	if ((size_t)snprintf(name, sizeof(name), "%s.wlock", path) >=
	    sizeof(name))
		return;
	if ((db->wlock_fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC,
	    0660)) == -1)
		rs_log_warn("%s: %s; writers will poll instead of queueing",
		    name, strerror(errno));
}

static void
rs_db_alarm(int sig)
{
	(void)sig;	/* only to interrupt flock() */
}

/*
 * Waits for the writers' queue, at most RS_BUSY_TIMEOUT_MS.
 * RS_OK (also when there is no queue), or RS_ERR_BUSY.
 */
/* Polls the writers' queue, at most db->busy_limit_ms; 0 or -1/errno. */
static int
rs_db_wlock_poll(struct rs_db *db)
{
	struct timespec	 ts = { 0, 200 * 1000 };	/* 200 us */
	int64_t		 start = rs_clock_now_ms();

	while (flock(db->wlock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		db->wlock_waited = 1;
		if (rs_clock_now_ms() - start >= db->busy_limit_ms) {
			errno = EWOULDBLOCK;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

static enum rs_err
rs_db_wlock(struct rs_db *db)
{
	struct sigaction	 sa, old;
	struct itimerval	 it, off;
	int			 rc;

	if (db->wlock_fd == -1 || db->wlock_held)
		return RS_OK;
	db->wlock_waited = 0;
	if (db->wlock_poll)
		rc = rs_db_wlock_poll(db);
	else if ((rc = flock(db->wlock_fd, LOCK_EX | LOCK_NB)) == -1 &&
	    errno == EWOULDBLOCK) {
		db->wlock_waited = 1;
		/* Block, with a timer to end the wait (the process's
		 * other thread, the checkpointer, blocks SIGALRM). */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = rs_db_alarm;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, &old);
		memset(&it, 0, sizeof(it));
		memset(&off, 0, sizeof(off));
		it.it_value.tv_sec = RS_BUSY_TIMEOUT_MS / 1000;
		it.it_value.tv_usec = (RS_BUSY_TIMEOUT_MS % 1000) * 1000;
		setitimer(ITIMER_REAL, &it, NULL);
		rc = flock(db->wlock_fd, LOCK_EX);
		setitimer(ITIMER_REAL, &off, NULL);
		sigaction(SIGALRM, &old, NULL);
	}
	if (rc == -1)
		return errno == EINTR || errno == EWOULDBLOCK ? RS_ERR_BUSY :
		    RS_OK;	/* a broken queue must not stop writes */
	db->wlock_held = 1;
	return RS_OK;
}

int
rs_db_wlock_waited(const struct rs_db *db)
{
	return db->wlock_waited;
}

void
rs_db_set_polling(struct rs_db *db)
{
	db->wlock_poll = 1;
}

static void
rs_db_wunlock(struct rs_db *db)
{
	if (db->wlock_held) {
		flock(db->wlock_fd, LOCK_UN);
		db->wlock_held = 0;
	}
}

/*
 * No checkpoint inside COMMIT: it would run while this writer holds the
 * writers' queue, and every other writer would wait for its page copies
 * and fsyncs. Our WAL hook replaces SQLite's auto-checkpoint (which is
 * itself a WAL hook: so it must be set after any wal_autocheckpoint
 * pragma). The pool's checkpointer thread (ckpt.h) checkpoints instead
 * when rs_db_checkpoint_due() says so; the worker checkpoints every
 * minute, and copies the WAL back when it finds it large after a commit
 * of its own (no one else checkpointed: no client writes).
 */
/* How long the RESTART step may wait for readers, holding every writer. */
#define RS_DB_RESTART_WAIT_MS	20
/* A WAL that grew past this (a long reader held it) shrinks back to it
 * when it starts again; below it the file is reused as it is. */
#define RS_DB_WAL_LIMIT		"16777216"
/* A savepoint's journal is kept in memory in one piece of this size:
 * below 128 KiB, the largest write Debian's unix VFS takes at once. A
 * journal that outgrows it moves to a temporary file, the piece copied
 * there in one write (at 1 MiB: SQLITE_FULL, and the batch refused). */
#define RS_DB_SUBJOURNAL	(120 * 1024)

/* Notes how large the WAL has grown after each commit. */
static int
rs_db_wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
	struct rs_db	*db = arg;

	(void)h;
	(void)name;
	/* Smaller than at the last commit: the WAL started again. */
	if (pages < db->wal_pages)
		db->ckpt_at = RS_DB_CHECKPOINT_PAGES;
	db->wal_pages = pages;
	return SQLITE_OK;
}

enum rs_err
rs_db_checkpoint_copy(struct rs_db *db)
{
	int	 rc;

	if (rs_db_pg(db))
		return RS_OK;	/* the server checkpoints its own WAL */
	if (db->in_tx)
		return RS_ERR_BUSY;
	rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		rs_log_warn("checkpoint: %s", sqlite3_errmsg(db->h));
	return rs_db_err(rc);
}

enum rs_err
rs_db_checkpoint(struct rs_db *db)
{
	enum rs_err	 err;
	int		 rc;

	/*
	 * The WAL only starts again from its beginning when a writer finds
	 * every frame copied back and no reader in it. Under steady writes
	 * from several processes a PASSIVE checkpoint alone never gets there,
	 * and the WAL grew without bound (gigabytes in a minute of load,
	 * each append paying for new file blocks). So two steps: PASSIVE
	 * (rs_db_checkpoint_copy), while writers go on, does the bulk (page
	 * copies and the fsyncs of the WAL and the database); then, holding
	 * the writers' queue, RESTART copies the few frames written meanwhile
	 * and waits for readers to leave the WAL, so the next writer rewrites
	 * the file from its start. Writers wait only for the second, short
	 * step.
	 */
	if ((err = rs_db_checkpoint_copy(db)) != RS_OK || rs_db_pg(db))
		return err;
	if (rs_db_wlock(db) != RS_OK)
		return RS_ERR_BUSY;
	/* A reader that stays is no reason to stall every writer: give up
	 * soon and try again later. */
	db->busy_limit_ms = RS_DB_RESTART_WAIT_MS;
	rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_RESTART,
	    NULL, NULL);
	db->busy_limit_ms = RS_BUSY_TIMEOUT_MS;
	rs_db_wunlock(db);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		rs_log_warn("checkpoint: %s", sqlite3_errmsg(db->h));
	return rs_db_err(rc);
}

/*
 * Asked at RS_DB_CHECKPOINT_PAGES, then again only once the WAL has grown
 * as much more. While a long reader (a backup, a check) keeps the WAL from
 * starting again, every checkpoint's RESTART step holds the writers for
 * RS_DB_RESTART_WAIT_MS in vain: asked at every commit, that made every
 * write wait (writes ran at a tenth of their pace during a backup).
 */
int
rs_db_checkpoint_due(struct rs_db *db)
{
	if (db->wal_pages < db->ckpt_at)
		return 0;
	db->ckpt_at = db->wal_pages + RS_DB_CHECKPOINT_PAGES;
	return 1;
}

int
rs_db_wal_pages(const struct rs_db *db)
{
	return db->wal_pages;
}

static enum rs_err
rs_db_pragmas(struct rs_db *db, int sync_full)
{
	enum rs_err	 rc;

	if ((rc = rs_db_exec(db, "PRAGMA journal_mode=WAL")) != RS_OK ||
	    (rc = rs_db_exec(db, sync_full ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL")) != RS_OK ||
	    (rc = rs_db_exec(db, "PRAGMA foreign_keys=ON")) != RS_OK ||
	    (rc = rs_db_exec(db, "PRAGMA journal_size_limit="
	    RS_DB_WAL_LIMIT)) != RS_OK)
		return rc;
	return RS_OK;
}

/*
 * Once per process, before SQLite initialises: no memory statistics,
 * which would take a global mutex on every allocation SQLite makes (we
 * never read them). A savepoint (a batch has one per item) keeps the
 * pages it changes in a sub-journal held in memory up to a spill size,
 * then in a temporary file for the rest of the transaction: at SQLite's
 * 64 KiB a batch rewrote every page it touched into that file, and with
 * temp_store=MEMORY the journal grew in 1 KiB pieces, four mallocs a
 * page (bench/README, session 8). One piece of RS_DB_SUBJOURNAL is one
 * allocation while an item's journal fits in it, and an item's journal
 * is dropped at its release as long as no savepoint stays open around
 * the items (rs_db_nest_own). Later calls, and a library some other
 * code already initialised, change nothing.
 */
static void
rs_db_configure(void)
{
	static int	 done;

	if (done)
		return;
	done = 1;
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, RS_DB_SUBJOURNAL);
}

const char *
rs_db_backend(const struct rs_db *db)
{
	return rs_db_pg(db) ? "postgresql" : "sqlite";
}

/* A connection to the PostgreSQL database conninfo names. */
static enum rs_err
rs_db_open_pg(const char *conninfo, struct rs_db **out)
{
#ifdef RS_HAVE_PG
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return RS_ERR_NOMEM;
	db->wlock_fd = -1;
	db->busy_limit_ms = RS_BUSY_TIMEOUT_MS;
	if ((rc = rs_pg_open(conninfo, &db->pg)) != RS_OK) {
		free(db);
		return rc;
	}
	*out = db;
	return RS_OK;
#else
	(void)conninfo;
	(void)out;
	rs_log_err("RELAYSYNC_DB names a PostgreSQL database, and this "
	    "build has no PostgreSQL backend (./configure "
	    "--with-postgresql)");
	return RS_ERR_INVAL;
#endif
}

enum rs_err
rs_db_open(const char *path, int create, int sync_full, struct rs_db **out)
{
	struct rs_db	*db;
	enum rs_err	 rc;
	int		 flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	if (rs_config_conninfo(path))
		return rs_db_open_pg(path, out);
	rs_db_configure();
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return RS_ERR_NOMEM;
	db->wlock_fd = -1;	/* never close(0): it is the FastCGI socket */
	db->busy_limit_ms = RS_BUSY_TIMEOUT_MS;
	db->ckpt_at = RS_DB_CHECKPOINT_PAGES;
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		rs_log_err("%s: %s", path, db->h ? sqlite3_errmsg(db->h) :
		    "cannot open");
		rc = rs_db_err(db->h ? sqlite3_errcode(db->h) : SQLITE_NOMEM);
		goto err;
	}
	sqlite3_extended_result_codes(db->h, 0);
	rs_db_wlock_open(db, path);
	sqlite3_busy_handler(db->h, rs_db_busy, db);
	if ((rc = rs_db_pragmas(db, sync_full)) != RS_OK)
		goto err;
	sqlite3_wal_hook(db->h, rs_db_wal_hook, db);
	*out = db;
	return RS_OK;
err:
	rs_db_close(db);
	return rc == RS_OK ? RS_ERR_DB : rc;
}

enum rs_err
rs_db_open_bare(const char *path, int readonly, int busy_ms,
    struct rs_db **out, char *errmsg, size_t errsz)
{
	struct rs_db	*db;
	int		 rc, flags = SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	rs_db_configure();
	flags |= readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return RS_ERR_NOMEM;
	db->wlock_fd = -1;
	db->busy_limit_ms = busy_ms;
	db->ckpt_at = RS_DB_CHECKPOINT_PAGES;
	if ((rc = sqlite3_open_v2(path, &db->h, flags, NULL)) != SQLITE_OK) {
		if (errmsg != NULL && errsz > 0)
			snprintf(errmsg, errsz, "%s: %s", path, db->h != NULL ?
			    sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		rs_db_close(db);
		return rc == SQLITE_NOMEM ? RS_ERR_NOMEM : RS_ERR_IO;
	}
	sqlite3_extended_result_codes(db->h, 0);
	sqlite3_busy_timeout(db->h, busy_ms);
	*out = db;
	return RS_OK;
}

void
rs_db_close(struct rs_db *db)
{
	size_t	 i;

	if (db == NULL)
		return;
#ifdef RS_HAVE_PG
	rs_pg_close(db->pg);
#endif
	for (i = 0; i < db->nstmt; i++)
		sqlite3_finalize(db->stmts[i].st);
	sqlite3_close(db->h);
	if (db->wlock_fd != -1)
		close(db->wlock_fd);
	free(db);
}

struct sqlite3_stmt *
rs_db_stmt(struct rs_db *db, const char *sql)
{
	sqlite3_stmt	*st;
	size_t		 i;

	if (rs_db_pg(db)) {
		/* A store that forgot its rs_db_pg() turn: a bug. */
		rs_log_err("an SQLite statement on PostgreSQL: %.80s", sql);
		return NULL;
	}
	for (i = 0; i < db->nstmt; i++)
		if (db->stmts[i].sql == sql)
			return db->stmts[i].st;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL) != SQLITE_OK) {
		rs_log_err("prepare: %s: %.80s", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	if (db->nstmt == RS_DB_MAX_STMTS) {
		/* Callers do not own statements, so one that cannot be
		 * cached cannot be handed out: the caller fails. A bug:
		 * raise RS_DB_MAX_STMTS. */
		rs_log_err("statement cache full (%d): %.80s",
		    RS_DB_MAX_STMTS, sql);
		sqlite3_finalize(st);
		return NULL;
	}
	db->stmts[db->nstmt].sql = sql;
	db->stmts[db->nstmt].st = st;
	db->nstmt++;
	return st;
}

void
rs_db_done(struct sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

enum rs_err
rs_db_run(struct sqlite3_stmt *st)
{
	int	 rc = sqlite3_step(st);

	rs_db_done(st);
	return rc == SQLITE_DONE ? RS_OK : rs_db_err(rc);
}

enum rs_err
rs_db_column_copy(struct sqlite3_stmt *st, int col, char *dst, size_t dstsz)
{
	const char	*s = (const char *)sqlite3_column_text(st, col);
	size_t		 len = (size_t)sqlite3_column_bytes(st, col);

	dst[0] = '\0';
	if (s == NULL || len >= dstsz)
		return RS_ERR_RANGE;
	memcpy(dst, s, len + 1);
	return RS_OK;
}

const char *
rs_db_column_dup(struct sqlite3_stmt *st, int col, struct rs_arena *a)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return rs_arena_strndup(a, (const char *)sqlite3_column_text(st, col),
	    (size_t)sqlite3_column_bytes(st, col));
}

enum rs_err
rs_db_exec(struct rs_db *db, const char *sql)
{
	char	*msg = NULL;
	int	 rc;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return rs_pg_exec(db, sql);
#endif
	rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		rs_log_err("%.60s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rs_db_err(rc);
	}
	return RS_OK;
}

/* Cached like any statement: a batch opens savepoints by the hundred. */
static const char rs_db_sql_begin[] = "BEGIN IMMEDIATE";
static const char rs_db_sql_begin_read[] = "BEGIN";
static const char rs_db_sql_commit[] = "COMMIT";
static const char rs_db_sql_savepoint[] = "SAVEPOINT rs_nest";
static const char rs_db_sql_release[] = "RELEASE rs_nest";
static const char rs_db_sql_undo[] = "ROLLBACK TO rs_nest";

#ifdef RS_HAVE_PG
/* rs_db_step() on PostgreSQL: each statement above as db_pg.h has it. */
static enum rs_err
rs_db_step_pg(struct rs_db *db, const char *sql, const char *org)
{
	if (sql == rs_db_sql_begin)
		return rs_pg_begin(db->pg, org, 0);
	if (sql == rs_db_sql_begin_read)
		return rs_pg_begin(db->pg, NULL, 1);
	if (sql == rs_db_sql_commit)
		return rs_pg_commit(db->pg);
	if (sql == rs_db_sql_savepoint)
		return rs_pg_savepoint(db->pg);
	if (sql == rs_db_sql_release)
		return rs_pg_release(db->pg);
	if (sql == rs_db_sql_undo)
		return rs_pg_undo(db->pg);
	return RS_ERR_STATE;
}
#endif

/*
 * Runs one cached statement without results (BEGIN, COMMIT); org, for
 * BEGIN IMMEDIATE on PostgreSQL, the org whose writers take turns.
 */
static enum rs_err
rs_db_step_org(struct rs_db *db, const char *sql, const char *org)
{
	sqlite3_stmt	*st;
	int		 rc;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return rs_db_step_pg(db, sql, org);
#else
	(void)org;
#endif
	if ((st = rs_db_stmt(db, sql)) == NULL)
		return RS_ERR_DB;
	rc = sqlite3_step(st);
	rs_db_done(st);
	if (rc != SQLITE_DONE) {
		rs_log_err("%s: %s", sql, sqlite3_errmsg(db->h));
		return rs_db_err(rc);
	}
	return RS_OK;
}

static enum rs_err
rs_db_step(struct rs_db *db, const char *sql)
{
	return rs_db_step_org(db, sql, NULL);
}

/* Inside a nest: its own level first, then savepoints. */
static enum rs_err
rs_db_savepoint(struct rs_db *db)
{
	enum rs_err	 rc;

	if (db->depth == 0 && db->own == 1) {
		db->own = 2;
		db->depth = 1;
		return RS_OK;
	}
	if ((rc = rs_db_step(db, rs_db_sql_savepoint)) == RS_OK)
		db->depth++;
	return rc;
}

/* Whether the innermost open level of the nest is its own. */
static int
rs_db_at_own(const struct rs_db *db)
{
	return db->nest && db->own == 2 && db->depth == 1;
}

enum rs_err
rs_db_begin(struct rs_db *db)
{
	return rs_db_begin_org(db, NULL);
}

enum rs_err
rs_db_begin_org(struct rs_db *db, const char *org)
{
	enum rs_err	 rc;

	if (db->nest)
		return rs_db_savepoint(db);
	if ((rc = rs_db_wlock(db)) != RS_OK)
		return rc;
	if ((rc = rs_db_step_org(db, rs_db_sql_begin, org)) == RS_OK)
		db->in_tx = 1;
	else
		rs_db_wunlock(db);
	return rc;
}

enum rs_err
rs_db_begin_read(struct rs_db *db)
{
	enum rs_err	 rc;

	if (db->nest)
		return rs_db_savepoint(db);
	if ((rc = rs_db_step(db, rs_db_sql_begin_read)) == RS_OK)
		db->in_tx = 1;
	return rc;
}

int
rs_db_in_tx(struct rs_db *db)
{
#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return rs_pg_in_tx(db->pg);
#endif
	return !sqlite3_get_autocommit(db->h);
}

enum rs_err
rs_db_tx_err(struct rs_db *db)
{
#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return rs_pg_tx_err(db->pg);
#endif
	(void)db;
	return RS_OK;
}

/* After a commit: tells the pool about a change rs_db_note_shared()
 * named in it. */
static void
rs_db_shared_done(struct rs_db *db)
{
	if (!db->shared)
		return;
	db->shared = 0;
	if (db->on_shared != NULL)
		db->on_shared(db->on_shared_arg);
}

void
rs_db_note_shared(struct rs_db *db)
{
	db->shared = 1;
	if (!rs_db_in_tx(db))
		rs_db_shared_done(db);
}

void
rs_db_on_shared(struct rs_db *db, void (*fn)(void *), void *arg)
{
	db->on_shared = fn;
	db->on_shared_arg = arg;
}

enum rs_err
rs_db_commit(struct rs_db *db)
{
	enum rs_err	 rc;

	if (rs_db_at_own(db)) {
#ifdef RS_HAVE_PG
		/* What it sent ahead answers now, as at a savepoint's
		 * release: a failure is this level's, the nest's undo. */
		if (rs_db_pg(db) && (rc = rs_pg_settle(db->pg)) != RS_OK) {
			rs_db_rollback(db);
			return rc;
		}
#endif
		db->depth = 0;	/* rs_db_nest_commit() commits it */
		db->own = 0;
		return RS_OK;
	}
	if (db->nest && db->depth > 0) {
		if ((rc = rs_db_step(db, rs_db_sql_release)) == RS_OK)
			db->depth--;
		else
			rs_db_rollback(db);
		return rc;
	}
	if (db->nest) {
		/* Only rs_db_nest_commit() ends the outer transaction. */
		rs_log_err("a commit with no savepoint open in a nested "
		    "transaction; all of it is rolled back");
		rs_db_nest_rollback(db);
		return RS_ERR_STATE;
	}
	if ((rc = rs_db_step(db, rs_db_sql_commit)) == RS_OK) {
		db->in_tx = 0;
		rs_db_wunlock(db);
		rs_db_shared_done(db);
	} else
		rs_db_rollback(db);
	return rc;
}

void
rs_db_rollback(struct rs_db *db)
{
	/* A savepoint's undo keeps the outer transaction, lock and all;
	 * the nest's own level's undo is the nest's. */
	if (db->nest && db->depth > 0 && !rs_db_at_own(db)) {
		if (rs_db_step(db, rs_db_sql_undo) == RS_OK &&
		    rs_db_step(db, rs_db_sql_release) == RS_OK) {
			db->depth--;
			return;
		}
		rs_log_err("a savepoint could not be undone; the whole "
		    "transaction is");
	}
	db->nest = 0;
	db->depth = 0;
	db->own = 0;
	db->shared = 0;
#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		rs_pg_rollback(db->pg);
	else
#endif
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	db->in_tx = 0;
	rs_db_wunlock(db);
}

enum rs_err
rs_db_nest_begin(struct rs_db *db, const char *org)
{
	enum rs_err	 rc;

	if (db->nest || db->in_tx)
		return RS_ERR_STATE;
	if ((rc = rs_db_begin_org(db, org)) != RS_OK)
		return rc;
#ifdef RS_HAVE_PG
	/* A busy lock is the whole batch's 503, not its first item's. */
	if (rs_db_pg(db) && (rc = rs_pg_settle(db->pg)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
#endif
	db->nest = 1;
	db->depth = 0;
	db->own = 0;
	return RS_OK;
}

void
rs_db_nest_own(struct rs_db *db)
{
	if (db->nest && db->depth == 0)
		db->own = 1;
}

enum rs_err
rs_db_nest_commit(struct rs_db *db)
{
	if (!db->nest || db->depth != 0) {
		rs_db_nest_rollback(db);
		return RS_ERR_STATE;
	}
	db->nest = 0;
	return rs_db_commit(db);
}

void
rs_db_nest_rollback(struct rs_db *db)
{
	db->nest = 0;
	db->depth = 0;
	rs_db_rollback(db);
}

int
rs_db_nest_depth(const struct rs_db *db)
{
	return db->nest ? db->depth : -1;
}

void
rs_db_nest_unwind(struct rs_db *db, int depth)
{
	while (db->nest && db->depth > depth)
		rs_db_rollback(db);
}

void
rs_db_reset(struct rs_db *db)
{
	size_t	 i;

	if (db == NULL)
		return;
	rs_db_nest_rollback(db);
	for (i = 0; i < db->nstmt; i++)
		rs_db_done(db->stmts[i].st);
}

#ifdef RS_HAVE_PG
/*
 * PostgreSQL has no user_version: one row of table rs_schema holds it
 * (made by the first migration's transaction, rs_db_set_user_version).
 */
static const char rs_db_sql_pg_has_version[] =
	"SELECT to_regclass('rs_schema') IS NOT NULL";
static const char rs_db_sql_pg_version[] =
	"SELECT coalesce(max(version), 0) FROM rs_schema";

static int
rs_db_user_version_pg(struct rs_db *db)
{
	struct pg_result	*r;
	int			 v = -1;

	if (rs_pg_query(db, rs_db_sql_pg_has_version, NULL, &r) != RS_OK)
		return -1;
	if (rs_pg_rows(r) == 1 && rs_pg_int64(r, 0, 0) == 0)
		v = 0;
	rs_pg_clear(r);
	if (v == 0)
		return 0;
	if (rs_pg_query(db, rs_db_sql_pg_version, NULL, &r) != RS_OK)
		return -1;
	if (rs_pg_rows(r) == 1)
		v = (int)rs_pg_int64(r, 0, 0);
	rs_pg_clear(r);
	return v;
}
#endif

enum rs_err
rs_db_set_user_version(struct rs_db *db, int version)
{
	char	 sql[160];

#ifdef RS_HAVE_PG
	if (rs_db_pg(db)) {
		snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS "
		    "rs_schema (version integer NOT NULL); "
		    "DELETE FROM rs_schema; "
		    "INSERT INTO rs_schema VALUES (%d)", version);
		return rs_pg_exec(db, sql);
	}
#endif
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	return rs_db_exec(db, sql);
}

int
rs_db_user_version(struct rs_db *db)
{
	static const char	 sql[] = "PRAGMA user_version";
	sqlite3_stmt		*st;
	int			 v = -1;

#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return rs_db_user_version_pg(db);
#endif
	if ((st = rs_db_stmt(db, sql)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	rs_db_done(st);
	return v;
}

int64_t
rs_db_int(struct rs_db *db, const char *sql, const char *p1)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if ((st = rs_db_stmt(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	rs_db_done(st);
	return v;
}
