#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "embed.h"
#include "json.h"
#include "log.h"
#include "migrate.h"
#include "reply.h"
#include "store_orgs.h"
#include "api_ops.h"

enum rs_step
rs_api_ops_health(struct rs_ctx *ctx)
{
	struct json_object	*o;

	/* A real read: a missing, locked-out or corrupt file shows here. */
	if (rs_store_orgs_ping(ctx->app->db) != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE,
		    "the database cannot be read");
	if ((o = json_object_new_object()) == NULL)
		return RS_FAIL;
	if (rs_json_add_str(o, "status", "ok") != 0 ||
	    rs_json_add_str(o, "version", PACKAGE_VERSION) != 0 ||
	    rs_json_add_int(o, "schema", rs_migrate_latest_of(ctx->app->db)) != 0) {
		json_object_put(o);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, 200, o);
}

/*
 * The document as served under mount ("/~crew/relaysync"): its servers
 * URL is the mount's. Made once and kept in app for the next request
 * under the same mount. RS_OK, or RS_ERR_NOMEM / RS_ERR_INVAL (the
 * embedded document has no servers list: a build error).
 */
static enum rs_err
rs_api_ops_mounted(struct rs_app *app, const char *mount)
{
	struct json_tokener	*tok;
	struct json_object	*doc = NULL, *servers, *first, *url;
	const char		*s;
	char			*copy = NULL, *m = NULL;
	enum rs_err		 rc = RS_ERR_NOMEM;

	if (app->openapi_mount != NULL && strcmp(app->openapi_mount,
	    mount) == 0)
		return RS_OK;
	if ((tok = json_tokener_new()) == NULL)
		return RS_ERR_NOMEM;
	doc = json_tokener_parse_ex(tok, rs_embed_openapi[0].data,
	    (int)rs_embed_openapi[0].len);
	json_tokener_free(tok);
	if (doc == NULL || !json_object_object_get_ex(doc, "servers",
	    &servers) || (first = json_object_array_get_idx(servers, 0)) ==
	    NULL || !json_object_is_type(first, json_type_object)) {
		rs_log_err("the embedded OpenAPI document has no servers");
		rc = RS_ERR_INVAL;
		goto out;
	}
	if ((s = rs_arena_printf(&app->arena, "%s/", mount)) == NULL ||
	    (url = json_object_new_string(s)) == NULL)
		goto out;
	if (json_object_object_add(first, "url", url) != 0) {
		json_object_put(url);
		goto out;
	}
	if ((s = json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) ==
	    NULL || (copy = strdup(s)) == NULL || (m = strdup(mount)) ==
	    NULL)
		goto out;
	free(app->openapi);
	free(app->openapi_mount);
	app->openapi = copy;
	app->openapi_len = strlen(copy);
	app->openapi_mount = m;
	copy = m = NULL;
	rc = RS_OK;
out:
	free(copy);
	free(m);
	json_object_put(doc);
	return rc;
}

enum rs_step
rs_api_ops_openapi(struct rs_ctx *ctx)
{
	const char	*mount = ctx->req.mount;

	ctx->resp.status = 200;
	ctx->resp.ctype = "application/json";
	if (mount == NULL || *mount == '\0') {
		ctx->resp.body = rs_embed_openapi[0].data;
		ctx->resp.bodylen = rs_embed_openapi[0].len;
		return RS_ANSWERED;
	}
	if (rs_api_ops_mounted(ctx->app, mount) != RS_OK)
		return RS_FAIL;
	ctx->resp.body = ctx->app->openapi;
	ctx->resp.bodylen = ctx->app->openapi_len;
	return RS_ANSWERED;
}
