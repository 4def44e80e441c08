#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "clock.h"
#include "cursor.h"
#include "json.h"
#include "paging.h"
#include "recwrite.h"
#include "reply.h"
#include "store_history.h"
#include "store_records.h"
#include "ulid.h"
#include "valid.h"
#include "api_records.h"

const char *const rs_api_records_history_query[] = {
	"limit", "cursor", NULL,
};

/*
 * The causal token from If-Match and/or the body member "causal" into
 * w->causal (which may stay NULL): RS_NEXT, or RS_ANSWERED (400).
 */
static enum rs_step
rs_api_records_causal(struct rs_recwrite *w)
{
	struct rs_ctx		*ctx = w->ctx;
	const char		*h = rs_http_header(&ctx->req, "If-Match");
	struct json_object	*m;
	char			*tag = NULL;
	size_t			 len;

	if (h != NULL) {
		len = strlen(h);
		if (len != RS_ULID_LEN + 2 || h[0] != '"' ||
		    h[len - 1] != '"' || (tag = rs_arena_strndup(
		    &ctx->app->arena, h + 1, len - 2)) == NULL ||
		    !rs_ulid_valid(tag))
			return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "If-Match must be one entity tag, \"<causal>\"");
		w->causal = tag;
		w->causal_header = 1;
	}
	if (ctx->body == NULL ||
	    !json_object_object_get_ex(ctx->body, "causal", &m))
		return RS_NEXT;
	if (!json_object_is_type(m, json_type_string) ||
	    !rs_ulid_valid(json_object_get_string(m)))
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "causal: must be a causal token (a ULID)");
	if (tag != NULL && strcmp(tag, json_object_get_string(m)))
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "If-Match and member causal name different versions");
	if (tag == NULL)
		w->causal = json_object_get_string(m);
	return RS_NEXT;
}

/* The :id of the path: RS_NEXT, or RS_ANSWERED (404 for a malformed id). */
static enum rs_step
rs_api_records_id(struct rs_ctx *ctx, const char **id)
{
	*id = ctx->req.params[0];
	if (!rs_id_valid(*id, "rec_"))
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no record %.64s", *id);
	return RS_NEXT;
}

enum rs_step
rs_api_records_create(struct rs_ctx *ctx)
{
	struct rs_recwrite	 w;
	enum rs_step		 step;

	rs_recwrite_begin(&w, ctx, RS_RECWRITE_CREATE);
	if ((step = rs_recwrite_check(&w)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &w.idem)) != RS_NEXT)
		return step;
	return rs_recwrite_run(&w, NULL, NULL);
}

enum rs_step
rs_api_records_patch(struct rs_ctx *ctx)
{
	struct rs_recwrite	 w;
	enum rs_step		 step;

	rs_recwrite_begin(&w, ctx, RS_RECWRITE_PATCH);
	if ((step = rs_api_records_id(ctx, &w.id)) != RS_NEXT ||
	    (step = rs_api_records_causal(&w)) != RS_NEXT ||
	    (step = rs_recwrite_check(&w)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &w.idem)) != RS_NEXT)
		return step;
	if (w.causal == NULL)
		return rs_reply_problem(ctx, RS_PROB_CAUSAL_REQUIRED,
		    "send the causal token you last saw, as member causal "
		    "or as If-Match: \"<causal>\"");
	w.merge = rs_http_prefer(&ctx->req, "merge", "fields");
	return rs_recwrite_run(&w, NULL, NULL);
}

enum rs_step
rs_api_records_delete(struct rs_ctx *ctx)
{
	struct rs_recwrite	 w;
	enum rs_step		 step;

	rs_recwrite_begin(&w, ctx, RS_RECWRITE_DELETE);
	if ((step = rs_api_records_id(ctx, &w.id)) != RS_NEXT ||
	    (step = rs_api_records_causal(&w)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &w.idem)) != RS_NEXT)
		return step;
	/* DELETE has no 412 form: a stale If-Match is a 409 here. */
	w.causal_header = 0;
	return rs_recwrite_run(&w, NULL, NULL);
}

/* Reads record id of the caller's org into *r: RS_NEXT, 404, RS_FAIL. */
static enum rs_step
rs_api_records_read(struct rs_ctx *ctx, const char *id, struct rs_record *r)
{
	enum rs_err	 rc;

	rc = rs_store_records_get(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, id, r);
	if (rc == RS_ERR_NOTFOUND)
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no record %.64s", id);
	return rc == RS_OK ? RS_NEXT : RS_FAIL;
}

