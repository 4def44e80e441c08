/*
 * store_webhooks_pg.c: store_webhooks.h on PostgreSQL (see
 * store_webhooks_pg.h). The secret goes in and out sealed, as bytea;
 * this file never opens it.
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_webhooks_pg.h"

enum {
	STMT_GET,
	STMT_GET_SEQ,
	STMT_LIST,
	STMT_ENABLED,
	STMT_COUNT,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_DELETE,
	STMT_SECRET,
	STMT_DISABLE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT " WCOLS " FROM webhooks WHERE org_id = $1 AND id = $2",
	/* STMT_GET_SEQ */
	"SELECT " WCOLS " FROM webhooks WHERE seq = $1",
	/* STMT_LIST: oldest first, after the row $2 (0: from the first) */
	"SELECT " WCOLS " FROM webhooks WHERE org_id = $1 AND seq > $2 "
	"ORDER BY seq LIMIT $3",
	/* STMT_ENABLED */
	"SELECT " WCOLS " FROM webhooks WHERE org_id = $1 "
	"AND status = 'enabled' ORDER BY seq LIMIT $2",
	/* STMT_COUNT */
	"SELECT count(*) FROM webhooks WHERE org_id = $1",
	/*
	 * STMT_INSERT: from_event is the org's event count now, read in
	 * the same statement (and transaction) as the row is made, so no
	 * event falls between "now" and the endpoint. No org: no row.
	 * RETURNING gives the seq (SQLite's last_insert_rowid) and the
	 * count it read, where SQLite read the row back. The parameters
	 * are cast: in a SELECT list they would have no type to take.
	 */
	"INSERT INTO webhooks (id, org_id, url, events, description, "
	"status, secret, from_event, created_at, updated_at) "
	"SELECT $1::text, id, $3::text, $4::text, $5::text, 'enabled', "
	"$6::bytea, event_seq, $7::bigint, $7::bigint "
	"FROM orgs WHERE id = $2 RETURNING seq, from_event",
	/*
	 * STMT_UPDATE: see rs_store_webhooks_update() for the reason;
	 * $6 is the 0/1 enabled flag, which PostgreSQL does not take for
	 * a boolean.
	 */
	"UPDATE webhooks SET url = $3, events = $4, description = $5, "
	"disabled_reason = CASE WHEN $6::int <> 0 THEN NULL "
	"WHEN status = 'disabled' THEN disabled_reason ELSE $7::text END, "
	"status = CASE WHEN $6::int <> 0 THEN 'enabled' ELSE 'disabled' END, "
	"updated_at = $8 WHERE org_id = $1 AND id = $2",
	/* STMT_DELETE */
	"DELETE FROM webhooks WHERE seq = $1",
	/* STMT_SECRET */
	"UPDATE webhooks SET secret = $3, updated_at = $4 "
	"WHERE org_id = $1 AND id = $2",
	/* STMT_DISABLE */
	"UPDATE webhooks SET status = 'disabled', disabled_reason = $2, "
	"updated_at = $3 WHERE seq = $1",
};

/* Fills w from row i of a WCOLS query. */
static enum rs_err
rs_store_webhooks_pg_row(struct rs_arena *a, const struct pg_result *r,
    int i, struct rs_store_webhook *w)
{
	unsigned char	 secret[RS_WHSIG_SEALED];
	size_t		 len;

	memset(w, 0, sizeof(*w));
	w->seq = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, w->id, sizeof(w->id)) != RS_OK ||
	    rs_pg_copy(r, i, 2, w->org, sizeof(w->org)) != RS_OK)
		return RS_ERR_RANGE;
	w->url = rs_pg_dup(r, i, 3, a);
	w->events = rs_pg_dup(r, i, 4, a);
	if (!rs_pg_isnull(r, i, 5) &&
	    (w->description = rs_pg_dup(r, i, 5, a)) == NULL)
		return RS_ERR_NOMEM;
	w->enabled = rs_pg_int64(r, i, 6) != 0;
	if (!rs_pg_isnull(r, i, 7) &&
	    (w->disabled_reason = rs_pg_dup(r, i, 7, a)) == NULL)
		return RS_ERR_NOMEM;
	/* A sealed secret of another size is not ours: the worker's open
	 * fails on the zeros left here, never reads past the value. */
	if (rs_pg_bytea(r, i, 8, secret, sizeof(secret), &len) == RS_OK &&
	    len == RS_WHSIG_SEALED)
		memcpy(w->secret, secret, RS_WHSIG_SEALED);
	w->from_event = rs_pg_int64(r, i, 9);
	w->created_at = rs_pg_int64(r, i, 10);
	w->updated_at = rs_pg_int64(r, i, 11);
	return w->url && w->events ? RS_OK : RS_ERR_NOMEM;
}

/*
 * Runs the query i with args; up to max of its rows into out, *n of
 * them (which starts at 0).
 */
