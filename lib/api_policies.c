#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "clock.h"
#include "cursor.h"
#include "json.h"
#include "log.h"
#include "paging.h"
#include "policy.h"
#include "reply.h"
#include "store_policies.h"
#include "txn.h"
#include "valid.h"
#include "api_policies.h"

#define RS_POLICY_DEFAULT_QUEUE		"default"
#define RS_POLICY_DEFAULT_ORDER		100
#define RS_POLICY_EVAL_CHUNK		64	/* policies read at a time */

const char *const rs_api_policies_list_query[] = {
	"limit", "cursor", NULL,
};

/* p as the API shows it (caller owns it), or NULL. */
static struct json_object *
rs_api_policies_json(const struct rs_store_policy *p)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (rs_json_add_str(o, "id", p->id) != 0 ||
	    rs_json_add_str(o, "name", p->name) != 0 ||
	    rs_json_add_str(o, "when", p->when) != 0 ||
	    rs_json_add_str(o, "then", p->then) != 0 ||
	    rs_json_add_int(o, "order", p->order) != 0 ||
	    rs_json_add_bool(o, "enabled", p->enabled) != 0 ||
	    rs_json_add_time(o, "created_at", p->created_at) != 0 ||
	    rs_json_add_time(o, "updated_at", p->updated_at) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* 1 when s is a policy name: [a-z0-9_]{1,64}. */
static int
rs_api_policies_name_valid(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n >= 1 && n <= RS_STORE_POLICY_NAME_MAX && s[n] == '\0';
}

/* ---- GET /v1/policies -------------------------------------------------- */

/* A policy of a page (rs_paging_page). */
static struct json_object *
rs_api_policies_show(const void *row)
{
	return rs_api_policies_json(row);
}

/*
 * The cursor holds the last row's place in the keyset (order, name): its
 * order, and its row (seq), whose name the next page reads back; a row
 * is never removed (deleting keeps a tombstone), so the place holds.
 */
static void
rs_api_policies_place(const void *row, int64_t *pos, int64_t *walk)
{
	const struct rs_store_policy	*p = row;

	*pos = p->order;
	*walk = p->seq;
}

enum rs_step
rs_api_policies_list(struct rs_ctx *ctx)
{
	struct rs_valid		 v;
	struct rs_cursor	 c;
	struct rs_store_policy	*rows;
	struct json_object	*o;
	size_t			 limit, n;
	enum rs_step		 step;
	int			 has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_paging_cursor(ctx, "policies", &c, &has)) != RS_NEXT)
		return step;
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL ||
	    rs_store_policies_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, 0, c.pos, has ? c.walk : 0, limit + 1, rows,
	    &n) != RS_OK)
		return RS_FAIL;
	if ((o = rs_paging_page(ctx, "policies", rows, sizeof(*rows), n,
	    limit, rs_api_policies_show, rs_api_policies_place)) == NULL)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, o);
}

/* ---- GET /v1/policies/:name -------------------------------------------- */

enum rs_step
rs_api_policies_get(struct rs_ctx *ctx)
{
	struct rs_store_policy	 p;
	const char		*name = ctx->req.params[0];
	enum rs_err		 rc;

	rc = RS_ERR_NOTFOUND;
	if (rs_api_policies_name_valid(name))
		rc = rs_store_policies_get(ctx->app->db, &ctx->app->arena,
		    ctx->who.org_id, name, &p);
	if (rc == RS_ERR_NOTFOUND)
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no policy %.64s", name);
	if (rc != RS_OK)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, rs_api_policies_json(&p));
}

/* ---- POST /v1/policies ------------------------------------------------- */

struct rs_polput {
	struct rs_store_policy	 p;		/* asked for, then stored */
	int			 created;
	struct json_object	*shown;		/* the policy, after */
};

/*
 * Checks the texts with the policy language: RS_NEXT when both parse,
 * RS_ANSWERED with 400 invalid_policy naming each bad member, its
 * character position and what was expected, or RS_FAIL.
 */
