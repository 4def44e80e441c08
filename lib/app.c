#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "api_auth.h"
#include "ckpt.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "migrate.h"
#include "router.h"
#include "api_users.h"
#include "valid.h"
#include "app.h"

void
rs_app_open(struct rs_app *app)
{
	unsigned char	 master[RS_SECRET_BYTES];
	char		 err[256];
	enum rs_err	 rc;

	memset(app, 0, sizeof(*app));
	app->schema_logged = -1;
	rs_arena_init(&app->arena);
	app->state = RS_ERR_INVAL;
	if (sodium_init() < 0) {
		rs_log_err("libsodium failed to initialise");
		return;
	}
	if (rs_config_load(&app->cfg, err, sizeof(err)) != 0) {
		rs_log_err("configuration: %s", err);
		return;
	}
	if ((rc = rs_secret_load(app->cfg.secret_path, master)) != RS_OK) {
		rs_log_err("%s: cannot read the server secret (%s); run "
		    "relaysync-admin init", app->cfg.secret_path,
		    rs_strerror(rc));
		app->state = rc;
		return;
	}
	rs_secret_derive(master, RS_SECRET_APIKEY, app->k_apikey);
	rs_secret_derive(master, RS_SECRET_TOKEN, app->k_token);
	rs_secret_derive(master, RS_SECRET_CURSOR, app->k_cursor);
	rs_secret_derive(master, RS_SECRET_INVITE, app->k_invite);
	sodium_memzero(master, sizeof(master));
	if ((rc = rs_db_open(app->cfg.db_path, 0, app->cfg.sync_full,
	    &app->db)) != RS_OK) {
		rs_log_err("%s: cannot open the database (%s)",
		    app->cfg.db_path, rs_strerror(rc));
		app->state = rc;
		return;
	}
	if ((rc = rs_migrate_check(app->db)) != RS_OK) {
		rs_log_err("%s: schema version %d, this program knows %d: %s",
		    app->cfg.db_path, rs_db_user_version(app->db),
		    rs_migrate_latest(), rc == RS_ERR_SCHEMA ?
		    "refusing to serve a newer schema" :
		    "run relaysync-admin migrate");
		app->state = rc;
		return;
	}
	app->state = RS_OK;
}

void
rs_app_idle(struct rs_app *app)
{
	if (app->db == NULL || !rs_db_checkpoint_due(app->db))
		return;
	/* A process that never writes never starts the thread. */
	if (app->ckpt == NULL && rs_ckpt_start(app->cfg.db_path,
	    app->cfg.sync_full, &app->ckpt) != RS_OK) {
		rs_db_checkpoint(app->db);	/* no thread: here, then */
		return;
	}
	rs_ckpt_ask(app->ckpt);
}

void
rs_app_close(struct rs_app *app)
{
	rs_ckpt_stop(app->ckpt);
	app->ckpt = NULL;
	rs_db_close(app->db);
	app->db = NULL;
	rs_arena_free(&app->arena);
	sodium_memzero(app->k_apikey, sizeof(app->k_apikey));
	sodium_memzero(app->k_token, sizeof(app->k_token));
	sodium_memzero(app->k_cursor, sizeof(app->k_cursor));
	sodium_memzero(app->k_invite, sizeof(app->k_invite));
}

struct json_object *
rs_app_problem_new(struct rs_ctx *ctx, enum rs_problem p, const char *detail)
{
	return rs_problem_new(p, detail, ctx->req.path, ctx->request_id);
}

int
rs_app_json(struct rs_ctx *ctx, int status, struct json_object *obj)
{
	const char	*s;
	int		 rc = -1;

	if (obj == NULL)
		return -1;
	if ((s = rs_json_compact(obj)) != NULL &&
	    (ctx->resp.body = rs_arena_strdup(&ctx->app->arena, s)) != NULL) {
		ctx->resp.bodylen = strlen(s);
		ctx->resp.status = status;
		if (ctx->resp.ctype == NULL)
			ctx->resp.ctype = "application/json";
		rc = 0;
	}
	json_object_put(obj);
	return rc;
}

int
rs_app_problem_obj(struct rs_ctx *ctx, enum rs_problem p,
    struct json_object *prob)
{
	ctx->resp.ctype = "application/problem+json";
	return rs_app_json(ctx, rs_problem_status(p), prob);
}

