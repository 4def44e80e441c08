/*
 * router.h: the route table. One row per (method, pattern) states the
 * handler, the roles it admits and whether it takes a JSON object body,
 * so a new route cannot forget its role gate. A path that matches a row
 * under another method answers 405 with Allow computed from the table.
 */
#ifndef RS_ROUTER_H
#define RS_ROUTER_H

#include <stddef.h>

#include "ctx.h"
#include "http.h"

/*
 * Answers into ctx->resp and returns RS_ANSWERED, or RS_FAIL for an
 * internal error (the pipeline rolls back and answers 500).
 */
typedef enum rs_step	(*rs_handler)(struct rs_ctx *ctx);

#define RS_ROUTE_BODY	0x01	/* takes a JSON object body */
#define RS_ROUTE_SYNC	0x02	/* counts as the user syncing (last_sync_at) */
#define RS_ROUTE_ITEM	0x04	/* may be an item of a batch (batch.h) */

struct rs_route {
	enum rs_method	 method;
	const char	*pattern;	/* "/v1/records/:id" */
	unsigned int	 roles;		/* RS_ROLES_NONE: no token */
	unsigned int	 flags;
	const char *const *query;	/* the query parameters it admits */
	rs_handler	 handler;
};

enum rs_match {
	RS_MATCH_OK,
	RS_MATCH_NOT_FOUND,
	RS_MATCH_BAD_METHOD,
};

/*
 * Matches path and method against the table. On RS_MATCH_OK sets *route
 * and the ":name" segments into req->params. On RS_MATCH_BAD_METHOD
 * writes the methods the path admits ("GET, POST") into allow.
 */
enum rs_match	 rs_router_match(struct rs_req *req,
		    const struct rs_route **route, char *allow,
		    size_t allowsz);
/* The table itself, ended by a row with a NULL pattern (for tests). */
const struct rs_route *rs_router_table(void);

#endif /* RS_ROUTER_H */
