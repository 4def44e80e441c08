#include <stddef.h>

#include "limits.h"
#include "db.h"
#include "db_pg.h"
#include "log.h"
#include "store_orgseq_pg.h"

static const char sql_behind[] =
	"SELECT id, num FROM orgs WHERE num > $1 AND event_seq > fanout_seq "
	"ORDER BY num LIMIT $2";
/*
 * Workers on several hosts fan one org out in turns, on a lock of their
 * own (class 2 of the two-key locks; store_audit_pg.c's index takes
 * class 1), so the org's API writers never wait for them; the read
 * after it sees the place the worker before left.
 */
static const char sql_fanout_turn[] =
	"SELECT pg_advisory_xact_lock(2, num::int) FROM orgs WHERE id = $1";
static const char sql_fanout[] =
	"SELECT num, fanout_seq, event_seq FROM orgs WHERE id = $1";
static const char sql_fanout_set[] =
	"UPDATE orgs SET fanout_seq = $3 WHERE id = $1 AND fanout_seq = $2";
/* The org's row lock, held to the commit: its writers take turns here
 * too, whoever began the transaction without naming the org. */
static const char sql_take[] =
	"UPDATE orgs SET change_seq = change_seq + $2, "
	"event_seq = event_seq + $3 WHERE id = $1 "
	"RETURNING num, change_seq, event_seq";

enum rs_err
rs_store_orgseq_pg_take(struct rs_db *db, const char *org, int changes,
    int events, struct rs_store_orgseq *out)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	int64_t			 change, event;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_int(&a, changes);
	rs_pg_int(&a, events);
	if ((rc = rs_pg_query(db, sql_take, &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) != 1) {
		rs_pg_clear(r);
		return RS_ERR_NOTFOUND;
	}
	out->num = rs_pg_int64(r, 0, 0);
	change = rs_pg_int64(r, 0, 1);
	event = rs_pg_int64(r, 0, 2);
	rs_pg_clear(r);
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

enum rs_err
rs_store_orgseq_pg_behind(struct rs_db *db, int64_t after_num, size_t max,
    char (*ids)[RS_ID_MAX], size_t *n, int64_t *last_num)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	*last_num = after_num;
	rs_pg_args(&a);
	rs_pg_int(&a, after_num);
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_query(db, sql_behind, &a, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++) {
		if ((rc = rs_pg_copy(r, i, 0, ids[*n], RS_ID_MAX)) != RS_OK)
			break;
		*last_num = rs_pg_int64(r, i, 1);
		(*n)++;
	}
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_orgseq_pg_fanout(struct rs_db *db, const char *org,
    struct rs_store_orgseq_fanout *f)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	/* Outside a transaction (a stream's start) it only reads. */
	if ((rs_db_in_tx(db) &&
	    (rc = rs_pg_run(db, sql_fanout_turn, &a, NULL)) != RS_OK) ||
	    (rc = rs_pg_query(db, sql_fanout, &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1) {
		f->num = rs_pg_int64(r, 0, 0);
		f->fanout = rs_pg_int64(r, 0, 1);
		f->event = rs_pg_int64(r, 0, 2);
	} else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_orgseq_pg_fanout_set(struct rs_db *db, const char *org, int64_t was,
    int64_t to)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_int(&a, was);
	rs_pg_int(&a, to);
	if ((rc = rs_pg_run(db, sql_fanout_set, &a, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_STATE;
}
