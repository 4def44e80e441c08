#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "apikey.h"
#include "clock.h"
#include "codec.h"
#include "cursor.h"
#include "json.h"
#include "paging.h"
#include "reply.h"
#include "store_keys.h"
#include "store_users.h"
#include "txn.h"
#include "valid.h"
#include "api_users.h"

#define RS_INVITE_PREFIX	"rsi_"
#define RS_INVITE_LEN		(4 + 43)	/* prefix, 32 bytes base64url */

const char *const rs_api_users_list_query[] = {
	"role", "status", "limit", "cursor", NULL,
};

/* u as the API shows it (caller owns it), or NULL. */
static struct json_object *
rs_api_users_json(const struct rs_user *u)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (rs_json_add_str(o, "id", u->id) != 0 ||
	    rs_json_add_str(o, "email", u->email) != 0 ||
	    rs_json_add_str(o, "role", u->role) != 0 ||
	    rs_json_add_str(o, "status", u->status) != 0 ||
	    rs_json_add_time(o, "last_sync_at", u->last_sync_at) != 0 ||
	    rs_json_add_time(o, "created_at", u->created_at) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void
rs_api_users_invite_hash(struct rs_ctx *ctx, const char *token,
    unsigned char hash[RS_STORE_INVITE_HASH_BYTES])
{
	crypto_generichash(hash, RS_STORE_INVITE_HASH_BYTES,
	    (const unsigned char *)token, strlen(token), ctx->app->k_invite,
	    sizeof(ctx->app->k_invite));
}

/* ---- GET /v1/users ----------------------------------------------------- */

/* A user of a page (rs_paging_page). */
static struct json_object *
rs_api_users_show(const void *row)
{
	return rs_api_users_json(row);
}

/* The place of a user in the list: its row. */
static void
rs_api_users_place(const void *row, int64_t *pos, int64_t *walk)
{
	*pos = ((const struct rs_user *)row)->rowid;
	*walk = 0;
}

enum rs_step
rs_api_users_list(struct rs_ctx *ctx)
{
	const struct rs_query	*q = &ctx->req.query;
	struct rs_userfilter	 f;
	struct rs_valid		 v;
	struct rs_cursor	 c;
	struct rs_user		*rows;
	struct json_object	*o;
	size_t			 limit, n;
	enum rs_step		 step;
	int			 has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	if ((f.role = rs_query_get(q, "role")) != NULL &&
	    rs_role_parse(f.role) == 0)
		rs_valid_add(&v, "role", "must be admin, operator or viewer");
	if ((f.status = rs_query_get(q, "status")) != NULL &&
	    strcmp(f.status, "active") && strcmp(f.status, "invited") &&
	    strcmp(f.status, "disabled"))
		rs_valid_add(&v, "status",
		    "must be active, invited or disabled");
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_paging_cursor(ctx, "users", &c, &has)) != RS_NEXT)
		return step;
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL ||
	    rs_store_users_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, &f, c.pos, limit + 1, rows, &n) != RS_OK)
		return RS_FAIL;
	if ((o = rs_paging_page(ctx, "users", rows, sizeof(*rows), n, limit,
	    rs_api_users_show, rs_api_users_place)) == NULL)
		return RS_FAIL;
	return rs_reply_json(ctx, 200, o);
}

/*
 * The entry of a change of user uid: action, target uid, detail the
 * string members given as (name, value) pairs, a NULL value left out
 * (never an invite token or a key). RS_OK or RS_ERR_NOMEM.
 */
static enum rs_err
rs_api_users_audit(struct rs_txn *t, const char *action, const char *uid,
    const char *n1, const char *v1, const char *n2, const char *v2)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL ||
	    (v1 != NULL && rs_json_add_str(o, n1, v1) != 0) ||
	    (v2 != NULL && rs_json_add_str(o, n2, v2) != 0) ||
	    (t->audit.target = rs_arena_strdup(t->arena, uid)) == NULL) {
		json_object_put(o);
		return RS_ERR_NOMEM;
	}
	t->audit.action = action;
	t->audit.detail = o;
	return RS_OK;
}

/* ---- POST /v1/users/invite -------------------------------------------- */

