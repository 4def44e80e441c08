/*
 * test-store-history: records' prior versions in SQLite
 * (lib/store_history.h): put and list (newest first, paged, scoped by
 * org and record, bounded by the horizon), what changed since a
 * version (the union the field merge reads: an unknown or purged base,
 * a version that does not say), the retention purge, and the tombstone
 * purge taking a record's history with it. Each test has its own
 * migrated database file in a mkdtemp directory, with one org.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "id.h"
#include "store_history.h"
#include "store_orgseq.h"
#include "store_records.h"
#include "ulid.h"
#define FIXTURE_BOTH	/* store_history_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define DAY_MS	INT64_C(86400000)
#define MAXROW	16

static char		 dir[64];
static int		 ndb;
static struct rs_arena	 arena;
static char		 user[RS_ID_MAX];

/* A new migrated database with one org (its id into org). */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/*
 * Version v of org's record rec, superseded at when, that changed
 * changed (NULL: unknown); its causal token into causal (may be NULL).
 */
static enum rs_err
put(struct rs_db *db, const char *org, const char *rec, int64_t v,
    const char *changed, int64_t when, char *causal)
{
	struct rs_history	 h;
	enum rs_err		 rc;

	memset(&h, 0, sizeof(h));
	snprintf(h.org_id, sizeof(h.org_id), "%s", org);
	snprintf(h.record_id, sizeof(h.record_id), "%s", rec);
	h.version = v;
	rs_ulid_new(h.causal, sizeof(h.causal), NOW_MS + v);
	if (causal != NULL)
		memcpy(causal, h.causal, sizeof(h.causal));
	h.record = rs_arena_printf(&arena, "{\"id\":\"%s\",\"version\":%lld}",
	    rec, (long long)v);
	h.changed = changed;
	snprintf(h.actor, sizeof(h.actor), "%s", user);
	h.written_at = when - 10;
	h.superseded_at = when;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_history_put(db, &h)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* The versions listed for rec, joined by ',' ("(error)" on failure). */
static const char *
versions(struct rs_db *db, const char *org, const char *rec, int64_t before,
    int64_t horizon, size_t max)
{
	struct rs_history	 out[MAXROW];
	size_t			 n, i;
	char			*s = rs_arena_strdup(&arena, "");

	if (rs_store_history_list(db, &arena, org, rec, before, horizon, max,
	    out, &n) != RS_OK)
		return "(error)";
	for (i = 0; i < n; i++)
		s = rs_arena_printf(&arena, "%s%s%lld", s, i > 0 ? "," : "",
		    (long long)out[i].version);
	return s;
}

/* The names of a since answer joined by ','. */
static const char *
names(const struct rs_history_since *hs)
{
	char	*s = rs_arena_strdup(&arena, "");
	size_t	 i;

	for (i = 0; i < hs->n; i++)
		s = rs_arena_printf(&arena, "%s%s%s", s, i > 0 ? "," : "",
		    hs->names[i]);
	return s;
}

/* One purge transaction: rows removed, or -1. */
static long long
purge(struct rs_db *db, int64_t horizon, size_t max)
{
	size_t	 n;

	if (rs_db_begin(db) != RS_OK)
		return -1;
	if (rs_store_history_purge(db, horizon, max, &n) != RS_OK) {
		rs_db_rollback(db);
		return -1;
	}
	return rs_db_commit(db) == RS_OK ? (long long)n : -1;
}

static void
test_history_put_list(void)
{
	struct rs_history	 out[MAXROW];
	char			 org[RS_ID_MAX], rec[RS_ID_MAX], c2[27];
	size_t			 n;
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, 1, "[\"title\",\"type\"]", NOW_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, 2, NULL, NOW_MS + 1, c2) == RS_OK);
	TAP_SETUP(put(db, org, rec, 3, "[\"data.a\"]", NOW_MS + 2, NULL) ==
	    RS_OK);
	TAP_IS_STR(versions(db, org, rec, 0, 0, MAXROW), "3,2,1",
	    "history list: newest first");
	if (!TAP_IS_INT(rs_store_history_list(db, &arena, org, rec, 0, 0,
	    MAXROW, out, &n), RS_OK, "history list: succeeds") ||
	    !TAP_IS_INT(n, 3, "history list: every version"))
		goto out;
	TAP_IS_STR(out[2].record, rs_arena_printf(&arena, "{\"id\":\"%s\","
	    "\"version\":1}", rec), "history list: the record as kept");
	TAP_IS_STR(out[2].changed, "[\"title\",\"type\"]",
	    "history list: changed as kept");
	TAP_OK(out[1].changed == NULL, "history list: unknown changed is NULL");
	TAP_IS_STR(out[1].causal, c2, "history list: causal");
	TAP_IS_STR(out[1].actor, user, "history list: actor");
	TAP_OK(out[1].written_at == NOW_MS + 1 - 10 &&
	    out[1].superseded_at == NOW_MS + 1,
	    "history list: written_at and superseded_at");
	TAP_IS_STR(out[1].record_id, rec, "history list: record_id");
	TAP_IS_STR(out[1].org_id, org, "history list: org_id");
