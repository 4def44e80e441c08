/*
 * ops.h: the operator's endpoints: health and the OpenAPI document.
 */
#ifndef RS_API_OPS_H
#define RS_API_OPS_H

struct rs_ctx;

int	rs_api_ops_health(struct rs_ctx *ctx);	/* GET /v1/health */
int	rs_api_ops_openapi(struct rs_ctx *ctx);	/* GET /v1/openapi.json */

#endif /* RS_API_OPS_H */
