#include <string.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "log.h"
#include "store_audit_pg.h"

enum {
	STMT_LOCK,
	STMT_HEAD,
	STMT_INSERT,
	STMT_NUM,
	STMT_LIST,
	STMT_LIST_ACTION,
	STMT_LIST_ACTOR,
	STMT_LIST_TARGET,
	STMT_ORG_NEXT,
	STMT_INDEX_LOCK,
	STMT_INDEX,
	STMT__MAX
};

/*
 * A list: the org's range after entry $2 ($1 the org), the filters $3
 * action, $4 actor, $5 target (NULL: any), $6 rows. Each variant leads
 * with the one filter it reads first. The filters are cast: a parameter
 * seen first in "IS NULL" has no type of its own.
 */
#define LIST(lead) \
	"SELECT " ACOLS " FROM audit WHERE " lead \
	"seq > (SELECT (num << 40) + $2::bigint FROM orgs WHERE id = $1) " \
	"AND seq < (SELECT (num + 1) << 40 FROM orgs WHERE id = $1) " \
	"AND org_id = $1 " \
	"AND ($3::text IS NULL OR action = $3::text) " \
	"AND ($4::text IS NULL OR actor_id = $4::text) " \
	"AND ($5::text IS NULL OR target = $5::text) ORDER BY seq LIMIT $6"

static const char *const sql[STMT__MAX] = {
	/*
	 * STMT_LOCK: the org's writers' lock (db_pg.c's, the same key),
	 * held to the commit, before the head is read. SQLite's one write
	 * lock serialised every appender; here an API write holds its
	 * org's lock from its BEGIN (and skips this: a round trip an
	 * append, a batch item's too), but the CLI's writes (and an
	 * invite's acceptance) begin without one and take it here. The
	 * head is read by the next statement, whose snapshot is taken
	 * after the wait: two appenders never read the same head.
	 */
	"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
	/*
	 * STMT_HEAD: the org's number and its chain's head, the last row
	 * of its range (n and hash NULL before the first entry). LATERAL
	 * and LIMIT 1 keep it one probe of the key from the range's top:
	 * joined on "seq = (SELECT max(seq) ...)", the generic plan a
	 * connection keeps, made while the table was small, hashed the
	 * whole audit table on every append (a batch of 100 creates took
	 * 0.3 s, ten thousand 30 s, and growing with the log).
	 */
	"SELECT o.num, a.n, a.hash FROM orgs o LEFT JOIN LATERAL "
	"(SELECT n, hash FROM audit "
	"WHERE seq >= (o.num << 40) AND seq < ((o.num + 1) << 40) "
	"ORDER BY seq DESC LIMIT 1) a ON true "
	"WHERE o.id = $1",
	/* STMT_INSERT */
	"INSERT INTO audit (" ACOLS ") VALUES "
	"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	/* STMT_NUM */
	"SELECT num FROM orgs WHERE id = $1",
	/* STMT_LIST */
	LIST(""),
	/* STMT_LIST_ACTION */
	LIST("action = $3 AND "),
	/* STMT_LIST_ACTOR */
	LIST("actor_id = $4 AND "),
	/*
	 * STMT_LIST_TARGET: the org's entries of target $5 that
	 * audit_targets holds (up to its last row in the org's range, the
	 * worker's place), then those past it, read from the log itself.
	 * SQLite's two-argument max() is greatest() here.
	 */
	"WITH r(lo, hi) AS (SELECT (num << 40) + $2::bigint, (num + 1) << 40 "
	"FROM orgs WHERE id = $1), "
	"w(done) AS (SELECT coalesce((SELECT max(t.seq) FROM audit_targets t "
	"WHERE t.seq > r.lo AND t.seq < r.hi), r.lo) FROM r) "
	"SELECT " ACOLS " FROM audit WHERE seq IN (SELECT t.seq FROM r, w, "
	"audit_targets t WHERE t.target = $5::text AND t.seq > r.lo "
	"AND t.seq <= w.done) "
	"AND ($3::text IS NULL OR action = $3::text) "
	"AND ($4::text IS NULL OR actor_id = $4::text) "
	"UNION ALL "
	"SELECT " ACOLS " FROM audit WHERE "
	"seq > (SELECT greatest(r.lo, w.done) FROM r, w) "
	"AND seq < (SELECT hi FROM r) AND target = $5::text "
	"AND ($3::text IS NULL OR action = $3::text) "
	"AND ($4::text IS NULL OR actor_id = $4::text) "
	"ORDER BY seq LIMIT $6",
	/* STMT_ORG_NEXT: the next org's number after $1. */
	"SELECT num FROM orgs WHERE num > $1 ORDER BY num LIMIT 1",
	/*
	 * STMT_INDEX_LOCK: the org's target lookup, one writer at a time.
	 * SQLite had one writer; here a worker on another host may index
	 * the same org at once, and both would start from the same last
	 * row. The second waits for the first's commit, and its insert,
	 * the next statement, starts from the row the first left. A key
	 * of the two-integer space, which the one-integer locks (the org
	 * locks of db_pg.c, the org numbering of store_orgs_pg.c) never
	 * meet: class 1, the org's number (at most RS_ORG_NUM_MAX, an int).
	 */
	"SELECT pg_advisory_xact_lock(1, $1::int)",
	/*
	 * STMT_INDEX: up to $2 entries of org number $1 past the last one
	 * audit_targets holds, in order (so its last row stays the place).
	 */
	"INSERT INTO audit_targets (seq, target) SELECT seq, target FROM audit "
	"WHERE seq > (SELECT coalesce(max(seq), $1::bigint << 40) "
	"FROM audit_targets "
	"WHERE seq >= $1::bigint << 40 AND seq < ($1::bigint + 1) << 40) "
	"AND seq < ($1::bigint + 1) << 40 ORDER BY seq LIMIT $2",
};

