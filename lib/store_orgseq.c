#include <stddef.h>

#include <sqlite3.h>

#include "limits.h"
#include "db.h"
#include "log.h"
#include "store_orgseq.h"

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
