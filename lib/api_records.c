#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "app.h"
#include "clock.h"
#include "db.h"
#include "idem.h"
#include "json.h"
#include "store_orgseq.h"
#include "store_outbox.h"
#include "store_records.h"
#include "ulid.h"
#include "valid.h"
#include "api_records.h"

enum rs_write_op {
	RS_WRITE_CREATE,
	RS_WRITE_PATCH,
	RS_WRITE_DELETE,
};

/* One change, validated as far as it can be before the transaction. */
struct rs_write {
	enum rs_write_op	 op;
	const char		*id;		/* patch, delete */
	const char		*causal;	/* expected, or NULL */
	int			 causal_header;	/* it came as If-Match */
	struct rs_idem		 idem;
	int64_t			 now;		/* the time of the change */
	struct rs_record	 rec;		/* create: the new record */
	/* What the change writes besides the record, built before it is
	 * stored (for a create, before the lock is taken). */
	struct rs_store_outbox_event	 ev[2];
	size_t			 nev;
	struct rs_idem_answer	 ans;		/* the answer, as kept */
	size_t			 nhdr;		/* headers before the answer */
};

/* ---- field validation ------------------------------------------------ */

static size_t
rs_api_records_chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A 1..200 character string member; NULL when absent or wrong. */
static const char *
rs_api_records_text(struct rs_valid *v, struct json_object *body,
    const char *name, int required)
{
	const char	*s;
	size_t		 n;

	/* Bytes are bounded by the body limit; the rule is in characters. */
	s = rs_valid_string(v, body, name, required, 0, RS_MAX_BODY);
	if (s != NULL && ((n = rs_api_records_chars(s)) < 1 ||
	    n > RS_MAX_FIELD_CHARS)) {
		rs_valid_add(v, name, "must be 1 to %d characters",
		    RS_MAX_FIELD_CHARS);
		return NULL;
	}
	return s;
}

static const char *
rs_api_records_status(struct rs_valid *v, struct json_object *body)
{
	const char	*s = rs_valid_string(v, body, "status", 0, 1, 16);

	if (s != NULL && !rs_store_records_status_valid(s)) {
		rs_valid_add(v, "status",
		    "must be one of queued, synced, conflict, failed");
		return NULL;
	}
	return s;
}

/* The data member when it is an object (borrowed), else NULL. */
static struct json_object *
rs_api_records_data(struct rs_valid *v, struct json_object *body)
{
	struct json_object	*d;

	if (!json_object_object_get_ex(body, "data", &d))
		return NULL;
	if (!json_object_is_type(d, json_type_object)) {
		rs_valid_add(v, "data", "must be a JSON object");
		return NULL;
	}
	return d;
}

/* Serialises data into the arena and checks its size; NULL when too big. */
static const char *
rs_api_records_data_text(struct rs_ctx *ctx, struct rs_valid *v,
    struct json_object *d, int64_t *size)
{
	const char	*s = rs_json_compact(d);
	size_t		 len = s ? strlen(s) : 0;

	if (s == NULL)
		return NULL;
	if (len > RS_MAX_RECORD_DATA) {
		rs_valid_add(v, "data", "is %zu bytes as compact JSON; "
		    "the limit is %d", len, RS_MAX_RECORD_DATA);
		return NULL;
	}
	*size = (int64_t)len;
	return rs_arena_strndup(&ctx->app->arena, s, len);
}

/* ---- answers --------------------------------------------------------- */

static const char *
rs_api_records_etag(struct rs_ctx *ctx, const struct rs_record *r)
{
	return rs_arena_printf(&ctx->app->arena, "\"%s\"", r->causal);
}

/*
 * r as the API shows it, serialised once: the answer, its idempotent copy
 * and every event of the write carry these same bytes.
 */
static struct json_object *
rs_api_records_shown(struct rs_ctx *ctx, const struct rs_record *r)
{
	return rs_store_records_json_raw(&ctx->app->arena, r, 1, 0);
}

/*
 * A problem answered with status, carrying the record as member (e.g.
 * current, record) and its ETag.
 */
static int
rs_api_records_problem(struct rs_ctx *ctx, enum rs_problem p, int status,
    const char *detail, const char *member, const struct rs_record *r)
{
	struct json_object	*prob;

	if ((prob = rs_app_problem_new(ctx, p, detail)) == NULL)
		return -1;
	json_object_object_add(prob, member, rs_api_records_shown(ctx, r));
	rs_resp_header(&ctx->resp, "ETag", rs_api_records_etag(ctx, r));
	return rs_app_problem_as(ctx, status, prob);
}

