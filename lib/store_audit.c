#include <string.h>

#include <sqlite3.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "log.h"
#include "store_audit.h"
#include "store_audit_pg.h"

enum {
	STMT_HEAD,
	STMT_INSERT,
	STMT_NUM,
	STMT_LIST,
	STMT_LIST_ACTION,
	STMT_LIST_ACTOR,
	STMT_LIST_TARGET,
	STMT_ORG_NEXT,
	STMT_INDEX,
	STMT__MAX
};

/*
 * A list: the org's range after entry ?2 (?1 the org), the filters ?3
 * action, ?4 actor, ?5 target (NULL: any), ?6 rows. Each variant leads
 * with the one filter whose index it reads; an index ends in the rowid,
 * so the range and the order come from the index too.
 */
#define LIST(lead) \
	"SELECT " ACOLS " FROM audit WHERE " lead \
	"seq > (SELECT (num << 40) + ?2 FROM orgs WHERE id = ?1) " \
	"AND seq < (SELECT (num + 1) << 40 FROM orgs WHERE id = ?1) " \
	"AND org_id = ?1 " \
	"AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR actor_id = ?4) " \
	"AND (?5 IS NULL OR target = ?5) ORDER BY seq LIMIT ?6"

static const char *const sql[STMT__MAX] = {
	/*
	 * STMT_HEAD: the org's number and its chain's head, the last row
	 * of its range (n and hash NULL before the first entry).
	 */
	"SELECT o.num, a.n, a.hash FROM orgs o LEFT JOIN audit a "
	"ON a.seq = (SELECT max(seq) FROM audit "
	"WHERE seq >= (o.num << 40) AND seq < ((o.num + 1) << 40)) "
	"WHERE o.id = ?1",
	/* STMT_INSERT */
	"INSERT INTO audit (" ACOLS ") VALUES "
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	/* STMT_NUM */
	"SELECT num FROM orgs WHERE id = ?1",
	/* STMT_LIST */
	LIST(""),
	/* STMT_LIST_ACTION */
	LIST("action = ?3 AND "),
	/* STMT_LIST_ACTOR */
	LIST("actor_id = ?4 AND "),
	/*
	 * STMT_LIST_TARGET: the org's entries of target ?5 that
	 * audit_targets holds (up to its last row in the org's range, the
	 * worker's place), then those past it, read from the log itself.
	 */
	"WITH r(lo, hi) AS (SELECT (num << 40) + ?2, (num + 1) << 40 "
	"FROM orgs WHERE id = ?1), "
	"w(done) AS (SELECT coalesce((SELECT max(t.seq) FROM audit_targets t "
	"WHERE t.seq > r.lo AND t.seq < r.hi), r.lo) FROM r) "
	"SELECT " ACOLS " FROM audit WHERE seq IN (SELECT t.seq FROM r, w, "
	"audit_targets t WHERE t.target = ?5 AND t.seq > r.lo "
	"AND t.seq <= w.done) "
	"AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR actor_id = ?4) "
	"UNION ALL "
	"SELECT " ACOLS " FROM audit WHERE "
	"seq > (SELECT max(r.lo, w.done) FROM r, w) "
	"AND seq < (SELECT hi FROM r) AND target = ?5 "
	"AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR actor_id = ?4) "
	"ORDER BY seq LIMIT ?6",
	/* STMT_ORG_NEXT: the next org's number after ?1. */
	"SELECT num FROM orgs WHERE num > ?1 ORDER BY num LIMIT 1",
	/*
	 * STMT_INDEX: up to ?2 entries of org number ?1 past the last one
	 * audit_targets holds, in order (so its last row stays the place).
	 */
	"INSERT INTO audit_targets (seq, target) SELECT seq, target FROM audit "
	"WHERE seq > (SELECT coalesce(max(seq), ?1 << 40) FROM audit_targets "
	"WHERE seq >= ?1 << 40 AND seq < (?1 + 1) << 40) "
	"AND seq < (?1 + 1) << 40 ORDER BY seq LIMIT ?2",
};

