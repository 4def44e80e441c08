#include <string.h>

#include <sqlite3.h>

#include "arena.h"
#include "db.h"
#include "store_policies.h"
#include "store_policies_pg.h"

enum {
	STMT_GET,
	STMT_GET_SEQ,
	STMT_FIND,
	STMT_LIST,
	STMT_INSERT,
	STMT_REPLACE,
	STMT_DELETE,
	STMT_BUMP,
	STMT_VERSION,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT " PCOLS " FROM policies WHERE org_id = ?1 AND name = ?2 "
	"AND deleted_at IS NULL",
	/* STMT_GET_SEQ */
	"SELECT " PCOLS " FROM policies WHERE seq = ?1",
	/* STMT_FIND: the row of a name, live or a tombstone */
	"SELECT seq, deleted_at IS NULL FROM policies "
	"WHERE org_id = ?1 AND name = ?2",
	/*
	 * STMT_LIST: the keyset (order, name) after the place ?3, the name
	 * of row ?4 (kept even when deleted); ?4 = 0 is the start.
	 */
	"SELECT " PCOLS " FROM policies WHERE org_id = ?1 "
	"AND deleted_at IS NULL AND (?2 = 0 OR enabled = 1) "
	"AND (?4 = 0 OR \"order\" > ?3 OR (\"order\" = ?3 AND "
	"name > (SELECT p.name FROM policies p WHERE p.seq = ?4))) "
	"ORDER BY \"order\", name LIMIT ?5",
	/* STMT_INSERT */
	"INSERT INTO policies (id, org_id, name, \"when\", \"then\", "
	"\"order\", enabled, created_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
	/* STMT_REPLACE: a live row keeps id and created_at, a tombstone not */
	"UPDATE policies SET "
	"id = CASE WHEN deleted_at IS NULL THEN id ELSE ?2 END, "
	"created_at = CASE WHEN deleted_at IS NULL THEN created_at "
	"ELSE ?7 END, "
	"\"when\" = ?3, \"then\" = ?4, \"order\" = ?5, enabled = ?6, "
	"updated_at = ?7, deleted_at = NULL WHERE seq = ?1",
	/* STMT_DELETE */
	"UPDATE policies SET deleted_at = ?2, updated_at = ?2 "
	"WHERE seq = ?1 AND deleted_at IS NULL",
	/* STMT_BUMP */
	"UPDATE orgs SET policy_version = policy_version + 1 WHERE id = ?1",
	/* STMT_VERSION */
	"SELECT policy_version FROM orgs WHERE id = ?1",
};

/* Fills p from the current row of a PCOLS query. */
static enum rs_err
rs_store_policies_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_store_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->seq = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, p->id, sizeof(p->id)) != RS_OK ||
	    rs_db_column_copy(st, 2, p->name, sizeof(p->name)) != RS_OK)
		return RS_ERR_RANGE;
	p->when = rs_db_column_dup(st, 3, a);
	p->then = rs_db_column_dup(st, 4, a);
	p->order = sqlite3_column_int64(st, 5);
	p->enabled = sqlite3_column_int(st, 6) != 0;
	p->created_at = sqlite3_column_int64(st, 7);
	p->updated_at = sqlite3_column_int64(st, 8);
	return p->when && p->then ? RS_OK : RS_ERR_NOMEM;
}

/* The one row of statement i with text ?1 [, ?2] or integer key. */
static enum rs_err
rs_store_policies_one(struct rs_db *db, struct rs_arena *a, int i,
    const char *org, const char *name, int64_t seq,
    struct rs_store_policy *p)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if ((st = rs_db_stmt(db, sql[i])) == NULL)
		return RS_ERR_DB;
	if (org != NULL) {
		sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	} else
		sqlite3_bind_int64(st, 1, seq);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_policies_row(a, st, p);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_policies_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *name, struct rs_store_policy *p)
{
	if (rs_db_pg(db))
		return rs_store_policies_pg_get(db, a, org, name, p);
	return rs_store_policies_one(db, a, STMT_GET, org, name, 0, p);
}

enum rs_err
rs_store_policies_list(struct rs_db *db, struct rs_arena *a, const char *org,
    int enabled_only, int64_t after_order, int64_t after_seq, size_t max,
    struct rs_store_policy *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_policies_pg_list(db, a, org, enabled_only,
		    after_order, after_seq, max, out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, enabled_only != 0);
	sqlite3_bind_int64(st, 3, after_order);
	sqlite3_bind_int64(st, 4, after_seq);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_policies_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

/* Bumps org's policy version: RS_OK, RS_ERR_NOTFOUND, or an error. */
static enum rs_err
rs_store_policies_bump(struct rs_db *db, const char *org)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if ((st = rs_db_stmt(db, sql[STMT_BUMP])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	return sqlite3_changes(sqlite3_db_handle(st)) == 1 ? RS_OK :
	    RS_ERR_NOTFOUND;
}

/*
 * The row of name in org, live or not: RS_OK with *seq and *live,
 * RS_ERR_NOTFOUND, or an error.
 */
static enum rs_err
rs_store_policies_find(struct rs_db *db, const char *org, const char *name,
    int64_t *seq, int *live)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step;

	if ((st = rs_db_stmt(db, sql[STMT_FIND])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*live = sqlite3_column_int(st, 1);
	} else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_policies_put(struct rs_db *db, struct rs_arena *a, const char *org,
    struct rs_store_policy *p, int64_t now, int *created)
{
	sqlite3_stmt	*st;
	char		 id[RS_ID_MAX];
	enum rs_err	 rc;
	int64_t		 seq = 0;
	int		 live = 0;

	if (rs_db_pg(db))
		return rs_store_policies_pg_put(db, a, org, p, now, created);

	*created = 1;
	rs_id_new(id, sizeof(id), "pol_");
	rc = rs_store_policies_find(db, org, p->name, &seq, &live);
	if (rc == RS_OK) {
		*created = !live;
		if ((st = rs_db_stmt(db, sql[STMT_REPLACE])) == NULL)
			return RS_ERR_DB;
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->when, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, p->then, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, p->order);
		sqlite3_bind_int(st, 6, p->enabled != 0);
		sqlite3_bind_int64(st, 7, now);
	} else if (rc == RS_ERR_NOTFOUND) {
		if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
			return RS_ERR_DB;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, p->when, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, p->then, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, p->order);
		sqlite3_bind_int(st, 7, p->enabled != 0);
		sqlite3_bind_int64(st, 8, now);
	} else
		return rc;
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (seq == 0)
		seq = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	if ((rc = rs_store_policies_bump(db, org)) != RS_OK)
		return rc;
	return rs_store_policies_one(db, a, STMT_GET_SEQ, NULL, NULL, seq, p);
}

enum rs_err
rs_store_policies_delete(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *name, int64_t now,
    struct rs_store_policy *p)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_policies_pg_delete(db, a, org, name, now, p);

	if ((rc = rs_store_policies_get(db, a, org, name, p)) != RS_OK)
		return rc;
	if ((st = rs_db_stmt(db, sql[STMT_DELETE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, p->seq);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) != 1)
		return RS_ERR_NOTFOUND;
	return rs_store_policies_bump(db, org);
}

int64_t
rs_store_policies_version(struct rs_db *db, const char *org)
{
	if (rs_db_pg(db))
		return rs_store_policies_pg_version(db, org);
	return rs_db_int(db, sql[STMT_VERSION], org);
}