/* Turns a stored "Name: value\n" block into response headers. */
static void
rs_api_records_replay(struct rs_ctx *ctx, const struct rs_idem_answer *ans)
{
	char	*h, *line, *colon, *next;

	ctx->resp.status = ans->status;
	ctx->resp.ctype = ans->status >= 400 ? "application/problem+json" :
	    "application/json";
	ctx->resp.body = ans->body;
	ctx->resp.bodylen = strlen(ans->body);
	if ((h = rs_arena_strdup(&ctx->app->arena, ans->headers)) == NULL)
		return;
	for (line = h; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			next = line + strlen(line);
		else
			*next++ = '\0';
		if ((colon = strstr(line, ": ")) == NULL)
			continue;
		*colon = '\0';
		rs_resp_header(&ctx->resp, line, colon + 2);
	}
	rs_resp_header(&ctx->resp, "Idempotent-Replayed", "true");
}

/* Forgets an answer built in advance (the request is answered another
 * way after all). */
static void
rs_api_records_unanswer(struct rs_ctx *ctx, const struct rs_write *w)
{
	ctx->resp.nhdr = w->nhdr;
	ctx->resp.status = 0;
	ctx->resp.ctype = NULL;
	ctx->resp.body = NULL;
	ctx->resp.bodylen = 0;
}

/* The answer now in ctx->resp, as the request's key will keep it. */
static enum rs_err
rs_api_records_remember(struct rs_ctx *ctx, struct rs_write *w)
{
	const char	*h = "";
	size_t		 i;

	if (w->idem.key == NULL)
		return RS_OK;
	for (i = 0; i < ctx->resp.nhdr; i++)
		if ((h = rs_arena_printf(&ctx->app->arena, "%s%s: %s\n", h,
		    ctx->resp.hdr[i].name, ctx->resp.hdr[i].value)) == NULL)
			return RS_ERR_NOMEM;
	w->ans.status = ctx->resp.status;
	w->ans.headers = h;
	w->ans.body = ctx->resp.body;
	return RS_OK;
}

/* Inside the transaction: keeps the remembered answer under the key. */
static enum rs_err
rs_api_records_keep(struct rs_ctx *ctx, const struct rs_write *w)
{
	if (w->idem.key == NULL)
		return RS_OK;
	return rs_idem_store(ctx->app->db, ctx->who.org_id, &w->idem, w->now,
	    &w->ans);
}

/* ---- the one write path ---------------------------------------------- */

/*
 * Applies the request body to r (create or patch), recording every bad
 * member in v. Returns 0 (check v->n), or -1 on allocation failure.
 */
static int
rs_api_records_apply(struct rs_ctx *ctx, struct rs_valid *v, struct rs_record *r,
    int create)
{
	struct json_object	*body = ctx->body, *d, *merged = NULL, *m;
	const char		*s;
	int			 rc = -1;

	if ((s = rs_api_records_text(v, body, "title", create)) != NULL)
		r->title = s;
	if ((s = rs_api_records_text(v, body, "type", create)) != NULL)
		r->type = s;
	if (json_object_object_get_ex(body, "site", &m) && m == NULL)
		r->site = NULL;		/* null clears it */
	else if ((s = rs_api_records_text(v, body, "site", 0)) != NULL)
		r->site = s;
	if ((s = rs_api_records_status(v, body)) != NULL)
		r->status = s;
	if ((d = rs_api_records_data(v, body)) != NULL) {
		if (create)
			merged = json_object_get(d);
		else if (rs_json_parse(r->data, strlen(r->data), &merged,
		    NULL, 0) != 0 || rs_json_merge_patch(merged, d) != 0)
			goto out;
		if ((s = rs_api_records_data_text(ctx, v, merged,
		    &r->size)) != NULL)
			r->data = s;
	}
	rc = 0;
out:
	json_object_put(merged);
	return rc;
}

/*
 * Applies a patch body to r, whose data may now outgrow the limit;
 * 0 to go on, 1 when answered 400, -1 on error.
 */
