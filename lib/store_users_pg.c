#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
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
	/* STMT_LIST: a filter only ever seen in "$n IS NULL" needs a type */
	"SELECT " UCOLS " FROM users WHERE org_id = $1 AND rowid > $2 "
	"AND ($3::text IS NULL OR role = $3::text) "
	"AND ($4::text IS NULL OR status = $4::text) "
	"ORDER BY rowid LIMIT $5",
	/* STMT_GET */
	"SELECT " UCOLS " FROM users WHERE org_id = $1 AND id = $2",
	/*
	 * STMT_BY_EMAIL: the user, and whether an invite of theirs is live.
	 * SQLite's COLLATE NOCASE folds ASCII letters only; so does lower()
	 * under "C", and this is users_org_email's expression, so the
	 * lookup is one probe of that index.
	 */
	"SELECT " UCOLS ", EXISTS (SELECT 1 FROM invites i "
	"WHERE i.user_id = users.id AND i.used_at IS NULL "
	"AND i.expires_at > $3) "
	"FROM users WHERE org_id = $1 "
	"AND lower(email COLLATE \"C\") = lower($2::text COLLATE \"C\")",
	/* STMT_INSERT */
	"INSERT INTO users (id, org_id, email, role, status, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6)",
	/* STMT_UPDATE */
	"UPDATE users SET role = $3, status = $4 WHERE org_id = $1 AND id = $2",
	/* STMT_ADMINS */
	"SELECT count(*) FROM users WHERE org_id = $1 AND role = 'admin' "
	"AND status = 'active'",
	/*
	 * STMT_TOUCH: at most once per $3 ms, whatever other processes do
	 * (a concurrent touch holds the row; this one then rereads it and
	 * finds it recent).
	 */
	"UPDATE users SET last_sync_at = $2 WHERE id = $1 AND "
	"(last_sync_at IS NULL OR last_sync_at <= $2 - $3::bigint)",
	/* STMT_INVITE_INSERT */
	"INSERT INTO invites (hash, user_id, org_id, expires_at, created_at) "
	"VALUES ($1, $2, $3, $4, $5)",
	/* STMT_INVITE_FIND: live, unused, for a user still invited */
	"SELECT i.user_id, i.org_id FROM invites i "
	"JOIN users u ON u.id = i.user_id "
	"WHERE i.hash = $1 AND i.used_at IS NULL AND i.expires_at > $2 "
	"AND u.status = 'invited'",
	/* STMT_INVITE_USE: only a live invite of that user, once */
	"UPDATE invites SET used_at = $2 WHERE hash = $1 AND user_id = $3 "
	"AND used_at IS NULL AND expires_at > $2",
	/* STMT_ACTIVATE: only someone still invited */
	"UPDATE users SET status = 'active' WHERE id = $1 "
	"AND status = 'invited'",
};

/* Fills u from row i of a UCOLS query. */
static enum rs_err
rs_store_users_pg_row(struct rs_arena *a, const struct pg_result *r, int i,
    struct rs_user *u)
{
	memset(u, 0, sizeof(*u));
	u->rowid = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, u->id, sizeof(u->id)) != RS_OK)
		return RS_ERR_RANGE;
	u->email = rs_pg_dup(r, i, 2, a);
	u->role = rs_pg_dup(r, i, 3, a);
	u->status = rs_pg_dup(r, i, 4, a);
	u->last_sync_at = rs_pg_int64(r, i, 5);
	u->created_at = rs_pg_int64(r, i, 6);
	return u->email && u->role && u->status ? RS_OK : RS_ERR_NOMEM;
}

