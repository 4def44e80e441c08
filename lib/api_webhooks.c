#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "clock.h"
#include "cursor.h"
#include "idem.h"
#include "json.h"
#include "netguard.h"
#include "paging.h"
#include "reply.h"
#include "store_jobs.h"
#include "store_outbox.h"
#include "store_webhooks.h"
#include "txn.h"
#include "valid.h"
#include "whsig.h"
#include "api_webhooks.h"

const char *const rs_api_webhooks_list_query[] = {
	"limit", "cursor", NULL,
};

/*
 * w as the API shows it, with secret (its text) when not NULL: only the
 * answers of create and rotate-secret pass one. Caller owns it, or NULL.
 */
static struct json_object *
rs_api_webhooks_json(const struct rs_store_webhook *w, const char *secret)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	/* events was written by this file as compact JSON: shown as is. */
	if (rs_json_add_str(o, "id", w->id) != 0 ||
	    rs_json_add_str(o, "url", w->url) != 0 ||
	    rs_json_add(o, "events", rs_json_raw(w->events,
	    strlen(w->events))) != 0 ||
	    (w->description ? rs_json_add_str(o, "description",
	    w->description) : rs_json_add_null(o, "description")) != 0 ||
	    rs_json_add_str(o, "status", w->enabled ? "enabled" :
	    "disabled") != 0 ||
	    (w->disabled_reason ? rs_json_add_str(o, "disabled_reason",
	    w->disabled_reason) : rs_json_add_null(o,
	    "disabled_reason")) != 0 ||
	    (secret != NULL && rs_json_add_str(o, "secret", secret) != 0) ||
	    rs_json_add_time(o, "created_at", w->created_at) != 0 ||
	    rs_json_add_time(o, "updated_at", w->updated_at) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* 404 for the endpoint id. */
static enum rs_step
rs_api_webhooks_none(struct rs_ctx *ctx, const char *id)
{
	return rs_reply_problem(ctx, RS_PROB_NOT_FOUND, "no webhook %.64s",
	    id);
}

/* ---- validation -------------------------------------------------------- */

/*
 * The body's "events" as the compact JSON text to store (in the arena):
 * a non-empty array of distinct known types, or exactly ["*"]. NULL
 * with an error in v when absent (and required) or wrong.
 */
static const char *
rs_api_webhooks_events(struct rs_valid *v, struct json_object *body,
    int required)
{
	struct json_object	*arr, *e;
	const char		*s, *out;
	size_t			 n, i, j;

	if (!json_object_object_get_ex(body, "events", &arr)) {
		if (required)
			rs_valid_add(v, "events", "is required");
		return NULL;
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0) {
		rs_valid_add(v, "events", "must be a non-empty array of event "
		    "types, or [\"*\"]");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_string)) {
			rs_valid_add(v, "events", "must hold strings");
			return NULL;
		}
		s = json_object_get_string(e);
		if (strcmp(s, "*") == 0) {
			if (n == 1)
				break;
			rs_valid_add(v, "events", "\"*\" must be the only "
			    "member");
			return NULL;
		}
		if (!rs_store_outbox_type_known(s)) {
			rs_valid_add(v, "events", "\"%.64s\" is not an event "
			    "type; use " RS_STORE_OUTBOX_TYPES ", or \"*\"", s);
			return NULL;
		}
		for (j = 0; j < i; j++)
			if (strcmp(s, json_object_get_string(
			    json_object_array_get_idx(arr, j))) == 0) {
				rs_valid_add(v, "events", "\"%s\" is named "
				    "twice", s);
				return NULL;
			}
	}
	/* Known names only: the compact form needs no escaping of ours. */
	if ((out = rs_json_compact(arr)) == NULL ||
	    (out = rs_arena_strdup(v->arena, out)) == NULL)
		rs_valid_add(v, "events", "could not be read");
	return out;
}

/*
 * The body's "description" into *desc: absent leaves it, null clears it,
 * else a string of at most RS_MAX_WEBHOOK_DESCRIPTION characters. Errors
 * go to v. Returns 1 when the member was given.
 */
static int
rs_api_webhooks_description(struct rs_valid *v, struct json_object *body,
    const char **desc)
{
	struct json_object	*m;
	const char		*s;

	if (!json_object_object_get_ex(body, "description", &m))
		return 0;
	if (m == NULL) {
		*desc = NULL;
		return 1;
	}
	s = rs_valid_string(v, body, "description", 0, 0, RS_MAX_BODY);
	if (s != NULL && rs_valid_chars(s) > RS_MAX_WEBHOOK_DESCRIPTION) {
		rs_valid_add(v, "description", "must be at most %d characters",
		    RS_MAX_WEBHOOK_DESCRIPTION);
		s = NULL;
	}
	*desc = s;
	return 1;
}

