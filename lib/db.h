/*
 * db.h: a SQLite connection, used by one thread.
 *
 * Opened once per process (after FCGX_Init, never before a fork; the
 * process's checkpointer thread, ckpt.h, opens a second one), in WAL
 * mode with synchronous and a busy handler set explicitly (Debian's
 * defaults are FULL and no waiting). Statements are prepared once and
 * cached by the address of their SQL text, which lives in each module's
 * const statement table; after use they are reset, so no statement
 * holds a read transaction open and blocks WAL checkpoints.
 * Every transaction that may write starts with BEGIN IMMEDIATE, after
 * taking the writers' queue: an flock on "<database>.wlock". SQLite's
 * own lock is polled by a busy handler, and pollers wake late (a long
 * tail under write load); a blocked flock wakes the moment the lock is
 * free. The SQLite lock still guards everything: the queue only orders
 * our own writers, and a writer that cannot open the lock file falls back
 * to polling.
 */
#ifndef RS_DB_H
#define RS_DB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct sqlite3;
struct sqlite3_stmt;
struct rs_pg;

#define RS_DB_MAX_STMTS	128
#define RS_DB_CHECKPOINT_PAGES	1000	/* WAL size that asks for one */

struct rs_db {
	struct sqlite3		*h;
	struct rs_pg		*pg;	/* PostgreSQL instead (db_pg.h) */
	int			 in_tx;
	int			 wlock_fd;	/* the writers' queue, or -1 */
	int			 wlock_held;
	int			 wlock_waited;	/* the last take had to wait */
	int			 wlock_poll;	/* poll it: no SIGALRM */
	int			 wal_pages;	/* WAL size at the last commit */
	int			 ckpt_at;	/* WAL size that asks for the
						 * next checkpoint */
	int			 nest;		/* an outer write transaction is
						 * open (rs_db_nest_begin) */
	int			 depth;		/* levels open in it */
	int			 own;		/* level 1 is the nest's own
						 * transaction: 1 to come, 2
						 * open (rs_db_nest_own) */
	int			 shared;	/* rs_db_note_shared() in the
						 * open transaction */
	void			(*on_shared)(void *);
	void			*on_shared_arg;
	int64_t			 busy_start_ms;	/* of the current wait */
	int64_t			 busy_limit_ms;	/* how long a wait may last */
	size_t			 nstmt;
	struct {
		const char		*sql;
		struct sqlite3_stmt	*st;
	}			 stmts[RS_DB_MAX_STMTS];
};

/*
 * Whether a store runs on PostgreSQL: each store's public function asks
 * first and hands the call to its store_*_pg.c twin. A constant 0 in a
 * build without the backend, so the compiler drops those calls.
 */
#ifdef RS_HAVE_PG
#define rs_db_pg(db)	((db)->pg != NULL)
#else
#define rs_db_pg(db)	((void)(db), 0)
#endif

/* "postgresql" or "sqlite". */
const char	*rs_db_backend(const struct rs_db *db);

/*
 * Opens (creating when create is set) the database at path, or connects
 * to the PostgreSQL database path names (rs_config_conninfo; RS_ERR_INVAL,
 * logged, in a build without the backend; create and sync_full do not
 * apply).
 * Returns RS_OK and *out (release with rs_db_close), or an error.
 */
enum rs_err	 rs_db_open(const char *path, int create, int sync_full,
		    struct rs_db **out);
/*
 * Opens the existing database at path (read-only when readonly is set)
 * with none of rs_db_open()'s settings: no WAL switch, no pragmas, no
 * writers' queue; a plain busy timeout of busy_ms. For what looks at a
 * file rather than serves it (backups, checks, the restore's lock). On
 * failure *errmsg (errsz bytes) says why.
 */
enum rs_err	 rs_db_open_bare(const char *path, int readonly, int busy_ms,
		    struct rs_db **out, char *errmsg, size_t errsz);
void		 rs_db_close(struct rs_db *db);
/*
 * The prepared statement for sql (which must be a string of static
 * storage: its address is the cache key), reset and unbound; NULL on
 * failure, logged. Pass it back to rs_db_done() after use.
 */
struct sqlite3_stmt *rs_db_stmt(struct rs_db *db, const char *sql);
/* Resets and unbinds st so it holds no read transaction. */
void		 rs_db_done(struct sqlite3_stmt *st);
/*
 * Steps st, a statement that yields no row (INSERT, UPDATE), to its end
 * and releases it (rs_db_done). RS_OK, or the error its result maps to.
 */
enum rs_err	 rs_db_run(struct sqlite3_stmt *st);
/*
 * Copies text column col of st's current row into dst. RS_OK; or
 * RS_ERR_RANGE (dst emptied) when it is NULL or does not fit: a stored
 * value longer than its type allows is refused, never cut short.
 */
enum rs_err	 rs_db_column_copy(struct sqlite3_stmt *st, int col,
		    char *dst, size_t dstsz);
/* Text column col as a copy in arena a; NULL for SQL NULL or no memory. */
struct rs_arena;
const char	*rs_db_column_dup(struct sqlite3_stmt *st, int col,
		    struct rs_arena *a);
/* Runs one statement (no results); steps until done. */
enum rs_err	 rs_db_exec(struct rs_db *db, const char *sql);
enum rs_err	 rs_db_begin(struct rs_db *db);	/* BEGIN IMMEDIATE */
/*
 * As rs_db_begin(), for a write of one org: on PostgreSQL, writers of
 * one org take turns while other orgs' write (db_pg.h); on SQLite every
 * writer takes turns anyway.
 */
