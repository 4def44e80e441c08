#include <stdint.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "arena.h"
#include "db.h"
#include "json.h"
#include "store_history.h"
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
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	/* STMT_LIST: the unique (org_id, record_id, version), backwards */
	"SELECT " HCOLS " FROM record_history WHERE org_id = ?1 "
	"AND record_id = ?2 AND version < ?3 AND superseded_at >= ?4 "
	"ORDER BY version DESC LIMIT ?5",
	/* STMT_BASE: the record's few rows, through the same index */
	"SELECT version FROM record_history WHERE org_id = ?1 "
	"AND record_id = ?2 AND causal = ?3",
	/* STMT_AFTER */
	"SELECT changed FROM record_history WHERE org_id = ?1 "
	"AND record_id = ?2 AND version > ?3 ORDER BY version",
	/* STMT_PURGE: walks record_history_superseded */
	"DELETE FROM record_history WHERE seq IN (SELECT seq FROM "
	"record_history WHERE superseded_at < ?1 "
	"ORDER BY superseded_at LIMIT ?2)",
};

enum rs_err
rs_store_history_put(struct rs_db *db, const struct rs_history *h)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_history_pg_put(db, h);

	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, h->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, h->version);
	sqlite3_bind_text(st, 4, h->causal, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, h->record, -1, SQLITE_STATIC);
	if (h->changed != NULL)
		sqlite3_bind_text(st, 6, h->changed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, h->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, h->written_at);
	sqlite3_bind_int64(st, 9, h->superseded_at);
	return rs_db_run(st);
}

/* Fills h from the current row of an HCOLS query. */
static enum rs_err
rs_store_history_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_history *h)
{
	memset(h, 0, sizeof(*h));
	h->seq = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, h->org_id, sizeof(h->org_id)) != RS_OK ||
	    rs_db_column_copy(st, 2, h->record_id,
	    sizeof(h->record_id)) != RS_OK ||
	    rs_db_column_copy(st, 4, h->causal, sizeof(h->causal)) != RS_OK ||
	    rs_db_column_copy(st, 7, h->actor, sizeof(h->actor)) != RS_OK)
		return RS_ERR_RANGE;
	h->version = sqlite3_column_int64(st, 3);
	h->record = rs_db_column_dup(st, 5, a);
	h->changed = rs_db_column_dup(st, 6, a);
	h->written_at = sqlite3_column_int64(st, 8);
	h->superseded_at = sqlite3_column_int64(st, 9);
	if (h->record == NULL || (h->changed == NULL &&
	    sqlite3_column_type(st, 6) != SQLITE_NULL))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_history_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *record_id, int64_t before, int64_t horizon, size_t max,
    struct rs_history *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_history_pg_list(db, a, org, record_id, before,
		    horizon, max, out, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int64(st, 4, horizon);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_history_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

/*
 * Adds the names of JSON array text changed (NULL: unknown) to the
 * union seen (an object used as a set) and, the first time, to list.
 * RS_OK; *unknown set for NULL or text that is not an array of strings.
 */
enum rs_err
rs_store_history_union(const char *changed, struct json_object *seen,
    struct json_object *list, int *unknown)
{
	struct json_object	*arr = NULL, *v;
	const char		*s;
	size_t			 i;
	enum rs_err		 rc = RS_ERR_NOMEM;

	if (changed == NULL || rs_json_parse(changed, strlen(changed), &arr,
	    NULL, 0) != 0 || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		*unknown = 1;
		return RS_OK;
	}
	for (i = 0; i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string)) {
			*unknown = 1;
			continue;
		}
		s = json_object_get_string(v);
		if (json_object_object_get_ex(seen, s, NULL))
			continue;
		if (json_object_object_add(seen, s, NULL) != 0 ||
		    json_object_array_add(list,
		    json_object_new_string(s)) != 0)
			goto out;
	}
	rc = RS_OK;
out:
	json_object_put(arr);
	return rc;
}

/* Copies the strings of list into out->names (arena a). */
enum rs_err
rs_store_history_names(struct rs_arena *a, struct json_object *list,
    struct rs_history_since *out)
{
	size_t	 i, n = json_object_array_length(list);

	if (n == 0)
		return RS_OK;
	if ((out->names = rs_arena_calloc(a, n, sizeof(*out->names))) == NULL)
		return RS_ERR_NOMEM;
	for (i = 0; i < n; i++)
		if ((out->names[i] = rs_arena_strdup(a, json_object_get_string(
		    json_object_array_get_idx(list, i)))) == NULL)
			return RS_ERR_NOMEM;
	out->n = n;
	return RS_OK;
}

/* The version base names in the history into *version: RS_OK, or
 * RS_ERR_NOTFOUND. */
static enum rs_err
rs_store_history_base(struct rs_db *db, const char *org,
    const char *record_id, const char *base, int64_t *version)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if ((st = rs_db_stmt(db, sql[STMT_BASE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, base, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		rc = RS_OK;
	} else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_history_since(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *record_id, const char *base, const char *cur_changed,
    struct rs_history_since *out)
{
	sqlite3_stmt		*st = NULL;
	struct json_object	*seen = NULL, *list = NULL;
	enum rs_err		 rc;
	int			 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_history_pg_since(db, a, org, record_id, base,
		    cur_changed, out);

	memset(out, 0, sizeof(*out));
	rc = rs_store_history_base(db, org, record_id, base, &out->version);
	if (rc == RS_ERR_NOTFOUND)
		return RS_OK;
	if (rc != RS_OK)
		return rc;
	out->found = 1;
	rc = RS_ERR_NOMEM;
	if ((seen = json_object_new_object()) == NULL ||
	    (list = json_object_new_array()) == NULL)
		goto out;
	rc = RS_ERR_DB;
	if ((st = rs_db_stmt(db, sql[STMT_AFTER])) == NULL)
		goto out;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, out->version);
	rc = RS_OK;
	while (rc == RS_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_history_union((const char *)
		    sqlite3_column_text(st, 0), seen, list, &out->unknown);
	if (rc == RS_OK && step != SQLITE_DONE)
		rc = rs_db_err(step);
	if (rc == RS_OK)
		rc = rs_store_history_union(cur_changed, seen, list,
		    &out->unknown);
	if (rc == RS_OK)
		rc = rs_store_history_names(a, list, out);
out:
	if (st != NULL)
		rs_db_done(st);
	json_object_put(list);
	json_object_put(seen);
	return rc;
}

enum rs_err
rs_store_history_purge(struct rs_db *db, int64_t horizon, size_t max,
    size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_history_pg_purge(db, horizon, max, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_PURGE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, horizon);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if ((rc = rs_db_run(st)) == RS_OK)
		*n = (size_t)sqlite3_changes(sqlite3_db_handle(st));
	return rc;
}
