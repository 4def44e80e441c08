#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "auth.h"
#include "ckpt.h"
#include "clock.h"
#include "db.h"
#include "gate.h"
#include "install.h"
#include "log.h"
#include "migrate.h"
#include "policy_set.h"
#include "rate.h"
#include "ratelimit.h"
#include "num.h"
#include "reply.h"
#include "router.h"
#include "shm.h"
#include "app.h"

/*
 * The settings, the secret, the database and its schema, once: what goes
 * wrong is logged and kept in app->state.
 */
static void
rs_app_setup(struct rs_app *app)
{
	unsigned char	 master[RS_SECRET_BYTES];
	char		 err[256];
	enum rs_err	 rc;

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
	rs_secret_derive(master, RS_SECRET_WEBHOOK, app->k_webhook);
	sodium_memzero(master, sizeof(master));
	if ((rc = rs_db_open(app->cfg.db_path, 0, app->cfg.sync_full,
	    &app->db)) != RS_OK) {
		rs_log_err("%s: cannot open the database (%s)",
		    app->cfg.db_label, rs_strerror(rc));
		app->state = rc;
		return;
	}
	/* A holder or schema change this process commits reaches the
	 * others through the pool's generation word. */
	rs_db_on_shared(app->db, rs_shm_bump, app);
	if ((rc = rs_migrate_check(app->db)) != RS_OK) {
		rs_log_err("%s: schema version %d, this program knows %d: %s",
		    app->cfg.db_label, rs_db_user_version(app->db),
		    rs_migrate_latest_of(app->db), rc == RS_ERR_SCHEMA ?
		    "refusing to serve a newer schema" :
		    "run relaysync-admin migrate");
		app->state = rc;
		return;
	}
	app->state = RS_OK;
}

void
rs_app_open(struct rs_app *app)
{
	memset(app, 0, sizeof(*app));
	app->schema_logged = -1;
	app->conn_fd = -1;
	rs_arena_init(&app->arena);
	app->state = RS_ERR_INVAL;
	if (sodium_init() < 0) {
		rs_log_err("libsodium failed to initialise");
		return;
	}
	/* No database named: an .htaccess SetEnv names it in the first
	 * request (install.h). */
	if (rs_install_pending()) {
		app->pending = 1;
		return;
	}
	rs_app_setup(app);
}

/*
 * Before a request is routed: at the first, the settings it carries that
 * the environment lacks (install.h), and the setup when it waited for
 * them; then the mount point.
 */
static void
rs_app_settle(struct rs_ctx *ctx)
{
	struct rs_app	*app = ctx->app;
	char		 err[256];

	if (!app->settled) {
		app->settled = 1;
		if (rs_install_take(&app->install, &ctx->req) != RS_OK)
			app->state = RS_ERR_INVAL;
		else if (app->pending)
			rs_app_setup(app);
		else if (app->install.ntaken > 0 && app->state == RS_OK &&
		    rs_config_load(&app->cfg, err, sizeof(err)) != 0) {
			/* The environment named the database; the request
			 * added what it did not set. */
			rs_log_err("configuration: %s", err);
			app->state = RS_ERR_INVAL;
		}
		app->pending = 0;
	}
	rs_http_mount(&ctx->req, app->state == RS_OK ?
	    app->cfg.base_path : NULL);
}

void
rs_app_idle(struct rs_app *app)
{
	if (app->db == NULL || !rs_db_checkpoint_due(app->db))
		return;
	/* One request a process: no thread to leave behind. */
	if (app->cgi) {
		rs_db_checkpoint(app->db);
		return;
	}
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
	rs_ratelimit_close(app->limits);
	app->limits = NULL;
	rs_db_close(app->db);
	app->db = NULL;
	rs_policy_set_free(app->policies);
	app->policies = NULL;
	rs_install_free(&app->install);
	free(app->openapi);
	free(app->openapi_mount);
	app->openapi = app->openapi_mount = NULL;
	rs_arena_free(&app->arena);
	sodium_memzero(app->k_apikey, sizeof(app->k_apikey));
	sodium_memzero(app->k_token, sizeof(app->k_token));
	sodium_memzero(app->k_cursor, sizeof(app->k_cursor));
	sodium_memzero(app->k_invite, sizeof(app->k_invite));
	sodium_memzero(app->k_webhook, sizeof(app->k_webhook));
	rs_auth_forget(app);
}