enum rs_step
rs_api_records_get(struct rs_ctx *ctx)
{
	struct rs_record	 r;
	const char		*id, *json, *etag;
	char			 causal[RS_ULID_LEN + 1];
	enum rs_step		 step;

	if ((step = rs_api_records_id(ctx, &id)) != RS_NEXT)
		return step;
	/* A live row written since sql/0013 holds its text as shown. */
	if (rs_store_records_get_text(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, id, &json, causal) != RS_OK)
		return RS_FAIL;
	if (json != NULL) {
		if ((etag = rs_recwrite_etag(ctx, causal)) == NULL ||
		    rs_resp_header(&ctx->resp, "ETag", etag) != 0)
			return RS_FAIL;
		return rs_reply_text(ctx, 200, json, strlen(json));
	}
	if ((step = rs_api_records_read(ctx, id, &r)) != RS_NEXT)
		return step;
	if (r.deleted_at != 0)
		return rs_recwrite_gone(ctx, &r);
	if (rs_resp_header(&ctx->resp, "ETag",
	    rs_recwrite_etag(ctx, r.causal)) != 0)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, rs_recwrite_shown(ctx, &r));
}

/* ---- GET /v1/records/:id/history --------------------------------------- */

/* A prior version as the history shows it (caller owns it), or NULL. */
static struct json_object *
rs_api_records_version(const struct rs_history *h)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	/* record and changed are stored as compact JSON: out as they are;
	 * changed is null for a version written before history was kept. */
	if (rs_json_add_int(o, "version", h->version) != 0 ||
	    rs_json_add_str(o, "causal", h->causal) != 0 ||
	    (h->changed != NULL ? rs_json_add(o, "changed",
	    rs_json_raw(h->changed, strlen(h->changed))) :
	    rs_json_add_null(o, "changed")) != 0 ||
	    rs_json_add_str(o, "actor", h->actor) != 0 ||
	    rs_json_add_time(o, "at", h->written_at) != 0 ||
	    rs_json_add(o, "record", rs_json_raw(h->record,
	    strlen(h->record))) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * The page of rows[0..n), at most limit shown. Its cursor holds the
 * last version shown, and in walk the record's seq: a cursor is tied to
 * its record as every cursor is to its org.
 */
static enum rs_step
rs_api_records_history_page(struct rs_ctx *ctx, const struct rs_record *r,
    const struct rs_history *rows, size_t n, size_t limit)
{
	struct json_object	*o, *arr, *row;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return RS_FAIL;
	if (rs_json_add(o, "data", arr = json_object_new_array()) != 0)
		goto fail;
	for (i = 0; i < n && i < limit; i++)
		if ((row = rs_api_records_version(&rows[i])) == NULL ||
		    json_object_array_add(arr, row) != 0) {
			json_object_put(row);
			goto fail;
		}
	if (rs_json_add_bool(o, "has_more", n > limit) != 0 ||
	    rs_paging_add_next(ctx, o, "history", n > limit,
	    n > limit ? rows[limit - 1].version : 0, r->seq) != 0)
		goto fail;
	return rs_reply_json(ctx, 200, o);
fail:
	json_object_put(o);
	return RS_FAIL;
}

enum rs_step
rs_api_records_history(struct rs_ctx *ctx)
{
	struct rs_record	 r;
	struct rs_history	*rows;
	struct rs_valid		 v;
	struct rs_cursor	 cur;
	const char		*id;
	size_t			 limit, n = 0;
	int64_t			 horizon;
	enum rs_step		 step;
	int			 has, days = ctx->app->cfg.history_days;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_api_records_id(ctx, &id)) != RS_NEXT ||
	    (step = rs_paging_cursor(ctx, "history", &cur, &has)) != RS_NEXT)
		return step;
	/* A deleted record's history is still its history. */
	if ((step = rs_api_records_read(ctx, id, &r)) != RS_NEXT)
		return step;
	if (has && cur.walk != r.seq)
		return rs_reply_problem(ctx, RS_PROB_INVALID_CURSOR,
		    "the cursor is not one this list handed out");
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL)
		return RS_FAIL;
	/* Versions past their keeping are not shown, purged or not yet;
	 * none are kept at 0 days. */
	horizon = rs_clock_now_ms() - (int64_t)days * 86400 * 1000;
	if (days > 0 && rs_store_history_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, id, has ? cur.pos : 0, horizon, limit + 1, rows,
	    &n) != RS_OK)
		return RS_FAIL;
	return rs_api_records_history_page(ctx, &r, rows, n, limit);
}
