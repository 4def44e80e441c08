#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "clock.h"
#include "db.h"
#include "json.h"
#include "store_records.h"
#include "store_records_pg.h"

enum {
	STMT_GET,
	STMT_GET_TEXT,
	STMT_CHANGE_SEQ,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_LIST,
	STMT_CHANGES,
	STMT_PURGE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT " COLS " FROM records WHERE org_id = ?1 AND id = ?2",
	/* STMT_GET_TEXT */
	"SELECT json, causal FROM records WHERE org_id = ?1 AND id = ?2 "
	"AND deleted_at IS NULL",
	/* STMT_CHANGE_SEQ */
	"SELECT change_seq FROM orgs WHERE id = ?1",
	/* STMT_INSERT */
	"INSERT INTO records (id, org_id, title, type, site, status, data, "
	"size, causal, version, deleted_at, created_at, updated_at, "
	"created_by, queue, change_seq, seq, updated_by, changed, json) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	"?15, ?16, ?17, ?18, ?19, ?20)",
	/* STMT_UPDATE */
	"UPDATE records SET title = ?3, type = ?4, site = ?5, status = ?6, "
	"data = ?7, size = ?8, causal = ?9, version = ?10, deleted_at = ?11, "
	"updated_at = ?13, queue = ?15, change_seq = ?16, updated_by = ?18, "
	"changed = ?19, json = ?20 WHERE id = ?1 AND org_id = ?2",
	/* STMT_LIST: walks the org's rowid range, in order (sql/0004);
	 * "+org_id" keeps the planner off records_org_change, which would
	 * fetch the whole org and sort it. NULL parameters mean "any". */
	"SELECT " COLS " FROM records "
	"WHERE seq > max(?2, (SELECT num << " RS_STR(RS_ORG_ROW_BITS) " "
	"FROM orgs WHERE id = ?1)) AND seq < ((SELECT num FROM orgs "
	"WHERE id = ?1) + 1) << " RS_STR(RS_ORG_ROW_BITS) " "
	"AND +org_id = ?1 AND (?3 IS NULL OR status = ?3) "
	"AND (?4 IS NULL OR type = ?4) "
	"AND (?5 IS NULL OR site = ?5) AND (?6 IS NULL OR created_by = ?6) "
	"AND (?7 IS NULL OR updated_at > ?7) "
	"AND (?8 OR deleted_at IS NULL) ORDER BY seq LIMIT ?9",
	/* STMT_CHANGES */
	"SELECT " COLS " FROM records WHERE org_id = ?1 AND change_seq > ?2 "
	"ORDER BY change_seq LIMIT ?3",
	/* STMT_PURGE: walks records_deleted; sql/0012's trigger removes
	 * each record's history and conflicts with it. */
	"DELETE FROM records WHERE seq IN (SELECT seq FROM records "
	"WHERE deleted_at IS NOT NULL AND deleted_at < ?1 "
	"ORDER BY deleted_at LIMIT ?2)",
};

/*
 * Fills r from the current row of a COLS query, its strings borrowed
 * from the statement: valid until it steps again.
 */
