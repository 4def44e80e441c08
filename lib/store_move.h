/*
 * store_move.h: a database's rows, table by table, for copy.h
 * (relaysync-admin copy, SQLite to PostgreSQL): the schema's tables in
 * an order that puts every row's parents before it, each table's
 * columns as the target names them, the source's rows read as they are
 * (ids, numbers, times, hashes: so the audit chains and each org's
 * numbering stay valid), appended to the target, and the target's own
 * counters set past what was copied.
 *
 * Rows are read from SQLite and written to PostgreSQL only: reading a
 * PostgreSQL database is RS_ERR_STATE, and so is writing an SQLite one
 * (moving back is not done). Table and column names come from this
 * module's list and the target's catalog, never from outside; values
 * are always parameters. Like every store, it never sees a request and
 * its header names no backend type.
 */
#ifndef RS_STORE_MOVE_H
#define RS_STORE_MOVE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rs_db;
struct rs_arena;

#define RS_STORE_MOVE_COLS	32	/* the most columns a table has */

/* One value of a row, borrowed from the reader until the next row. */
enum rs_store_cell_type {
	RS_CELL_NULL,
	RS_CELL_INT,
	RS_CELL_TEXT,
	RS_CELL_BLOB
};
struct rs_store_cell {
	enum rs_store_cell_type	 type;
	int64_t			 i;
	const char		*p;	/* TEXT (NUL-terminated), BLOB */
	size_t			 len;
};

/* The tables, parents first; NULL ends the list. */
extern const char *const rs_store_move_tables[];
/* 1 when s is a plain lower-case SQL name, the only kind put in SQL. */
int		rs_store_move_name(const char *s);
/*
 * Appends printf(fmt, ...) to the statement text being built in buf at
 * *len: 0, or -1 when it is full.
 */
int		rs_store_move_add(char *buf, size_t bufsz, size_t *len,
		    const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/*
 * The columns of table in db (PostgreSQL: the target's catalog, in
 * their order), names in arena a, at most RS_STORE_MOVE_COLS. RS_OK
 * and *n (0: no such table).
 */
enum rs_err	rs_store_move_columns(struct rs_db *db, struct rs_arena *a,
		    const char *table, const char **cols, size_t *n);
/*
 * Calls fn(arg, cells) for each row of table in db (SQLite), its ncols
 * cols in cells; fn's error stops the walk and is returned.
 */
typedef enum rs_err (*rs_store_move_fn)(void *arg,
		    const struct rs_store_cell *cells);
enum rs_err	rs_store_move_rows(struct rs_db *db, const char *table,
		    const char *const *cols, size_t ncols,
		    rs_store_move_fn fn, void *arg);
/* Appends one row of n cells to table in db (PostgreSQL). */
enum rs_err	rs_store_move_insert(struct rs_db *db, const char *table,
		    const char *const *cols, size_t n,
		    const struct rs_store_cell *cells);
/*
 * After the rows (PostgreSQL): each key the database numbers itself
 * hands out numbers past the copied ones.
 */
enum rs_err	rs_store_move_renumber(struct rs_db *db);
/*
 * After the copy, outside its transaction (PostgreSQL): the target's
 * statistics gathered (ANALYZE), so the planner does not plan the first
 * requests for the empty tables it last saw (a list page walked the
 * whole org and sorted it). SQLite plans without them: nothing to do.
 */
enum rs_err	rs_store_move_analyze(struct rs_db *db);
/* How many rows table holds in db (either backend). */
enum rs_err	rs_store_move_count(struct rs_db *db, const char *table,
		    int64_t *n);

#endif /* RS_STORE_MOVE_H */
