#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

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

/* Appends a string literal to a printbuf. */
#define RS_PB_LIT(pb, lit)	printbuf_memappend((pb), (lit), sizeof(lit) - 1)

/*
 * A page printed as its rows are read: a page is fifty records, and
 * keeping each row, then building objects only to print them again, was
 * most of its cost.
 */
struct rs_recsync_page {
	struct printbuf	*pb;
	size_t		 limit;
	size_t		 shown;
	int64_t		 last_seq;	/* of the last row shown */
	int64_t		 last_change;
};

/* Prints a row of the page; the one past the limit only says more. */
static int
rs_api_recsync_row(void *arg, const struct rs_record_text *t)
{
	struct rs_recsync_page	*p = arg;

	if (p->shown == p->limit)
		return 0;
	if ((p->shown > 0 && printbuf_memappend(p->pb, ",", 1) < 0) ||
	    printbuf_memappend(p->pb, t->json, (int)t->len) < 0)
		return -1;
	p->shown++;
	p->last_seq = t->seq;
	p->last_change = t->change_seq;
	return 0;
}

/*
 * Reads and prints the page's rows into p->pb in one snapshot, with the
 * org's change number of that snapshot in *now_seq; *n rows were read
 * (one past the limit: more follow). RS_OK or an error.
 */
static enum rs_err
rs_api_recsync_read(struct rs_ctx *ctx, const struct rs_listreq *lr,
    struct rs_recsync_page *p, int64_t *now_seq, size_t *n)
{
	struct rs_db	*db = ctx->app->db;
	enum rs_err	 rc;

	/* One snapshot: the rows and the change number agree. */
	if (lr->since != NULL)
		rc = rs_store_records_changes_each(db, ctx->who.org_id,
		    lr->has_cursor ? lr->cur.pos : lr->tok.change_seq,
		    lr->limit + 1, rs_api_recsync_row, p, n, now_seq);
	else
		rc = rs_store_records_list_each(db, ctx->who.org_id, &lr->f,
		    lr->has_cursor ? lr->cur.pos : 0, lr->limit + 1,
		    rs_api_recsync_row, p, n, now_seq);
	if (rc == RS_OK && *now_seq < 0)
		rc = RS_ERR_DB;	/* the org went while it asked */
	return rc;
}

/*
 * The rest of the page after its rows: has_more, next_cursor (at the
 * last row shown) and sync_token. 0, or -1.
 */
static int
rs_api_recsync_tail(struct rs_ctx *ctx, const struct rs_listreq *lr,
    struct rs_recsync_page *p, int more, int64_t sync_seq, int64_t walk)
{
	struct rs_synctok	 t;
	char			 buf[RS_CURSOR_MAX];

	if (!more)
		RS_PB_LIT(p->pb, "],\"has_more\":false,\"next_cursor\":null");
	else {
		if (rs_paging_next_text(ctx, "records", lr->since ?
		    p->last_change : p->last_seq, walk, buf, sizeof(buf)) != 0)
			return -1;
		RS_PB_LIT(p->pb, "],\"has_more\":true,\"next_cursor\":");
		rs_json_append_string(p->pb, buf);
	}
	memset(&t, 0, sizeof(t));
	memcpy(t.org_id, ctx->who.org_id, sizeof(t.org_id));
	t.change_seq = sync_seq;
	t.issued_ms = rs_clock_now_ms();
	if (rs_synctok_make(ctx->app->k_cursor, &t, buf, sizeof(buf)) != RS_OK)
		return -1;
	RS_PB_LIT(p->pb, ",\"sync_token\":");
	rs_json_append_string(p->pb, buf);
	return RS_PB_LIT(p->pb, "}") < 0 ? -1 : 0;
}

enum rs_step
rs_api_recsync_list(struct rs_ctx *ctx)
{
	struct rs_listreq	 lr;
	struct rs_recsync_page	 p;
	size_t			 n = 0;
	int64_t			 now_seq, walk, sync_seq;
	enum rs_step		 step;

	if ((step = rs_api_recsync_query(ctx, &lr)) != RS_NEXT ||
	    (lr.since != NULL &&
	    (step = rs_api_recsync_since(ctx, &lr)) != RS_NEXT))
		return step;
	memset(&p, 0, sizeof(p));
	p.limit = lr.limit;
	if ((p.pb = printbuf_new()) == NULL)
		return RS_FAIL;
	step = RS_FAIL;
	if (RS_PB_LIT(p.pb, "{\"data\":[") < 0 ||
	    rs_api_recsync_read(ctx, &lr, &p, &now_seq, &n) != RS_OK)
		goto out;
	if (lr.since != NULL) {
		walk = 0;
		sync_seq = n > lr.limit ? p.last_change : now_seq;
	} else
		/* Every page of one walk hands out the token of its start,
		 * so changes made during the walk come back by delta sync. */
		walk = sync_seq = lr.has_cursor ? lr.cur.walk : now_seq;
	if (rs_api_recsync_tail(ctx, &lr, &p, n > lr.limit, sync_seq,
	    walk) == 0)
		step = rs_reply_text(ctx, 200, p.pb->buf, (size_t)p.pb->bpos);
out:
	printbuf_free(p.pb);
	return step;
}