enum rs_err	 rs_db_begin_org(struct rs_db *db, const char *org);
/* BEGIN (deferred): several reads from one snapshot; end with commit. */
enum rs_err	 rs_db_begin_read(struct rs_db *db);
enum rs_err	 rs_db_commit(struct rs_db *db);
void		 rs_db_rollback(struct rs_db *db);
/*
 * One write transaction around many (a batch: one lock, one commit).
 * While it is open, rs_db_begin() and rs_db_begin_read() open a
 * savepoint instead, rs_db_commit() releases it and rs_db_rollback()
 * undoes what was done since it, so each inner writer runs unchanged and
 * one that fails leaves nothing. rs_db_nest_commit() commits the whole,
 * rs_db_nest_rollback() (and rs_db_reset()) undoes it.
 *
 * rs_db_nest_own(), right after rs_db_nest_begin(), makes the first
 * level opened the nest's own transaction, no savepoint: its commit
 * leaves the commit to rs_db_nest_commit(), its rollback undoes the
 * nest. For a writer around all the others whose undo is the nest's
 * anyway (the batch): a savepoint held open around every item made
 * SQLite keep each page an item changed in its sub-journal until the
 * end, which outgrew memory and went to a file (bench/README).
 */
enum rs_err	 rs_db_nest_begin(struct rs_db *db, const char *org);
void		 rs_db_nest_own(struct rs_db *db);
enum rs_err	 rs_db_nest_commit(struct rs_db *db);
void		 rs_db_nest_rollback(struct rs_db *db);
/*
 * The levels open inside the nest (its own and the savepoints), or -1
 * when no nest is open (it was never begun, was undone from its own
 * level, or a savepoint that could not be undone took it down).
 * rs_db_nest_unwind() undoes the levels above depth that a failed inner
 * writer left open.
 */
int		 rs_db_nest_depth(const struct rs_db *db);
void		 rs_db_nest_unwind(struct rs_db *db, int depth);
/*
 * A store that has just changed something every process of the pool may
 * keep in memory (a key's holder: its revocation, its user's role or
 * status, its org's rate; the schema) says so here. The function set by
 * rs_db_on_shared() then runs once the change is committed: after the
 * outer COMMIT, at once when no transaction is open (the statement
 * committed itself), never when it is rolled back. A savepoint undone
 * keeps the note: one call too many only costs the pool a reread.
 */
void		 rs_db_note_shared(struct rs_db *db);
void		 rs_db_on_shared(struct rs_db *db, void (*fn)(void *),
		    void *arg);
/* Whether a transaction is open on the connection. */
int		 rs_db_in_tx(struct rs_db *db);
/*
 * The first failure of the write transaction open or last ended, RS_OK
 * for none. On PostgreSQL the transaction's BEGIN and lock go ahead of
 * its first statement (db_pg.h), so a lock not had in time, or a
 * connection lost, shows as that statement's failure, which a caller
 * that only knows "it failed" would call a 500: this says it was busy.
 * SQLite fails at rs_db_begin() instead: always RS_OK.
 */
enum rs_err	 rs_db_tx_err(struct rs_db *db);
/* End of request: roll back what is open and reset every statement. */
void		 rs_db_reset(struct rs_db *db);
/* The error an SQLite result code stands for. */
enum rs_err	 rs_db_err(int sqlite_rc);
/*
 * Whether this connection's commits have grown the WAL past the
 * checkpoint threshold since it last said so (the request path never
 * checkpoints: see ckpt.h).
 */
int		 rs_db_checkpoint_due(struct rs_db *db);
/* The WAL's size in pages after this connection's last commit. */
int		 rs_db_wal_pages(const struct rs_db *db);
/*
 * 1 when the last write transaction found another writer in the queue
 * and had to wait: a background writer (the worker) backs off then, so
 * the API's writes keep the lock most of the time.
 */
int		 rs_db_wlock_waited(const struct rs_db *db);
/*
 * Waits for the writers' queue by polling instead of a SIGALRM timer:
 * for a connection used off the main thread.
 */
void		 rs_db_set_polling(struct rs_db *db);
/*
 * Copies the WAL back into the database (without holding writers for
 * the bulk of it) and lets the next writer start the WAL file again
 * from its beginning. RS_OK, RS_ERR_BUSY (another checkpoint runs, or a
 * reader stayed; try again later), or an error.
 */
enum rs_err	 rs_db_checkpoint(struct rs_db *db);
/*
 * Its first step alone: copies the WAL back while writers go on, and
 * never holds the writers' queue. When no one else writes meanwhile, the
 * next write starts the WAL again from its beginning; under other
 * writers, that takes rs_db_checkpoint(). For a background process
 * (the worker runs niced: holding the queue, it would keep the API's
 * writers waiting while the scheduler runs others).
 */
enum rs_err	 rs_db_checkpoint_copy(struct rs_db *db);
/*
 * The one integer sql (a static statement text, see rs_db_stmt) yields
 * with text parameter ?1 bound to p1: the first column of its first row;
 * -1 when it yields no row or fails.
 */
int64_t		 rs_db_int(struct rs_db *db, const char *sql, const char *p1);
/*
 * The schema's version, or -1: SQLite's PRAGMA user_version; on
 * PostgreSQL the row of table rs_schema (0 while there is none).
 */
int		 rs_db_user_version(struct rs_db *db);
/* Inside a write transaction: sets the schema's version. */
enum rs_err	 rs_db_set_user_version(struct rs_db *db, int version);

#endif /* RS_DB_H */
