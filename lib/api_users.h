/*
 * api_users.h: the /v1/users endpoints: list, invite, accept, role and
 * status changes. Invite tokens are shown once and stored only as a
 * keyed hash; accepting one activates the user and returns their first
 * API key. An org always keeps one active admin.
 */
#ifndef RS_API_USERS_H
#define RS_API_USERS_H

#include "ctx.h"

enum rs_step	rs_api_users_list(struct rs_ctx *ctx);	/* GET /v1/users */
enum rs_step	rs_api_users_invite(struct rs_ctx *ctx); /* POST /v1/users/invite */
enum rs_step	rs_api_users_accept(struct rs_ctx *ctx); /* POST /v1/users/accept */
enum rs_step	rs_api_users_patch(struct rs_ctx *ctx);	/* PATCH /v1/users/:id */

/* The query parameters GET /v1/users admits (for the route table). */
extern const char *const rs_api_users_list_query[];

#endif /* RS_API_USERS_H */
