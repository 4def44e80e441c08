#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "apikey.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "shm.h"
#include "reply.h"
#include "store_keys.h"
#include "token.h"
#include "txn.h"
#include "valid.h"
#include "api_auth.h"

/*
 * What a failed exchange is counted under, in the pool's shared table
 * (shm.h): the client's address (http.h says which, behind a trusted
 * proxy) and the first RS_AUTH_KEY_PREFIX characters of the key
 * presented, each as a keyed hash, so that the table holds neither an
 * address nor a part of a real key someone mistyped, and no one can
 * choose an address that shares another's counter.
 */
enum rs_api_auth_kind {
	RS_API_AUTH_ADDR,
	RS_API_AUTH_PREFIX,
	RS_API_AUTH__MAX
};

static uint64_t
rs_api_auth_key(struct rs_ctx *ctx, const char *kind, const char *s,
    int len)
{
	char		 p[sizeof("throttle-prefix:") + RS_MAX_API_KEY + 64];
	unsigned char	 hash[RS_APIKEY_HASH_BYTES];
	uint64_t	 k = 0;
	int		 i;

	snprintf(p, sizeof(p), "throttle-%s:%.*s", kind, len, s);
	rs_apikey_hash(ctx->app->k_apikey, p, hash);
	for (i = 0; i < 8; i++)
		k = k << 8 | hash[i];
	sodium_memzero(p, sizeof(p));
	sodium_memzero(hash, sizeof(hash));
	return k;
}

static void
rs_api_auth_who(struct rs_ctx *ctx, const char *key,
    uint64_t k[RS_API_AUTH__MAX])
{
	const char	*addr = rs_http_client(&ctx->req, &ctx->app->cfg);

	k[RS_API_AUTH_ADDR] = rs_api_auth_key(ctx, "addr", addr,
	    (int)strlen(addr));
	k[RS_API_AUTH_PREFIX] = rs_api_auth_key(ctx, "prefix", key,
	    RS_AUTH_KEY_PREFIX);
}

/*
 * The answer to a key that is not a live key: 401, or 429 while its
 * address or its key prefix has RS_AUTH_FAIL_BURST failures in an open
 * window (then nothing is counted). Neither writes to the database.
 */
static enum rs_step
rs_api_auth_refuse(struct rs_ctx *ctx, const char *key)
{
	uint64_t	 k[RS_API_AUTH__MAX];
	char		 wait[16];
	int		 secs;

	rs_api_auth_who(ctx, key, k);
	if ((secs = rs_shm_fail_wait(ctx, k, RS_API_AUTH__MAX,
	    RS_AUTH_FAIL_BURST, RS_AUTH_FAIL_WINDOW)) > 0) {
		snprintf(wait, sizeof(wait), "%d", secs);
		if (rs_reply_header(ctx, "Retry-After", wait) != RS_OK)
			return RS_FAIL;
		return rs_reply_problem(ctx, RS_PROB_RATE_LIMITED,
		    "too many failed key exchanges from this address or for "
		    "this key; retry in %d s", secs);
	}
	rs_shm_fail_count(ctx, k, RS_API_AUTH__MAX, RS_AUTH_FAIL_WINDOW);
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
	int64_t			 now = rs_clock_now_ms() / 1000;
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
		return rs_api_auth_refuse(ctx, key);
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
