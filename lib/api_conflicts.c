#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "cursor.h"
#include "id.h"
#include "json.h"
#include "paging.h"
#include "recwrite.h"
#include "reply.h"
#include "store_conflicts.h"
#include "store_records.h"
#include "valid.h"
#include "api_conflicts.h"

const char *const rs_api_conflicts_list_query[] = {
	"status", "record_id", "limit", "cursor", NULL,
};

/* ",name":s, or null when s is NULL or empty. */
static int
rs_api_conflicts_add_opt(struct json_object *o, const char *name,
    const char *s)
{
	return s != NULL && s[0] != '\0' ? rs_json_add_str(o, name, s) :
	    rs_json_add_null(o, name);
}

/* c as the API shows it (caller owns it), or NULL. */
static struct json_object *
rs_api_conflicts_json(const struct rs_conflict *c)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	/* attempted and current are stored as compact JSON: out as is. */
	if (rs_json_add_str(o, "id", c->id) != 0 ||
	    rs_json_add_str(o, "record_id", c->record_id) != 0 ||
	    rs_json_add_str(o, "base_causal", c->base_causal) != 0 ||
	    rs_json_add(o, "attempted", rs_json_raw(c->attempted,
	    strlen(c->attempted))) != 0 ||
	    rs_json_add(o, "current", rs_json_raw(c->current,
	    strlen(c->current))) != 0 ||
	    rs_json_add_str(o, "status", c->status) != 0 ||
	    rs_json_add_str(o, "created_by", c->created_by) != 0 ||
	    rs_json_add_time(o, "created_at", c->created_at) != 0 ||
	    rs_json_add_time(o, "resolved_at", c->resolved_at) != 0 ||
	    rs_api_conflicts_add_opt(o, "resolved_by", c->resolved_by) != 0 ||
	    rs_api_conflicts_add_opt(o, "resolution", c->resolution) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- GET /v1/conflicts ------------------------------------------------- */

/* A conflict of a page (rs_paging_page). */
static struct json_object *
rs_api_conflicts_show(const void *row)
{
	return rs_api_conflicts_json(row);
}

/* The place is the last conflict's seq: new ones only come after it. */
static void
rs_api_conflicts_place(const void *row, int64_t *pos, int64_t *walk)
{
	*pos = ((const struct rs_conflict *)row)->seq;
	*walk = 0;
}

/* The filters of the query into f; errors to v. */
static void
rs_api_conflicts_filter(struct rs_ctx *ctx, struct rs_valid *v,
    struct rs_conflict_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->status = rs_query_get(&ctx->req.query, "status");
	if (f->status != NULL && !rs_store_conflicts_status_valid(f->status))
		rs_valid_add(v, "status",
		    "must be one of open, resolved, superseded");
	f->record_id = rs_query_get(&ctx->req.query, "record_id");
	if (f->record_id != NULL && !rs_id_valid(f->record_id, "rec_"))
		rs_valid_add(v, "record_id", "must be a record id (rec_...)");
}

enum rs_step
rs_api_conflicts_list(struct rs_ctx *ctx)
{
	struct rs_conflict_filter f;
	struct rs_valid		 v;
	struct rs_cursor	 cur;
	struct rs_conflict	*rows;
	struct json_object	*o;
	size_t			 limit, n;
	enum rs_step		 step;
	int			 has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	rs_api_conflicts_filter(ctx, &v, &f);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_paging_cursor(ctx, "conflicts", &cur, &has)) != RS_NEXT)
		return step;
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL ||
	    rs_store_conflicts_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, &f, has ? cur.pos : 0, limit + 1, rows,
	    &n) != RS_OK)
		return RS_FAIL;
	if ((o = rs_paging_page(ctx, "conflicts", rows, sizeof(*rows), n,
	    limit, rs_api_conflicts_show, rs_api_conflicts_place)) == NULL)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, o);
}

/* ---- GET /v1/conflicts/:id --------------------------------------------- */

