#include <string.h>

#include <sqlite3.h>

#include "arena.h"
#include "db.h"
#include "store_conflicts.h"
#include "store_conflicts_pg.h"

enum {
	STMT_INSERT,
	STMT_GET,
	STMT_LIST,
	STMT_LIST_RECORD,
	STMT_RESOLVE,
	STMT_SUPERSEDE,
	STMT_PURGE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_INSERT */
	"INSERT INTO conflicts (id, org_id, record_id, base_causal, "
	"attempted, current, status, created_by, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8)",
	/* STMT_GET */
	"SELECT " CCOLS " FROM conflicts WHERE id = ?2 AND org_id = ?1",
	/* STMT_LIST: walks conflicts_org; NULL ?3 is any status */
	"SELECT " CCOLS " FROM conflicts WHERE org_id = ?1 AND seq > ?2 "
	"AND (?3 IS NULL OR status = ?3) ORDER BY seq LIMIT ?4",
	/* STMT_LIST_RECORD: walks conflicts_record, which ends in seq */
	"SELECT " CCOLS " FROM conflicts WHERE org_id = ?1 "
	"AND record_id = ?5 AND seq > ?2 AND (?3 IS NULL OR status = ?3) "
	"ORDER BY seq LIMIT ?4",
	/* STMT_RESOLVE */
	"UPDATE conflicts SET status = 'resolved', resolution = ?3, "
	"resolved_by = ?4, resolved_at = ?5 "
	"WHERE id = ?2 AND org_id = ?1 AND status = 'open'",
	/* STMT_SUPERSEDE: the partial index conflicts_open */
	"UPDATE conflicts SET status = 'superseded', "
	"resolution = 'superseded', resolved_by = ?3, resolved_at = ?4 "
	"WHERE org_id = ?1 AND record_id = ?2 AND created_by = ?3 "
	"AND status = 'open'",
	/* STMT_PURGE: walks conflicts_closed */
	"DELETE FROM conflicts WHERE seq IN (SELECT seq FROM conflicts "
	"WHERE resolved_at IS NOT NULL AND resolved_at < ?1 "
	"ORDER BY resolved_at LIMIT ?2)",
};

int
rs_store_conflicts_status_valid(const char *s)
{
	return strcmp(s, RS_CONFLICT_OPEN) == 0 ||
	    strcmp(s, RS_CONFLICT_RESOLVED) == 0 ||
	    strcmp(s, RS_CONFLICT_SUPERSEDED) == 0;
}

enum rs_err
rs_store_conflicts_put(struct rs_db *db, const struct rs_conflict *c)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_conflicts_pg_put(db, c);

	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->base_causal, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->attempted, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->current, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->created_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, c->created_at);
	return rs_db_run(st);
}

/* Fills c from the current row of a CCOLS query. */
static enum rs_err
rs_store_conflicts_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_conflict *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, c->id, sizeof(c->id)) != RS_OK ||
	    rs_db_column_copy(st, 2, c->org_id, sizeof(c->org_id)) != RS_OK ||
	    rs_db_column_copy(st, 3, c->record_id,
	    sizeof(c->record_id)) != RS_OK ||
	    rs_db_column_copy(st, 4, c->base_causal,
	    sizeof(c->base_causal)) != RS_OK ||
	    rs_db_column_copy(st, 8, c->created_by,
	    sizeof(c->created_by)) != RS_OK ||
	    (sqlite3_column_type(st, 11) != SQLITE_NULL &&
	    rs_db_column_copy(st, 11, c->resolved_by,
	    sizeof(c->resolved_by)) != RS_OK))
		return RS_ERR_RANGE;
	c->attempted = rs_db_column_dup(st, 5, a);
	c->current = rs_db_column_dup(st, 6, a);
	c->status = rs_db_column_dup(st, 7, a);
	c->created_at = sqlite3_column_int64(st, 9);
	c->resolved_at = sqlite3_column_int64(st, 10);
	c->resolution = rs_db_column_dup(st, 12, a);
	if (c->attempted == NULL || c->current == NULL || c->status == NULL ||
	    (c->resolution == NULL &&
	    sqlite3_column_type(st, 12) != SQLITE_NULL))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_conflicts_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_conflict *c)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_conflicts_pg_get(db, a, org, id, c);

	if ((st = rs_db_stmt(db, sql[STMT_GET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_conflicts_row(a, st, c);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_conflicts_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_conflict_filter *f, int64_t after, size_t max,
    struct rs_conflict *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_conflicts_pg_list(db, a, org, f, after, max,
		    out, n);

	*n = 0;
	/* Two statements, not a NULL-able record_id: each has its index. */
	if ((st = rs_db_stmt(db, sql[f->record_id != NULL ?
	    STMT_LIST_RECORD : STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	if (f->status != NULL)
		sqlite3_bind_text(st, 3, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	if (f->record_id != NULL)
		sqlite3_bind_text(st, 5, f->record_id, -1, SQLITE_STATIC);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_conflicts_row(a, st, &out[(*n)++])) !=
		    RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

/* Runs st (bound) and counts the rows it changed into *n. */
static enum rs_err
rs_store_conflicts_changes(sqlite3_stmt *st, size_t *n)
{
	enum rs_err	 rc;

	*n = 0;
	if ((rc = rs_db_run(st)) == RS_OK)
		*n = (size_t)sqlite3_changes(sqlite3_db_handle(st));
	return rc;
}

enum rs_err
rs_store_conflicts_resolve(struct rs_db *db, const char *org, const char *id,
    const char *resolution, const char *user, int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	size_t		 n;

	if (rs_db_pg(db))
		return rs_store_conflicts_pg_resolve(db, org, id, resolution,
		    user, now);

	if ((st = rs_db_stmt(db, sql[STMT_RESOLVE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, resolution, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if ((rc = rs_store_conflicts_changes(st, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_conflicts_supersede(struct rs_db *db, const char *org,
    const char *record_id, const char *user, int64_t now, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_conflicts_pg_supersede(db, org, record_id, user,
		    now, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_SUPERSEDE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return rs_store_conflicts_changes(st, n);
}

enum rs_err
rs_store_conflicts_purge(struct rs_db *db, int64_t horizon, size_t max,
    size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_conflicts_pg_purge(db, horizon, max, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_PURGE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, horizon);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	return rs_store_conflicts_changes(st, n);
}
