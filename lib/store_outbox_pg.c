#include <string.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_outbox_pg.h"

static const char sql_insert[] =
	"INSERT INTO events (seq, id, org_id, type, record_id, payload, "
	"created_at, queue, priority, not_before) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

static const char sql_range[] =
	"SELECT seq, id, type, record_id, created_at, queue, priority, "
	"not_before FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq "
	"LIMIT $3";

/*
 * An org's events commit in number order here too: a number is taken
 * with the org's row lock (store_orgseq_pg.c), held to the commit. So
 * once a reader sees event n, every event before it is committed, and
 * reading on after n skips none.
 */
static const char sql_follow[] =
	"SELECT seq, type, payload FROM events "
	"WHERE seq > (SELECT (num << " RS_STR(RS_ORG_ROW_BITS) ") + "
	"$2::bigint FROM orgs WHERE id = $1) "
	"AND seq < (SELECT (num + 1) << " RS_STR(RS_ORG_ROW_BITS) " "
	"FROM orgs WHERE id = $1) ORDER BY seq LIMIT $3";

enum rs_err
rs_store_outbox_pg_put(struct rs_db *db, const char *org,
    const struct rs_store_outbox_event *ev)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_int(&a, ev->seq);
	rs_pg_text(&a, ev->id);
	rs_pg_text(&a, org);
	rs_pg_text(&a, ev->type);
	rs_pg_text(&a, ev->record_id);		/* NULL: none */
	rs_pg_text(&a, ev->payload);
	rs_pg_int(&a, ev->created_at);
	rs_pg_text(&a, ev->queue);
	rs_pg_int(&a, ev->priority);
	rs_pg_int(&a, ev->not_before);
	return rs_pg_later(db, sql_insert, &a);
}

/* Fills ev from row i of sql_range. */
static enum rs_err
rs_store_outbox_pg_row(struct rs_arena *a, const struct pg_result *r, int i,
    struct rs_store_outbox_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->seq = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, ev->id, sizeof(ev->id)) != RS_OK)
		return RS_ERR_RANGE;
	ev->type = rs_pg_dup(r, i, 2, a);
	ev->record_id = rs_pg_dup(r, i, 3, a);
	ev->created_at = rs_pg_int64(r, i, 4);
	ev->queue = rs_pg_dup(r, i, 5, a);
	ev->priority = (int)rs_pg_int64(r, i, 6);
	ev->not_before = rs_pg_int64(r, i, 7);
	if (ev->type == NULL || ev->queue == NULL ||
	    (ev->record_id == NULL && !rs_pg_isnull(r, i, 3)))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_outbox_pg_range(struct rs_db *db, struct rs_arena *a, int64_t after,
    int64_t upto, size_t max, struct rs_store_outbox_event *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_int(&args, after);
	rs_pg_int(&args, upto);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql_range, &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_outbox_pg_row(a, r, i,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_outbox_pg_follow(struct rs_db *db, struct rs_arena *a,
    const char *org, int64_t after_n, size_t max,
    struct rs_store_outbox_follow *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, after_n);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql_follow, &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++) {
		out[*n].n = rs_pg_int64(r, i, 0) &
		    ((1LL << RS_ORG_ROW_BITS) - 1);
		out[*n].type = rs_pg_dup(r, i, 1, a);
		out[*n].payload = rs_pg_dup(r, i, 2, a);
		if (out[*n].type == NULL || out[*n].payload == NULL) {
			rc = RS_ERR_NOMEM;
			break;
		}
		(*n)++;
	}
	rs_pg_clear(r);
	return rc;
}
