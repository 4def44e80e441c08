/*
 * test-store-keys: API keys in SQLite (lib/store_keys.h): issue and find
 * by keyed hash, revocation, keys of disabled users, the key holder as
 * the database says now. Keys come from rs_admin_key_create() or
 * from the store functions inside rs_db_begin()/rs_db_commit(). Each
 * test has its own migrated database file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "apikey.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "role.h"
#include "secret.h"
#include "store_keys.h"
#include "store_users.h"
#define FIXTURE_BOTH	/* store_keys_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;
static unsigned char	 master[RS_SECRET_BYTES];
static unsigned char	 subkey[RS_SECRET_BYTES];	/* for API keys */

/* A new migrated database with org "Acme" (its id into org). */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* A key for email (made active with role when new); bails on failure. */
static void
key_new(struct rs_db *db, const char *org, const char *email,
    enum rs_role role, char key[RS_APIKEY_LEN + 1], char kid[RS_ID_MAX])
{
	TAP_SETUP(rs_admin_key_create(db, subkey, org, email, role, key,
	    kid) == RS_OK);
}

/* The id of org's user with email into uid; bails when there is none. */
static void
uid_of(struct rs_db *db, const char *org, const char *email,
    char uid[RS_ID_MAX])
{
	struct rs_user	 u;
	int		 live;

	TAP_SETUP(rs_store_users_by_email(db, &arena, org, email, NOW_MS, &u,
	    &live) == RS_OK);
	memcpy(uid, u.id, RS_ID_MAX);
}

/* rs_store_keys_find() for the key as a client would send it. */
static enum rs_err
find(struct rs_db *db, const char *key, struct rs_store_key *k)
{
	unsigned char	 h[RS_APIKEY_HASH_BYTES];

	rs_apikey_hash(subkey, key, h);
	return rs_store_keys_find(db, h, k);
}

static enum rs_err
key_revoke(struct rs_db *db, const char *kid, int64_t now)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_keys_revoke(db, kid, now)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* Sets role and status of user uid of org; bails on failure. */
static void
set_user(struct rs_db *db, const char *org, const char *uid,
    const char *role, const char *status)
{
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_users_update(db, org, uid, role, status) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
}

/*
 * The keys whose stored hash is RS_APIKEY_HASH_BYTES long and holds no
 * key prefix; -1 on failure. Searching bytes is instr() on SQLite,
 * position() on PostgreSQL (where a bytea cast to text is its hex).
 */
static int64_t
hashes_only(struct rs_db *db)
{
	if (rs_db_pg(db))
		return fixture_query_int(db, "SELECT count(*) FROM api_keys "
		    "WHERE length(hash) = " RS_STR(RS_APIKEY_HASH_BYTES) " AND "
		    "position(convert_to('rs_live_', 'UTF8') IN hash) = 0",
		    NULL);
	return fixture_query_int(db, "SELECT count(*) FROM api_keys WHERE "
	    "length(hash) = " RS_STR(RS_APIKEY_HASH_BYTES) " AND "
	    "instr(CAST(hash AS TEXT), 'rs_live_') = 0", NULL);
}

static void
test_keys_issue_shape(void)
{
	char		 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1],
			 key2[RS_APIKEY_LEN + 1], kid[RS_ID_MAX],
			 kid2[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "ann@x.io",
	    RS_ROLE_OPERATOR, key, kid), RS_OK, "keys issue: succeeds");
	TAP_OK(rs_apikey_wellformed(key), "keys issue: the key is well formed");
	TAP_OK(strncmp(key, RS_APIKEY_PREFIX, strlen(RS_APIKEY_PREFIX)) == 0 &&
	    strlen(key) == RS_APIKEY_LEN,
	    "keys issue: rs_live_ and RS_APIKEY_LEN characters");
	TAP_OK(rs_id_valid(kid, "key_"), "keys issue: a key_ id");
	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key2, kid2);
	TAP_OK(strcmp(key, key2) != 0 && strcmp(kid, kid2) != 0,
	    "keys issue: a second key and id differ from the first");
	TAP_IS_INT(hashes_only(db), 2,
	    "keys issue: only 32-byte hashes are stored, not the keys");
	rs_db_close(db);
}

