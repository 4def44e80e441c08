#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "apikey.h"
#include "app.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "token.h"
#include "valid.h"
#include "api_auth.h"

enum {
	STMT_KEY_BY_HASH,
	STMT_PRINCIPAL,
	STMT_FAILS_GET,
	STMT_FAILS_ADD,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_KEY_BY_HASH */
	"SELECT k.id, k.org_id, k.user_id, u.role, u.status, k.hash "
	"FROM api_keys k JOIN users u ON u.id = k.user_id "
	"WHERE k.hash = ?1 AND k.revoked_at IS NULL",
	/* STMT_PRINCIPAL */
	"SELECT u.email, u.role, u.last_sync_at FROM api_keys k "
	"JOIN users u ON u.id = k.user_id "
	"WHERE k.id = ?1 AND k.org_id = ?2 AND k.user_id = ?3 "
	"AND k.revoked_at IS NULL AND u.status = 'active'",
	/* STMT_FAILS_GET */
	"SELECT window_start, failures FROM auth_failures WHERE addr = ?1",
	/* STMT_FAILS_ADD: a new window once the old one has passed */
	"INSERT INTO auth_failures (addr, window_start, failures) "
	"VALUES (?1, ?2, 1) ON CONFLICT (addr) DO UPDATE SET "
	"failures = CASE WHEN window_start + ?3 <= ?2 THEN 1 "
	"ELSE failures + 1 END, "
	"window_start = CASE WHEN window_start + ?3 <= ?2 THEN ?2 "
	"ELSE window_start END",
};

/* Seconds until addr may try again, 0 when it may now, -1 on error. */
static int
rs_api_auth_throttled(struct rs_ctx *ctx, int64_t now)
{
	sqlite3_stmt	*st;
	int64_t		 start;
	int		 fails, rc;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_FAILS_GET])) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ctx->req.remote_addr, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		rs_db_done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		rs_db_done(st);
		return -1;
	}
	start = sqlite3_column_int64(st, 0);
	fails = sqlite3_column_int(st, 1);
	rs_db_done(st);
	if (fails < RS_AUTH_FAIL_BURST || start + RS_AUTH_FAIL_WINDOW <= now)
		return 0;
	return (int)(start + RS_AUTH_FAIL_WINDOW - now);
}

static void
rs_api_auth_failed(struct rs_ctx *ctx, int64_t now)
{
	sqlite3_stmt	*st;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_FAILS_ADD])) == NULL)
		return;
	sqlite3_bind_text(st, 1, ctx->req.remote_addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, RS_AUTH_FAIL_WINDOW);
	if (sqlite3_step(st) != SQLITE_DONE)
		rs_log_warn("cannot record a failed key exchange: %s",
		    sqlite3_errmsg(sqlite3_db_handle(st)));
	rs_db_done(st);
}

/*
 * Looks the key up by its hash. 1 and *t filled (without expiry) for a
 * live key of an active user, 0 for none, -1 on error.
 */
