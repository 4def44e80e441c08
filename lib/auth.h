/*
 * auth.h: who is asking, for the pipeline. Checks the request's bearer
 * token and fills ctx->who from the database as it is now: a revoked key
 * or a disabled user stops working at once, and the role used is the one
 * held now. Also the caller's bookkeeping: last_sync_at.
 * The token exchange itself is an endpoint: api_auth.h.
 */
#ifndef RS_AUTH_H
#define RS_AUTH_H

#include "ctx.h"

/*
 * Checks the request's bearer token and fills ctx->who.
 * RS_NEXT, or RS_ANSWERED with 401 (503 when the database cannot say),
 * or RS_FAIL.
 */
enum rs_step	rs_auth_bearer(struct rs_ctx *ctx);
/*
 * Records that ctx's user synced now, at most once every
 * RS_SYNC_TOUCH_MS per user (one small write, not one per request).
 * A failure is logged, never the request's.
 */
void		rs_auth_touch(struct rs_ctx *ctx);
/* Forgets the token this process verified last (and wipes it). */
void		rs_auth_forget(struct rs_app *app);

#endif /* RS_AUTH_H */