static void
test_keys_find(void)
{
	struct rs_store_key	 k;
	char			 org[RS_ID_MAX], uid[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key, kid);
	uid_of(db, org, "ann@x.io", uid);
	if (!TAP_IS_INT(find(db, key, &k), RS_OK,
	    "keys find: the key's hash finds it")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_STR(k.key_id, kid, "keys find: its key id");
	TAP_IS_STR(k.org_id, org, "keys find: its org id");
	TAP_IS_STR(k.user_id, uid, "keys find: its user id");
	TAP_IS_INT(k.role, RS_ROLE_OPERATOR, "keys find: its user's role");
	rs_db_close(db);
}

static void
test_keys_find_role(void)
{
	struct rs_store_key	 k;
	char			 org[RS_ID_MAX], uid[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "adm@x.io", RS_ROLE_ADMIN, key, kid);
	TAP_SETUP(find(db, key, &k) == RS_OK);
	TAP_IS_INT(k.role, RS_ROLE_ADMIN, "keys find: an admin's key");
	uid_of(db, org, "adm@x.io", uid);
	set_user(db, org, uid, "viewer", "active");
	TAP_SETUP(find(db, key, &k) == RS_OK);
	TAP_IS_INT(k.role, RS_ROLE_VIEWER,
	    "keys find: the role is the user's as it is now");
	rs_db_close(db);
}

static void
test_keys_issue_store(void)
{
	struct rs_store_key	 k;
	struct rs_user		 u;
	char			 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1],
				 kid[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	memset(&u, 0, sizeof(u));
	rs_id_new(u.id, sizeof(u.id), "usr_");
	u.email = "vic@x.io";
	u.role = "viewer";
	u.status = "active";
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_users_insert(db, org, &u, NOW_MS) == RS_OK);
	TAP_IS_INT(rs_store_keys_issue(db, subkey, org, u.id, NOW_MS, key,
	    kid), RS_OK, "keys issue: the store issues inside a transaction");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_OK(rs_apikey_wellformed(key) && rs_id_valid(kid, "key_"),
	    "keys issue: the store's key and id are well formed");
	TAP_OK(find(db, key, &k) == RS_OK && strcmp(k.key_id, kid) == 0 &&
	    strcmp(k.user_id, u.id) == 0 && strcmp(k.org_id, org) == 0 &&
	    k.role == RS_ROLE_VIEWER,
	    "keys issue: the store's key is found with its ids and role");
	TAP_IS_INT(fixture_query_int(db, "SELECT created_at FROM api_keys "
	    "WHERE id = ?1", kid), NOW_MS, "keys issue: made at now");
	rs_db_close(db);
}

static void
test_keys_find_wrong_hash(void)
{
	unsigned char		 other_subkey[RS_SECRET_BYTES],
				 other_master[RS_SECRET_BYTES],
				 h[RS_APIKEY_HASH_BYTES];
	struct rs_store_key	 k;
	char			 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1],
				 other[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key, kid);
	rs_apikey_new(other, sizeof(other));
	TAP_IS_INT(find(db, other, &k), RS_ERR_NOTFOUND,
	    "keys find: another key's hash is NOTFOUND");
	TAP_IS_STR(k.key_id, "", "keys find: NOTFOUND leaves *k empty");
	TAP_SETUP(fixture_subkey(other_master, RS_SECRET_APIKEY,
	    other_subkey) == 0);
	rs_apikey_hash(other_subkey, key, h);
	TAP_IS_INT(rs_store_keys_find(db, h, &k), RS_ERR_NOTFOUND,
	    "keys find: the key hashed under another secret is NOTFOUND");
	memset(h, 0, sizeof(h));
	TAP_IS_INT(rs_store_keys_find(db, h, &k), RS_ERR_NOTFOUND,
	    "keys find: a zero hash is NOTFOUND");
	rs_db_close(db);
}

