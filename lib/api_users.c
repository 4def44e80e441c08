#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "app.h"
#include "clock.h"
#include "codec.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "store_outbox.h"
#include "paging.h"
#include "valid.h"
#include "api_users.h"

#define RS_INVITE_TTL_MS	(7LL * 24 * 3600 * 1000)
#define RS_INVITE_PREFIX	"rsi_"
#define RS_INVITE_LEN		(4 + 43)
#define RS_SYNC_TOUCH_MS	60000	/* last_sync_at granularity */

const char *const rs_api_users_list_query[] = {
	"role", "status", "limit", "cursor", NULL,
};

enum {
	STMT_LIST,
	STMT_GET,
	STMT_BY_EMAIL,
	STMT_INSERT,
	STMT_INVITE_INSERT,
	STMT_INVITE_FIND,
	STMT_INVITE_USE,
	STMT_ACTIVATE,
	STMT_REINVITE,
	STMT_UPDATE,
	STMT_ACTIVE_ADMINS,
	STMT_TOUCH,
	STMT__MAX
};

#define UCOLS	"rowid, id, email, role, status, last_sync_at, created_at"

static const char *const sql[STMT__MAX] = {
	/* STMT_LIST */
	"SELECT " UCOLS " FROM users WHERE org_id = ?1 AND rowid > ?2 "
	"AND (?3 IS NULL OR role = ?3) AND (?4 IS NULL OR status = ?4) "
	"ORDER BY rowid LIMIT ?5",
	/* STMT_GET */
	"SELECT " UCOLS " FROM users WHERE org_id = ?1 AND id = ?2",
	/* STMT_BY_EMAIL: the user, and whether an invite of theirs is live */
	"SELECT u.id, u.status, EXISTS (SELECT 1 FROM invites i "
	"WHERE i.user_id = u.id AND i.used_at IS NULL AND i.expires_at > ?3) "
	"FROM users u WHERE u.org_id = ?1 AND u.email = ?2 COLLATE NOCASE",
	/* STMT_INSERT */
	"INSERT INTO users (id, org_id, email, role, status, created_at) "
	"VALUES (?1, ?2, ?3, ?4, 'invited', ?5)",
	/* STMT_INVITE_INSERT */
	"INSERT INTO invites (hash, user_id, org_id, expires_at, created_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5)",
	/* STMT_INVITE_FIND: live, unused, for a user still invited */
	"SELECT i.user_id, i.org_id FROM invites i "
	"JOIN users u ON u.id = i.user_id "
	"WHERE i.hash = ?1 AND i.used_at IS NULL AND i.expires_at > ?2 "
	"AND u.status = 'invited'",
	/* STMT_INVITE_USE */
	"UPDATE invites SET used_at = ?2 WHERE hash = ?1",
	/* STMT_ACTIVATE */
	"UPDATE users SET status = 'active' WHERE id = ?1",
	/* STMT_REINVITE: a lapsed invitation is sent again, maybe re-roled */
	"UPDATE users SET role = ?3 WHERE org_id = ?1 AND id = ?2 "
	"AND status = 'invited'",
	/* STMT_UPDATE */
	"UPDATE users SET role = ?3, status = ?4 WHERE org_id = ?1 AND id = ?2",
	/* STMT_ACTIVE_ADMINS */
	"SELECT count(*) FROM users WHERE org_id = ?1 AND role = 'admin' "
	"AND status = 'active'",
	/* STMT_TOUCH: at most once a minute, whatever other processes do */
	"UPDATE users SET last_sync_at = ?2 WHERE id = ?1 AND "
	"(last_sync_at IS NULL OR last_sync_at <= ?2 - ?3)",
};

struct rs_user {
	int64_t		 rowid;
	char		 id[RS_ID_MAX];
	const char	*email;
	const char	*role;
	const char	*status;
	int64_t		 last_sync_at;	/* 0: never */
	int64_t		 created_at;
};

static void
rs_api_users_row(struct rs_ctx *ctx, sqlite3_stmt *st, struct rs_user *u)
{
	memset(u, 0, sizeof(*u));
	u->rowid = sqlite3_column_int64(st, 0);
	snprintf(u->id, sizeof(u->id), "%s", sqlite3_column_text(st, 1));
	u->email = rs_arena_strdup(&ctx->app->arena,
	    (const char *)sqlite3_column_text(st, 2));
	u->role = rs_arena_strdup(&ctx->app->arena,
	    (const char *)sqlite3_column_text(st, 3));
	u->status = rs_arena_strdup(&ctx->app->arena,
	    (const char *)sqlite3_column_text(st, 4));
	u->last_sync_at = sqlite3_column_int64(st, 5);
	u->created_at = sqlite3_column_int64(st, 6);
}

