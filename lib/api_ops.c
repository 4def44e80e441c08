#include <json-c/json.h>
#include <sqlite3.h>

#include "app.h"
#include "db.h"
#include "embed.h"
#include "migrate.h"
#include "api_ops.h"

int
rs_api_ops_health(struct rs_ctx *ctx)
{
	static const char	 sql[] = "SELECT count(*) FROM orgs";
	struct json_object	*o;
	sqlite3_stmt		*st;
	int			 ok;

	/* A real read: a missing, locked-out or corrupt file shows here. */
	if ((st = rs_db_stmt(ctx->app->db, sql)) == NULL)
		return rs_app_problem(ctx, RS_PROB_UNAVAILABLE,
		    "the database cannot be read");
	ok = sqlite3_step(st) == SQLITE_ROW;
	rs_db_done(st);
	if (!ok)
		return rs_app_problem(ctx, RS_PROB_UNAVAILABLE,
		    "the database cannot be read");
	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "schema",
	    json_object_new_int(rs_migrate_latest()));
	return rs_app_json(ctx, 200, o);
}

int
rs_api_ops_openapi(struct rs_ctx *ctx)
{
	ctx->resp.status = 200;
	ctx->resp.ctype = "application/json";
	ctx->resp.body = rs_embed_openapi[0].data;
	ctx->resp.bodylen = rs_embed_openapi[0].len;
	return 0;
}
