#include <string.h>

#include <sqlite3.h>

#include "arena.h"
#include "db.h"
#include "store_users.h"
#include "store_users_pg.h"

enum {
	STMT_LIST,
	STMT_GET,
	STMT_BY_EMAIL,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_ADMINS,
	STMT_TOUCH,
	STMT_INVITE_INSERT,
	STMT_INVITE_FIND,
	STMT_INVITE_USE,
	STMT_ACTIVATE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_LIST */
	"SELECT " UCOLS " FROM users WHERE org_id = ?1 AND rowid > ?2 "
	"AND (?3 IS NULL OR role = ?3) AND (?4 IS NULL OR status = ?4) "
	"ORDER BY rowid LIMIT ?5",
	/* STMT_GET */
	"SELECT " UCOLS " FROM users WHERE org_id = ?1 AND id = ?2",
	/* STMT_BY_EMAIL: the user, and whether an invite of theirs is live */
	"SELECT " UCOLS ", EXISTS (SELECT 1 FROM invites i "
	"WHERE i.user_id = users.id AND i.used_at IS NULL "
	"AND i.expires_at > ?3) "
	"FROM users WHERE org_id = ?1 AND email = ?2 COLLATE NOCASE",
	/* STMT_INSERT */
	"INSERT INTO users (id, org_id, email, role, status, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* STMT_UPDATE */
	"UPDATE users SET role = ?3, status = ?4 WHERE org_id = ?1 AND id = ?2",
	/* STMT_ADMINS */
	"SELECT count(*) FROM users WHERE org_id = ?1 AND role = 'admin' "
	"AND status = 'active'",
	/* STMT_TOUCH: at most once per ?3 ms, whatever other processes do */
	"UPDATE users SET last_sync_at = ?2 WHERE id = ?1 AND "
	"(last_sync_at IS NULL OR last_sync_at <= ?2 - ?3)",
	/* STMT_INVITE_INSERT */
	"INSERT INTO invites (hash, user_id, org_id, expires_at, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
	/* STMT_INVITE_FIND: live, unused, for a user still invited */
	"SELECT i.user_id, i.org_id FROM invites i "
	"JOIN users u ON u.id = i.user_id "
	"WHERE i.hash = ?1 AND i.used_at IS NULL AND i.expires_at > ?2 "
	"AND u.status = 'invited'",
	/* STMT_INVITE_USE: only a live invite of that user, once */
	"UPDATE invites SET used_at = ?2 WHERE hash = ?1 AND user_id = ?3 "
	"AND used_at IS NULL AND expires_at > ?2",
	/* STMT_ACTIVATE: only someone still invited */
	"UPDATE users SET status = 'active' WHERE id = ?1 "
	"AND status = 'invited'",
};

/* Fills u from the current row of a UCOLS query. */
static enum rs_err
rs_store_users_row(struct rs_arena *a, sqlite3_stmt *st, struct rs_user *u)
{
	memset(u, 0, sizeof(*u));
	u->rowid = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, u->id, sizeof(u->id)) != RS_OK)
		return RS_ERR_RANGE;
	u->email = rs_db_column_dup(st, 2, a);
	u->role = rs_db_column_dup(st, 3, a);
	u->status = rs_db_column_dup(st, 4, a);
	u->last_sync_at = sqlite3_column_int64(st, 5);
	u->created_at = sqlite3_column_int64(st, 6);
	return u->email && u->role && u->status ? RS_OK : RS_ERR_NOMEM;
}

enum rs_err
rs_store_users_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_user *u)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_users_pg_get(db, a, org, id, u);

	if ((st = rs_db_stmt(db, sql[STMT_GET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_users_row(a, st, u);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_users_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_userfilter *f, int64_t after, size_t max,
    struct rs_user *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_users_pg_list(db, a, org, f, after, max, out,
		    n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	if (f->role != NULL)
		sqlite3_bind_text(st, 3, f->role, -1, SQLITE_STATIC);
	if (f->status != NULL)
		sqlite3_bind_text(st, 4, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_users_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_users_by_email(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *email, int64_t now, struct rs_user *u, int *live_invite)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_users_pg_by_email(db, a, org, email, now, u,
		    live_invite);

	*live_invite = 0;
	if ((st = rs_db_stmt(db, sql[STMT_BY_EMAIL])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = rs_store_users_row(a, st, u);
		*live_invite = sqlite3_column_int(st, 7);
	} else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_users_insert(struct rs_db *db, const char *org,
    const struct rs_user *u, int64_t now)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_users_pg_insert(db, org, u, now);

	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, u->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, u->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	return rs_db_run(st);
}

enum rs_err
rs_store_users_update(struct rs_db *db, const char *org, const char *id,
    const char *role, const char *status)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_users_pg_update(db, org, id, role, status);

	if ((st = rs_db_stmt(db, sql[STMT_UPDATE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) == 0)
		return RS_ERR_NOTFOUND;
	rs_db_note_shared(db);	/* the holder of the user's keys */
	return RS_OK;
}

int64_t
rs_store_users_admins(struct rs_db *db, const char *org)
{
	if (rs_db_pg(db))
		return rs_store_users_pg_admins(db, org);
	return rs_db_int(db, sql[STMT_ADMINS], org);
}

enum rs_err
rs_store_users_touch(struct rs_db *db, const char *uid, int64_t now,
    int64_t every_ms)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_users_pg_touch(db, uid, now, every_ms);

	if ((st = rs_db_stmt(db, sql[STMT_TOUCH])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, every_ms);
	return rs_db_run(st);
}

enum rs_err
rs_store_users_invite(struct rs_db *db,
    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES], const char *uid,
    const char *org, int64_t expires, int64_t now)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_users_pg_invite(db, hash, uid, org, expires,
		    now);

	if ((st = rs_db_stmt(db, sql[STMT_INVITE_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, RS_STORE_INVITE_HASH_BYTES,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, expires);
	sqlite3_bind_int64(st, 5, now);
	return rs_db_run(st);
}

enum rs_err
rs_store_users_invite_find(struct rs_db *db,
    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES], int64_t now,
    char uid[RS_ID_MAX], char org[RS_ID_MAX])
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_users_pg_invite_find(db, hash, now, uid, org);

	if ((st = rs_db_stmt(db, sql[STMT_INVITE_FIND])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, RS_STORE_INVITE_HASH_BYTES,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = rs_db_column_copy(st, 0, uid, RS_ID_MAX)) == RS_OK)
			rc = rs_db_column_copy(st, 1, org, RS_ID_MAX);
	} else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_users_invite_use(struct rs_db *db,
    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES], const char *uid,
    int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_users_pg_invite_use(db, hash, uid, now);

	if ((st = rs_db_stmt(db, sql[STMT_INVITE_USE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, RS_STORE_INVITE_HASH_BYTES,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) != 1)
		return RS_ERR_NOTFOUND;
	if ((st = rs_db_stmt(db, sql[STMT_ACTIVATE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) != 1)
		return RS_ERR_NOTFOUND;
	rs_db_note_shared(db);	/* a status the holder lookup reads */
	return RS_OK;
}
