/*
 * api_recsync.h: reading records in bulk: GET /v1/records, the
 * filtered list walked by keyset cursors, and delta sync ("since"): every
 * record changed after a sync token, tombstones included, in change
 * order. One read transaction per page, so the rows and the sync token
 * agree.
 */
#ifndef RS_API_RECSYNC_H
#define RS_API_RECSYNC_H

#include "ctx.h"

enum rs_step	rs_api_recsync_list(struct rs_ctx *ctx);	/* GET /v1/records */

/* The query parameters GET /v1/records admits (for the route table). */
extern const char *const rs_api_recsync_list_query[];

#endif /* RS_API_RECSYNC_H */
