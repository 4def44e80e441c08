/*
 * test-store-policies: sync policies in SQLite (lib/store_policies.h):
 * create and replace by name (the created flag, the id and created_at a
 * replacement keeps), the org's policy version bumped by every write,
 * the evaluation order (order, then name), the enabled-only list, keyset
 * paging that holds across a delete (the tombstone keeps the place), a
 * name created again after a delete, and the scoping by org. Each test
 * has its own migrated database file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "admin.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "store_policies.h"
#define FIXTURE_BOTH	/* store_policies_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define MAXP	16

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;

/* A new migrated database with org "Acme" (its id into org). */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/*
 * Creates or replaces policy name of org in a transaction of its own;
 * the stored row into *out (may be NULL), *created set.
 */
static enum rs_err
put(struct rs_db *db, const char *org, const char *name, const char *when,
    int64_t order, int enabled, int64_t now, int *created,
    struct rs_store_policy *out)
{
	struct rs_store_policy	 p;
	enum rs_err		 rc;
	int			 c;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.when = when;
	p.then = "queue=wifi";
	p.order = order;
	p.enabled = enabled;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_policies_put(db, &arena, org, &p, now,
	    &c)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	if (created != NULL)
		*created = c;
	if (out != NULL)
		*out = p;
	return rs_db_commit(db);
}

static enum rs_err
del(struct rs_db *db, const char *org, const char *name, int64_t now)
{
	struct rs_store_policy	 p;
	enum rs_err		 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_policies_delete(db, &arena, org, name, now,
	    &p)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/*
 * The names of org's policies, comma-separated, in list order after
 * (order, seq), up to max; "(error)" on failure. *last gets the last row.
 */
static const char *
names(struct rs_db *db, const char *org, int enabled_only, int64_t order,
    int64_t seq, size_t max, struct rs_store_policy *last)
{
	static char		 buf[512];
	struct rs_store_policy	 rows[MAXP];
	size_t			 n, i;

	buf[0] = '\0';
	if (rs_store_policies_list(db, &arena, org, enabled_only, order, seq,
	    max, rows, &n) != RS_OK)
		return "(error)";
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i > 0 ? "," : "", rows[i].name);
	if (n > 0 && last != NULL)
		*last = rows[n - 1];
	return buf;
}

static void
test_policies_put_new(void)
{
	struct rs_store_policy	 p, g;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int			 created = -1;

	db = db_new(org);
	TAP_IS_INT(rs_store_policies_version(db, org), 0,
	    "test_policies_put_new: version 0 before any write");
	TAP_IS_INT(put(db, org, "defer_media", "size>5120", 100, 1, NOW_MS,
	    &created, &p), RS_OK, "test_policies_put_new: put");
	TAP_IS_INT(created, 1, "test_policies_put_new: created");
	TAP_OK(rs_id_valid(p.id, "pol_"), "test_policies_put_new: pol_ id");
	TAP_IS_STR(p.when, "size>5120", "test_policies_put_new: when");
	TAP_IS_STR(p.then, "queue=wifi", "test_policies_put_new: then");
	TAP_IS_INT(p.created_at, NOW_MS, "test_policies_put_new: created_at");
	TAP_IS_INT(rs_store_policies_get(db, &arena, org, "defer_media", &g),
	    RS_OK, "test_policies_put_new: get");
	TAP_IS_STR(g.id, p.id, "test_policies_put_new: get's id");
	TAP_IS_INT(rs_store_policies_version(db, org), 1,
	    "test_policies_put_new: version bumped");
	rs_db_close(db);
}

static void
test_policies_put_replace(void)
{
	struct rs_store_policy	 a, b;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int			 created = -1;

	db = db_new(org);
	TAP_SETUP(put(db, org, "p", "size>1", 100, 1, NOW_MS, NULL, &a) ==
	    RS_OK);
	TAP_IS_INT(put(db, org, "p", "size>2", 7, 0, NOW_MS + 1000, &created,
	    &b), RS_OK, "test_policies_put_replace: put again");
	TAP_IS_INT(created, 0, "test_policies_put_replace: replaced");
	TAP_IS_STR(b.id, a.id, "test_policies_put_replace: same id");
	TAP_IS_INT(b.created_at, NOW_MS, "test_policies_put_replace: "
	    "created_at kept");
	TAP_IS_INT(b.updated_at, NOW_MS + 1000,
	    "test_policies_put_replace: updated_at");
	TAP_IS_STR(b.when, "size>2", "test_policies_put_replace: new when");
	TAP_IS_INT(b.order, 7, "test_policies_put_replace: new order");
	TAP_IS_INT(b.enabled, 0, "test_policies_put_replace: disabled");
	TAP_IS_INT(rs_store_policies_version(db, org), 2,
	    "test_policies_put_replace: version 2");
	rs_db_close(db);
}

