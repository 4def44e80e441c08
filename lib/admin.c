#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "arena.h"
#include "clock.h"
#include "db.h"
#include "store_keys.h"
#include "store_orgs.h"
#include "store_users.h"
#include "txn.h"
#include "valid.h"
#include "admin.h"

/* Runs change(t, arg) as one write of the CLI; its error, or RS_OK. */
static enum rs_err
rs_admin_write(struct rs_db *db, rs_txn_change change, void *arg)
{
	struct rs_arena	 a;
	struct rs_txn	 t;
	enum rs_err	 rc = RS_OK;

	rs_arena_init(&a);
	rs_txn_init(&t, db, &a, NULL, rs_clock_now_ms());
	if (rs_txn_run(&t, change, arg) != RS_TXN_DONE)
		rc = t.err != RS_OK ? t.err : RS_ERR_DB;
	rs_arena_free(&a);
	return rc;
}

struct rs_admin_org {
	const char	*name;
	int		 rate_limit;
	char		*id;
};

static enum rs_txn_do
rs_admin_org_change(struct rs_txn *t, void *arg)
{
	struct rs_admin_org	*o = arg;

	rs_id_new(o->id, RS_ID_MAX, "org_");
	t->err = rs_store_orgs_create(t->db, o->id, o->name, o->rate_limit,
	    t->now);
	return t->err == RS_OK ? RS_TXN_COMMIT : RS_TXN_FAILED;
}

enum rs_err
rs_admin_org_create(struct rs_db *db, const char *name, int rate_limit,
    char id[RS_ID_MAX])
{
	struct rs_admin_org	 o = { name, rate_limit, id };

	if (name == NULL || *name == '\0' || strlen(name) > RS_MAX_NAME ||
	    rate_limit < 1 || rate_limit > RS_RATE_LIMIT_MAX)
		return RS_ERR_INVAL;
	return rs_admin_write(db, rs_admin_org_change, &o);
}

struct rs_admin_key {
	const unsigned char	*subkey;
	const char		*org;
	const char		*email;
	enum rs_role		 role;
	char			*key;
	char			*key_id;
};

/* Finds or creates the user (active, with k->role); its id to uid. */
static enum rs_err
rs_admin_user(struct rs_txn *t, const struct rs_admin_key *k,
    char uid[RS_ID_MAX])
{
	struct rs_user	 u;
	enum rs_err	 rc;
	int		 live;

	if ((rc = rs_store_orgs_exists(t->db, k->org)) != RS_OK)
		return rc;
	rc = rs_store_users_by_email(t->db, t->arena, k->org, k->email,
	    t->now, &u, &live);
	if (rc == RS_OK) {
		memcpy(uid, u.id, RS_ID_MAX);
		return rs_role_parse(u.role) == k->role ? RS_OK :
		    RS_ERR_EXISTS;
	}
	if (rc != RS_ERR_NOTFOUND)
		return rc;
	memset(&u, 0, sizeof(u));
	rs_id_new(u.id, sizeof(u.id), "usr_");
	u.email = k->email;
	u.role = rs_role_name(k->role);
	u.status = "active";
	memcpy(uid, u.id, RS_ID_MAX);
	return rs_store_users_insert(t->db, k->org, &u, t->now);
}

static enum rs_txn_do
rs_admin_key_change(struct rs_txn *t, void *arg)
{
	struct rs_admin_key	*k = arg;
	char			 uid[RS_ID_MAX];

	if ((t->err = rs_admin_user(t, k, uid)) == RS_OK)
		t->err = rs_store_keys_issue(t->db, k->subkey, k->org, uid,
		    t->now, k->key, k->key_id);
	return t->err == RS_OK ? RS_TXN_COMMIT : RS_TXN_FAILED;
}

enum rs_err
rs_admin_key_create(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *email, enum rs_role role,
    char key[RS_APIKEY_LEN + 1], char key_id[RS_ID_MAX])
{
	struct rs_admin_key	 k = { apikey_subkey, org, email, role, key,
				    key_id };
	enum rs_err		 rc;

	if (!rs_valid_email(email) || strcmp(rs_role_name(role), "unknown") == 0)
		return RS_ERR_INVAL;
	if ((rc = rs_admin_write(db, rs_admin_key_change, &k)) != RS_OK)
		sodium_memzero(key, RS_APIKEY_LEN + 1);
	return rc;
}

static enum rs_txn_do
rs_admin_revoke_change(struct rs_txn *t, void *arg)
{
	t->err = rs_store_keys_revoke(t->db, arg, t->now);
	return t->err == RS_OK ? RS_TXN_COMMIT : RS_TXN_FAILED;
}

enum rs_err
rs_admin_key_revoke(struct rs_db *db, const char *key_id)
{
	char	 id[RS_ID_MAX];

	if (strlen(key_id) >= sizeof(id))
		return RS_ERR_NOTFOUND;
	strcpy(id, key_id);
	return rs_admin_write(db, rs_admin_revoke_change, id);
}

enum rs_err
rs_admin_stats(struct rs_db *db, struct rs_admin_stats *s)
{
	struct rs_store_stats	 st;
	enum rs_err		 rc;

	memset(s, 0, sizeof(*s));
	s->schema = rs_db_user_version(db);
	if ((rc = rs_store_orgs_stats(db, &st)) != RS_OK)
		return rc;
	s->orgs = st.orgs;
	s->users = st.users;
	s->keys = st.keys;
	s->keys_revoked = st.keys_revoked;
	return RS_OK;
}
