#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"
#include "shm.h"
#include "reply.h"
#include "rate.h"

enum rs_step
rs_rate_check(struct rs_ctx *ctx)
{
	struct rs_app			*app = ctx->app;
	struct rs_ratelimit		*rl;
	struct rs_ratelimit_result	 r;
	enum rs_err			 rc;
	char				 after[32];

	if (!app->cfg.rate_limits || (rl = rs_shm_table(app)) == NULL)
		return RS_NEXT;
	if ((rc = rs_ratelimit_take(rl, ctx->who.org_id, ctx->who.rate_limit,
	    rs_ratelimit_now(), &r)) != RS_OK) {
		if (!app->limits_warned)
			rs_log_warn("org %s: no rate limit bucket (%s); let "
			    "through", ctx->who.org_id, rc == RS_ERR_RANGE ?
			    "the table is full" : "it kept changing");
		app->limits_warned = 1;
		return RS_NEXT;
	}
	ctx->limited = 1;
	ctx->limit_left = r.remaining;
	ctx->limit_reset_ms = r.reset_ms;
	if (r.allowed)
		return RS_NEXT;
	snprintf(after, sizeof(after), "%lld",
	    (long long)((r.retry_ms + 999) / 1000));
	if (rs_reply_header(ctx, "Retry-After", after) != RS_OK)
		return RS_FAIL;
	return rs_reply_problem(ctx, RS_PROB_RATE_LIMITED, "this org may make "
	    "%d requests a second; retry in %s s", ctx->who.rate_limit,
	    after);
}

void
rs_rate_headers(struct rs_ctx *ctx)
{
	struct rs_arena	*a = &ctx->app->arena;
	long long	 q = ctx->who.rate_limit, r = ctx->limit_left;
	long long	 t = (ctx->limit_reset_ms + 999) / 1000;
	const char	*v[5];
	size_t		 i;
	static const char *const names[5] = { "RateLimit-Limit",
	    "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy",
	    "RateLimit" };

	if (!ctx->limited)
		return;
	v[0] = rs_arena_printf(a, "%lld", q);
	v[1] = rs_arena_printf(a, "%lld", r);
	v[2] = rs_arena_printf(a, "%lld", t);
	v[3] = rs_arena_printf(a, "\"org\";q=%lld;w=1", q);
	v[4] = rs_arena_printf(a, "\"org\";r=%lld;t=%lld", r, t);
	for (i = 0; i < 5; i++)
		if (v[i] == NULL || rs_resp_header(&ctx->resp, names[i],
		    v[i]) != 0)
			rs_log_warn("an answer without its %s header",
			    names[i]);
}
