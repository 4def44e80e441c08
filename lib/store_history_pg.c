#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "json.h"
#include "store_history_pg.h"

enum {
	STMT_INSERT,
	STMT_LIST,
	STMT_BASE,
	STMT_AFTER,
	STMT_PURGE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_INSERT */
	"INSERT INTO record_history (org_id, record_id, version, causal, "
	"record, changed, actor, written_at, superseded_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	/* STMT_LIST: the unique (org_id, record_id, version), backwards */
	"SELECT " HCOLS " FROM record_history WHERE org_id = $1 "
	"AND record_id = $2 AND version < $3 AND superseded_at >= $4 "
	"ORDER BY version DESC LIMIT $5",
	/* STMT_BASE: the record's few rows, through the same index */
	"SELECT version FROM record_history WHERE org_id = $1 "
	"AND record_id = $2 AND causal = $3",
	/* STMT_AFTER */
	"SELECT changed FROM record_history WHERE org_id = $1 "
	"AND record_id = $2 AND version > $3 ORDER BY version",
	/* STMT_PURGE: walks record_history_superseded. The worker purges
	 * while a record's tombstone purge (its trigger) or another run
	 * may take the same rows: those it holds are left, not waited
	 * for. */
	"DELETE FROM record_history WHERE seq IN (SELECT seq FROM "
	"record_history WHERE superseded_at < $1 "
	"ORDER BY superseded_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
};

enum rs_err
rs_store_history_pg_put(struct rs_db *db, const struct rs_history *h)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_text(&a, h->org_id);
	rs_pg_text(&a, h->record_id);
	rs_pg_int(&a, h->version);
	rs_pg_text(&a, h->causal);
	rs_pg_text(&a, h->record);
	rs_pg_text(&a, h->changed);
	rs_pg_text(&a, h->actor);
	rs_pg_int(&a, h->written_at);
	rs_pg_int(&a, h->superseded_at);
	return rs_pg_later(db, sql[STMT_INSERT], &a);
}

/* Fills h from row i of an HCOLS result. */
static enum rs_err
rs_store_history_pg_row(struct rs_arena *a, const struct pg_result *r,
    int i, struct rs_history *h)
{
	memset(h, 0, sizeof(*h));
	h->seq = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, h->org_id, sizeof(h->org_id)) != RS_OK ||
	    rs_pg_copy(r, i, 2, h->record_id, sizeof(h->record_id)) != RS_OK ||
	    rs_pg_copy(r, i, 4, h->causal, sizeof(h->causal)) != RS_OK ||
	    rs_pg_copy(r, i, 7, h->actor, sizeof(h->actor)) != RS_OK)
		return RS_ERR_RANGE;
	h->version = rs_pg_int64(r, i, 3);
	h->record = rs_pg_dup(r, i, 5, a);
	h->changed = rs_pg_dup(r, i, 6, a);
	h->written_at = rs_pg_int64(r, i, 8);
	h->superseded_at = rs_pg_int64(r, i, 9);
	if (h->record == NULL || (h->changed == NULL && !rs_pg_isnull(r, i, 6)))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_history_pg_list(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *record_id, int64_t before, int64_t horizon,
    size_t max, struct rs_history *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, record_id);
	rs_pg_int(&args, before > 0 ? before : INT64_MAX);
	rs_pg_int(&args, horizon);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_history_pg_row(a, r, i,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

/* The version base names in the history into *version: RS_OK, or
 * RS_ERR_NOTFOUND. */
static enum rs_err
rs_store_history_pg_base(struct rs_db *db, const char *org,
    const char *record_id, const char *base, int64_t *version)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_text(&a, record_id);
	rs_pg_text(&a, base);
	if ((rc = rs_pg_query(db, sql[STMT_BASE], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0)
		*version = rs_pg_int64(r, 0, 0);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_history_pg_since(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *record_id, const char *base,
    const char *cur_changed, struct rs_history_since *out)
{
	struct rs_pg_args	 args;
	struct pg_result	*r = NULL;
	struct json_object	*seen = NULL, *list = NULL;
	enum rs_err		 rc;
	int			 i;

	memset(out, 0, sizeof(*out));
	rc = rs_store_history_pg_base(db, org, record_id, base,
	    &out->version);
	if (rc == RS_ERR_NOTFOUND)
		return RS_OK;
	if (rc != RS_OK)
		return rc;
	out->found = 1;
	rc = RS_ERR_NOMEM;
	if ((seen = json_object_new_object()) == NULL ||
	    (list = json_object_new_array()) == NULL)
		goto out;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, record_id);
	rs_pg_int(&args, out->version);
	if ((rc = rs_pg_query(db, sql[STMT_AFTER], &args, &r)) != RS_OK)
		goto out;
	for (i = 0; rc == RS_OK && i < rs_pg_rows(r); i++)
		rc = rs_store_history_union(rs_pg_str(r, i, 0), seen, list,
		    &out->unknown);
	if (rc == RS_OK)
		rc = rs_store_history_union(cur_changed, seen, list,
		    &out->unknown);
	if (rc == RS_OK)
		rc = rs_store_history_names(a, list, out);
out:
	if (r != NULL)
		rs_pg_clear(r);
	json_object_put(list);
	json_object_put(seen);
	return rc;
}

enum rs_err
rs_store_history_pg_purge(struct rs_db *db, int64_t horizon, size_t max,
    size_t *n)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 changed;

	*n = 0;
	rs_pg_args(&a);
	rs_pg_int(&a, horizon);
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_run(db, sql[STMT_PURGE], &a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}