int
rs_app_problem_as(struct rs_ctx *ctx, int status, struct json_object *prob)
{
	if (prob == NULL)
		return -1;
	json_object_object_add(prob, "status", json_object_new_int(status));
	ctx->resp.ctype = "application/problem+json";
	return rs_app_json(ctx, status, prob);
}

int
rs_app_problem(struct rs_ctx *ctx, enum rs_problem p, const char *fmt, ...)
{
	va_list	 ap;
	char	 detail[512];

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	return rs_app_problem_obj(ctx, p,
	    rs_app_problem_new(ctx, p, fmt != NULL ? detail : NULL));
}

int
rs_app_busy(struct rs_ctx *ctx)
{
	rs_resp_header(&ctx->resp, "Retry-After", "1");
	return rs_app_problem(ctx, RS_PROB_UNAVAILABLE,
	    "the database is busy; nothing was changed: retry");
}

int
rs_app_invalid(struct rs_ctx *ctx, const struct rs_valid *v)
{
	struct json_object	*prob;
	char			 detail[320];
	size_t			 i;

	if (v->n == 1)
		snprintf(detail, sizeof(detail), "%s: %s", v->e[0].field,
		    v->e[0].message);
	else
		snprintf(detail, sizeof(detail), "%zu members are invalid; "
		    "see errors", v->n);
	if ((prob = rs_app_problem_new(ctx, RS_PROB_INVALID_REQUEST,
	    detail)) == NULL)
		return -1;
	for (i = 0; i < v->n; i++)
		if (rs_problem_field(prob, v->e[i].field, v->e[i].message)) {
			json_object_put(prob);
			return -1;
		}
	return rs_app_problem_obj(ctx, RS_PROB_INVALID_REQUEST, prob);
}

/* A client's X-Request-Id when it is 1..64 of [A-Za-z0-9._-], else a new id. */
static const char *
rs_app_request_id(struct rs_ctx *ctx)
{
	const char	*s = rs_http_header(&ctx->req, "X-Request-Id");
	char		 id[RS_ID_MAX];
	size_t		 len;

	if (s != NULL && (len = strlen(s)) > 0 && len <= RS_MAX_REQUEST_ID &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len)
		return s;
	return rs_arena_strdup(&ctx->app->arena,
	    rs_id_new(id, sizeof(id), "req_"));
}

/* Checks the body against the route; 0 to go on, -1 when answered. */
static int
rs_app_body(struct rs_ctx *ctx, rs_http_reader rd, void *rdctx)
{
	struct rs_http_fail	 fail;
	char			 err[200];
	struct json_object	*obj;
	int			 wants = ctx->route->flags & RS_ROUTE_BODY;

	if (ctx->req.content_length == 0) {
		if (!wants)
			return 0;
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "a JSON object request body is required");
		return -1;
	}
	if (!rs_http_json_type(ctx->req.content_type)) {
		rs_app_problem(ctx, RS_PROB_UNSUPPORTED_MEDIA_TYPE,
		    "request bodies must be application/json, not %.100s",
		    ctx->req.content_type ? ctx->req.content_type : "untyped");
		return -1;
	}
	if (rs_http_read_body(&ctx->req, rd, rdctx, &fail) != 0) {
		rs_app_problem(ctx, fail.code, "%s",
		    fail.detail ? fail.detail : "cannot read the body");
		return -1;
	}
	if (!wants) {
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "%s %s takes no request body", ctx->req.method_name,
		    ctx->route->pattern);
		return -1;
	}
	if (rs_json_parse(ctx->req.body, ctx->req.bodylen, &obj, err,
	    sizeof(err)) != 0) {
		rs_app_problem(ctx, RS_PROB_INVALID_JSON,
		    "malformed JSON %s", err);
		return -1;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "the request body must be a JSON object");
		return -1;
	}
	ctx->body = obj;
	return 0;
}

/*
 * Is the database still at the schema this program knows? An upgrade
 * may have migrated it under a running pool: then refuse to serve rather
 * than write rows this program does not understand. One cached PRAGMA,
 * which reads the header page. 0 when it matches.
 */
