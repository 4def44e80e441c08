/*
 * test-store-conflicts: conflicts in SQLite (lib/store_conflicts.h):
 * put and get, keyset lists with their filters, resolve (open only),
 * the supersede rule's probe (the user's open ones on the record, none
 * else), the purge of closed conflicts past the horizon, and the
 * tombstone purge taking a record's conflicts with it. Each test has
 * its own migrated database file in a mkdtemp directory, with one org.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "id.h"
#include "store_conflicts.h"
#include "store_orgseq.h"
#include "store_records.h"
#include "ulid.h"
#define FIXTURE_BOTH	/* store_conflicts_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define DAY_MS	INT64_C(86400000)
#define MAXROW	16

static char		 dir[64];
static int		 ndb;
static struct rs_arena	 arena;
static char		 ann[RS_ID_MAX], bob[RS_ID_MAX];

static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* Runs one write of the store in a transaction of its own. */
#define IN_TX(db, expr)	(rs_db_begin(db) != RS_OK ? RS_ERR_DB : \
	tx_end((db), (expr)))

static enum rs_err
tx_end(struct rs_db *db, enum rs_err rc)
{
	if (rc != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* A conflict of user on org's record rec at when, labelled by its
 * attempted title; its id into id (may be NULL). */
static enum rs_err
put(struct rs_db *db, const char *org, const char *rec, const char *user,
    const char *title, int64_t when, char *id)
{
	struct rs_conflict	 c;

	memset(&c, 0, sizeof(c));
	rs_id_new_sorted(c.id, sizeof(c.id), "cfl_", when);
	if (id != NULL)
		memcpy(id, c.id, sizeof(c.id));
	snprintf(c.org_id, sizeof(c.org_id), "%s", org);
	snprintf(c.record_id, sizeof(c.record_id), "%s", rec);
	rs_ulid_new(c.base_causal, sizeof(c.base_causal), when - 1);
	c.attempted = rs_arena_printf(&arena, "{\"title\":\"%s\"}", title);
	c.current = rs_arena_printf(&arena, "{\"id\":\"%s\"}", rec);
	snprintf(c.created_by, sizeof(c.created_by), "%s", user);
	c.created_at = when;
	return IN_TX(db, rs_store_conflicts_put(db, &c));
}

/* The attempted titles of org's conflicts matching f after seq after. */
static const char *
titles(struct rs_db *db, const char *org, const char *status,
    const char *rec, int64_t after, size_t max)
{
	struct rs_conflict_filter	 f;
	struct rs_conflict		 out[MAXROW];
	size_t				 n, i;
	char				*s = rs_arena_strdup(&arena, "");
	const char			*t;

	f.status = status;
	f.record_id = rec;
	if (rs_store_conflicts_list(db, &arena, org, &f, after, max, out,
	    &n) != RS_OK)
		return "(error)";
	for (i = 0; i < n; i++) {
		/* {"title":"X"}: X */
		t = out[i].attempted + strlen("{\"title\":\"");
		s = rs_arena_printf(&arena, "%s%s%.*s", s, i > 0 ? "," : "",
		    (int)(strlen(t) - 2), t);
	}
	return s;
}

/* The status of conflict id of org, or "(none)". */
static const char *
status(struct rs_db *db, const char *org, const char *id)
{
	struct rs_conflict	 c;

	if (rs_store_conflicts_get(db, &arena, org, id, &c) != RS_OK)
		return "(none)";
	return c.status;
}

static void
test_conflicts_put_get(void)
{
	struct rs_conflict	 c;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	char			 rec[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, ann, "A", NOW_MS, id) == RS_OK);
	if (!TAP_IS_INT(rs_store_conflicts_get(db, &arena, org, id, &c), RS_OK,
	    "conflicts get: finds it"))
		goto out;
	TAP_IS_STR(c.id, id, "conflicts get: id");
	TAP_IS_STR(c.org_id, org, "conflicts get: org_id");
	TAP_IS_STR(c.record_id, rec, "conflicts get: record_id");
	TAP_OK(rs_ulid_valid(c.base_causal), "conflicts get: base_causal");
	TAP_IS_STR(c.attempted, "{\"title\":\"A\"}",
	    "conflicts get: attempted as given");
	TAP_IS_STR(c.current, rs_arena_printf(&arena, "{\"id\":\"%s\"}", rec),
	    "conflicts get: current as given");
	TAP_IS_STR(c.status, "open", "conflicts get: a new one is open");
	TAP_IS_STR(c.created_by, ann, "conflicts get: created_by");
	TAP_IS_INT(c.created_at, NOW_MS, "conflicts get: created_at");
	TAP_OK(c.resolved_at == 0 && c.resolved_by[0] == '\0' &&
	    c.resolution == NULL, "conflicts get: open: nothing resolved");
	TAP_IS_INT(rs_store_conflicts_get(db, &arena, org2, id, &c),
	    RS_ERR_NOTFOUND, "conflicts get: another org's is not found");
	TAP_IS_INT(rs_store_conflicts_get(db, &arena, org,
	    "cfl_00000000000000000000000000", &c), RS_ERR_NOTFOUND,
	    "conflicts get: an unknown id is not found");
out:
	rs_db_close(db);
}

static void
test_conflicts_list(void)
{
	struct rs_conflict_filter f;
	struct rs_conflict	 out[MAXROW];
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	char			 r1[RS_ID_MAX], r2[RS_ID_MAX], b[RS_ID_MAX];
	size_t			 n;
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	rs_id_new(r1, sizeof(r1), "rec_");
	rs_id_new(r2, sizeof(r2), "rec_");
	/* Created later with an earlier id time: the order is creation's. */
	TAP_SETUP(put(db, org, r1, ann, "A", NOW_MS + 50, NULL) == RS_OK);
	TAP_SETUP(put(db, org2, r1, ann, "X", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(put(db, org, r2, ann, "B", NOW_MS, b) == RS_OK);
	TAP_SETUP(put(db, org, r1, bob, "C", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(put(db, org, r2, bob, "D", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(IN_TX(db, rs_store_conflicts_resolve(db, org, b, "current",
	    ann, NOW_MS + 1)) == RS_OK);
	TAP_IS_STR(titles(db, org, NULL, NULL, 0, MAXROW), "A,B,C,D",
	    "conflicts list: oldest first, only the org's");
	TAP_IS_STR(titles(db, org2, NULL, NULL, 0, MAXROW), "X",
	    "conflicts list: the other org's only its own");
	TAP_IS_STR(titles(db, org, NULL, NULL, 0, 2), "A,B",
	    "conflicts list: at most max");
	memset(&f, 0, sizeof(f));
	TAP_SETUP(rs_store_conflicts_list(db, &arena, org, &f, 0, 2, out,
	    &n) == RS_OK && n == 2);
	TAP_IS_STR(titles(db, org, NULL, NULL, out[1].seq, MAXROW), "C,D",
	    "conflicts list: after the last seq, the next page");
	TAP_IS_STR(titles(db, org, "open", NULL, 0, MAXROW), "A,C,D",
	    "conflicts list: status open");
	TAP_IS_STR(titles(db, org, "resolved", NULL, 0, MAXROW), "B",
	    "conflicts list: status resolved");
	TAP_IS_STR(titles(db, org, NULL, r2, 0, MAXROW), "B,D",
	    "conflicts list: record_id");
	TAP_IS_STR(titles(db, org, "open", r2, 0, MAXROW), "D",
	    "conflicts list: record_id and status together");
	TAP_IS_STR(titles(db, org, NULL, r2, out[1].seq, MAXROW), "D",
	    "conflicts list: record_id after a place");
	TAP_IS_STR(titles(db, org2, NULL, r2, 0, MAXROW), "",
	    "conflicts list: record_id of another org's record: none");
	rs_db_close(db);
}

static void
test_conflicts_resolve(void)
{
	struct rs_conflict	 c;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	char			 rec[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, ann, "A", NOW_MS, id) == RS_OK);
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_resolve(db, org2, id,
	    "current", bob, NOW_MS + 5)), RS_ERR_NOTFOUND,
	    "conflicts resolve: not through another org");
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_resolve(db, org, id,
	    "attempted", bob, NOW_MS + 5)), RS_OK,
	    "conflicts resolve: an open one");
	TAP_SETUP(rs_store_conflicts_get(db, &arena, org, id, &c) == RS_OK);
	TAP_OK(strcmp(c.status, "resolved") == 0 &&
	    strcmp(c.resolution, "attempted") == 0 &&
	    strcmp(c.resolved_by, bob) == 0 && c.resolved_at == NOW_MS + 5,
	    "conflicts resolve: resolved, how, by whom and when");
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_resolve(db, org, id,
	    "current", ann, NOW_MS + 6)), RS_ERR_NOTFOUND,
	    "conflicts resolve: a closed one is not open: not found");
	TAP_SETUP(rs_store_conflicts_get(db, &arena, org, id, &c) == RS_OK);
	TAP_OK(strcmp(c.resolution, "attempted") == 0 &&
	    c.resolved_at == NOW_MS + 5,
	    "conflicts resolve: ... and it stays as it was");
	rs_db_close(db);
}