static enum rs_step
rs_api_policies_check(struct rs_ctx *ctx, const char *when, const char *then)
{
	struct rs_policy_error	 e[2];
	struct rs_policy_when	*w = NULL;
	struct rs_policy_then	 th;
	struct json_object	*prob;
	const char		*detail, *msg;
	size_t			 n = 0, i;
	enum rs_err		 rc;

	memset(e, 0, sizeof(e));
	if (rs_valid_chars(when) > RS_MAX_POLICY_TEXT) {
		e[n].member = "when";
		e[n].pos = RS_MAX_POLICY_TEXT + 1;
		snprintf(e[n++].msg, sizeof(e[0].msg), "the text is longer "
		    "than %d characters", RS_MAX_POLICY_TEXT);
	} else if ((rc = rs_policy_when_compile(when, &w, &e[n])) ==
	    RS_ERR_INVAL) {
		e[n++].member = "when";
	} else if (rc != RS_OK)
		return RS_FAIL;
	rs_policy_when_free(w);
	if (rs_valid_chars(then) > RS_MAX_POLICY_TEXT) {
		e[n].member = "then";
		e[n].pos = RS_MAX_POLICY_TEXT + 1;
		snprintf(e[n++].msg, sizeof(e[0].msg), "the text is longer "
		    "than %d characters", RS_MAX_POLICY_TEXT);
	} else if ((rc = rs_policy_then_parse(then, &th, &e[n])) ==
	    RS_ERR_INVAL) {
		e[n++].member = "then";
	} else if (rc != RS_OK)
		return RS_FAIL;
	if (n == 0)
		return RS_NEXT;
	detail = NULL;
	for (i = 0; i < n; i++)
		detail = rs_arena_printf(&ctx->app->arena, "%s%s%s: "
		    "position %d: %s", detail ? detail : "", detail ? "; " : "",
		    e[i].member, e[i].pos, e[i].msg);
	if (detail == NULL || (prob = rs_reply_problem_new(ctx,
	    RS_PROB_INVALID_POLICY, detail)) == NULL)
		return RS_FAIL;
	for (i = 0; i < n; i++)
		if ((msg = rs_arena_printf(&ctx->app->arena, "position %d: %s",
		    e[i].pos, e[i].msg)) == NULL ||
		    rs_problem_field(prob, e[i].member, msg) != 0) {
			json_object_put(prob);
			return RS_FAIL;
		}
	return rs_reply_problem_obj(ctx, RS_PROB_INVALID_POLICY, prob);
}

/*
 * The entry of a change of policy p: action, target its id, detail
 * {"name"}. RS_OK or RS_ERR_NOMEM.
 */
static enum rs_err
rs_api_policies_audit(struct rs_txn *t, const char *action,
    const struct rs_store_policy *p)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "name", p->name) != 0 ||
	    (t->audit.target = rs_arena_strdup(t->arena, p->id)) == NULL) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	t->audit.action = action;
	t->audit.detail = o;
	return RS_OK;
}

