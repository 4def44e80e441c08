#include <sqlite3.h>

#include "limits.h"
#include "db.h"
#include "store_throttle.h"

enum {
	STMT_GET,
	STMT_HIT,
	STMT_PURGE,
	STMT_PURGE_MAX,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT window_start, failures FROM throttle "
	"WHERE kind = ?1 AND k = ?2",
	/* STMT_HIT: a new window once the old one has closed */
	"INSERT INTO throttle (kind, k, window_start, failures) "
	"VALUES (?1, ?2, ?3, 1) ON CONFLICT (kind, k) DO UPDATE SET "
	"failures = CASE WHEN window_start + ?4 <= ?3 THEN 1 "
	"ELSE failures + 1 END, "
	"window_start = CASE WHEN window_start + ?4 <= ?3 THEN ?3 "
	"ELSE window_start END",
	/* STMT_PURGE: windows that started at ?1 or before have closed */
	"DELETE FROM throttle WHERE (kind, k) IN (SELECT kind, k "
	"FROM throttle WHERE window_start <= ?1 ORDER BY window_start "
	"LIMIT " RS_STR(RS_AUTH_FAIL_PURGE) ")",
	/* STMT_PURGE_MAX: the same, up to ?2 rows (the worker) */
	"DELETE FROM throttle WHERE (kind, k) IN (SELECT kind, k "
	"FROM throttle WHERE window_start <= ?1 ORDER BY window_start "
	"LIMIT ?2)",
};

static const char *const kinds[RS_THROTTLE__MAX] = { "addr", "key" };

enum rs_err
rs_store_throttle_get(struct rs_db *db, enum rs_throttle_kind kind,
    const char *k, int64_t now, int window, int *fails, int *left)
{
	sqlite3_stmt	*st;
	int64_t		 end;
	int		 step;

	*fails = 0;
	*left = 0;
	if ((st = rs_db_stmt(db, sql[STMT_GET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, kinds[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW &&
	    (end = sqlite3_column_int64(st, 0) + window) > now) {
		*fails = sqlite3_column_int(st, 1);
		*left = (int)(end - now);
	}
	rs_db_done(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? RS_OK :
	    rs_db_err(step);
}

enum rs_err
rs_store_throttle_hit(struct rs_db *db, enum rs_throttle_kind kind,
    const char *k, int64_t now, int window)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if ((st = rs_db_stmt(db, sql[STMT_HIT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, kinds[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, window);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	if ((st = rs_db_stmt(db, sql[STMT_PURGE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, now - window);
	return rs_db_run(st);
}

enum rs_err
rs_store_throttle_purge(struct rs_db *db, int64_t now, int window, size_t max,
    size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_PURGE_MAX])) == NULL)
		return RS_ERR_DB;
	/* A window that started at now - window or before has closed
	 * (STMT_HIT starts a new one then). */
	sqlite3_bind_int64(st, 1, now - window);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if ((rc = rs_db_run(st)) == RS_OK)
		*n = (size_t)sqlite3_changes(sqlite3_db_handle(st));
	return rc;
}
