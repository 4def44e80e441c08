#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_policies_pg.h"

enum {
	STMT_GET,
	STMT_GET_SEQ,
	STMT_FIND,
	STMT_LIST,
	STMT_INSERT,
	STMT_REPLACE,
	STMT_DELETE,
	STMT_BUMP,
	STMT_VERSION,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT " PCOLS " FROM policies WHERE org_id = $1 AND name = $2 "
	"AND deleted_at IS NULL",
	/* STMT_GET_SEQ */
	"SELECT " PCOLS " FROM policies WHERE seq = $1",
	/* STMT_FIND: the row of a name, live or a tombstone */
	"SELECT seq, deleted_at IS NULL FROM policies "
	"WHERE org_id = $1 AND name = $2",
	/*
	 * STMT_LIST: the keyset (order, name) after the place $3, the name
	 * of row $4 (kept even when deleted); $4 = 0 is the start. Names
	 * compare bytewise, as under SQLite's BINARY, whatever collation
	 * the database has ("C"): evaluation order and cursors stay as
	 * they were. Integers tested against 0 only need their type.
	 */
	"SELECT " PCOLS " FROM policies WHERE org_id = $1 "
	"AND deleted_at IS NULL AND ($2::int = 0 OR enabled = 1) "
	"AND ($4::bigint = 0 OR \"order\" > $3::bigint "
	"OR (\"order\" = $3::bigint AND name COLLATE \"C\" > "
	"(SELECT p.name FROM policies p WHERE p.seq = $4::bigint))) "
	"ORDER BY \"order\", name COLLATE \"C\" LIMIT $5",
	/* STMT_INSERT: RETURNING, for SQLite's last insert rowid */
	"INSERT INTO policies (id, org_id, name, \"when\", \"then\", "
	"\"order\", enabled, created_at, updated_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING seq",
	/* STMT_REPLACE: a live row keeps id and created_at, a tombstone not */
	"UPDATE policies SET "
	"id = CASE WHEN deleted_at IS NULL THEN id ELSE $2 END, "
	"created_at = CASE WHEN deleted_at IS NULL THEN created_at "
	"ELSE $7 END, "
	"\"when\" = $3, \"then\" = $4, \"order\" = $5, enabled = $6, "
	"updated_at = $7, deleted_at = NULL WHERE seq = $1",
	/* STMT_DELETE */
	"UPDATE policies SET deleted_at = $2, updated_at = $2 "
	"WHERE seq = $1 AND deleted_at IS NULL",
	/* STMT_BUMP */
	"UPDATE orgs SET policy_version = policy_version + 1 WHERE id = $1",
	/* STMT_VERSION */
	"SELECT policy_version FROM orgs WHERE id = $1",
};

/* Fills p from row i of a PCOLS query. */
static enum rs_err
rs_store_policies_pg_row(struct rs_arena *a, const struct pg_result *r,
    int i, struct rs_store_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->seq = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, p->id, sizeof(p->id)) != RS_OK ||
	    rs_pg_copy(r, i, 2, p->name, sizeof(p->name)) != RS_OK)
		return RS_ERR_RANGE;
	p->when = rs_pg_dup(r, i, 3, a);
	p->then = rs_pg_dup(r, i, 4, a);
	p->order = rs_pg_int64(r, i, 5);
	p->enabled = rs_pg_int64(r, i, 6) != 0;
	p->created_at = rs_pg_int64(r, i, 7);
	p->updated_at = rs_pg_int64(r, i, 8);
	return p->when && p->then ? RS_OK : RS_ERR_NOMEM;
}

