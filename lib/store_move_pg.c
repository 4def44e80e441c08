#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_move_pg.h"

static const char sql_columns[] =
	"SELECT column_name FROM information_schema.columns "
	"WHERE table_schema = current_schema() AND table_name = $1 "
	"ORDER BY ordinal_position";
/*
 * Each identity column's sequence goes past the largest copied key: the
 * rows came with their numbers, and the sequences never saw them.
 */
static const char sql_renumber[] =
	"DO $$ DECLARE r record; BEGIN "
	"FOR r IN SELECT table_name, column_name "
	"FROM information_schema.columns "
	"WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP "
	"EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), "
	"coalesce((SELECT max(%I) FROM %I), 0) + 1, false)', "
	"r.table_name, r.column_name, r.column_name, r.table_name); "
	"END LOOP; END $$";

enum rs_err
rs_store_move_pg_columns(struct rs_db *db, struct rs_arena *a,
    const char *table, const char **cols, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, table);
	if ((rc = rs_pg_query(db, sql_columns, &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > RS_STORE_MOVE_COLS)
		rc = RS_ERR_RANGE;
	for (i = 0; rc == RS_OK && i < rs_pg_rows(r); i++) {
		if ((cols[*n] = rs_pg_dup(r, i, 0, a)) == NULL)
			rc = RS_ERR_NOMEM;
		else if (!rs_store_move_name(cols[*n]))
			rc = RS_ERR_RANGE;
		else
			(*n)++;
	}
	rs_pg_clear(r);
	return rc;
}

/* "INSERT INTO "t" ("c1", ...) VALUES ($1, ...)" into buf, or -1. */
static int
rs_store_move_pg_sql(char *buf, size_t bufsz, const char *table,
    const char *const *cols, size_t n)
{
	size_t	 len = 0, i;

	if (!rs_store_move_name(table) || rs_store_move_add(buf, bufsz,
	    &len, "INSERT INTO \"%s\" (", table) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!rs_store_move_name(cols[i]) ||
		    rs_store_move_add(buf, bufsz, &len, "%s\"%s\"",
		    i == 0 ? "" : ", ", cols[i]) != 0)
			return -1;
	if (rs_store_move_add(buf, bufsz, &len, ") VALUES (") != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (rs_store_move_add(buf, bufsz, &len, "%s$%zu",
		    i == 0 ? "" : ", ", i + 1) != 0)
			return -1;
	return rs_store_move_add(buf, bufsz, &len, ")");
}

enum rs_err
rs_store_move_pg_insert(struct rs_db *db, const char *table,
    const char *const *cols, size_t n, const struct rs_store_cell *cells)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	char			 q[2048];
	enum rs_err		 rc;
	size_t			 i;

	if (n == 0 || n > RS_PG_MAXARGS ||
	    rs_store_move_pg_sql(q, sizeof(q), table, cols, n) != 0)
		return RS_ERR_RANGE;
	rs_pg_args(&a);
	for (i = 0; i < n; i++)
		switch (cells[i].type) {
		case RS_CELL_NULL:
			rs_pg_null(&a);
			break;
		case RS_CELL_INT:
			rs_pg_int(&a, cells[i].i);
			break;
		case RS_CELL_BLOB:
			rs_pg_bytes(&a, cells[i].p, cells[i].len);
			break;
		default:
			rs_pg_text(&a, cells[i].p);
			break;
		}
	/* Made at run time: unprepared, so never cached by its address. */
	if ((rc = rs_pg_once(db, q, &a, &r)) == RS_OK)
		rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_move_pg_renumber(struct rs_db *db)
{
	return rs_pg_exec(db, sql_renumber);
}

enum rs_err
rs_store_move_pg_analyze(struct rs_db *db)
{
	return rs_pg_exec(db, "ANALYZE");
}

enum rs_err
rs_store_move_pg_count(struct rs_db *db, const char *table, int64_t *n)
{
	struct pg_result	*r;
	char			 q[128];
	enum rs_err		 rc;

	snprintf(q, sizeof(q), "SELECT count(*) FROM \"%s\"", table);
	if ((rc = rs_pg_once(db, q, NULL, &r)) != RS_OK)
		return rc;
	*n = rs_pg_rows(r) == 1 ? rs_pg_int64(r, 0, 0) : 0;
	rs_pg_clear(r);
	return RS_OK;
}
