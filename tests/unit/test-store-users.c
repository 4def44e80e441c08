/*
 * test-store-users: users and invites in SQLite (lib/store_users.h):
 * insert and get, lists with their filters and keyset paging, lookup by
 * address with the live-invite flag, updates, the admin count, the
 * last_sync_at throttle and the invite life cycle. Every query is per
 * org, so a second org (rs_admin_org_create) checks the scoping. Each
 * test has its own migrated database file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "admin.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "store_users.h"
#define FIXTURE_BOTH	/* store_users_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define HOUR_MS	INT64_C(3600000)
#define MAXU	16

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;

/* A new migrated database with org "Acme" (its id into org). */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* Inserts a user of org in a transaction of its own; its id into id. */
static enum rs_err
add(struct rs_db *db, const char *org, const char *email, const char *role,
    const char *status, int64_t now, char id[RS_ID_MAX])
{
	struct rs_user	 u;
	enum rs_err	 rc;

	memset(&u, 0, sizeof(u));
	rs_id_new(u.id, sizeof(u.id), "usr_");
	u.email = email;
	u.role = role;
	u.status = status;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_users_insert(db, org, &u, now)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	if (id != NULL)
		memcpy(id, u.id, RS_ID_MAX);
	return rs_db_commit(db);
}

static enum rs_err
update(struct rs_db *db, const char *org, const char *id, const char *role,
    const char *status)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_users_update(db, org, id, role, status)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

static enum rs_err
touch(struct rs_db *db, const char *uid, int64_t now, int64_t every)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_users_touch(db, uid, now, every)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

static enum rs_err
invite(struct rs_db *db, const unsigned char *hash, const char *uid,
    const char *org, int64_t expires, int64_t now)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_users_invite(db, hash, uid, org, expires,
	    now)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

static enum rs_err
invite_use(struct rs_db *db, const unsigned char *hash, const char *uid,
    int64_t now)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_users_invite_use(db, hash, uid, now)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* The status of user id of org, or "(none)". */
static const char *
status_of(struct rs_db *db, const char *org, const char *id)
{
	struct rs_user	 u;

	if (rs_store_users_get(db, &arena, org, id, &u) != RS_OK)
		return "(none)";
	return u.status;
}

/* The emails of org's users matching role and status after rowid after. */
static const char *
emails(struct rs_db *db, const char *org, const char *role,
    const char *status, int64_t after, size_t max)
{
	struct rs_userfilter	 f = { role, status };
	struct rs_user		 out[MAXU];
	size_t			 n, i;
	char			*s = rs_arena_strdup(&arena, "");

	if (rs_store_users_list(db, &arena, org, &f, after, max, out, &n) !=
	    RS_OK)
		return "(error)";
	for (i = 0; i < n; i++)
		s = rs_arena_printf(&arena, "%s%s%s", s, i > 0 ? "," : "",
		    out[i].email);
	return s;
}

/* Five users of org: a (admin), b (operator), c (viewer, invited),
 * d (admin, disabled), e (operator), in that order. */