static void
test_conflicts_supersede(void)
{
	struct rs_conflict	 c;
	char			 org[RS_ID_MAX], r1[RS_ID_MAX], r2[RS_ID_MAX];
	char			 a1[RS_ID_MAX], a2[RS_ID_MAX], a3[RS_ID_MAX];
	char			 b1[RS_ID_MAX], x1[RS_ID_MAX];
	size_t			 n = 99;
	struct rs_db		*db = db_new(org);

	rs_id_new(r1, sizeof(r1), "rec_");
	rs_id_new(r2, sizeof(r2), "rec_");
	TAP_SETUP(put(db, org, r1, ann, "a1", NOW_MS, a1) == RS_OK);
	TAP_SETUP(put(db, org, r1, ann, "a2", NOW_MS, a2) == RS_OK);
	TAP_SETUP(put(db, org, r1, ann, "a3", NOW_MS, a3) == RS_OK);
	TAP_SETUP(put(db, org, r1, bob, "b1", NOW_MS, b1) == RS_OK);
	TAP_SETUP(put(db, org, r2, ann, "x1", NOW_MS, x1) == RS_OK);
	TAP_SETUP(IN_TX(db, rs_store_conflicts_resolve(db, org, a3, "current",
	    ann, NOW_MS + 1)) == RS_OK);
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_supersede(db, org, r1, ann,
	    NOW_MS + 9, &n)), RS_OK, "conflicts supersede: succeeds");
	TAP_IS_INT(n, 2, "conflicts supersede: the user's two open ones");
	TAP_OK(strcmp(status(db, org, a1), "superseded") == 0 &&
	    strcmp(status(db, org, a2), "superseded") == 0,
	    "conflicts supersede: they are superseded");
	TAP_SETUP(rs_store_conflicts_get(db, &arena, org, a1, &c) == RS_OK);
	TAP_OK(strcmp(c.resolution, "superseded") == 0 &&
	    strcmp(c.resolved_by, ann) == 0 && c.resolved_at == NOW_MS + 9,
	    "conflicts supersede: resolution, by and at are set");
	TAP_IS_STR(status(db, org, b1), "open",
	    "conflicts supersede: another user's stays open");
	TAP_IS_STR(status(db, org, x1), "open",
	    "conflicts supersede: the user's on another record stay open");
	TAP_SETUP(rs_store_conflicts_get(db, &arena, org, a3, &c) == RS_OK);
	TAP_OK(strcmp(c.status, "resolved") == 0 &&
	    strcmp(c.resolution, "current") == 0,
	    "conflicts supersede: a resolved one is left resolved");
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_supersede(db, org, r1, ann,
	    NOW_MS + 10, &n)) == RS_OK && n == 0, 1,
	    "conflicts supersede: again, none left");
	rs_db_close(db);
}

