#include <string.h>

#include "db.h"
#include "db_pg.h"
#include "store_orgs_pg.h"

enum {
	STMT_NUMBERING,
	STMT_INSERT,
	STMT_EXISTS,
	STMT_STATS,
	STMT_PING,
	STMT_LIST,
	STMT_RATE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_NUMBERING: org numbers are max + 1; creators take turns
	 * (a statement after the lock sees the last one's row). */
	"SELECT pg_advisory_xact_lock(0)",
	/* STMT_INSERT */
	"INSERT INTO orgs (id, name, rate_limit, created_at, num) "
	"VALUES ($1, $2, $3, $4, "
	"(SELECT coalesce(max(num), 0) + 1 FROM orgs))",
	/* STMT_EXISTS */
	"SELECT 1 FROM orgs WHERE id = $1",
	/* STMT_STATS */
	"SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users), "
	"(SELECT count(*) FROM api_keys WHERE revoked_at IS NULL), "
	"(SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL)",
	/* STMT_PING */
	"SELECT count(*) FROM orgs",
	/* STMT_LIST */
	"SELECT o.rowid, o.id, o.name, o.rate_limit, "
	"(SELECT count(*) FROM users u WHERE u.org_id = o.id), "
	"(SELECT count(*) FROM api_keys k WHERE k.org_id = o.id "
	"AND k.revoked_at IS NULL), o.created_at "
	"FROM orgs o WHERE o.rowid > $1 ORDER BY o.rowid LIMIT $2",
	/* STMT_RATE */
	"UPDATE orgs SET rate_limit = $2 WHERE id = $1",
};

enum rs_err
rs_store_orgs_pg_create(struct rs_db *db, const char *id, const char *name,
    int rate_limit, int64_t now)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;

	if ((rc = rs_pg_run(db, sql[STMT_NUMBERING], NULL, NULL)) != RS_OK)
		return rc;
	rs_pg_args(&a);
	rs_pg_text(&a, id);
	rs_pg_text(&a, name);
	rs_pg_int(&a, rate_limit);
	rs_pg_int(&a, now);
	return rs_pg_run(db, sql[STMT_INSERT], &a, NULL);
}

enum rs_err
rs_store_orgs_pg_set_rate(struct rs_db *db, const char *id, int rate_limit)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_text(&a, id);
	rs_pg_int(&a, rate_limit);
	if ((rc = rs_pg_run(db, sql[STMT_RATE], &a, &n)) != RS_OK)
		return rc;
	if (n != 1)
		return RS_ERR_NOTFOUND;
	rs_db_note_shared(db);	/* every holder of the org's keys */
	return RS_OK;
}

enum rs_err
rs_store_orgs_pg_exists(struct rs_db *db, const char *id)
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, id);
	if ((rc = rs_pg_query(db, sql[STMT_EXISTS], &a, &r)) != RS_OK)
		return rc;
	rc = rs_pg_rows(r) > 0 ? RS_OK : RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_orgs_pg_stats(struct rs_db *db, struct rs_store_stats *s)
{
	struct pg_result	*r;
	enum rs_err		 rc;

	memset(s, 0, sizeof(*s));
	if ((rc = rs_pg_query(db, sql[STMT_STATS], NULL, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1) {
		s->orgs = rs_pg_int64(r, 0, 0);
		s->users = rs_pg_int64(r, 0, 1);
		s->keys = rs_pg_int64(r, 0, 2);
		s->keys_revoked = rs_pg_int64(r, 0, 3);
	} else
		rc = RS_ERR_DB;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_orgs_pg_ping(struct rs_db *db)
{
	struct pg_result	*r;
	enum rs_err		 rc;

	if ((rc = rs_pg_query(db, sql[STMT_PING], NULL, &r)) != RS_OK)
		return rc;
	rs_pg_clear(r);
	return RS_OK;
}

/* Fills o from row i of STMT_LIST. */
static enum rs_err
rs_store_orgs_pg_row(struct rs_arena *a, const struct pg_result *r, int i,
    struct rs_store_org *o)
{
	memset(o, 0, sizeof(*o));
	o->rowid = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, o->id, sizeof(o->id)) != RS_OK)
		return RS_ERR_RANGE;
	if ((o->name = rs_pg_dup(r, i, 2, a)) == NULL)
		return RS_ERR_NOMEM;
	o->rate_limit = (int)rs_pg_int64(r, i, 3);
	o->users = rs_pg_int64(r, i, 4);
	o->keys = rs_pg_int64(r, i, 5);
	o->created_at = rs_pg_int64(r, i, 6);
	return RS_OK;
}

enum rs_err
rs_store_orgs_pg_list(struct rs_db *db, struct rs_arena *a, int64_t after,
    size_t max, struct rs_store_org *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_int(&args, after);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_orgs_pg_row(a, r, i, &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}
