/*
 * api_webhooks.h: the webhook endpoints of an org (CONTRACT §8): create,
 * list, get, change, delete, rotate the secret, replay a window. Every
 * route is the admin's. A URL is checked (netguard.h) before the write
 * lock is taken; the secret is shown only in the answers of create and
 * rotate-secret, and kept sealed under the server's webhook subkey.
 * Reached only from router.c; writes go through txn.h.
 */
#ifndef RS_API_WEBHOOKS_H
#define RS_API_WEBHOOKS_H

#include "ctx.h"

/* The query parameters GET /v1/webhooks admits. */
extern const char *const rs_api_webhooks_list_query[];

enum rs_step	rs_api_webhooks_create(struct rs_ctx *ctx);
enum rs_step	rs_api_webhooks_list(struct rs_ctx *ctx);
enum rs_step	rs_api_webhooks_get(struct rs_ctx *ctx);
enum rs_step	rs_api_webhooks_patch(struct rs_ctx *ctx);
enum rs_step	rs_api_webhooks_delete(struct rs_ctx *ctx);
enum rs_step	rs_api_webhooks_rotate(struct rs_ctx *ctx);
enum rs_step	rs_api_webhooks_replay(struct rs_ctx *ctx);

#endif /* RS_API_WEBHOOKS_H */
