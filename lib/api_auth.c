#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "apikey.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "codec.h"
#include "store_keys.h"
#include "store_throttle.h"
#include "token.h"
#include "txn.h"
#include "valid.h"
#include "api_auth.h"

/*
 * What a failed exchange is counted under: the client's address
 * (http.h says which, behind a trusted proxy) and the first
 * RS_AUTH_KEY_PREFIX characters of the key presented, as a keyed hash,
 * so that the table never holds a part of a real key someone mistyped.
 */
struct rs_api_auth_who {
	const char	*k[RS_THROTTLE__MAX];
	char		 prefix[2 * 16 + 1];
};

static void
rs_api_auth_who(struct rs_ctx *ctx, const char *key,
    struct rs_api_auth_who *w)
{
	char		 p[sizeof("throttle:") + RS_AUTH_KEY_PREFIX];
	unsigned char	 hash[RS_APIKEY_HASH_BYTES];

	snprintf(p, sizeof(p), "throttle:%.*s", RS_AUTH_KEY_PREFIX, key);
	rs_apikey_hash(ctx->app->k_apikey, p, hash);
	rs_codec_hex_encode(w->prefix, sizeof(w->prefix), hash, 16);
	sodium_memzero(p, sizeof(p));
	sodium_memzero(hash, sizeof(hash));
	w->k[RS_THROTTLE_ADDR] = rs_http_client(&ctx->req, &ctx->app->cfg);
	w->k[RS_THROTTLE_KEY] = w->prefix;
}

/*
 * Seconds until w may fail again without being refused: 0 when neither
 * its address nor its key prefix has RS_AUTH_FAIL_BURST failures in an
 * open window, else the longer wait; -1 on error.
 */
static int
rs_api_auth_throttled(struct rs_ctx *ctx, const struct rs_api_auth_who *w,
    int64_t now)
{
	int	 i, fails, left, wait = 0;

	for (i = 0; i < RS_THROTTLE__MAX; i++) {
		if (rs_store_throttle_get(ctx->app->db,
		    (enum rs_throttle_kind)i, w->k[i], now,
		    RS_AUTH_FAIL_WINDOW, &fails, &left) != RS_OK)
			return -1;
		if (fails >= RS_AUTH_FAIL_BURST && left > wait)
			wait = left;
	}
	return wait;
}

static enum rs_txn_do
rs_api_auth_count(struct rs_txn *t, void *arg)
{
	struct rs_api_auth_who	*w = arg;
	int			 i;

	for (i = 0; i < RS_THROTTLE__MAX; i++)
		if ((t->err = rs_store_throttle_hit(t->db,
		    (enum rs_throttle_kind)i, w->k[i], t->now / 1000,
		    RS_AUTH_FAIL_WINDOW)) != RS_OK)
			return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/* Counts a failed exchange under w's address and key prefix; logged if
 * lost. */
static void
rs_api_auth_failed(struct rs_ctx *ctx, struct rs_api_auth_who *w,
    int64_t now_ms)
{
	struct rs_txn	 t;

	rs_txn_init(&t, ctx->app->db, &ctx->app->arena, NULL, now_ms);
	t.audit.bookkeeping = 1;	/* counters, no one's data */
	if (rs_txn_run(&t, rs_api_auth_count, w) !=
	    RS_TXN_DONE)
		rs_log_warn("cannot record a failed key exchange: %s",
		    rs_strerror(t.err));
}

/*
 * The answer to a key that is not a live key: 401, or 429 while its
 * address or its key prefix has too many failures (then nothing is
 * counted: a flood of guesses costs no writes).
 */
static enum rs_step
rs_api_auth_refuse(struct rs_ctx *ctx, const char *key, int64_t now_ms)
{
	struct rs_api_auth_who	 w;
	char			 wait[16];
	int			 secs;

	rs_api_auth_who(ctx, key, &w);
	if ((secs = rs_api_auth_throttled(ctx, &w, now_ms / 1000)) < 0)
		return RS_FAIL;
	if (secs > 0) {
		snprintf(wait, sizeof(wait), "%d", secs);
		if (rs_reply_header(ctx, "Retry-After", wait) != RS_OK)
			return RS_FAIL;
		return rs_reply_problem(ctx, RS_PROB_RATE_LIMITED,
		    "too many failed key exchanges from this address or for "
		    "this key; retry in %d s", secs);
	}
	rs_api_auth_failed(ctx, &w, now_ms);
	return rs_reply_problem(ctx, RS_PROB_INVALID_API_KEY,
	    "the API key is unknown, revoked, or its user is disabled");
}

static enum rs_step
rs_api_auth_answer(struct rs_ctx *ctx, const struct rs_token *t)
{
	char			 tok[RS_MAX_TOKEN + 1], when[32];
	struct json_object	*o;
	enum rs_step		 rc = RS_FAIL;

	if (rs_token_mint(ctx->app->k_token, t, tok, sizeof(tok)) != RS_OK)
		return RS_FAIL;
	if ((o = json_object_new_object()) != NULL &&
	    rs_json_add_str(o, "access_token", tok) == 0 &&
	    rs_json_add_str(o, "token_type", "Bearer") == 0 &&
	    rs_json_add_int(o, "expires_in", ctx->app->cfg.token_ttl) == 0 &&
	    rs_json_add_str(o, "expires_at",
	    rs_clock_format(when, sizeof(when), t->exp * 1000)) == 0 &&
	    rs_json_add_str(o, "org_id", t->org_id) == 0 &&
	    rs_json_add_str(o, "user_id", t->user_id) == 0 &&
	    rs_json_add_str(o, "role", rs_role_name(t->role)) == 0) {
		rc = rs_reply_json(ctx, 200, o);
		o = NULL;
	}
	json_object_put(o);
	sodium_memzero(tok, sizeof(tok));
	return rc;
}

/*
 * Inside the transaction: an issue writes nothing but its audit entry,
 * whose actor is the key's user (the route is public).
 */
static enum rs_txn_do
rs_api_auth_issue_change(struct rs_txn *t, void *arg)
{
	const struct rs_store_key	*k = arg;
	struct json_object		*o;

	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "key_id", k->key_id) != 0) {
		json_object_put(o);
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	t->audit.actor_id = k->user_id;
	t->audit.action = "token.issue";
	t->audit.target = k->key_id;
	t->audit.detail = o;
	return RS_TXN_COMMIT;
}