/* Binds text s to parameter i, or NULL. */
static void
rs_store_audit_bind(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/*
 * The org's number into *num and its head (*n, 0 before the first
 * entry, and hash, rs_audit_genesis then). RS_ERR_NOTFOUND for an
 * unknown org; RS_ERR_DB for a head that is not a hash (logged).
 */
static enum rs_err
rs_store_audit_head(struct rs_db *db, const char *org, int64_t *num,
    int64_t *n, char hash[RS_AUDIT_HASH_HEX + 1])
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step;

	if ((st = rs_db_stmt(db, sql[STMT_HEAD])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*num = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
			*n = 0;
			memcpy(hash, rs_audit_genesis, RS_AUDIT_HASH_HEX + 1);
		} else {
			*n = sqlite3_column_int64(st, 1);
			if (rs_db_column_copy(st, 2, hash,
			    RS_AUDIT_HASH_HEX + 1) != RS_OK ||
			    strlen(hash) != RS_AUDIT_HASH_HEX) {
				rs_log_err("org %s: the audit head is not a "
				    "hash", org);
				rc = RS_ERR_DB;
			}
		}
	} else
		rc = step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_audit_append(struct rs_db *db, struct rs_audit_entry *e)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc;
	int64_t		 num = 0, n = 0;

	if (rs_db_pg(db))
		return rs_store_audit_pg_append(db, e);

	/* The checks need an n; the real one comes from the head. */
	e->n = 1;
	if ((rc = rs_audit_check(e)) != RS_OK)
		return rc;
	if ((rc = rs_store_audit_head(db, e->org_id, &num, &n,
	    e->prev_hash)) != RS_OK)
		return rc;
	e->n = n + 1;
	if (num < 0 || num > RS_ORG_NUM_MAX ||
	    e->n >= (1LL << RS_ORG_ROW_BITS)) {
		rs_log_err("org %s: number %lld or audit seq %lld out of "
		    "range", e->org_id, (long long)num, (long long)e->n);
		return RS_ERR_DB;
	}
	if ((rc = rs_audit_seal(e)) != RS_OK)
		return rc;
	if ((st = rs_db_stmt(db, sql[STMT_INSERT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, (num << RS_ORG_ROW_BITS) | e->n);
	sqlite3_bind_text(st, 2, e->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, e->n);
	sqlite3_bind_int64(st, 4, e->at);
	sqlite3_bind_text(st, 5, e->actor_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->actor_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->action, -1, SQLITE_STATIC);
	rs_store_audit_bind(st, 8, e->target);
	rs_store_audit_bind(st, 9, e->request_id);
	rs_store_audit_bind(st, 10, e->ip);
	sqlite3_bind_text(st, 11, e->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, e->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, e->hash, -1, SQLITE_STATIC);
	return rs_db_run(st);
}

/* Fills r from the current row of an ACOLS query, strings in a. */
static enum rs_err
rs_store_audit_row(struct rs_arena *a, sqlite3_stmt *st,
    struct rs_store_audit_row *r)
{
	struct rs_audit_entry	*e = &r->e;

	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	e->n = sqlite3_column_int64(st, 2);
	e->at = sqlite3_column_int64(st, 3);
	if ((e->org_id = rs_db_column_dup(st, 1, a)) == NULL ||
	    (e->actor_type = rs_db_column_dup(st, 4, a)) == NULL ||
	    (e->actor_id = rs_db_column_dup(st, 5, a)) == NULL ||
	    (e->action = rs_db_column_dup(st, 6, a)) == NULL ||
	    (e->detail = rs_db_column_dup(st, 10, a)) == NULL)
		return RS_ERR_NOMEM;
	/* NULL columns stay NULL (JSON null); a failed copy is no memory. */
	if (((e->target = rs_db_column_dup(st, 7, a)) == NULL &&
	    sqlite3_column_type(st, 7) != SQLITE_NULL) ||
	    ((e->request_id = rs_db_column_dup(st, 8, a)) == NULL &&
	    sqlite3_column_type(st, 8) != SQLITE_NULL) ||
	    ((e->ip = rs_db_column_dup(st, 9, a)) == NULL &&
	    sqlite3_column_type(st, 9) != SQLITE_NULL))
		return RS_ERR_NOMEM;
	/* A stored hash of another length is kept cut short: the verifier
	 * compares it and finds it broken. */
	if (rs_db_column_copy(st, 11, e->prev_hash,
	    sizeof(e->prev_hash)) != RS_OK)
		e->prev_hash[0] = '\0';
	if (rs_db_column_copy(st, 12, e->hash, sizeof(e->hash)) != RS_OK)
		e->hash[0] = '\0';
	return RS_OK;
}

enum rs_err
rs_store_audit_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_store_audit_filter *f, size_t max,
    struct rs_store_audit_row *out, size_t *n)
{
	sqlite3_stmt	*st;
	enum rs_err	 rc = RS_OK;
	int		 step = SQLITE_DONE, i;

	if (rs_db_pg(db))
		return rs_store_audit_pg_list(db, a, org, f, max, out, n);

	*n = 0;
	if (f->target != NULL)
		i = STMT_LIST_TARGET;
	else if (f->actor != NULL)
		i = STMT_LIST_ACTOR;
	else if (f->action != NULL)
		i = STMT_LIST_ACTION;
	else
		i = STMT_LIST;
	if ((st = rs_db_stmt(db, sql[i])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, f->after_n);
	rs_store_audit_bind(st, 3, f->action);
	rs_store_audit_bind(st, 4, f->actor);
	rs_store_audit_bind(st, 5, f->target);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)max);
	while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = rs_store_audit_row(a, st, &out[(*n)++])) != RS_OK)
			break;
	if (rc == RS_OK && *n < max && step != SQLITE_DONE)
		rc = rs_db_err(step);
	rs_db_done(st);
	return rc;
}

