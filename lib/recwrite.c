#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "id.h"
#include "idem.h"
#include "json.h"
#include "merge.h"
#include "policy_set.h"
#include "reply.h"
#include "store_conflicts.h"
#include "store_history.h"
#include "store_records.h"
#include "txn.h"
#include "ulid.h"
#include "valid.h"
#include "recwrite.h"

/* ---- field validation ------------------------------------------------ */

/* A 1..200 character string member; NULL when absent or wrong. */
static const char *
rs_recwrite_text(struct rs_valid *v, struct json_object *body,
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
rs_recwrite_status(struct rs_valid *v, struct json_object *body)
{
	const char	*s;

	s = rs_valid_string(v, body, "status", 0, 1, RS_MAX_ROLE);

	if (s != NULL && !rs_store_records_status_valid(s)) {
		rs_valid_add(v, "status",
		    "must be one of queued, synced, conflict, failed");
		return NULL;
	}
	return s;
}

/* The data member when it is an object (borrowed), else NULL. */
static struct json_object *
rs_recwrite_data(struct rs_valid *v, struct json_object *body)
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
rs_recwrite_data_text(struct rs_ctx *ctx, struct rs_valid *v,
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

const char *
rs_recwrite_etag(struct rs_ctx *ctx, const char *causal)
{
	size_t	 n = strlen(causal);
	char	*s;

	if ((s = rs_arena_alloc(&ctx->app->arena, n + 3)) == NULL)
		return NULL;
	s[0] = '"';
	memcpy(s + 1, causal, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

/*
 * r as the API shows it, serialised once: the answer, its idempotent copy
 * and every event of the write carry these same bytes.
 */
struct json_object *
rs_recwrite_shown(struct rs_ctx *ctx, const struct rs_record *r)
{
	return rs_store_records_json_raw(&ctx->app->arena, r, 1, 0);
}

/* The text of a raw object (rs_recwrite_shown) copied into the arena. */
static const char *
rs_recwrite_text_of(struct rs_ctx *ctx, struct json_object *raw)
{
	return raw == NULL ? NULL : rs_arena_strdup(&ctx->app->arena,
	    json_object_get_string(raw));
}

/*
 * A problem answered with status, carrying the record as member (e.g.
 * current, record), its ETag, and member conflict_id unless it is NULL.
 */
static enum rs_step
rs_recwrite_problem(struct rs_ctx *ctx, enum rs_problem p, int status,
    const char *detail, const char *member, const struct rs_record *r,
    const char *conflict_id, const char *merge_refused)
{
	struct json_object	*prob;

	if ((prob = rs_reply_problem_new(ctx, p, detail)) == NULL)
		return RS_FAIL;
	if (rs_json_add(prob, member, rs_recwrite_shown(ctx, r)) != 0 ||
	    (conflict_id != NULL &&
	    rs_json_add_str(prob, "conflict_id", conflict_id) != 0) ||
	    (merge_refused != NULL &&
	    rs_json_add_str(prob, "merge_refused", merge_refused) != 0) ||
	    rs_resp_header(&ctx->resp, "ETag",
	    rs_recwrite_etag(ctx, r->causal)) != 0) {
		json_object_put(prob);
		return RS_FAIL;
	}
	return rs_reply_problem_as(ctx, status, prob);
}

enum rs_step
rs_recwrite_gone(struct rs_ctx *ctx, const struct rs_record *r)
{
	return rs_recwrite_problem(ctx, RS_PROB_RECORD_DELETED, 410,
	    "the record was deleted; member record holds its tombstone",
	    "record", r, NULL, NULL);
}

/*
 * The answer of a field merge: shown (consumed) with member merged_from
 * added, and Preference-Applied. NULL when out of memory.
 */
static struct json_object *
rs_recwrite_merged(struct rs_recwrite *w, struct json_object *shown)
{
	const char		*s = json_object_get_string(shown);
	size_t			 len = strlen(s);
	char			*text;
	struct json_object	*o = NULL;

	/* shown is our own compact object: "{...}", members first. */
	if (len >= 2 && rs_resp_header(&w->ctx->resp, "Preference-Applied",
	    "merge=fields") == 0 && (text = rs_arena_printf(w->t.arena,
	    "%.*s,\"merged_from\":\"%s\"}", (int)(len - 1), s,
	    w->merged_from)) != NULL)
		o = rs_json_raw(text, strlen(text));
	json_object_put(shown);
	return o;
}

/* The success answer for r into ctx->resp; shown is consumed. */
static enum rs_step
rs_recwrite_answer(struct rs_recwrite *w, const struct rs_record *r,
    struct json_object *shown)
{
	struct rs_ctx	*ctx = w->ctx;

	if (w->merged_from != NULL && (shown = rs_recwrite_merged(w,
	    shown)) == NULL)
		return RS_FAIL;
	if ((w->op == RS_RECWRITE_CREATE && rs_reply_location(ctx,
	    "/v1/records/%s", r->id) != RS_OK) ||
	    rs_resp_header(&ctx->resp, "ETag",
	    rs_recwrite_etag(ctx, r->causal)) != 0) {
		json_object_put(shown);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, w->op == RS_RECWRITE_CREATE ? 201 : 200,
	    shown);
}

/*
 * The answer of a write made (w->shown built): the record, kept under
 * the key. RS_OK or an error.
 */
static enum rs_err
rs_recwrite_answer_made(struct rs_recwrite *w)
{
	if (rs_recwrite_answer(w, &w->rec, json_object_get(w->shown)) !=
	    RS_ANSWERED)
		return RS_ERR_NOMEM;
	return w->idem.key != NULL ?
	    rs_reply_remember(w->ctx, &w->t.answer) : RS_OK;
}

/* ---- what a write changes ---------------------------------------------- */

/*
 * Applies w->patch to r (create or patch), recording every bad member
 * in v. RS_OK (then check v->n), or RS_ERR_NOMEM.
 */
static enum rs_err
rs_recwrite_apply(struct rs_recwrite *w, struct rs_valid *v,
    struct rs_record *r, int create)
{
	struct rs_ctx		*ctx = w->ctx;
	struct json_object	*body = w->patch, *d, *merged = NULL, *m;
	const char		*s;
	enum rs_err		 rc = RS_ERR_NOMEM;

	if ((s = rs_recwrite_text(v, body, "title", create)) != NULL)
		r->title = s;
	if ((s = rs_recwrite_text(v, body, "type", create)) != NULL)
		r->type = s;
	if (json_object_object_get_ex(body, "site", &m) && m == NULL)
		r->site = NULL;		/* null clears it */
	else if ((s = rs_recwrite_text(v, body, "site", 0)) != NULL)
		r->site = s;
	if ((s = rs_recwrite_status(v, body)) != NULL)
		r->status = s;
	if ((d = rs_recwrite_data(v, body)) != NULL) {
		if (create)
			merged = json_object_get(d);
		else if (rs_json_parse(r->data, strlen(r->data), &merged,
		    NULL, 0) != 0 || rs_json_merge_patch(merged, d) != 0)
			goto out;
		if (rs_recwrite_data_text(ctx, v, merged, &s,
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

/* The array of names being built, and where its strings are made. */
struct rs_recwrite_names {
	struct json_object	*arr;
	struct rs_arena		*arena;
};

/* Appends prefix and name to the array: 0, or -1. */
static int
rs_recwrite_name(void *arg, const char *prefix, const char *name)
{
	struct rs_recwrite_names	*n = arg;
	struct json_object		*s;
	const char			*full;

	if ((full = rs_arena_cat(n->arena, prefix, name, NULL)) == NULL ||
	    (s = json_object_new_string(full)) == NULL)
		return -1;
	if (json_object_array_add(n->arr, s) != 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

/*
 * What the write changes, as the JSON array text records.changed keeps
 * (in the arena): a delete ["deleted"]; else the names merge.h gives
 * w->patch (a create's: every member and data key it sets). A member
 * named with its old value counts: a field merge may refuse a write it
 * could take, never take one it should refuse. NULL on allocation
 * failure.
 */
static const char *
rs_recwrite_changed(struct rs_recwrite *w)
{
	struct rs_recwrite_names	 n;
	const char			*s = NULL;
	int				 rc;

	n.arena = &w->ctx->app->arena;
	if ((n.arr = json_object_new_array()) == NULL)
		return NULL;
	if (w->op == RS_RECWRITE_DELETE)
		rc = rs_recwrite_name(&n, "", "deleted");
	else
		rc = rs_merge_names(w->patch, rs_recwrite_name, &n);
	if (rc == 0 && (s = rs_json_compact(n.arr)) != NULL)
		s = rs_arena_strdup(n.arena, s);
	json_object_put(n.arr);
	return s;
}

/* Marks w->rec as the caller's write: updated_by and changed. */
static enum rs_err
rs_recwrite_mark(struct rs_recwrite *w)
{
	memcpy(w->rec.updated_by, w->ctx->who.user_id,
	    sizeof(w->rec.updated_by));
	return (w->rec.changed = rs_recwrite_changed(w)) == NULL ?
	    RS_ERR_NOMEM : RS_OK;
}

/*
 * Keeps old, the version the write replaces, in the record's history
 * (none when the setting keeps none). RS_OK or an error.
 */
static enum rs_err
rs_recwrite_keep(struct rs_recwrite *w, const struct rs_record *old)
{
	struct rs_history	 h;
	struct json_object	*shown;

	if (w->ctx->app->cfg.history_days == 0)
		return RS_OK;
	memset(&h, 0, sizeof(h));
	memcpy(h.org_id, old->org_id, sizeof(h.org_id));
	memcpy(h.record_id, old->id, sizeof(h.record_id));
	memcpy(h.causal, old->causal, sizeof(h.causal));
	/* An old row without updated_by was written by its creator. */
	memcpy(h.actor, old->updated_by[0] != '\0' ? old->updated_by :
	    old->created_by, sizeof(h.actor));
	h.version = old->version;
	h.changed = old->changed;
	h.written_at = old->updated_at;
	h.superseded_at = w->t.now;
	shown = rs_recwrite_shown(w->ctx, old);
	h.record = rs_recwrite_text_of(w->ctx, shown);
	json_object_put(shown);
	if (h.record == NULL)
		return RS_ERR_NOMEM;
	return rs_store_history_put(w->t.db, &h);
}

/* Builds into w->t the events of a change from old_status to r's state. */
static enum rs_err
rs_recwrite_events(struct rs_recwrite *w, const struct rs_record *r,
    const char *old_status, struct json_object *shown)
{
	static const char *const types[] = {
		"record.created", "record.updated", "record.deleted",
	};
	enum rs_err	 rc;

	if ((rc = rs_txn_event(&w->t, types[w->op], r->id, shown)) != RS_OK)
		return rc;
	if (w->op != RS_RECWRITE_DELETE && strcmp(r->status, "synced") == 0 &&
	    (old_status == NULL || strcmp(old_status, "synced") != 0))
		rc = rs_txn_event(&w->t, "record.synced", r->id, shown);
	return rc;
}

/*
 * What the org's policies choose for r as it will be written: its queue,
 * and the queue, priority and not-before of the write's events.
 */
static enum rs_err
rs_recwrite_choose(struct rs_recwrite *w, struct rs_record *r)
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

/*
 * The chosen record's shown form and its events, once it is whole:
 * RS_OK or an error.
 */
static enum rs_err
rs_recwrite_made(struct rs_recwrite *w, const char *old_status)
{
	enum rs_err	 rc;

	if ((rc = rs_recwrite_choose(w, &w->rec)) != RS_OK)
		return rc;
	if ((w->shown = rs_recwrite_shown(w->ctx, &w->rec)) == NULL)
		return RS_ERR_NOMEM;
	return rs_recwrite_events(w, &w->rec, old_status, w->shown);
}

/* A new version of r: the next version, a new causal token, now. */
static void
rs_recwrite_bump(struct rs_record *r, int64_t now)
{
	r->version++;
	r->updated_at = now;
	rs_ulid_new(r->causal, sizeof(r->causal), now);
}

/* ---- the audit entry --------------------------------------------------- */

/*
 * The entry's detail of a create or patch: the member names written
 * ("causal" is how, not what), never their values, and the version
 * written. Caller owns it, or NULL.
 */
static struct json_object *
rs_recwrite_detail(const struct rs_recwrite *w, int64_t version)
{
	struct json_object	*o, *fields = NULL;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (w->op != RS_RECWRITE_DELETE) {
		if ((fields = json_object_new_array()) == NULL ||
		    rs_json_add(o, "fields", fields) != 0)
			goto fail;
		json_object_object_foreach(w->patch, name, val) {
			(void)val;
			if (strcmp(name, "causal") != 0 &&
			    json_object_array_add(fields,
			    json_object_new_string(name)) != 0)
				goto fail;
		}
	}
	if (rs_json_add_int(o, "version", version) != 0 ||
	    (w->merged_from != NULL &&
	    rs_json_add_str(o, "merged_from", w->merged_from) != 0))
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
rs_recwrite_audit(struct rs_recwrite *w)
{
	static const char *const actions[] = {
		"record.create", "record.update", "record.delete",
	};

	if (w->detail == NULL &&
	    (w->detail = rs_recwrite_detail(w, w->rec.version)) == NULL)
		return RS_ERR_NOMEM;
	w->t.audit.action = actions[w->op];
	w->t.audit.target = w->rec.id;
	w->t.audit.detail = w->detail;		/* t owns it now */
	w->detail = NULL;
	return RS_OK;
}

/* ---- a lost causal check ----------------------------------------------- */

/*
 * What the write that lost tried, as a conflict keeps it (JSON text in
 * the arena): its members but causal, or {"deleted":true} for a
 * delete. NULL on allocation failure.
 */
static const char *
rs_recwrite_attempted(struct rs_recwrite *w)
{
	struct json_object	*o;
	const char		*s = NULL;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (w->op == RS_RECWRITE_DELETE) {
		if (rs_json_add_bool(o, "deleted", 1) != 0)
			goto out;
	} else {
		json_object_object_foreach(w->patch, name, val) {
			if (strcmp(name, "causal") == 0)
				continue;
			/* A null member (site: null) is kept as null. */
			if (json_object_object_add(o, name,
			    json_object_get(val)) != 0) {
				json_object_put(val);
				goto out;
			}
		}
	}
	if ((s = rs_json_compact(o)) != NULL)
		s = rs_arena_strdup(&w->ctx->app->arena, s);
out:
	json_object_put(o);
	return s;
}

/* The entry of a lost causal check: the tokens, and the conflict kept. */
static enum rs_err
rs_recwrite_audit_conflict(struct rs_recwrite *w, const struct rs_record *cur,
    const char *conflict_id)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "causal_sent", w->causal) != 0 ||
	    rs_json_add_str(o, "causal_current", cur->causal) != 0 ||
	    rs_json_add_str(o, "conflict_id", conflict_id) != 0) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	w->t.audit.action = "record.conflict";
	w->t.audit.target = cur->id;
	w->t.audit.detail = o;
	return RS_OK;
}

/*
 * Stores the conflict of a lost causal check on cur, its id into c.
 * RS_OK or an error.
 */
static enum rs_err
rs_recwrite_keep_conflict(struct rs_recwrite *w, const struct rs_record *cur,
    struct json_object *shown, struct rs_conflict *c)
{
	memset(c, 0, sizeof(*c));
	rs_id_new_sorted(c->id, sizeof(c->id), RS_ID_CONFLICT, w->t.now);
	memcpy(c->org_id, cur->org_id, sizeof(c->org_id));
	memcpy(c->record_id, cur->id, sizeof(c->record_id));
	/* The token was checked to be a ULID: it fits. */
	snprintf(c->base_causal, sizeof(c->base_causal), "%s", w->causal);
	memcpy(c->created_by, w->ctx->who.user_id, sizeof(c->created_by));
	c->created_at = w->t.now;
	c->status = RS_CONFLICT_OPEN;
	if ((c->attempted = rs_recwrite_attempted(w)) == NULL ||
	    (c->current = rs_recwrite_text_of(w->ctx, shown)) == NULL)
		return RS_ERR_NOMEM;
	return rs_store_conflicts_put(w->t.db, c);
}

/*
 * Inside the transaction: a lost causal check. The conflict is kept,
 * and its event, entry and 409 (412 for If-Match) name it; the answer
 * is kept like any other.
 */
static enum rs_txn_do
rs_recwrite_conflict(struct rs_recwrite *w, const struct rs_record *cur)
{
	struct rs_ctx		*ctx = w->ctx;
	struct json_object	*shown, *more = NULL;
	struct rs_conflict	 c;

	if ((shown = rs_recwrite_shown(ctx, cur)) == NULL)
		return RS_TXN_FAILED;
	/* Nothing is written but the conflict and the event: it goes
	 * where the record is. */
	w->t.queue = cur->queue;
	if ((w->t.err = rs_recwrite_keep_conflict(w, cur, shown,
	    &c)) == RS_OK) {
		w->t.err = RS_ERR_NOMEM;
		if ((more = json_object_new_object()) != NULL &&
		    rs_json_add_str(more, "conflict_id", c.id) == 0)
			w->t.err = rs_txn_event_more(&w->t, "record.conflict",
			    cur->id, shown, more);
	}
	json_object_put(more);
	json_object_put(shown);
	if (w->t.err != RS_OK ||
	    (w->t.err = rs_recwrite_audit_conflict(w, cur, c.id)) != RS_OK ||
	    rs_recwrite_problem(ctx, RS_PROB_CAUSAL_CONFLICT,
	    w->causal_header ? 412 : 409, "the record has changed since the "
	    "causal token you sent; member current holds it as it is now, "
	    "member conflict_id the conflict kept", "current", cur,
	    c.id, w->merge_refused) != RS_ANSWERED ||
	    (w->idem.key != NULL &&
	    (w->t.err = rs_reply_remember(ctx, &w->t.answer)) != RS_OK))
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/* ---- the steps of a change ------------------------------------------- */

enum rs_step
rs_recwrite_load(struct rs_recwrite *w)
{
	w->t.err = rs_store_records_get(w->t.db, w->t.arena, w->t.org, w->id,
	    &w->rec);
	if (w->t.err == RS_ERR_NOTFOUND)
		return rs_reply_problem(w->ctx, RS_PROB_NOT_FOUND,
		    "no record %.64s", w->id);
	return w->t.err == RS_OK ? RS_NEXT : RS_FAIL;
}

/*
 * Applies a patch to r, whose data may now outgrow the limit: RS_NEXT,
 * RS_ANSWERED (400), or RS_FAIL.
 */
static enum rs_step
rs_recwrite_apply_patch(struct rs_recwrite *w, struct rs_record *r)
{
	struct rs_valid	 v;

	rs_valid_init(&v, &w->ctx->app->arena);
	if (rs_recwrite_apply(w, &v, r, 0) != RS_OK)
		return RS_FAIL;
	if (v.n > 0)
		return rs_reply_invalid(w->ctx, &v);
	return RS_NEXT;
}

enum rs_step
rs_recwrite_modify(struct rs_recwrite *w)
{
	struct rs_record	 old = w->rec;	/* its strings are not
						 * changed, only replaced */
	size_t			 n;
	enum rs_step		 step;

	/* The loaded text is the old version's: the new one is printed
	 * from the fields (rs_recwrite_made) and stored with them. */
	w->rec.json = NULL;

	if (w->op == RS_RECWRITE_PATCH &&
	    (step = rs_recwrite_apply_patch(w, &w->rec)) != RS_NEXT)
		return step;
	if (w->op == RS_RECWRITE_DELETE)
		w->rec.deleted_at = w->t.now;
	rs_recwrite_bump(&w->rec, w->t.now);
	if ((w->t.err = rs_recwrite_mark(w)) != RS_OK ||
	    (w->t.err = rs_recwrite_keep(w, &old)) != RS_OK ||
	    (w->t.err = rs_store_conflicts_supersede(w->t.db, w->t.org,
	    w->rec.id, w->ctx->who.user_id, w->t.now, &n)) != RS_OK ||
	    (w->t.err = rs_recwrite_made(w, old.status)) != RS_OK)
		return RS_FAIL;
	return RS_NEXT;
}

enum rs_err
rs_recwrite_store(struct rs_recwrite *w)
{
	struct rs_store_orgseq	 seq;
	enum rs_err		 rc;

	if ((rc = rs_txn_number(&w->t, 1, &seq)) != RS_OK)
		return rc;
	/* The text the write answers with and puts in its events (the
	 * numbers below are not in it). */
	w->rec.json = w->shown != NULL ? json_object_get_string(w->shown) :
	    NULL;
	w->rec.change_seq = seq.change;
	if (w->op == RS_RECWRITE_CREATE)
		w->rec.seq = rs_store_orgseq_rowid(&seq, seq.change);
	return rs_store_records_put(w->t.db, &w->rec,
	    w->op == RS_RECWRITE_CREATE);
}

/*
 * A stale causal token on a patch that asked for Prefer: merge=fields:
 * sets w->merged_from when the patch may be applied to the record as it
 * is now (merge.h), else w->merge_refused, the reason its 409 gives.
 * Never for If-Match: a precondition HTTP does not let a server bend
 * (RFC 9110 13.1.1). RS_OK or an error.
 */
static enum rs_err
rs_recwrite_merge(struct rs_recwrite *w)
{
	struct rs_history_since	 hs;
	struct rs_merge_since	 ms;
	const char		*clash;
	enum rs_err		 rc;

	if (!w->merge || w->op != RS_RECWRITE_PATCH)
		return RS_OK;
	if (w->causal_header) {
		w->merge_refused = "If-Match is a precondition: send the "
		    "causal token as member causal to merge";
		return RS_OK;
	}
	if ((rc = rs_store_history_since(w->t.db, w->t.arena, w->t.org,
	    w->rec.id, w->causal, w->rec.changed, &hs)) != RS_OK)
		return rc;
	ms.found = hs.found;
	ms.unknown = hs.unknown;
	ms.names = hs.names;
	ms.n = hs.n;
	switch (rs_merge_decide(w->patch, &ms, &clash)) {
	case RS_MERGE_APPLY:
		w->merged_from = w->causal;
		break;
	case RS_MERGE_UNKNOWN_BASE:
		w->merge_refused = "the causal token sent is not a version the "
		    "record's history keeps";
		break;
	case RS_MERGE_UNKNOWN_CHANGE:
		w->merge_refused = "a version since the one sent does not say "
		    "what it changed";
		break;
	default:
		w->merge_refused = rs_arena_printf(w->t.arena, "%s was "
		    "changed since the version sent", strcmp(clash,
		    "deleted") == 0 ? "the record's existence" : clash);
		if (w->merge_refused == NULL)
			return RS_ERR_NOMEM;
		break;
	}
	return RS_OK;
}

/*
 * Inside the transaction: the patch or delete of w->id, after its
 * causal check. RS_NEXT to store w->rec, RS_ANSWERED when answered
 * without a write (404, 410, a second delete's tombstone, a 400),
 * RS_FAIL; a lost causal check is its own write (*lost set).
 */
static enum rs_step
rs_recwrite_update(struct rs_recwrite *w, int *lost)
{
	enum rs_step	 step;

	*lost = 0;
	if ((step = rs_recwrite_load(w)) != RS_NEXT)
		return step;
	if (w->rec.deleted_at != 0)
		/* Deleting twice answers the same tombstone. */
		return w->op == RS_RECWRITE_DELETE ? rs_recwrite_answer(w,
		    &w->rec, rs_recwrite_shown(w->ctx, &w->rec)) :
		    rs_recwrite_gone(w->ctx, &w->rec);
	/* The causal check comes first: a stale token is a conflict
	 * whatever else the body says. */
	if (w->causal != NULL && strcmp(w->causal, w->rec.causal) != 0) {
		if ((w->t.err = rs_recwrite_merge(w)) != RS_OK)
			return RS_FAIL;
		if (w->merged_from == NULL) {
			*lost = 1;
			return RS_NEXT;
		}
	}
	if ((step = rs_recwrite_modify(w)) != RS_NEXT)
		return step;
	return rs_recwrite_answer_made(w) == RS_OK ? RS_NEXT : RS_FAIL;
}

/*
 * The record write itself, inside the transaction: numbers it from the
 * org's counters (with its events, in one step) and writes the record.
 */
static enum rs_txn_do
rs_recwrite_change(struct rs_txn *t, void *arg)
{
	struct rs_recwrite	*w = arg;
	enum rs_step		 step;
	int			 lost;

	if (w->op != RS_RECWRITE_CREATE) {
		step = rs_recwrite_update(w, &lost);
		if (step == RS_NEXT && lost)
			return rs_recwrite_conflict(w, &w->rec);
		if (step != RS_NEXT)
			return step == RS_ANSWERED ? RS_TXN_DECLINE :
			    RS_TXN_FAILED;
	}
	if ((t->err = rs_recwrite_store(w)) != RS_OK ||
	    (t->err = rs_recwrite_audit(w)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/*
 * A new record, its events and its answer, complete before the lock
 * (every writer waits for the time it is held). RS_OK or an error.
 */
static enum rs_err
rs_recwrite_create(struct rs_recwrite *w)
{
	enum rs_err	 rc;

	rs_recwrite_bump(&w->rec, w->t.now);
	if ((rc = rs_recwrite_mark(w)) != RS_OK ||
	    (rc = rs_recwrite_made(w, NULL)) != RS_OK ||
	    (rc = rs_recwrite_answer_made(w)) != RS_OK)
		return rc;
	return (w->detail = rs_recwrite_detail(w, w->rec.version)) == NULL ?
	    RS_ERR_NOMEM : RS_OK;
}

enum rs_step
rs_recwrite_run(struct rs_recwrite *w, rs_txn_change change, void *arg)
{
	struct rs_ctx		*ctx = w->ctx;
	enum rs_txn_result	 res;
	enum rs_err		 rc;

	w->nhdr = ctx->resp.nhdr;
	w->t.idem = &w->idem;
	if (change == NULL) {
		change = rs_recwrite_change;
		arg = w;
		if (w->op == RS_RECWRITE_CREATE &&
		    (rc = rs_recwrite_create(w)) != RS_OK) {
			json_object_put(w->detail);
			json_object_put(w->shown);
			/* The policies could not be read (a database gone
			 * for a moment): nothing was written, retry. */
			return rc == RS_ERR_BUSY ? rs_reply_busy(ctx) :
			    RS_FAIL;
		}
	}
	res = rs_txn_run(&w->t, change, arg);
	/* Not given to t when the change did not get that far. */
	json_object_put(w->detail);
	w->detail = NULL;
	json_object_put(w->shown);
	w->shown = NULL;
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

/* ---- before the transaction -------------------------------------------- */

/* A new record of ctx's caller made at now, into r. */
static void
rs_recwrite_new(struct rs_ctx *ctx, struct rs_record *r, int64_t now)
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

enum rs_err
rs_recwrite_validate(struct rs_recwrite *w, struct rs_valid *v)
{
	static const char *const create_members[] = {
		"title", "type", "site", "status", "data", NULL,
	};
	static const char *const patch_members[] = {
		"title", "type", "site", "status", "data", "causal", NULL,
	};
	int			 create = w->op == RS_RECWRITE_CREATE;
	struct rs_record	 scratch;

	/* A patch is checked on a scratch record with the validators the
	 * write path uses, so every bad member is named before anything is
	 * locked; a new record is built here for good. */
	rs_valid_known(v, w->patch, create ? create_members : patch_members);
	memset(&scratch, 0, sizeof(scratch));
	scratch.data = "{}";
	if (create)
		rs_recwrite_new(w->ctx, &w->rec, w->t.now);
	return rs_recwrite_apply(w, v, create ? &w->rec : &scratch, create);
}

enum rs_step
rs_recwrite_check(struct rs_recwrite *w)
{
	struct rs_ctx	*ctx = w->ctx;
	struct rs_valid	 v;

	rs_valid_init(&v, &ctx->app->arena);
	if (rs_recwrite_validate(w, &v) != RS_OK)
		return RS_FAIL;
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if (w->op != RS_RECWRITE_CREATE &&
	    json_object_object_length(w->patch) ==
	    (json_object_object_get_ex(w->patch, "causal", NULL) ? 1 : 0))
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "nothing to change: send title, type, site, status "
		    "or data");
	return RS_NEXT;
}

void
rs_recwrite_begin(struct rs_recwrite *w, struct rs_ctx *ctx,
    enum rs_recwrite_op op)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->op = op;
	w->patch = ctx->body;
	rs_reply_txn_init(ctx, &w->t);
}