static int
rs_api_records_apply_patch(struct rs_ctx *ctx, struct rs_record *r)
{
	struct rs_valid	 v;

	rs_valid_init(&v, &ctx->app->arena);
	if (rs_api_records_apply(ctx, &v, r, 0) != 0)
		return -1;
	if (v.n > 0)
		return rs_app_invalid(ctx, &v) == 0 ? 1 : -1;
	return 0;
}

/* Builds into w the events of a change from old_status to r's state. */
static enum rs_err
rs_api_records_events(struct rs_ctx *ctx, struct rs_write *w,
    const struct rs_record *r, const char *old_status,
    struct json_object *shown)
{
	static const char *const types[] = {
		"record.created", "record.updated", "record.deleted",
	};
	enum rs_err	 rc;

	w->nev = 0;
	if ((rc = rs_store_outbox_event(&ctx->app->arena, &w->ev[w->nev++],
	    ctx->who.org_id, types[w->op], r->id, shown, w->now)) != RS_OK)
		return rc;
	if (w->op != RS_WRITE_DELETE && strcmp(r->status, "synced") == 0 &&
	    (old_status == NULL || strcmp(old_status, "synced") != 0))
		rc = rs_store_outbox_event(&ctx->app->arena, &w->ev[w->nev++],
		    ctx->who.org_id, "record.synced", r->id, shown, w->now);
	return rc;
}

/* A lost causal check: the conflict event, the answer, and its key. */
static int
rs_api_records_conflict(struct rs_ctx *ctx, struct rs_write *w,
    const struct rs_record *cur)
{
	struct json_object	*shown;
	enum rs_err		 rc;

	if ((shown = rs_api_records_shown(ctx, cur)) == NULL)
		return -1;
	rc = rs_store_outbox_add(ctx->app->db, &ctx->app->arena, ctx->who.org_id,
	    "record.conflict", cur->id, shown, w->now);
	json_object_put(shown);
	if (rc != RS_OK)
		return -1;
	if (rs_api_records_problem(ctx, RS_PROB_CAUSAL_CONFLICT,
	    w->causal_header ? 412 : 409, "the record has changed since the "
	    "causal token you sent; member current holds it as it is now",
	    "current", cur) != 0 ||
	    rs_api_records_remember(ctx, w) != RS_OK ||
	    rs_api_records_keep(ctx, w) != RS_OK ||
	    rs_db_commit(ctx->app->db) != RS_OK)
		return -1;
	return 0;
}

/* Builds the success answer for r into ctx->resp; shown is consumed. */
static int
rs_api_records_answer(struct rs_ctx *ctx, const struct rs_write *w,
    const struct rs_record *r, struct json_object *shown)
{
	if (w->op == RS_WRITE_CREATE)
		rs_resp_header(&ctx->resp, "Location", rs_arena_printf(
		    &ctx->app->arena, "/v1/records/%s", r->id));
	rs_resp_header(&ctx->resp, "ETag", rs_api_records_etag(ctx, r));
	return rs_app_json(ctx, w->op == RS_WRITE_CREATE ? 201 : 200, shown);
}

static void
rs_api_records_new(struct rs_ctx *ctx, struct rs_record *r, int64_t now)
{
	memset(r, 0, sizeof(*r));
	rs_id_new_sorted(r->id, sizeof(r->id), "rec_", now);
	memcpy(r->org_id, ctx->who.org_id, sizeof(r->org_id));
	memcpy(r->created_by, ctx->who.user_id, sizeof(r->created_by));
	r->status = "queued";
	r->data = "{}";
	r->size = 2;
	r->queue = "default";
	r->created_at = now;
}

/*
 * Inside the transaction: loads the record a patch or delete changes.
 * Returns 0 to go on, 1 when answered without a write (the caller rolls
 * back), -1 on error.
 */
static int
rs_api_records_load(struct rs_ctx *ctx, const struct rs_write *w,
    struct rs_record *r)
{
	enum rs_err	 rc;

	rc = rs_store_records_get(ctx->app->db, &ctx->app->arena, ctx->who.org_id,
	    w->id, r);
	if (rc == RS_ERR_NOTFOUND) {
		rs_app_problem(ctx, RS_PROB_NOT_FOUND, "no record %.64s",
		    w->id);
		return 1;
	}
	if (rc != RS_OK)
		return -1;
	if (r->deleted_at != 0) {
		/* Deleting twice answers the same tombstone. */
		if (w->op == RS_WRITE_DELETE)
			return rs_api_records_answer(ctx, w, r,
			    rs_api_records_shown(ctx, r)) == 0 ? 1 : -1;
		return rs_api_records_problem(ctx, RS_PROB_RECORD_DELETED, 410,
		    "the record was deleted; member record holds its "
		    "tombstone", "record", r) == 0 ? 1 : -1;
	}
	return 0;
}

