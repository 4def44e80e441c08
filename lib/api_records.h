/*
 * api_records.h: the /v1/records/:id endpoints and POST /v1/records.
 * Every change (create, patch, delete) is one write transaction
 * (txn.h): Idempotency-Key, then the causal check, the change, a new
 * version and causal token, the org's next change number, the outbox
 * events and the kept answer, committed together -- or nothing at all.
 * Lists and delta sync are api_recsync.h.
 */
#ifndef RS_API_RECORDS_H
#define RS_API_RECORDS_H

#include "ctx.h"

enum rs_step	rs_api_records_create(struct rs_ctx *ctx); /* POST /v1/records */
enum rs_step	rs_api_records_get(struct rs_ctx *ctx);	/* GET /v1/records/:id */
enum rs_step	rs_api_records_patch(struct rs_ctx *ctx); /* PATCH /v1/records/:id */
enum rs_step	rs_api_records_delete(struct rs_ctx *ctx); /* DELETE /v1/records/:id */

#endif /* RS_API_RECORDS_H */
