/*
 * api_conflicts.h: the /v1/conflicts endpoints: list (oldest first,
 * filters status and record_id), read one, and resolve. A conflict is
 * made by the record write path when a causal check is lost
 * (recwrite.h), never here. A resolve is one write transaction through
 * recwrite.h: take current closes the conflict and writes no record
 * version; take attempted, or a record given, is applied to the record
 * as it is now, by the normal write path without a causal check (its
 * events, history row and supersede rule), and closes the conflict
 * with it. Its one audit entry is conflict.resolve.
 */
#ifndef RS_API_CONFLICTS_H
#define RS_API_CONFLICTS_H

#include "ctx.h"

/* GET /v1/conflicts */
enum rs_step	rs_api_conflicts_list(struct rs_ctx *ctx);
/* GET /v1/conflicts/:id */
enum rs_step	rs_api_conflicts_get(struct rs_ctx *ctx);
/* POST /v1/conflicts/:id/resolve */
enum rs_step	rs_api_conflicts_resolve(struct rs_ctx *ctx);

/* The query parameters GET /v1/conflicts admits (for the route table). */
extern const char *const rs_api_conflicts_list_query[];

#endif /* RS_API_CONFLICTS_H */
