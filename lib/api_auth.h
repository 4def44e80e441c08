/*
 * auth.h: API key exchange, bearer tokens on every other request, and
 * the throttle on failed exchanges. A revoked key or a disabled user
 * stops working at once: every request checks both with one indexed
 * lookup, and the role used is the one the database holds now.
 */
#ifndef RS_API_AUTH_H
#define RS_API_AUTH_H

struct rs_ctx;

/* POST /v1/auth/token */
int	rs_api_auth_token(struct rs_ctx *ctx);
/* GET /v1/me */
int	rs_api_auth_me(struct rs_ctx *ctx);
/*
 * Checks the request's bearer token and fills ctx->who.
 * Returns 0, or -1 having answered 401 (or 503/500).
 */
int	rs_api_auth_bearer(struct rs_ctx *ctx);

#endif /* RS_API_AUTH_H */