/* 404 for the conflict id: RS_ANSWERED. */
static enum rs_step
rs_api_conflicts_none(struct rs_ctx *ctx, const char *id)
{
	return rs_reply_problem(ctx, RS_PROB_NOT_FOUND, "no conflict %.64s",
	    id);
}

enum rs_step
rs_api_conflicts_get(struct rs_ctx *ctx)
{
	struct rs_conflict	 c;
	const char		*id = ctx->req.params[0];
	enum rs_err		 rc = RS_ERR_NOTFOUND;

	if (rs_id_valid(id, RS_ID_CONFLICT))
		rc = rs_store_conflicts_get(ctx->app->db, &ctx->app->arena,
		    ctx->who.org_id, id, &c);
	if (rc == RS_ERR_NOTFOUND)
		return rs_api_conflicts_none(ctx, id);
	if (rc != RS_OK)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, rs_api_conflicts_json(&c));
}

/* ---- POST /v1/conflicts/:id/resolve ------------------------------------ */

/* What a resolve takes; its name is the conflict's resolution. */
enum rs_take {
	RS_TAKE_CURRENT,
	RS_TAKE_ATTEMPTED,
	RS_TAKE_RECORD,
};

static const char *const rs_take_names[] = {
	"current", "attempted", "record",
};

/* One resolve: the write it may make, and the conflict it closes. */
struct rs_api_conflicts_resolve {
	struct rs_recwrite	 w;
	const char		*id;		/* the conflict's */
	enum rs_take		 take;
	struct json_object	*attempted;	/* parsed from the conflict */
	struct rs_conflict	 c;
};

/*
 * Member record of the body (an object), checked as a record patch
 * without causal; errors named "record.<member>" into v.
 */
static enum rs_err
rs_api_conflicts_record(struct rs_api_conflicts_resolve *rv,
    struct rs_valid *v, struct json_object *rec)
{
	struct rs_ctx	*ctx = rv->w.ctx;
	struct rs_valid	 inner;
	size_t		 i;

	if (!json_object_is_type(rec, json_type_object)) {
		rs_valid_add(v, "record", "must be a JSON object (a record "
		    "patch)");
		return RS_OK;
	}
	if (json_object_object_get_ex(rec, "causal", NULL))
		rs_valid_add(v, "record.causal", "is not taken: a resolve "
		    "applies to the record as it is now");
	else if (json_object_object_length(rec) == 0)
		rs_valid_add(v, "record", "names nothing to change: send "
		    "title, type, site, status or data");
	rv->w.op = RS_RECWRITE_PATCH;
	rv->w.patch = rec;
	rs_valid_init(&inner, &ctx->app->arena);
	if (rs_recwrite_validate(&rv->w, &inner) != RS_OK)
		return RS_ERR_NOMEM;
	for (i = 0; i < inner.n; i++)
		rs_valid_add(v, rs_arena_printf(&ctx->app->arena, "record.%s",
		    inner.e[i].field), "%s", inner.e[i].message);
	return RS_OK;
}

/*
 * The body: exactly one of take (current or attempted) and record.
 * RS_NEXT, RS_ANSWERED (400 naming the member), or RS_FAIL.
 */
static enum rs_step
rs_api_conflicts_body(struct rs_api_conflicts_resolve *rv)
{
	static const char *const members[] = { "take", "record", NULL };
	struct rs_ctx		*ctx = rv->w.ctx;
	struct json_object	*rec;
	struct rs_valid		 v;
	const char		*s;
	int			 has_take;

	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	has_take = json_object_object_get_ex(ctx->body, "take", NULL);
	if (json_object_object_get_ex(ctx->body, "record", &rec)) {
		if (has_take)
			rs_valid_add(&v, "record", "cannot be combined with "
			    "take: send one of them");
		else if (rs_api_conflicts_record(rv, &v, rec) != RS_OK)
			return RS_FAIL;
		rv->take = RS_TAKE_RECORD;
	} else if ((s = rs_valid_string(&v, ctx->body, "take", 1, 1,
	    RS_MAX_ROLE)) != NULL) {
		if (strcmp(s, rs_take_names[RS_TAKE_CURRENT]) == 0)
			rv->take = RS_TAKE_CURRENT;
		else if (strcmp(s, rs_take_names[RS_TAKE_ATTEMPTED]) == 0)
			rv->take = RS_TAKE_ATTEMPTED;
		else
			rs_valid_add(&v, "take",
			    "must be current or attempted");
	}
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	return RS_NEXT;
}

