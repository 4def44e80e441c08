#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "limits.h"
#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "reply.h"
#include "shm.h"
#include "store_keys.h"
#include "store_users.h"
#include "token.h"
#include "txn.h"
#include "auth.h"

/*
 * rs_token_verify, remembering the last token this process verified: a
 * client sends the same token many times, and the same bytes verify the
 * same way, so only the expiry needs checking again.
 */
static enum rs_err
rs_auth_verify(struct rs_app *app, const char *tok, struct rs_token *t)
{
	struct rs_token_memo	*m = &app->memo;
	int64_t			 now = rs_clock_now_ms() / 1000;
	size_t			 len = strlen(tok);
	enum rs_err		 rc;

	if (len > 0 && len == m->len && sodium_memcmp(tok, m->tok, len) == 0) {
		*t = m->t;
		return t->exp <= now ? RS_ERR_RANGE : RS_OK;
	}
	rc = rs_token_verify(app->k_token, tok, now, t);
	if (rc == RS_OK && len < sizeof(m->tok)) {
		memcpy(m->tok, tok, len + 1);
		m->len = len;
		m->t = *t;
	}
	return rc;
}

void
rs_auth_forget(struct rs_app *app)
{
	sodium_memzero(&app->memo, sizeof(app->memo));
	rs_whocache_clear(&app->whocache);
}

/*
 * The holder of t's key: as this process keeps it while the pool's
 * generation word says no holder changed since (whocache.h), else from
 * the database, then kept. RS_OK and *h (email in the arena),
 * RS_ERR_NOTFOUND (a refused token is never kept), or an error.
 */
static enum rs_err
rs_auth_holder(struct rs_app *app, const struct rs_token *t,
    struct rs_store_holder *h)
{
	const struct rs_whocache_entry	*e;
	struct rs_whocache_holder	 k;
	int64_t				 now = rs_ratelimit_now();
	uint64_t			 gen;
	enum rs_err			 rc;
	int				 keep;

	/* The word is read before the database: a change committed after
	 * this read steps it on, and the entry goes stale. */
	keep = rs_shm_gen(app, &gen) == 0;
	if (keep && (e = rs_whocache_get(&app->whocache, t->key_id,
	    t->org_id, t->user_id, gen, now)) != NULL) {
		if ((h->email = rs_arena_strdup(&app->arena, e->email)) ==
		    NULL)
			return RS_ERR_NOMEM;
		h->role = e->role;
		h->last_sync_at = e->last_sync_at;
		h->rate_limit = e->rate_limit;
		return RS_OK;
	}
	if ((rc = rs_store_keys_holder(app->db, &app->arena, t->key_id,
	    t->org_id, t->user_id, h)) != RS_OK || !keep)
		return rc;
	k.email = h->email;
	k.role = h->role;
	k.last_sync_at = h->last_sync_at;
	k.rate_limit = h->rate_limit;
	rs_whocache_put(&app->whocache, t->key_id, t->org_id, t->user_id, &k,
	    gen, now);
	return RS_OK;
}

static enum rs_step
rs_auth_deny(struct rs_ctx *ctx, const char *detail)
{
	rs_resp_header(&ctx->resp, "WWW-Authenticate",
	    "Bearer realm=\"relaysync\"");
	return rs_reply_problem(ctx, RS_PROB_UNAUTHORIZED, "%s", detail);
}

enum rs_step
rs_auth_bearer(struct rs_ctx *ctx)
{
	const char		*h = rs_http_header(&ctx->req, "Authorization");
	struct rs_token		 t;
	struct rs_store_holder	 who;
	enum rs_err		 rc;

	if (h == NULL || *h == '\0')
		return rs_auth_deny(ctx, "a bearer token is required");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return rs_auth_deny(ctx, "the Authorization scheme must be "
		    "Bearer");
	for (h += 7; *h == ' '; h++)
		continue;
	rc = rs_auth_verify(ctx->app, h, &t);
	if (rc == RS_ERR_RANGE)
		return rs_auth_deny(ctx, "the access token has expired");
	if (rc != RS_OK)
		return rs_auth_deny(ctx, "the access token is not valid");
	rc = rs_auth_holder(ctx->app, &t, &who);
	if (rc == RS_ERR_NOTFOUND)
		return rs_auth_deny(ctx, "the access token was revoked, or its "
		    "user disabled");
	if (rc != RS_OK)
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE,
		    "cannot check the access token now");
	ctx->who.email = who.email;
	ctx->who.role = who.role;
	ctx->who.last_sync_at = who.last_sync_at;
	ctx->who.rate_limit = who.rate_limit;
	memcpy(ctx->who.org_id, t.org_id, sizeof(t.org_id));
	memcpy(ctx->who.user_id, t.user_id, sizeof(t.user_id));
	memcpy(ctx->who.key_id, t.key_id, sizeof(t.key_id));
	ctx->who.token_exp = t.exp;
	ctx->who.authed = 1;
	return RS_NEXT;
}

static enum rs_txn_do
rs_auth_touch_change(struct rs_txn *t, void *arg)
{
	const char	*uid = arg;

	t->err = rs_store_users_touch(t->db, uid, t->now, RS_SYNC_TOUCH_MS);
	return t->err == RS_OK ? RS_TXN_COMMIT : RS_TXN_FAILED;
}

void
rs_auth_touch(struct rs_ctx *ctx)
{
	struct rs_txn	 t;
	int64_t		 now = rs_clock_now_ms();

	/* The holder lookup read the value: most requests stop here. */
	if (ctx->who.last_sync_at != 0 &&
	    now - ctx->who.last_sync_at < RS_SYNC_TOUCH_MS)
		return;
	rs_txn_init(&t, ctx->app->db, &ctx->app->arena, ctx->who.org_id, now);
	t.audit.bookkeeping = 1;	/* when a user last synced: no act */
	if (rs_txn_run(&t, rs_auth_touch_change, ctx->who.user_id) !=
	    RS_TXN_DONE)
		rs_log_warn("cannot record last_sync_at for %s: %s",
		    ctx->who.user_id, rs_strerror(t.err));
	else
		rs_whocache_synced(&ctx->app->whocache, ctx->who.user_id,
		    now);
}