/* A new version of r: the next version, a new causal token, now. */
static void
rs_api_records_bump(struct rs_record *r, int64_t now)
{
	r->version++;
	r->updated_at = now;
	rs_ulid_new(r->causal, sizeof(r->causal), now);
}

/*
 * Inside the transaction: loads the record (its status before the change
 * to *old_status), checks the causal token and applies the patch or
 * delete. 0 to go on and write, 1 when answered
 * (rolled back or, for a conflict, committed), -1 on error.
 */
static int
rs_api_records_change(struct rs_ctx *ctx, struct rs_write *w,
    struct rs_record *r, const char **old_status)
{
	int	 step;

	if ((step = rs_api_records_load(ctx, w, r)) != 0)
		return step;
	*old_status = r->status;
	if (w->causal != NULL && strcmp(w->causal, r->causal) != 0)
		return rs_api_records_conflict(ctx, w, r) == 0 ? 1 : -1;
	if (w->op == RS_WRITE_PATCH &&
	    (step = rs_api_records_apply_patch(ctx, r)) != 0)
		return step;
	if (w->op == RS_WRITE_DELETE)
		r->deleted_at = w->now;
	rs_api_records_bump(r, w->now);
	return 0;
}

/* Inside the transaction: has this key answered before? 0: go on. */
static int
rs_api_records_seen(struct rs_ctx *ctx, const struct rs_write *w)
{
	struct rs_idem_answer	 ans;

	if (w->idem.key == NULL)
		return 0;
	switch (rs_idem_find(ctx->app->db, &ctx->app->arena, ctx->who.org_id,
	    &w->idem, w->now, &ans)) {
	case RS_IDEM_NEW:
		return 0;
	case RS_IDEM_REPLAY:
		rs_api_records_unanswer(ctx, w);
		rs_api_records_replay(ctx, &ans);
		return 1;
	case RS_IDEM_MISMATCH:
		rs_api_records_unanswer(ctx, w);
		return rs_app_problem(ctx, RS_PROB_IDEM_REUSED, "this "
		    "Idempotency-Key was used for a different request in "
		    "the last 24 hours") == 0 ? 1 : -1;
	default:
		return -1;
	}
}

/*
 * Everything a change of r writes and answers, built before it is
 * stored: its events, the answer in ctx->resp and the answer's copy for
 * the key. 0, or -1 on error.
 */
static int
rs_api_records_prepare(struct rs_ctx *ctx, struct rs_write *w,
    const struct rs_record *r, const char *old_status)
{
	struct json_object	*shown;
	int			 rc = -1;

	if ((shown = rs_api_records_shown(ctx, r)) == NULL)
		return -1;
	if (rs_api_records_events(ctx, w, r, old_status, shown) == RS_OK &&
	    rs_api_records_answer(ctx, w, r, json_object_get(shown)) == 0 &&
	    rs_api_records_remember(ctx, w) == RS_OK)
		rc = 0;
	json_object_put(shown);
	return rc;
}

/*
 * Inside the transaction: numbers the change and its events from the
 * org's counters, then writes the record, the events and the key's
 * answer.
 */
static enum rs_err
rs_api_records_store(struct rs_ctx *ctx, struct rs_write *w,
    struct rs_record *r)
{
	struct rs_store_orgseq	 seq;
	enum rs_err		 rc;
	size_t			 i;

	if ((rc = rs_store_orgseq_take(ctx->app->db, ctx->who.org_id, 1,
	    (int)w->nev, &seq)) != RS_OK)
		return rc;
	r->change_seq = seq.change;
	if (w->op == RS_WRITE_CREATE)
		r->seq = rs_store_orgseq_rowid(&seq, seq.change);
	if ((rc = rs_store_records_put(ctx->app->db, r,
	    w->op == RS_WRITE_CREATE)) != RS_OK)
		return rc;
	for (i = 0; i < w->nev; i++) {
		w->ev[i].seq = rs_store_orgseq_rowid(&seq, seq.event + (int64_t)i);
		if ((rc = rs_store_outbox_put(ctx->app->db, ctx->who.org_id,
		    &w->ev[i])) != RS_OK)
			return rc;
	}
	return rs_api_records_keep(ctx, w);
}

