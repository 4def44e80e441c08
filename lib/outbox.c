#include <json-c/json.h>
#include <sqlite3.h>

#include "clock.h"
#include "db.h"
#include "id.h"
#include "json.h"
#include "outbox.h"

static const char sql_insert[] =
	"INSERT INTO events (id, org_id, type, record_id, payload, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

enum rs_err
rs_outbox_add(struct rs_db *db, const char *org, const char *type,
    const char *record_id, struct json_object *data, int64_t now_ms)
{
	struct json_object	*o;
	sqlite3_stmt		*st;
	char			 id[RS_ID_MAX], when[32];
	const char		*payload;
	int			 rc;

	if ((o = json_object_new_object()) == NULL)
		return RS_ERR_NOMEM;
	rs_id_new_sorted(id, sizeof(id), "evt_", now_ms);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "timestamp", json_object_new_string(
	    rs_clock_format(when, sizeof(when), now_ms)));
	json_object_object_add(o, "org_id", json_object_new_string(org));
	json_object_object_add(o, "data", json_object_get(data));
	if ((payload = rs_json_compact(o)) == NULL ||
	    (st = rs_db_stmt(db, sql_insert)) == NULL) {
		json_object_put(o);
		return RS_ERR_DB;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	if (record_id != NULL)
		sqlite3_bind_text(st, 4, record_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	rc = sqlite3_step(st);
	rs_db_done(st);
	json_object_put(o);
	return rc == SQLITE_DONE ? RS_OK : rs_db_err(rc);
}