static int
rs_api_auth_lookup(struct rs_ctx *ctx, const char *key, struct rs_token *t)
{
	unsigned char	 hash[RS_APIKEY_HASH_BYTES];
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	if (!rs_apikey_wellformed(key))
		return 0;
	rs_apikey_hash(ctx->app->k_apikey, key, hash);
	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_KEY_BY_HASH])) == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 5) == (int)sizeof(hash) &&
	    sodium_memcmp(sqlite3_column_blob(st, 5), hash,
	    sizeof(hash)) == 0 &&
	    strcmp((const char *)sqlite3_column_text(st, 4), "active") == 0) {
		snprintf(t->key_id, sizeof(t->key_id), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(t->org_id, sizeof(t->org_id), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(t->user_id, sizeof(t->user_id), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		t->role = rs_role_parse(
		    (const char *)sqlite3_column_text(st, 3));
		found = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		found = -1;
	rs_db_done(st);
	sodium_memzero(hash, sizeof(hash));
	return found;
}

static int
rs_api_auth_token_answer(struct rs_ctx *ctx, const struct rs_token *t)
{
	char			 tok[RS_MAX_TOKEN + 1], when[32];
	struct json_object	*o;

	if (rs_token_mint(ctx->app->k_token, t, tok, sizeof(tok)) != RS_OK ||
	    (o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "access_token", json_object_new_string(tok));
	json_object_object_add(o, "token_type",
	    json_object_new_string("Bearer"));
	json_object_object_add(o, "expires_in",
	    json_object_new_int(ctx->app->cfg.token_ttl));
	json_object_object_add(o, "expires_at", json_object_new_string(
	    rs_clock_format(when, sizeof(when), t->exp * 1000)));
	json_object_object_add(o, "org_id", json_object_new_string(t->org_id));
	json_object_object_add(o, "user_id",
	    json_object_new_string(t->user_id));
	json_object_object_add(o, "role",
	    json_object_new_string(rs_role_name(t->role)));
	sodium_memzero(tok, sizeof(tok));
	return rs_app_json(ctx, 200, o);
}

int
rs_api_auth_token(struct rs_ctx *ctx)
{
	static const char *const members[] = { "api_key", NULL };
	struct rs_valid		 v;
	struct rs_token		 t;
	const char		*key;
	char			 wait[16];
	int64_t			 now = rs_clock_now_ms() / 1000;
	int			 secs, found;

	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	key = rs_valid_string(&v, ctx->body, "api_key", 1, 1, RS_MAX_API_KEY);
	if (v.n > 0)
		return rs_app_invalid(ctx, &v);
	/* Checked before the key, so a guesser learns nothing meanwhile. */
	if ((secs = rs_api_auth_throttled(ctx, now)) < 0)
		return -1;
	if (secs > 0) {
		snprintf(wait, sizeof(wait), "%d", secs);
		rs_resp_header(&ctx->resp, "Retry-After",
		    rs_arena_strdup(&ctx->app->arena, wait));
		return rs_app_problem(ctx, RS_PROB_RATE_LIMITED,
		    "too many failed key exchanges from this address; "
		    "retry in %d s", secs);
	}
	memset(&t, 0, sizeof(t));
	if ((found = rs_api_auth_lookup(ctx, key, &t)) < 0)
		return -1;
	if (found == 0) {
		rs_api_auth_failed(ctx, now);
		return rs_app_problem(ctx, RS_PROB_INVALID_API_KEY,
		    "the API key is unknown, revoked, or its user is disabled");
	}
	t.exp = now + ctx->app->cfg.token_ttl;
	return rs_api_auth_token_answer(ctx, &t);
}

/*
 * rs_token_verify, remembering the last token this process verified: a
 * client sends the same token many times, and the same bytes verify the
 * same way, so only the expiry needs checking again.
 */
static enum rs_err
rs_api_auth_verify(struct rs_ctx *ctx, const char *tok, struct rs_token *t)
{
	static char		 last[RS_MAX_TOKEN + 1];
	static size_t		 lastlen;
	static struct rs_token	 lastt;
	int64_t			 now = rs_clock_now_ms() / 1000;
	size_t			 len = strlen(tok);
	enum rs_err		 rc;

	if (len > 0 && len == lastlen &&
	    sodium_memcmp(tok, last, len) == 0) {
		*t = lastt;
		return t->exp <= now ? RS_ERR_RANGE : RS_OK;
	}
	rc = rs_token_verify(ctx->app->k_token, tok, now, t);
	if (rc == RS_OK && len < sizeof(last)) {
		memcpy(last, tok, len + 1);
		lastlen = len;
		lastt = *t;
	}
	return rc;
}

static int
rs_api_auth_deny(struct rs_ctx *ctx, const char *detail)
{
	rs_resp_header(&ctx->resp, "WWW-Authenticate",
	    "Bearer realm=\"relaysync\"");
	rs_app_problem(ctx, RS_PROB_UNAUTHORIZED, "%s", detail);
	return -1;
}

int
rs_api_auth_bearer(struct rs_ctx *ctx)
{
	const char	*h = rs_http_header(&ctx->req, "Authorization");
	struct rs_token	 t;
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int		 step;

	if (h == NULL || *h == '\0')
		return rs_api_auth_deny(ctx, "a bearer token is required");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return rs_api_auth_deny(ctx, "the Authorization scheme must be "
		    "Bearer");
	for (h += 7; *h == ' '; h++)
		continue;
	rc = rs_api_auth_verify(ctx, h, &t);
	if (rc == RS_ERR_RANGE)
		return rs_api_auth_deny(ctx, "the access token has expired");
	if (rc != RS_OK)
		return rs_api_auth_deny(ctx, "the access token is not valid");
	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_PRINCIPAL])) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, t.key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t.org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t.user_id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_DONE) {
		rs_db_done(st);
		return rs_api_auth_deny(ctx, "the access token was revoked, or its user "
		    "disabled");
	}
	if (step != SQLITE_ROW) {
		rs_db_done(st);
		goto fail;
	}
	ctx->who.email = rs_arena_strdup(&ctx->app->arena,
	    (const char *)sqlite3_column_text(st, 0));
	ctx->who.role = rs_role_parse((const char *)sqlite3_column_text(st, 1));
	ctx->who.last_sync_at = sqlite3_column_int64(st, 2);
	rs_db_done(st);
	memcpy(ctx->who.org_id, t.org_id, sizeof(t.org_id));
	memcpy(ctx->who.user_id, t.user_id, sizeof(t.user_id));
	memcpy(ctx->who.key_id, t.key_id, sizeof(t.key_id));
	ctx->who.token_exp = t.exp;
	ctx->who.authed = 1;
	return 0;
fail:
	rs_app_problem(ctx, RS_PROB_UNAVAILABLE,
	    "cannot check the access token now");
	return -1;
}

int
rs_api_auth_me(struct rs_ctx *ctx)
{
	struct json_object	*o;
	char			 when[32];

	if ((o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "user_id",
	    json_object_new_string(ctx->who.user_id));
	json_object_object_add(o, "email",
	    json_object_new_string(ctx->who.email));
	json_object_object_add(o, "org_id",
	    json_object_new_string(ctx->who.org_id));
	json_object_object_add(o, "role",
	    json_object_new_string(rs_role_name(ctx->who.role)));
	json_object_object_add(o, "key_id",
	    json_object_new_string(ctx->who.key_id));
	json_object_object_add(o, "token_expires_at", json_object_new_string(
	    rs_clock_format(when, sizeof(when), ctx->who.token_exp * 1000)));
	return rs_app_json(ctx, 200, o);
}