/*
 * Inside the transaction: loads the open conflict into rv->c and, to
 * take what it attempted, the write it makes. RS_NEXT, RS_ANSWERED
 * (404, or 409 conflict_closed with member conflict), RS_FAIL.
 */
static enum rs_step
rs_api_conflicts_open(struct rs_api_conflicts_resolve *rv)
{
	struct rs_recwrite	*w = &rv->w;
	struct json_object	*prob;

	w->t.err = rs_store_conflicts_get(w->t.db, w->t.arena, w->t.org,
	    rv->id, &rv->c);
	if (w->t.err == RS_ERR_NOTFOUND)
		return rs_api_conflicts_none(w->ctx, rv->id);
	if (w->t.err != RS_OK)
		return RS_FAIL;
	if (strcmp(rv->c.status, RS_CONFLICT_OPEN) != 0) {
		if ((prob = rs_reply_problem_new(w->ctx,
		    RS_PROB_CONFLICT_CLOSED, "the conflict is closed already; "
		    "member conflict holds it")) == NULL)
			return RS_FAIL;
		if (rs_json_add(prob, "conflict",
		    rs_api_conflicts_json(&rv->c)) != 0) {
			json_object_put(prob);
			return RS_FAIL;
		}
		return rs_reply_problem_obj(w->ctx, RS_PROB_CONFLICT_CLOSED,
		    prob);
	}
	w->id = rv->c.record_id;
	if (rv->take != RS_TAKE_ATTEMPTED)
		return RS_NEXT;
	/* attempted is what recwrite.c stored: a patch's members, or
	 * {"deleted":true} for a delete. */
	if (rs_json_parse(rv->c.attempted, strlen(rv->c.attempted),
	    &rv->attempted, NULL, 0) != 0 ||
	    !json_object_is_type(rv->attempted, json_type_object)) {
		w->t.err = RS_ERR_RANGE;
		return RS_FAIL;
	}
	w->op = json_object_object_get_ex(rv->attempted, "deleted", NULL) ?
	    RS_RECWRITE_DELETE : RS_RECWRITE_PATCH;
	w->patch = w->op == RS_RECWRITE_PATCH ? rv->attempted : NULL;
	return RS_NEXT;
}

/* Closes rv->c, in the database and as it will be shown. */
static enum rs_err
rs_api_conflicts_close(struct rs_api_conflicts_resolve *rv)
{
	struct rs_recwrite	*w = &rv->w;
	enum rs_err		 rc;

	if ((rc = rs_store_conflicts_resolve(w->t.db, w->t.org, rv->c.id,
	    rs_take_names[rv->take], w->ctx->who.user_id, w->t.now)) !=
	    RS_OK)
		return rc;
	rv->c.status = RS_CONFLICT_RESOLVED;
	rv->c.resolution = rs_take_names[rv->take];
	rv->c.resolved_at = w->t.now;
	memcpy(rv->c.resolved_by, w->ctx->who.user_id,
	    sizeof(rv->c.resolved_by));
	return RS_OK;
}

/* The entry: conflict.resolve, with the record and its version now. */
static enum rs_err
rs_api_conflicts_audit(struct rs_api_conflicts_resolve *rv)
{
	struct rs_recwrite	*w = &rv->w;
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "record_id", w->rec.id) != 0 ||
	    rs_json_add_str(o, "take", rs_take_names[rv->take]) != 0 ||
	    rs_json_add_int(o, "version", w->rec.version) != 0) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	w->t.audit.action = "conflict.resolve";
	w->t.audit.target = rv->c.id;
	w->t.audit.detail = o;
	return RS_OK;
}

