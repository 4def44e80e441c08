/*
 * admin.h: what relaysync-admin does to the database: orgs, users with
 * their first key, key revocation and counts. The CLI only parses its
 * arguments and prints; every decision is here, every write goes
 * through the one write transaction (txn.h) and every query through the
 * stores. It is to the CLI what the api_* modules are to the router.
 */
#ifndef RS_ADMIN_H
#define RS_ADMIN_H

#include <stdint.h>

#include "apikey.h"
#include "err.h"
#include "id.h"
#include "role.h"

struct rs_db;

struct rs_admin_stats {
	int64_t	 orgs;
	int64_t	 users;
	int64_t	 keys;		/* live */
	int64_t	 keys_revoked;
	int	 schema;
};

/* Creates an org; its id goes to id. RS_ERR_INVAL for a bad name/limit. */
enum rs_err	rs_admin_org_create(struct rs_db *db, const char *name,
		    int rate_limit, char id[RS_ID_MAX]);
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
/* Revokes a key (idempotent). RS_ERR_NOTFOUND when there is none. */
enum rs_err	rs_admin_key_revoke(struct rs_db *db, const char *key_id);
enum rs_err	rs_admin_stats(struct rs_db *db, struct rs_admin_stats *s);

#endif /* RS_ADMIN_H */
