#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "limits.h"
#include "db.h"
#include "gate.h"
#include "json.h"
#include "rate.h"
#include "reply.h"
#include "router.h"
#include "valid.h"
#include "batch.h"

/*
 * The headers an item may carry, and the FastCGI parameter each becomes
 * (NULL: checked, not passed on; the body is JSON already).
 */
static const struct {
	const char	*name;
	const char	*param;
} rs_batch_in[] = {
	{ "Idempotency-Key", "HTTP_IDEMPOTENCY_KEY" },
	{ "If-Match", "HTTP_IF_MATCH" },
	{ "Prefer", "HTTP_PREFER" },
	{ "Content-Type", NULL },
};

/* The headers of an item's answer that its entry keeps. */
static const char *const rs_batch_out[] = {
	"Location", "ETag", "Idempotent-Replayed", "Retry-After",
	"Preference-Applied",
};

#define RS_BATCH_NIN	(sizeof(rs_batch_in) / sizeof(rs_batch_in[0]))
#define RS_BATCH_NOUT	(sizeof(rs_batch_out) / sizeof(rs_batch_out[0]))
/* An item's parameters: method, URI, the address pair, its headers. */
#define RS_BATCH_ENV	(4 + RS_BATCH_NIN)

struct rs_batch_item {
	struct rs_ctx		 ctx;	/* the item as a request of its own */
	struct json_object	*body;	/* borrowed from the envelope */
};

struct rs_batch {
	struct rs_ctx		*ctx;		/* the batch's request */
	struct rs_arena		*arena;
	struct rs_batch_item	*item;
	size_t			 n;
	int			 atomic;
	size_t			 nhdr;		/* headers before the answer */
	struct json_object	*responses;	/* the items' answers */
	size_t			 bytes;		/* their bodies' bytes */
	size_t			 failed;	/* items answered >= 400 */
	struct rs_idem		 idem;
	struct rs_txn		 t;
};

/* ---- the envelope ---------------------------------------------------- */

/* The name of member name of item i in an error ("requests[3].path"). */
static const char *
rs_batch_field(struct rs_batch *b, size_t i, const char *name)
{
	const char	*f;

	f = rs_arena_printf(b->arena, "requests[%zu]%s%s", i,
	    *name != '\0' ? "." : "", name);
	return f != NULL ? f : "requests";
}

/* Appends "NAME=value" to env (n entries so far, bounded by the caller). */
static enum rs_err
rs_batch_env(struct rs_batch *b, char **env, size_t *n, const char *name,
    const char *value)
{
	if (value == NULL)
		return RS_OK;
	if ((env[*n] = rs_arena_cat(b->arena, name, "=", value,
	    NULL)) == NULL)
		return RS_ERR_NOMEM;
	(*n)++;
	return RS_OK;
}

/*
 * The headers member of item i into env, each checked: a name of
 * rs_batch_in (any case), a string value. RS_OK (errors in v) or
 * RS_ERR_NOMEM.
 */
static enum rs_err
rs_batch_headers(struct rs_batch *b, struct rs_valid *v, size_t i,
    struct json_object *h, char **env, size_t *n)
{
	const char	*field = rs_batch_field(b, i, "headers"), *s;
	size_t		 k;
	unsigned int	 seen = 0;
	enum rs_err	 rc;

	if (!json_object_is_type(h, json_type_object)) {
		rs_valid_add(v, field, "must be an object of header names "
		    "and string values");
		return RS_OK;
	}
	json_object_object_foreach(h, name, val) {
		for (k = 0; k < RS_BATCH_NIN; k++)
			if (strcasecmp(name, rs_batch_in[k].name) == 0)
				break;
		if (k == RS_BATCH_NIN) {
			rs_valid_add(v, field, "%.64s is not a header a batch "
			    "item may carry (Idempotency-Key, If-Match, "
			    "Prefer, Content-Type)", name);
			continue;
		}
		if (seen & (1U << k)) {
			rs_valid_add(v, field, "%s is given twice",
			    rs_batch_in[k].name);
			continue;
		}
		seen |= 1U << k;
		if (!json_object_is_type(val, json_type_string) ||
		    strlen(s = json_object_get_string(val)) > RS_MAX_HEADER) {
			rs_valid_add(v, field, "%s must be a string of at most "
			    "%d bytes", rs_batch_in[k].name, RS_MAX_HEADER);
			continue;
		}
		if (rs_batch_in[k].param == NULL) {
			if (!rs_http_json_type(s))
				rs_valid_add(v, field, "Content-Type must be "
				    "application/json");
			continue;
		}
		if ((rc = rs_batch_env(b, env, n, rs_batch_in[k].param,
		    s)) != RS_OK)
			return rc;
	}
	return RS_OK;
}