static struct json_object *
rs_api_users_json(const struct rs_user *u)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "role", json_object_new_string(u->role));
	json_object_object_add(o, "status",
	    json_object_new_string(u->status));
	json_object_object_add(o, "last_sync_at",
	    rs_json_time(u->last_sync_at));
	json_object_object_add(o, "created_at",
	    rs_json_time(u->created_at));
	return o;
}

/* RS_OK and *u, or RS_ERR_NOTFOUND (also for another org's user). */
static enum rs_err
rs_api_users_get(struct rs_ctx *ctx, const char *id, struct rs_user *u)
{
	sqlite3_stmt	*st;
	int		 step;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_GET])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, ctx->who.org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rs_api_users_row(ctx, st, u);
	rs_db_done(st);
	if (step == SQLITE_ROW)
		return u->email && u->role && u->status ? RS_OK : RS_ERR_NOMEM;
	return step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
}

static void
rs_api_users_invite_hash(struct rs_ctx *ctx, const char *token,
    unsigned char hash[32])
{
	crypto_generichash(hash, 32, (const unsigned char *)token,
	    strlen(token), ctx->app->k_invite, sizeof(ctx->app->k_invite));
}

/* ---- GET /v1/users ----------------------------------------------------- */

int
rs_api_users_list(struct rs_ctx *ctx)
{
	const struct rs_query	*q = &ctx->req.query;
	const char		*role, *status;
	struct rs_valid		 v;
	struct rs_cursor	 c;
	struct rs_user		 u;
	struct json_object	*o, *arr, *next = NULL;
	sqlite3_stmt		*st;
	size_t			 limit, n = 0;
	int64_t			 last = 0;
	int			 step, more = 0, has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	if ((role = rs_query_get(q, "role")) != NULL &&
	    rs_role_parse(role) == 0)
		rs_valid_add(&v, "role", "must be admin, operator or viewer");
	if ((status = rs_query_get(q, "status")) != NULL &&
	    strcmp(status, "active") && strcmp(status, "invited") &&
	    strcmp(status, "disabled"))
		rs_valid_add(&v, "status",
		    "must be active, invited or disabled");
	if (v.n > 0)
		return rs_app_invalid(ctx, &v);
	if ((has = rs_paging_cursor(ctx, "users", &c)) < 0)
		return 0;
	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_LIST])) == NULL ||
	    (o = json_object_new_object()) == NULL)
		return -1;
	arr = json_object_new_array();
	json_object_object_add(o, "data", arr);
	sqlite3_bind_text(st, 1, ctx->who.org_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, has ? c.pos : 0);
	if (role != NULL)
		sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	if (status != NULL)
		sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)limit + 1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		rs_api_users_row(ctx, st, &u);
		json_object_array_add(arr, rs_api_users_json(&u));
		last = u.rowid;
		n++;
	}
	rs_db_done(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		json_object_put(o);
		return -1;
	}
	json_object_object_add(o, "has_more", json_object_new_boolean(more));
	if (more && (next = rs_paging_next(ctx, "users", last, 0)) == NULL) {
		json_object_put(o);
		return -1;
	}
	json_object_object_add(o, "next_cursor", next);
	return rs_app_json(ctx, 200, o);
}

/* ---- POST /v1/users/invite -------------------------------------------- */

/*
 * Inserts the invited user (new set) or gives a lapsed invitee the role
 * asked for now (u->id known).
 */
static enum rs_err
rs_api_users_invitee(struct rs_ctx *ctx, const struct rs_user *u, int new,
    int64_t now)
{
	sqlite3_stmt	*st;
	int		 step;

	if ((st = rs_db_stmt(ctx->app->db,
	    sql[new ? STMT_INSERT : STMT_REINVITE])) == NULL)
		return RS_ERR_DB;
	if (new) {
		sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ctx->who.org_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, u->email, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, u->role, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
	} else {
		sqlite3_bind_text(st, 1, ctx->who.org_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, u->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, u->role, -1, SQLITE_STATIC);
	}
	step = sqlite3_step(st);
	rs_db_done(st);
	return step == SQLITE_DONE ? RS_OK : rs_db_err(step);
}

