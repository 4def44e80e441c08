/*
 * api_auth.h: the token endpoints. An API key is exchanged for a short
 * bearer token (token.h). A live key always gets its token; failed
 * exchanges are counted per client address and per key prefix in the
 * pool's shared table (shm.h), and past RS_AUTH_FAIL_BURST in a window a wrong
 * key is answered 429 instead of 401. Checking the token on every other
 * request is the pipeline's (auth.h).
 */
#ifndef RS_API_AUTH_H
#define RS_API_AUTH_H

#include "ctx.h"

enum rs_step	rs_api_auth_token(struct rs_ctx *ctx);	/* POST /v1/auth/token */
enum rs_step	rs_api_auth_me(struct rs_ctx *ctx);	/* GET /v1/me */

#endif /* RS_API_AUTH_H */
