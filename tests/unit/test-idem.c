/*
 * test-idem: Idempotency-Key handling (lib/idem.h): the header's
 * normal form, the request hash, and the stored answers, each database
 * test on its own migrated file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "idem.h"
#include "store_idem.h"
#include "json.h"
#include "migrate.h"
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;

/* A new migrated database with one org (its id into org); bails on failure. */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* Parses the fixed JSON text s; bails out when it does not. */
static struct json_object *
json(const char *s)
{
	struct json_object	*o;
	char			 err[128];

	if (rs_json_parse(s, strlen(s), &o, err, sizeof(err)) != 0)
		tap_bail("bad JSON %s: %s", s, err);
	return o;
}

/* Fills id with key and the hash of method, path and the JSON body. */
static void
request(struct rs_idem *id, const char *key, const char *method,
    const char *path, const char *body)
{
	struct json_object	*o = body != NULL ? json(body) : NULL;

	memset(id, 0, sizeof(*id));
	id->key = key;
	TAP_SETUP(rs_idem_hash(id, method, path, NULL, o) == RS_OK);
	json_object_put(o);
}

/* 1 when the hashes of a and b are the same. */
static int
same_hash(const struct rs_idem *a, const struct rs_idem *b)
{
	return memcmp(a->hash, b->hash, RS_IDEM_HASH_BYTES) == 0;
}

/* A string of n copies of c, in the arena. */
static char *
repeat(char c, size_t n)
{
	char	*s = rs_arena_alloc(&arena, n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static const struct rs_idem_answer	 answer = {
	201,
	"Location: /v1/records/rec_x\nETag: \"1\"\n",
	"{\"id\":\"rec_x\",\"title\":\"t\"}",
};

static void
test_idem_key_plain(void)
{
	TAP_IS_STR(rs_idem_key(&arena, "abc"), "abc",
	    "idem key: abc is the key abc");
}

static void
test_idem_key_quoted(void)
{
	TAP_IS_STR(rs_idem_key(&arena, "\"abc\""), "abc",
	    "idem key: \"abc\" (quoted) is the key abc");
}

static void
test_idem_key_printable(void)
{
	TAP_IS_STR(rs_idem_key(&arena, "!~a-Z_0.9/+=:"), "!~a-Z_0.9/+=:",
	    "idem key: printable ASCII 0x21..0x7e accepted as it is");
}

static void
test_idem_key_max_length(void)
{
	const char	*k = repeat('k', RS_MAX_IDEM_KEY);
	const char	*got = rs_idem_key(&arena, k);

	TAP_OK(got != NULL && strcmp(got, k) == 0,
	    "idem key: 255 characters accepted");
}

static void
test_idem_key_too_long(void)
{
	TAP_OK(rs_idem_key(&arena, repeat('k', RS_MAX_IDEM_KEY + 1)) == NULL,
	    "idem key: 256 characters refused");
}

static void
test_idem_key_quoted_max_length(void)
{
	char		*k = repeat('k', RS_MAX_IDEM_KEY + 2);
	const char	*got;

	k[0] = '"';
	k[RS_MAX_IDEM_KEY + 1] = '"';
	got = rs_idem_key(&arena, k);
	TAP_OK(got != NULL && strlen(got) == RS_MAX_IDEM_KEY,
	    "idem key: 255 characters in quotes accepted");
}

static void
test_idem_key_bad_chars(void)
{
	static const char *const bad[] = {
		"a b", "a\tb", "a\x01" "b", "a\x7f" "b", "caf\xc3\xa9",
		"\x80", "\xff",
	};
	char	 name[64];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name),
		    "idem key: bad character case %zu refused", i);
		TAP_OK(rs_idem_key(&arena, bad[i]) == NULL, name);
	}
}

static void
test_idem_key_empty(void)
{
	TAP_OK(rs_idem_key(&arena, "") == NULL, "idem key: \"\" refused");
	TAP_OK(rs_idem_key(&arena, "\"\"") == NULL,
	    "idem key: a quoted empty key refused");
}

static void
test_idem_hash_canonical_body(void)
{
	struct rs_idem	 a, b;

	request(&a, "k", "POST", "/v1/records",
	    "{\"title\":\"t\",\"data\":{\"x\":1,\"y\":[1,2]}}");
	request(&b, "k", "POST", "/v1/records",
	    " {\n \"data\" : { \"y\" : [ 1 , 2 ] , \"x\" : 1 } ,\t\"title\":"
	    " \"t\" }\n");
	TAP_OK(same_hash(&a, &b),
	    "idem hash: member order and whitespace do not matter");
}

