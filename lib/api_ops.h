/*
 * api_ops.h: the operator's endpoints: health and the OpenAPI document.
 */
#ifndef RS_API_OPS_H
#define RS_API_OPS_H

#include "ctx.h"

enum rs_step	rs_api_ops_health(struct rs_ctx *ctx);	/* GET /v1/health */
enum rs_step	rs_api_ops_openapi(struct rs_ctx *ctx);	/* GET /v1/openapi.json */

#endif /* RS_API_OPS_H */
