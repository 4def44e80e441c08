/*
 * api_records.h: the /v1/records/:id endpoints, POST /v1/records and a
 * record's history. A handler reads the path and the causal token;
 * every change (create, patch, delete) goes through the one record
 * write path, recwrite.h. Lists and delta sync are api_recsync.h.
 */
#ifndef RS_API_RECORDS_H
#define RS_API_RECORDS_H

#include "ctx.h"

enum rs_step	rs_api_records_create(struct rs_ctx *ctx); /* POST /v1/records */
enum rs_step	rs_api_records_get(struct rs_ctx *ctx);	/* GET /v1/records/:id */
enum rs_step	rs_api_records_patch(struct rs_ctx *ctx); /* PATCH /v1/records/:id */
enum rs_step	rs_api_records_delete(struct rs_ctx *ctx); /* DELETE /v1/records/:id */
/* GET /v1/records/:id/history: prior versions, newest first. */
enum rs_step	rs_api_records_history(struct rs_ctx *ctx);

/* The query parameters the history admits (for the route table). */
extern const char *const rs_api_records_history_query[];

#endif /* RS_API_RECORDS_H */