/* The one row of statement i with text $1 [, $2] or integer key. */
static enum rs_err
rs_store_policies_pg_one(struct rs_db *db, struct rs_arena *a, int i,
    const char *org, const char *name, int64_t seq,
    struct rs_store_policy *p)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	if (org != NULL) {
		rs_pg_text(&args, org);
		rs_pg_text(&args, name);
	} else
		rs_pg_int(&args, seq);
	if ((rc = rs_pg_query(db, sql[i], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0)
		rc = rs_store_policies_pg_row(a, r, 0, p);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_policies_pg_get(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *name, struct rs_store_policy *p)
{
	return rs_store_policies_pg_one(db, a, STMT_GET, org, name, 0, p);
}

enum rs_err
rs_store_policies_pg_list(struct rs_db *db, struct rs_arena *a,
    const char *org, int enabled_only, int64_t after_order,
    int64_t after_seq, size_t max, struct rs_store_policy *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, enabled_only != 0);
	rs_pg_int(&args, after_order);
	rs_pg_int(&args, after_seq);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_policies_pg_row(a, r, i,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

/* Bumps org's policy version: RS_OK, RS_ERR_NOTFOUND, or an error. */
static enum rs_err
rs_store_policies_pg_bump(struct rs_db *db, const char *org)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	if ((rc = rs_pg_run(db, sql[STMT_BUMP], &a, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

/*
 * The row of name in org, live or not: RS_OK with *seq and *live,
 * RS_ERR_NOTFOUND, or an error.
 */
static enum rs_err
rs_store_policies_pg_find(struct rs_db *db, const char *org, const char *name,
    int64_t *seq, int *live)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_text(&a, name);
	if ((rc = rs_pg_query(db, sql[STMT_FIND], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0) {
		*seq = rs_pg_int64(r, 0, 0);
		*live = (int)rs_pg_int64(r, 0, 1);
	} else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

/* Inserts p as a new policy id of org at now; its row into *seq. */
static enum rs_err
rs_store_policies_pg_insert(struct rs_db *db, const char *org,
    const char *id, const struct rs_store_policy *p, int64_t now,
    int64_t *seq)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, id);
	rs_pg_text(&a, org);
	rs_pg_text(&a, p->name);
	rs_pg_text(&a, p->when);
	rs_pg_text(&a, p->then);
	rs_pg_int(&a, p->order);
	rs_pg_int(&a, p->enabled != 0);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_query(db, sql[STMT_INSERT], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1)
		*seq = rs_pg_int64(r, 0, 0);
	else
		rc = RS_ERR_DB;
	rs_pg_clear(r);
	return rc;
}

/* Writes p over row seq at now (id: the new id, if it was a tombstone). */
static enum rs_err
rs_store_policies_pg_replace(struct rs_db *db, int64_t seq, const char *id,
    const struct rs_store_policy *p, int64_t now)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_int(&a, seq);
	rs_pg_text(&a, id);
	rs_pg_text(&a, p->when);
	rs_pg_text(&a, p->then);
	rs_pg_int(&a, p->order);
	rs_pg_int(&a, p->enabled != 0);
	rs_pg_int(&a, now);
	return rs_pg_run(db, sql[STMT_REPLACE], &a, NULL);
}

enum rs_err
rs_store_policies_pg_put(struct rs_db *db, struct rs_arena *a,
    const char *org, struct rs_store_policy *p, int64_t now, int *created)
{
	char		 id[RS_ID_MAX];
	enum rs_err	 rc;
	int64_t		 seq = 0;
	int		 live = 0;

	*created = 1;
	rs_id_new(id, sizeof(id), "pol_");
	rc = rs_store_policies_pg_find(db, org, p->name, &seq, &live);
	if (rc == RS_OK) {
		*created = !live;
		rc = rs_store_policies_pg_replace(db, seq, id, p, now);
	} else if (rc == RS_ERR_NOTFOUND)
		rc = rs_store_policies_pg_insert(db, org, id, p, now, &seq);
	if (rc != RS_OK)
		return rc;
	if ((rc = rs_store_policies_pg_bump(db, org)) != RS_OK)
		return rc;
	return rs_store_policies_pg_one(db, a, STMT_GET_SEQ, NULL, NULL, seq,
	    p);
}

enum rs_err
rs_store_policies_pg_delete(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *name, int64_t now,
    struct rs_store_policy *p)
{
	struct rs_pg_args	 args;
	enum rs_err		 rc;
	int64_t			 n;

	if ((rc = rs_store_policies_pg_get(db, a, org, name, p)) != RS_OK)
		return rc;
	rs_pg_args(&args);
	rs_pg_int(&args, p->seq);
	rs_pg_int(&args, now);
	if ((rc = rs_pg_run(db, sql[STMT_DELETE], &args, &n)) != RS_OK)
		return rc;
	if (n != 1)
		return RS_ERR_NOTFOUND;
	return rs_store_policies_pg_bump(db, org);
}

/* rs_db_int() (SQLite's): the version, or -1 when none or it fails. */
int64_t
rs_store_policies_pg_version(struct rs_db *db, const char *org)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	int64_t			 v = -1;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	if (rs_pg_query(db, sql[STMT_VERSION], &a, &r) != RS_OK)
		return -1;
	if (rs_pg_rows(r) > 0)
		v = rs_pg_int64(r, 0, 0);
	rs_pg_clear(r);
	return v;
}