enum rs_err
rs_store_users_pg_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_user *u)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	if ((rc = rs_pg_query(db, sql[STMT_GET], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0)
		rc = rs_store_users_pg_row(a, r, 0, u);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_users_pg_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_userfilter *f, int64_t after, size_t max,
    struct rs_user *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, after);
	rs_pg_text(&args, f->role);
	rs_pg_text(&args, f->status);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_users_pg_row(a, r, i,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_users_pg_by_email(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *email, int64_t now, struct rs_user *u,
    int *live_invite)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	*live_invite = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, email);
	rs_pg_int(&args, now);
	if ((rc = rs_pg_query(db, sql[STMT_BY_EMAIL], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0) {
		rc = rs_store_users_pg_row(a, r, 0, u);
		*live_invite = (int)rs_pg_int64(r, 0, 7);
	} else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_users_pg_insert(struct rs_db *db, const char *org,
    const struct rs_user *u, int64_t now)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_text(&a, u->id);
	rs_pg_text(&a, org);
	rs_pg_text(&a, u->email);
	rs_pg_text(&a, u->role);
	rs_pg_text(&a, u->status);
	rs_pg_int(&a, now);
	return rs_pg_run(db, sql[STMT_INSERT], &a, NULL);
}

enum rs_err
rs_store_users_pg_update(struct rs_db *db, const char *org, const char *id,
    const char *role, const char *status)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_text(&a, id);
	rs_pg_text(&a, role);
	rs_pg_text(&a, status);
	if ((rc = rs_pg_run(db, sql[STMT_UPDATE], &a, &n)) != RS_OK)
		return rc;
	if (n == 0)
		return RS_ERR_NOTFOUND;
	rs_db_note_shared(db);	/* the holder of the user's keys */
	return RS_OK;
}

/* rs_db_int() (SQLite's): the count, or -1 when it fails. */
int64_t
rs_store_users_pg_admins(struct rs_db *db, const char *org)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	int64_t			 v = -1;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	if (rs_pg_query(db, sql[STMT_ADMINS], &a, &r) != RS_OK)
		return -1;
	if (rs_pg_rows(r) > 0)
		v = rs_pg_int64(r, 0, 0);
	rs_pg_clear(r);
	return v;
}

enum rs_err
rs_store_users_pg_touch(struct rs_db *db, const char *uid, int64_t now,
    int64_t every_ms)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_text(&a, uid);
	rs_pg_int(&a, now);
	rs_pg_int(&a, every_ms);
	return rs_pg_run(db, sql[STMT_TOUCH], &a, NULL);
}

enum rs_err
rs_store_users_pg_invite(struct rs_db *db,
    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES], const char *uid,
    const char *org, int64_t expires, int64_t now)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_bytes(&a, hash, RS_STORE_INVITE_HASH_BYTES);
	rs_pg_text(&a, uid);
	rs_pg_text(&a, org);
	rs_pg_int(&a, expires);
	rs_pg_int(&a, now);
	return rs_pg_run(db, sql[STMT_INVITE_INSERT], &a, NULL);
}

enum rs_err
rs_store_users_pg_invite_find(struct rs_db *db,
    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES], int64_t now,
    char uid[RS_ID_MAX], char org[RS_ID_MAX])
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_bytes(&a, hash, RS_STORE_INVITE_HASH_BYTES);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_query(db, sql[STMT_INVITE_FIND], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0) {
		if ((rc = rs_pg_copy(r, 0, 0, uid, RS_ID_MAX)) == RS_OK)
			rc = rs_pg_copy(r, 0, 1, org, RS_ID_MAX);
	} else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

/*
 * Two acceptances of one invite: the second waits for the first's row
 * lock, then finds used_at set and changes nothing (NOTFOUND), as the
 * second SQLite writer would after the first committed.
 */
enum rs_err
rs_store_users_pg_invite_use(struct rs_db *db,
    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES], const char *uid,
    int64_t now)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_bytes(&a, hash, RS_STORE_INVITE_HASH_BYTES);
	rs_pg_int(&a, now);
	rs_pg_text(&a, uid);
	if ((rc = rs_pg_run(db, sql[STMT_INVITE_USE], &a, &n)) != RS_OK)
		return rc;
	if (n != 1)
		return RS_ERR_NOTFOUND;
	rs_pg_args(&a);
	rs_pg_text(&a, uid);
	if ((rc = rs_pg_run(db, sql[STMT_ACTIVATE], &a, &n)) != RS_OK)
		return rc;
	if (n != 1)
		return RS_ERR_NOTFOUND;
	rs_db_note_shared(db);	/* a status the holder lookup reads */
	return RS_OK;
}
