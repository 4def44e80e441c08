#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "idem.h"
#include "json.h"
#include "policy_set.h"
#include "reply.h"
#include "store_records.h"
#include "txn.h"
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
	struct rs_ctx		*ctx;
	enum rs_write_op	 op;
	const char		*id;		/* patch, delete */
	const char		*causal;	/* expected, or NULL */
	int			 causal_header;	/* it came as If-Match */
	struct rs_idem		 idem;
	struct rs_record	 rec;		/* the record, as written */
	size_t			 nhdr;		/* headers before the answer */
	struct json_object	*detail;	/* the entry's, built before
						 * the lock (create); given to
						 * t in the change */
	struct rs_txn		 t;
};

/* ---- field validation ------------------------------------------------ */

/* A 1..200 character string member; NULL when absent or wrong. */
static const char *
rs_api_records_text(struct rs_valid *v, struct json_object *body,
    const char *name, int required)
{
	const char	*s;
	size_t		 n;

	/* Bytes are bounded by the body limit; the rule is in characters. */
	s = rs_valid_string(v, body, name, required, 0, RS_MAX_BODY);
	if (s != NULL && ((n = rs_valid_chars(s)) < 1 ||
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
	const char	*s = rs_valid_string(v, body, "status", 0, 1, RS_MAX_ROLE);

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

/*
 * Serialises data into the arena (*text, *size) and checks its size.
 * RS_OK (*text NULL and an error in v when it is too big), or
 * RS_ERR_NOMEM.
 */
static enum rs_err
rs_api_records_data_text(struct rs_ctx *ctx, struct rs_valid *v,
    struct json_object *d, const char **text, int64_t *size)
{
	const char	*s = rs_json_compact(d);
	size_t		 len;

	*text = NULL;
	if (s == NULL)
		return RS_ERR_NOMEM;
	if ((len = strlen(s)) > RS_MAX_RECORD_DATA) {
		rs_valid_add(v, "data", "is %zu bytes as compact JSON; "
		    "the limit is %d", len, RS_MAX_RECORD_DATA);
		return RS_OK;
	}
	if ((*text = rs_arena_strndup(&ctx->app->arena, s, len)) == NULL)
		return RS_ERR_NOMEM;
	*size = (int64_t)len;
	return RS_OK;
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
static enum rs_step
rs_api_records_problem(struct rs_ctx *ctx, enum rs_problem p, int status,
    const char *detail, const char *member, const struct rs_record *r)
{
	struct json_object	*prob;

	if ((prob = rs_reply_problem_new(ctx, p, detail)) == NULL)
		return RS_FAIL;
	if (rs_json_add(prob, member, rs_api_records_shown(ctx, r)) != 0 ||
	    rs_resp_header(&ctx->resp, "ETag",
	    rs_api_records_etag(ctx, r)) != 0) {
		json_object_put(prob);
		return RS_FAIL;
	}
	return rs_reply_problem_as(ctx, status, prob);
}

/* The success answer for r into ctx->resp; shown is consumed. */
static enum rs_step
rs_api_records_answer(struct rs_ctx *ctx, const struct rs_write *w,
    const struct rs_record *r, struct json_object *shown)
{
	if ((w->op == RS_WRITE_CREATE && rs_reply_location(ctx,
	    "/v1/records/%s", r->id) != RS_OK) ||
	    rs_resp_header(&ctx->resp, "ETag",
	    rs_api_records_etag(ctx, r)) != 0) {
		json_object_put(shown);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, w->op == RS_WRITE_CREATE ? 201 : 200, shown);
}

/* ---- the one write path ---------------------------------------------- */

/*
 * Applies the request body to r (create or patch), recording every bad
 * member in v. RS_OK (then check v->n), or RS_ERR_NOMEM.
 */
static enum rs_err
rs_api_records_apply(struct rs_ctx *ctx, struct rs_valid *v,
    struct rs_record *r, int create)
{
	struct json_object	*body = ctx->body, *d, *merged = NULL, *m;
	const char		*s;
	enum rs_err		 rc = RS_ERR_NOMEM;

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
		if (rs_api_records_data_text(ctx, v, merged, &s,
		    &r->size) != RS_OK)
			goto out;
		if (s != NULL)
			r->data = s;
	}
	rc = RS_OK;
out:
	json_object_put(merged);
	return rc;
}

/*
 * Applies a patch body to r, whose data may now outgrow the limit:
 * RS_NEXT, RS_ANSWERED (400), or RS_FAIL.
 */
static enum rs_step
rs_api_records_apply_patch(struct rs_ctx *ctx, struct rs_record *r)
{
	struct rs_valid	 v;

	rs_valid_init(&v, &ctx->app->arena);
	if (rs_api_records_apply(ctx, &v, r, 0) != RS_OK)
		return RS_FAIL;
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	return RS_NEXT;
}

/* Builds into w->t the events of a change from old_status to r's state. */
static enum rs_err
rs_api_records_events(struct rs_write *w, const struct rs_record *r,
    const char *old_status, struct json_object *shown)
{
	static const char *const types[] = {
		"record.created", "record.updated", "record.deleted",
	};
	enum rs_err	 rc;

	if ((rc = rs_txn_event(&w->t, types[w->op], r->id, shown)) != RS_OK)
		return rc;
	if (w->op != RS_WRITE_DELETE && strcmp(r->status, "synced") == 0 &&
	    (old_status == NULL || strcmp(old_status, "synced") != 0))
		rc = rs_txn_event(&w->t, "record.synced", r->id, shown);
	return rc;
}

/*
 * Everything a change of r writes and answers, built before it is
 * stored: its events, the answer in ctx->resp and the answer's copy for
 * the key. RS_OK or an error.
 */
static enum rs_err
rs_api_records_prepare(struct rs_write *w, const struct rs_record *r,
    const char *old_status)
{
	struct rs_ctx		*ctx = w->ctx;
	struct json_object	*shown;
	enum rs_err		 rc;

	if ((shown = rs_api_records_shown(ctx, r)) == NULL)
		return RS_ERR_NOMEM;
	if ((rc = rs_api_records_events(w, r, old_status, shown)) == RS_OK &&
	    (rc = rs_api_records_answer(ctx, w, r, json_object_get(shown)) ==
	    RS_ANSWERED ? RS_OK : RS_ERR_NOMEM) == RS_OK &&
	    w->idem.key != NULL)
		rc = rs_reply_remember(ctx, &w->t.answer);
	json_object_put(shown);
	return rc;
}

/* ---- the audit entry --------------------------------------------------- */

/*
 * The entry's detail of a create or patch: the request's member names
 * given ("causal" is how, not what), never their values, and the
 * version written. Caller owns it, or NULL.
 */
static struct json_object *
rs_api_records_detail(const struct rs_write *w, int64_t version)
{
	struct json_object	*o, *fields = NULL;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (w->op != RS_WRITE_DELETE) {
		if ((fields = json_object_new_array()) == NULL ||
		    rs_json_add(o, "fields", fields) != 0)
			goto fail;
		json_object_object_foreach(w->ctx->body, name, val) {
			(void)val;
			if (strcmp(name, "causal") != 0 &&
			    json_object_array_add(fields,
			    json_object_new_string(name)) != 0)
				goto fail;
		}
	}
	if (rs_json_add_int(o, "version", version) != 0)
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/*
 * Inside the transaction, once the write is whole: its entry (the
 * detail built before the lock for a create, else now). RS_OK or
 * RS_ERR_NOMEM.
 */
static enum rs_err
rs_api_records_audit(struct rs_write *w)
{
	static const char *const actions[] = {
		"record.create", "record.update", "record.delete",
	};

	if (w->detail == NULL &&
	    (w->detail = rs_api_records_detail(w, w->rec.version)) == NULL)
		return RS_ERR_NOMEM;
	w->t.audit.action = actions[w->op];
	w->t.audit.target = w->rec.id;
	w->t.audit.detail = w->detail;		/* t owns it now */
	w->detail = NULL;
	return RS_OK;
}

/* The entry of a lost causal check: the token sent, the current one. */
static enum rs_err
rs_api_records_audit_conflict(struct rs_write *w, const struct rs_record *cur)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "causal_sent", w->causal) != 0 ||
	    rs_json_add_str(o, "causal_current", cur->causal) != 0) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	w->t.audit.action = "record.conflict";
	w->t.audit.target = cur->id;
	w->t.audit.detail = o;
	return RS_OK;
}

/*
 * Inside the transaction: a lost causal check. The conflict event and
 * the 409 (412 for If-Match) are written and kept like any answer.
 */
static enum rs_txn_do
rs_api_records_conflict(struct rs_write *w, const struct rs_record *cur)
{
	struct rs_ctx		*ctx = w->ctx;
	struct json_object	*shown;

	if ((shown = rs_api_records_shown(ctx, cur)) == NULL)
		return RS_TXN_FAILED;
	/* Nothing is written but the event: it goes where the record is. */
	w->t.queue = cur->queue;
	w->t.err = rs_txn_event(&w->t, "record.conflict", cur->id, shown);
	json_object_put(shown);
	if (w->t.err != RS_OK ||
	    (w->t.err = rs_api_records_audit_conflict(w, cur)) != RS_OK ||
	    rs_api_records_problem(ctx, RS_PROB_CAUSAL_CONFLICT,
	    w->causal_header ? 412 : 409, "the record has changed since the "
	    "causal token you sent; member current holds it as it is now",
	    "current", cur) != RS_ANSWERED ||
	    (w->idem.key != NULL &&
	    (w->t.err = rs_reply_remember(ctx, &w->t.answer)) != RS_OK))
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/*
 * What the org's policies choose for r as it will be written: its queue,
 * and the queue, priority and not-before of the write's events.
 */
static enum rs_err
rs_api_records_choose(struct rs_write *w, struct rs_record *r)
{
	struct rs_policy_record	 pr;
	struct rs_policy_choice	 c;
	enum rs_err		 rc;

	memset(&pr, 0, sizeof(pr));
	pr.size = r->size;
	pr.type = r->type;
	pr.site = r->site;
	pr.status = r->status;
	pr.title = r->title;
	if ((rc = rs_policy_set_choose(&w->ctx->app->policies, w->t.db,
	    w->t.org, &pr, r->data, &c)) != RS_OK)
		return rc;
	if ((r->queue = rs_arena_strdup(w->t.arena, c.queue)) == NULL)
		return RS_ERR_NOMEM;
	w->t.queue = r->queue;
	w->t.priority = c.priority;
	w->t.delay_ms = c.delay_s * 1000;
	return RS_OK;
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
 * Inside the transaction: loads the record a patch or delete changes
 * into w->rec. RS_NEXT to go on, RS_ANSWERED when answered without a
 * write (404, 410, or a second delete's tombstone), RS_FAIL.
 */
static enum rs_step
rs_api_records_load(struct rs_write *w)
{
	struct rs_ctx	*ctx = w->ctx;
	struct rs_record *r = &w->rec;

	w->t.err = rs_store_records_get(w->t.db, w->t.arena, w->t.org, w->id,
	    r);
	if (w->t.err == RS_ERR_NOTFOUND)
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no record %.64s", w->id);
	if (w->t.err != RS_OK)
		return RS_FAIL;
	if (r->deleted_at == 0)
		return RS_NEXT;
	/* Deleting twice answers the same tombstone. */
	if (w->op == RS_WRITE_DELETE)
		return rs_api_records_answer(ctx, w, r,
		    rs_api_records_shown(ctx, r));
	return rs_api_records_problem(ctx, RS_PROB_RECORD_DELETED, 410,
	    "the record was deleted; member record holds its tombstone",
	    "record", r);
}

/*
 * Inside the transaction: a patch or delete of the loaded record, after
 * its causal check. RS_NEXT to write w->rec, RS_ANSWERED when declined
 * (answered), RS_FAIL; a lost causal check is its own write.
 */
static enum rs_step
rs_api_records_modify(struct rs_write *w, const char **old_status)
{
	enum rs_step	 step;

	*old_status = w->rec.status;
	if (w->op == RS_WRITE_PATCH &&
	    (step = rs_api_records_apply_patch(w->ctx, &w->rec)) != RS_NEXT)
		return step;
	if (w->op == RS_WRITE_DELETE)
		w->rec.deleted_at = w->t.now;
	rs_api_records_bump(&w->rec, w->t.now);
	if ((w->t.err = rs_api_records_choose(w, &w->rec)) != RS_OK ||
	    rs_api_records_prepare(w, &w->rec, *old_status) != RS_OK)
		return RS_FAIL;
	return RS_NEXT;
}

/*
 * The change, inside the transaction: numbers it from the org's
 * counters (with its events, in one step) and writes the record.
 */
static enum rs_txn_do
rs_api_records_change(struct rs_txn *t, void *arg)
{
	struct rs_write		*w = arg;
	struct rs_store_orgseq	 seq;
	const char		*old_status = NULL;
	enum rs_step		 step;

	if (w->op != RS_WRITE_CREATE) {
		/* The causal check comes first: a stale token is a conflict
		 * whatever else the body says. */
		if ((step = rs_api_records_load(w)) != RS_NEXT)
			return step == RS_ANSWERED ? RS_TXN_DECLINE :
			    RS_TXN_FAILED;
		if (w->causal != NULL && strcmp(w->causal, w->rec.causal) != 0)
			return rs_api_records_conflict(w, &w->rec);
		if ((step = rs_api_records_modify(w, &old_status)) != RS_NEXT)
			return step == RS_ANSWERED ? RS_TXN_DECLINE :
			    RS_TXN_FAILED;
	}
	if ((t->err = rs_txn_number(t, 1, &seq)) != RS_OK)
		return RS_TXN_FAILED;
	w->rec.change_seq = seq.change;
	if (w->op == RS_WRITE_CREATE)
		w->rec.seq = rs_store_orgseq_rowid(&seq, seq.change);
	if ((t->err = rs_store_records_put(t->db, &w->rec,
	    w->op == RS_WRITE_CREATE)) != RS_OK ||
	    (t->err = rs_api_records_audit(w)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/*
 * Runs the write. A new record, its events and its answer are complete
 * before the lock (every writer waits for the time it is held); a patch
 * or delete builds them inside.
 */
static enum rs_step
rs_api_records_write(struct rs_write *w)
{
	struct rs_ctx		*ctx = w->ctx;
	enum rs_txn_result	 res;

	w->nhdr = ctx->resp.nhdr;
	w->t.idem = &w->idem;
	if (w->op == RS_WRITE_CREATE) {
		rs_api_records_bump(&w->rec, w->t.now);
		if (rs_api_records_choose(w, &w->rec) != RS_OK ||
		    rs_api_records_prepare(w, &w->rec, NULL) != RS_OK ||
		    (w->detail = rs_api_records_detail(w,
		    w->rec.version)) == NULL)
			return RS_FAIL;
	}
	res = rs_txn_run(&w->t, rs_api_records_change, w);
	/* Not given to t when the change did not get that far. */
	json_object_put(w->detail);
	w->detail = NULL;
	switch (res) {
	case RS_TXN_DONE:
	case RS_TXN_DECLINED:
		return RS_ANSWERED;
	case RS_TXN_REPLAY:
		rs_reply_clear(ctx, w->nhdr);
		return rs_reply_replay(ctx, &w->t.replay);
	case RS_TXN_BUSY:
		rs_reply_clear(ctx, w->nhdr);
		if (w->t.err != RS_ERR_BUSY || w->idem.key == NULL)
			return rs_reply_busy(ctx);
		rs_resp_header(&ctx->resp, "Retry-After", "1");
		return rs_reply_problem(ctx, RS_PROB_IDEM_IN_PROGRESS,
		    "another request holds the write lock; it may be one "
		    "with this Idempotency-Key: retry");
	default:
		rs_reply_clear(ctx, w->nhdr);
		return rs_reply_txn(ctx, res);
	}
}

/* ---- request-level checks -------------------------------------------- */

/*
 * The causal token from If-Match and/or the body member "causal" into
 * w->causal (which may stay NULL): RS_NEXT, or RS_ANSWERED (400).
 */
static enum rs_step
rs_api_records_causal(struct rs_write *w)
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
 * Members and their shapes, before the transaction; a new record is
 * built in w->rec. RS_NEXT, RS_ANSWERED (400), or RS_FAIL.
 */
static enum rs_step
rs_api_records_check_body(struct rs_write *w)
{
	static const char *const create_members[] = {
		"title", "type", "site", "status", "data", NULL,
	};
	static const char *const patch_members[] = {
		"title", "type", "site", "status", "data", "causal", NULL,
	};
	struct rs_ctx		*ctx = w->ctx;
	int			 create = w->op == RS_WRITE_CREATE;
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
		rs_api_records_new(ctx, &w->rec, w->t.now);
	if (rs_api_records_apply(ctx, &v, create ? &w->rec : &scratch,
	    create) != RS_OK)
		return RS_FAIL;
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if (!create && json_object_object_length(ctx->body) ==
	    (json_object_object_get_ex(ctx->body, "causal", NULL) ? 1 : 0))
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "nothing to change: send title, type, site, status "
		    "or data");
	return RS_NEXT;
}

/* The :id of the path: RS_NEXT, or RS_ANSWERED (404 for a malformed id). */
static enum rs_step
rs_api_records_id(struct rs_write *w)
{
	w->id = w->ctx->req.params[0];
	if (!rs_id_valid(w->id, "rec_"))
		return rs_reply_problem(w->ctx, RS_PROB_NOT_FOUND,
		    "no record %.64s", w->id);
	return RS_NEXT;
}

/* A write of op by ctx's caller, now. */
static void
rs_api_records_begin(struct rs_write *w, struct rs_ctx *ctx,
    enum rs_write_op op)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->op = op;
	rs_reply_txn_init(ctx, &w->t);
}

enum rs_step
rs_api_records_create(struct rs_ctx *ctx)
{
	struct rs_write	 w;
	enum rs_step	 step;

	rs_api_records_begin(&w, ctx, RS_WRITE_CREATE);
	if ((step = rs_api_records_check_body(&w)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &w.idem)) != RS_NEXT)
		return step;
	return rs_api_records_write(&w);
}

enum rs_step
rs_api_records_patch(struct rs_ctx *ctx)
{
	struct rs_write	 w;
	enum rs_step	 step;

	rs_api_records_begin(&w, ctx, RS_WRITE_PATCH);
	if ((step = rs_api_records_id(&w)) != RS_NEXT ||
	    (step = rs_api_records_causal(&w)) != RS_NEXT ||
	    (step = rs_api_records_check_body(&w)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &w.idem)) != RS_NEXT)
		return step;
	if (w.causal == NULL)
		return rs_reply_problem(ctx, RS_PROB_CAUSAL_REQUIRED,
		    "send the causal token you last saw, as member causal "
		    "or as If-Match: \"<causal>\"");
	return rs_api_records_write(&w);
}

enum rs_step
rs_api_records_delete(struct rs_ctx *ctx)
{
	struct rs_write	 w;
	enum rs_step	 step;

	rs_api_records_begin(&w, ctx, RS_WRITE_DELETE);
	if ((step = rs_api_records_id(&w)) != RS_NEXT ||
	    (step = rs_api_records_causal(&w)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &w.idem)) != RS_NEXT)
		return step;
	/* DELETE has no 412 form: a stale If-Match is a 409 here. */
	w.causal_header = 0;
	return rs_api_records_write(&w);
}

enum rs_step
rs_api_records_get(struct rs_ctx *ctx)
{
	struct rs_record	 r;
	struct rs_write		 w;
	enum rs_err		 rc;
	enum rs_step		 step;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	if ((step = rs_api_records_id(&w)) != RS_NEXT)
		return step;
	rc = rs_store_records_get(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, w.id, &r);
	if (rc == RS_ERR_NOTFOUND)
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no record %.64s", w.id);
	if (rc != RS_OK)
		return RS_FAIL;
	if (r.deleted_at != 0)
		return rs_api_records_problem(ctx, RS_PROB_RECORD_DELETED, 410,
		    "the record was deleted; member record holds its "
		    "tombstone", "record", &r);
	if (rs_resp_header(&ctx->resp, "ETag",
	    rs_api_records_etag(ctx, &r)) != 0)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, rs_api_records_shown(ctx, &r));
}