/*
 * Issues a token for the live key k: the issue is a write (its audit
 * entry) and the token is minted only once it has committed.
 */
static enum rs_step
rs_api_auth_issue(struct rs_ctx *ctx, struct rs_store_key *k, int64_t now)
{
	struct rs_txn		 w;
	struct rs_token		 t;
	enum rs_txn_result	 res;

	rs_reply_txn_init(ctx, &w);	/* public: the org is the key's */
	memcpy(w.org, k->org_id, sizeof(w.org));
	if ((res = rs_txn_run(&w, rs_api_auth_issue_change, k)) !=
	    RS_TXN_DONE)
		return rs_reply_txn(ctx, res);
	memset(&t, 0, sizeof(t));
	memcpy(t.key_id, k->key_id, sizeof(t.key_id));
	memcpy(t.org_id, k->org_id, sizeof(t.org_id));
	memcpy(t.user_id, k->user_id, sizeof(t.user_id));
	t.role = k->role;
	t.exp = now + ctx->app->cfg.token_ttl;
	return rs_api_auth_answer(ctx, &t);
}

enum rs_step
rs_api_auth_token(struct rs_ctx *ctx)
{
	static const char *const members[] = { "api_key", NULL };
	unsigned char		 hash[RS_APIKEY_HASH_BYTES];
	struct rs_valid		 v;
	struct rs_store_key	 k;
	const char		*key;
	int64_t			 now_ms = rs_clock_now_ms(), now = now_ms / 1000;
	enum rs_err		 rc;

	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	key = rs_valid_string(&v, ctx->body, "api_key", 1, 1, RS_MAX_API_KEY);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	/*
	 * The key first, always: a live key is never refused nor counted,
	 * and every refusal costs the same lookup, so a throttled guesser
	 * learns nothing from the time an answer takes.
	 */
	rc = RS_ERR_NOTFOUND;
	if (rs_apikey_wellformed(key)) {
		rs_apikey_hash(ctx->app->k_apikey, key, hash);
		rc = rs_store_keys_find(ctx->app->db, hash, &k);
		sodium_memzero(hash, sizeof(hash));
	}
	if (rc == RS_ERR_NOTFOUND)
		return rs_api_auth_refuse(ctx, key, now_ms);
	if (rc != RS_OK)
		return RS_FAIL;
	return rs_api_auth_issue(ctx, &k, now);
}

enum rs_step
rs_api_auth_me(struct rs_ctx *ctx)
{
	struct json_object	*o;
	char			 when[32];

	if ((o = json_object_new_object()) == NULL)
		return RS_FAIL;
	if (rs_json_add_str(o, "user_id", ctx->who.user_id) != 0 ||
	    rs_json_add_str(o, "email", ctx->who.email) != 0 ||
	    rs_json_add_str(o, "org_id", ctx->who.org_id) != 0 ||
	    rs_json_add_str(o, "role", rs_role_name(ctx->who.role)) != 0 ||
	    rs_json_add_str(o, "key_id", ctx->who.key_id) != 0 ||
	    rs_json_add_str(o, "token_expires_at", rs_clock_format(when,
	    sizeof(when), ctx->who.token_exp * 1000)) != 0) {
		json_object_put(o);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, 200, o);
}
