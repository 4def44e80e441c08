#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "store_move.h"
#include "store_move_pg.h"

/* sql/pg/0001_init.sql's tables, in the order it makes them. */
const char *const rs_store_move_tables[] = {
	"orgs", "users", "api_keys", "records", "idempotency_keys",
	"events", "invites", "policies", "webhooks", "jobs", "audit",
	"audit_targets", "record_history", "conflicts", NULL
};

int
rs_store_move_name(const char *s)
{
	return *s != '\0' && strlen(s) < 64 &&
	    s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_")] == '\0';
}

enum rs_err
rs_store_move_columns(struct rs_db *db, struct rs_arena *a, const char *table,
    const char **cols, size_t *n)
{
	*n = 0;
	if (rs_db_pg(db))
		return rs_store_move_pg_columns(db, a, table, cols, n);
	return RS_ERR_STATE;	/* the target is PostgreSQL's */
}

int
rs_store_move_add(char *buf, size_t bufsz, size_t *len, const char *fmt, ...)
{
	va_list	 ap;
	int	 w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *len, bufsz - *len, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= bufsz - *len)
		return -1;
	*len += (size_t)w;
	return 0;
}

/* "SELECT "c1", ... FROM "table"" into buf; -1 when it does not fit. */
static int
rs_store_move_select(char *buf, size_t bufsz, const char *table,
    const char *const *cols, size_t ncols)
{
	size_t	 len = 0, i;

	if (!rs_store_move_name(table) ||
	    rs_store_move_add(buf, bufsz, &len, "SELECT") != 0)
		return -1;
	for (i = 0; i < ncols; i++)
		if (!rs_store_move_name(cols[i]) ||
		    rs_store_move_add(buf, bufsz, &len, "%s \"%s\"",
		    i == 0 ? "" : ",", cols[i]) != 0)
			return -1;
	return rs_store_move_add(buf, bufsz, &len, " FROM \"%s\"", table);
}

/* The current row of st as cells. */
static void
rs_store_move_cells(sqlite3_stmt *st, size_t ncols, struct rs_store_cell *c)
{
	size_t	 i;

	for (i = 0; i < ncols; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		switch (sqlite3_column_type(st, (int)i)) {
		case SQLITE_NULL:
			c[i].type = RS_CELL_NULL;
			break;
		case SQLITE_INTEGER:
			c[i].type = RS_CELL_INT;
			c[i].i = sqlite3_column_int64(st, (int)i);
			break;
		case SQLITE_BLOB:
			c[i].type = RS_CELL_BLOB;
			c[i].p = sqlite3_column_blob(st, (int)i);
			c[i].len = (size_t)sqlite3_column_bytes(st, (int)i);
			break;
		default:	/* TEXT; no column holds a REAL */
			c[i].type = RS_CELL_TEXT;
			c[i].p = (const char *)sqlite3_column_text(st, (int)i);
			c[i].len = (size_t)sqlite3_column_bytes(st, (int)i);
			break;
		}
	}
}

enum rs_err
rs_store_move_rows(struct rs_db *db, const char *table,
    const char *const *cols, size_t ncols, rs_store_move_fn fn, void *arg)
{
	struct rs_store_cell	 cells[RS_STORE_MOVE_COLS];
	sqlite3_stmt		*st;
	char			 q[2048];
	enum rs_err		 rc = RS_OK;
	int			 step;

	if (rs_db_pg(db))
		return RS_ERR_STATE;	/* moving back is not done */
	if (ncols == 0 || ncols > RS_STORE_MOVE_COLS ||
	    rs_store_move_select(q, sizeof(q), table, cols, ncols) != 0)
		return RS_ERR_RANGE;
	/* Built from our own names, once a table: not worth the cache. */
	if (sqlite3_prepare_v2(db->h, q, -1, &st, NULL) != SQLITE_OK) {
		rs_log_err("%s: %s", q, sqlite3_errmsg(db->h));
		return RS_ERR_DB;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_data_count(st) != (int)ncols) {
			rc = RS_ERR_DB;
			break;
		}
		rs_store_move_cells(st, ncols, cells);
		if ((rc = fn(arg, cells)) != RS_OK)
			break;
	}
	if (rc == RS_OK && step != SQLITE_DONE)
		rc = rs_db_err(step);
	sqlite3_finalize(st);
	return rc;
}

enum rs_err
rs_store_move_insert(struct rs_db *db, const char *table,
    const char *const *cols, size_t n, const struct rs_store_cell *cells)
{
	if (rs_db_pg(db))
		return rs_store_move_pg_insert(db, table, cols, n, cells);
	return RS_ERR_STATE;	/* moving back is not done */
}

enum rs_err
rs_store_move_renumber(struct rs_db *db)
{
	if (rs_db_pg(db))
		return rs_store_move_pg_renumber(db);
	return RS_OK;	/* SQLite numbers past its largest key anyway */
}

enum rs_err
rs_store_move_analyze(struct rs_db *db)
{
	if (rs_db_pg(db))
		return rs_store_move_pg_analyze(db);
	return RS_OK;
}

enum rs_err
rs_store_move_count(struct rs_db *db, const char *table, int64_t *n)
{
	sqlite3_stmt	*st;
	char		 q[128];
	int		 step;

	*n = 0;
	if (!rs_store_move_name(table))
		return RS_ERR_RANGE;
	if (rs_db_pg(db))
		return rs_store_move_pg_count(db, table, n);
	snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\"", table);
	if (sqlite3_prepare_v2(db->h, q, -1, &st, NULL) != SQLITE_OK) {
		rs_log_err("%s: %s", q, sqlite3_errmsg(db->h));
		return RS_ERR_DB;
	}
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return step == SQLITE_ROW ? RS_OK : rs_db_err(step);
}