/* Inserts a new invite for u; the token (shown once) goes to token. */
static enum rs_err
rs_api_users_invite_row(struct rs_ctx *ctx, const struct rs_user *u, char *token,
    size_t tokensz, int64_t now)
{
	unsigned char	 raw[32], hash[32];
	sqlite3_stmt	*st;
	int		 step;

	randombytes_buf(raw, sizeof(raw));
	strcpy(token, RS_INVITE_PREFIX);
	rs_codec_b64url_encode(token + 4, tokensz - 4, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	rs_api_users_invite_hash(ctx, token, hash);
	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_INVITE_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, u->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ctx->who.org_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now + RS_INVITE_TTL_MS);
	sqlite3_bind_int64(st, 5, now);
	step = sqlite3_step(st);
	rs_db_done(st);
	return step == SQLITE_DONE ? RS_OK : rs_db_err(step);
}

enum rs_invitee {
	RS_INVITEE_NEW,		/* no such address in the org */
	RS_INVITEE_LAPSED,	/* invited, but every invite expired: resend */
	RS_INVITEE_EXISTS,	/* a member, or an invite still live: 409 */
	RS_INVITEE_ERROR,
};

/* What inviting email means in this org; a lapsed invitee's id to id. */
static enum rs_invitee
rs_api_users_invitee_state(struct rs_ctx *ctx, const char *email, int64_t now,
    char id[RS_ID_MAX])
{
	sqlite3_stmt		*st;
	enum rs_invitee		 state = RS_INVITEE_ERROR;
	int			 step;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_BY_EMAIL])) == NULL)
		return RS_INVITEE_ERROR;
	sqlite3_bind_text(st, 1, ctx->who.org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((step = sqlite3_step(st)) == SQLITE_DONE)
		state = RS_INVITEE_NEW;
	else if (step == SQLITE_ROW) {
		state = strcmp((const char *)sqlite3_column_text(st, 1),
		    "invited") == 0 && sqlite3_column_int(st, 2) == 0 ?
		    RS_INVITEE_LAPSED : RS_INVITEE_EXISTS;
		snprintf(id, RS_ID_MAX, "%s", sqlite3_column_text(st, 0));
	}
	rs_db_done(st);
	return state;
}

int
rs_api_users_invite(struct rs_ctx *ctx)
{
	static const char *const members[] = { "email", "role", NULL };
	struct rs_valid		 v;
	struct rs_user		 u;
	struct json_object	*o, *shown;
	char			 token[RS_INVITE_LEN + 1], when[32];
	int64_t			 now = rs_clock_now_ms();
	enum rs_invitee		 state;
	const char		*role;

	memset(&u, 0, sizeof(u));
	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	u.email = rs_valid_string(&v, ctx->body, "email", 1, 3, RS_MAX_EMAIL);
	if (u.email != NULL && !rs_valid_email(u.email))
		rs_valid_add(&v, "email", "is not a valid email address");
	u.role = rs_valid_string(&v, ctx->body, "role", 1, 1, 16);
	if (u.role != NULL && rs_role_parse(u.role) == 0)
		rs_valid_add(&v, "role", "must be admin, operator or viewer");
	if (v.n > 0)
		return rs_app_invalid(ctx, &v);
	if (rs_db_begin(ctx->app->db) != RS_OK)
		return rs_app_busy(ctx);
	if ((state = rs_api_users_invitee_state(ctx, u.email, now, u.id)) ==
	    RS_INVITEE_EXISTS || state == RS_INVITEE_ERROR) {
		rs_db_rollback(ctx->app->db);
		return state == RS_INVITEE_ERROR ? -1 : rs_app_problem(ctx,
		    RS_PROB_USER_EXISTS, "%s is already a user of this org, "
		    "or has an invitation that is still valid", u.email);
	}
	if (state == RS_INVITEE_NEW)
		rs_id_new(u.id, sizeof(u.id), "usr_");
	role = u.role;
	if (rs_api_users_invitee(ctx, &u, state == RS_INVITEE_NEW, now) != RS_OK ||
	    rs_api_users_get(ctx, u.id, &u) != RS_OK ||
	    rs_api_users_invite_row(ctx, &u, token, sizeof(token), now) != RS_OK ||
	    strcmp(u.role, role) != 0 || (shown = rs_api_users_json(&u)) == NULL)
		goto fail;
	if (rs_store_outbox_add(ctx->app->db, &ctx->app->arena, ctx->who.org_id,
	    "user.invited", NULL, shown, now) != RS_OK ||
	    rs_db_commit(ctx->app->db) != RS_OK) {
		json_object_put(shown);
		goto fail;
	}
	o = json_object_new_object();
	json_object_object_add(o, "user", shown);
	json_object_object_add(o, "invite_token", json_object_new_string(token));
	json_object_object_add(o, "invite_expires_at", json_object_new_string(
	    rs_clock_format(when, sizeof(when), now + RS_INVITE_TTL_MS)));
	sodium_memzero(token, sizeof(token));
	return rs_app_json(ctx, 201, o);
fail:
	sodium_memzero(token, sizeof(token));
	rs_db_rollback(ctx->app->db);
	return -1;
}