/*
 * Checks url (netguard.h): its form, then where its host resolves now,
 * within RS_NETGUARD_RESOLVE_MS, before any lock is taken. RS_NEXT, or
 * RS_ANSWERED with 400 invalid_webhook_url saying why.
 */
static enum rs_step
rs_api_webhooks_url(struct rs_ctx *ctx, const char *url)
{
	struct rs_netguard_url	 u;
	char			 why[512];
	int			 allow = ctx->app->cfg.webhook_allow_private;

	if (rs_netguard_url(url, allow, &u, why, sizeof(why)) != RS_OK ||
	    rs_netguard_resolve(&u, allow, RS_NETGUARD_RESOLVE_MS, why,
	    sizeof(why)) != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_INVALID_WEBHOOK_URL, "%s",
		    why);
	return RS_NEXT;
}

/*
 * Inside a change: answers status with obj (taken) and, when the write
 * has an Idempotency-Key, keeps the answer for it. RS_OK or an error.
 */
static enum rs_err
rs_api_webhooks_answer(struct rs_ctx *ctx, struct rs_txn *t, int status,
    struct json_object *obj)
{
	if (obj == NULL || rs_reply_json(ctx, status, obj) != RS_ANSWERED)
		return RS_ERR_NOMEM;
	if (t->idem != NULL && t->idem->key != NULL)
		return rs_reply_remember(ctx, &t->answer);
	return RS_OK;
}

static enum rs_txn_do rs_api_webhooks_create_change(struct rs_txn *, void *);

/*
 * Inside a change, once it is whole: its audit entry, action on endpoint
 * id with detail (taken; NULL means it could not be made). Never a
 * secret. RS_OK or RS_ERR_NOMEM.
 */
static enum rs_err
rs_api_webhooks_audit(struct rs_txn *t, const char *action, const char *id,
    struct json_object *detail)
{
	if (detail == NULL ||
	    (t->audit.target = rs_arena_strdup(t->arena, id)) == NULL) {
		json_object_put(detail);
		return RS_ERR_NOMEM;
	}
	t->audit.action = action;
	t->audit.detail = detail;
	return RS_OK;
}

/* {"url","events"} of w (events as an array), or NULL. */
static struct json_object *
rs_api_webhooks_detail(const struct rs_store_webhook *w)
{
	struct json_object	*o, *ev = NULL;

	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "url", w->url) != 0 ||
	    rs_json_parse(w->events, strlen(w->events), &ev, NULL, 0) != 0 ||
	    rs_json_add(o, "events", ev) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* {"fields":[the members a patch gave]}, or NULL. */