static enum rs_err
rs_store_records_view(sqlite3_stmt *st, struct rs_record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	/* A stored id or token longer than its type is a damaged row:
	 * refused, never shown cut short. */
	if (rs_db_column_copy(st, 1, r->id, sizeof(r->id)) != RS_OK ||
	    rs_db_column_copy(st, 2, r->org_id, sizeof(r->org_id)) != RS_OK ||
	    rs_db_column_copy(st, 9, r->causal, sizeof(r->causal)) != RS_OK ||
	    rs_db_column_copy(st, 14, r->created_by,
	    sizeof(r->created_by)) != RS_OK)
		return RS_ERR_RANGE;
	r->title = (const char *)sqlite3_column_text(st, 3);
	r->type = (const char *)sqlite3_column_text(st, 4);
	r->site = (const char *)sqlite3_column_text(st, 5);
	r->status = (const char *)sqlite3_column_text(st, 6);
	r->data = (const char *)sqlite3_column_text(st, 7);
	r->size = sqlite3_column_int64(st, 8);
	r->version = sqlite3_column_int64(st, 10);
	r->deleted_at = sqlite3_column_int64(st, 11);
	r->created_at = sqlite3_column_int64(st, 12);
	r->updated_at = sqlite3_column_int64(st, 13);
	r->queue = (const char *)sqlite3_column_text(st, 15);
	r->change_seq = sqlite3_column_int64(st, 16);
	/* NULL on rows older than sql/0012: created_by wrote them, what
	 * changed is unknown. */
	if (sqlite3_column_type(st, 17) != SQLITE_NULL &&
	    rs_db_column_copy(st, 17, r->updated_by,
	    sizeof(r->updated_by)) != RS_OK)
		return RS_ERR_RANGE;
	r->changed = (const char *)sqlite3_column_text(st, 18);
	r->json = (const char *)sqlite3_column_text(st, 19);
	/* NULL text here is a NOT NULL column SQLite could not convert:
	 * out of memory. */
	if (r->title == NULL || r->type == NULL || r->status == NULL ||
	    r->data == NULL || r->queue == NULL)
		return RS_ERR_NOMEM;
	return RS_OK;
}

/* Copies a borrowed string of r into arena a; NULL stays NULL. */
static int
rs_store_records_keep(struct rs_arena *a, const char **s)
{
	return *s == NULL || (*s = rs_arena_strdup(a, *s)) != NULL ? 0 : -1;
}

