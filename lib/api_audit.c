#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "audit.h"
#include "cursor.h"
#include "json.h"
#include "num.h"
#include "paging.h"
#include "reply.h"
#include "sse.h"
#include "store_audit.h"
#include "valid.h"
#include "api_audit.h"

const char *const rs_api_audit_list_query[] = {
	"action", "actor", "target", "after_seq", "limit", "cursor", NULL,
};

const char *const rs_api_audit_stream_query[] = {
	"last_event_id", "after_seq", NULL,
};

/* The last entry number an org can have (its rowid range). */
#define RS_API_AUDIT_SEQ_MAX	((1LL << RS_ORG_ROW_BITS) - 1)

/* ",name":s or null, for the entry's nullable members. */
static int
rs_api_audit_add_opt(struct json_object *o, const char *name, const char *s)
{
	return s != NULL ? rs_json_add_str(o, name, s) :
	    rs_json_add_null(o, name);
}

/* An entry as the API shows it (caller owns it), or NULL. */
static struct json_object *
rs_api_audit_json(const struct rs_audit_entry *e)
{
	struct json_object	*o, *actor;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((actor = json_object_new_object()) == NULL ||
	    rs_json_add_str(actor, "type", e->actor_type) != 0 ||
	    rs_json_add_str(actor, "id", e->actor_id) != 0) {
		json_object_put(actor);
		json_object_put(o);
		return NULL;
	}
	/* detail is stored as canonical JSON: it goes out as it is. */
	if (rs_json_add_int(o, "seq", e->n) != 0 ||
	    rs_json_add_time(o, "at", e->at) != 0 ||
	    rs_json_add_str(o, "org_id", e->org_id) != 0 ||
	    rs_json_add(o, "actor", actor) != 0 ||
	    rs_json_add_str(o, "action", e->action) != 0 ||
	    rs_api_audit_add_opt(o, "target", e->target) != 0 ||
	    rs_api_audit_add_opt(o, "request_id", e->request_id) != 0 ||
	    rs_api_audit_add_opt(o, "ip", e->ip) != 0 ||
	    rs_json_add(o, "detail", rs_json_raw(e->detail,
	    strlen(e->detail))) != 0 ||
	    rs_json_add_str(o, "prev_hash", e->prev_hash) != 0 ||
	    rs_json_add_str(o, "hash", e->hash) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* An entry of a page (rs_paging_page). */
static struct json_object *
rs_api_audit_show(const void *row)
{
	return rs_api_audit_json(&((const struct rs_store_audit_row *)row)->e);
}

/* The place is the last entry's seq: entries are only ever added after. */
static void
rs_api_audit_place(const void *row, int64_t *pos, int64_t *walk)
{
	*pos = ((const struct rs_store_audit_row *)row)->e.n;
	*walk = 0;
}

/* Text filter name of the query into *out: 1 to max bytes; errors to v. */
static void
rs_api_audit_text(struct rs_ctx *ctx, struct rs_valid *v, const char *name,
    size_t max, const char **out)
{
	*out = rs_query_get(&ctx->req.query, name);
	if (*out != NULL && ((*out)[0] == '\0' || strlen(*out) > max))
		rs_valid_add(v, name, "must be 1 to %zu bytes", max);
}

/* The filters of the query into f; errors to v. */
static void
rs_api_audit_filter(struct rs_ctx *ctx, struct rs_valid *v,
    struct rs_store_audit_filter *f)
{
	const char	*s, *errstr;

	memset(f, 0, sizeof(*f));
	rs_api_audit_text(ctx, v, "action", RS_AUDIT_ACTION_MAX, &f->action);
	rs_api_audit_text(ctx, v, "actor", RS_ID_MAX - 1, &f->actor);
	rs_api_audit_text(ctx, v, "target", RS_ID_MAX - 1, &f->target);
	if ((s = rs_query_get(&ctx->req.query, "after_seq")) != NULL) {
		f->after_n = rs_num_parse(s, 0, RS_API_AUDIT_SEQ_MAX, &errstr);
		if (errstr != NULL)
			rs_valid_add(v, "after_seq", "must be a whole number "
			    "from 0 to %lld", RS_API_AUDIT_SEQ_MAX);
	}
}

enum rs_step
rs_api_audit_list(struct rs_ctx *ctx)
{
	struct rs_store_audit_filter f;
	struct rs_valid		 v;
	struct rs_cursor	 cur;
	struct rs_store_audit_row *rows;
	struct json_object	*o;
	size_t			 limit, n;
	enum rs_step		 step;
	int			 has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	rs_api_audit_filter(ctx, &v, &f);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_paging_cursor(ctx, "audit", &cur, &has)) != RS_NEXT)
		return step;
	/* A cursor is tied to after_seq and lies past it. */
	if (has && cur.pos > f.after_n)
		f.after_n = cur.pos;
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL ||
	    rs_store_audit_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, &f, limit + 1, rows, &n) != RS_OK)
		return RS_FAIL;
	if ((o = rs_paging_page(ctx, "audit", rows, sizeof(*rows), n, limit,
	    rs_api_audit_show, rs_api_audit_place)) == NULL)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, o);
}

/* Whose entries a stream follows. */
struct rs_api_audit_follow {
	struct rs_db	*db;
	const char	*org;
};

/* The stream's reader (sse.h): entries as GET /v1/audit shows them. */
static enum rs_err
rs_api_audit_read(void *arg, struct rs_arena *a, int64_t after, size_t max,
    struct rs_sse_frame *out, size_t *n, int64_t *scanned)
{
	const struct rs_api_audit_follow *f = arg;
	struct rs_store_audit_filter	 flt;
	struct rs_store_audit_row	*rows;
	struct json_object		*o;
	const char			*s;
	size_t				 i, got;
	enum rs_err			 rc;

	*n = 0;
	memset(&flt, 0, sizeof(flt));
	flt.after_n = after;
	if ((rows = rs_arena_calloc(a, max, sizeof(*rows))) == NULL)
		return RS_ERR_NOMEM;
	if ((rc = rs_store_audit_list(f->db, a, f->org, &flt, max, rows,
	    &got)) != RS_OK)
		return rc;
	for (i = 0; i < got; i++) {
		if ((o = rs_api_audit_json(&rows[i].e)) == NULL)
			return RS_ERR_NOMEM;
		s = rs_json_compact(o);
		out[i].data = s != NULL ? rs_arena_strdup(a, s) : NULL;
		json_object_put(o);
		if (out[i].data == NULL)
			return RS_ERR_NOMEM;
		out[i].id = rows[i].e.n;
		out[i].event = "audit";
		*scanned = rows[i].e.n;
		(*n)++;
	}
	return RS_OK;
}

enum rs_step
rs_api_audit_stream(struct rs_ctx *ctx)
{
	struct rs_api_audit_follow	*f;
	enum rs_step			 step;
	int64_t				 after;

	if ((step = rs_sse_start(ctx, &after)) != RS_NEXT)
		return step;
	if ((f = rs_arena_calloc(&ctx->app->arena, 1, sizeof(*f))) == NULL)
		return RS_FAIL;
	f->db = ctx->app->db;
	f->org = ctx->who.org_id;
	if (after < 0 && rs_store_audit_last(f->db, f->org, &after) != RS_OK)
		return RS_FAIL;
	return rs_sse_answer(ctx, rs_api_audit_read, f, after);
}