enum rs_err
rs_store_audit_last(struct rs_db *db, const char *org, int64_t *n)
{
	char	 hash[RS_AUDIT_HASH_HEX + 1];
	int64_t	 num;

	if (rs_db_pg(db))
		return rs_store_audit_pg_last(db, org, n);

	return rs_store_audit_head(db, org, &num, n, hash);
}

/*
 * Steps st, bound, for one integer: RS_OK and *out, RS_ERR_NOTFOUND when
 * there is no row, or an error. Resets st.
 */
static enum rs_err
rs_store_audit_one(sqlite3_stmt *st, int64_t *out)
{
	int	 step;

	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	rs_db_done(st);
	if (step != SQLITE_ROW)
		return step == SQLITE_DONE ? RS_ERR_NOTFOUND : rs_db_err(step);
	return RS_OK;
}

enum rs_err
rs_store_audit_org_num(struct rs_db *db, const char *org, int64_t *num)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_audit_pg_org_num(db, org, num);

	if ((st = rs_db_stmt(db, sql[STMT_NUM])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
	return rs_store_audit_one(st, num);
}

enum rs_err
rs_store_audit_org_next(struct rs_db *db, int64_t after, int64_t *num)
{
	sqlite3_stmt	*st;

	if (rs_db_pg(db))
		return rs_store_audit_pg_org_next(db, after, num);

	if ((st = rs_db_stmt(db, sql[STMT_ORG_NEXT])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, after);
	return rs_store_audit_one(st, num);
}

enum rs_err
rs_store_audit_index(struct rs_db *db, int64_t num, size_t max, size_t *n)
{
	sqlite3_stmt	*st;
	int		 step;

	if (rs_db_pg(db))
		return rs_store_audit_pg_index(db, num, max, n);

	*n = 0;
	if ((st = rs_db_stmt(db, sql[STMT_INDEX])) == NULL)
		return RS_ERR_DB;
	sqlite3_bind_int64(st, 1, num);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	if ((step = sqlite3_step(st)) == SQLITE_DONE)
		*n = (size_t)sqlite3_changes(sqlite3_db_handle(st));
	rs_db_done(st);
	return step == SQLITE_DONE ? RS_OK : rs_db_err(step);
}