/* ---- POST /v1/users/accept -------------------------------------------- */

/* Finds a live invite by token; 1 and ids, 0 for none, -1 on error. */
static int
rs_api_users_invite_find(struct rs_ctx *ctx, const unsigned char hash[32],
    int64_t now, char uid[RS_ID_MAX], char org[RS_ID_MAX])
{
	sqlite3_stmt	*st;
	int		 step;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_INVITE_FIND])) == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(uid, RS_ID_MAX, "%s", sqlite3_column_text(st, 0));
		snprintf(org, RS_ID_MAX, "%s", sqlite3_column_text(st, 1));
	}
	rs_db_done(st);
	return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

/* Marks the invite used and the user active. */
static enum rs_err
rs_api_users_activate(struct rs_ctx *ctx, const unsigned char hash[32],
    const char *uid, int64_t now)
{
	sqlite3_stmt	*st;
	int		 step;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_INVITE_USE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	step = sqlite3_step(st);
	rs_db_done(st);
	if (step != SQLITE_DONE ||
	    (st = rs_db_stmt(ctx->app->db, sql[STMT_ACTIVATE])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	rs_db_done(st);
	return step == SQLITE_DONE ? RS_OK : rs_db_err(step);
}

int
rs_api_users_accept(struct rs_ctx *ctx)
{
	static const char *const members[] = { "invite_token", NULL };
	struct rs_valid		 v;
	struct rs_user		 u;
	struct json_object	*o, *shown = NULL;
	unsigned char		 hash[32];
	char			 uid[RS_ID_MAX], key[RS_APIKEY_LEN + 1];
	char			 key_id[RS_ID_MAX];
	const char		*token;
	int64_t			 now = rs_clock_now_ms();
	int			 found;

	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	token = rs_valid_string(&v, ctx->body, "invite_token", 1, 1, 128);
	if (v.n > 0)
		return rs_app_invalid(ctx, &v);
	rs_api_users_invite_hash(ctx, token, hash);
	if (rs_db_begin(ctx->app->db) != RS_OK)
		return rs_app_busy(ctx);
	/* ctx->who is empty on this public route: the invite names the org. */
	if ((found = rs_api_users_invite_find(ctx, hash, now, uid,
	    ctx->who.org_id)) <= 0) {
		rs_db_rollback(ctx->app->db);
		return found < 0 ? -1 : rs_app_problem(ctx,
		    RS_PROB_INVITE_INVALID, "the invite token is unknown, "
		    "expired or already used");
	}
	if (rs_api_users_activate(ctx, hash, uid, now) != RS_OK ||
	    rs_admin_key_issue(ctx->app->db, ctx->app->k_apikey,
	    ctx->who.org_id, uid, key, key_id) != RS_OK ||
	    rs_api_users_get(ctx, uid, &u) != RS_OK ||
	    (shown = rs_api_users_json(&u)) == NULL ||
	    rs_store_outbox_add(ctx->app->db, &ctx->app->arena, ctx->who.org_id,
	    "user.activated", NULL, shown, now) != RS_OK ||
	    rs_db_commit(ctx->app->db) != RS_OK) {
		json_object_put(shown);
		rs_db_rollback(ctx->app->db);
		sodium_memzero(key, sizeof(key));
		return -1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "user", shown);
	json_object_object_add(o, "api_key", json_object_new_string(key));
	sodium_memzero(key, sizeof(key));
	return rs_app_json(ctx, 201, o);
}

/* ---- PATCH /v1/users/:id ---------------------------------------------- */

static int64_t
rs_api_users_active_admins(struct rs_ctx *ctx)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_ACTIVE_ADMINS])) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ctx->who.org_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	rs_db_done(st);
	return n;
}