static void
five(struct rs_db *db, const char *org)
{
	TAP_SETUP(add(db, org, "a@x.io", "admin", "active", NOW_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(add(db, org, "b@x.io", "operator", "active", NOW_MS,
	    NULL) == RS_OK);
	TAP_SETUP(add(db, org, "c@x.io", "viewer", "invited", NOW_MS,
	    NULL) == RS_OK);
	TAP_SETUP(add(db, org, "d@x.io", "admin", "disabled", NOW_MS,
	    NULL) == RS_OK);
	TAP_SETUP(add(db, org, "e@x.io", "operator", "active", NOW_MS,
	    NULL) == RS_OK);
}

/* A 32-byte invite hash, all b. */
static void
hash_set(unsigned char h[RS_STORE_INVITE_HASH_BYTES], unsigned char b)
{
	memset(h, b, RS_STORE_INVITE_HASH_BYTES);
}

static void
test_users_insert_get(void)
{
	struct rs_user	 u;
	char		 org[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_IS_INT(add(db, org, "Ann@Example.com", "operator", "active",
	    NOW_MS, id), RS_OK, "users insert: succeeds");
	if (!TAP_IS_INT(rs_store_users_get(db, &arena, org, id, &u), RS_OK,
	    "users get: finds the user")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_STR(u.id, id, "users get: id");
	TAP_IS_STR(u.email, "Ann@Example.com",
	    "users get: email as given (case kept)");
	TAP_IS_STR(u.role, "operator", "users get: role");
	TAP_IS_STR(u.status, "active", "users get: status");
	TAP_IS_INT(u.last_sync_at, 0, "users get: last_sync_at 0: never");
	TAP_IS_INT(u.created_at, NOW_MS, "users get: created_at");
	TAP_OK(u.rowid > 0, "users get: a rowid for list order");
	rs_db_close(db);
}

static void
test_users_get_unknown(void)
{
	struct rs_user	 u;
	char		 org[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	rs_id_new(id, sizeof(id), "usr_");
	TAP_IS_INT(rs_store_users_get(db, &arena, org, id, &u),
	    RS_ERR_NOTFOUND, "users get: an unknown id is NOTFOUND");
	rs_db_close(db);
}

static void
test_users_get_other_org(void)
{
	struct rs_user	 u;
	char		 org[RS_ID_MAX], org2[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_SETUP(add(db, org2, "o@x.io", "admin", "active", NOW_MS, id) ==
	    RS_OK);
	TAP_IS_INT(rs_store_users_get(db, &arena, org, id, &u),
	    RS_ERR_NOTFOUND, "users get: another org's user is NOTFOUND");
	TAP_IS_INT(rs_store_users_get(db, &arena, org2, id, &u), RS_OK,
	    "users get: found in its own org");
	rs_db_close(db);
}

static void
test_users_insert_duplicate(void)
{
	char		 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_SETUP(add(db, org, "dup@x.io", "viewer", "active", NOW_MS,
	    NULL) == RS_OK);
	TAP_IS_INT(add(db, org, "DUP@X.IO", "viewer", "active", NOW_MS, NULL),
	    RS_ERR_EXISTS,
	    "users insert: one address per org, whatever its case");
	TAP_IS_INT(add(db, org2, "dup@x.io", "viewer", "active", NOW_MS,
	    NULL), RS_OK, "users insert: the same address in another org");
	rs_db_close(db);
}

static void
test_users_list_order(void)
{
	char		 org[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	five(db, org);
	TAP_IS_STR(emails(db, org, NULL, NULL, 0, MAXU),
	    "a@x.io,b@x.io,c@x.io,d@x.io,e@x.io",
	    "users list: every user, in insertion order");
	TAP_IS_STR(emails(db, org, NULL, NULL, 0, 3), "a@x.io,b@x.io,c@x.io",
	    "users list: at most max");
	TAP_IS_STR(emails(db, org, NULL, NULL, 0, 0), "",
	    "users list: max 0 gives none");
	rs_db_close(db);
}

static void
test_users_list_filter_role(void)
{
	char		 org[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	five(db, org);
	TAP_IS_STR(emails(db, org, "admin", NULL, 0, MAXU), "a@x.io,d@x.io",
	    "users list: role filter");
	TAP_IS_STR(emails(db, org, "operator", NULL, 0, MAXU),
	    "b@x.io,e@x.io", "users list: role filter, another role");
	rs_db_close(db);
}

static void
test_users_list_filter_status(void)
{
	char		 org[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	five(db, org);
	TAP_IS_STR(emails(db, org, NULL, "active", 0, MAXU),
	    "a@x.io,b@x.io,e@x.io", "users list: status filter");
	TAP_IS_STR(emails(db, org, NULL, "invited", 0, MAXU), "c@x.io",
	    "users list: status filter, invited");
	TAP_IS_STR(emails(db, org, "admin", "active", 0, MAXU), "a@x.io",
	    "users list: role and status combine with AND");
	TAP_IS_STR(emails(db, org, "viewer", "disabled", 0, MAXU), "",
	    "users list: filters matching none");
	rs_db_close(db);
}

static void
test_users_list_keyset(void)
{
	struct rs_userfilter	 f = { NULL, NULL };
	struct rs_user		 out[MAXU];
	size_t			 n;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	five(db, org);
	if (!TAP_IS_INT(rs_store_users_list(db, &arena, org, &f, 0, 2, out,
	    &n), RS_OK, "users list: first page succeeds") ||
	    !TAP_IS_INT(n, 2, "users list: first page has 2")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_STR(emails(db, org, NULL, NULL, out[1].rowid, 2),
	    "c@x.io,d@x.io", "users list: after the last rowid, the next page");
	TAP_IS_STR(emails(db, org, NULL, NULL, out[0].rowid, MAXU),
	    "b@x.io,c@x.io,d@x.io,e@x.io",
	    "users list: after a rowid excludes it and earlier ones");
	TAP_SETUP(rs_store_users_list(db, &arena, org, &f, 0, MAXU, out,
	    &n) == RS_OK && n == 5);
	TAP_IS_STR(emails(db, org, NULL, NULL, out[4].rowid, MAXU), "",
	    "users list: after the last user gives none");
	TAP_IS_STR(emails(db, org, "operator", NULL, out[1].rowid, MAXU),
	    "e@x.io", "users list: paging and a filter together");
	rs_db_close(db);
}

static void
test_users_list_other_org(void)
{
	char		 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_SETUP(add(db, org, "a@x.io", "admin", "active", NOW_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(add(db, org2, "z@x.io", "admin", "active", NOW_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(add(db, org, "b@x.io", "admin", "active", NOW_MS, NULL) ==
	    RS_OK);
	TAP_IS_STR(emails(db, org, NULL, NULL, 0, MAXU), "a@x.io,b@x.io",
	    "users list: only the org's own users");
	TAP_IS_STR(emails(db, org2, NULL, NULL, 0, MAXU), "z@x.io",
	    "users list: the other org's, its own");
	rs_db_close(db);
}

static void
test_users_by_email(void)
{
	struct rs_user	 u;
	char		 org[RS_ID_MAX], org2[RS_ID_MAX], id[RS_ID_MAX];
	int		 live = -1;
	struct rs_db	*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_SETUP(add(db, org, "Ann@Example.com", "viewer", "active", NOW_MS,
	    id) == RS_OK);
	TAP_IS_INT(rs_store_users_by_email(db, &arena, org, "ann@EXAMPLE.COM",
	    NOW_MS, &u, &live), RS_OK,
	    "users by_email: found in any case");
	TAP_IS_STR(u.id, id, "users by_email: the right user");
	TAP_IS_STR(u.email, "Ann@Example.com",
	    "users by_email: the address as stored");
	TAP_IS_INT(live, 0, "users by_email: no invite: live_invite 0");
	TAP_IS_INT(rs_store_users_by_email(db, &arena, org, "bob@example.com",
	    NOW_MS, &u, &live), RS_ERR_NOTFOUND,
	    "users by_email: an unknown address is NOTFOUND");
	TAP_IS_INT(rs_store_users_by_email(db, &arena, org2,
	    "ann@example.com", NOW_MS, &u, &live), RS_ERR_NOTFOUND,
	    "users by_email: another org's address is NOTFOUND");
	rs_db_close(db);
}

static void
test_users_by_email_live_invite(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES];
	struct rs_user	 u;
	char		 org[RS_ID_MAX], id[RS_ID_MAX];
	int		 live = -1;
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	hash_set(h, 0x01);
	TAP_SETUP(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS) == RS_OK);
	TAP_IS_INT(rs_store_users_by_email(db, &arena, org, "INV@x.io",
	    NOW_MS, &u, &live), RS_OK, "users by_email: the invited user");
	TAP_IS_INT(live, 1, "users by_email: an unused invite, not expired, "
	    "is live");
	TAP_SETUP(rs_store_users_by_email(db, &arena, org, "inv@x.io",
	    NOW_MS + HOUR_MS - 1, &u, &live) == RS_OK);
	TAP_IS_INT(live, 1, "users by_email: live until just before it "
	    "expires");
	TAP_SETUP(rs_store_users_by_email(db, &arena, org, "inv@x.io",
	    NOW_MS + HOUR_MS, &u, &live) == RS_OK);
	TAP_IS_INT(live, 0, "users by_email: lapsed at its expiry");
	TAP_SETUP(rs_store_users_by_email(db, &arena, org, "inv@x.io",
	    NOW_MS + 2 * HOUR_MS, &u, &live) == RS_OK);
	TAP_IS_INT(live, 0, "users by_email: lapsed after it");
	TAP_IS_STR(u.status, "invited",
	    "users by_email: a lapsed invite's user is found still");
	rs_db_close(db);
}

static void
test_users_by_email_used_invite(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES];
	struct rs_user	 u;
	char		 org[RS_ID_MAX], id[RS_ID_MAX];
	int		 live = -1;
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	hash_set(h, 0x02);
	TAP_SETUP(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS) == RS_OK);
	TAP_SETUP(invite_use(db, h, id, NOW_MS + 1) == RS_OK);
	TAP_SETUP(rs_store_users_by_email(db, &arena, org, "inv@x.io",
	    NOW_MS + 2, &u, &live) == RS_OK);
	TAP_IS_INT(live, 0, "users by_email: a used invite is not live");
	rs_db_close(db);
}

static void
test_users_update(void)
{
	struct rs_user	 u;
	char		 org[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "up@x.io", "viewer", "active", NOW_MS, id) ==
	    RS_OK);
	TAP_IS_INT(update(db, org, id, "admin", "disabled"), RS_OK,
	    "users update: succeeds");
	TAP_SETUP(rs_store_users_get(db, &arena, org, id, &u) == RS_OK);
	TAP_OK(strcmp(u.role, "admin") == 0 &&
	    strcmp(u.status, "disabled") == 0,
	    "users update: role and status are set");
	rs_db_close(db);
}

static void
test_users_update_unknown(void)
{
	char		 org[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	rs_id_new(id, sizeof(id), "usr_");
	TAP_IS_INT(update(db, org, id, "admin", "active"), RS_ERR_NOTFOUND,
	    "users update: an unknown id is NOTFOUND");
	rs_db_close(db);
}

static void
test_users_update_other_org(void)
{
	char		 org[RS_ID_MAX], org2[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_SETUP(add(db, org2, "o@x.io", "viewer", "active", NOW_MS, id) ==
	    RS_OK);
	TAP_IS_INT(update(db, org, id, "admin", "active"), RS_ERR_NOTFOUND,
	    "users update: another org's user is NOTFOUND");
	TAP_IS_STR(status_of(db, org2, id), "active",
	    "users update: and it is left as it was");
	rs_db_close(db);
}

static void
test_users_admins(void)
{
	char		 org[RS_ID_MAX], org2[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_IS_INT(rs_store_users_admins(db, org), 0,
	    "users admins: none in a new org");
	five(db, org);		/* admins: a active, d disabled */
	TAP_SETUP(add(db, org, "f@x.io", "admin", "invited", NOW_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(add(db, org, "g@x.io", "admin", "active", NOW_MS, id) ==
	    RS_OK);
	TAP_SETUP(add(db, org2, "h@x.io", "admin", "active", NOW_MS, NULL) ==
	    RS_OK);
	TAP_IS_INT(rs_store_users_admins(db, org), 2,
	    "users admins: active admins only, of the org only");
	TAP_SETUP(update(db, org, id, "operator", "active") == RS_OK);
	TAP_IS_INT(rs_store_users_admins(db, org), 1,
	    "users admins: one fewer after a demotion");
	TAP_IS_INT(rs_store_users_admins(db, org2), 1,
	    "users admins: the other org counts its own");
	rs_db_close(db);
}

static void
test_users_touch(void)
{
	struct rs_user	 u;
	char		 org[RS_ID_MAX], id[RS_ID_MAX], id2[RS_ID_MAX];
	const int64_t	 every = 60000;
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "t@x.io", "viewer", "active", NOW_MS, id) ==
	    RS_OK);
	TAP_SETUP(add(db, org, "u@x.io", "viewer", "active", NOW_MS, id2) ==
	    RS_OK);
	TAP_IS_INT(touch(db, id, NOW_MS, every), RS_OK,
	    "users touch: succeeds");
	TAP_SETUP(rs_store_users_get(db, &arena, org, id, &u) == RS_OK);
	TAP_IS_INT(u.last_sync_at, NOW_MS,
	    "users touch: the first touch writes now");
	TAP_IS_INT(touch(db, id, NOW_MS + every - 1, every), RS_OK,
	    "users touch: a touch within every_ms succeeds");
	TAP_SETUP(rs_store_users_get(db, &arena, org, id, &u) == RS_OK);
	TAP_IS_INT(u.last_sync_at, NOW_MS,
	    "users touch: but writes nothing");
	TAP_SETUP(touch(db, id, NOW_MS + every, every) == RS_OK);
	TAP_SETUP(rs_store_users_get(db, &arena, org, id, &u) == RS_OK);
	TAP_IS_INT(u.last_sync_at, NOW_MS + every,
	    "users touch: every_ms later it writes again");
	TAP_SETUP(touch(db, id, NOW_MS, every) == RS_OK);
	TAP_SETUP(rs_store_users_get(db, &arena, org, id, &u) == RS_OK);
	TAP_IS_INT(u.last_sync_at, NOW_MS + every,
	    "users touch: an earlier time never goes back");
	TAP_SETUP(rs_store_users_get(db, &arena, org, id2, &u) == RS_OK);
	TAP_IS_INT(u.last_sync_at, 0, "users touch: other users untouched");
	rs_db_close(db);
}

static void
test_users_invite_find(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES],
			 other[RS_STORE_INVITE_HASH_BYTES];
	char		 org[RS_ID_MAX], id[RS_ID_MAX], uid[RS_ID_MAX],
			 uorg[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	hash_set(h, 0x03);
	hash_set(other, 0x04);
	TAP_IS_INT(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS), RS_OK,
	    "users invite: insert succeeds");
	TAP_IS_INT(rs_store_users_invite_find(db, h, NOW_MS, uid, uorg),
	    RS_OK, "users invite: found by its hash");
	TAP_IS_STR(uid, id, "users invite: with its user's id");
	TAP_IS_STR(uorg, org, "users invite: and its org's id");
	TAP_IS_INT(rs_store_users_invite_find(db, other, NOW_MS, uid, uorg),
	    RS_ERR_NOTFOUND, "users invite: an unknown hash is NOTFOUND");
	TAP_IS_INT(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS),
	    RS_ERR_EXISTS, "users invite: a hash is kept once");
	rs_db_close(db);
}

static void
test_users_invite_expired(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES];
	char		 org[RS_ID_MAX], id[RS_ID_MAX], uid[RS_ID_MAX],
			 uorg[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	hash_set(h, 0x05);
	TAP_SETUP(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS) == RS_OK);
	TAP_IS_INT(rs_store_users_invite_find(db, h, NOW_MS + HOUR_MS - 1,
	    uid, uorg), RS_OK, "users invite: found just before it expires");
	TAP_IS_INT(rs_store_users_invite_find(db, h, NOW_MS + HOUR_MS, uid,
	    uorg), RS_ERR_NOTFOUND, "users invite: NOTFOUND at its expiry");
	TAP_IS_INT(rs_store_users_invite_find(db, h, NOW_MS + 2 * HOUR_MS,
	    uid, uorg), RS_ERR_NOTFOUND, "users invite: NOTFOUND after it");
	rs_db_close(db);
}

static void
test_users_invite_use(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES];
	char		 org[RS_ID_MAX], id[RS_ID_MAX], uid[RS_ID_MAX],
			 uorg[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	hash_set(h, 0x06);
	TAP_SETUP(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS) == RS_OK);
	TAP_SETUP(rs_store_users_invite_find(db, h, NOW_MS, uid, uorg) ==
	    RS_OK);
	TAP_IS_INT(invite_use(db, h, uid, NOW_MS + 5), RS_OK,
	    "users invite: use succeeds");
	TAP_IS_STR(status_of(db, org, id), "active",
	    "users invite: use makes its user active");
	TAP_IS_INT(fixture_query_int(db, "SELECT used_at FROM invites "
	    "WHERE user_id = ?1", id), NOW_MS + 5,
	    "users invite: use marks it used at now");
	TAP_IS_INT(rs_store_users_invite_find(db, h, NOW_MS + 6, uid, uorg),
	    RS_ERR_NOTFOUND, "users invite: NOTFOUND once used");
	TAP_IS_INT(invite_use(db, h, uid, NOW_MS + 7), RS_ERR_NOTFOUND,
	    "users invite: using it twice is NOTFOUND");
	TAP_IS_INT(fixture_query_int(db, "SELECT used_at FROM invites "
	    "WHERE user_id = ?1", id), NOW_MS + 5,
	    "users invite: a second use keeps the first used_at");
	rs_db_close(db);
}

/* invite_use with an invite that is not the user's, or none, changes
 * nothing: a disabled user is never activated by it. */
static void
test_users_invite_use_other(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES],
			 none[RS_STORE_INVITE_HASH_BYTES];
	char		 org[RS_ID_MAX], id[RS_ID_MAX], off[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	TAP_SETUP(add(db, org, "off@x.io", "viewer", "disabled", NOW_MS,
	    off) == RS_OK);
	hash_set(h, 0x09);
	hash_set(none, 0x0a);
	TAP_SETUP(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS) == RS_OK);
	TAP_IS_INT(invite_use(db, none, off, NOW_MS + 1), RS_ERR_NOTFOUND,
	    "users invite: use of an unknown invite is NOTFOUND");
	TAP_IS_STR(status_of(db, org, off), "disabled",
	    "users invite: an unknown invite activates nobody");
	TAP_IS_INT(invite_use(db, h, off, NOW_MS + 1), RS_ERR_NOTFOUND,
	    "users invite: use of another user's invite is NOTFOUND");
	TAP_IS_STR(status_of(db, org, off), "disabled",
	    "users invite: another user's invite activates nobody");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM invites "
	    "WHERE used_at IS NOT NULL", NULL), 0,
	    "users invite: and leaves the invite unused");
	TAP_IS_INT(invite_use(db, h, id, NOW_MS + HOUR_MS), RS_ERR_NOTFOUND,
	    "users invite: use at its expiry is NOTFOUND");
	rs_db_close(db);
}

static void
test_users_invite_not_invited(void)
{
	unsigned char	 h[RS_STORE_INVITE_HASH_BYTES],
			 h2[RS_STORE_INVITE_HASH_BYTES];
	char		 org[RS_ID_MAX], id[RS_ID_MAX], id2[RS_ID_MAX],
			 uid[RS_ID_MAX], uorg[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_SETUP(add(db, org, "inv@x.io", "viewer", "invited", NOW_MS, id) ==
	    RS_OK);
	TAP_SETUP(add(db, org, "inv2@x.io", "viewer", "invited", NOW_MS,
	    id2) == RS_OK);
	hash_set(h, 0x07);
	hash_set(h2, 0x08);
	TAP_SETUP(invite(db, h, id, org, NOW_MS + HOUR_MS, NOW_MS) == RS_OK);
	TAP_SETUP(invite(db, h2, id2, org, NOW_MS + HOUR_MS, NOW_MS) ==
	    RS_OK);
	TAP_SETUP(update(db, org, id, "viewer", "disabled") == RS_OK);
	TAP_SETUP(update(db, org, id2, "viewer", "active") == RS_OK);
	TAP_IS_INT(rs_store_users_invite_find(db, h, NOW_MS, uid, uorg),
	    RS_ERR_NOTFOUND,
	    "users invite: NOTFOUND when its user was disabled");
	TAP_IS_INT(rs_store_users_invite_find(db, h2, NOW_MS, uid, uorg),
	    RS_ERR_NOTFOUND,
	    "users invite: NOTFOUND when its user is active already");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(83);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-users") == 0);
	rs_arena_init(&arena);

	test_users_insert_get();
	test_users_get_unknown();
	test_users_get_other_org();
	test_users_insert_duplicate();
	test_users_list_order();
	test_users_list_filter_role();
	test_users_list_filter_status();
	test_users_list_keyset();
	test_users_list_other_org();
	test_users_by_email();
	test_users_by_email_live_invite();
	test_users_by_email_used_invite();
	test_users_update();
	test_users_update_unknown();
	test_users_update_other_org();
	test_users_admins();
	test_users_touch();
	test_users_invite_find();
	test_users_invite_expired();
	test_users_invite_use();
	test_users_invite_use_other();
	test_users_invite_not_invited();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