out:
	rs_db_close(db);
}

static void
test_history_list_pages(void)
{
	char			 org[RS_ID_MAX], rec[RS_ID_MAX];
	int			 v;
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	for (v = 1; v <= 5; v++)
		TAP_SETUP(put(db, org, rec, v, "[]", NOW_MS + v, NULL) ==
		    RS_OK);
	TAP_IS_STR(versions(db, org, rec, 0, 0, 2), "5,4",
	    "history list: at most max, the newest");
	TAP_IS_STR(versions(db, org, rec, 4, 0, 2), "3,2",
	    "history list: before a version gives the next page");
	TAP_IS_STR(versions(db, org, rec, 2, 0, 2), "1",
	    "history list: the last page");
	TAP_IS_STR(versions(db, org, rec, 1, 0, 2), "",
	    "history list: before the first version gives none");
	rs_db_close(db);
}

static void
test_history_list_scoped(void)
{
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	char			 rec[RS_ID_MAX], rec2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	rs_id_new(rec, sizeof(rec), "rec_");
	rs_id_new(rec2, sizeof(rec2), "rec_");
	TAP_SETUP(put(db, org, rec, 1, "[]", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(put(db, org, rec2, 1, "[]", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(put(db, org, rec2, 2, "[]", NOW_MS, NULL) == RS_OK);
	TAP_IS_STR(versions(db, org, rec, 0, 0, MAXROW), "1",
	    "history list: only the record's versions");
	TAP_IS_STR(versions(db, org2, rec2, 0, 0, MAXROW), "",
	    "history list: another org sees none of them");
	TAP_IS_INT(put(db, org, rec, 1, "[]", NOW_MS, NULL),
	    rs_db_pg(db) ? RS_ERR_DB : RS_ERR_EXISTS,
	    "history put: a version kept twice fails the transaction "
	    "(RS_ERR_EXISTS; on PostgreSQL at its commit, RS_ERR_DB)");
	TAP_IS_STR(versions(db, org, rec, 0, 0, MAXROW), "1",
	    "history put: ... and the version kept is the one");
	rs_db_close(db);
}

static void
test_history_list_horizon(void)
{
	char			 org[RS_ID_MAX], rec[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, 1, "[]", NOW_MS - 31 * DAY_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, 2, "[]", NOW_MS - 30 * DAY_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, 3, "[]", NOW_MS, NULL) == RS_OK);
	TAP_IS_STR(versions(db, org, rec, 0, NOW_MS - 30 * DAY_MS, MAXROW),
	    "3,2", "history list: a version superseded before the horizon "
	    "is not listed, one at it is");
	rs_db_close(db);
}

static void
test_history_since(void)
{
	struct rs_history_since	 hs;
	char			 org[RS_ID_MAX], rec[RS_ID_MAX];
	char			 c1[27], c2[27], c3[27], other[27];
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, 1, "[\"title\",\"type\"]", NOW_MS, c1) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, 2, "[\"title\",\"data.a\"]", NOW_MS, c2) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, 3, "[\"status\"]", NOW_MS, c3) == RS_OK);
	/* The current version (4) changed data.a and data.b. */
	if (!TAP_IS_INT(rs_store_history_since(db, &arena, org, rec, c1,
	    "[\"data.a\",\"data.b\"]", &hs), RS_OK, "history since: succeeds"))
		goto out;
	TAP_OK(hs.found && hs.version == 1 && !hs.unknown,
	    "history since: the base is version 1, known");
	TAP_IS_STR(names(&hs), "title,data.a,status,data.b",
	    "history since: the union of later versions and the current, "
	    "each once, the base's own left out");
	TAP_SETUP(rs_store_history_since(db, &arena, org, rec, c3,
	    "[\"site\"]", &hs) == RS_OK);
	TAP_IS_STR(names(&hs), "site",
	    "history since: the newest kept version: only the current");
	TAP_SETUP(rs_store_history_since(db, &arena, org, rec, c2, NULL,
	    &hs) == RS_OK);
	TAP_OK(hs.found && hs.unknown,
	    "history since: a current version that does not say is unknown");
	rs_ulid_new(other, sizeof(other), NOW_MS + 99);
	TAP_SETUP(rs_store_history_since(db, &arena, org, rec, other, "[]",
	    &hs) == RS_OK);
	TAP_OK(!hs.found && hs.n == 0 && hs.version == 0,
	    "history since: an unknown causal is not found");
	TAP_SETUP(rs_store_history_since(db, &arena, "org_nosuchorg", rec, c1,
	    "[]", &hs) == RS_OK);
	TAP_OK(!hs.found, "history since: another org's record is not found");
out:
	rs_db_close(db);
}