static struct json_object *
rs_api_webhooks_fields(struct json_object *body)
{
	struct json_object	*o, *a;

	if ((o = json_object_new_object()) == NULL ||
	    (a = json_object_new_array()) == NULL ||
	    rs_json_add(o, "fields", a) != 0) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_foreach(body, name, val) {
		(void)val;
		if (json_object_array_add(a, json_object_new_string(name))) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/*
 * A create's answer is kept under its Idempotency-Key with the secret's
 * value swapped for this mark, so the secret never rests in the clear in
 * the database (only sealed, in the endpoint's row). A replay puts the
 * endpoint's current secret back (rs_api_webhooks_unhide). Secrets hold
 * no quote, and a quote inside any other member is escaped, so the first
 * SECRET_MEMBER in a body is the secret's.
 */
#define SECRET_MEMBER	"\"secret\":\""
#define SECRET_KEPT	"\"secret\":\"(kept sealed)\""

/*
 * body with its secret member's value replaced: by value (NULL: the
 * literal null) when hide is 0, else by the mark. A copy in a, or NULL.
 */
static char *
rs_api_webhooks_swap(struct rs_arena *a, const char *body, int hide,
    const char *value)
{
	const char	*at, *end;

	at = strstr(body, hide ? SECRET_MEMBER : SECRET_KEPT);
	if (at == NULL)
		return NULL;
	if (hide) {
		if ((end = strchr(at + strlen(SECRET_MEMBER), '"')) == NULL)
			return NULL;
		end++;
	} else
		end = at + strlen(SECRET_KEPT);
	if (hide)
		return rs_arena_printf(a, "%.*s%s%s", (int)(at - body), body,
		    SECRET_KEPT, end);
	if (value == NULL)
		return rs_arena_printf(a, "%.*s\"secret\":null%s",
		    (int)(at - body), body, end);
	return rs_arena_printf(a, "%.*s%s%s\"%s", (int)(at - body), body,
	    SECRET_MEMBER, value, end);
}

/*
 * A replayed create: its kept answer gets the endpoint's secret as it is
 * now (rotated since, the new one; deleted since, null).
 */
static enum rs_err
rs_api_webhooks_unhide(struct rs_ctx *ctx, struct rs_idem_answer *ans)
{
	struct rs_store_webhook	 w;
	struct json_object	*kept, *id;
	unsigned char		 key[RS_WHSIG_KEY];
	char			 text[RS_WHSIG_SECRET_MAX];
	const char		*body = NULL;
	enum rs_err		 rc = RS_ERR_INVAL;

	if (ans->status != 201)
		return RS_OK;
	if ((kept = json_tokener_parse(ans->body)) == NULL ||
	    !json_object_object_get_ex(kept, "id", &id))
		goto out;
	rc = rs_store_webhooks_get(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, json_object_get_string(id), &w);
	if (rc == RS_ERR_NOTFOUND)
		body = rs_api_webhooks_swap(&ctx->app->arena, ans->body, 0,
		    NULL);
	else if (rc == RS_OK && (rc = rs_whsig_open(ctx->app->k_webhook,
	    w.secret, sizeof(w.secret), key)) == RS_OK) {
		rs_whsig_secret_text(key, text, sizeof(text));
		body = rs_api_webhooks_swap(&ctx->app->arena, ans->body, 0,
		    text);
	}
	if (rc == RS_ERR_NOTFOUND || rc == RS_OK)
		rc = body != NULL ? RS_OK : RS_ERR_NOMEM;
	if (rc == RS_OK)
		ans->body = body;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	json_object_put(kept);
	return rc;
}

/*
 * Runs change in the write transaction; the change answers (success or
 * a declining problem). Handles the outcomes it did not answer: a
 * replayed key, a reused one, a lock not had, an error.
 */
static enum rs_step
rs_api_webhooks_write(struct rs_ctx *ctx, struct rs_txn *t,
    rs_txn_change change, void *arg)
{
	enum rs_txn_result	 res;
	size_t			 nhdr = ctx->resp.nhdr;

	switch ((res = rs_txn_run(t, change, arg))) {
	case RS_TXN_DONE:
	case RS_TXN_DECLINED:
		return RS_ANSWERED;
	case RS_TXN_REPLAY:
		rs_reply_clear(ctx, nhdr);
		if (change == rs_api_webhooks_create_change &&
		    rs_api_webhooks_unhide(ctx, &t->replay) != RS_OK)
			return RS_FAIL;
		return rs_reply_replay(ctx, &t->replay);
	case RS_TXN_BUSY:
		rs_reply_clear(ctx, nhdr);
		if (t->err != RS_ERR_BUSY || t->idem == NULL ||
		    t->idem->key == NULL)
			return rs_reply_busy(ctx);
		rs_resp_header(&ctx->resp, "Retry-After", "1");
		return rs_reply_problem(ctx, RS_PROB_IDEM_IN_PROGRESS,
		    "another request holds the write lock; it may be one "
		    "with this Idempotency-Key: retry");
	default:
		rs_reply_clear(ctx, nhdr);
		return rs_reply_txn(ctx, res);
	}
}

/* ---- POST /v1/webhooks ------------------------------------------------- */

struct rs_whcreate {
	struct rs_ctx		*ctx;
	struct rs_store_webhook	 w;
	char			 secret[RS_WHSIG_SECRET_MAX]; /* shown once */
};

static enum rs_txn_do
rs_api_webhooks_create_change(struct rs_txn *t, void *arg)
{
	struct rs_whcreate	*c = arg;
	struct rs_ctx		*ctx = c->ctx;

	t->err = rs_store_webhooks_create(t->db, t->org, &c->w, t->now);
	if (t->err == RS_ERR_RANGE) {
		rs_reply_problem(ctx, RS_PROB_WEBHOOK_LIMIT, "an org may have "
		    "at most %d webhook endpoints; delete one first",
		    RS_STORE_WEBHOOKS_MAX);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	if ((t->err = rs_reply_location(ctx, "/v1/webhooks/%s",
	    c->w.id)) != RS_OK ||
	    (t->err = rs_api_webhooks_answer(ctx, t, 201,
	    rs_api_webhooks_json(&c->w, c->secret))) != RS_OK)
		return RS_TXN_FAILED;
	if (t->answer.body != NULL && (t->answer.body =
	    rs_api_webhooks_swap(t->arena, t->answer.body, 1, NULL)) == NULL) {
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	if ((t->err = rs_api_webhooks_audit(t, "webhook.create", c->w.id,
	    rs_api_webhooks_detail(&c->w))) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_webhooks_create(struct rs_ctx *ctx)
{
	static const char *const members[] = {
		"url", "events", "description", NULL,
	};
	struct rs_valid		 v;
	struct rs_whcreate	 c;
	struct rs_idem		 idem;
	struct rs_txn		 t;
	unsigned char		 key[RS_WHSIG_KEY];
	enum rs_step		 step;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	c.w.url = rs_valid_string(&v, ctx->body, "url", 1, 1,
	    RS_NETGUARD_URL_MAX);
	c.w.events = rs_api_webhooks_events(&v, ctx->body, 1);
	rs_api_webhooks_description(&v, ctx->body, &c.w.description);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_api_webhooks_url(ctx, c.w.url)) != RS_NEXT ||
	    (step = rs_reply_idem(ctx, &idem)) != RS_NEXT)
		return step;
	rs_whsig_secret_new(c.secret, sizeof(c.secret), key);
	rs_whsig_seal(ctx->app->k_webhook, key, c.w.secret);
	sodium_memzero(key, sizeof(key));
	rs_reply_txn_init(ctx, &t);
	t.idem = &idem;
	step = rs_api_webhooks_write(ctx, &t, rs_api_webhooks_create_change,
	    &c);
	sodium_memzero(c.secret, sizeof(c.secret));
	return step;
}

/* ---- GET /v1/webhooks -------------------------------------------------- */

/* An endpoint of a page (rs_paging_page): never its secret. */
static struct json_object *
rs_api_webhooks_show(const void *row)
{
	return rs_api_webhooks_json(row, NULL);
}

/* The place is the last row's seq: rows only ever go after it. */
static void
rs_api_webhooks_place(const void *row, int64_t *pos, int64_t *walk)
{
	*pos = ((const struct rs_store_webhook *)row)->seq;
	*walk = 0;
}

enum rs_step
rs_api_webhooks_list(struct rs_ctx *ctx)
{
	struct rs_valid		 v;
	struct rs_cursor	 cur;
	struct rs_store_webhook	*rows;
	struct json_object	*o;
	size_t			 limit, n;
	enum rs_step		 step;
	int			 has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_paging_cursor(ctx, "webhooks", &cur, &has)) != RS_NEXT)
		return step;
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL ||
	    rs_store_webhooks_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, cur.pos, limit + 1, rows, &n) != RS_OK)
		return RS_FAIL;
	if ((o = rs_paging_page(ctx, "webhooks", rows, sizeof(*rows), n, limit,
	    rs_api_webhooks_show, rs_api_webhooks_place)) == NULL)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, o);
}

