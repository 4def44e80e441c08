/*
 * api_queue.h: the org's sync queue (CONTRACT §4): its delivery jobs,
 * filtered and paged, with the count per state; and a forced retry of
 * one job. Admins and operators. Reached only from router.c; reads go to
 * store_jobs.h, the retry through txn.h.
 */
#ifndef RS_API_QUEUE_H
#define RS_API_QUEUE_H

#include "ctx.h"

/* The query parameters GET /v1/sync/queue admits. */
extern const char *const rs_api_queue_list_query[];

enum rs_step	rs_api_queue_list(struct rs_ctx *ctx);	/* GET /v1/sync/queue */
enum rs_step	rs_api_queue_retry(struct rs_ctx *ctx);	/* POST /v1/sync/retry/:job */

#endif /* RS_API_QUEUE_H */
