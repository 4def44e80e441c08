/*
 * db_pg.h: a PostgreSQL connection (libpq), the second backend behind
 * db.h, built with ./configure --with-postgresql.
 *
 * db.h stays the interface every caller uses: rs_db_open() of a libpq
 * conninfo ("postgresql://...", "postgres://..." or "key=value ...")
 * makes a struct rs_db whose pg member is set, and db.c hands its
 * transactions, savepoints and resets to this module. Only the stores'
 * PostgreSQL halves (store_*_pg.c) and db.c include this header; a
 * store's public function asks rs_db_pg() first and calls its _pg twin.
 *
 * One connection per process, opened after the fork. Statements are
 * prepared once per connection, named by the address of their SQL text
 * (each module's static table, as with SQLite), and run with text
 * parameters (bytea in binary) and text results. A connection lost
 * (a failover, a restart of the server) fails the statement and the
 * transaction with RS_ERR_BUSY; the next rs_pg_begin() reconnects, so
 * a request is answered 503 and never half-applied. A connection idle
 * for RS_PG_IDLE_MS is first checked (its socket read without waiting),
 * so a process that waited through a restart reconnects before its
 * next statement instead of answering it 503.
 *
 * The session never plans a walk of a table that has an index to use
 * (enable_seqscan off): a plan kept from when a table was small would
 * walk it whole ever after.
 *
 * Writes run at READ COMMITTED: a write transaction begun for an org
 * (rs_db_begin_org) first takes that org's transaction lock, so writers
 * of one org take turns and each sees what the one before committed,
 * while writers of different orgs run side by side. A deadlock or a
 * serialization failure (SQLSTATE 40P01, 40001) is RS_ERR_RETRY: the
 * caller may run the whole transaction again.
 */
#ifndef RS_DB_PG_H
#define RS_DB_PG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rs_db;
struct rs_pg;
struct rs_textcache;
struct pg_result;	/* libpq's PGresult */

#define RS_PG_MAXARGS	32
#define RS_PG_CONNECT_TIMEOUT	5	/* s, unless the conninfo says */
#define RS_PG_ORG		64	/* an org id, NUL included */
#define RS_PG_PEND		16	/* savepoint commands held back */
#define RS_PG_WAIT		64	/* commands sent ahead, unread */
#define RS_PG_IDLE_MS		50	/* idle this long: check the server */

/*
 * A statement's parameters, $1 .. $n in order. Strings are borrowed
 * (they must outlive the call); numbers are printed into num.
 */
struct rs_pg_args {
	int		 n;
	const char	*v[RS_PG_MAXARGS];
	int		 len[RS_PG_MAXARGS];
	int		 fmt[RS_PG_MAXARGS];	/* 0 text, 1 binary */
	char		 num[RS_PG_MAXARGS][24];
	int		 numbers;	/* results in binary (rs_pg_numbers) */
};

/* Empties a. */
void		 rs_pg_args(struct rs_pg_args *a);
/* Appends a text parameter; NULL is SQL NULL. */
void		 rs_pg_text(struct rs_pg_args *a, const char *s);
/* Appends a text parameter of len bytes (not NUL-terminated). */
void		 rs_pg_textn(struct rs_pg_args *a, const char *s, size_t len);
void		 rs_pg_int(struct rs_pg_args *a, int64_t v);
void		 rs_pg_null(struct rs_pg_args *a);
/* Appends a bytea parameter (binary). */
void		 rs_pg_bytes(struct rs_pg_args *a, const void *p, size_t n);
/*
 * Asks for the results in binary, for a statement whose every column is
 * an integer or a boolean, read with rs_pg_int64() (which then parses
 * nothing: a page of numbers has hundreds).
 */
void		 rs_pg_numbers(struct rs_pg_args *a);

/*
 * Connects to conninfo. RS_OK and *out (rs_pg_close), or an error
 * (logged with libpq's message). The connection's session: UTC, UTF-8,
 * READ COMMITTED.
 */
enum rs_err	 rs_pg_open(const char *conninfo, struct rs_pg **out);
void		 rs_pg_close(struct rs_pg *pg);

/*
 * Runs the statement sql (static storage: its address names it) with
 * a's parameters (a may be NULL). RS_OK and *res, the result to read
 * with the accessors below and PQclear (rs_pg_clear); on failure *res is
 * NULL and the error is mapped: unique or check violation RS_ERR_EXISTS,
 * deadlock or serialization failure RS_ERR_RETRY, a lost connection or
 * a server shutting down RS_ERR_BUSY, else RS_ERR_DB (logged).
 */
enum rs_err	 rs_pg_query(struct rs_db *db, const char *sql,
		    const struct rs_pg_args *a, struct pg_result **res);
/*
 * As rs_pg_query() for a statement whose rows are not wanted; *changed
 * (may be NULL) the rows it inserted, updated or deleted.
 */
enum rs_err	 rs_pg_run(struct rs_db *db, const char *sql,
		    const struct rs_pg_args *a, int64_t *changed);
/*
 * As rs_pg_run() for a write inside a transaction whose outcome only
 * the transaction needs: it is sent now and its result read with the
 * next statement that needs an answer (or the commit), so a
 * transaction's writes share round trips. Its failure fails that
 * statement, and with it the transaction: RS_ERR_RETRY and RS_ERR_BUSY
 * as ever, anything else RS_ERR_DB (a unique violation too, so use it
 * only where a clash is not an answer). Outside a transaction it is
 * rs_pg_run().
 */
