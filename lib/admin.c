#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "clock.h"
#include "db.h"
#include "migrate.h"
#include "valid.h"
#include "admin.h"

enum {
	STMT_ORG_INSERT,
	STMT_ORG_EXISTS,
	STMT_USER_BY_EMAIL,
	STMT_USER_INSERT,
	STMT_KEY_INSERT,
	STMT_KEY_REVOKE,
	STMT_KEY_EXISTS,
	STMT_STATS,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_ORG_INSERT */
	"INSERT INTO orgs (id, name, rate_limit, created_at, num) "
	"VALUES (?1, ?2, ?3, ?4, "
	"(SELECT coalesce(max(num), 0) + 1 FROM orgs))",
	/* STMT_ORG_EXISTS */
	"SELECT 1 FROM orgs WHERE id = ?1",
	/* STMT_USER_BY_EMAIL */
	"SELECT id, role FROM users WHERE org_id = ?1 "
	"AND email = ?2 COLLATE NOCASE",
	/* STMT_USER_INSERT */
	"INSERT INTO users (id, org_id, email, role, status, created_at) "
	"VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
	/* STMT_KEY_INSERT */
	"INSERT INTO api_keys (id, org_id, user_id, hash, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
	/* STMT_KEY_REVOKE */
	"UPDATE api_keys SET revoked_at = ?2 "
	"WHERE id = ?1 AND revoked_at IS NULL",
	/* STMT_KEY_EXISTS */
	"SELECT 1 FROM api_keys WHERE id = ?1",
	/* STMT_STATS */
	"SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users), "
	"(SELECT count(*) FROM api_keys WHERE revoked_at IS NULL), "
	"(SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL)",
};

/* Steps st once, expecting no row; maps the result and resets st. */
static enum rs_err
rs_admin_step(sqlite3_stmt *st)
{
	int	 rc = sqlite3_step(st);

	rs_db_done(st);
	return rc == SQLITE_DONE ? RS_OK : rs_db_err(rc);
}

enum rs_err
rs_admin_org_create(struct rs_db *db, const char *name, int rate_limit,
    char id[RS_ID_MAX])
{
	sqlite3_stmt	*st;

	if (name == NULL || *name == '\0' || strlen(name) > RS_MAX_NAME ||
	    rate_limit < 1 || rate_limit > 1000000)
		return RS_ERR_INVAL;
	if ((st = rs_db_stmt(db, sql[STMT_ORG_INSERT])) == NULL)
		return RS_ERR_DB;
	rs_id_new(id, RS_ID_MAX, "org_");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, rate_limit);
	sqlite3_bind_int64(st, 4, rs_clock_now_ms());
	return rs_admin_step(st);
}

/* Finds or creates the user; its id goes to uid. */
static enum rs_err
rs_admin_user(struct rs_db *db, const char *org, const char *email,
    enum rs_role role, char uid[RS_ID_MAX])
{
	sqlite3_stmt	*st;
	int		 rc;
	enum rs_role	 have;

	if ((st = rs_db_stmt(db, sql[STMT_ORG_EXISTS])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rs_db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(rc);
	if ((st = rs_db_stmt(db, sql[STMT_USER_BY_EMAIL])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memcpy(uid, sqlite3_column_text(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0) + 1);
		have = rs_role_parse((const char *)sqlite3_column_text(st, 1));
		rs_db_done(st);
		return have == role ? RS_OK : RS_ERR_EXISTS;
	}
	rs_db_done(st);
	if (rc != SQLITE_DONE)
		return rs_db_err(rc);
	if ((st = rs_db_stmt(db, sql[STMT_USER_INSERT])) == NULL)
		return RS_ERR_DB;
	rs_id_new(uid, RS_ID_MAX, "usr_");
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rs_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rs_clock_now_ms());
	return rs_admin_step(st);
}

enum rs_err
rs_admin_key_issue(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *uid, char key[RS_APIKEY_LEN + 1],
    char key_id[RS_ID_MAX])
{
	unsigned char	 hash[RS_APIKEY_HASH_BYTES];
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if ((st = rs_db_stmt(db, sql[STMT_KEY_INSERT])) == NULL)
		return RS_ERR_DB;
	rs_apikey_new(key, RS_APIKEY_LEN + 1);
	rs_apikey_hash(apikey_subkey, key, hash);
	rs_id_new(key_id, RS_ID_MAX, "key_");
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rs_clock_now_ms());
	rc = rs_admin_step(st);
	sodium_memzero(hash, sizeof(hash));
	if (rc != RS_OK)
		sodium_memzero(key, RS_APIKEY_LEN + 1);
	return rc;
}

enum rs_err
rs_admin_key_create(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *email, enum rs_role role,
    char key[RS_APIKEY_LEN + 1], char key_id[RS_ID_MAX])
{
	char		 uid[RS_ID_MAX];
	enum rs_err	 rc;

	if (!rs_valid_email(email) || strcmp(rs_role_name(role), "unknown") == 0)
		return RS_ERR_INVAL;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_admin_user(db, org, email, role, uid)) == RS_OK &&
	    (rc = rs_admin_key_issue(db, apikey_subkey, org, uid, key,
	    key_id)) == RS_OK)
		rc = rs_db_commit(db);
	if (rc != RS_OK) {
		rs_db_rollback(db);
		sodium_memzero(key, RS_APIKEY_LEN + 1);
	}
	return rc;
}

enum rs_err
rs_admin_key_revoke(struct rs_db *db, const char *key_id)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if ((st = rs_db_stmt(db, sql[STMT_KEY_REVOKE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rs_clock_now_ms());
	if ((rc = rs_admin_step(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) > 0)
		return RS_OK;
	if ((st = rs_db_stmt(db, sql[STMT_KEY_EXISTS])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	rs_db_done(st);
	if (step == SQLITE_ROW)
		return RS_OK;		/* revoked before */
	return step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
}

enum rs_err
rs_admin_stats(struct rs_db *db, struct rs_admin_stats *s)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(s, 0, sizeof(*s));
	s->schema = rs_db_user_version(db);
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