/* Inside the transaction: stores the policy, with its event. */
static enum rs_txn_do
rs_api_policies_put_change(struct rs_txn *t, void *arg)
{
	struct rs_polput	*pp = arg;

	if ((t->err = rs_store_policies_put(t->db, t->arena, t->org, &pp->p,
	    t->now, &pp->created)) != RS_OK ||
	    (pp->shown = rs_api_policies_json(&pp->p)) == NULL ||
	    (t->err = rs_txn_event(t, "policy.updated", NULL,
	    pp->shown)) != RS_OK ||
	    (t->err = rs_api_policies_audit(t, "policy.put",
	    &pp->p)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/* Reads order and enabled (optional) from the body into p, errors in v. */
static void
rs_api_policies_numbers(struct rs_valid *v, struct json_object *body,
    struct rs_store_policy *p)
{
	struct json_object	*m;
	int64_t			 n;

	p->order = RS_POLICY_DEFAULT_ORDER;
	p->enabled = 1;
	if (json_object_object_get_ex(body, "order", &m)) {
		n = json_object_get_int64(m);
		if (!json_object_is_type(m, json_type_int) || n < 0 ||
		    n > RS_STORE_POLICY_ORDER_MAX)
			rs_valid_add(v, "order", "must be a whole number "
			    "from 0 to %d", RS_STORE_POLICY_ORDER_MAX);
		else
			p->order = n;
	}
	if (json_object_object_get_ex(body, "enabled", &m)) {
		if (!json_object_is_type(m, json_type_boolean))
			rs_valid_add(v, "enabled", "must be true or false");
		else
			p->enabled = json_object_get_boolean(m);
	}
}

enum rs_step
rs_api_policies_put(struct rs_ctx *ctx)
{
	static const char *const members[] = {
		"name", "when", "then", "order", "enabled", NULL,
	};
	struct rs_valid		 v;
	struct rs_polput	 pp;
	struct rs_txn		 t;
	const char		*name;
	enum rs_txn_result	 res;
	enum rs_step		 step;

	memset(&pp, 0, sizeof(pp));
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	name = rs_valid_string(&v, ctx->body, "name", 1, 1,
	    RS_STORE_POLICY_NAME_MAX);
	if (name != NULL && !rs_api_policies_name_valid(name))
		rs_valid_add(&v, "name", "must be 1 to %d of a-z, 0-9 and _",
		    RS_STORE_POLICY_NAME_MAX);
	/* Bytes are bounded by the body; the texts' bound is in characters. */
	pp.p.when = rs_valid_string(&v, ctx->body, "when", 1, 0, RS_MAX_BODY);
	pp.p.then = rs_valid_string(&v, ctx->body, "then", 1, 0, RS_MAX_BODY);
	rs_api_policies_numbers(&v, ctx->body, &pp.p);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	memcpy(pp.p.name, name, strlen(name) + 1);	/* 1..64 bytes */
	if ((step = rs_api_policies_check(ctx, pp.p.when, pp.p.then)) !=
	    RS_NEXT)
		return step;
	rs_reply_txn_init(ctx, &t);
	if ((res = rs_txn_run(&t, rs_api_policies_put_change, &pp)) !=
	    RS_TXN_DONE)
		step = rs_reply_txn(ctx, res);
	else if (pp.created && rs_reply_location(ctx, "/v1/policies/%s",
	    pp.p.name) != RS_OK)
		step = RS_FAIL;
	else
		step = rs_reply_json(ctx, pp.created ? 201 : 200,
		    json_object_get(pp.shown));
	json_object_put(pp.shown);
	return step;
}

/* ---- DELETE /v1/policies/:name ----------------------------------------- */

struct rs_poldel {
	struct rs_ctx		*ctx;
	const char		*name;
	struct json_object	*shown;		/* the policy, before */
};

static enum rs_txn_do
rs_api_policies_delete_change(struct rs_txn *t, void *arg)
{
	struct rs_poldel	*pd = arg;
	struct rs_store_policy	 p;

	t->err = RS_ERR_NOTFOUND;
	if (rs_api_policies_name_valid(pd->name))
		t->err = rs_store_policies_delete(t->db, t->arena, t->org,
		    pd->name, t->now, &p);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_reply_problem(pd->ctx, RS_PROB_NOT_FOUND,
		    "no policy %.64s", pd->name);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK ||
	    (pd->shown = rs_api_policies_json(&p)) == NULL ||
	    (t->err = rs_txn_event(t, "policy.deleted", NULL,
	    pd->shown)) != RS_OK ||
	    (t->err = rs_api_policies_audit(t, "policy.delete",
	    &p)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_policies_delete(struct rs_ctx *ctx)
{
	struct rs_poldel	 pd;
	struct rs_txn		 t;
	enum rs_txn_result	 res;
	enum rs_step		 step = RS_ANSWERED;

	memset(&pd, 0, sizeof(pd));
	pd.ctx = ctx;
	pd.name = ctx->req.params[0];
	rs_reply_txn_init(ctx, &t);
	if ((res = rs_txn_run(&t, rs_api_policies_delete_change, &pd)) !=
	    RS_TXN_DONE)
		step = rs_reply_txn(ctx, res);
	else {
		/* 204: no body, no Content-Type. */
		ctx->resp.status = 204;
		ctx->resp.ctype = NULL;
		ctx->resp.body = NULL;
		ctx->resp.bodylen = 0;
	}
	json_object_put(pd.shown);
	return step;
}

/* ---- POST /v1/policies/evaluate ---------------------------------------- */

/*
 * The string member of the record object rec, 1..200 characters, errors
 * named "record.<member>"; NULL when absent (an error when required),
 * null (site only) or wrong.
 */
static const char *
rs_api_policies_text(struct rs_valid *v, struct json_object *rec,
    const char *member, int required)
{
	struct json_object	*m;
	const char		*s, *field;
	size_t			 n;

	if ((field = rs_arena_printf(v->arena, "record.%s", member)) == NULL)
		field = "record";
	if (!json_object_object_get_ex(rec, member, &m)) {
		if (required)
			rs_valid_add(v, field, "is required");
		return NULL;
	}
	if (m == NULL && strcmp(member, "site") == 0)
		return NULL;	/* a record without a site */
	if (!json_object_is_type(m, json_type_string) ||
	    strlen(s = json_object_get_string(m)) !=
	    (size_t)json_object_get_string_len(m) ||
	    (n = rs_valid_chars(s)) < 1 || n > RS_MAX_FIELD_CHARS) {
		rs_valid_add(v, field, "must be a string of 1 to %d "
		    "characters", RS_MAX_FIELD_CHARS);
		return NULL;
	}
	return s;
}

/*
 * Reads the body's record into r as a record write would see it: title
 * and type required, site optional, status default queued, data default
 * {} and size its compact length (as records count it). Errors go to v.
 */
static void
rs_api_policies_record(struct rs_valid *v, struct json_object *body,
    struct rs_policy_record *r)
{
	static const char *const members[] = {
		"title", "type", "site", "status", "data", NULL,
	};
	static const char *const statuses[] = {
		"queued", "synced", "conflict", "failed", NULL,
	};
	struct json_object	*rec, *d;
	const char		*s, *const *st;
	size_t			 i, len;

	memset(r, 0, sizeof(*r));
	r->status = "queued";
	r->size = 2;		/* {} */
	if (!json_object_object_get_ex(body, "record", &rec)) {
		rs_valid_add(v, "record", "is required");
		return;
	}
	if (!json_object_is_type(rec, json_type_object)) {
		rs_valid_add(v, "record", "must be an object");
		return;
	}
	json_object_object_foreach(rec, key, val) {
		(void)val;
		for (i = 0; members[i] != NULL; i++)
			if (strcmp(key, members[i]) == 0)
				break;
		if (members[i] == NULL)
			rs_valid_add(v, "record", "%.64s is not a member of "
			    "a record", key);
	}
	r->title = rs_api_policies_text(v, rec, "title", 1);
	r->type = rs_api_policies_text(v, rec, "type", 1);
	r->site = rs_api_policies_text(v, rec, "site", 0);
	if ((s = rs_api_policies_text(v, rec, "status", 0)) != NULL) {
		for (st = statuses; *st != NULL && strcmp(*st, s) != 0; st++)
			continue;
		if (*st == NULL)
			rs_valid_add(v, "record.status", "must be one of "
			    "queued, synced, conflict, failed");
		else
			r->status = s;
	}
	if (!json_object_object_get_ex(rec, "data", &d))
		return;
	if (!json_object_is_type(d, json_type_object)) {
		rs_valid_add(v, "record.data", "must be a JSON object");
		return;
	}
	if ((s = rs_json_compact(d)) == NULL)
		return;
	if ((len = strlen(s)) > RS_MAX_RECORD_DATA) {
		rs_valid_add(v, "record.data", "is %zu bytes as compact "
		    "JSON; the limit is %d", len, RS_MAX_RECORD_DATA);
		return;
	}
	r->data = d;
	r->size = (int64_t)len;
}

struct rs_poleval {
	struct rs_store_policy	 match;		/* when found */
	int			 found;
	struct rs_policy_then	 then;
	struct json_object	*tried;		/* names, in order */
};

/*
 * Tries the org's enabled policies on r in evaluation order until one
 * matches. A stored text the language no longer parses is skipped (and
 * logged), never an error for the caller. RS_OK, or an error.
 */
static enum rs_err
rs_api_policies_run(struct rs_ctx *ctx, const struct rs_policy_record *r,
    struct rs_poleval *ev)
{
	struct rs_store_policy	*rows;
	struct rs_policy_when	*w;
	struct rs_policy_error	 e;
	struct json_object	*name;
	int64_t			 after_order = 0, after_seq = 0;
	size_t			 n, i;
	enum rs_err		 rc;
	int			 hit;

	if ((rows = rs_arena_calloc(&ctx->app->arena, RS_POLICY_EVAL_CHUNK,
	    sizeof(*rows))) == NULL)
		return RS_ERR_NOMEM;
	do {
		if ((rc = rs_store_policies_list(ctx->app->db,
		    &ctx->app->arena, ctx->who.org_id, 1, after_order,
		    after_seq, RS_POLICY_EVAL_CHUNK, rows, &n)) != RS_OK)
			return rc;
		for (i = 0; i < n; i++) {
			if ((name = json_object_new_string(
			    rows[i].name)) == NULL ||
			    json_object_array_add(ev->tried, name) != 0) {
				json_object_put(name);
				return RS_ERR_NOMEM;
			}
			if ((rc = rs_policy_when_compile(rows[i].when, &w,
			    &e)) == RS_ERR_NOMEM)
				return rc;
			if (rc != RS_OK) {
				rs_log_warn("policy %s of %s: when: position "
				    "%d: %s", rows[i].name, ctx->who.org_id,
				    e.pos, e.msg);
				continue;
			}
			hit = rs_policy_when_match(w, r);
			rs_policy_when_free(w);
			if (!hit)
				continue;
			if (rs_policy_then_parse(rows[i].then, &ev->then,
			    &e) != RS_OK) {
				rs_log_warn("policy %s of %s: then: position "
				    "%d: %s", rows[i].name, ctx->who.org_id,
				    e.pos, e.msg);
				continue;
			}
			ev->match = rows[i];
			ev->found = 1;
			return RS_OK;
		}
		if (n > 0) {
			after_order = rows[n - 1].order;
			after_seq = rows[n - 1].seq;
		}
	} while (n == RS_POLICY_EVAL_CHUNK);
	return RS_OK;
}

/* The evaluate answer for ev (its tried array is taken). */
static enum rs_step
rs_api_policies_evaluated(struct rs_ctx *ctx, struct rs_poleval *ev)
{
	struct json_object	*o;
	const char		*queue = RS_POLICY_DEFAULT_QUEUE;
	int64_t			 priority = RS_POLICY_DEFAULT_PRIORITY;
	int64_t			 delay = 0;

	if (ev->found && ev->then.queue[0] != '\0')
		queue = ev->then.queue;
	if (ev->found && ev->then.priority >= 0)
		priority = ev->then.priority;
	if (ev->found && ev->then.delay_s >= 0)
		delay = ev->then.delay_s;
	if ((o = json_object_new_object()) == NULL)
		return RS_FAIL;
	if ((ev->found ? rs_json_add(o, "policy",
	    rs_api_policies_json(&ev->match)) :
	    rs_json_add_null(o, "policy")) != 0 ||
	    rs_json_add_str(o, "queue", queue) != 0 ||
	    rs_json_add_int(o, "priority", priority) != 0 ||
	    rs_json_add_int(o, "delay", delay) != 0 ||
	    rs_json_add(o, "tried", json_object_get(ev->tried)) != 0) {
		json_object_put(o);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, 200, o);
}

enum rs_step
rs_api_policies_evaluate(struct rs_ctx *ctx)
{
	static const char *const members[] = { "record", NULL };
	struct rs_valid		 v;
	struct rs_policy_record	 r;
	struct rs_poleval	 ev;
	enum rs_step		 step = RS_FAIL;

	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	rs_api_policies_record(&v, ctx->body, &r);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	memset(&ev, 0, sizeof(ev));
	if ((ev.tried = json_object_new_array()) == NULL)
		return RS_FAIL;
	if (rs_api_policies_run(ctx, &r, &ev) == RS_OK)
		step = rs_api_policies_evaluated(ctx, &ev);
	json_object_put(ev.tried);
	return step;
}