static int
rs_api_records_write(struct rs_ctx *ctx, struct rs_write *w)
{
	struct rs_db		*db = ctx->app->db;
	struct rs_record	 r;
	const char		*old_status = NULL;
	enum rs_err		 rc;
	int			 step;

	/* A new record, its events and its answer are complete before the
	 * lock: every writer waits for the time it is held. */
	w->nhdr = ctx->resp.nhdr;
	if (w->op == RS_WRITE_CREATE) {
		r = w->rec;
		rs_api_records_bump(&r, w->now);
		if (rs_api_records_prepare(ctx, w, &r, NULL) != 0)
			return -1;
	}
	if ((rc = rs_db_begin(db)) != RS_OK) {
		rs_api_records_unanswer(ctx, w);
		if (rc != RS_ERR_BUSY || w->idem.key == NULL)
			return rs_app_busy(ctx);
		rs_resp_header(&ctx->resp, "Retry-After", "1");
		return rs_app_problem(ctx, RS_PROB_IDEM_IN_PROGRESS,
		    "another request holds the write lock; it may be one "
		    "with this Idempotency-Key: retry");
	}
	if ((step = rs_api_records_seen(ctx, w)) == 0 &&
	    w->op != RS_WRITE_CREATE &&
	    (step = rs_api_records_change(ctx, w, &r, &old_status)) == 0 &&
	    rs_api_records_prepare(ctx, w, &r, old_status) != 0)
		step = -1;
	if (step != 0) {
		rs_db_rollback(db);
		return step > 0 ? 0 : -1;
	}
	if (rs_api_records_store(ctx, w, &r) != RS_OK ||
	    rs_db_commit(db) != RS_OK) {
		rs_db_rollback(db);
		return -1;
	}
	return 0;
}

/* ---- request-level checks -------------------------------------------- */

/* Reads Idempotency-Key into w; -1 when answered (malformed). */
static int
rs_api_records_idem(struct rs_ctx *ctx, struct rs_write *w)
{
	const char	*h = rs_http_header(&ctx->req, "Idempotency-Key");

	if (h == NULL)
		return 0;
	if ((w->idem.key = rs_idem_key(&ctx->app->arena, h)) == NULL) {
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "Idempotency-Key must be 1 to 255 visible ASCII "
		    "characters");
		return -1;
	}
	rs_idem_hash(&w->idem, ctx->req.method_name, ctx->req.path,
	    rs_http_header(&ctx->req, "If-Match"), ctx->body);
	return 0;
}

/*
 * The causal token from If-Match and/or the body member "causal".
 * Returns 0 (w->causal may stay NULL), or -1 when answered.
 */
static int
rs_api_records_causal(struct rs_ctx *ctx, struct rs_write *w)
{
	const char		*h = rs_http_header(&ctx->req, "If-Match");
	struct json_object	*m;
	char			*tag = NULL;
	size_t			 len;

	if (h != NULL) {
		len = strlen(h);
		if (len != RS_ULID_LEN + 2 || h[0] != '"' ||
		    h[len - 1] != '"' || (tag = rs_arena_strndup(
		    &ctx->app->arena, h + 1, len - 2)) == NULL ||
		    !rs_ulid_valid(tag)) {
			rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "If-Match must be one entity tag, \"<causal>\"");
			return -1;
		}
		w->causal = tag;
		w->causal_header = 1;
	}
	if (ctx->body != NULL &&
	    json_object_object_get_ex(ctx->body, "causal", &m)) {
		if (!json_object_is_type(m, json_type_string) ||
		    !rs_ulid_valid(json_object_get_string(m))) {
			rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "causal: must be a causal token (a ULID)");
			return -1;
		}
		if (tag != NULL && strcmp(tag, json_object_get_string(m))) {
			rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "If-Match and member causal name different "
			    "versions");
			return -1;
		}
		if (tag == NULL)
			w->causal = json_object_get_string(m);
	}
	return 0;
}

/*
 * Members and their shapes, before the transaction; a new record is
 * built in w->rec. -1 when answered.
 */
