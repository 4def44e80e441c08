#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "clock.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "paging.h"
#include "reply.h"
#include "store_records.h"
#include "valid.h"
#include "api_recsync.h"

const char *const rs_api_recsync_list_query[] = {
	"status", "type", "site", "created_by", "updated_after",
	"include_deleted", "limit", "cursor", "since", NULL,
};

struct rs_listreq {
	struct rs_recfilter	 f;
	size_t			 limit;
	const char		*since;
	struct rs_synctok	 tok;
	int			 has_cursor;
	struct rs_cursor	 cur;
};

/* Parses and checks the list's query: RS_NEXT, or RS_ANSWERED (400). */
static enum rs_step
rs_api_recsync_query(struct rs_ctx *ctx, struct rs_listreq *lr)
{
	const struct rs_query	*q = &ctx->req.query;
	struct rs_valid		 v;
	const char		*s;
	size_t			 i;

	memset(lr, 0, sizeof(*lr));
	lr->f.updated_after = -1;
	rs_valid_init(&v, &ctx->app->arena);
	lr->limit = rs_paging_limit(ctx, &v);
	if ((s = rs_query_get(q, "include_deleted")) != NULL) {
		if (strcmp(s, "true") == 0)
			lr->f.include_deleted = 1;
		else if (strcmp(s, "false") != 0)
			rs_valid_add(&v, "include_deleted",
			    "must be true or false");
	}
	if ((s = rs_query_get(q, "updated_after")) != NULL &&
	    rs_clock_parse(s, &lr->f.updated_after) != 0)
		rs_valid_add(&v, "updated_after",
		    "must be an RFC 3339 time such as "
		    "2026-11-26T17:45:21.123Z");
	if ((s = rs_query_get(q, "status")) != NULL) {
		if (!rs_store_records_status_valid(s))
			rs_valid_add(&v, "status", "must be one of queued, "
			    "synced, conflict, failed");
		lr->f.status = s;
	}
	lr->f.type = rs_query_get(q, "type");
	lr->f.site = rs_query_get(q, "site");
	lr->f.created_by = rs_query_get(q, "created_by");
	lr->since = rs_query_get(q, "since");
	if (lr->since != NULL)
		for (i = 0; i < q->n; i++)
			if (strcmp(q->p[i].name, "since") != 0 &&
			    strcmp(q->p[i].name, "limit") != 0 &&
			    strcmp(q->p[i].name, "cursor") != 0)
				rs_valid_add(&v, q->p[i].name, "cannot be "
				    "combined with since (delta sync "
				    "takes only limit and cursor)");
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	return rs_paging_cursor(ctx, "records", &lr->cur, &lr->has_cursor);
}

/* Checks the since token: RS_NEXT, or RS_ANSWERED (400 or 410). */
static enum rs_step
rs_api_recsync_since(struct rs_ctx *ctx, struct rs_listreq *lr)
{
	int64_t	 horizon = rs_clock_now_ms() -
		    (int64_t)ctx->app->cfg.tombstone_days * 86400 * 1000;

	if (rs_synctok_read(ctx->app->k_cursor, lr->since, &lr->tok) !=
	    RS_OK || strcmp(lr->tok.org_id, ctx->who.org_id) != 0)
		return rs_reply_problem(ctx, RS_PROB_INVALID_CURSOR,
		    "since must be a sync_token this API handed out");
	if (lr->tok.issued_ms < horizon)
		return rs_reply_problem(ctx, RS_PROB_SYNC_TOKEN_EXPIRED,
		    "the sync token is older than the %d-day tombstone "
		    "horizon: deletions may be gone; resync in full",
		    ctx->app->cfg.tombstone_days);
	return RS_NEXT;
}

/* The list answer for rows[0..n), of which at most lr->limit are shown. */
static enum rs_step
rs_api_recsync_answer(struct rs_ctx *ctx, const struct rs_listreq *lr,
    struct rs_record *rows, size_t n, int64_t sync_seq, int64_t walk)
{
	struct json_object	*o;
	struct rs_synctok	 t;
	char			 buf[RS_CURSOR_MAX];
	size_t			 shown = n > lr->limit ? lr->limit : n;

	if ((o = json_object_new_object()) == NULL)
		return RS_FAIL;
	if (rs_json_add(o, "data", rs_store_records_json_raw(&ctx->app->arena,
	    rows, shown, 1)) != 0 ||
	    rs_json_add_bool(o, "has_more", n > lr->limit) != 0 ||
	    rs_paging_add_next(ctx, o, "records", n > lr->limit,
	    shown == 0 ? 0 : lr->since ? rows[shown - 1].change_seq :
	    rows[shown - 1].seq, walk) != 0)
		goto fail;
	memset(&t, 0, sizeof(t));
	memcpy(t.org_id, ctx->who.org_id, sizeof(t.org_id));
	t.change_seq = sync_seq;
	t.issued_ms = rs_clock_now_ms();
	if (rs_synctok_make(ctx->app->k_cursor, &t, buf, sizeof(buf)) !=
	    RS_OK || rs_json_add_str(o, "sync_token", buf) != 0)
		goto fail;
	return rs_reply_json(ctx, 200, o);
fail:
	json_object_put(o);
	return RS_FAIL;
}

enum rs_step
rs_api_recsync_list(struct rs_ctx *ctx)
{
	struct rs_listreq	 lr;
	struct rs_record	*rows;
	struct rs_db		*db = ctx->app->db;
	size_t			 n = 0;
	int64_t			 now_seq, walk, sync_seq;
	enum rs_err		 rc;
	enum rs_step		 step;

	if ((step = rs_api_recsync_query(ctx, &lr)) != RS_NEXT ||
	    (lr.since != NULL &&
	    (step = rs_api_recsync_since(ctx, &lr)) != RS_NEXT))
		return step;
	if ((rows = rs_arena_calloc(&ctx->app->arena, lr.limit + 1,
	    sizeof(*rows))) == NULL)
		return RS_FAIL;
	/* One snapshot: the rows and the change number agree. */
	if (rs_db_begin_read(db) != RS_OK)
		return RS_FAIL;
	if ((now_seq = rs_store_records_change_seq(db, ctx->who.org_id)) < 0)
		goto fail;
	if (lr.since != NULL) {
		rc = rs_store_records_changes(db, &ctx->app->arena, ctx->who.org_id,
		    lr.has_cursor ? lr.cur.pos : lr.tok.change_seq,
		    lr.limit + 1, rows, &n);
		walk = 0;
		sync_seq = n > lr.limit ? rows[lr.limit - 1].change_seq :
		    now_seq;
	} else {
		rc = rs_store_records_list(db, &ctx->app->arena, ctx->who.org_id,
		    &lr.f, lr.has_cursor ? lr.cur.pos : 0, lr.limit + 1,
		    rows, &n);
		/* Every page of one walk hands out the token of its start,
		 * so changes made during the walk come back by delta sync. */
		walk = sync_seq = lr.has_cursor ? lr.cur.walk : now_seq;
	}
	if (rc != RS_OK || rs_db_commit(db) != RS_OK)
		goto fail;
	return rs_api_recsync_answer(ctx, &lr, rows, n, sync_seq, walk);
fail:
	rs_db_rollback(db);
	return RS_FAIL;
}