static void
test_keys_revoke(void)
{
	struct rs_store_holder	 h;
	struct rs_store_key	 k;
	char			 org[RS_ID_MAX], uid[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX],
				 key2[RS_APIKEY_LEN + 1], kid2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key, kid);
	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key2, kid2);
	uid_of(db, org, "ann@x.io", uid);
	TAP_SETUP(find(db, key, &k) == RS_OK);
	TAP_IS_INT(key_revoke(db, kid, NOW_MS + 1), RS_OK,
	    "keys revoke: succeeds");
	TAP_IS_INT(find(db, key, &k), RS_ERR_NOTFOUND,
	    "keys revoke: a revoked key is NOTFOUND");
	TAP_IS_INT(rs_store_keys_holder(db, &arena, kid, org, uid, &h),
	    RS_ERR_NOTFOUND, "keys revoke: a revoked key has no holder");
	TAP_IS_INT(find(db, key2, &k), RS_OK,
	    "keys revoke: the user's other key still works");
	TAP_IS_INT(key_revoke(db, kid, NOW_MS + 2), RS_OK,
	    "keys revoke: revoking twice is RS_OK");
	TAP_IS_INT(fixture_query_int(db, "SELECT revoked_at FROM api_keys "
	    "WHERE id = ?1", kid), NOW_MS + 1,
	    "keys revoke: the second revocation keeps the first time");
	TAP_IS_INT(find(db, key, &k), RS_ERR_NOTFOUND,
	    "keys revoke: and the key stays revoked");
	rs_db_close(db);
}

/* A key by id, live or revoked, with its org: what the CLI's revoke needs. */
static void
test_keys_info(void)
{
	struct rs_store_keyinfo	 k;
	char			 org[RS_ID_MAX], kid[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], unknown[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "bo@x.io", RS_ROLE_VIEWER, key, kid);
	TAP_IS_INT(rs_store_keys_info(db, &arena, kid, &k), RS_OK,
	    "keys info: a live key is found");
	TAP_IS_STR(k.org_id, org, "keys info: its org");
	TAP_IS_INT(k.revoked_at, 0, "keys info: live");
	TAP_IS_INT(key_revoke(db, kid, NOW_MS + 5), RS_OK,
	    "keys info: revoke it");
	TAP_IS_INT(rs_store_keys_info(db, &arena, kid, &k), RS_OK,
	    "keys info: a revoked key is still found");
	TAP_IS_INT(k.revoked_at, NOW_MS + 5, "keys info: with its revocation");
	rs_id_new(unknown, sizeof(unknown), "key_");
	TAP_IS_INT(rs_store_keys_info(db, &arena, unknown, &k),
	    RS_ERR_NOTFOUND, "keys info: an unknown key is NOTFOUND");
	rs_db_close(db);
}

static void
test_keys_revoke_unknown(void)
{
	char		 org[RS_ID_MAX], kid[RS_ID_MAX];
	struct rs_db	*db = db_new(org);

	rs_id_new(kid, sizeof(kid), "key_");
	TAP_IS_INT(key_revoke(db, kid, NOW_MS), RS_ERR_NOTFOUND,
	    "keys revoke: an unknown key is NOTFOUND");
	rs_db_close(db);
}

