#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "store_orgs.h"
#include "store_orgs_pg.h"

enum {
	STMT_INSERT,
	STMT_EXISTS,
	STMT_STATS,
	STMT_PING,
	STMT_LIST,
	STMT_RATE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_INSERT */
	"INSERT INTO orgs (id, name, rate_limit, created_at, num) "
	"VALUES (?1, ?2, ?3, ?4, "
	"(SELECT coalesce(max(num), 0) + 1 FROM orgs))",
	/* STMT_EXISTS */
	"SELECT 1 FROM orgs WHERE id = ?1",
	/* STMT_STATS */
	"SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users), "
	"(SELECT count(*) FROM api_keys WHERE revoked_at IS NULL), "
	"(SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL)",
	/* STMT_PING */
	"SELECT count(*) FROM orgs",
	/* STMT_LIST */
	"SELECT o.rowid, o.id, o.name, o.rate_limit, "
	"(SELECT count(*) FROM users u WHERE u.org_id = o.id), "
	"(SELECT count(*) FROM api_keys k WHERE k.org_id = o.id "
	"AND k.revoked_at IS NULL), o.created_at "
	"FROM orgs o WHERE o.rowid > ?1 ORDER BY o.rowid LIMIT ?2",
	/* STMT_RATE */
	"UPDATE orgs SET rate_limit = ?2 WHERE id = ?1",
};

enum rs_err
rs_store_orgs_create(struct rs_db *db, const char *id, const char *name,
    int rate_limit, int64_t now)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_orgs_pg_create(db, id, name, rate_limit, now);

	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, rate_limit);
	sqlite3_bind_int64(st, 4, now);
	return rs_db_run(st);
}

enum rs_err
rs_store_orgs_set_rate(struct rs_db *db, const char *id, int rate_limit)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_orgs_pg_set_rate(db, id, rate_limit);

	if ((st = rs_db_stmt(db, sql[STMT_RATE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, rate_limit);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) != 1)
		return RS_ERR_NOTFOUND;
	rs_db_note_shared(db);	/* every holder of the org's keys */
	return RS_OK;
}

enum rs_err
rs_store_orgs_exists(struct rs_db *db, const char *id)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (rs_db_pg(db))
		return rs_store_orgs_pg_exists(db, id);

	if ((st = rs_db_stmt(db, sql[STMT_EXISTS])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rs_db_done(st);
	if (rc == SQLITE_ROW)
		return RS_OK;
	return rc == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(rc);
}

enum rs_err
rs_store_orgs_stats(struct rs_db *db, struct rs_store_stats *s)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (rs_db_pg(db))
		return rs_store_orgs_pg_stats(db, s);

	memset(s, 0, sizeof(*s));
	if ((st = rs_db_stmt(db, sql[STMT_STATS])) == NULL)
		return RS_ERR_DB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s->orgs = sqlite3_column_int64(st, 0);
		s->users = sqlite3_column_int64(st, 1);
		s->keys = sqlite3_column_int64(st, 2);
		s->keys_revoked = sqlite3_column_int64(st, 3);
	}
	rs_db_done(st);
	return rc == SQLITE_ROW ? RS_OK : rs_db_err(rc);
}

enum rs_err
rs_store_orgs_ping(struct rs_db *db)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (rs_db_pg(db))
		return rs_store_orgs_pg_ping(db);

	if ((st = rs_db_stmt(db, sql[STMT_PING])) == NULL)
		return RS_ERR_DB;
	rc = sqlite3_step(st);
	rs_db_done(st);
	return rc == SQLITE_ROW ? RS_OK : rs_db_err(rc);
}


/* Fills o from the current row of STMT_LIST. */
static enum rs_err
rs_store_orgs_row(struct rs_arena *a, sqlite3_stmt *st, struct rs_store_org *o)
{
	memset(o, 0, sizeof(*o));
	o->rowid = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, o->id, sizeof(o->id)) != RS_OK)
		return RS_ERR_RANGE;
	if ((o->name = rs_db_column_dup(st, 2, a)) == NULL)
		return RS_ERR_NOMEM;
	o->rate_limit = sqlite3_column_int(st, 3);
	o->users = sqlite3_column_int64(st, 4);
	o->keys = sqlite3_column_int64(st, 5);
	o->created_at = sqlite3_column_int64(st, 6);
	return RS_OK;
}

enum rs_err
rs_store_orgs_list(struct rs_db *db, struct rs_arena *a, int64_t after,
    size_t max, struct rs_store_org *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_orgs_pg_list(db, a, after, max, out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_orgs_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}