static void
test_idem_hash_stable(void)
{
	struct rs_idem	 a, b;

	request(&a, "k", "POST", "/v1/records", "{\"title\":\"t\"}");
	request(&b, "other", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_OK(same_hash(&a, &b),
	    "idem hash: the same request hashes the same (key not included)");
}

/*
 * A key stored before an upgrade must still replay after it: the hash of
 * a fixed request is a fixed value (it was computed by the canonical
 * form json-c printed, before rs_json_canonical printed scalars itself).
 */
static void
test_idem_hash_golden(void)
{
	struct rs_idem	 a;
	char		 hex[RS_IDEM_HASH_BYTES * 2 + 1];

	request(&a, "k", "POST", "/v1/records", "{\"title\":\"Pump \\u0001"
	    "\\\"4\\\"/\\u00e9\",\"type\":\"t\",\"data\":{\"z\":[1,-2,0.5,"
	    "1e300,true,null,\"\\u0000\"],\"a\":{}},\"site\":\"s\"}");
	sodium_bin2hex(hex, sizeof(hex), a.hash, sizeof(a.hash));
	TAP_IS_STR(hex, "fcaaf8f33de1db9d222f778931b77548"
	    "e358d22059863fc9e8c641a5f3b4e707", "idem hash: a fixed request "
	    "hashes as it did when keys already stored were made");
}

static void
test_idem_hash_method(void)
{
	struct rs_idem	 a, b;

	request(&a, "k", "POST", "/v1/records/rec_x", "{\"title\":\"t\"}");
	request(&b, "k", "PATCH", "/v1/records/rec_x", "{\"title\":\"t\"}");
	TAP_OK(!same_hash(&a, &b), "idem hash: another method differs");
}

static void
test_idem_hash_path(void)
{
	struct rs_idem	 a, b;

	request(&a, "k", "POST", "/v1/records", "{\"title\":\"t\"}");
	request(&b, "k", "POST", "/v1/records/x", "{\"title\":\"t\"}");
	TAP_OK(!same_hash(&a, &b), "idem hash: another path differs");
}

static void
test_idem_hash_if_match(void)
{
	struct rs_idem		 a, b, c;
	struct json_object	*o = json("{\"status\":\"synced\"}");

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	TAP_SETUP(rs_idem_hash(&a, "PATCH", "/v1/records/x", "\"01A\"", o) ==
	    RS_OK);
	TAP_SETUP(rs_idem_hash(&b, "PATCH", "/v1/records/x", "\"01B\"", o) ==
	    RS_OK);
	TAP_SETUP(rs_idem_hash(&c, "PATCH", "/v1/records/x", NULL, o) == RS_OK);
	json_object_put(o);
	TAP_OK(!same_hash(&a, &b), "idem hash: another If-Match differs");
	TAP_OK(!same_hash(&a, &c), "idem hash: no If-Match differs from one");
}

static void
test_idem_hash_body(void)
{
	struct rs_idem	 a, b, c;

	request(&a, "k", "POST", "/v1/records", "{\"title\":\"t\"}");
	request(&b, "k", "POST", "/v1/records", "{\"title\":\"u\"}");
	request(&c, "k", "POST", "/v1/records", NULL);
	TAP_OK(!same_hash(&a, &b), "idem hash: another body differs");
	TAP_OK(!same_hash(&a, &c), "idem hash: no body differs from a body");
}

static void
test_idem_hash_boundaries(void)
{
	struct rs_idem	 a, b;

	request(&a, "k", "POST", "/v1/records", NULL);
	request(&b, "k", "POST/", "v1/records", NULL);
	TAP_OK(!same_hash(&a, &b),
	    "idem hash: method and path are kept apart");
}

static void
test_idem_store_replay(void)
{
	struct rs_idem		 id;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS, &ans),
	    RS_IDEM_NEW, "idem find: an unseen key is RS_IDEM_NEW");
	TAP_IS_INT(rs_store_idem_store(db, org, &id, NOW_MS, &answer), RS_OK,
	    "idem store: succeeds");
	memset(&ans, 0, sizeof(ans));
	if (TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS + 1000,
	    &ans), RS_IDEM_REPLAY,
	    "idem find: the same request again is RS_IDEM_REPLAY")) {
		TAP_IS_INT(ans.status, 201, "idem find: replays the status");
		TAP_IS_STR(ans.headers, answer.headers,
		    "idem find: replays the headers");
		TAP_IS_STR(ans.body, answer.body,
		    "idem find: replays the body");
	}
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_mismatch(void)
{
	struct rs_idem		 id, other;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	request(&other, "key-1", "POST", "/v1/records", "{\"title\":\"u\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id, NOW_MS, &answer) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &other, NOW_MS, &ans),
	    RS_IDEM_MISMATCH,
	    "idem find: the same key with another hash is RS_IDEM_MISMATCH");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_other_key(void)
{
	struct rs_idem		 id, other;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	request(&other, "key-2", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id, NOW_MS, &answer) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &other, NOW_MS, &ans),
	    RS_IDEM_NEW, "idem find: another key in the org is RS_IDEM_NEW");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_other_org(void)
{
	struct rs_idem		 id;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id, NOW_MS, &answer) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org2, &id, NOW_MS, &ans),
	    RS_IDEM_NEW, "idem find: the same key in another org is "
	    "RS_IDEM_NEW");
	TAP_IS_INT(rs_store_idem_store(db, org2, &id, NOW_MS, &answer), RS_OK,
	    "idem store: the same key in another org is stored too");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_expired(void)
{
	struct rs_idem		 id;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id,
	    NOW_MS - RS_IDEM_TTL_MS - 1, &answer) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS, &ans),
	    RS_IDEM_NEW, "idem find: a key older than RS_IDEM_TTL_MS is "
	    "RS_IDEM_NEW");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_expired_replaced(void)
{
	struct rs_idem		 id, other;
	struct rs_idem_answer	 ans, fresh = answer;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	request(&other, "key-1", "POST", "/v1/records", "{\"title\":\"u\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id,
	    NOW_MS - RS_IDEM_TTL_MS - 1, &answer) == RS_OK);
	fresh.status = 200;
	TAP_IS_INT(rs_store_idem_store(db, org, &other, NOW_MS, &fresh), RS_OK,
	    "idem store: an expired key can be stored again");
	TAP_OK(rs_store_idem_find(db, &arena, org, &other, NOW_MS, &ans) ==
	    RS_IDEM_REPLAY && ans.status == 200,
	    "idem find: the key stored again replays its new answer");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_within_ttl(void)
{
	struct rs_idem		 id;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id,
	    NOW_MS - RS_IDEM_TTL_MS + 1000, &answer) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS, &ans),
	    RS_IDEM_REPLAY, "idem find: a key just younger than "
	    "RS_IDEM_TTL_MS is RS_IDEM_REPLAY");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_rollback(void)
{
	struct rs_idem		 id;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id, NOW_MS, &answer) == RS_OK);
	rs_db_rollback(db);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS, &ans),
	    RS_IDEM_NEW, "idem find: a key stored in a rolled back "
	    "transaction is RS_IDEM_NEW");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_committed(void)
{
	struct rs_idem		 id;
	struct rs_idem_answer	 ans;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	request(&id, "key-1", "POST", "/v1/records", "{\"title\":\"t\"}");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id, NOW_MS, &answer) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS, &ans),
	    RS_IDEM_REPLAY, "idem find: a committed key replays in a later "
	    "transaction");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