/* ---- GET /v1/webhooks/:id ---------------------------------------------- */

enum rs_step
rs_api_webhooks_get(struct rs_ctx *ctx)
{
	struct rs_store_webhook	 w;
	const char		*id = ctx->req.params[0];
	enum rs_err		 rc;

	rc = rs_store_webhooks_get(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, id, &w);
	if (rc == RS_ERR_NOTFOUND)
		return rs_api_webhooks_none(ctx, id);
	if (rc != RS_OK)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, rs_api_webhooks_json(&w, NULL));
}

/* ---- PATCH /v1/webhooks/:id -------------------------------------------- */

struct rs_whpatch {
	struct rs_ctx		*ctx;
	const char		*id;
	const char		*url;		/* NULL: unchanged */
	const char		*events;	/* NULL: unchanged */
	int			 has_desc;
	const char		*description;
	int			 enabled;	/* -1: unchanged */
};

static enum rs_txn_do
rs_api_webhooks_patch_change(struct rs_txn *t, void *arg)
{
	struct rs_whpatch	*p = arg;
	struct rs_store_webhook	 w;

	t->err = rs_store_webhooks_get(t->db, t->arena, t->org, p->id, &w);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_api_webhooks_none(p->ctx, p->id);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	if (p->url != NULL)
		w.url = p->url;
	if (p->events != NULL)
		w.events = p->events;
	if (p->has_desc)
		w.description = p->description;
	if (p->enabled >= 0)
		w.enabled = p->enabled;
	/* An admin's disabling has no reason to give; the worker's has. */
	w.disabled_reason = NULL;
	if ((t->err = rs_store_webhooks_update(t->db, t->arena, t->org, &w,
	    t->now)) != RS_OK ||
	    (t->err = rs_api_webhooks_answer(p->ctx, t, 200,
	    rs_api_webhooks_json(&w, NULL))) != RS_OK ||
	    (t->err = rs_api_webhooks_audit(t, "webhook.update", w.id,
	    rs_api_webhooks_fields(p->ctx->body))) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_webhooks_patch(struct rs_ctx *ctx)
{
	static const char *const members[] = {
		"url", "events", "description", "status", NULL,
	};
	struct rs_valid		 v;
	struct rs_whpatch	 p;
	struct rs_txn		 t;
	const char		*status;
	enum rs_step		 step;

	memset(&p, 0, sizeof(p));
	p.ctx = ctx;
	p.id = ctx->req.params[0];
	p.enabled = -1;
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	p.url = rs_valid_string(&v, ctx->body, "url", 0, 1,
	    RS_NETGUARD_URL_MAX);
	p.events = rs_api_webhooks_events(&v, ctx->body, 0);
	p.has_desc = rs_api_webhooks_description(&v, ctx->body,
	    &p.description);
	if ((status = rs_valid_string(&v, ctx->body, "status", 0, 1,
	    RS_MAX_ROLE)) != NULL) {
		if (strcmp(status, "enabled") == 0)
			p.enabled = 1;
		else if (strcmp(status, "disabled") == 0)
			p.enabled = 0;
		else
			rs_valid_add(&v, "status", "must be enabled or "
			    "disabled");
	}
	if (v.n == 0 && json_object_object_length(ctx->body) == 0)
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST, "give "
		    "at least one of url, events, description, status");
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if (p.url != NULL && (step = rs_api_webhooks_url(ctx, p.url)) !=
	    RS_NEXT)
		return step;
	rs_reply_txn_init(ctx, &t);
	return rs_api_webhooks_write(ctx, &t, rs_api_webhooks_patch_change,
	    &p);
}

/* ---- DELETE /v1/webhooks/:id ------------------------------------------- */

struct rs_whdel {
	struct rs_ctx		*ctx;
	const char		*id;
};

/* The endpoint and, in the same transaction, every job it had. */
static enum rs_txn_do
rs_api_webhooks_delete_change(struct rs_txn *t, void *arg)
{
	struct rs_whdel		*d = arg;
	struct rs_store_webhook	 w;
	struct json_object	*o;

	t->err = rs_store_webhooks_delete(t->db, t->arena, t->org, d->id, &w);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_api_webhooks_none(d->ctx, d->id);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK ||
	    (t->err = rs_store_jobs_drop_webhook(t->db, w.seq)) != RS_OK)
		return RS_TXN_FAILED;
	if ((o = json_object_new_object()) != NULL &&
	    rs_json_add_str(o, "url", w.url) != 0) {
		json_object_put(o);
		o = NULL;
	}
	if ((t->err = rs_api_webhooks_audit(t, "webhook.delete", w.id,
	    o)) != RS_OK)
		return RS_TXN_FAILED;
	/* 204: no body, no Content-Type. */
	d->ctx->resp.status = 204;
	d->ctx->resp.ctype = NULL;
	d->ctx->resp.body = NULL;
	d->ctx->resp.bodylen = 0;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_webhooks_delete(struct rs_ctx *ctx)
{
	struct rs_whdel		 d;
	struct rs_txn		 t;

	d.ctx = ctx;
	d.id = ctx->req.params[0];
	rs_reply_txn_init(ctx, &t);
	return rs_api_webhooks_write(ctx, &t, rs_api_webhooks_delete_change,
	    &d);
}

/* ---- POST /v1/webhooks/:id/rotate-secret ------------------------------- */

struct rs_whrotate {
	struct rs_ctx		*ctx;
	const char		*id;
	char			 secret[RS_WHSIG_SECRET_MAX]; /* shown once */
	unsigned char		 sealed[RS_WHSIG_SEALED];
};

static enum rs_txn_do
rs_api_webhooks_rotate_change(struct rs_txn *t, void *arg)
{
	struct rs_whrotate	*r = arg;
	struct rs_store_webhook	 w;

	t->err = rs_store_webhooks_set_secret(t->db, t->org, r->id, r->sealed,
	    t->now);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_api_webhooks_none(r->ctx, r->id);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK ||
	    (t->err = rs_store_webhooks_get(t->db, t->arena, t->org, r->id,
	    &w)) != RS_OK ||
	    (t->err = rs_api_webhooks_answer(r->ctx, t, 200,
	    rs_api_webhooks_json(&w, r->secret))) != RS_OK ||
	    (t->err = rs_api_webhooks_audit(t, "webhook.rotate_secret", w.id,
	    json_object_new_object())) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_webhooks_rotate(struct rs_ctx *ctx)
{
	struct rs_whrotate	 r;
	struct rs_txn		 t;
	unsigned char		 key[RS_WHSIG_KEY];
	enum rs_step		 step;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.id = ctx->req.params[0];
	rs_whsig_secret_new(r.secret, sizeof(r.secret), key);
	rs_whsig_seal(ctx->app->k_webhook, key, r.sealed);
	sodium_memzero(key, sizeof(key));
	rs_reply_txn_init(ctx, &t);
	step = rs_api_webhooks_write(ctx, &t, rs_api_webhooks_rotate_change,
	    &r);
	sodium_memzero(r.secret, sizeof(r.secret));
	return step;
}

/* ---- POST /v1/webhooks/:id/replay -------------------------------------- */

struct rs_whreplay {
	struct rs_ctx		*ctx;
	const char		*id;
	int64_t			 since, until;
};

static enum rs_txn_do
rs_api_webhooks_replay_change(struct rs_txn *t, void *arg)
{
	struct rs_whreplay	*r = arg;
	struct rs_store_webhook	 w;
	struct json_object	*o;
	size_t			 n = 0;

	t->err = rs_store_webhooks_get(t->db, t->arena, t->org, r->id, &w);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_api_webhooks_none(r->ctx, r->id);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	t->err = rs_store_jobs_replay(t->db, t->org, w.seq, w.events,
	    r->since, r->until, t->now, RS_MAX_REPLAY_EVENTS, &n);
	if (t->err == RS_ERR_RANGE) {
		rs_reply_problem(r->ctx, RS_PROB_INVALID_REQUEST, "the window "
		    "holds more than %d matching events: narrow the window",
		    RS_MAX_REPLAY_EVENTS);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_int(o, "jobs", (int64_t)n) != 0) {
		json_object_put(o);
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	if ((t->err = rs_api_webhooks_answer(r->ctx, t, 202, o)) != RS_OK)
		return RS_TXN_FAILED;
	if ((o = json_object_new_object()) != NULL &&
	    (rs_json_add_time(o, "since", r->since) != 0 ||
	    rs_json_add_time(o, "until", r->until) != 0 ||
	    rs_json_add_int(o, "jobs", (int64_t)n) != 0)) {
		json_object_put(o);
		o = NULL;
	}
	if ((t->err = rs_api_webhooks_audit(t, "webhook.replay", w.id,
	    o)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/* An RFC 3339 member of the body into *ms; errors to v. 1 when given. */
static int
rs_api_webhooks_time(struct rs_valid *v, struct json_object *body,
    const char *name, int required, int64_t *ms)
{
	const char	*s;

	if ((s = rs_valid_string(v, body, name, required, 1, 64)) == NULL)
		return 0;
	if (rs_clock_parse(s, ms) != 0) {
		rs_valid_add(v, name, "must be an RFC 3339 time, as "
		    "2026-11-26T17:45:21.123Z");
		return 0;
	}
	return 1;
}

enum rs_step
rs_api_webhooks_replay(struct rs_ctx *ctx)
{
	static const char *const members[] = { "since", "until", NULL };
	struct rs_valid		 v;
	struct rs_whreplay	 r;
	struct rs_idem		 idem;
	struct rs_txn		 t;
	enum rs_step		 step;
	int			 since, until;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.id = ctx->req.params[0];
	rs_reply_txn_init(ctx, &t);
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	since = rs_api_webhooks_time(&v, ctx->body, "since", 1, &r.since);
	until = rs_api_webhooks_time(&v, ctx->body, "until", 0, &r.until);
	if (!until)
		r.until = t.now;
	if (since && (until || !json_object_object_get_ex(ctx->body,
	    "until", NULL)) && r.since >= r.until)
		rs_valid_add(&v, until ? "until" : "since", "the window is "
		    "empty: since must be before until (by default, now)");
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_reply_idem(ctx, &idem)) != RS_NEXT)
		return step;
	t.idem = &idem;
	return rs_api_webhooks_write(ctx, &t, rs_api_webhooks_replay_change,
	    &r);
}