static int
rs_api_records_check_body(struct rs_ctx *ctx, struct rs_write *w)
{
	int			 create = w->op == RS_WRITE_CREATE;
	static const char *const create_members[] = {
		"title", "type", "site", "status", "data", NULL,
	};
	static const char *const patch_members[] = {
		"title", "type", "site", "status", "data", "causal", NULL,
	};
	struct rs_valid		 v;
	struct rs_record	 scratch;

	/* A patch is checked on a scratch record with the validators the
	 * write path uses, so every bad member is named before anything is
	 * locked; a new record is built here for good. */
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, create ? create_members : patch_members);
	memset(&scratch, 0, sizeof(scratch));
	scratch.data = "{}";
	if (create)
		rs_api_records_new(ctx, &w->rec, w->now);
	if (rs_api_records_apply(ctx, &v, create ? &w->rec : &scratch, create))
		return -1;
	if (v.n > 0) {
		rs_app_invalid(ctx, &v);
		return -1;
	}
	if (!create && json_object_object_length(ctx->body) ==
	    (json_object_object_get_ex(ctx->body, "causal", NULL) ? 1 : 0)) {
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "nothing to change: send title, type, site, status "
		    "or data");
		return -1;
	}
	return 0;
}

static int
rs_api_records_id(struct rs_ctx *ctx, struct rs_write *w)
{
	w->id = ctx->req.params[0];
	if (!rs_id_valid(w->id, "rec_")) {
		rs_app_problem(ctx, RS_PROB_NOT_FOUND, "no record %.64s",
		    w->id);
		return -1;
	}
	return 0;
}

int
rs_api_records_create(struct rs_ctx *ctx)
{
	struct rs_write	 w;

	memset(&w, 0, sizeof(w));
	w.op = RS_WRITE_CREATE;
	w.now = rs_clock_now_ms();
	if (rs_api_records_check_body(ctx, &w) != 0 || rs_api_records_idem(ctx, &w))
		return ctx->resp.body != NULL ? 0 : -1;
	return rs_api_records_write(ctx, &w);
}

int
rs_api_records_patch(struct rs_ctx *ctx)
{
	struct rs_write	 w;

	memset(&w, 0, sizeof(w));
	w.op = RS_WRITE_PATCH;
	w.now = rs_clock_now_ms();
	if (rs_api_records_id(ctx, &w) != 0 || rs_api_records_causal(ctx, &w) != 0 ||
	    rs_api_records_check_body(ctx, &w) != 0 || rs_api_records_idem(ctx, &w))
		return ctx->resp.body != NULL ? 0 : -1;
	if (w.causal == NULL)
		return rs_app_problem(ctx, RS_PROB_CAUSAL_REQUIRED,
		    "send the causal token you last saw, as member causal "
		    "or as If-Match: \"<causal>\"");
	return rs_api_records_write(ctx, &w);
}

int
rs_api_records_delete(struct rs_ctx *ctx)
{
	struct rs_write	 w;

	memset(&w, 0, sizeof(w));
	w.op = RS_WRITE_DELETE;
	w.now = rs_clock_now_ms();
	if (rs_api_records_id(ctx, &w) != 0 || rs_api_records_causal(ctx, &w) != 0 ||
	    rs_api_records_idem(ctx, &w))
		return ctx->resp.body != NULL ? 0 : -1;
	/* DELETE has no 412 form: a stale If-Match is a 409 here. */
	w.causal_header = 0;
	return rs_api_records_write(ctx, &w);
}

int
rs_api_records_get(struct rs_ctx *ctx)
{
	struct rs_record	 r;
	struct rs_write		 w;
	enum rs_err		 rc;

	memset(&w, 0, sizeof(w));
	if (rs_api_records_id(ctx, &w) != 0)
		return 0;
	rc = rs_store_records_get(ctx->app->db, &ctx->app->arena, ctx->who.org_id,
	    w.id, &r);
	if (rc == RS_ERR_NOTFOUND)
		return rs_app_problem(ctx, RS_PROB_NOT_FOUND, "no record %.64s",
		    w.id);
	if (rc != RS_OK)
		return -1;
	if (r.deleted_at != 0)
		return rs_api_records_problem(ctx, RS_PROB_RECORD_DELETED, 410,
		    "the record was deleted; member record holds its "
		    "tombstone", "record", &r);
	rs_resp_header(&ctx->resp, "ETag", rs_api_records_etag(ctx, &r));
	return rs_app_json(ctx, 200, rs_api_records_shown(ctx, &r));
}
