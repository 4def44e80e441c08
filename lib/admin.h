/*
 * admin.h: what relaysync-admin does to the database: orgs, users with
 * their first key, key revocation, the operator's listings and counts,
 * and the checks that say why a state file cannot be made or written
 * (shared with relaysync-worker). The CLI only parses its arguments and
 * prints; every decision is here, every write goes through the one
 * write transaction (txn.h) and every query through the stores. It is
 * to the CLI what the api_* modules are to the router.
 */
#ifndef RS_ADMIN_H
#define RS_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "apikey.h"
#include "err.h"
#include "id.h"
#include "role.h"
#include "store_keys.h"
#include "store_orgs.h"
#include "store_users.h"

struct rs_db;

struct rs_admin_stats {
	int64_t	 orgs;
	int64_t	 users;
	int64_t	 keys;		/* live */
	int64_t	 keys_revoked;
	int	 schema;
};

/*
 * Makes the CLI's commits that change a key's holder or the schema
 * reach the running pool (db.h: rs_db_on_shared): each steps the
 * generation word in the table beside db_path (ratelimit.h). For one
 * database per process (the path is kept in a static buffer). A missing table is left missing (no process keeps
 * anything yet); one the CLI cannot open is said on stderr, and the pool
 * then sees the change within RS_SHARED_TTL_MS.
 */
void		rs_admin_share(struct rs_db *db, const char *db_path);

/* Creates an org; its id goes to id. RS_ERR_INVAL for a bad name/limit. */
enum rs_err	rs_admin_org_create(struct rs_db *db, const char *name,
		    int rate_limit, char id[RS_ID_MAX]);
/*
 * Sets org's rate limit (requests/s); every process applies it to the
 * org's next request. RS_ERR_NOTFOUND: no such org; RS_ERR_INVAL: a
 * limit out of 1..RS_RATE_LIMIT_MAX.
 */
enum rs_err	rs_admin_org_set_rate(struct rs_db *db, const char *org,
		    int rate_limit);
/*
 * Creates an API key for email in org (creating the user, active, with
 * role, when new). RS_ERR_NOTFOUND: no such org; RS_ERR_EXISTS: the user
 * exists with another role; RS_ERR_INVAL: bad email or role.
 * key receives the only copy of the key; key_id its id.
 */
enum rs_err	rs_admin_key_create(struct rs_db *db,
		    const unsigned char apikey_subkey[32], const char *org,
		    const char *email, enum rs_role role,
		    char key[RS_APIKEY_LEN + 1], char key_id[RS_ID_MAX]);
/* A key just made: the only copy of the key, and whose it is. */
struct rs_admin_newkey {
	char	 key[RS_APIKEY_LEN + 1];	/* wipe after use */
	char	 key_id[RS_ID_MAX];
	char	 user_id[RS_ID_MAX];
};

/*
 * rs_admin_key_create, telling also the user's id: RS_OK and *nk, or the
 * errors above (nk->key wiped).
 */
enum rs_err	rs_admin_key_issue(struct rs_db *db,
		    const unsigned char apikey_subkey[32], const char *org,
		    const char *email, enum rs_role role,
		    struct rs_admin_newkey *nk);
/* Revokes a key (idempotent). RS_ERR_NOTFOUND when there is none. */
enum rs_err	rs_admin_key_revoke(struct rs_db *db, const char *key_id);
enum rs_err	rs_admin_stats(struct rs_db *db, struct rs_admin_stats *s);

/*
 * The listings. Each calls fn once per row, oldest first, from one
 * snapshot of the database, reading a page at a time (the row and its
 * strings are valid during the call only). fn returns 0 to go on, or -1
 * to stop: the listing then returns RS_ERR_IO. RS_ERR_NOTFOUND: org is
 * given and there is no such org (fn not called).
 */
typedef int	(*rs_admin_org_fn)(const struct rs_store_org *o, void *arg);
typedef int	(*rs_admin_key_fn)(const struct rs_store_keyinfo *k,
		    void *arg);
typedef int	(*rs_admin_user_fn)(const struct rs_user *u, void *arg);

enum rs_err	rs_admin_org_list(struct rs_db *db, rs_admin_org_fn fn,
		    void *arg);
/* The keys of org, or of every org when org is NULL. */
enum rs_err	rs_admin_key_list(struct rs_db *db, const char *org,
		    rs_admin_key_fn fn, void *arg);
enum rs_err	rs_admin_user_list(struct rs_db *db, const char *org,
		    rs_admin_user_fn fn, void *arg);

/*
 * Where a state file (the database, the secret) lives, as this process
 * sees it: dir receives the directory of path ("." when path has none)
 * and *owner its owner (-1 when unknown). RS_OK: files can be made in it
 * by this process's user; RS_ERR_NOTFOUND: no such directory;
 * RS_ERR_INVAL: not a directory; RS_ERR_IO: not writable (or not
 * searchable); RS_ERR_RANGE: path too long for dir.
 */
enum rs_err	rs_admin_dir_check(const char *path, char *dir, size_t dirsz,
		    uid_t *owner);
/*
 * Whether this process's user can write the database at path: the file,
 * its directory, and its -wal and -shm files when they exist (SQLite
 * needs all of them; a database it cannot write is opened read-only).
 * RS_OK; or RS_ERR_NOTFOUND (no such database), RS_ERR_IO (one of them
 * is not writable) or RS_ERR_RANGE, with the name at fault in bad.
 */
enum rs_err	rs_admin_db_writable(const char *path, char *bad,
		    size_t badsz);

/* The verification of one org's audit chain. */
struct rs_admin_audit_result {
	char		 org[RS_ID_MAX];
	int64_t		 entries;	/* intact entries, from seq 1 */
	int64_t		 broken;	/* 0: intact; else the first broken
					 * seq (entries + 1) */
	char		 why[128];	/* what is wrong with it */
};
typedef int	(*rs_admin_audit_fn)(const struct rs_admin_audit_result *r,
		    void *arg);

/*
 * Verifies the audit chain of org, or of every org (org NULL), from one
 * snapshot, calling fn once per org (0 to go on, -1 to stop: RS_ERR_IO).
 * Each entry's hash is recomputed from its stored facts (not trusted
 * from the row), its prev_hash must be the previous entry's hash (the
 * first's 64 "0"s) and its seq the previous plus one; the first entry
 * that fails any of these is the org's broken seq. A chain cut short at
 * its end cannot be told from a shorter one. RS_ERR_NOTFOUND: org is
 * given and there is no such org.
 */
enum rs_err	rs_admin_audit_verify(struct rs_db *db, const char *org,
		    rs_admin_audit_fn fn, void *arg);

#endif /* RS_ADMIN_H */