/* Fills r from the current row of a COLS query, its strings in a. */
static enum rs_err
rs_store_records_row(struct rs_arena *a, sqlite3_stmt *st, struct rs_record *r)
{
	enum rs_err	 rc;

	if ((rc = rs_store_records_view(st, r)) != RS_OK)
		return rc;
	if (rs_store_records_keep(a, &r->title) != 0 ||
	    rs_store_records_keep(a, &r->type) != 0 ||
	    rs_store_records_keep(a, &r->site) != 0 ||
	    rs_store_records_keep(a, &r->status) != 0 ||
	    rs_store_records_keep(a, &r->data) != 0 ||
	    rs_store_records_keep(a, &r->queue) != 0 ||
	    rs_store_records_keep(a, &r->changed) != 0 ||
	    rs_store_records_keep(a, &r->json) != 0)
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_records_get_text(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, const char **json,
    char causal[RS_ULID_LEN + 1])
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_records_pg_get_text(db, a, org, id, json,
		    causal);

	*json = NULL;
	if ((st = rs_db_stmt(db, sql[STMT_GET_TEXT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		if ((rc = rs_db_column_copy(st, 1, causal,
		    RS_ULID_LEN + 1)) == RS_OK && (*json =
		    rs_db_column_dup(st, 0, a)) == NULL)
			rc = RS_ERR_NOMEM;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_records_get(struct rs_db *db, struct rs_arena *a, const char *org,
    const char *id, struct rs_record *r)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_records_pg_get(db, a, org, id, r);

	if ((st = rs_db_stmt(db, sql[STMT_GET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = rs_store_records_row(a, st, r);
	else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

int64_t
rs_store_records_change_seq(struct rs_db *db, const char *org)
{
	if (rs_db_pg(db))
		return rs_store_records_pg_change_seq(db, org);

	return rs_db_int(db, sql[STMT_CHANGE_SEQ], org);
}

enum rs_err
rs_store_records_put(struct rs_db *db, const struct rs_record *r, int insert)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_records_pg_put(db, r, insert);

	if ((st = rs_db_stmt(db, sql[insert ? STMT_INSERT :
	    STMT_UPDATE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->type, -1, SQLITE_STATIC);
	if (r->site != NULL)
		sqlite3_bind_text(st, 5, r->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->data, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->size);
	sqlite3_bind_text(st, 9, r->causal, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, r->version);
	if (r->deleted_at != 0)
		sqlite3_bind_int64(st, 11, r->deleted_at);
	sqlite3_bind_int64(st, 12, r->created_at);
	sqlite3_bind_int64(st, 13, r->updated_at);
	sqlite3_bind_text(st, 14, r->created_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, r->queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 16, r->change_seq);
	if (insert)
		sqlite3_bind_int64(st, 17, r->seq);
	if (r->updated_by[0] != '\0')
		sqlite3_bind_text(st, 18, r->updated_by, -1, SQLITE_STATIC);
	if (r->changed != NULL)
		sqlite3_bind_text(st, 19, r->changed, -1, SQLITE_STATIC);
	if (r->json != NULL)
		sqlite3_bind_text(st, 20, r->json, -1, SQLITE_STATIC);
	return rs_db_run(st);
}

/*
 * Steps a COLS query: each(arg, text) for up to max rows, with the row's
 * text as shown: the stored one, borrowed from the statement, or (a row
 * from before sql/0013) printed from its columns. *n counts the rows
 * seen. A nonzero answer from each stops the walk with RS_ERR_NOMEM.
 */
static enum rs_err
rs_store_records_walk(sqlite3_stmt *st, size_t max, rs_store_records_each each,
    void *arg, size_t *n)
{
	struct rs_record	 r;
	struct rs_record_text	 t;
	struct printbuf		*pb = NULL;
	enum rs_err		 rc = RS_OK;
	int			 step = SQLITE_DONE;

	*n = 0;
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		t.seq = sqlite3_column_int64(st, 0);
		t.change_seq = sqlite3_column_int64(st, 16);
		if ((t.json = (const char *)sqlite3_column_text(st, 19)) != NULL)
			t.len = (size_t)sqlite3_column_bytes(st, 19);
		else {
			if ((rc = rs_store_records_view(st, &r)) != RS_OK)
				break;
			if (pb == NULL && (pb = printbuf_new()) == NULL) {
				rc = RS_ERR_NOMEM;
				break;
			}
			printbuf_reset(pb);
			if (rs_store_records_json_append(pb, &r) != 0) {
				rc = RS_ERR_NOMEM;
				break;
			}
			t.json = pb->buf;
			t.len = (size_t)pb->bpos;
		}
		(*n)++;
		if (each(arg, &t) != 0) {
			rc = RS_ERR_NOMEM;
			break;
		}
	}
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	if (pb != NULL)
		printbuf_free(pb);
	return rc;
}

/* Steps a COLS query into out[0..max). */
static enum rs_err
rs_store_records_rows(sqlite3_stmt *st, struct rs_arena *a, size_t max,
    struct rs_record *out, size_t *n)
{
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	*n = 0;
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_records_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

/* Binds a list's parameters to STMT_LIST. */
static sqlite3_stmt *
rs_store_records_list_stmt(struct rs_db *db, const char *org,
    const struct rs_recfilter *f, int64_t after, size_t max)
{
	sqlite3_stmt	*st;

	if ((st = rs_db_stmt(db, sql[STMT_LIST])) == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	if (f->status != NULL)
		sqlite3_bind_text(st, 3, f->status, -1, SQLITE_STATIC);
	if (f->type != NULL)
		sqlite3_bind_text(st, 4, f->type, -1, SQLITE_STATIC);
	if (f->site != NULL)
		sqlite3_bind_text(st, 5, f->site, -1, SQLITE_STATIC);
	if (f->created_by != NULL)
		sqlite3_bind_text(st, 6, f->created_by, -1, SQLITE_STATIC);
	if (f->updated_after >= 0)
		sqlite3_bind_int64(st, 7, f->updated_after);
	sqlite3_bind_int(st, 8, f->include_deleted);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)max);
	return st;
}

/* Binds a delta sync's parameters to STMT_CHANGES. */
static sqlite3_stmt *
rs_store_records_changes_stmt(struct rs_db *db, const char *org,
    int64_t after, size_t max)
{
	sqlite3_stmt	*st;

	if ((st = rs_db_stmt(db, sql[STMT_CHANGES])) == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	return st;
}

/*
 * Walks st (made by the caller in the read transaction it opened) after
 * reading *now in the same snapshot; ends the transaction.
 */
static enum rs_err
rs_store_records_walk_at(struct rs_db *db, const char *org,
    sqlite3_stmt *st, size_t max, rs_store_records_each each, void *arg,
    size_t *n, int64_t *now)
{
	enum rs_err	 rc;

	if (st == NULL)
		rc = RS_ERR_DB;
	else if ((*now = rs_store_records_change_seq(db, org)) < 0) {
		rs_db_done(st);
		rc = RS_OK;	/* an unknown org: no rows */
	} else
		rc = rs_store_records_walk(st, max, each, arg, n);
	if (rc == RS_OK)
		return rs_db_commit(db);
	rs_db_rollback(db);
	return rc;
}

enum rs_err
rs_store_records_list_each(struct rs_db *db, const char *org,
    const struct rs_recfilter *f, int64_t after, size_t max,
    rs_store_records_each each, void *arg, size_t *n, int64_t *now)
{
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_records_pg_list_each(db, org, f, after, max,
		    each, arg, n, now);

	*n = 0;
	*now = -1;
	if ((rc = rs_db_begin_read(db)) != RS_OK)
		return rc;
	return rs_store_records_walk_at(db, org,
	    rs_store_records_list_stmt(db, org, f, after, max), max, each, arg,
	    n, now);
}

enum rs_err
rs_store_records_changes_each(struct rs_db *db, const char *org,
    int64_t after, size_t max, rs_store_records_each each, void *arg,
    size_t *n, int64_t *now)
{
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_records_pg_changes_each(db, org, after, max,
		    each, arg, n, now);

	*n = 0;
	*now = -1;
	if ((rc = rs_db_begin_read(db)) != RS_OK)
		return rc;
	return rs_store_records_walk_at(db, org,
	    rs_store_records_changes_stmt(db, org, after, max), max, each,
	    arg, n, now);
}

enum rs_err
rs_store_records_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_recfilter *f, int64_t after, size_t max,
    struct rs_record *out, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_records_pg_list(db, a, org, f, after, max, out,
		    n);

	*n = 0;
	if ((st = rs_store_records_list_stmt(db, org, f, after, max)) == NULL)
		return RS_ERR_DB;
	return rs_store_records_rows(st, a, max, out, n);
}

enum rs_err
rs_store_records_changes(struct rs_db *db, struct rs_arena *a, const char *org,
    int64_t after, size_t max, struct rs_record *out, size_t *n)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_records_pg_changes(db, a, org, after, max, out,
		    n);

	*n = 0;
	if ((st = rs_store_records_changes_stmt(db, org, after, max)) == NULL)
		return RS_ERR_DB;
	return rs_store_records_rows(st, a, max, out, n);
}

struct json_object *
rs_store_records_json(const struct rs_record *r)
{
	struct printbuf		*pb;
	struct json_object	*o = NULL;

	/* One printer for the record's JSON: the text writer below. */
	if ((pb = printbuf_new()) == NULL)
		return NULL;
	if (rs_store_records_json_append(pb, r) == 0 &&
	    rs_json_parse(pb->buf, (size_t)pb->bpos, &o, NULL, 0) != 0)
		o = NULL;
	printbuf_free(pb);
	return o;
}

/* Appends a string literal to a printbuf. */
#define RS_PB_LIT(pb, lit)	printbuf_memappend((pb), (lit), sizeof(lit) - 1)

int
rs_store_records_json_append(struct printbuf *pb, const struct rs_record *r)
{
	RS_PB_LIT(pb, "{\"id\":");
	rs_json_append_string(pb, r->id);
	RS_PB_LIT(pb, ",\"title\":");
	rs_json_append_string(pb, r->title);
	RS_PB_LIT(pb, ",\"type\":");
	rs_json_append_string(pb, r->type);
	RS_PB_LIT(pb, ",\"site\":");
	if (r->site == NULL)
		RS_PB_LIT(pb, "null");
	else
		rs_json_append_string(pb, r->site);
	RS_PB_LIT(pb, ",\"status\":");
	rs_json_append_string(pb, r->status);
	RS_PB_LIT(pb, ",\"data\":");
	printbuf_memappend(pb, r->data, (int)strlen(r->data));
	RS_PB_LIT(pb, ",\"size\":");
	rs_json_append_int(pb, r->size);
	RS_PB_LIT(pb, ",\"causal\":\"");
	printbuf_memappend(pb, r->causal, (int)strlen(r->causal));
	RS_PB_LIT(pb, "\",\"version\":");
	rs_json_append_int(pb, r->version);
	if (r->deleted_at != 0)
		RS_PB_LIT(pb, ",\"deleted\":true,\"deleted_at\":");
	else
		RS_PB_LIT(pb, ",\"deleted\":false,\"deleted_at\":");
	rs_json_append_time(pb, r->deleted_at);
	RS_PB_LIT(pb, ",\"created_at\":");
	rs_json_append_time(pb, r->created_at);
	RS_PB_LIT(pb, ",\"updated_at\":");
	rs_json_append_time(pb, r->updated_at);
	RS_PB_LIT(pb, ",\"created_by\":");
	rs_json_append_string(pb, r->created_by);
	RS_PB_LIT(pb, ",\"queue\":");
	rs_json_append_string(pb, r->queue);
	return RS_PB_LIT(pb, "}") < 0 ? -1 : 0;
}

int
rs_store_records_json_show(struct printbuf *pb, const struct rs_record *r)
{
	if (r->json == NULL)
		return rs_store_records_json_append(pb, r);
	return printbuf_memappend(pb, r->json, (int)strlen(r->json)) < 0 ?
	    -1 : 0;
}

int
rs_store_records_json_array(struct printbuf *pb, const struct rs_record *rows,
    size_t n)
{
	size_t	 i;

	if (printbuf_memappend(pb, "[", 1) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((i > 0 && printbuf_memappend(pb, ",", 1) < 0) ||
		    rs_store_records_json_show(pb, &rows[i]) != 0)
			return -1;
	return printbuf_memappend(pb, "]", 1) < 0 ? -1 : 0;
}

struct json_object *
rs_store_records_json_raw(struct rs_arena *a, const struct rs_record *rows, size_t n,
    int array)
{
	struct printbuf	*pb;
	char		*text = NULL;

	if ((pb = printbuf_new()) == NULL)
		return NULL;
	if ((array ? rs_store_records_json_array(pb, rows, n) : n == 1 ?
	    rs_store_records_json_show(pb, rows) : -1) == 0)
		text = rs_arena_strndup(a, pb->buf, (size_t)pb->bpos);
	printbuf_free(pb);
	return text == NULL ? NULL : rs_json_raw(text, strlen(text));
}

int
rs_store_records_status_valid(const char *s)
{
	static const char *const statuses[] = {
		"queued", "synced", "conflict", "failed", NULL,
	};
	size_t	 i;

	for (i = 0; statuses[i] != NULL; i++)
		if (strcmp(s, statuses[i]) == 0)
			return 1;
	return 0;
}

enum rs_err
rs_store_records_purge(struct rs_db *db, int64_t horizon, size_t max,
    size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_records_pg_purge(db, horizon, max, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_PURGE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, horizon);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if ((rc = rs_db_run(st)) == RS_OK)
		*n = (size_t)sqlite3_changes(sqlite3_db_handle(st));
	return rc;
}