/*
 * The answer, {"conflict","record"} with the record's ETag, kept under
 * the key. RS_OK or an error.
 */
static enum rs_err
rs_api_conflicts_answer(struct rs_api_conflicts_resolve *rv)
{
	struct rs_recwrite	*w = &rv->w;
	struct rs_ctx		*ctx = w->ctx;
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return RS_ERR_NOMEM;
	if (rs_json_add(o, "conflict", rs_api_conflicts_json(&rv->c)) != 0 ||
	    rs_json_add(o, "record", w->shown != NULL ?
	    json_object_get(w->shown) : rs_recwrite_shown(ctx, &w->rec)) != 0 ||
	    rs_resp_header(&ctx->resp, "ETag",
	    rs_recwrite_etag(ctx, w->rec.causal)) != 0) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	if (rs_reply_json(ctx, 200, o) != RS_ANSWERED)
		return RS_ERR_NOMEM;
	return w->idem.key != NULL ? rs_reply_remember(ctx, &w->t.answer) :
	    RS_OK;
}

/* What an answered step makes of the transaction. */
static enum rs_txn_do
rs_api_conflicts_declined(enum rs_step step)
{
	return step == RS_ANSWERED ? RS_TXN_DECLINE : RS_TXN_FAILED;
}

/*
 * The resolve, inside the transaction. Taking current, or a delete of a
 * record deleted meanwhile, writes no version; a patch of one is 410
 * and leaves the conflict open. Else the write is made on the record as
 * it is now, after the conflict is closed (so the supersede rule leaves
 * it as resolved).
 */
static enum rs_txn_do
rs_api_conflicts_change(struct rs_txn *t, void *arg)
{
	struct rs_api_conflicts_resolve	*rv = arg;
	struct rs_recwrite		*w = &rv->w;
	enum rs_step			 step;
	int				 writes;

	if ((step = rs_api_conflicts_open(rv)) != RS_NEXT ||
	    (step = rs_recwrite_load(w)) != RS_NEXT)
		return rs_api_conflicts_declined(step);
	writes = rv->take != RS_TAKE_CURRENT;
	if (writes && w->rec.deleted_at != 0) {
		if (w->op == RS_RECWRITE_PATCH)
			return rs_api_conflicts_declined(rs_recwrite_gone(
			    w->ctx, &w->rec));
		writes = 0;	/* deleted already: what was attempted */
	}
	if ((t->err = rs_api_conflicts_close(rv)) != RS_OK)
		return RS_TXN_FAILED;
	if (writes) {
		if ((step = rs_recwrite_modify(w)) != RS_NEXT)
			return rs_api_conflicts_declined(step);
		if ((t->err = rs_recwrite_store(w)) != RS_OK)
			return RS_TXN_FAILED;
	}
	if ((t->err = rs_api_conflicts_answer(rv)) != RS_OK ||
	    (t->err = rs_api_conflicts_audit(rv)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_conflicts_resolve(struct rs_ctx *ctx)
{
	struct rs_api_conflicts_resolve	 rv;
	enum rs_step			 step;

	memset(&rv, 0, sizeof(rv));
	rs_recwrite_begin(&rv.w, ctx, RS_RECWRITE_PATCH);
	rv.id = ctx->req.params[0];
	if (!rs_id_valid(rv.id, RS_ID_CONFLICT))
		return rs_api_conflicts_none(ctx, rv.id);
	if ((step = rs_api_conflicts_body(&rv)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &rv.w.idem)) != RS_NEXT)
		return step;
	step = rs_recwrite_run(&rv.w, rs_api_conflicts_change, &rv);
	json_object_put(rv.attempted);
	return step;
}
