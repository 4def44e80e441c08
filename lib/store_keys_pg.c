#include <string.h>

#include <sodium.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
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
	/* STMT_BY_HASH: every request's; one probe of api_keys' hash key */
	"SELECT k.id, k.org_id, k.user_id, u.role, u.status, k.hash "
	"FROM api_keys k JOIN users u ON u.id = k.user_id "
	"WHERE k.hash = $1 AND k.revoked_at IS NULL",
	/* STMT_HOLDER */
	"SELECT u.email, u.role, u.last_sync_at, o.rate_limit FROM api_keys k "
	"JOIN users u ON u.id = k.user_id JOIN orgs o ON o.id = k.org_id "
	"WHERE k.id = $1 AND k.org_id = $2 AND k.user_id = $3 "
	"AND k.revoked_at IS NULL AND u.status = 'active'",
	/* STMT_INSERT */
	"INSERT INTO api_keys (id, org_id, user_id, hash, created_at) "
	"VALUES ($1, $2, $3, $4, $5)",
	/*
	 * STMT_REVOKE: a concurrent revocation holds the row; this one
	 * then rereads it, finds it revoked and changes nothing.
	 */
	"UPDATE api_keys SET revoked_at = $2 "
	"WHERE id = $1 AND revoked_at IS NULL",
	/* STMT_EXISTS */
	"SELECT 1 FROM api_keys WHERE id = $1",
	/* STMT_LIST: never the hash; $1 is seen only as NULL or text */
	"SELECT k.rowid, k.id, k.org_id, k.user_id, u.email, u.role, "
	"k.created_at, k.revoked_at FROM api_keys k "
	"JOIN users u ON u.id = k.user_id "
	"WHERE ($1::text IS NULL OR k.org_id = $1::text) AND k.rowid > $2 "
	"ORDER BY k.rowid LIMIT $3",
	/* STMT_INFO: one key as the listing shows it */
	"SELECT k.rowid, k.id, k.org_id, k.user_id, u.email, u.role, "
	"k.created_at, k.revoked_at FROM api_keys k "
	"JOIN users u ON u.id = k.user_id WHERE k.id = $1",
};

/*
 * Whether row 0 of STMT_BY_HASH is hash's key (compared in constant
 * time, as the SQLite half does) and its user is active.
 */
static int
rs_store_keys_pg_match(const struct pg_result *r,
    const unsigned char hash[RS_APIKEY_HASH_BYTES])
{
	unsigned char	 stored[RS_APIKEY_HASH_BYTES];
	const char	*status;
	size_t		 len;

	if (rs_pg_rows(r) == 0 || (status = rs_pg_str(r, 0, 4)) == NULL)
		return 0;
	if (rs_pg_bytea(r, 0, 5, stored, sizeof(stored), &len) != RS_OK ||
	    len != RS_APIKEY_HASH_BYTES ||
	    sodium_memcmp(stored, hash, RS_APIKEY_HASH_BYTES) != 0)
		return 0;
	return strcmp(status, "active") == 0;
}

