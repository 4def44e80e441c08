#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "admin.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "store_backup.h"
#include "store_move.h"
#include "copy.h"

/* A table's rows on their way: the target and its columns. */
struct rs_copy_table {
	struct rs_db	*dst;
	const char	*name;
	const char	*cols[RS_STORE_MOVE_COLS];
	size_t		 ncols;
	int64_t		 rows;
};

static void
rs_copy_why(struct rs_copy_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
rs_copy_why(struct rs_copy_report *r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static enum rs_err
rs_copy_row(void *arg, const struct rs_store_cell *cells)
{
	struct rs_copy_table	*t = arg;

	t->rows++;
	return rs_store_move_insert(t->dst, t->name, t->cols, t->ncols, cells);
}

/* Opens both ends and checks each is one a copy may use. */
static enum rs_err
rs_copy_open(const char *from, const char *to, struct rs_db **src,
    struct rs_db **dst, struct rs_copy_report *r)
{
	enum rs_err	 rc;
	int64_t		 orgs;
	int		 v;

	if (!rs_config_conninfo(to)) {
		rs_copy_why(r, "--to must name a PostgreSQL database "
		    "(postgresql://... or a libpq conninfo)");
		return RS_ERR_INVAL;
	}
	if ((rc = rs_store_backup_open_ro(from, src, r->why,
	    sizeof(r->why))) != RS_OK)
		return rc;
	if ((v = rs_db_user_version(*src)) != rs_migrate_latest()) {
		rs_copy_why(r, "%s: schema version %d, this program knows %d: "
		    "%s", from, v, rs_migrate_latest(), v < rs_migrate_latest() ?
		    "migrate it first (RELAYSYNC_DB=FILE relaysync-admin "
		    "migrate)" : "it is newer than this program");
		return RS_ERR_SCHEMA;
	}
	if ((rc = rs_db_open(to, 0, 0, dst)) != RS_OK) {
		rs_copy_why(r, "cannot connect to the target (%s); see the "
		    "log", rs_strerror(rc));
		return rc;
	}
	if ((rc = rs_migrate_run(*dst)) != RS_OK) {
		rs_copy_why(r, "cannot bring the target's schema up to date "
		    "(%s)", rs_strerror(rc));
		return rc;
	}
	if ((rc = rs_store_move_count(*dst, "orgs", &orgs)) != RS_OK)
		return rc;
	if (orgs != 0) {
		rs_copy_why(r, "the target holds %lld orgs: a copy goes into "
		    "an empty database only", (long long)orgs);
		return RS_ERR_EXISTS;
	}
	return RS_OK;
}

/* One table's rows, inside the target's transaction. */
static enum rs_err
rs_copy_table(struct rs_db *src, struct rs_copy_table *t,
    struct rs_arena *a, struct rs_copy_report *r)
{
	enum rs_err	 rc;

	if ((rc = rs_store_move_columns(t->dst, a, t->name, t->cols,
	    &t->ncols)) != RS_OK || t->ncols == 0) {
		rs_copy_why(r, "%s: the target has no such table", t->name);
		return rc == RS_OK ? RS_ERR_SCHEMA : rc;
	}
	if ((rc = rs_store_move_rows(src, t->name, t->cols, t->ncols,
	    rs_copy_row, t)) != RS_OK)
		rs_copy_why(r, "%s: row %lld could not be copied (%s); see "
		    "the log", t->name, (long long)t->rows, rs_strerror(rc));
	return rc;
}

/* Every table, then the target's counters: one transaction. */
static enum rs_err
rs_copy_all(struct rs_db *src, struct rs_db *dst, struct rs_copy_report *r)
{
	struct rs_copy_table	 t;
	struct rs_arena		 a;
	enum rs_err		 rc;
	size_t			 i;

	rs_arena_init(&a);
	if ((rc = rs_db_begin_read(src)) != RS_OK ||
	    (rc = rs_db_begin(dst)) != RS_OK) {
		rs_copy_why(r, "cannot begin the copy (%s)", rs_strerror(rc));
		goto out;
	}
	for (i = 0; rs_store_move_tables[i] != NULL; i++) {
		if (i == RS_COPY_TABLES) {
			rc = RS_ERR_RANGE;
			goto out;
		}
		memset(&t, 0, sizeof(t));
		t.dst = dst;
		t.name = rs_store_move_tables[i];
		if ((rc = rs_copy_table(src, &t, &a, r)) != RS_OK)
			goto out;
		r->table[i] = t.name;
		r->rows[i] = t.rows;
		r->ntables = i + 1;
	}
	if ((rc = rs_store_move_renumber(dst)) != RS_OK) {
		rs_copy_why(r, "cannot set the target's counters (%s)",
		    rs_strerror(rc));
		goto out;
	}
	if ((rc = rs_db_commit(dst)) != RS_OK)
		rs_copy_why(r, "the target did not commit (%s)",
		    rs_strerror(rc));
out:
	rs_db_rollback(dst);	/* nothing, once committed */
	rs_db_rollback(src);
	rs_arena_free(&a);
	return rc;
}

/* Counts each table on both sides against what was copied. */
static enum rs_err
rs_copy_counts(struct rs_db *src, struct rs_db *dst, struct rs_copy_report *r)
{
	int64_t		 ns, nd;
	enum rs_err	 rc;
	size_t		 i;

	for (i = 0; i < r->ntables; i++) {
		if ((rc = rs_store_move_count(src, r->table[i], &ns)) !=
		    RS_OK || (rc = rs_store_move_count(dst, r->table[i],
		    &nd)) != RS_OK)
			return rc;
		if (ns != r->rows[i] || nd != r->rows[i]) {
			rs_copy_why(r, "%s: %lld rows copied, the source now "
			    "holds %lld and the target %lld (was the source "
			    "written meanwhile?)", r->table[i],
			    (long long)r->rows[i], (long long)ns,
			    (long long)nd);
			return RS_ERR_STATE;
		}
	}
	return RS_OK;
}

static int
rs_copy_chain(const struct rs_admin_audit_result *a, void *arg)
{
	struct rs_copy_report	*r = arg;

	if (a->broken != 0) {
		rs_copy_why(r, "%s: audit entry %lld is broken in the target "
		    "(%s)", a->org, (long long)a->broken, a->why);
		return -1;
	}
	r->orgs++;
	r->entries += a->entries;
	return 0;
}

enum rs_err
rs_copy_run(const char *from, const char *to, struct rs_copy_report *r)
{
	struct rs_db	*src = NULL, *dst = NULL;
	int64_t		 start = rs_clock_now_ms();
	enum rs_err	 rc;

	memset(r, 0, sizeof(*r));
	if ((rc = rs_copy_open(from, to, &src, &dst, r)) != RS_OK ||
	    (rc = rs_copy_all(src, dst, r)) != RS_OK ||
	    (rc = rs_copy_counts(src, dst, r)) != RS_OK)
		goto out;
	if ((rc = rs_store_move_analyze(dst)) != RS_OK) {
		rs_copy_why(r, "copied, but the target's statistics could not "
		    "be gathered (%s): run ANALYZE", rs_strerror(rc));
		goto out;
	}
	if ((rc = rs_admin_audit_verify(dst, NULL, rs_copy_chain, r)) !=
	    RS_OK) {
		if (r->why[0] == '\0')
			rs_copy_why(r, "cannot verify the target's audit "
			    "chains (%s)", rs_strerror(rc));
		rc = RS_ERR_STATE;
	}
out:
	r->ms = rs_clock_now_ms() - start;
	rs_db_close(dst);
	rs_db_close(src);
	return rc;
}