/* The answer when not even a problem object can be built (no memory). */
static void
rs_app_internal(struct rs_ctx *ctx)
{
	static const char	 body[] = "{\"type\":\"" RS_PROBLEM_TYPE_BASE
	    "internal_error\",\"title\":\"Internal server error\","
	    "\"status\":500,\"code\":\"internal_error\"}";

	ctx->resp.status = 500;
	ctx->resp.ctype = "application/problem+json";
	ctx->resp.body = body;
	ctx->resp.bodylen = sizeof(body) - 1;
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
	    rs_id_new(id, sizeof(id), "req_"));	/* NULL: shown as "-" */
}

/*
 * Is the database still at the schema this program knows? An upgrade
 * may have migrated it under a running pool: then refuse to serve rather
 * than write rows this program does not understand. One cached PRAGMA,
 * which reads the header page, and a match is trusted for a while while
 * the pool's generation word stays the same. RS_OK when it matches, else
 * RS_ERR_SCHEMA (logged once per version seen).
 */
static enum rs_err
rs_app_schema(struct rs_app *app)
{
	int64_t		 now = rs_ratelimit_now();
	uint64_t	 gen;
	int		 have, keep;

	/* Only a migration changes it, and a migration steps the word. */
	keep = rs_shm_gen(app, &gen) == 0;
	if (keep && app->schema_read_ms != 0 && app->schema_gen == gen &&
	    now >= app->schema_read_ms &&
	    now - app->schema_read_ms < RS_SHARED_TTL_MS)
		return RS_OK;
	app->schema_read_ms = 0;
	if ((have = rs_db_user_version(app->db)) == rs_migrate_latest_of(app->db)) {
		if (keep) {
			app->schema_gen = gen;
			app->schema_read_ms = now;
		}
		return RS_OK;
	}
	if (have != app->schema_logged)
		rs_log_err("%s: schema version %d, this program knows %d: "
		    "refusing to serve", app->cfg.db_label, have,
		    rs_migrate_latest_of(app->db));
	app->schema_logged = have;
	return RS_ERR_SCHEMA;
}

/*
 * A setup that could not reach its database (PostgreSQL down when the
 * process started) is tried again, at most once a second, instead of
 * answering 503 until the process is replaced. Any other failure
 * (settings, secret, schema) stays: it needs an operator.
 */
static void
rs_app_retry(struct rs_app *app)
{
	int64_t	 now = rs_clock_now_ms();

	if (app->state != RS_ERR_BUSY || app->db != NULL ||
	    now - app->setup_ms < 1000)
		return;
	app->setup_ms = now;
	rs_app_setup(app);
}

/* Can this process serve at all? RS_NEXT, or RS_ANSWERED (503). */
static enum rs_step
rs_app_serving(struct rs_ctx *ctx)
{
	struct rs_app	*app = ctx->app;
	const char	*roots[2];

	rs_app_retry(app);
	if (app->state != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE,
		    "the service cannot use its database or secret now");
	if (rs_install_same(&app->install, &ctx->req) != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE, "this "
		    "process serves another installation; see the log");
	roots[0] = rs_http_env(&ctx->req, "DOCUMENT_ROOT");
	roots[1] = rs_http_env(&ctx->req, "CONTEXT_DOCUMENT_ROOT");
	if (rs_install_docroot(&app->install, &app->cfg, roots, 2) != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE, "the "
		    "service is configured unsafely (its files are under the "
		    "document root); see the log");
	if (rs_app_schema(ctx->app) != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE, "the "
		    "database is not at the schema this program knows (%d); "
		    "see the log", rs_migrate_latest_of(app->db));
	return RS_NEXT;
}

/*
 * Can this process serve, and who is asking. Both read the database only
 * when what this process keeps of them went stale (about once a second,
 * or after a change): no read transaction is opened for them.
 */
static enum rs_step
rs_app_checks(struct rs_ctx *ctx)
{
	enum rs_step	 step;

	if ((step = rs_app_serving(ctx)) == RS_NEXT)
		step = rs_gate_who(ctx);
	return step;
}

/*
 * Every step before the handler, in order; the first that does not say
 * RS_NEXT ends the request. Who is asking comes before the query and the
 * body: a stranger learns nothing more.
 */
static enum rs_step
rs_app_gate(struct rs_ctx *ctx, rs_http_reader rd, void *rdctx)
{
	enum rs_step	 step;

	if ((step = rs_gate_route(ctx)) != RS_NEXT ||
	    (step = rs_app_checks(ctx)) != RS_NEXT ||
	    (step = rs_gate_query(ctx)) != RS_NEXT ||
	    (step = rs_gate_body(ctx, rd, rdctx)) != RS_NEXT)
		return step;
	if (ctx->route->flags & RS_ROUTE_SYNC)
		rs_auth_touch(ctx);
	return RS_NEXT;
}