enum rs_err
rs_store_keys_pg_find(struct rs_db *db,
    const unsigned char hash[RS_APIKEY_HASH_BYTES], struct rs_store_key *k)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	memset(k, 0, sizeof(*k));
	rs_pg_args(&a);
	rs_pg_bytes(&a, hash, RS_APIKEY_HASH_BYTES);
	if ((rc = rs_pg_query(db, sql[STMT_BY_HASH], &a, &r)) != RS_OK)
		return rc;
	if (!rs_store_keys_pg_match(r, hash))
		rc = RS_ERR_NOTFOUND;
	else if ((rc = rs_pg_copy(r, 0, 0, k->key_id,
	    sizeof(k->key_id))) == RS_OK &&
	    (rc = rs_pg_copy(r, 0, 1, k->org_id,
	    sizeof(k->org_id))) == RS_OK &&
	    (rc = rs_pg_copy(r, 0, 2, k->user_id,
	    sizeof(k->user_id))) == RS_OK)
		k->role = rs_role_parse(rs_pg_str(r, 0, 3));
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_keys_pg_holder(struct rs_db *db, struct rs_arena *a,
    const char *key_id, const char *org, const char *uid,
    struct rs_store_holder *h)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	memset(h, 0, sizeof(*h));
	rs_pg_args(&args);
	rs_pg_text(&args, key_id);
	rs_pg_text(&args, org);
	rs_pg_text(&args, uid);
	if ((rc = rs_pg_query(db, sql[STMT_HOLDER], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0) {
		if ((h->email = rs_pg_dup(r, 0, 0, a)) == NULL)
			rc = RS_ERR_NOMEM;
		h->role = rs_role_parse(rs_pg_str(r, 0, 1));
		h->last_sync_at = rs_pg_int64(r, 0, 2);
		h->rate_limit = (int)rs_pg_int64(r, 0, 3);
	} else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_keys_pg_issue(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *uid, int64_t now, char key[RS_APIKEY_LEN + 1],
    char key_id[RS_ID_MAX])
{
	unsigned char		 hash[RS_APIKEY_HASH_BYTES];
	struct rs_pg_args	 a;
	enum rs_err		 rc;

	rs_apikey_new(key, RS_APIKEY_LEN + 1);
	rs_apikey_hash(apikey_subkey, key, hash);
	rs_id_new(key_id, RS_ID_MAX, "key_");
	rs_pg_args(&a);
	rs_pg_text(&a, key_id);
	rs_pg_text(&a, org);
	rs_pg_text(&a, uid);
	rs_pg_bytes(&a, hash, sizeof(hash));
	rs_pg_int(&a, now);
	rc = rs_pg_run(db, sql[STMT_INSERT], &a, NULL);
	sodium_memzero(hash, sizeof(hash));
	if (rc != RS_OK)
		sodium_memzero(key, RS_APIKEY_LEN + 1);
	return rc;
}

enum rs_err
rs_store_keys_pg_revoke(struct rs_db *db, const char *key_id, int64_t now)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_text(&a, key_id);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_run(db, sql[STMT_REVOKE], &a, &n)) != RS_OK)
		return rc;
	if (n > 0) {
		rs_db_note_shared(db);
		return RS_OK;
	}
	rs_pg_args(&a);
	rs_pg_text(&a, key_id);
	if ((rc = rs_pg_query(db, sql[STMT_EXISTS], &a, &r)) != RS_OK)
		return rc;
	rc = rs_pg_rows(r) > 0 ? RS_OK : RS_ERR_NOTFOUND; /* revoked before */
	rs_pg_clear(r);
	return rc;
}

/* Fills k from row i of STMT_LIST or STMT_INFO. */
static enum rs_err
rs_store_keys_pg_row(struct rs_arena *a, const struct pg_result *r, int i,
    struct rs_store_keyinfo *k)
{
	memset(k, 0, sizeof(*k));
	k->rowid = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, k->id, sizeof(k->id)) != RS_OK ||
	    rs_pg_copy(r, i, 2, k->org_id, sizeof(k->org_id)) != RS_OK ||
	    rs_pg_copy(r, i, 3, k->user_id, sizeof(k->user_id)) != RS_OK)
		return RS_ERR_RANGE;
	if ((k->email = rs_pg_dup(r, i, 4, a)) == NULL)
		return RS_ERR_NOMEM;
	k->role = rs_role_parse(rs_pg_str(r, i, 5));
	k->created_at = rs_pg_int64(r, i, 6);
	k->revoked_at = rs_pg_int64(r, i, 7);
	return RS_OK;
}

enum rs_err
rs_store_keys_pg_list(struct rs_db *db, struct rs_arena *a, const char *org,
    int64_t after, size_t max, struct rs_store_keyinfo *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, after);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_keys_pg_row(a, r, i, &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_keys_pg_info(struct rs_db *db, struct rs_arena *a,
    const char *key_id, struct rs_store_keyinfo *k)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	rs_pg_text(&args, key_id);
	if ((rc = rs_pg_query(db, sql[STMT_INFO], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0)
		rc = rs_store_keys_pg_row(a, r, 0, k);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}
