/*
 * store_keys_pg.h: store_keys.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_keys.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_KEYS_PG_H
#define RS_STORE_KEYS_PG_H

#include "store_keys.h"

enum rs_err	rs_store_keys_pg_find(struct rs_db *db,
		    const unsigned char hash[RS_APIKEY_HASH_BYTES],
		    struct rs_store_key *k);
enum rs_err	rs_store_keys_pg_holder(struct rs_db *db, struct rs_arena *a,
		    const char *key_id, const char *org, const char *uid,
		    struct rs_store_holder *h);
enum rs_err	rs_store_keys_pg_issue(struct rs_db *db,
		    const unsigned char apikey_subkey[32], const char *org,
		    const char *uid, int64_t now, char key[RS_APIKEY_LEN + 1],
		    char key_id[RS_ID_MAX]);
enum rs_err	rs_store_keys_pg_revoke(struct rs_db *db, const char *key_id,
		    int64_t now);
enum rs_err	rs_store_keys_pg_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, int64_t after, size_t max,
		    struct rs_store_keyinfo *out, size_t *n);
enum rs_err	rs_store_keys_pg_info(struct rs_db *db, struct rs_arena *a,
		    const char *key_id, struct rs_store_keyinfo *k);

#endif /* RS_STORE_KEYS_PG_H */