static int
rs_app_schema(struct rs_app *app)
{
	int	 have = rs_db_user_version(app->db);

	if (have == rs_migrate_latest())
		return 0;
	if (have != app->schema_logged)
		rs_log_err("%s: schema version %d, this program knows %d: "
		    "refusing to serve", app->cfg.db_path, have,
		    rs_migrate_latest());
	app->schema_logged = have;
	return -1;
}

/* Route, then every check the route table asks for; -1 when answered. */
static int
rs_app_gate(struct rs_ctx *ctx, rs_http_reader rd, void *rdctx)
{
	char		 allow[64];
	const char	*bad;

	switch (rs_router_match(&ctx->req, &ctx->route, allow,
	    sizeof(allow))) {
	case RS_MATCH_OK:
		break;
	case RS_MATCH_BAD_METHOD:
		rs_resp_header(&ctx->resp, "Allow",
		    rs_arena_strdup(&ctx->app->arena, allow));
		rs_app_problem(ctx, RS_PROB_METHOD_NOT_ALLOWED,
		    "%s is not allowed here; allowed: %s",
		    ctx->req.method_name, allow);
		return -1;
	default:
		rs_app_problem(ctx, RS_PROB_NOT_FOUND, "no such resource: %.200s",
		    ctx->req.path);
		return -1;
	}
	if (ctx->app->state != RS_OK) {
		rs_app_problem(ctx, RS_PROB_UNAVAILABLE,
		    "the service cannot use its database or secret now");
		return -1;
	}
	if (rs_app_schema(ctx->app) != 0) {
		rs_app_problem(ctx, RS_PROB_UNAVAILABLE, "the database is not "
		    "at the schema this program knows (%d); see the log",
		    rs_migrate_latest());
		return -1;
	}
	/* Who is asking comes first: a stranger learns nothing more. */
	if (ctx->route->roles != RS_ROLES_NONE) {
		if (rs_api_auth_bearer(ctx) != 0)
			return -1;
		if ((ctx->route->roles & ctx->who.role) == 0) {
			rs_app_problem(ctx, RS_PROB_FORBIDDEN,
			    "the %s role may not %s %s",
			    rs_role_name(ctx->who.role),
			    ctx->req.method_name, ctx->route->pattern);
			return -1;
		}
	}
	if (ctx->req.query_err != NULL) {
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST, "%s",
		    ctx->req.query_err);
		return -1;
	}
	if ((bad = rs_query_unknown(&ctx->req.query, ctx->route->query))) {
		rs_app_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "unknown query parameter \"%.64s\"", bad);
		return -1;
	}
	if (rs_app_body(ctx, rd, rdctx) != 0)
		return -1;
	if (ctx->route->flags & RS_ROUTE_SYNC)
		rs_api_users_touch(ctx);
	return 0;
}

void
rs_app_handle(struct rs_app *app, char *const *envp, rs_http_reader rd,
    void *rdctx, rs_resp_writer wr, void *wrctx)
{
	struct rs_ctx		 ctx;
	struct rs_http_fail	 fail;

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = app;
	rs_resp_init(&ctx.resp);
	if (rs_http_parse(&ctx.req, &app->arena, envp, &fail) != 0) {
		ctx.request_id = rs_app_request_id(&ctx);
		rs_app_problem(&ctx, fail.code, "%s",
		    fail.detail ? fail.detail : "unusable request");
	} else {
		ctx.request_id = rs_app_request_id(&ctx);
		if (rs_app_gate(&ctx, rd, rdctx) == 0 &&
		    ctx.route->handler(&ctx) != 0) {
			rs_db_reset(app->db);
			rs_resp_init(&ctx.resp);
			rs_app_problem(&ctx, RS_PROB_INTERNAL,
			    "the request failed; it changed nothing");
		}
	}
	if (ctx.resp.body == NULL && ctx.resp.status != 204)
		rs_app_problem(&ctx, RS_PROB_INTERNAL, NULL);
	rs_resp_header(&ctx.resp, "X-Request-Id", ctx.request_id ?
	    ctx.request_id : "-");
	rs_resp_header(&ctx.resp, "Cache-Control", "no-store");
	if (rs_resp_write(&ctx.resp, wr, wrctx) != 0)
		rs_log_info("client went away before the answer was sent");
	json_object_put(ctx.body);
	rs_db_reset(app->db);
	rs_arena_reset(&app->arena);
	app->served++;
}
