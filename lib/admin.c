#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "arena.h"
#include "audit.h"
#include "clock.h"
#include "db.h"
#include "json.h"
#include "ratelimit.h"
#include "store_audit.h"
#include "store_keys.h"
#include "store_orgs.h"
#include "store_users.h"
#include "txn.h"
#include "valid.h"
#include "admin.h"

/* The table rs_admin_share() names: the CLI opens one database. */
static char	 rs_admin_table[4096];

/* The rs_db_on_shared hook of rs_admin_share(); arg is the table's path. */
static void
rs_admin_shared(void *arg)
{
	const char		*path = arg;
	struct rs_ratelimit	*rl;
	enum rs_err		 rc;

	if ((rc = rs_ratelimit_attach(path, &rl)) == RS_OK) {
		rs_ratelimit_gen_bump(rl);
		rs_ratelimit_close(rl);
		return;
	}
	if (rc == RS_ERR_IO && errno == ENOENT)
		return;
	fprintf(stderr, "relaysync-admin: %s: cannot tell the running "
	    "server (%s); it applies the change within %d ms\n", path,
	    rc == RS_ERR_IO ? strerror(errno) : rs_strerror(rc),
	    RS_SHARED_TTL_MS);
}

void
rs_admin_share(struct rs_db *db, const char *db_path)
{
	if (rs_ratelimit_path(rs_admin_table, sizeof(rs_admin_table),
	    db_path) != RS_OK) {
		fprintf(stderr, "relaysync-admin: %s: path too long for the "
		    "pool's table; the running server applies changes within "
		    "%d ms\n", db_path, RS_SHARED_TTL_MS);
		return;
	}
	rs_db_on_shared(db, rs_admin_shared, rs_admin_table);
}

/* How many rows a listing reads at a time. */
#define RS_ADMIN_PAGE	100

/* The audit entry's actor of every write of the CLI. */
#define RS_ADMIN_ACTOR	"relaysync-admin"

/*
 * Runs change(t, arg) as one write of the CLI; its error, or RS_OK. The
 * entry's actor is the CLI, with no request id nor address; the change
 * sets the org (it may be the one it makes), action, target and detail.
 */
