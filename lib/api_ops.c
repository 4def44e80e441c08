#include <json-c/json.h>

#include "embed.h"
#include "json.h"
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
	    rs_json_add_int(o, "schema", rs_migrate_latest()) != 0) {
		json_object_put(o);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, 200, o);
}

enum rs_step
rs_api_ops_openapi(struct rs_ctx *ctx)
{
	ctx->resp.status = 200;
	ctx->resp.ctype = "application/json";
	ctx->resp.body = rs_embed_openapi[0].data;
	ctx->resp.bodylen = rs_embed_openapi[0].len;
	return RS_ANSWERED;
}
