#include <stddef.h>

#include <sqlite3.h>

#include "limits.h"
#include "db.h"
#include "log.h"
#include "store_orgseq.h"
#include "store_orgseq_pg.h"

static const char sql_behind[] =
	"SELECT id, num FROM orgs WHERE num > ?1 AND event_seq > fanout_seq "
	"ORDER BY num LIMIT ?2";
static const char sql_fanout[] =
	"SELECT num, fanout_seq, event_seq FROM orgs WHERE id = ?1";
static const char sql_fanout_set[] =
	"UPDATE orgs SET fanout_seq = ?3 WHERE id = ?1 AND fanout_seq = ?2";

static const char sql_take[] =
	"UPDATE orgs SET change_seq = change_seq + ?2, "
	"event_seq = event_seq + ?3 WHERE id = ?1 "
	"RETURNING num, change_seq, event_seq";

enum rs_err
rs_store_orgseq_take(struct rs_db *db, const char *org, int changes, int events,
    struct rs_store_orgseq *out)
{
	sqlite3_stmt	*st;
	int64_t		 change = 0, event = 0;
	int		 rc;

	if (rs_db_pg(db))
		return rs_store_orgseq_pg_take(db, org, changes, events, out);

	if ((st = rs_db_stmt(db, sql_take)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, changes);
	sqlite3_bind_int(st, 3, events);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->num = sqlite3_column_int64(st, 0);
		change = sqlite3_column_int64(st, 1);
		event = sqlite3_column_int64(st, 2);
	}
	rs_db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(rc);
	/* The counters now hold the last numbers taken. */
	out->change = change - changes + 1;
	out->event = event - events + 1;
	if (out->num < 0 || out->num > RS_ORG_NUM_MAX ||
	    change >= (1LL << RS_ORG_ROW_BITS) ||
	    event >= (1LL << RS_ORG_ROW_BITS)) {
		rs_log_err("org %s: number %lld, change %lld or event %lld "
		    "out of range", org, (long long)out->num,
		    (long long)change, (long long)event);
		return RS_ERR_DB;
	}
	return RS_OK;
}

int64_t
rs_store_orgseq_rowid(const struct rs_store_orgseq *s, int64_t n)
{
	return (s->num << RS_ORG_ROW_BITS) | n;
}

enum rs_err
rs_store_orgseq_behind(struct rs_db *db, int64_t after_num, size_t max,
    char (*ids)[RS_ID_MAX], size_t *n, int64_t *last_num)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE;

	if (rs_db_pg(db))
		return rs_store_orgseq_pg_behind(db, after_num, max, ids, n,
		    last_num);

	*n = 0;
	*last_num = after_num;
	if ((st = rs_db_stmt(db, sql_behind)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, after_num);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = rs_db_column_copy(st, 0, ids[*n],
		    RS_ID_MAX)) != RS_OK)
			break;
		*last_num = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	if (rc == RS_OK && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_orgseq_fanout(struct rs_db *db, const char *org,
    struct rs_store_orgseq_fanout *f)
{
	sqlite3_stmt	*st;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_orgseq_pg_fanout(db, org, f);

	if ((st = rs_db_stmt(db, sql_fanout)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		f->num = sqlite3_column_int64(st, 0);
		f->fanout = sqlite3_column_int64(st, 1);
		f->event = sqlite3_column_int64(st, 2);
	}
	rs_db_done(st);
	if (step != SQLITE_ROW)
		return step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	return RS_OK;
}

enum rs_err
rs_store_orgseq_fanout_set(struct rs_db *db, const char *org, int64_t was,
    int64_t to)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;

	if (rs_db_pg(db))
		return rs_store_orgseq_pg_fanout_set(db, org, was, to);

	if ((st = rs_db_stmt(db, sql_fanout_set)) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, was);
	sqlite3_bind_int64(st, 3, to);
	if ((rc = rs_db_run(st)) != RS_OK)
		return rc;
	return sqlite3_changes(sqlite3_db_handle(st)) == 1 ? RS_OK :
	    RS_ERR_STATE;
}