static void
test_idem_empty_headers(void)
{
	static const struct rs_idem_answer	 bare = { 204, "", "" };
	struct rs_idem				 id;
	struct rs_idem_answer			 ans;
	char					 org[RS_ID_MAX];
	struct rs_db				*db = db_new(org);

	request(&id, "key-1", "DELETE", "/v1/records/rec_x", NULL);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_idem_store(db, org, &id, NOW_MS, &bare) == RS_OK);
	memset(&ans, 0, sizeof(ans));
	if (TAP_IS_INT(rs_store_idem_find(db, &arena, org, &id, NOW_MS, &ans),
	    RS_IDEM_REPLAY,
	    "idem find: an answer without headers or body replays")) {
		TAP_IS_INT(ans.status, 204, "idem find: replays status 204");
		TAP_IS_STR(ans.headers, "", "idem find: replays no headers");
		TAP_IS_STR(ans.body, "", "idem find: replays an empty body");
	}
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(45);
	fixture_start(dir, sizeof(dir), "rs-idem");
	rs_arena_init(&arena);

	test_idem_key_plain();
	test_idem_key_quoted();
	test_idem_key_printable();
	test_idem_key_max_length();
	test_idem_key_too_long();
	test_idem_key_quoted_max_length();
	test_idem_key_bad_chars();
	test_idem_key_empty();
	test_idem_hash_canonical_body();
	test_idem_hash_stable();
	test_idem_hash_golden();
	test_idem_hash_method();
	test_idem_hash_path();
	test_idem_hash_if_match();
	test_idem_hash_body();
	test_idem_hash_boundaries();
	test_idem_store_replay();
	test_idem_mismatch();
	test_idem_other_key();
	test_idem_other_org();
	test_idem_expired();
	test_idem_expired_replaced();
	test_idem_within_ttl();
	test_idem_rollback();
	test_idem_committed();
	test_idem_empty_headers();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