enum rs_err	 rs_pg_later(struct rs_db *db, const char *sql,
		    const struct rs_pg_args *a);
/*
 * As rs_pg_query(), unprepared: for SQL made at run time (the tests'
 * own queries), which must not be cached by its address.
 */
enum rs_err	 rs_pg_once(struct rs_db *db, const char *sql,
		    const struct rs_pg_args *a, struct pg_result **res);
/* Runs sql text as it is, unprepared (DDL, several statements). */
enum rs_err	 rs_pg_exec(struct rs_db *db, const char *sql);
void		 rs_pg_clear(struct pg_result *res);

/* The rows of res. */
int		 rs_pg_rows(const struct pg_result *res);
/* Whether (row, col) is SQL NULL. */
int		 rs_pg_isnull(const struct pg_result *res, int row, int col);
/* Text of (row, col), borrowed from res; NULL for SQL NULL. */
const char	*rs_pg_str(const struct pg_result *res, int row, int col);
/* Its length in bytes (0 for NULL). */
size_t		 rs_pg_len(const struct pg_result *res, int row, int col);
/* (row, col) as an integer: 0 for NULL; booleans are 1 and 0. */
int64_t		 rs_pg_int64(const struct pg_result *res, int row, int col);
/*
 * Copies (row, col) into dst as rs_db_column_copy() does: RS_ERR_RANGE
 * (dst emptied) for NULL or a value that does not fit.
 */
enum rs_err	 rs_pg_copy(const struct pg_result *res, int row, int col,
		    char *dst, size_t dstsz);
/* A copy in arena a; NULL for SQL NULL or no memory. */
struct rs_arena;
const char	*rs_pg_dup(const struct pg_result *res, int row, int col,
		    struct rs_arena *a);
/*
 * Decodes a bytea (row, col) into dst (dstsz bytes), its length into
 * *n. RS_ERR_RANGE for NULL or too long.
 */
enum rs_err	 rs_pg_bytea(const struct pg_result *res, int row, int col,
		    unsigned char *dst, size_t dstsz, size_t *n);

/*
 * Whether the open transaction holds org's lock (rs_db_begin_org): a
 * store that must serialise on the org need not lock anything more.
 */
int		 rs_pg_org_locked(struct rs_db *db, const char *org);

/*
 * Transactions, called by db.c only. BEGIN (and the org's lock), a
 * savepoint and its release are held back and sent ahead of the next
 * statement, in one round trip (a release right after its savepoint
 * cancels both): their errors show at that statement, which fails, and
 * the transaction with it. A release waits for the results of what was
 * sent ahead since (rs_pg_later), so a nest's failure shows in that
 * nest.
 */
/* read: a read transaction, one snapshot (REPEATABLE READ, READ ONLY). */
enum rs_err	 rs_pg_begin(struct rs_pg *pg, const char *org, int read);
enum rs_err	 rs_pg_commit(struct rs_pg *pg);
void		 rs_pg_rollback(struct rs_pg *pg);
enum rs_err	 rs_pg_savepoint(struct rs_pg *pg);
enum rs_err	 rs_pg_release(struct rs_pg *pg);
enum rs_err	 rs_pg_undo(struct rs_pg *pg);
/*
 * Waits for everything sent ahead (BEGIN and the lock among it): the
 * first failure, or RS_OK. A batch's nest learns here, before any item
 * runs, that its lock was had.
 */
enum rs_err	 rs_pg_settle(struct rs_pg *pg);
/*
 * The first failure of the transaction open or last ended (RS_OK: none;
 * a nest's undone failure is forgotten). After it every statement of
 * the transaction fails, whatever its caller makes of that.
 */
enum rs_err	 rs_pg_tx_err(const struct rs_pg *pg);
/* Whether a transaction is open on the connection. */
int		 rs_pg_in_tx(const struct rs_pg *pg);
/*
 * A result's rows in ascending order of its integer column col, leaving
 * out those whose column skip is NULL: i[0..n) are row numbers, the
 * order of res wherever it already holds (an insertion sort).
 * RS_PG_ORDER_ROWS rows need no allocation (a page of RS_PAGE_MAX and
 * one more); rs_pg_order_free() after use. RS_ERR_NOMEM, with nothing
 * to free.
 */
#define RS_PG_ORDER_ROWS	256
struct rs_pg_order {
	int	 n;
	int	*i;
	int64_t	*key;
	int	 ibuf[RS_PG_ORDER_ROWS];
	int64_t	 kbuf[RS_PG_ORDER_ROWS];
};
enum rs_err	 rs_pg_order(const struct pg_result *res, int col, int skip,
		    struct rs_pg_order *o);
void		 rs_pg_order_free(struct rs_pg_order *o);
/*
 * The texts store_records_pg.c keeps for this connection (textcache.h),
 * NULL if none. *keep is set when what is read now may be kept: no
 * write transaction is open, so what a statement reads is committed (a
 * change number written by a transaction that rolls back is written
 * again, with another text). Cleared whenever the connection is made
 * again: the server then reached may be older than the one the texts
 * came from (a standby behind the primary, a restore).
 */
struct rs_textcache *rs_pg_texts(struct rs_db *db, int *keep);

#endif /* RS_DB_PG_H */