static void
test_conflicts_purge(void)
{
	char			 org[RS_ID_MAX], rec[RS_ID_MAX];
	char			 old1[RS_ID_MAX], old2[RS_ID_MAX];
	char			 edge[RS_ID_MAX], open[RS_ID_MAX];
	size_t			 n = 99;
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, ann, "o1", NOW_MS - 60 * DAY_MS, old1) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, bob, "o2", NOW_MS - 60 * DAY_MS, old2) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, bob, "e", NOW_MS - 60 * DAY_MS, edge) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, ann, "op", NOW_MS - 60 * DAY_MS, open) ==
	    RS_OK);
	TAP_SETUP(IN_TX(db, rs_store_conflicts_resolve(db, org, old1,
	    "current", ann, NOW_MS - 31 * DAY_MS)) == RS_OK);
	TAP_SETUP(IN_TX(db, rs_store_conflicts_supersede(db, org, rec, bob,
	    NOW_MS - 31 * DAY_MS, &n)) == RS_OK && n == 2);
	/* edge, superseded with old2, closed exactly at the horizon. */
	TAP_SETUP(rs_db_exec(db, rs_arena_printf(&arena, "UPDATE conflicts "
	    "SET resolved_at = %lld WHERE id = '%s'",
	    (long long)(NOW_MS - 30 * DAY_MS), edge)) == RS_OK);
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_purge(db,
	    NOW_MS - 30 * DAY_MS, 1, &n)) == RS_OK && n == 1, 1,
	    "conflicts purge: at most max");
	TAP_IS_INT(IN_TX(db, rs_store_conflicts_purge(db,
	    NOW_MS - 30 * DAY_MS, 100, &n)) == RS_OK && n == 1, 1,
	    "conflicts purge: then the rest past the horizon");
	TAP_OK(strcmp(status(db, org, old1), "(none)") == 0 &&
	    strcmp(status(db, org, old2), "(none)") == 0,
	    "conflicts purge: resolved and superseded ones closed before the "
	    "horizon are gone");
	TAP_IS_STR(status(db, org, edge), "superseded",
	    "conflicts purge: one closed at the horizon stays");
	TAP_IS_STR(status(db, org, open), "open",
	    "conflicts purge: an open one stays, however old");
	rs_db_close(db);
}