struct rs_invite {
	struct rs_ctx		*ctx;
	struct rs_user		 u;		/* email, role asked for */
	char			 token[RS_INVITE_LEN + 1]; /* shown once */
	struct json_object	*shown;		/* the user, after */
};

/*
 * Inside the transaction: a new invitee, or a lapsed one (every invite
 * expired) invited again with the role asked for now; declines (409
 * answered) for a member or a live invitation.
 */
static enum rs_txn_do
rs_api_users_invite_change(struct rs_txn *t, void *arg)
{
	struct rs_invite	*in = arg;
	struct rs_ctx		*ctx = in->ctx;
	struct rs_user		 have;
	unsigned char		 raw[32], hash[RS_STORE_INVITE_HASH_BYTES];
	int			 live;
	const char		*role = in->u.role;

	t->err = rs_store_users_by_email(t->db, t->arena, t->org, in->u.email,
	    t->now, &have, &live);
	if (t->err == RS_OK && (strcmp(have.status, "invited") != 0 || live)) {
		rs_reply_problem(ctx, RS_PROB_USER_EXISTS, "%s is already a "
		    "user of this org, or has an invitation that is still "
		    "valid", in->u.email);
		return RS_TXN_DECLINE;
	}
	if (t->err == RS_OK) {
		memcpy(in->u.id, have.id, sizeof(in->u.id));
		t->err = rs_store_users_update(t->db, t->org, have.id, role,
		    "invited");
	} else if (t->err == RS_ERR_NOTFOUND) {
		rs_id_new(in->u.id, sizeof(in->u.id), "usr_");
		in->u.status = "invited";
		t->err = rs_store_users_insert(t->db, t->org, &in->u, t->now);
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	randombytes_buf(raw, sizeof(raw));
	strcpy(in->token, RS_INVITE_PREFIX);
	rs_codec_b64url_encode(in->token + 4, sizeof(in->token) - 4, raw,
	    sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	rs_api_users_invite_hash(ctx, in->token, hash);
	if ((t->err = rs_store_users_invite(t->db, hash, in->u.id, t->org,
	    t->now + RS_INVITE_TTL_MS, t->now)) != RS_OK ||
	    (t->err = rs_store_users_get(t->db, t->arena, t->org, in->u.id,
	    &in->u)) != RS_OK)
		return RS_TXN_FAILED;
	if (strcmp(in->u.role, role) != 0 ||
	    (in->shown = rs_api_users_json(&in->u)) == NULL ||
	    (t->err = rs_txn_event(t, "user.invited", NULL,
	    in->shown)) != RS_OK ||
	    (t->err = rs_api_users_audit(t, "user.invite", in->u.id, "email",
	    in->u.email, "role", in->u.role)) != RS_OK)
		return RS_TXN_FAILED;
	return RS_TXN_COMMIT;
}

/* 201 with the user, the invite token (its only copy) and its expiry. */
static enum rs_step
rs_api_users_invited(struct rs_ctx *ctx, struct rs_invite *in, int64_t now)
{
	struct json_object	*o;
	char			 when[32];

	if ((o = json_object_new_object()) == NULL)
		return RS_FAIL;
	if (rs_json_add(o, "user", json_object_get(in->shown)) != 0 ||
	    rs_json_add_str(o, "invite_token", in->token) != 0 ||
	    rs_json_add_str(o, "invite_expires_at", rs_clock_format(when,
	    sizeof(when), now + RS_INVITE_TTL_MS)) != 0) {
		json_object_put(o);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, 201, o);
}

enum rs_step
rs_api_users_invite(struct rs_ctx *ctx)
{
	static const char *const members[] = { "email", "role", NULL };
	struct rs_valid		 v;
	struct rs_invite	 in;
	struct rs_txn		 t;
	enum rs_txn_result	 res;
	enum rs_step		 step;

	memset(&in, 0, sizeof(in));
	in.ctx = ctx;
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	in.u.email = rs_valid_string(&v, ctx->body, "email", 1, 3,
	    RS_MAX_EMAIL);
	if (in.u.email != NULL && !rs_valid_email(in.u.email))
		rs_valid_add(&v, "email", "is not a valid email address");
	in.u.role = rs_valid_string(&v, ctx->body, "role", 1, 1, RS_MAX_ROLE);
	if (in.u.role != NULL && rs_role_parse(in.u.role) == 0)
		rs_valid_add(&v, "role", "must be admin, operator or viewer");
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	rs_reply_txn_init(ctx, &t);
	if ((res = rs_txn_run(&t, rs_api_users_invite_change, &in)) ==
	    RS_TXN_DONE)
		step = rs_api_users_invited(ctx, &in, t.now);
	else
		step = rs_reply_txn(ctx, res);
	json_object_put(in.shown);
	sodium_memzero(in.token, sizeof(in.token));
	return step;
}

/* ---- POST /v1/users/accept -------------------------------------------- */

struct rs_accept {
	struct rs_ctx		*ctx;
	unsigned char		 hash[RS_STORE_INVITE_HASH_BYTES];
	char			 key[RS_APIKEY_LEN + 1];	/* shown once */
	char			 key_id[RS_ID_MAX];
	struct json_object	*shown;
};

/*
 * Inside the transaction: the invite names the user and the org (the
 * caller has no token on this public route); declines (answered) when it
 * is unknown, expired or used.
 */
static enum rs_txn_do
rs_api_users_accept_change(struct rs_txn *t, void *arg)
{
	struct rs_accept	*ac = arg;
	struct rs_ctx		*ctx = ac->ctx;
	struct rs_user		 u;
	char			 uid[RS_ID_MAX];

	t->err = rs_store_users_invite_find(t->db, ac->hash, t->now, uid,
	    t->org);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_reply_problem(ctx, RS_PROB_INVITE_INVALID, "the invite "
		    "token is unknown, expired or already used");
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK ||
	    (t->err = rs_store_users_invite_use(t->db, ac->hash, uid,
	    t->now)) != RS_OK ||
	    (t->err = rs_store_keys_issue(t->db, ctx->app->k_apikey, t->org,
	    uid, t->now, ac->key, ac->key_id)) != RS_OK ||
	    (t->err = rs_store_users_get(t->db, t->arena, t->org, uid,
	    &u)) != RS_OK ||
	    (ac->shown = rs_api_users_json(&u)) == NULL ||
	    (t->err = rs_txn_event(t, "user.activated", NULL,
	    ac->shown)) != RS_OK ||
	    (t->err = rs_api_users_audit(t, "user.accept", uid, "key_id",
	    ac->key_id, NULL, NULL)) != RS_OK)
		return RS_TXN_FAILED;
	/* The actor is the accepting user, learnt with the org. */
	t->audit.actor_id = t->audit.target;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_users_accept(struct rs_ctx *ctx)
{
	static const char *const members[] = { "invite_token", NULL };
	struct rs_valid		 v;
	struct rs_accept	 ac;
	struct rs_txn		 t;
	struct json_object	*o = NULL;
	const char		*token;
	enum rs_txn_result	 res;
	enum rs_step		 step = RS_FAIL;

	memset(&ac, 0, sizeof(ac));
	ac.ctx = ctx;
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	token = rs_valid_string(&v, ctx->body, "invite_token", 1, 1,
	    RS_MAX_INVITE_TOKEN);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	rs_api_users_invite_hash(ctx, token, ac.hash);
	rs_reply_txn_init(ctx, &t);	/* public: no org nor user yet */
	if ((res = rs_txn_run(&t, rs_api_users_accept_change, &ac)) !=
	    RS_TXN_DONE)
		step = rs_reply_txn(ctx, res);
	else if ((o = json_object_new_object()) != NULL &&
	    rs_json_add(o, "user", json_object_get(ac.shown)) == 0 &&
	    rs_json_add_str(o, "api_key", ac.key) == 0) {
		step = rs_reply_json(ctx, 201, o);
		o = NULL;
	}
	json_object_put(o);
	json_object_put(ac.shown);
	sodium_memzero(ac.key, sizeof(ac.key));
	return step;
}

/* ---- PATCH /v1/users/:id ---------------------------------------------- */

struct rs_userpatch {
	struct rs_ctx	*ctx;
	const char	*id;
	const char	*role;		/* asked for, or NULL: keep */
	const char	*status;	/* asked for, or NULL: keep */
	struct rs_user	 u;		/* as it is after */
	const char	*asked_role;	/* as given, or NULL */
	const char	*asked_status;	/* as given, or NULL */
};

/*
 * May u become (role, status)? RS_NEXT yes; RS_ANSWERED with a 409 when
 * it is still invited or the org's last active admin; RS_FAIL.
 */
static enum rs_step
rs_api_users_may_change(struct rs_ctx *ctx, struct rs_db *db,
    const struct rs_user *u, const char *role, const char *status)
{
	int64_t	 admins;

	if (strcmp(u->status, "invited") == 0 && strcmp(status, "invited"))
		return rs_reply_problem(ctx, RS_PROB_USER_STATE, "%s has not "
		    "accepted the invite yet; only accepting activates a "
		    "user", u->id);
	if (strcmp(u->role, "admin") != 0 || strcmp(u->status, "active") != 0 ||
	    (strcmp(role, "admin") == 0 && strcmp(status, "active") == 0))
		return RS_NEXT;
	if ((admins = rs_store_users_admins(db, ctx->who.org_id)) < 0)
		return RS_FAIL;
	if (admins <= 1)
		return rs_reply_problem(ctx, RS_PROB_LAST_ADMIN, "%s is the "
		    "org's last active admin: make another admin first",
		    u->id);
	return RS_NEXT;
}

static enum rs_txn_do
rs_api_users_patch_change(struct rs_txn *t, void *arg)
{
	struct rs_userpatch	*up = arg;
	struct rs_ctx		*ctx = up->ctx;
	enum rs_step		 step;

	t->err = rs_store_users_get(t->db, t->arena, t->org, up->id, &up->u);
	if (t->err == RS_ERR_NOTFOUND) {
		rs_reply_problem(ctx, RS_PROB_NOT_FOUND, "no user %.64s",
		    up->id);
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	if (up->role == NULL)
		up->role = up->u.role;
	if (up->status == NULL)
		up->status = up->u.status;
	if ((step = rs_api_users_may_change(ctx, t->db, &up->u, up->role,
	    up->status)) != RS_NEXT)
		return step == RS_ANSWERED ? RS_TXN_DECLINE : RS_TXN_FAILED;
	if ((t->err = rs_store_users_update(t->db, t->org, up->u.id, up->role,
	    up->status)) != RS_OK ||
	    (t->err = rs_api_users_audit(t, "user.update", up->u.id, "role",
	    up->asked_role, "status", up->asked_status)) != RS_OK)
		return RS_TXN_FAILED;
	up->u.role = up->role;
	up->u.status = up->status;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_users_patch(struct rs_ctx *ctx)
{
	static const char *const members[] = { "role", "status", NULL };
	struct rs_valid		 v;
	struct rs_userpatch	 up;
	struct rs_txn		 t;
	enum rs_txn_result	 res;

	memset(&up, 0, sizeof(up));
	up.ctx = ctx;
	up.id = ctx->req.params[0];
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	if ((up.role = rs_valid_string(&v, ctx->body, "role", 0, 1,
	    RS_MAX_ROLE)) != NULL && rs_role_parse(up.role) == 0)
		rs_valid_add(&v, "role", "must be admin, operator or viewer");
	if ((up.status = rs_valid_string(&v, ctx->body, "status", 0, 1,
	    RS_MAX_ROLE)) != NULL && strcmp(up.status, "active") &&
	    strcmp(up.status, "disabled"))
		rs_valid_add(&v, "status", "must be active or disabled");
	if (v.n == 0 && up.role == NULL && up.status == NULL)
		rs_valid_add(&v, "role", "send role and/or status");
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	up.asked_role = up.role;
	up.asked_status = up.status;
	rs_reply_txn_init(ctx, &t);
	if ((res = rs_txn_run(&t, rs_api_users_patch_change, &up)) !=
	    RS_TXN_DONE)
		return rs_reply_txn(ctx, res);
	return rs_reply_json(ctx, 200, rs_api_users_json(&up.u));
}
