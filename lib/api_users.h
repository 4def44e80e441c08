/*
 * users.h: the /v1/users endpoints (CONTRACT §6): list, invite, accept,
 * role and status changes, and last_sync_at. Invite tokens are shown
 * once and stored only as a keyed hash; accepting one activates the user
 * and returns their first API key. An org always keeps one active admin.
 */
#ifndef RS_API_USERS_H
#define RS_API_USERS_H

struct rs_ctx;

int	rs_api_users_list(struct rs_ctx *ctx);	/* GET /v1/users */
int	rs_api_users_invite(struct rs_ctx *ctx);	/* POST /v1/users/invite */
int	rs_api_users_accept(struct rs_ctx *ctx);	/* POST /v1/users/accept */
int	rs_api_users_patch(struct rs_ctx *ctx);	/* PATCH /v1/users/:id */
/*
 * Records that ctx's user synced now, at most once a minute per user
 * (one small write, not one per request). Failure is logged, not fatal.
 */
void	rs_api_users_touch(struct rs_ctx *ctx);

extern const char *const rs_api_users_list_query[];

#endif /* RS_API_USERS_H */