/*
 * The org's number into *num and its head (*n, 0 before the first
 * entry, and hash, rs_audit_genesis then). RS_ERR_NOTFOUND for an
 * unknown org; RS_ERR_DB for a head that is not a hash (logged).
 */
static enum rs_err
rs_store_audit_pg_head(struct rs_db *db, const char *org, int64_t *num,
    int64_t *n, char hash[RS_AUDIT_HASH_HEX + 1])
{
	struct rs_pg_args	 a;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	if ((rc = rs_pg_query(db, sql[STMT_HEAD], &a, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) != 1)
		rc = RS_ERR_NOTFOUND;
	else {
		*num = rs_pg_int64(r, 0, 0);
		if (rs_pg_isnull(r, 0, 1)) {
			*n = 0;
			memcpy(hash, rs_audit_genesis, RS_AUDIT_HASH_HEX + 1);
		} else {
			*n = rs_pg_int64(r, 0, 1);
			if (rs_pg_copy(r, 0, 2, hash,
			    RS_AUDIT_HASH_HEX + 1) != RS_OK ||
			    strlen(hash) != RS_AUDIT_HASH_HEX) {
				rs_log_err("org %s: the audit head is not a "
				    "hash", org);
				rc = RS_ERR_DB;
			}
		}
	}
	rs_pg_clear(r);
	return rc;
}

/* Takes the org's writers' lock (STMT_LOCK) unless the transaction
 * holds it already. */
static enum rs_err
rs_store_audit_pg_lock(struct rs_db *db, const char *org)
{
	struct rs_pg_args	 a;

	if (rs_pg_org_locked(db, org))
		return RS_OK;
	rs_pg_args(&a);
	rs_pg_text(&a, org);
	return rs_pg_later(db, sql[STMT_LOCK], &a);
}

enum rs_err
rs_store_audit_pg_append(struct rs_db *db, struct rs_audit_entry *e)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 num = 0, n = 0;

	/* The checks need an n; the real one comes from the head. */
	e->n = 1;
	if ((rc = rs_audit_check(e)) != RS_OK)
		return rc;
	if ((rc = rs_store_audit_pg_lock(db, e->org_id)) != RS_OK ||
	    (rc = rs_store_audit_pg_head(db, e->org_id, &num, &n,
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
	rs_pg_args(&a);
	rs_pg_int(&a, (num << RS_ORG_ROW_BITS) | e->n);
	rs_pg_text(&a, e->org_id);
	rs_pg_int(&a, e->n);
	rs_pg_int(&a, e->at);
	rs_pg_text(&a, e->actor_type);
	rs_pg_text(&a, e->actor_id);
	rs_pg_text(&a, e->action);
	rs_pg_text(&a, e->target);
	rs_pg_text(&a, e->request_id);
	rs_pg_text(&a, e->ip);
	rs_pg_text(&a, e->detail);
	rs_pg_text(&a, e->prev_hash);
	rs_pg_text(&a, e->hash);
	return rs_pg_later(db, sql[STMT_INSERT], &a);
}

/* Fills out from row i of an ACOLS query, strings in a. */
static enum rs_err
rs_store_audit_pg_row(struct rs_arena *a, const struct pg_result *r, int i,
    struct rs_store_audit_row *out)
{
	struct rs_audit_entry	*e = &out->e;

	memset(out, 0, sizeof(*out));
	out->seq = rs_pg_int64(r, i, 0);
	e->n = rs_pg_int64(r, i, 2);
	e->at = rs_pg_int64(r, i, 3);
	if ((e->org_id = rs_pg_dup(r, i, 1, a)) == NULL ||
	    (e->actor_type = rs_pg_dup(r, i, 4, a)) == NULL ||
	    (e->actor_id = rs_pg_dup(r, i, 5, a)) == NULL ||
	    (e->action = rs_pg_dup(r, i, 6, a)) == NULL ||
	    (e->detail = rs_pg_dup(r, i, 10, a)) == NULL)
		return RS_ERR_NOMEM;
	/* NULL columns stay NULL (JSON null); a failed copy is no memory. */
	if (((e->target = rs_pg_dup(r, i, 7, a)) == NULL &&
	    !rs_pg_isnull(r, i, 7)) ||
	    ((e->request_id = rs_pg_dup(r, i, 8, a)) == NULL &&
	    !rs_pg_isnull(r, i, 8)) ||
	    ((e->ip = rs_pg_dup(r, i, 9, a)) == NULL &&
	    !rs_pg_isnull(r, i, 9)))
		return RS_ERR_NOMEM;
	/* A stored hash of another length is kept cut short: the verifier
	 * compares it and finds it broken. */
	if (rs_pg_copy(r, i, 11, e->prev_hash, sizeof(e->prev_hash)) != RS_OK)
		e->prev_hash[0] = '\0';
	if (rs_pg_copy(r, i, 12, e->hash, sizeof(e->hash)) != RS_OK)
		e->hash[0] = '\0';
	return RS_OK;
}

enum rs_err
rs_store_audit_pg_list(struct rs_db *db, struct rs_arena *a, const char *org,
    const struct rs_store_audit_filter *f, size_t max,
    struct rs_store_audit_row *out, size_t *n)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;
	int			 i, k;

	*n = 0;
	if (f->target != NULL)
		k = STMT_LIST_TARGET;
	else if (f->actor != NULL)
		k = STMT_LIST_ACTOR;
	else if (f->action != NULL)
		k = STMT_LIST_ACTION;
	else
		k = STMT_LIST;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_int(&args, f->after_n);
	rs_pg_text(&args, f->action);
	rs_pg_text(&args, f->actor);
	rs_pg_text(&args, f->target);
	rs_pg_int(&args, (int64_t)max);
	if ((rc = rs_pg_query(db, sql[k], &args, &r)) != RS_OK)
		return rc;
	for (i = 0; i < rs_pg_rows(r) && *n < max; i++)
		if ((rc = rs_store_audit_pg_row(a, r, i,
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_audit_pg_last(struct rs_db *db, const char *org, int64_t *n)
{
	char	 hash[RS_AUDIT_HASH_HEX + 1];
	int64_t	 num;

	return rs_store_audit_pg_head(db, org, &num, n, hash);
}

/*
 * Runs stmt with args for one integer: RS_OK and *out, RS_ERR_NOTFOUND
 * when there is no row, or an error.
 */
static enum rs_err
rs_store_audit_pg_one(struct rs_db *db, const char *stmt,
    const struct rs_pg_args *args, int64_t *out)
{
	struct pg_result	*r;
	enum rs_err		 rc;

	if ((rc = rs_pg_query(db, stmt, args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) > 0)
		*out = rs_pg_int64(r, 0, 0);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_audit_pg_org_num(struct rs_db *db, const char *org, int64_t *num)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_text(&a, org);
	return rs_store_audit_pg_one(db, sql[STMT_NUM], &a, num);
}

enum rs_err
rs_store_audit_pg_org_next(struct rs_db *db, int64_t after, int64_t *num)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	rs_pg_int(&a, after);
	return rs_store_audit_pg_one(db, sql[STMT_ORG_NEXT], &a, num);
}

enum rs_err
rs_store_audit_pg_index(struct rs_db *db, int64_t num, size_t max, size_t *n)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 changed;

	*n = 0;
	/* No org has such a number: no entries (the lock's key is an int). */
	if (num < 0 || num > RS_ORG_NUM_MAX)
		return RS_OK;
	rs_pg_args(&a);
	rs_pg_int(&a, num);
	if ((rc = rs_pg_run(db, sql[STMT_INDEX_LOCK], &a, NULL)) != RS_OK)
		return rc;
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_run(db, sql[STMT_INDEX], &a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}
