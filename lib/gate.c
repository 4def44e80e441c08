#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "json.h"
#include "query.h"
#include "rate.h"
#include "reply.h"
#include "router.h"
#include "gate.h"

enum rs_step
rs_gate_route(struct rs_ctx *ctx)
{
	char	 allow[64];

	if (ctx->req.outside)	/* not under RELAYSYNC_BASE_PATH */
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no such resource: %.200s", ctx->req.path);
	switch (rs_router_match(&ctx->req, &ctx->route, allow,
	    sizeof(allow))) {
	case RS_MATCH_OK:
		return RS_NEXT;
	case RS_MATCH_BAD_METHOD:
		if (rs_reply_header(ctx, "Allow", allow) != RS_OK)
			return RS_FAIL;
		return rs_reply_problem(ctx, RS_PROB_METHOD_NOT_ALLOWED,
		    "%s is not allowed here; allowed: %s",
		    ctx->req.method_name, allow);
	default:
		return rs_reply_problem(ctx, RS_PROB_NOT_FOUND,
		    "no such resource: %.200s", ctx->req.path);
	}
}

enum rs_step
rs_gate_role(struct rs_ctx *ctx)
{
	if ((ctx->route->roles & ctx->who.role) == 0)
		return rs_reply_problem(ctx, RS_PROB_FORBIDDEN,
		    "the %s role may not %s %s", rs_role_name(ctx->who.role),
		    ctx->req.method_name, ctx->route->pattern);
	return RS_NEXT;
}

enum rs_step
rs_gate_who(struct rs_ctx *ctx)
{
	enum rs_step	 step;

	if (ctx->route->roles == RS_ROLES_NONE)
		return RS_NEXT;
	if ((step = rs_auth_bearer(ctx)) != RS_NEXT ||
	    (step = rs_rate_check(ctx)) != RS_NEXT)
		return step;
	return rs_gate_role(ctx);
}

enum rs_step
rs_gate_query(struct rs_ctx *ctx)
{
	const char	*bad;

	if (ctx->req.query_err != NULL)
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST, "%s",
		    ctx->req.query_err);
	if ((bad = rs_query_unknown(&ctx->req.query, ctx->route->query)))
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "unknown query parameter \"%.64s\"", bad);
	return RS_NEXT;
}

/* A body where the route takes none: 400. */
static enum rs_step
rs_gate_unwanted(struct rs_ctx *ctx)
{
	return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
	    "%s %s takes no request body", ctx->req.method_name,
	    ctx->route->pattern);
}

/* No body: RS_NEXT, or 400 when the route needs one. */
static enum rs_step
rs_gate_none(struct rs_ctx *ctx)
{
	if ((ctx->route->flags & RS_ROUTE_BODY) == 0)
		return RS_NEXT;
	return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
	    "a JSON object request body is required");
}

/* A parsed body (a reference taken): RS_NEXT when it is an object. */
static enum rs_step
rs_gate_object(struct rs_ctx *ctx, struct json_object *obj)
{
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "the request body must be a JSON object");
	}
	ctx->body = obj;
	return RS_NEXT;
}

enum rs_step
rs_gate_body(struct rs_ctx *ctx, rs_http_reader rd, void *rdctx)
{
	struct rs_http_fail	 fail;
	char			 err[200];
	struct json_object	*obj;

	if (ctx->req.content_length == 0)
		return rs_gate_none(ctx);
	if (!rs_http_json_type(ctx->req.content_type))
		return rs_reply_problem(ctx, RS_PROB_UNSUPPORTED_MEDIA_TYPE,
		    "request bodies must be application/json in UTF-8, not "
		    "%.100s", ctx->req.content_type ? ctx->req.content_type :
		    "untyped");
	if (rs_http_read_body(&ctx->req, rd, rdctx, &fail) != 0)
		return rs_reply_problem(ctx, fail.code, "%s",
		    fail.detail ? fail.detail : "cannot read the body");
	if ((ctx->route->flags & RS_ROUTE_BODY) == 0)
		return rs_gate_unwanted(ctx);
	if (rs_json_parse(ctx->req.body, ctx->req.bodylen, &obj, err,
	    sizeof(err)) != 0)
		return rs_reply_problem(ctx, RS_PROB_INVALID_JSON,
		    "malformed JSON %s", err);
	return rs_gate_object(ctx, obj);
}

enum rs_step
rs_gate_body_json(struct rs_ctx *ctx, struct json_object *body)
{
	if (body == NULL)
		return rs_gate_none(ctx);
	if ((ctx->route->flags & RS_ROUTE_BODY) == 0)
		return rs_gate_unwanted(ctx);
	return rs_gate_object(ctx, json_object_get(body));
}
