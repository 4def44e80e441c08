#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "num.h"
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
	/* Hosts sharing a PostgreSQL database each keep their own table:
	 * each takes its share, so together they allow the org's limit. */
	ctx->limit = ctx->who.rate_limit / app->cfg.hosts;
	if (ctx->limit < 1)
		ctx->limit = 1;
	if ((rc = rs_ratelimit_take(rl, ctx->who.org_id, (int)ctx->limit,
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
	    "%lld requests a second%s; retry in %s s", (long long)ctx->limit,
	    app->cfg.hosts > 1 ? " on this host" : "", after);
}

/*
 * prefix, v in decimal and suffix, in arena a (NULL when out of memory):
 * five of these on every answer, so no printf.
 */
static const char *
rs_rate_text(struct rs_arena *a, const char *prefix, int64_t v,
    const char *suffix)
{
	char		 num[RS_NUM_TEXT_MAX], *out;
	char		*p = rs_num_text(num + sizeof(num), v);
	size_t		 plen = strlen(prefix), slen = strlen(suffix);
	size_t		 nlen = (size_t)(num + sizeof(num) - p);

	if ((out = rs_arena_alloc(a, plen + nlen + slen + 1)) == NULL)
		return NULL;
	memcpy(out, prefix, plen);
	memcpy(out + plen, p, nlen);
	memcpy(out + plen + nlen, suffix, slen + 1);
	return out;
}

void
rs_rate_headers(struct rs_ctx *ctx)
{
	struct rs_arena	*a = &ctx->app->arena;
	int64_t		 q = ctx->limit, r = ctx->limit_left;
	int64_t		 t = (ctx->limit_reset_ms + 999) / 1000;
	const char	*v[5], *rt;
	size_t		 i;
	static const char *const names[5] = { "RateLimit-Limit",
	    "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy",
	    "RateLimit" };

	if (!ctx->limited)
		return;
	v[0] = rs_rate_text(a, "", q, "");
	v[1] = rs_rate_text(a, "", r, "");
	v[2] = rs_rate_text(a, "", t, "");
	v[3] = rs_rate_text(a, "\"org\";q=", q, ";w=1");
	v[4] = (rt = rs_rate_text(a, ";t=", t, "")) == NULL ? NULL :
	    rs_rate_text(a, "\"org\";r=", r, rt);
	for (i = 0; i < 5; i++)
		if (v[i] == NULL || rs_resp_header(&ctx->resp, names[i],
		    v[i]) != 0)
			rs_log_warn("an answer without its %s header",
			    names[i]);
}