static void
test_keys_disabled_user(void)
{
	struct rs_store_holder	 h;
	struct rs_store_key	 k;
	char			 org[RS_ID_MAX], uid[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key, kid);
	uid_of(db, org, "ann@x.io", uid);
	set_user(db, org, uid, "operator", "disabled");
	TAP_IS_INT(find(db, key, &k), RS_ERR_NOTFOUND,
	    "keys find: a disabled user's key is NOTFOUND");
	TAP_IS_INT(rs_store_keys_holder(db, &arena, kid, org, uid, &h),
	    RS_ERR_NOTFOUND, "keys holder: a disabled user is NOTFOUND");
	set_user(db, org, uid, "operator", "invited");
	TAP_IS_INT(find(db, key, &k), RS_ERR_NOTFOUND,
	    "keys find: an invited (not active) user's key is NOTFOUND");
	set_user(db, org, uid, "operator", "active");
	TAP_IS_INT(find(db, key, &k), RS_OK,
	    "keys find: found again once the user is active");
	rs_db_close(db);
}

static void
test_keys_holder(void)
{
	struct rs_store_holder	 h;
	char			 org[RS_ID_MAX], uid[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	key_new(db, org, "Ann@X.io", RS_ROLE_OPERATOR, key, kid);
	uid_of(db, org, "ann@x.io", uid);
	if (!TAP_IS_INT(rs_store_keys_holder(db, &arena, kid, org, uid, &h),
	    RS_OK, "keys holder: succeeds")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_STR(h.email, "Ann@X.io", "keys holder: the user's email");
	TAP_IS_INT(h.role, RS_ROLE_OPERATOR, "keys holder: the user's role");
	TAP_IS_INT(h.last_sync_at, 0, "keys holder: last_sync_at 0: never");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_users_touch(db, uid, NOW_MS + 7, 0) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	set_user(db, org, uid, "admin", "active");
	TAP_SETUP(rs_store_keys_holder(db, &arena, kid, org, uid, &h) ==
	    RS_OK);
	TAP_IS_INT(h.last_sync_at, NOW_MS + 7,
	    "keys holder: last_sync_at as the database has it now");
	TAP_IS_INT(h.role, RS_ROLE_ADMIN,
	    "keys holder: the role as the database has it now");
	rs_db_close(db);
}

static void
test_keys_holder_mismatch(void)
{
	struct rs_store_holder	 h;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX],
				 uid[RS_ID_MAX], uid2[RS_ID_MAX],
				 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX],
				 key2[RS_APIKEY_LEN + 1], kid2[RS_ID_MAX],
				 unknown[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	key_new(db, org, "ann@x.io", RS_ROLE_OPERATOR, key, kid);
	key_new(db, org, "bob@x.io", RS_ROLE_OPERATOR, key2, kid2);
	uid_of(db, org, "ann@x.io", uid);
	uid_of(db, org, "bob@x.io", uid2);
	TAP_IS_INT(rs_store_keys_holder(db, &arena, kid, org2, uid, &h),
	    RS_ERR_NOTFOUND, "keys holder: another org is NOTFOUND");
	TAP_IS_INT(rs_store_keys_holder(db, &arena, kid, org, uid2, &h),
	    RS_ERR_NOTFOUND,
	    "keys holder: another user (with keys of their own) is NOTFOUND");
	rs_id_new(unknown, sizeof(unknown), "key_");
	TAP_IS_INT(rs_store_keys_holder(db, &arena, unknown, org, uid, &h),
	    RS_ERR_NOTFOUND, "keys holder: an unknown key is NOTFOUND");
	TAP_IS_INT(rs_store_keys_holder(db, &arena, kid2, org, uid2, &h),
	    RS_OK, "keys holder: the matching triple is found");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(50);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-keys") == 0);
	TAP_SETUP(fixture_subkey(master, RS_SECRET_APIKEY, subkey) == 0);
	rs_arena_init(&arena);

	test_keys_issue_shape();
	test_keys_find();
	test_keys_find_role();
	test_keys_issue_store();
	test_keys_find_wrong_hash();
	test_keys_revoke();
	test_keys_info();
	test_keys_revoke_unknown();
	test_keys_disabled_user();
	test_keys_holder();
	test_keys_holder_mismatch();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