static enum rs_err
rs_store_webhooks_pg_rows(struct rs_db *db, struct rs_arena *a, int i,
    const struct rs_pg_args *args, size_t max, struct rs_store_webhook *out,
    size_t *n)
{
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 k;

	*n = 0;
	if ((rc = rs_pg_query(db, sql[i], args, &r)) != RS_OK)
		return rc;
	for (k = 0; k < rs_pg_rows(r) && *n < max; k++)
		if ((rc = rs_store_webhooks_pg_row(a, r, k,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

/* The one row of query i with args into w, or RS_ERR_NOTFOUND. */
static enum rs_err
rs_store_webhooks_pg_one(struct rs_db *db, struct rs_arena *a, int i,
    const struct rs_pg_args *args, struct rs_store_webhook *w)
{
	enum rs_err	 rc;
	size_t		 n;

	if ((rc = rs_store_webhooks_pg_rows(db, a, i, args, 1, w,
	    &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

/* The count of org's endpoints into *count. */
static enum rs_err
rs_store_webhooks_pg_count(struct rs_db *db, const char *org, int64_t *count)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	if ((rc = rs_pg_query(db, sql[STMT_COUNT], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1)
		*count = rs_pg_int64(r, 0, 0);
	else
		rc = RS_ERR_DB;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_webhooks_pg_create(struct rs_db *db, const char *org,
    struct rs_store_webhook *w, int64_t now)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;
	int64_t			 count;

	/* The count and the insert are one API write of the org, which
	 * holds its org's lock (rs_db_begin_org): no other writer of the
	 * org adds an endpoint between them. */
	if ((rc = rs_store_webhooks_pg_count(db, org, &count)) != RS_OK)
		return rc;
	if (count >= RS_STORE_WEBHOOKS_MAX)
		return RS_ERR_RANGE;
	rs_id_new(w->id, sizeof(w->id), "whk_");
	rs_pg_args(&a);
	rs_pg_text(&a, w->id);
	rs_pg_text(&a, org);
	rs_pg_text(&a, w->url);
	rs_pg_text(&a, w->events);
	rs_pg_text(&a, w->description);
	rs_pg_bytes(&a, w->secret, RS_WHSIG_SEALED);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_query(db, sql[STMT_INSERT], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) != 1) {
		rs_pg_clear(r);
		return RS_ERR_NOTFOUND;		/* no such org */
	}
	w->seq = rs_pg_int64(r, 0, 0);
	w->from_event = rs_pg_int64(r, 0, 1);
	rs_pg_clear(r);
	snprintf(w->org, sizeof(w->org), "%s", org);
	w->enabled = 1;
	w->disabled_reason = NULL;
	w->created_at = w->updated_at = now;
	return RS_OK;
}

enum rs_err
rs_store_webhooks_pg_get(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, struct rs_store_webhook *w)
{
	struct rs_pg_args	 args;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	return rs_store_webhooks_pg_one(db, a, STMT_GET, &args, w);
}

enum rs_err
rs_store_webhooks_pg_by_seq(struct rs_db *db, struct rs_arena *a,
    int64_t seq, struct rs_store_webhook *w)
{
	struct rs_pg_args	 args;

	rs_pg_args(&args);
	rs_pg_int(&args, seq);
	return rs_store_webhooks_pg_one(db, a, STMT_GET_SEQ, &args, w);
}

enum rs_err
rs_store_webhooks_pg_list(struct rs_db *db, struct rs_arena *a,
    const char *org, int64_t after_seq, size_t max,
    struct rs_store_webhook *out, size_t *n)
{
	struct rs_pg_args	 args;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, after_seq);
	rs_pg_int(&args, (int64_t)max);
	return rs_store_webhooks_pg_rows(db, a, STMT_LIST, &args, max, out,
	    n);
}

enum rs_err
rs_store_webhooks_pg_enabled(struct rs_db *db, struct rs_arena *a,
    const char *org, struct rs_store_webhook *out, size_t *n)
{
	struct rs_pg_args	 args;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, RS_STORE_WEBHOOKS_MAX);
	return rs_store_webhooks_pg_rows(db, a, STMT_ENABLED, &args,
	    RS_STORE_WEBHOOKS_MAX, out, n);
}

enum rs_err
rs_store_webhooks_pg_update(struct rs_db *db, struct rs_arena *a,
    const char *org, struct rs_store_webhook *w, int64_t now)
{
	struct rs_pg_args	 args;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, w->id);
	rs_pg_text(&args, w->url);
	rs_pg_text(&args, w->events);
	rs_pg_text(&args, w->description);
	rs_pg_int(&args, w->enabled != 0);
	rs_pg_text(&args, w->disabled_reason);
	rs_pg_int(&args, now);
	if ((rc = rs_pg_run(db, sql[STMT_UPDATE], &args, &n)) != RS_OK)
		return rc;
	if (n != 1)
		return RS_ERR_NOTFOUND;
	return rs_store_webhooks_pg_get(db, a, org, w->id, w);
}

enum rs_err
rs_store_webhooks_pg_delete(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, struct rs_store_webhook *w)
{
	struct rs_store_webhook	 had;
	struct rs_pg_args	 args;
	enum rs_err		 rc;
	int64_t			 n;

	if (w == NULL)
		w = &had;
	if ((rc = rs_store_webhooks_pg_get(db, a, org, id, w)) != RS_OK)
		return rc;
	rs_pg_args(&args);
	rs_pg_int(&args, w->seq);
	if ((rc = rs_pg_run(db, sql[STMT_DELETE], &args, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_webhooks_pg_set_secret(struct rs_db *db, const char *org,
    const char *id, const unsigned char sealed[RS_WHSIG_SEALED], int64_t now)
{
	struct rs_pg_args	 args;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	rs_pg_bytes(&args, sealed, RS_WHSIG_SEALED);
	rs_pg_int(&args, now);
	if ((rc = rs_pg_run(db, sql[STMT_SECRET], &args, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_webhooks_pg_disable(struct rs_db *db, int64_t seq,
    const char *reason, int64_t now)
{
	struct rs_pg_args	 args;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&args);
	rs_pg_int(&args, seq);
	rs_pg_text(&args, reason);
	rs_pg_int(&args, now);
	if ((rc = rs_pg_run(db, sql[STMT_DISABLE], &args, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}