static enum rs_err
rs_admin_write(struct rs_db *db, rs_txn_change change, void *arg)
{
	struct rs_arena	 a;
	struct rs_txn	 t;
	enum rs_err	 rc = RS_OK;

	rs_arena_init(&a);
	rs_txn_init(&t, db, &a, NULL, rs_clock_now_ms());
	t.audit.actor_type = "system";
	t.audit.actor_id = RS_ADMIN_ACTOR;
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

	struct json_object	*d;

	rs_id_new(o->id, RS_ID_MAX, "org_");
	if ((t->err = rs_store_orgs_create(t->db, o->id, o->name,
	    o->rate_limit, t->now)) != RS_OK)
		return RS_TXN_FAILED;
	if ((d = json_object_new_object()) == NULL ||
	    rs_json_add_str(d, "name", o->name) != 0) {
		json_object_put(d);
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	memcpy(t->org, o->id, sizeof(t->org));	/* both RS_ID_MAX */
	t->audit.action = "org.create";
	t->audit.target = o->id;
	t->audit.detail = d;
	return RS_TXN_COMMIT;
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

struct rs_admin_rate {
	const char	*org;
	int		 rate_limit;
};

static enum rs_txn_do
rs_admin_rate_change(struct rs_txn *t, void *arg)
{
	struct rs_admin_rate	*r = arg;
	struct json_object	*d;

	if ((t->err = rs_store_orgs_set_rate(t->db, r->org,
	    r->rate_limit)) != RS_OK)
		return RS_TXN_FAILED;
	if ((d = json_object_new_object()) == NULL ||
	    rs_json_add_int(d, "rate_limit", r->rate_limit) != 0) {
		json_object_put(d);
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	snprintf(t->org, sizeof(t->org), "%s", r->org);
	t->audit.action = "org.rate_limit";
	t->audit.target = r->org;
	t->audit.detail = d;
	return RS_TXN_COMMIT;
}

enum rs_err
rs_admin_org_set_rate(struct rs_db *db, const char *org, int rate_limit)
{
	struct rs_admin_rate	 r = { org, rate_limit };

	if (org == NULL || strlen(org) >= RS_ID_MAX || rate_limit < 1 ||
	    rate_limit > RS_RATE_LIMIT_MAX)
		return RS_ERR_INVAL;
	return rs_admin_write(db, rs_admin_rate_change, &r);
}

struct rs_admin_key {
	const unsigned char	*subkey;
	const char		*org;
	const char		*email;
	enum rs_role		 role;
	struct rs_admin_newkey	*nk;
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
	struct rs_admin_newkey	*nk = k->nk;
	struct json_object	*d;

	/* An id too long to keep names no org. */
	t->err = RS_ERR_NOTFOUND;
	if (strlen(k->org) >= sizeof(t->org) ||
	    (t->err = rs_admin_user(t, k, nk->user_id)) != RS_OK ||
	    (t->err = rs_store_keys_issue(t->db, k->subkey, k->org,
	    nk->user_id, t->now, nk->key, nk->key_id)) != RS_OK)
		return RS_TXN_FAILED;
	if ((d = json_object_new_object()) == NULL ||
	    rs_json_add_str(d, "email", k->email) != 0 ||
	    rs_json_add_str(d, "role", rs_role_name(k->role)) != 0) {
		json_object_put(d);
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	strcpy(t->org, k->org);
	t->audit.action = "key.create";
	t->audit.target = nk->key_id;
	t->audit.detail = d;
	return RS_TXN_COMMIT;
}

enum rs_err
rs_admin_key_issue(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *email, enum rs_role role,
    struct rs_admin_newkey *nk)
{
	struct rs_admin_key	 k = { apikey_subkey, org, email, role, nk };
	enum rs_err		 rc;

	memset(nk, 0, sizeof(*nk));
	if (!rs_valid_email(email) ||
	    strcmp(rs_role_name(role), "unknown") == 0)
		return RS_ERR_INVAL;
	if ((rc = rs_admin_write(db, rs_admin_key_change, &k)) != RS_OK)
		sodium_memzero(nk->key, sizeof(nk->key));
	return rc;
}

enum rs_err
rs_admin_key_create(struct rs_db *db, const unsigned char apikey_subkey[32],
    const char *org, const char *email, enum rs_role role,
    char key[RS_APIKEY_LEN + 1], char key_id[RS_ID_MAX])
{
	struct rs_admin_newkey	 nk;
	enum rs_err		 rc;

	rc = rs_admin_key_issue(db, apikey_subkey, org, email, role, &nk);
	memcpy(key, nk.key, sizeof(nk.key));
	memcpy(key_id, nk.key_id, sizeof(nk.key_id));
	sodium_memzero(nk.key, sizeof(nk.key));
	return rc;
}

/* A key to revoke: its id, and what the listing says of it. */
struct rs_admin_revoke {
	char	 id[RS_ID_MAX];
	char	 org[RS_ID_MAX];
};

static enum rs_txn_do
rs_admin_revoke_change(struct rs_txn *t, void *arg)
{
	struct rs_admin_revoke	*r = arg;

	if ((t->err = rs_store_keys_revoke(t->db, r->id, t->now)) != RS_OK)
		return RS_TXN_FAILED;
	memcpy(t->org, r->org, sizeof(t->org));
	t->audit.action = "key.revoke";
	t->audit.target = r->id;
	t->audit.detail = NULL;			/* {} */
	return RS_TXN_COMMIT;
}

enum rs_err
rs_admin_key_revoke(struct rs_db *db, const char *key_id)
{
	struct rs_admin_revoke	 r;
	struct rs_store_keyinfo	 k;
	struct rs_arena		 a;
	enum rs_err		 rc;

	memset(&r, 0, sizeof(r));
	if (strlen(key_id) >= sizeof(r.id))
		return RS_ERR_NOTFOUND;
	strcpy(r.id, key_id);
	/*
	 * The entry goes to the key's org. A key's org never changes, so it
	 * is read before the write lock is taken. A key revoked before is
	 * not revoked again: idempotent, and no second entry.
	 */
	rs_arena_init(&a);
	rc = rs_store_keys_info(db, &a, key_id, &k);
	rs_arena_free(&a);
	if (rc != RS_OK)
		return rc;
	if (k.revoked_at != 0)
		return RS_OK;
	memcpy(r.org, k.org_id, sizeof(r.org));
	return rs_admin_write(db, rs_admin_revoke_change, &r);
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

/*
 * Listings: one read snapshot, pages of RS_ADMIN_PAGE rows in an arena
 * that is reset between pages, so a listing of any length uses bounded
 * memory.
 */

/* Begins a listing's snapshot and checks org (when given) in it. */
static enum rs_err
rs_admin_list_begin(struct rs_db *db, const char *org)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin_read(db)) != RS_OK)
		return rc;
	if (org != NULL && (rc = rs_store_orgs_exists(db, org)) != RS_OK)
		rs_db_rollback(db);
	return rc;
}

/* Ends a listing's snapshot; rc, or the commit's error. */
static enum rs_err
rs_admin_list_end(struct rs_db *db, struct rs_arena *a, enum rs_err rc)
{
	rs_arena_free(a);
	if (rc != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

enum rs_err
rs_admin_org_list(struct rs_db *db, rs_admin_org_fn fn, void *arg)
{
	struct rs_store_org	 page[RS_ADMIN_PAGE];
	struct rs_arena		 a;
	int64_t			 after = 0;
	size_t			 i, n;
	enum rs_err		 rc;

	if ((rc = rs_admin_list_begin(db, NULL)) != RS_OK)
		return rc;
	rs_arena_init(&a);
	do {
		rs_arena_reset(&a);
		if ((rc = rs_store_orgs_list(db, &a, after, RS_ADMIN_PAGE,
		    page, &n)) != RS_OK)
			break;
		for (i = 0; i < n && rc == RS_OK; i++)
			if (fn(&page[i], arg) == -1)
				rc = RS_ERR_IO;
		if (n > 0)
			after = page[n - 1].rowid;
	} while (rc == RS_OK && n == RS_ADMIN_PAGE);
	return rs_admin_list_end(db, &a, rc);
}

enum rs_err
rs_admin_key_list(struct rs_db *db, const char *org, rs_admin_key_fn fn,
    void *arg)
{
	struct rs_store_keyinfo	 page[RS_ADMIN_PAGE];
	struct rs_arena		 a;
	int64_t			 after = 0;
	size_t			 i, n;
	enum rs_err		 rc;

	if ((rc = rs_admin_list_begin(db, org)) != RS_OK)
		return rc;
	rs_arena_init(&a);
	do {
		rs_arena_reset(&a);
		if ((rc = rs_store_keys_list(db, &a, org, after,
		    RS_ADMIN_PAGE, page, &n)) != RS_OK)
			break;
		for (i = 0; i < n && rc == RS_OK; i++)
			if (fn(&page[i], arg) == -1)
				rc = RS_ERR_IO;
		if (n > 0)
			after = page[n - 1].rowid;
	} while (rc == RS_OK && n == RS_ADMIN_PAGE);
	return rs_admin_list_end(db, &a, rc);
}

enum rs_err
rs_admin_user_list(struct rs_db *db, const char *org, rs_admin_user_fn fn,
    void *arg)
{
	struct rs_user		 page[RS_ADMIN_PAGE];
	struct rs_userfilter	 any = { NULL, NULL };
	struct rs_arena		 a;
	int64_t			 after = 0;
	size_t			 i, n;
	enum rs_err		 rc;

	if ((rc = rs_admin_list_begin(db, org)) != RS_OK)
		return rc;
	rs_arena_init(&a);
	do {
		rs_arena_reset(&a);
		if ((rc = rs_store_users_list(db, &a, org, &any, after,
		    RS_ADMIN_PAGE, page, &n)) != RS_OK)
			break;
		for (i = 0; i < n && rc == RS_OK; i++)
			if (fn(&page[i], arg) == -1)
				rc = RS_ERR_IO;
		if (n > 0)
			after = page[n - 1].rowid;
	} while (rc == RS_OK && n == RS_ADMIN_PAGE);
	return rs_admin_list_end(db, &a, rc);
}

/*
 * File system checks. They ask with access(2), as the kernel will answer
 * this process (ACLs and read-only mounts included), so a message can
 * name what is wrong instead of SQLite's "unable to open" or "attempt to
 * write a readonly database".
 */

/* Copies the directory part of path into dir ("." when none). */
static enum rs_err
rs_admin_dirname(const char *path, char *dir, size_t dirsz)
{
	const char	*slash = strrchr(path, '/');
	size_t		 len;

	if (slash == NULL)
		len = (size_t)snprintf(dir, dirsz, ".");
	else if (slash == path)
		len = (size_t)snprintf(dir, dirsz, "/");
	else
		len = (size_t)snprintf(dir, dirsz, "%.*s",
		    (int)(slash - path), path);
	return len < dirsz ? RS_OK : RS_ERR_RANGE;
}

enum rs_err
rs_admin_dir_check(const char *path, char *dir, size_t dirsz, uid_t *owner)
{
	struct stat	 st;
	enum rs_err	 rc;

	*owner = (uid_t)-1;
	if ((rc = rs_admin_dirname(path, dir, dirsz)) != RS_OK)
		return rc;
	if (stat(dir, &st) == -1)
		return errno == ENOENT ? RS_ERR_NOTFOUND :
		    errno == ENOTDIR ? RS_ERR_INVAL : RS_ERR_IO;
	*owner = st.st_uid;
	if (!S_ISDIR(st.st_mode))
		return RS_ERR_INVAL;
	return access(dir, W_OK | X_OK) == 0 ? RS_OK : RS_ERR_IO;
}

/* Whether the file name (path with suffix) is writable, when it exists. */
static enum rs_err
rs_admin_writable(const char *path, const char *suffix, char *bad,
    size_t badsz)
{
	if ((size_t)snprintf(bad, badsz, "%s%s", path, suffix) >= badsz)
		return RS_ERR_RANGE;
	if (access(bad, W_OK) == 0 || errno == ENOENT)
		return RS_OK;
	return RS_ERR_IO;
}

enum rs_err
rs_admin_db_writable(const char *path, char *bad, size_t badsz)
{
	uid_t		 owner;
	enum rs_err	 rc;

	if ((size_t)snprintf(bad, badsz, "%s", path) >= badsz)
		return RS_ERR_RANGE;
	if (access(path, F_OK) == -1)
		return errno == ENOENT ? RS_ERR_NOTFOUND : RS_ERR_IO;
	if ((rc = rs_admin_writable(path, "", bad, badsz)) != RS_OK ||
	    (rc = rs_admin_writable(path, "-wal", bad, badsz)) != RS_OK ||
	    (rc = rs_admin_writable(path, "-shm", bad, badsz)) != RS_OK)
		return rc;
	/* SQLite makes -wal and -shm beside the database. */
	return rs_admin_dir_check(path, bad, badsz, &owner) == RS_OK ? RS_OK :
	    RS_ERR_IO;
}

/* ---- audit verify ----------------------------------------------------- */

/*
 * Says entry n of r's org is broken, why (printf-style), into r: the
 * verification of the org stops there.
 */
static void	rs_admin_audit_broken(struct rs_admin_audit_result *r,
		    int64_t n, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

static void
rs_admin_audit_broken(struct rs_admin_audit_result *r, int64_t n,
    const char *fmt, ...)
{
	va_list	 ap;

	r->broken = n;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/*
 * Checks one stored entry against the chain so far: it is entry n of
 * the org (rowid and seq column), links to prev, and its stored hash is
 * the one its facts make, recomputed from them (detail re-read and put
 * in canonical form). 0 when it holds, -1 when r now names it broken;
 * RS_ERR_NOMEM goes to *rc.
 */
static int
rs_admin_audit_entry(int64_t num, const struct rs_store_audit_row *row,
    const char *prev, int64_t n, struct rs_admin_audit_result *r,
    enum rs_err *rc)
{
	struct rs_audit_entry	 e = row->e;
	struct json_object	*detail;
	char			*canon, err[64];
	int64_t			 at_n = row->seq & ((1LL << RS_ORG_ROW_BITS) - 1);

	if (row->seq >> RS_ORG_ROW_BITS != num || at_n != n) {
		rs_admin_audit_broken(r, n, "missing: the next entry stored "
		    "is %lld", (long long)at_n);
		return -1;
	}
	if (e.n != n) {
		rs_admin_audit_broken(r, n, "its seq reads %lld",
		    (long long)e.n);
		return -1;
	}
	if (strcmp(e.prev_hash, prev) != 0) {
		rs_admin_audit_broken(r, n, "prev_hash is not the hash of "
		    "entry %lld", (long long)(n - 1));
		return -1;
	}
	if (rs_json_parse(e.detail, strlen(e.detail), &detail, err,
	    sizeof(err)) != 0 || !json_object_is_type(detail,
	    json_type_object)) {
		json_object_put(detail);
		rs_admin_audit_broken(r, n, "its detail is not a JSON object");
		return -1;
	}
	*rc = rs_audit_detail(detail, &canon);
	json_object_put(detail);
	if (*rc == RS_ERR_NOMEM)
		return -1;
	if (*rc != RS_OK) {
		*rc = RS_OK;
		rs_admin_audit_broken(r, n, "its detail has no canonical form");
		return -1;
	}
	e.detail = canon;
	*rc = rs_audit_seal(&e);
	free(canon);
	if (*rc == RS_ERR_NOMEM)
		return -1;
	if (*rc != RS_OK || rs_audit_check(&e) != RS_OK) {
		*rc = RS_OK;
		rs_admin_audit_broken(r, n, "its facts make no entry");
		return -1;
	}
	if (strcmp(e.hash, row->e.hash) != 0) {
		rs_admin_audit_broken(r, n, "its hash does not match its "
		    "contents");
		return -1;
	}
	return 0;
}

/* Verifies org's chain into *r, inside the caller's read snapshot. */
static enum rs_err
rs_admin_audit_org(struct rs_db *db, const char *org,
    struct rs_admin_audit_result *r)
{
	struct rs_store_audit_filter	 f;
	struct rs_store_audit_row	*page;
	struct rs_arena			 a;
	char				 prev[RS_AUDIT_HASH_HEX + 1];
	int64_t				 num;
	size_t				 i, n;
	enum rs_err			 rc;

	memset(r, 0, sizeof(*r));
	if (strlen(org) >= sizeof(r->org))
		return RS_ERR_RANGE;
	strcpy(r->org, org);
	if ((rc = rs_store_audit_org_num(db, org, &num)) != RS_OK)
		return rc;
	if ((page = calloc(RS_ADMIN_PAGE, sizeof(*page))) == NULL)
		return RS_ERR_NOMEM;
	memcpy(prev, rs_audit_genesis, sizeof(prev));
	memset(&f, 0, sizeof(f));
	rs_arena_init(&a);
	do {
		rs_arena_reset(&a);
		if ((rc = rs_store_audit_list(db, &a, org, &f, RS_ADMIN_PAGE,
		    page, &n)) != RS_OK)
			break;
		for (i = 0; i < n; i++) {
			if (rs_admin_audit_entry(num, &page[i], prev,
			    r->entries + 1, r, &rc) != 0)
				break;
			memcpy(prev, page[i].e.hash, sizeof(prev));
			r->entries++;
		}
		f.after_n = r->entries;
	} while (rc == RS_OK && r->broken == 0 && n == RS_ADMIN_PAGE);
	rs_arena_free(&a);
	free(page);
	return rc;
}

enum rs_err
rs_admin_audit_verify(struct rs_db *db, const char *org,
    rs_admin_audit_fn fn, void *arg)
{
	struct rs_admin_audit_result	 r;
	struct rs_store_org		 page[RS_ADMIN_PAGE];
	struct rs_arena			 a;
	int64_t				 after = 0;
	size_t				 i, n;
	enum rs_err			 rc;

	if ((rc = rs_admin_list_begin(db, org)) != RS_OK)
		return rc;
	rs_arena_init(&a);
	if (org != NULL) {
		if ((rc = rs_admin_audit_org(db, org, &r)) == RS_OK &&
		    fn(&r, arg) == -1)
			rc = RS_ERR_IO;
		return rs_admin_list_end(db, &a, rc);
	}
	do {
		rs_arena_reset(&a);
		if ((rc = rs_store_orgs_list(db, &a, after, RS_ADMIN_PAGE,
		    page, &n)) != RS_OK)
			break;
		for (i = 0; i < n && rc == RS_OK; i++)
			if ((rc = rs_admin_audit_org(db, page[i].id,
			    &r)) == RS_OK && fn(&r, arg) == -1)
				rc = RS_ERR_IO;
		if (n > 0)
			after = page[n - 1].rowid;
	} while (rc == RS_OK && n == RS_ADMIN_PAGE);
	return rs_admin_list_end(db, &a, rc);
}