static void
test_policies_list_order(void)
{
	struct rs_db	*db;
	char		 org[RS_ID_MAX];

	db = db_new(org);
	TAP_SETUP(put(db, org, "zeta", "true", 10, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, "alpha", "true", 100, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, "beta", "true", 10, 0, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, "gamma", "true", 5, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_IS_STR(names(db, org, 0, 0, 0, MAXP, NULL),
	    "gamma,beta,zeta,alpha", "test_policies_list_order: order, name");
	TAP_IS_STR(names(db, org, 1, 0, 0, MAXP, NULL), "gamma,zeta,alpha",
	    "test_policies_list_order: enabled only");
	rs_db_close(db);
}

static void
test_policies_list_keyset(void)
{
	struct rs_store_policy	 last;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];

	db = db_new(org);
	TAP_SETUP(put(db, org, "b", "true", 10, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, "a", "true", 10, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, "c", "true", 10, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, "d", "true", 20, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_IS_STR(names(db, org, 0, 0, 0, 2, &last), "a,b",
	    "test_policies_list_keyset: page 1");
	/* The last row handed out goes away: its place holds. */
	TAP_SETUP(del(db, org, "b", NOW_MS) == RS_OK);
	TAP_IS_STR(names(db, org, 0, last.order, last.seq, 2, &last), "c,d",
	    "test_policies_list_keyset: page 2 after a delete");
	TAP_IS_STR(names(db, org, 0, last.order, last.seq, 2, NULL), "",
	    "test_policies_list_keyset: past the end");
	rs_db_close(db);
}

static void
test_policies_delete(void)
{
	struct rs_store_policy	 a, b, g;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];
	int			 created = -1;

	db = db_new(org);
	TAP_SETUP(put(db, org, "p", "true", 100, 1, NOW_MS, NULL, &a) ==
	    RS_OK);
	TAP_IS_INT(del(db, org, "p", NOW_MS + 1), RS_OK,
	    "test_policies_delete: delete");
	TAP_IS_INT(rs_store_policies_version(db, org), 2,
	    "test_policies_delete: version bumped");
	TAP_IS_INT(rs_store_policies_get(db, &arena, org, "p", &g),
	    RS_ERR_NOTFOUND, "test_policies_delete: gone");
	TAP_IS_STR(names(db, org, 0, 0, 0, MAXP, NULL), "",
	    "test_policies_delete: not listed");
	TAP_IS_INT(del(db, org, "p", NOW_MS + 2), RS_ERR_NOTFOUND,
	    "test_policies_delete: again is not found");
	TAP_IS_INT(del(db, org, "nope", NOW_MS + 2), RS_ERR_NOTFOUND,
	    "test_policies_delete: unknown is not found");
	TAP_IS_INT(put(db, org, "p", "true", 100, 1, NOW_MS + 3, &created,
	    &b), RS_OK, "test_policies_delete: create the name again");
	TAP_IS_INT(created, 1, "test_policies_delete: it is new");
	TAP_OK(strcmp(a.id, b.id) != 0, "test_policies_delete: a new id");
	TAP_IS_INT(b.created_at, NOW_MS + 3,
	    "test_policies_delete: a new created_at");
	rs_db_close(db);
}

static void
test_policies_other_org(void)
{
	struct rs_store_policy	 g;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	int			 created = -1;

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, other) == RS_OK);
	TAP_SETUP(put(db, org, "p", "true", 100, 1, NOW_MS, NULL, NULL) ==
	    RS_OK);
	TAP_IS_INT(rs_store_policies_get(db, &arena, other, "p", &g),
	    RS_ERR_NOTFOUND, "test_policies_other_org: not seen");
	TAP_IS_STR(names(db, other, 0, 0, 0, MAXP, NULL), "",
	    "test_policies_other_org: not listed");
	TAP_IS_INT(del(db, other, "p", NOW_MS), RS_ERR_NOTFOUND,
	    "test_policies_other_org: not deleted");
	TAP_IS_INT(put(db, other, "p", "true", 100, 1, NOW_MS, &created,
	    NULL), RS_OK, "test_policies_other_org: same name there");
	TAP_IS_INT(created, 1, "test_policies_other_org: new there");
	TAP_IS_INT(rs_store_policies_version(db, org), 1,
	    "test_policies_other_org: versions are per org");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(40);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-policies") == 0);
	rs_arena_init(&arena);

	test_policies_put_new();
	test_policies_put_replace();
	test_policies_list_order();
	test_policies_list_keyset();
	test_policies_delete();
	test_policies_other_org();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
