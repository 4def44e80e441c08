/*
 * api_policies.h: the /v1/policies endpoints: create or replace by name,
 * list in evaluation order, read one, delete, and evaluate a record (a
 * dry run). Texts are checked by the policy language (policy.h) before
 * anything is stored; a bad one is 400 invalid_policy naming the member
 * and the character position. Writes go through txn.h with a
 * policy.updated or policy.deleted event. Applying policies to record
 * writes is not done here.
 */
#ifndef RS_API_POLICIES_H
#define RS_API_POLICIES_H

#include "ctx.h"

/* GET /v1/policies */
enum rs_step	rs_api_policies_list(struct rs_ctx *ctx);
/* POST /v1/policies */
enum rs_step	rs_api_policies_put(struct rs_ctx *ctx);
/* GET /v1/policies/:name */
enum rs_step	rs_api_policies_get(struct rs_ctx *ctx);
/* DELETE /v1/policies/:name */
enum rs_step	rs_api_policies_delete(struct rs_ctx *ctx);
/* POST /v1/policies/evaluate */
enum rs_step	rs_api_policies_evaluate(struct rs_ctx *ctx);

/* The query parameters GET /v1/policies admits (for the route table). */
extern const char *const rs_api_policies_list_query[];

#endif /* RS_API_POLICIES_H */
