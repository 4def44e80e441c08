/*
 * records.h: the /v1/records endpoints (CONTRACT §3). Every change
 * (create, patch, delete) goes through one write path that checks the
 * Idempotency-Key and the causal token, applies the change, bumps
 * version and causal, takes the org's next change number, writes the
 * outbox events and the idempotent answer, and commits -- or changes
 * nothing at all.
 */
#ifndef RS_API_RECORDS_H
#define RS_API_RECORDS_H

struct rs_ctx;

int	rs_api_records_create(struct rs_ctx *ctx);	/* POST /v1/records */
int	rs_api_records_get(struct rs_ctx *ctx);	/* GET /v1/records/:id */
int	rs_api_records_patch(struct rs_ctx *ctx);	/* PATCH /v1/records/:id */
int	rs_api_records_delete(struct rs_ctx *ctx);	/* DELETE /v1/records/:id */

#endif /* RS_API_RECORDS_H */
