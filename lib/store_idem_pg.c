#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_idem_pg.h"

enum {
	STMT_FIND,
	STMT_STORE,
	STMT_PURGE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_FIND */
	"SELECT request_hash, status, headers, body FROM idempotency_keys "
	"WHERE org_id = $1 AND key = $2 AND created_at > $3",
	/*
	 * STMT_STORE: an expired row under the same key is replaced. As
	 * SQLite's INSERT OR REPLACE deletes it and appends a new row, the
	 * key kept again takes a new seq (sql/pg/0001), so seq order stays
	 * the order keys were kept in, which STMT_PURGE relies on.
	 */
	"INSERT INTO idempotency_keys "
	"(org_id, key, request_hash, status, headers, body, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) "
	"ON CONFLICT (org_id, key) DO UPDATE SET seq = DEFAULT, "
	"request_hash = EXCLUDED.request_hash, state = DEFAULT, "
	"status = EXCLUDED.status, headers = EXCLUDED.headers, "
	"body = EXCLUDED.body, created_at = EXCLUDED.created_at",
	/*
	 * STMT_PURGE: the expired among the $2 oldest rows. Rows append
	 * (a key kept again gets a new seq), so seq order is the order
	 * they were kept in, and this never scans the live ones. The
	 * worker runs it beside API writers that may keep an expired key
	 * again meanwhile: such a row is locked, and once that writer
	 * commits, its created_at is checked again and it is left.
	 */
	"DELETE FROM idempotency_keys WHERE seq IN (SELECT seq "
	"FROM idempotency_keys ORDER BY seq LIMIT $2) AND created_at <= $1",
};

/* Whether row 0 of STMT_FIND was kept for the request hash stands for. */
static int
rs_store_idem_pg_same(const struct pg_result *r,
    const unsigned char hash[RS_IDEM_HASH_BYTES])
{
	unsigned char	 stored[RS_IDEM_HASH_BYTES];
	size_t		 len;

	if (rs_pg_bytea(r, 0, 0, stored, sizeof(stored), &len) != RS_OK ||
	    len != RS_IDEM_HASH_BYTES)
		return 0;
	return sodium_memcmp(stored, hash, RS_IDEM_HASH_BYTES) == 0;
}

enum rs_store_idem_found
rs_store_idem_pg_find(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_idem *id, int64_t now, struct rs_idem_answer *ans)
{
	struct rs_pg_args		 args;
	struct pg_result		*r;
	enum rs_store_idem_found	 found;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id->key);
	rs_pg_int(&args, now - RS_IDEM_TTL_MS);
	if (rs_pg_query(db, sql[STMT_FIND], &args, &r) != RS_OK)
		return RS_IDEM_ERROR;
	if (rs_pg_rows(r) == 0)
		found = RS_IDEM_NEW;
	else if (!rs_store_idem_pg_same(r, id->hash))
		found = RS_IDEM_MISMATCH;
	else {
		ans->status = (int)rs_pg_int64(r, 0, 1);
		ans->headers = rs_pg_dup(r, 0, 2, a);
		ans->body = rs_pg_dup(r, 0, 3, a);
		found = (ans->headers && ans->body) ? RS_IDEM_REPLAY :
		    RS_IDEM_ERROR;
	}
	rs_pg_clear(r);
	return found;
}

enum rs_err
rs_store_idem_pg_store(struct rs_db *db, const char *org,
    const struct rs_idem *id, int64_t now, const struct rs_idem_answer *ans)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_text(&a, id->key);
	rs_pg_bytes(&a, id->hash, RS_IDEM_HASH_BYTES);
	rs_pg_int(&a, ans->status);
	rs_pg_text(&a, ans->headers);
	rs_pg_text(&a, ans->body);
	rs_pg_int(&a, now);
	return rs_pg_later(db, sql[STMT_STORE], &a);
}

enum rs_err
rs_store_idem_pg_purge(struct rs_db *db, int64_t now, size_t max, size_t *n)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 changed;

	*n = 0;
	rs_pg_args(&a);
	/* rs_store_idem_find ignores rows at or before this. */
	rs_pg_int(&a, now - RS_IDEM_TTL_MS);
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_run(db, sql[STMT_PURGE], &a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}