/*
 * Did the web server refuse the request itself and hand its error to us
 * (Apache's ErrorDocument, lighttpd's server.error-handler)? It says so
 * in REDIRECT_STATUS, which a client cannot set (its headers arrive as
 * HTTP_*). RS_NEXT when not (absent, 200, or not a status 400..599);
 * else RS_ANSWERED with that status as a problem, before routing, the
 * token or the body, none of which is ours to read then.
 */
static enum rs_step
rs_app_refused(struct rs_ctx *ctx)
{
	const char		*s = rs_http_env(&ctx->req, "REDIRECT_STATUS");
	const char		*url = rs_http_env(&ctx->req, "REDIRECT_URL");
	const char		*errstr;
	char			 detail[128];
	enum rs_problem		 p;
	int			 status;

	if (s == NULL || strlen(s) != 3)
		return RS_NEXT;
	status = (int)rs_num_parse(s, 400, 599, &errstr);
	if (errstr != NULL)
		return RS_NEXT;
	if (url != NULL && *url != '\0')
		ctx->req.path = rs_http_printable(&ctx->app->arena, url,
		    strlen(url), RS_MAX_INSTANCE);
	p = rs_problem_for_status(status);
	snprintf(detail, sizeof(detail), "the web server refused the request "
	    "before RelaySync read it (%d %s)", status,
	    rs_problem_status(p) == status ? rs_problem_title(p) :
	    status < 500 ? "Client error" : "Server error");
	return rs_reply_problem_as(ctx, status,
	    rs_reply_problem_new(ctx, p, detail));
}

/*
 * An answer to HEAD is the answer to GET without its body (RFC 9110
 * 9.3.2): the same status and headers, Content-Length included.
 */
static void
rs_app_head(struct rs_ctx *ctx)
{
	char	 len[32];

	if (ctx->req.method != RS_METHOD_HEAD)
		return;
	rs_resp_finish(&ctx->resp);	/* a stream's headers, no stream */
	if (ctx->resp.body == NULL)
		return;
	if (ctx->resp.status != 204) {
		snprintf(len, sizeof(len), "%zu", ctx->resp.bodylen);
		if (rs_reply_header(ctx, "Content-Length", len) != RS_OK)
			rs_log_warn("HEAD answered without Content-Length");
	}
	ctx->resp.body = NULL;
	ctx->resp.bodylen = 0;
}

void
rs_app_handle(struct rs_app *app, char *const *envp, rs_http_reader rd,
    void *rdctx, rs_resp_writer wr, void *wrctx)
{
	struct rs_ctx		 ctx;
	struct rs_http_fail	 fail;
	enum rs_step		 step;
	int			 parsed;

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = app;
	rs_resp_init(&ctx.resp);
	if ((parsed = rs_http_parse(&ctx.req, &app->arena, envp, &fail)) == 0)
		rs_app_settle(&ctx);
	ctx.request_id = rs_app_request_id(&ctx);
	/* The web server's own error comes first: even its path may be
	 * one we would refuse. */
	if ((step = rs_app_refused(&ctx)) == RS_NEXT) {
		if (parsed != 0)
			step = rs_reply_problem(&ctx, fail.code, "%s",
			    fail.detail ? fail.detail : "unusable request");
		else if ((step = rs_app_gate(&ctx, rd, rdctx)) == RS_NEXT)
			step = ctx.route->handler(&ctx);
	}
	if (step != RS_ANSWERED || ctx.resp.status == 0) {
		/* RS_NEXT here would be a handler that forgot to answer. */
		rs_db_reset(app->db);
		rs_resp_finish(&ctx.resp);
		rs_resp_init(&ctx.resp);
		if (rs_reply_problem(&ctx, RS_PROB_INTERNAL,
		    "the request failed; it changed nothing") != RS_ANSWERED)
			rs_app_internal(&ctx);
	}
	rs_resp_header(&ctx.resp, "X-Request-Id", ctx.request_id ?
	    ctx.request_id : "-");
	rs_rate_headers(&ctx);
	rs_resp_header(&ctx.resp, "Cache-Control", "no-store");
	rs_app_head(&ctx);
	/* A stream says so itself (sse.h). */
	if (rs_resp_write(&ctx.resp, wr, wrctx) != 0 &&
	    ctx.resp.stream.run == NULL)
		rs_log_info("client went away before the answer was sent");
	rs_resp_finish(&ctx.resp);
	json_object_put(ctx.body);
	rs_db_reset(app->db);
	rs_arena_reset(&app->arena);
	app->served++;
}
