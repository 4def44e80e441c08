/*
 * store_keys.h: API keys, their holders and the operator's listing of them.
 * Keys are stored only as their keyed hash (apikey.h); a key of a
 * disabled user, or a revoked key, is never found. Writes happen inside
 * the caller's transaction (txn.h).
 */
#ifndef RS_STORE_KEYS_H
#define RS_STORE_KEYS_H

#include <stdint.h>

#include "apikey.h"
#include "err.h"
#include "id.h"
#include "role.h"

struct rs_arena;
struct rs_db;

/* A live key of an active user. */
struct rs_store_key {
	char		 key_id[RS_ID_MAX];
	char		 org_id[RS_ID_MAX];
	char		 user_id[RS_ID_MAX];
	enum rs_role	 role;
};

/* Who a verified token's key belongs to, as the database says now. */
struct rs_store_holder {
	const char	*email;		/* arena */
	enum rs_role	 role;
	int64_t		 last_sync_at;	/* ms, 0: never */
	int		 rate_limit;	/* the org's, requests/s */
};

/*
 * The live key whose hash is hash, of an active user: RS_OK and *k,
 * RS_ERR_NOTFOUND, or an error. The stored hash is compared in constant
 * time.
 */
enum rs_err	rs_store_keys_find(struct rs_db *db,
		    const unsigned char hash[RS_APIKEY_HASH_BYTES],
		    struct rs_store_key *k);
/*
 * The holder of key key_id of user uid in org, while the key is live and
 * the user active: RS_OK and *h (email in a), RS_ERR_NOTFOUND, or an
 * error.
 */
enum rs_err	rs_store_keys_holder(struct rs_db *db, struct rs_arena *a,
		    const char *key_id, const char *org, const char *uid,
		    struct rs_store_holder *h);
/*
 * Inside a write transaction: a new key for user uid of org, made at now.
 * key receives the only copy (wiped on failure), key_id its id; only the
 * hash under apikey_subkey is stored.
 */
enum rs_err	rs_store_keys_issue(struct rs_db *db,
		    const unsigned char apikey_subkey[32], const char *org,
		    const char *uid, int64_t now, char key[RS_APIKEY_LEN + 1],
		    char key_id[RS_ID_MAX]);
/*
 * Inside a write transaction: revokes key_id at now. RS_OK (also when it
 * was revoked before), RS_ERR_NOTFOUND, or an error.
 */
enum rs_err	rs_store_keys_revoke(struct rs_db *db, const char *key_id,
		    int64_t now);
/* A key as the operator's listing shows it: never the key or its hash. */
struct rs_store_keyinfo {
	int64_t		 rowid;		/* list order */
	char		 id[RS_ID_MAX];
	char		 org_id[RS_ID_MAX];
	char		 user_id[RS_ID_MAX];
	const char	*email;		/* in the reader's arena */
	enum rs_role	 role;		/* the user's, now */
	int64_t		 created_at;
	int64_t		 revoked_at;	/* 0: live */
};

/*
 * Up to max keys of org (NULL: of every org) with rowid > after, oldest
 * first: RS_OK with *n rows in out (emails in a), or an error.
 */
enum rs_err	rs_store_keys_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, int64_t after, size_t max,
		    struct rs_store_keyinfo *out, size_t *n);
/* Key key_id (revoked or not) into *k, its email in a; RS_ERR_NOTFOUND. */
enum rs_err	rs_store_keys_info(struct rs_db *db, struct rs_arena *a,
		    const char *key_id, struct rs_store_keyinfo *k);

#endif /* RS_STORE_KEYS_H */
