/*
 * store_orgs.h: orgs, and the counts an operator asks for. Each org gets
 * a number (max + 1) that places its records and events in one rowid
 * range (store_orgseq.h). Writes happen inside the caller's transaction
 * (txn.h).
 */
#ifndef RS_STORE_ORGS_H
#define RS_STORE_ORGS_H

#include <stdint.h>

#include "err.h"
#include "id.h"

struct rs_db;

struct rs_store_stats {
	int64_t	 orgs;
	int64_t	 users;
	int64_t	 keys;		/* live */
	int64_t	 keys_revoked;
};

/* Inserts org id named name with rate_limit, created at now. */
enum rs_err	rs_store_orgs_create(struct rs_db *db, const char *id,
		    const char *name, int rate_limit, int64_t now);
/* RS_OK when org id exists, RS_ERR_NOTFOUND, or an error. */
enum rs_err	rs_store_orgs_exists(struct rs_db *db, const char *id);
/* Sets org id's rate limit: RS_OK, or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_orgs_set_rate(struct rs_db *db, const char *id,
		    int rate_limit);
/* A real read of the orgs table: RS_OK when the database answers. */
enum rs_err	rs_store_orgs_ping(struct rs_db *db);
/* How many orgs, users and keys there are (a real read of each table). */
enum rs_err	rs_store_orgs_stats(struct rs_db *db, struct rs_store_stats *s);

/* An org as the operator's listing shows it. */
struct rs_store_org {
	int64_t		 rowid;		/* list order */
	char		 id[RS_ID_MAX];
	const char	*name;		/* in the reader's arena */
	int		 rate_limit;
	int64_t		 users;
	int64_t		 keys;		/* live */
	int64_t		 created_at;
};

struct rs_arena;

/*
 * Up to max orgs with rowid > after, oldest first: RS_OK with *n rows in
 * out (names in a), or an error.
 */
enum rs_err	rs_store_orgs_list(struct rs_db *db, struct rs_arena *a,
		    int64_t after, size_t max, struct rs_store_org *out,
		    size_t *n);

#endif /* RS_STORE_ORGS_H */