/* Member name of o when it is a string, else NULL. */
static const char *
rs_batch_string(struct json_object *o, const char *name)
{
	struct json_object	*m;

	if (!json_object_object_get_ex(o, name, &m) ||
	    !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

/*
 * Item i's method and path: the method, or NULL (and an error in v)
 * when either is missing or not one an item may have.
 */
static const char *
rs_batch_line(struct rs_batch *b, struct rs_valid *v, size_t i,
    struct json_object *o, const char **path)
{
	static const char *const methods[] = { "GET", "POST", "PATCH",
	    "DELETE" };
	const char	*m = rs_batch_string(o, "method");
	size_t		 k;

	*path = rs_batch_string(o, "path");
	if (*path == NULL || **path != '/' || strlen(*path) > RS_MAX_URI) {
		rs_valid_add(v, rs_batch_field(b, i, "path"), "must be a path "
		    "of at most %d bytes under the API's root, such as "
		    "/v1/records", RS_MAX_URI);
		*path = NULL;
	}
	for (k = 0; m != NULL && k < sizeof(methods) / sizeof(methods[0]);
	    k++)
		if (strcmp(m, methods[k]) == 0)
			return *path != NULL ? m : NULL;
	rs_valid_add(v, rs_batch_field(b, i, "method"), "must be GET, POST, "
	    "PATCH or DELETE");
	return NULL;
}

/*
 * Item i's request as the web server would have handed it over: parsed,
 * mounted, routed to a route a batch may hold. RS_OK (errors in v) or
 * RS_ERR_NOMEM.
 */
static enum rs_err
rs_batch_route(struct rs_batch *b, struct rs_valid *v, size_t i,
    char **env)
{
	struct rs_ctx		*c = &b->item[i].ctx;
	const char		*mount = b->ctx->req.mount;
	struct rs_http_fail	 fail;
	char			 allow[64];

	if (rs_http_parse(&c->req, b->arena, env, &fail) != 0) {
		rs_valid_add(v, rs_batch_field(b, i, "path"), "%s",
		    fail.detail != NULL ? fail.detail : "cannot be parsed");
		return RS_OK;
	}
	rs_http_mount(&c->req, *mount != '\0' ? mount : NULL);
	switch (c->req.outside ? RS_MATCH_NOT_FOUND :
	    rs_router_match(&c->req, &c->route, allow, sizeof(allow))) {
	case RS_MATCH_OK:
		if (c->route->flags & RS_ROUTE_ITEM)
			return RS_OK;
		rs_valid_add(v, rs_batch_field(b, i, "path"), "%s %s cannot "
		    "be part of a batch", c->req.method_name,
		    c->route->pattern);
		return RS_OK;
	case RS_MATCH_BAD_METHOD:
		rs_valid_add(v, rs_batch_field(b, i, "method"), "%s is not "
		    "served at this path; allowed: %s", c->req.method_name,
		    allow);
		return RS_OK;
	default:
		rs_valid_add(v, rs_batch_field(b, i, "path"), "no such "
		    "resource: %.200s", c->req.path);
		return RS_OK;
	}
}

/*
 * Checks item i (o) and builds its request: its line, headers and body,
 * and the caller's address, which its audit entries name. RS_OK (errors
 * in v) or RS_ERR_NOMEM.
 */
static enum rs_err
rs_batch_item(struct rs_batch *b, struct rs_valid *v, size_t i,
    struct json_object *o)
{
	static const char *const members[] = { "method", "path", "headers",
	    "body", NULL };
	const struct rs_req	*req = &b->ctx->req;
	struct rs_batch_item	*it = &b->item[i];
	const char		*method, *path, *const *m;
	const char		*mount = req->mount;
	char			*env[RS_BATCH_ENV + 1];
	struct json_object	*h;
	size_t			 n = 0, errors = v->n, len = strlen(mount);
	enum rs_err		 rc;

	if (!json_object_is_type(o, json_type_object)) {
		rs_valid_add(v, rs_batch_field(b, i, ""), "must be an object: "
		    "{\"method\", \"path\", \"headers\"?, \"body\"?}");
		return RS_OK;
	}
	json_object_object_foreach(o, name, val) {
		(void)val;
		for (m = members; *m != NULL && strcmp(*m, name) != 0; m++)
			continue;
		if (*m == NULL)
			rs_valid_add(v, rs_batch_field(b, i, name),
			    "unknown member");
	}
	method = rs_batch_line(b, v, i, o, &path);
	if (json_object_object_get_ex(o, "body", &it->body) &&
	    it->body != NULL &&
	    !json_object_is_type(it->body, json_type_object))
		rs_valid_add(v, rs_batch_field(b, i, "body"), "must be a JSON "
		    "object");
	/* A path may carry the mount point, as Location does. */
	if (path != NULL && len > 0 && strncmp(path, mount, len) == 0 &&
	    path[len] == '/')
		path += len;
	if ((rc = rs_batch_env(b, env, &n, "REQUEST_METHOD", method)) != RS_OK ||
	    (rc = rs_batch_env(b, env, &n, "REMOTE_ADDR",
	    rs_http_env(req, "REMOTE_ADDR"))) != RS_OK ||
	    (rc = rs_batch_env(b, env, &n, "HTTP_X_FORWARDED_FOR",
	    rs_http_env(req, "HTTP_X_FORWARDED_FOR"))) != RS_OK)
		return rc;
	if (json_object_object_get_ex(o, "headers", &h) &&
	    (rc = rs_batch_headers(b, v, i, h, env, &n)) != RS_OK)
		return rc;
	if (v->n > errors || method == NULL)
		return RS_OK;
	if ((env[n++] = rs_arena_cat(b->arena, "REQUEST_URI=", mount,
	    path, NULL)) == NULL)
		return RS_ERR_NOMEM;
	env[n] = NULL;
	return rs_batch_route(b, v, i, env);
}

/* The whole envelope: RS_OK (errors in v) or RS_ERR_NOMEM. */
static enum rs_err
rs_batch_check(struct rs_batch *b, struct rs_valid *v)
{
	static const char *const members[] = { "requests", "atomic", NULL };
	struct json_object	*body = b->ctx->body, *reqs, *a;
	size_t			 i;
	enum rs_err		 rc;

	rs_valid_known(v, body, members);
	if (json_object_object_get_ex(body, "atomic", &a)) {
		if (json_object_is_type(a, json_type_boolean))
			b->atomic = json_object_get_boolean(a);
		else
			rs_valid_add(v, "atomic", "must be true or false");
	}
	if (!json_object_object_get_ex(body, "requests", &reqs) ||
	    !json_object_is_type(reqs, json_type_array) ||
	    (b->n = json_object_array_length(reqs)) < 1 ||
	    b->n > RS_MAX_BATCH_ITEMS) {
		rs_valid_add(v, "requests", "must be an array of 1 to %d "
		    "requests", RS_MAX_BATCH_ITEMS);
		return RS_OK;
	}
	if ((b->item = rs_arena_calloc(b->arena, b->n,
	    sizeof(*b->item))) == NULL)
		return RS_ERR_NOMEM;
	for (i = 0; i < b->n; i++)
		if ((rc = rs_batch_item(b, v, i,
		    json_object_array_get_idx(reqs, i))) != RS_OK)
			return rc;
	return RS_OK;
}

/* ---- the items ------------------------------------------------------- */

/* The steps item c takes after the batch's bearer check, then its
 * handler, as if it came alone. */
static enum rs_step
rs_batch_step(struct rs_ctx *c, struct json_object *body)
{
	enum rs_step	 step;

	if ((step = rs_rate_check(c)) != RS_NEXT ||
	    (step = rs_gate_role(c)) != RS_NEXT ||
	    (step = rs_gate_query(c)) != RS_NEXT ||
	    (step = rs_gate_body_json(c, body)) != RS_NEXT)
		return step;
	return c->route->handler(c);
}

/*
 * A GET item whose answer would take the batch's answer past its bound:
 * answered 413 instead. A write's answer is always kept (a hundred of
 * the largest stay far below the bound).
 */
static enum rs_err
rs_batch_bound(struct rs_batch *b, struct rs_ctx *c)
{
	if (c->req.method != RS_METHOD_GET ||
	    b->bytes + c->resp.bodylen <= RS_MAX_BATCH_ANSWER)
		return RS_OK;
	rs_resp_finish(&c->resp);
	rs_resp_init(&c->resp);
	return rs_reply_problem(c, RS_PROB_PAYLOAD_TOO_LARGE, "this answer "
	    "would take the batch's answer past %d bytes; send this request "
	    "alone, or with a smaller limit", RS_MAX_BATCH_ANSWER) ==
	    RS_ANSWERED ? RS_OK : RS_ERR_NOMEM;
}

/* Item c's answer as the batch's answer shows it, appended in order. */
static enum rs_err
rs_batch_keep(struct rs_batch *b, struct rs_ctx *c)
{
	const struct rs_resp	*r = &c->resp;
	struct json_object	*o, *h;
	size_t			 i, k;
	int			 bad = r->status >= 400;

	if ((o = json_object_new_object()) == NULL ||
	    json_object_array_add(b->responses, o) != 0) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	if (rs_json_add_int(o, "status", r->status) != 0 ||
	    rs_json_add(o, "headers", h = json_object_new_object()) != 0)
		return RS_ERR_NOMEM;
	for (i = 0; i < r->nhdr; i++)
		for (k = 0; k < RS_BATCH_NOUT; k++)
			if (strcasecmp(r->hdr[i].name, rs_batch_out[k]) == 0 &&
			    rs_json_add_str(h, rs_batch_out[k],
			    r->hdr[i].value) != 0)
				return RS_ERR_NOMEM;
	if (r->body == NULL)
		json_object_object_add(o, "body", NULL);
	else if (rs_json_add(o, "body", rs_json_raw(r->body,
	    r->bodylen)) != 0)
		return RS_ERR_NOMEM;
	if (bad && b->atomic && rs_json_add_bool(o, "failed", 1) != 0)
		return RS_ERR_NOMEM;
	b->bytes += r->bodylen;
	b->failed += bad;
	/* The batch's RateLimit headers tell where the items left it. */
	if (c->limited) {
		b->ctx->limited = 1;
		b->ctx->limit_left = c->limit_left;
		b->ctx->limit_reset_ms = c->limit_reset_ms;
	}
	return RS_OK;
}

/*
 * Runs item it in a savepoint of its own, so that one which fails (500)
 * leaves nothing, whatever its handler had written, and keeps its
 * answer. RS_OK, or an error that ends the batch (the nest is gone).
 */
static enum rs_err
rs_batch_run(struct rs_batch *b, struct rs_batch_item *it)
{
	struct rs_ctx	*c = &it->ctx;
	struct rs_db	*db = b->ctx->app->db;
	int		 depth = rs_db_nest_depth(db), ok;
	enum rs_err	 rc;

	c->app = b->ctx->app;
	c->who = b->ctx->who;
	c->request_id = b->ctx->request_id;
	rs_resp_init(&c->resp);
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	ok = rs_batch_step(c, it->body) == RS_ANSWERED && c->resp.status != 0;
	if (ok) {
		/* What a handler left open is not its answer's. */
		rs_db_nest_unwind(db, depth + 1);
		ok = rs_db_nest_depth(db) == depth + 1 &&
		    rs_db_commit(db) == RS_OK;
	}
	if (!ok) {
		rs_db_nest_unwind(db, depth);
		rs_resp_finish(&c->resp);
		rs_resp_init(&c->resp);
		if (rs_reply_problem(c, RS_PROB_INTERNAL, "the request "
		    "failed; it changed nothing") != RS_ANSWERED)
			return RS_ERR_NOMEM;
	}
	rc = rs_db_nest_depth(db) != depth ? RS_ERR_DB : rs_batch_bound(b, c);
	if (rc == RS_OK)
		rc = rs_batch_keep(b, c);
	rs_resp_finish(&c->resp);
	json_object_put(c->body);
	c->body = NULL;
	return rc;
}

/* ---- the batch ------------------------------------------------------- */

/* {"responses": [...]} (the caller's reference to them stays). */
static struct json_object *
rs_batch_answer(struct rs_batch *b)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) != NULL &&
	    rs_json_add(o, "responses", json_object_get(b->responses)) != 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/*
 * The change: every item in order, then the answer, kept under the
 * batch's key. An atomic batch with a failed item declines, which
 * undoes every item.
 */
static enum rs_txn_do
rs_batch_change(struct rs_txn *t, void *arg)
{
	struct rs_batch	*b = arg;
	size_t		 i;

	for (i = 0; i < b->n; i++)
		if ((t->err = rs_batch_run(b, &b->item[i])) != RS_OK)
			return RS_TXN_FAILED;
	if (b->atomic && b->failed > 0)
		return RS_TXN_DECLINE;
	if (rs_reply_json(b->ctx, 200, rs_batch_answer(b)) != RS_ANSWERED) {
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	if (b->idem.key != NULL &&
	    (t->err = rs_reply_remember(b->ctx, &t->answer)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/* 409 batch_failed: the atomic batch changed nothing; every answer. */
static enum rs_step
rs_batch_failed(struct rs_batch *b)
{
	struct json_object	*prob;
	char			 detail[160];

	snprintf(detail, sizeof(detail), "%zu of the %zu requests failed "
	    "(marked \"failed\"); the batch is atomic, so nothing was "
	    "changed", b->failed, b->n);
	if ((prob = rs_reply_problem_new(b->ctx, RS_PROB_BATCH_FAILED,
	    detail)) == NULL || rs_json_add(prob, "responses",
	    json_object_get(b->responses)) != 0) {
		json_object_put(prob);
		return RS_FAIL;
	}
	return rs_reply_problem_obj(b->ctx, RS_PROB_BATCH_FAILED, prob);
}

/* After the batch's transaction: commit or undo the nest, and answer. */
static enum rs_step
rs_batch_end(struct rs_batch *b, enum rs_txn_result res)
{
	struct rs_db	*db = b->ctx->app->db;

	if (res == RS_TXN_DONE && rs_db_nest_commit(db) == RS_OK)
		return RS_ANSWERED;
	rs_db_nest_rollback(db);
	rs_reply_clear(b->ctx, b->nhdr);
	switch (res) {
	case RS_TXN_DECLINED:
		return rs_batch_failed(b);
	case RS_TXN_REPLAY:
		return rs_reply_replay(b->ctx, &b->t.replay);
	case RS_TXN_DONE:		/* the commit failed: nothing stays */
		return RS_FAIL;
	default:
		return rs_reply_txn(b->ctx, res);
	}
}

enum rs_step
rs_batch_handle(struct rs_ctx *ctx)
{
	struct rs_batch		 b;
	struct rs_valid		 v;
	enum rs_step		 step;
	enum rs_err		 rc;

	memset(&b, 0, sizeof(b));
	b.ctx = ctx;
	b.arena = &ctx->app->arena;
	b.nhdr = ctx->resp.nhdr;
	rs_valid_init(&v, b.arena);
	if (rs_batch_check(&b, &v) != RS_OK)
		return RS_FAIL;
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_reply_idem(ctx, &b.idem)) != RS_NEXT)
		return step;
	if ((b.responses = json_object_new_array()) == NULL)
		return RS_FAIL;
	rs_reply_txn_init(ctx, &b.t);
	b.t.idem = &b.idem;
	b.t.once = 1;	/* its items run again on their own */
	/* The batch is no act of its own: each item writes its entry. */
	b.t.audit.bookkeeping = 1;
	if ((rc = rs_db_nest_begin(ctx->app->db, b.t.org[0] != '\0' ?
	    b.t.org : NULL)) != RS_OK)
		step = rc == RS_ERR_BUSY ? rs_reply_busy(ctx) : RS_FAIL;
	else {
		/* The batch's undo is the nest's: no savepoint of its own
		 * held open around every item. */
		rs_db_nest_own(ctx->app->db);
		step = rs_batch_end(&b, rs_txn_run(&b.t, rs_batch_change, &b));
	}
	json_object_put(b.responses);
	return step;
}
