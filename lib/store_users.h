/*
 * store_users.h: users and their invitations, per org. Every query is
 * scoped by org, so another org's user ids do not exist. Invite tokens
 * are stored only as their keyed hash (the caller hashes). Writes happen
 * inside the caller's transaction (txn.h). Strings of a struct rs_user
 * live in the arena passed to the reader.
 */
#ifndef RS_STORE_USERS_H
#define RS_STORE_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"

struct rs_arena;
struct rs_db;

#define RS_STORE_INVITE_HASH_BYTES	32

struct rs_user {
	int64_t		 rowid;		/* list order */
	char		 id[RS_ID_MAX];
	const char	*email;
	const char	*role;
	const char	*status;	/* active, invited, disabled */
	int64_t		 last_sync_at;	/* 0: never */
	int64_t		 created_at;
};

/* List filters; NULL means "any". */
struct rs_userfilter {
	const char	*role;
	const char	*status;
};

/* RS_OK and *u, or RS_ERR_NOTFOUND (also for another org's user). */
enum rs_err	rs_store_users_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_user *u);
/* Up to max users of org matching f with rowid > after, in order. */
enum rs_err	rs_store_users_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_userfilter *f,
		    int64_t after, size_t max, struct rs_user *out, size_t *n);
/*
 * The user of org with address email (any case): RS_OK, *u and
 * *live_invite (1 when an unused invite of theirs is valid at now), or
 * RS_ERR_NOTFOUND.
 */
enum rs_err	rs_store_users_by_email(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *email, int64_t now,
		    struct rs_user *u, int *live_invite);
/* Inserts u (id, email, role, status) into org, created at now. */
enum rs_err	rs_store_users_insert(struct rs_db *db, const char *org,
		    const struct rs_user *u, int64_t now);
/* Sets role and status of user id of org; RS_ERR_NOTFOUND if none. */
enum rs_err	rs_store_users_update(struct rs_db *db, const char *org,
		    const char *id, const char *role, const char *status);
/* The org's active admins, or -1. */
int64_t		rs_store_users_admins(struct rs_db *db, const char *org);
/*
 * Sets last_sync_at of user uid to now unless it is already within
 * every_ms of now (whatever other processes did meanwhile).
 */
enum rs_err	rs_store_users_touch(struct rs_db *db, const char *uid,
		    int64_t now, int64_t every_ms);
/* Inserts an invite for user uid of org, valid until expires (ms). */
enum rs_err	rs_store_users_invite(struct rs_db *db,
		    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES],
		    const char *uid, const char *org, int64_t expires,
		    int64_t now);
/*
 * The live, unused invite with hash, of a user still invited: RS_OK with
 * its user and org ids, RS_ERR_NOTFOUND, or an error.
 */
enum rs_err	rs_store_users_invite_find(struct rs_db *db,
		    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES],
		    int64_t now, char uid[RS_ID_MAX], char org[RS_ID_MAX]);
/*
 * Marks the live, unused invite with hash of user uid used at now, and
 * the user (still invited) active. RS_ERR_NOTFOUND, changing nothing
 * the caller keeps (it rolls back), when either is not so.
 */
enum rs_err	rs_store_users_invite_use(struct rs_db *db,
		    const unsigned char hash[RS_STORE_INVITE_HASH_BYTES],
		    const char *uid, int64_t now);

#endif /* RS_STORE_USERS_H */
