/*
 * store_webhooks.c: an org's webhook endpoints (see store_webhooks.h).
 * The secret goes in and out sealed; this file never opens it.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "arena.h"
#include "db.h"
#include "store_webhooks.h"
#include "store_webhooks_pg.h"

enum {
	STMT_GET,
	STMT_GET_SEQ,
	STMT_LIST,
	STMT_ENABLED,
	STMT_COUNT,
	STMT_FROM,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_DELETE,
	STMT_SECRET,
	STMT_DISABLE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT " WCOLS " FROM webhooks WHERE org_id = ?1 AND id = ?2",
	/* STMT_GET_SEQ */
	"SELECT " WCOLS " FROM webhooks WHERE seq = ?1",
	/* STMT_LIST: oldest first, after the row ?2 (0: from the first) */
	"SELECT " WCOLS " FROM webhooks WHERE org_id = ?1 AND seq > ?2 "
	"ORDER BY seq LIMIT ?3",
	/* STMT_ENABLED */
	"SELECT " WCOLS " FROM webhooks WHERE org_id = ?1 "
	"AND status = 'enabled' ORDER BY seq LIMIT ?2",
	/* STMT_COUNT */
	"SELECT count(*) FROM webhooks WHERE org_id = ?1",
	/* STMT_FROM */
	"SELECT from_event FROM webhooks WHERE id = ?1",
	/*
	 * STMT_INSERT: from_event is the org's event count now, read in
	 * the same statement (and transaction) as the row is made, so no
	 * event falls between "now" and the endpoint. No org: no row.
	 */
	"INSERT INTO webhooks (id, org_id, url, events, description, "
	"status, secret, from_event, created_at, updated_at) "
	"SELECT ?1, id, ?3, ?4, ?5, 'enabled', ?6, event_seq, ?7, ?7 "
	"FROM orgs WHERE id = ?2",
	/* STMT_UPDATE: see rs_store_webhooks_update() for the reason */
	"UPDATE webhooks SET url = ?3, events = ?4, description = ?5, "
	"disabled_reason = CASE WHEN ?6 THEN NULL "
	"WHEN status = 'disabled' THEN disabled_reason ELSE ?7 END, "
	"status = CASE WHEN ?6 THEN 'enabled' ELSE 'disabled' END, "
	"updated_at = ?8 WHERE org_id = ?1 AND id = ?2",
	/* STMT_DELETE */
	"DELETE FROM webhooks WHERE seq = ?1",
	/* STMT_SECRET */
	"UPDATE webhooks SET secret = ?3, updated_at = ?4 "
	"WHERE org_id = ?1 AND id = ?2",
	/* STMT_DISABLE */
	"UPDATE webhooks SET status = 'disabled', disabled_reason = ?2, "
	"updated_at = ?3 WHERE seq = ?1",
};

/* Fills w from the current row of a WCOLS query. */
static enum rs_err
rs_store_webhooks_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_store_webhook *w)
{
	const void	*blob;

	memset(w, 0, sizeof(*w));
	w->seq = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, w->id, sizeof(w->id)) != RS_OK ||
	    rs_db_column_copy(st, 2, w->org, sizeof(w->org)) != RS_OK)
		return RS_ERR_RANGE;
	w->url = rs_db_column_dup(st, 3, a);
	w->events = rs_db_column_dup(st, 4, a);
	if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
	    (w->description = rs_db_column_dup(st, 5, a)) == NULL)
		return RS_ERR_NOMEM;
	w->enabled = sqlite3_column_int(st, 6) != 0;
	if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
	    (w->disabled_reason = rs_db_column_dup(st, 7, a)) == NULL)
		return RS_ERR_NOMEM;
	/* A sealed secret of another size is not ours: the worker's open
	 * fails on the zeros left here, never reads past the blob. */
	blob = sqlite3_column_blob(st, 8);
	if (blob != NULL && sqlite3_column_bytes(st, 8) == RS_WHSIG_SEALED)
		memcpy(w->secret, blob, RS_WHSIG_SEALED);
	w->from_event = sqlite3_column_int64(st, 9);
	w->created_at = sqlite3_column_int64(st, 10);
	w->updated_at = sqlite3_column_int64(st, 11);
	return w->url && w->events ? RS_OK : RS_ERR_NOMEM;
}

/* The one row of statement i keyed by (org, id), or by seq when org is NULL. */
static enum rs_err
rs_store_webhooks_one(struct rs_db *db, struct rs_arena *a, int i,
    const char *org, const char *id, int64_t seq, struct rs_store_webhook *w)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if ((st = rs_db_stmt(db, sql[i])) == NULL)
		return RS_ERR_DB;
	if (org != NULL) {
		sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	} else
		sqlite3_bind_int64(st, 1, seq);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_webhooks_row(a, st, w);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

