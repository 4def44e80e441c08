#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "clock.h"
#include "db.h"
#include "json.h"
#include "store_outbox.h"
#include "store_outbox_pg.h"

static const char sql_insert[] =
	"INSERT INTO events (seq, id, org_id, type, record_id, payload, "
	"created_at, queue, priority, not_before) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

static const char sql_range[] =
	"SELECT seq, id, type, record_id, created_at, queue, priority, "
	"not_before FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq "
	"LIMIT ?3";

static const char sql_follow[] =
	"SELECT seq, type, payload FROM events "
	"WHERE seq > (SELECT (num << " RS_STR(RS_ORG_ROW_BITS) ") + ?2 "
	"FROM orgs WHERE id = ?1) "
	"AND seq < (SELECT (num + 1) << " RS_STR(RS_ORG_ROW_BITS) " "
	"FROM orgs WHERE id = ?1) ORDER BY seq LIMIT ?3";

const char *const rs_store_outbox_types[] = {
	"record.created", "record.updated", "record.deleted", "record.synced",
	"record.conflict", "user.invited", "user.activated", "policy.updated",
	"policy.deleted", NULL,
};

int
rs_store_outbox_type_known(const char *s)
{
	size_t	 i;

	for (i = 0; rs_store_outbox_types[i] != NULL; i++)
		if (strcmp(s, rs_store_outbox_types[i]) == 0)
			return 1;
	return 0;
}

enum rs_err
rs_store_outbox_event(struct rs_arena *a, struct rs_store_outbox_event *ev,
    const char *org, const char *type, const char *record_id,
    struct json_object *data, int64_t now_ms)
{
	return rs_store_outbox_event_more(a, ev, org, type, record_id, data,
	    NULL, now_ms);
}

/* Adds the members of more (may be NULL) to o: 0, or -1. */
static int
rs_store_outbox_more(struct json_object *o, struct json_object *more)
{
	if (more == NULL)
		return 0;
	json_object_object_foreach(more, name, v)
		if (rs_json_add(o, name, json_object_get(v)) != 0)
			return -1;
	return 0;
}

enum rs_err
rs_store_outbox_event_more(struct rs_arena *a, struct rs_store_outbox_event *ev,
    const char *org, const char *type, const char *record_id,
    struct json_object *data, struct json_object *more, int64_t now_ms)
{
	struct json_object	*o;
	const char		*s;
	char			 when[32];
	enum rs_err		 rc = RS_ERR_NOMEM;

	if ((o = json_object_new_object()) == NULL)
		return RS_ERR_NOMEM;
	rs_id_new_sorted(ev->id, sizeof(ev->id), "evt_", now_ms);
	ev->type = type;
	ev->record_id = record_id;
	ev->created_at = now_ms;
	ev->queue = "default";
	ev->priority = RS_POLICY_DEFAULT_PRIORITY;
	ev->not_before = now_ms;
	if (rs_json_add_str(o, "id", ev->id) == 0 &&
	    rs_json_add_str(o, "type", type) == 0 &&
	    rs_json_add_str(o, "timestamp",
	    rs_clock_format(when, sizeof(when), now_ms)) == 0 &&
	    rs_json_add_str(o, "org_id", org) == 0 &&
	    rs_json_add(o, "data", json_object_get(data)) == 0 &&
	    rs_store_outbox_more(o, more) == 0 &&
	    (s = rs_json_compact(o)) != NULL &&
	    (ev->payload = rs_arena_strdup(a, s)) != NULL)
		rc = RS_OK;
	json_object_put(o);
	return rc;
}

enum rs_err
rs_store_outbox_put(struct rs_db *db, const char *org,
    const struct rs_store_outbox_event *ev)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_outbox_pg_put(db, org, ev);

	if ((st = rs_db_stmt(db, sql_insert)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, ev->seq);
	sqlite3_bind_text(st, 2, ev->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->type, -1, SQLITE_STATIC);
	if (ev->record_id != NULL)
		sqlite3_bind_text(st, 5, ev->record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev->payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, ev->created_at);
	sqlite3_bind_text(st, 8, ev->queue, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, ev->priority);
	sqlite3_bind_int64(st, 10, ev->not_before);
	return rs_db_run(st);
}

/* Fills ev from the current row of sql_range. */
static enum rs_err
rs_store_outbox_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_store_outbox_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = sqlite3_column_int64(st, 0);
	if (rs_db_column_copy(st, 1, ev->id, sizeof(ev->id)) != RS_OK)
		return RS_ERR_RANGE;
	ev->type = rs_db_column_dup(st, 2, a);
	ev->record_id = rs_db_column_dup(st, 3, a);
	ev->created_at = sqlite3_column_int64(st, 4);
	ev->queue = rs_db_column_dup(st, 5, a);
	ev->priority = sqlite3_column_int(st, 6);
	ev->not_before = sqlite3_column_int64(st, 7);
	if (ev->type == NULL || ev->queue == NULL ||
	    (ev->record_id == NULL &&
	    sqlite3_column_type(st, 3) != SQLITE_NULL))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_outbox_range(struct rs_db *db, struct rs_arena *a, int64_t after,
    int64_t upto, size_t max, struct rs_store_outbox_event *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_outbox_pg_range(db, a, after, upto, max, out,
		    n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql_range)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_outbox_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_outbox_follow(struct rs_db *db, struct rs_arena *a, const char *org,
    int64_t after_n, size_t max, struct rs_store_outbox_follow *out,
    size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_outbox_pg_follow(db, a, org, after_n, max, out,
		    n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql_follow)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_n);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		out[*n].n = sqlite3_column_int64(st, 0) &
		    ((1LL << RS_ORG_ROW_BITS) - 1);
		out[*n].type = rs_db_column_dup(st, 1, a);
		out[*n].payload = rs_db_column_dup(st, 2, a);
		if (out[*n].type == NULL || out[*n].payload == NULL) {
			rc = RS_ERR_NOMEM;
			break;
		}
		(*n)++;
	}
	if (rc == RS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}