static void
test_history_since_unknown_between(void)
{
	struct rs_history_since	 hs;
	char			 org[RS_ID_MAX], rec[RS_ID_MAX], c1[27];
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, 1, "[\"title\"]", NOW_MS, c1) == RS_OK);
	TAP_SETUP(put(db, org, rec, 2, NULL, NOW_MS, NULL) == RS_OK);
	TAP_SETUP(rs_store_history_since(db, &arena, org, rec, c1,
	    "[\"type\"]", &hs) == RS_OK);
	TAP_OK(hs.found && hs.unknown,
	    "history since: a later version without changed makes it unknown");
	TAP_IS_STR(names(&hs), "type",
	    "history since: ... the names known are still given");
	rs_db_close(db);
}

static void
test_history_since_purged(void)
{
	struct rs_history_since	 hs;
	char			 org[RS_ID_MAX], rec[RS_ID_MAX], c1[27], c2[27];
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	TAP_SETUP(put(db, org, rec, 1, "[\"title\"]", NOW_MS - 40 * DAY_MS,
	    c1) == RS_OK);
	TAP_SETUP(put(db, org, rec, 2, "[\"type\"]", NOW_MS, c2) == RS_OK);
	TAP_SETUP(purge(db, NOW_MS - 30 * DAY_MS, 100) == 1);
	TAP_SETUP(rs_store_history_since(db, &arena, org, rec, c1, "[]",
	    &hs) == RS_OK);
	TAP_OK(!hs.found && hs.n == 0,
	    "history since: a purged base is not found");
	TAP_SETUP(rs_store_history_since(db, &arena, org, rec, c2,
	    "[\"site\"]", &hs) == RS_OK);
	TAP_OK(hs.found && hs.version == 2,
	    "history since: a kept base still is");
	rs_db_close(db);
}

static void
test_history_purge(void)
{
	char			 org[RS_ID_MAX], rec[RS_ID_MAX];
	int			 v;
	struct rs_db		*db = db_new(org);

	rs_id_new(rec, sizeof(rec), "rec_");
	for (v = 1; v <= 3; v++)
		TAP_SETUP(put(db, org, rec, v, "[]", NOW_MS - (40 - v) * DAY_MS,
		    NULL) == RS_OK);
	TAP_SETUP(put(db, org, rec, 4, "[]", NOW_MS - 30 * DAY_MS, NULL) ==
	    RS_OK);
	TAP_SETUP(put(db, org, rec, 5, "[]", NOW_MS, NULL) == RS_OK);
	TAP_IS_INT(purge(db, NOW_MS - 30 * DAY_MS, 2), 2,
	    "history purge: at most max rows");
	TAP_IS_STR(versions(db, org, rec, 0, 0, MAXROW), "5,4,3",
	    "history purge: the oldest first");
	TAP_IS_INT(purge(db, NOW_MS - 30 * DAY_MS, 100), 1,
	    "history purge: the rest past the horizon");
	TAP_IS_STR(versions(db, org, rec, 0, 0, MAXROW), "5,4",
	    "history purge: a row at the horizon and newer ones stay");
	TAP_IS_INT(purge(db, NOW_MS + 1, 100), 2,
	    "history purge: a horizon of now (keep none) takes every row");
	rs_db_close(db);
}

/* A tombstone of org deleted at deleted_at, stored; its id into id. */
static void
tombstone(struct rs_db *db, const char *org, int64_t deleted_at,
    char id[RS_ID_MAX])
{
	struct rs_record	 r;
	struct rs_store_orgseq	 seq;

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
	r.deleted_at = deleted_at;
	snprintf(r.created_by, sizeof(r.created_by), "%s", user);
	r.queue = "default";
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_orgseq_take(db, org, 1, 0, &seq) == RS_OK);
	r.change_seq = seq.change;
	r.seq = rs_store_orgseq_rowid(&seq, seq.change);
	TAP_SETUP(rs_store_records_put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	memcpy(id, r.id, RS_ID_MAX);
}

static void
test_history_tombstone_purge(void)
{
	char			 org[RS_ID_MAX], gone[RS_ID_MAX];
	char			 kept[RS_ID_MAX];
	size_t			 n;
	struct rs_db		*db = db_new(org);

	tombstone(db, org, NOW_MS - 91 * DAY_MS, gone);
	tombstone(db, org, NOW_MS - DAY_MS, kept);
	TAP_SETUP(put(db, org, gone, 1, "[]", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(put(db, org, kept, 1, "[]", NOW_MS, NULL) == RS_OK);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_store_records_purge(db, NOW_MS - 90 * DAY_MS, 10, &n) ==
	    RS_OK && n == 1);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_STR(versions(db, org, gone, 0, 0, MAXROW), "",
	    "history: a purged tombstone takes its history with it");
	TAP_IS_STR(versions(db, org, kept, 0, 0, MAXROW), "1",
	    "history: a kept tombstone keeps its history");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(38);
	fixture_start(dir, sizeof(dir), "rs-history");
	rs_arena_init(&arena);
	rs_id_new(user, sizeof(user), "usr_");

	test_history_put_list();
	test_history_list_pages();
	test_history_list_scoped();
	test_history_list_horizon();
	test_history_since();
	test_history_since_unknown_between();
	test_history_since_purged();
	test_history_purge();
	test_history_tombstone_purge();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