/* Up to max rows of the list statement st (bound) into out; *n. */
static enum rs_err
rs_store_webhooks_rows(struct rs_arena *a, sqlite3_stmt *st, size_t max,
    struct rs_store_webhook *out, size_t *n)
{
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_webhooks_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_webhooks_create(struct rs_db *db, const char *org,
    struct rs_store_webhook *w, int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int64_t		 count;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_create(db, org, w, now);

	count = rs_db_int(db, sql[STMT_COUNT], org);
	if (count < 0)
		return RS_ERR_DB;
	if (count >= RS_STORE_WEBHOOKS_MAX)
		return RS_ERR_RANGE;
	rs_id_new(w->id, sizeof(w->id), "whk_");
	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, w->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->events, -1, SQLITE_STATIC);
	if (w->description != NULL)
		sqlite3_bind_text(st, 5, w->description, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, w->secret, RS_WHSIG_SEALED, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) != 1)
		return RS_ERR_NOTFOUND;		/* no such org */
	w->seq = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	if ((w->from_event = rs_db_int(db, sql[STMT_FROM], w->id)) < 0)
		return RS_ERR_DB;
	snprintf(w->org, sizeof(w->org), "%s", org);
	w->enabled = 1;
	w->disabled_reason = NULL;
	w->created_at = w->updated_at = now;
	return RS_OK;
}

enum rs_err
rs_store_webhooks_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_store_webhook *w)
{
	if (rs_db_pg(db))
		return rs_store_webhooks_pg_get(db, a, org, id, w);

	return rs_store_webhooks_one(db, a, STMT_GET, org, id, 0, w);
}

enum rs_err
rs_store_webhooks_by_seq(struct rs_db *db, struct rs_arena *a, int64_t seq,
    struct rs_store_webhook *w)
{
	if (rs_db_pg(db))
		return rs_store_webhooks_pg_by_seq(db, a, seq, w);

	return rs_store_webhooks_one(db, a, STMT_GET_SEQ, NULL, NULL, seq, w);
}

enum rs_err
rs_store_webhooks_list(struct rs_db *db, struct rs_arena *a, const char *org,
    int64_t after_seq, size_t max, struct rs_store_webhook *out, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_list(db, a, org, after_seq, max,
		    out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	return rs_store_webhooks_rows(a, st, max, out, n);
}

enum rs_err
rs_store_webhooks_enabled(struct rs_db *db, struct rs_arena *a,
    const char *org, struct rs_store_webhook *out, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_enabled(db, a, org, out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_ENABLED])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, RS_STORE_WEBHOOKS_MAX);
	return rs_store_webhooks_rows(a, st, RS_STORE_WEBHOOKS_MAX, out, n);
}

enum rs_err
rs_store_webhooks_update(struct rs_db *db, struct rs_arena *a,
    const char *org, struct rs_store_webhook *w, int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_update(db, a, org, w, now);

	if ((st = rs_db_stmt(db, sql[STMT_UPDATE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, w->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->events, -1, SQLITE_STATIC);
	if (w->description != NULL)
		sqlite3_bind_text(st, 5, w->description, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, w->enabled != 0);
	if (w->disabled_reason != NULL)
		sqlite3_bind_text(st, 7, w->disabled_reason, -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if (sqlite3_changes(sqlite3_db_handle(st)) != 1)
		return RS_ERR_NOTFOUND;
	return rs_store_webhooks_get(db, a, org, w->id, w);
}

enum rs_err
rs_store_webhooks_delete(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, struct rs_store_webhook *w)
{
	struct rs_store_webhook	 had;
	sqlite3_stmt		*st;
	enum rs_err		 rc;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_delete(db, a, org, id, w);

	if (w == NULL)
		w = &had;
	if ((rc = rs_store_webhooks_get(db, a, org, id, w)) != RS_OK)
		return rc;
	if ((st = rs_db_stmt(db, sql[STMT_DELETE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, w->seq);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	return sqlite3_changes(sqlite3_db_handle(st)) == 1 ? RS_OK :
	    RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_webhooks_set_secret(struct rs_db *db, const char *org,
    const char *id, const unsigned char sealed[RS_WHSIG_SEALED], int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_set_secret(db, org, id, sealed,
		    now);

	if ((st = rs_db_stmt(db, sql[STMT_SECRET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sealed, RS_WHSIG_SEALED, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	return sqlite3_changes(sqlite3_db_handle(st)) == 1 ? RS_OK :
	    RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_webhooks_disable(struct rs_db *db, int64_t seq, const char *reason,
    int64_t now)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_webhooks_pg_disable(db, seq, reason, now);

	if ((st = rs_db_stmt(db, sql[STMT_DISABLE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, seq);
	if (reason != NULL)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	return sqlite3_changes(sqlite3_db_handle(st)) == 1 ? RS_OK :
	    RS_ERR_NOTFOUND;
}