static void
test_conflicts_tombstone_purge(void)
{
	struct rs_record	 r;
	struct rs_store_orgseq	 seq;
	char			 org[RS_ID_MAX], c1[RS_ID_MAX], c2[RS_ID_MAX];
	char			 other[RS_ID_MAX];
	size_t			 n;
	struct rs_db		*db = db_new(org);

	memset(&r, 0, sizeof(r));
	rs_id_new(r.id, sizeof(r.id), "rec_");
	snprintf(r.org_id, sizeof(r.org_id), "%s", org);
	r.title = "t";
	r.type = "note";
	r.status = "queued";
	r.data = "{}";
	r.size = 2;
	rs_ulid_new(r.causal, sizeof(r.causal), NOW_MS);
	r.version = 2;
	r.created_at = r.updated_at = NOW_MS - 100 * DAY_MS;
	r.deleted_at = NOW_MS - 91 * DAY_MS;
	snprintf(r.created_by, sizeof(r.created_by), "%s", ann);
	r.queue = "default";
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgseq_take(db, org, 1, 0, &seq) == RS_OK);
	r.change_seq = seq.change;
	r.seq = rs_store_orgseq_rowid(&seq, seq.change);
	TAP_SETUP(rs_store_records_put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_SETUP(put(db, org, r.id, ann, "c1", NOW_MS, c1) == RS_OK);
	TAP_SETUP(put(db, org, r.id, bob, "c2", NOW_MS, c2) == RS_OK);
	TAP_SETUP(IN_TX(db, rs_store_conflicts_resolve(db, org, c2, "current",
	    bob, NOW_MS)) == RS_OK);
	TAP_SETUP(put(db, org, "rec_00000000000000000000000001", ann, "o",
	    NOW_MS, other) == RS_OK);
	TAP_SETUP(IN_TX(db, rs_store_records_purge(db, NOW_MS - 90 * DAY_MS,
	    10, &n)) == RS_OK && n == 1);
	TAP_OK(strcmp(status(db, org, c1), "(none)") == 0 &&
	    strcmp(status(db, org, c2), "(none)") == 0,
	    "conflicts: a purged tombstone takes its conflicts, open or not");
	TAP_IS_STR(status(db, org, other), "open",
	    "conflicts: another record's stay");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(44);
	fixture_start(dir, sizeof(dir), "rs-conflicts");
	rs_arena_init(&arena);
	rs_id_new(ann, sizeof(ann), "usr_");
	rs_id_new(bob, sizeof(bob), "usr_");

	TAP_OK(rs_store_conflicts_status_valid("open") &&
	    rs_store_conflicts_status_valid("resolved") &&
	    rs_store_conflicts_status_valid("superseded") &&
	    !rs_store_conflicts_status_valid("closed") &&
	    !rs_store_conflicts_status_valid(""),
	    "conflicts status: open, resolved, superseded and nothing else");
	test_conflicts_put_get();
	test_conflicts_list();
	test_conflicts_resolve();
	test_conflicts_supersede();
	test_conflicts_purge();
	test_conflicts_tombstone_purge();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