/*
 * Inside the transaction: may u become (role, status)? 0 yes, -1 when
 * answered (409) or on error.
 */
static int
rs_api_users_may_change(struct rs_ctx *ctx, const struct rs_user *u,
    const char *role, const char *status)
{
	int64_t	 admins;

	if (strcmp(u->status, "invited") == 0 && strcmp(status, "invited")) {
		rs_app_problem(ctx, RS_PROB_USER_STATE, "%s has not accepted "
		    "the invite yet; only accepting activates a user",
		    u->id);
		return -1;
	}
	if (strcmp(u->role, "admin") != 0 || strcmp(u->status, "active") != 0 ||
	    (strcmp(role, "admin") == 0 && strcmp(status, "active") == 0))
		return 0;
	if ((admins = rs_api_users_active_admins(ctx)) < 0)
		return -1;
	if (admins <= 1) {
		rs_app_problem(ctx, RS_PROB_LAST_ADMIN, "%s is the org's last "
		    "active admin: make another admin first", u->id);
		return -1;
	}
	return 0;
}

int
rs_api_users_patch(struct rs_ctx *ctx)
{
	static const char *const members[] = { "role", "status", NULL };
	struct rs_valid		 v;
	struct rs_user		 u;
	const char		*role, *status, *id = ctx->req.params[0];
	sqlite3_stmt		*st;
	enum rs_err		 rc;
	int			 step;

	rs_valid_init(&v, &ctx->app->arena);
	rs_valid_known(&v, ctx->body, members);
	if ((role = rs_valid_string(&v, ctx->body, "role", 0, 1, 16)) &&
	    rs_role_parse(role) == 0)
		rs_valid_add(&v, "role", "must be admin, operator or viewer");
	if ((status = rs_valid_string(&v, ctx->body, "status", 0, 1, 16)) &&
	    strcmp(status, "active") && strcmp(status, "disabled"))
		rs_valid_add(&v, "status", "must be active or disabled");
	if (v.n == 0 && role == NULL && status == NULL)
		rs_valid_add(&v, "role", "send role and/or status");
	if (v.n > 0)
		return rs_app_invalid(ctx, &v);
	if (rs_db_begin(ctx->app->db) != RS_OK)
		return rs_app_busy(ctx);
	if ((rc = rs_api_users_get(ctx, id, &u)) != RS_OK) {
		rs_db_rollback(ctx->app->db);
		return rc == RS_ERR_NOTFOUND ? rs_app_problem(ctx,
		    RS_PROB_NOT_FOUND, "no user %.64s", id) : -1;
	}
	if (role == NULL)
		role = u.role;
	if (status == NULL)
		status = u.status;
	if (rs_api_users_may_change(ctx, &u, role, status) != 0) {
		rs_db_rollback(ctx->app->db);
		return ctx->resp.body != NULL ? 0 : -1;
	}
	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_UPDATE])) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, ctx->who.org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	rs_db_done(st);
	if (step != SQLITE_DONE || rs_db_commit(ctx->app->db) != RS_OK)
		goto fail;
	u.role = role;
	u.status = status;
	return rs_app_json(ctx, 200, rs_api_users_json(&u));
fail:
	rs_db_rollback(ctx->app->db);
	return -1;
}

/* ---- last_sync_at ------------------------------------------------------ */

void
rs_api_users_touch(struct rs_ctx *ctx)
{
	sqlite3_stmt	*st;
	int64_t		 now = rs_clock_now_ms();

	/* The principal lookup read the value: most requests stop here. */
	if (ctx->who.last_sync_at != 0 &&
	    now - ctx->who.last_sync_at < RS_SYNC_TOUCH_MS)
		return;
	if ((st = rs_db_stmt(ctx->app->db, sql[STMT_TOUCH])) == NULL)
		return;
	sqlite3_bind_text(st, 1, ctx->who.user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, RS_SYNC_TOUCH_MS);
	if (sqlite3_step(st) != SQLITE_DONE)
		rs_log_warn("cannot record last_sync_at for %s",
		    ctx->who.user_id);
	rs_db_done(st);
}
