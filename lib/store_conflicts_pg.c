#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "store_conflicts_pg.h"

enum {
	STMT_INSERT,
	STMT_GET,
	STMT_LIST,
	STMT_LIST_RECORD,
	STMT_RESOLVE,
	STMT_SUPERSEDE,
	STMT_PURGE,
	STMT__MAX
};

static const char *const sql[STMT__MAX] = {
	/* STMT_INSERT */
	"INSERT INTO conflicts (id, org_id, record_id, base_causal, "
	"attempted, current, status, created_by, created_at) "
	"VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
	/* STMT_GET */
	"SELECT " CCOLS " FROM conflicts WHERE id = $2 AND org_id = $1",
	/* STMT_LIST: walks conflicts_org; NULL $3 is any status (cast: a
	 * prepared statement has no types) */
	"SELECT " CCOLS " FROM conflicts WHERE org_id = $1 AND seq > $2 "
	"AND ($3::text IS NULL OR status = $3::text) ORDER BY seq LIMIT $4",
	/* STMT_LIST_RECORD: walks conflicts_record, which ends in seq */
	"SELECT " CCOLS " FROM conflicts WHERE org_id = $1 "
	"AND record_id = $5 AND seq > $2 "
	"AND ($3::text IS NULL OR status = $3::text) ORDER BY seq LIMIT $4",
	/* STMT_RESOLVE */
	"UPDATE conflicts SET status = 'resolved', resolution = $3, "
	"resolved_by = $4, resolved_at = $5 "
	"WHERE id = $2 AND org_id = $1 AND status = 'open'",
	/* STMT_SUPERSEDE: the partial index conflicts_open */
	"UPDATE conflicts SET status = 'superseded', "
	"resolution = 'superseded', resolved_by = $3, resolved_at = $4 "
	"WHERE org_id = $1 AND record_id = $2 AND created_by = $3 "
	"AND status = 'open'",
	/* STMT_PURGE: walks conflicts_closed. The worker purges while a
	 * record's tombstone purge (its trigger) or another run may take
	 * the same rows: those it holds are left, not waited for. */
	"DELETE FROM conflicts WHERE seq IN (SELECT seq FROM conflicts "
	"WHERE resolved_at IS NOT NULL AND resolved_at < $1 "
	"ORDER BY resolved_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
};

enum rs_err
rs_store_conflicts_pg_put(struct rs_db *db, const struct rs_conflict *c)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_text(&a, c->id);
	rs_pg_text(&a, c->org_id);
	rs_pg_text(&a, c->record_id);
	rs_pg_text(&a, c->base_causal);
	rs_pg_text(&a, c->attempted);
	rs_pg_text(&a, c->current);
	rs_pg_text(&a, c->created_by);
	rs_pg_int(&a, c->created_at);
	return rs_pg_later(db, sql[STMT_INSERT], &a);
}

/* Fills c from row i of a CCOLS result. */
static enum rs_err
rs_store_conflicts_pg_row(struct rs_arena *a, const struct pg_result *r,
    int i, struct rs_conflict *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = rs_pg_int64(r, i, 0);
	if (rs_pg_copy(r, i, 1, c->id, sizeof(c->id)) != RS_OK ||
	    rs_pg_copy(r, i, 2, c->org_id, sizeof(c->org_id)) != RS_OK ||
	    rs_pg_copy(r, i, 3, c->record_id, sizeof(c->record_id)) != RS_OK ||
	    rs_pg_copy(r, i, 4, c->base_causal,
	    sizeof(c->base_causal)) != RS_OK ||
	    rs_pg_copy(r, i, 8, c->created_by,
	    sizeof(c->created_by)) != RS_OK ||
	    (!rs_pg_isnull(r, i, 11) && rs_pg_copy(r, i, 11, c->resolved_by,
	    sizeof(c->resolved_by)) != RS_OK))
		return RS_ERR_RANGE;
	c->attempted = rs_pg_dup(r, i, 5, a);
	c->current = rs_pg_dup(r, i, 6, a);
	c->status = rs_pg_dup(r, i, 7, a);
	c->created_at = rs_pg_int64(r, i, 9);
	c->resolved_at = rs_pg_int64(r, i, 10);
	c->resolution = rs_pg_dup(r, i, 12, a);
	if (c->attempted == NULL || c->current == NULL || c->status == NULL ||
	    (c->resolution == NULL && !rs_pg_isnull(r, i, 12)))
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_conflicts_pg_get(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, struct rs_conflict *c)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	if ((rc = rs_pg_query(db, sql[STMT_GET], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1)
		rc = rs_store_conflicts_pg_row(a, r, 0, c);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_conflicts_pg_list(struct rs_db *db, struct rs_arena *a,
    const char *org, const struct rs_conflict_filter *f, int64_t after,
    size_t max, struct rs_conflict *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i;

	*n = 0;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, after);
	rs_pg_text(&args, f->status);
	rs_pg_int(&args, (int64_t)max);
	/* Two statements, not a NULL-able record_id: each has its index.
	 * $5 only in the second: a statement takes the parameters it
	 * names, no more. */
	if (f->record_id != NULL)
		rs_pg_text(&args, f->record_id);
	if ((rc = rs_pg_query(db, sql[f->record_id != NULL ?
	    STMT_LIST_RECORD : STMT_LIST], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_conflicts_pg_row(a, r, i,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_conflicts_pg_resolve(struct rs_db *db, const char *org,
    const char *id, const char *resolution, const char *user, int64_t now)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 n;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_text(&a, id);
	rs_pg_text(&a, resolution);
	rs_pg_text(&a, user);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_run(db, sql[STMT_RESOLVE], &a, &n)) != RS_OK)
		return rc;
	return n == 1 ? RS_OK : RS_ERR_NOTFOUND;
}

enum rs_err
rs_store_conflicts_pg_supersede(struct rs_db *db, const char *org,
    const char *record_id, const char *user, int64_t now, size_t *n)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 changed;

	*n = 0;
	rs_pg_args(&a);
	rs_pg_text(&a, org);
	rs_pg_text(&a, record_id);
	rs_pg_text(&a, user);
	rs_pg_int(&a, now);
	if ((rc = rs_pg_run(db, sql[STMT_SUPERSEDE], &a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}

enum rs_err
rs_store_conflicts_pg_purge(struct rs_db *db, int64_t horizon, size_t max,
    size_t *n)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 changed;

	*n = 0;
	rs_pg_args(&a);
	rs_pg_int(&a, horizon);
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_run(db, sql[STMT_PURGE], &a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}
