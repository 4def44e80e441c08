/*
 * gate.h: the steps a request passes before its handler, in the order
 * the pipeline takes them (app.c): the route, who is asking (the bearer
 * token, the org's rate limit, the route's roles), the query the route
 * admits, the body it takes. batch.c takes the same steps for each item
 * of a batch, which is why they live here and not in app.c: an item is
 * answered exactly as it would be alone.
 *
 * Each step returns RS_NEXT (go on), RS_ANSWERED (ctx->resp holds the
 * refusal) or RS_FAIL. None touches the database but the bearer check.
 */
#ifndef RS_GATE_H
#define RS_GATE_H

#include "ctx.h"
#include "http.h"

struct json_object;

/* Sets ctx->route: 404 for no route (or a path outside the mount), 405
 * with Allow for a method the path does not serve. */
enum rs_step	 rs_gate_route(struct rs_ctx *ctx);
/* The bearer token (auth.h), then one request from the org's rate limit
 * (rate.h), then the route's roles; nothing for a public route. */
enum rs_step	 rs_gate_who(struct rs_ctx *ctx);
/* The route's roles for ctx->who, already known (403). */
enum rs_step	 rs_gate_role(struct rs_ctx *ctx);
/* The query the route admits (400 naming the first unknown parameter). */
enum rs_step	 rs_gate_query(struct rs_ctx *ctx);
/* Reads and parses the body the route takes into ctx->body (400, 413,
 * 415 when it cannot be had; a body where none is taken is 400). */
enum rs_step	 rs_gate_body(struct rs_ctx *ctx, rs_http_reader rd,
		    void *rdctx);
/* As rs_gate_body() for a body already parsed (a batch item's; NULL:
 * none; borrowed, ctx->body takes a reference). */
enum rs_step	 rs_gate_body_json(struct rs_ctx *ctx,
		    struct json_object *body);

#endif /* RS_GATE_H */
