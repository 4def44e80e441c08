#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "store_keys.h"
#include "store_keys_pg.h"

enum {
	STMT_BY_HASH,
	STMT_HOLDER,
	STMT_INSERT,
	STMT_REVOKE,
	STMT_EXISTS,
	STMT_LIST,
	STMT_INFO,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_BY_HASH */
	"SELECT k.id, k.org_id, k.user_id, u.role, u.status, k.hash "
	"FROM api_keys k JOIN users u ON u.id = k.user_id "
	"WHERE k.hash = ?1 AND k.revoked_at IS NULL",
	/* STMT_HOLDER */
	"SELECT u.email, u.role, u.last_sync_at, o.rate_limit FROM api_keys k "
	"JOIN users u ON u.id = k.user_id JOIN orgs o ON o.id = k.org_id "
	"WHERE k.id = ?1 AND k.org_id = ?2 AND k.user_id = ?3 "
	"AND k.revoked_at IS NULL AND u.status = 'active'",
	/* STMT_INSERT */
	"INSERT INTO api_keys (id, org_id, user_id, hash, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
	/* STMT_REVOKE */
	"UPDATE api_keys SET revoked_at = ?2 "
	"WHERE id = ?1 AND revoked_at IS NULL",
	/* STMT_EXISTS */
	"SELECT 1 FROM api_keys WHERE id = ?1",
	/* STMT_LIST: never the hash */
	"SELECT k.rowid, k.id, k.org_id, k.user_id, u.email, u.role, "
	"k.created_at, k.revoked_at FROM api_keys k "
	"JOIN users u ON u.id = k.user_id "
	"WHERE (?1 IS NULL OR k.org_id = ?1) AND k.rowid > ?2 "
	"ORDER BY k.rowid LIMIT ?3",
	/* STMT_INFO: one key as the listing shows it */
	"SELECT k.rowid, k.id, k.org_id, k.user_id, u.email, u.role, "
	"k.created_at, k.revoked_at FROM api_keys k "
	"JOIN users u ON u.id = k.user_id WHERE k.id = ?1",
};

enum rs_err
rs_store_keys_find(struct rs_db *db,
    const unsigned char hash[RS_APIKEY_HASH_BYTES], struct rs_store_key *k)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_keys_pg_find(db, hash, k);

	memset(k, 0, sizeof(*k));
	if ((st = rs_db_stmt(db, sql[STMT_BY_HASH])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, RS_APIKEY_HASH_BYTES, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) != SQLITE_ROW)
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	else if (sqlite3_column_bytes(st, 5) != RS_APIKEY_HASH_BYTES ||
	    sodium_memcmp(sqlite3_column_blob(st, 5), hash,
	    RS_APIKEY_HASH_BYTES) != 0 ||
	    strcmp((const char *)sqlite3_column_text(st, 4), "active") != 0)
		rc = RS_ERR_NOTFOUND;
	else if ((rc = rs_db_column_copy(st, 0, k->key_id,
	    sizeof(k->key_id))) == RS_OK &&
	    (rc = rs_db_column_copy(st, 1, k->org_id,
	    sizeof(k->org_id))) == RS_OK &&
	    (rc = rs_db_column_copy(st, 2, k->user_id,
	    sizeof(k->user_id))) == RS_OK)
		k->role = rs_role_parse(
		    (const char *)sqlite3_column_text(st, 3));
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_keys_holder(struct rs_db *db, struct rs_arena *a, const char *key_id,
    const char *org, const char *uid, struct rs_store_holder *h)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_keys_pg_holder(db, a, key_id, org, uid, h);

	memset(h, 0, sizeof(*h));
	if ((st = rs_db_stmt(db, sql[STMT_HOLDER])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((h->email = rs_db_column_dup(st, 0, a)) == NULL)
			rc = RS_ERR_NOMEM;
		h->role = rs_role_parse(
		    (const char *)sqlite3_column_text(st, 1));
		h->last_sync_at = sqlite3_column_int64(st, 2);
		h->rate_limit = sqlite3_column_int(st, 3);
	} else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_keys_issue(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *uid, int64_t now, char key[RS_APIKEY_LEN + 1],
    char key_id[RS_ID_MAX])
{
	unsigned char	 hash[RS_APIKEY_HASH_BYTES];
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_keys_pg_issue(db, apikey_subkey, org, uid,
		    now, key, key_id);

	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	rs_apikey_new(key, RS_APIKEY_LEN + 1);
	rs_apikey_hash(apikey_subkey, key, hash);
	rs_id_new(key_id, RS_ID_MAX, "key_");
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, uid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	rc = rs_db_run(st);
	sodium_memzero(hash, sizeof(hash));
	if (rc != RS_OK)
		sodium_memzero(key, RS_APIKEY_LEN + 1);
	return rc;
}

enum rs_err
rs_store_keys_revoke(struct rs_db *db, const char *key_id, int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_keys_pg_revoke(db, key_id, now);

	if ((st = rs_db_stmt(db, sql[STMT_REVOKE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) > 0) {
		rs_db_note_shared(db);
		return RS_OK;
	}
	if ((st = rs_db_stmt(db, sql[STMT_EXISTS])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	rs_db_done(st);
	if (step == SQLITE_ROW)
		return RS_OK;		/* revoked before */
	return step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
}


/* Fills k from the current row of STMT_LIST. */
static enum rs_err
rs_store_keys_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_store_keyinfo *k)
{
	memset(k, 0, sizeof(*k));
	k->rowid = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, k->id, sizeof(k->id)) != RS_OK ||
	    rs_db_column_copy(st, 2, k->org_id, sizeof(k->org_id)) != RS_OK ||
	    rs_db_column_copy(st, 3, k->user_id, sizeof(k->user_id)) != RS_OK)
		return RS_ERR_RANGE;
	if ((k->email = rs_db_column_dup(st, 4, a)) == NULL)
		return RS_ERR_NOMEM;
	k->role = rs_role_parse((const char *)sqlite3_column_text(st, 5));
	k->created_at = sqlite3_column_int64(st, 6);
	k->revoked_at = sqlite3_column_int64(st, 7);
	return RS_OK;
}

enum rs_err
rs_store_keys_list(struct rs_db *db, struct rs_arena *a, const char *org,
    int64_t after, size_t max, struct rs_store_keyinfo *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_keys_pg_list(db, a, org, after, max, out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	if (org != NULL)
		sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_keys_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_keys_info(struct rs_db *db, struct rs_arena *a, const char *key_id,
    struct rs_store_keyinfo *k)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_keys_pg_info(db, a, key_id, k);

	if ((st = rs_db_stmt(db, sql[STMT_INFO])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_keys_row(a, st, k);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}
