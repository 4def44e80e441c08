#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "store_idem.h"
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
	"WHERE org_id = ?1 AND key = ?2 AND created_at > ?3",
	/* STMT_STORE: an expired row under the same key is replaced */
	"INSERT OR REPLACE INTO idempotency_keys "
	"(org_id, key, request_hash, status, headers, body, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/*
	 * STMT_PURGE: the expired among the ?2 oldest rows. Rows append
	 * (a key kept again gets a new seq), so seq order is the order
	 * they were kept in, and this never scans the live ones.
	 */
	"DELETE FROM idempotency_keys WHERE seq IN (SELECT seq "
	"FROM idempotency_keys ORDER BY seq LIMIT ?2) AND created_at <= ?1",
};

static const char *
rs_store_idem_text(struct rs_arena *a, sqlite3_stmt *st, int col)
{
	return rs_arena_strndup(a, (const char *)sqlite3_column_text(st, col),
	    (size_t)sqlite3_column_bytes(st, col));
}

enum rs_store_idem_found
rs_store_idem_find(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_idem *id, int64_t now, struct rs_idem_answer *ans)
{
	sqlite3_stmt			*st;
	enum rs_store_idem_found	 found;
	int				 rc;

	if (rs_db_pg(db))
		return rs_store_idem_pg_find(db, a, org, id, now, ans);

	if ((st = rs_db_stmt(db, sql[STMT_FIND])) == NULL)
		return RS_IDEM_ERROR;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now - RS_IDEM_TTL_MS);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		found = RS_IDEM_NEW;
	else if (rc != SQLITE_ROW)
		found = RS_IDEM_ERROR;
	else if (sqlite3_column_bytes(st, 0) != RS_IDEM_HASH_BYTES ||
	    sodium_memcmp(sqlite3_column_blob(st, 0), id->hash,
	    RS_IDEM_HASH_BYTES) != 0)
		found = RS_IDEM_MISMATCH;
	else {
		ans->status = sqlite3_column_int(st, 1);
		ans->headers = rs_store_idem_text(a, st, 2);
		ans->body = rs_store_idem_text(a, st, 3);
		found = (ans->headers && ans->body) ? RS_IDEM_REPLAY :
		    RS_IDEM_ERROR;
	}
	rs_db_done(st);
	return found;
}

enum rs_err
rs_store_idem_store(struct rs_db *db, const char *org,
    const struct rs_idem *id, int64_t now, const struct rs_idem_answer *ans)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_idem_pg_store(db, org, id, now, ans);

	if ((st = rs_db_stmt(db, sql[STMT_STORE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id->key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, id->hash, RS_IDEM_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, ans->status);
	sqlite3_bind_text(st, 5, ans->headers, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ans->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	return rs_db_run(st);
}

enum rs_err
rs_store_idem_purge(struct rs_db *db, int64_t now, size_t max, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_idem_pg_purge(db, now, max, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_PURGE])) == NULL)
		return RS_ERR_DB;
	/* rs_store_idem_find ignores rows at or before this. */
	sqlite3_bind_int64(st, 1, now - RS_IDEM_TTL_MS);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if ((rc = rs_db_run(st)) == RS_OK)
		*n = (size_t)sqlite3_changes(sqlite3_db_handle(st));
	return rc;
}
