/*
 * store_users_pg.h: store_users.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_users.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_USERS_PG_H
#define RS_STORE_USERS_PG_H

#include "store_users.h"

enum rs_err	rs_store_users_pg_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_user *u);
enum rs_err	rs_store_users_pg_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_userfilter *f,
		    int64_t after, size_t max, struct rs_user *out, size_t *n);
enum rs_err	rs_store_users_pg_by_email(struct rs_db *db,
		    struct rs_arena *a, const char *org, const char *email,
		    int64_t now, struct rs_user *u, int *live_invite);
enum rs_err	rs_store_users_pg_insert(struct rs_db *db, const char *org,
		    const struct rs_user *u, int64_t now);
enum rs_err	rs_store_users_pg_update(struct rs_db *db, const char *org,
		    const char *id, const char *role, const char *status);
int64_t		rs_store_users_pg_admins(struct rs_db *db, const char *org);
enum rs_err	rs_store_users_pg_touch(struct rs_db *db, const char *uid,
		    int64_t now, int64_t every_ms);
enum rs_err	rs_store_users_pg_invite(struct rs_db *db,
		    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES],
		    const char *uid, const char *org, int64_t expires,
		    int64_t now);
enum rs_err	rs_store_users_pg_invite_find(struct rs_db *db,
		    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES],
		    int64_t now, char uid[RS_ID_MAX], char org[RS_ID_MAX]);
enum rs_err	rs_store_users_pg_invite_use(struct rs_db *db,
		    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES],
		    const char *uid, int64_t now);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define UCOLS	"rowid, id, email, role, status, last_sync_at, created_at"

#endif /* RS_STORE_USERS_PG_H */
