/*
 * test-store-records: records in SQLite (lib/store_records.h): put and get, the
 * per-org change sequence, keyset lists with their filters, the change
 * feed and the record's JSON form. Each test has its own migrated
 * database file in a mkdtemp directory, with one org.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <sodium.h>
#include <sqlite3.h>

#include "admin.h"
#include "arena.h"
#include "clock.h"
#include "db.h"
#include "id.h"
#include "json.h"
#include "limits.h"
#include "migrate.h"
#include "store_orgseq.h"
#include "store_records.h"
#include "ulid.h"
#define FIXTURE_BOTH	/* store_records_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define MAXREC	16

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;
static char		 user[RS_ID_MAX];	/* created_by of samples */

/* A new migrated database with one org (its id into org); bails on failure. */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* A new queued record of org, titled title, made at ms. */
static void
sample(struct rs_record *r, const char *org, const char *title, int64_t ms)
{
	memset(r, 0, sizeof(*r));
	rs_id_new(r->id, sizeof(r->id), "rec_");
	snprintf(r->org_id, sizeof(r->org_id), "%s", org);
	r->title = title;
	r->type = "note";
	r->site = NULL;
	r->status = "queued";
	r->data = "{}";
	r->size = 2;
	rs_ulid_new(r->causal, sizeof(r->causal), ms);
	r->version = 1;
	r->created_at = ms;
	r->updated_at = ms;
	snprintf(r->created_by, sizeof(r->created_by), "%s", user);
	r->queue = "default";
}

/* Numbers r from its org's counters and puts it, in a transaction of
 * its own, as the write path does. */
static enum rs_err
put(struct rs_db *db, struct rs_record *r, int insert)
{
	struct rs_store_orgseq	 seq;
	enum rs_err		 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_orgseq_take(db, r->org_id, 1, 0, &seq)) == RS_OK) {
		r->change_seq = seq.change;
		if (insert)
			r->seq = rs_store_orgseq_rowid(&seq, seq.change);
		rc = rs_store_records_put(db, r, insert);
	}
	if (rc != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* A filter matching every live record. */
static void
any(struct rs_recfilter *f)
{
	memset(f, 0, sizeof(*f));
	f->updated_after = -1;
}

/* Lists org's records matching f after seq after; their titles joined. */
static const char *
titles(struct rs_db *db, const char *org, const struct rs_recfilter *f,
    int64_t after, size_t max)
{
	struct rs_record	 out[MAXREC];
	size_t			 n, i;
	char			*s = rs_arena_strdup(&arena, "");

	if (rs_store_records_list(db, &arena, org, f, after, max, out, &n) !=
	    RS_OK)
		return "(error)";
	for (i = 0; i < n; i++)
		s = rs_arena_printf(&arena, "%s%s%s", s, i > 0 ? "," : "",
		    out[i].title);
	return s;
}

/* The title of org's record id as stored, or "(error)". */
static const char *
title_of(struct rs_db *db, const char *org, const char *id)
{
	struct rs_record	 r;

	if (rs_store_records_get(db, &arena, org, id, &r) != RS_OK)
		return "(error)";
	return r.title;
}

/* The member names of object o joined by ','. */
static const char *
members(struct json_object *o)
{
	char	*s = rs_arena_strdup(&arena, "");
	int	 first = 1;

	json_object_object_foreach(o, k, v) {
		(void)v;
		s = rs_arena_printf(&arena, "%s%s%s", s, first ? "" : ",", k);
		first = 0;
	}
	return s;
}

static void
test_recstore_put_get(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&r, org, "First", NOW_MS);
	r.site = "site-1";
	r.data = "{\"a\":[1,2]}";
	r.size = (int64_t)strlen(r.data);
	r.queue = "urgent";
	r.updated_at = NOW_MS + 5;
	if (!TAP_IS_INT(put(db, &r, 1), RS_OK, "recstore put: insert succeeds")
	    || !TAP_IS_INT(rs_store_records_get(db, &arena, org, r.id, &got), RS_OK,
	    "recstore get: finds the record")) {
		rs_db_close(db);
		return;
	}
	TAP_OK(got.seq > 0, "recstore get: seq is set");
	TAP_IS_STR(got.id, r.id, "recstore get: id");
	TAP_IS_STR(got.org_id, org, "recstore get: org_id");
	TAP_IS_STR(got.title, "First", "recstore get: title");
	TAP_IS_STR(got.type, "note", "recstore get: type");
	TAP_IS_STR(got.site, "site-1", "recstore get: site");
	TAP_IS_STR(got.status, "queued", "recstore get: status");
	TAP_IS_STR(got.data, "{\"a\":[1,2]}", "recstore get: data");
	TAP_IS_INT(got.size, 11, "recstore get: size");
	TAP_IS_STR(got.causal, r.causal, "recstore get: causal");
	TAP_IS_INT(got.version, 1, "recstore get: version");
	TAP_IS_INT(got.deleted_at, 0, "recstore get: deleted_at 0 (live)");
	TAP_IS_INT(got.created_at, NOW_MS, "recstore get: created_at");
	TAP_IS_INT(got.updated_at, NOW_MS + 5, "recstore get: updated_at");
	TAP_IS_STR(got.created_by, user, "recstore get: created_by");
	TAP_IS_STR(got.queue, "urgent", "recstore get: queue");
	TAP_IS_INT(got.change_seq, r.change_seq, "recstore get: change_seq");
	rs_db_close(db);
}

static void
test_recstore_writer(void)
{
	struct rs_record	 r, got;
	struct json_object	*o;
	char			 org[RS_ID_MAX], other[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&r, org, "Written", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	TAP_OK(got.updated_by[0] == '\0' && got.changed == NULL,
	    "recstore put: no writer and no changed read back as unknown");
	rs_id_new(other, sizeof(other), "usr_");
	memcpy(r.updated_by, other, sizeof(r.updated_by));
	r.changed = "[\"title\",\"data.a\"]";
	r.version = 2;
	TAP_SETUP(put(db, &r, 0) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	TAP_IS_STR(got.updated_by, other,
	    "recstore put: an update keeps who wrote it");
	TAP_IS_STR(got.changed, "[\"title\",\"data.a\"]",
	    "recstore put: ... and what it changed");
	o = rs_store_records_json(&got);
	TAP_OK(o != NULL && strstr(rs_json_compact(o), "data.a") == NULL &&
	    strstr(rs_json_compact(o), other) == NULL,
	    "recstore json: neither is shown");
	json_object_put(o);
	rs_db_close(db);
}

static void
test_recstore_get_no_site(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&r, org, "No site", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	TAP_OK(got.site == NULL, "recstore get: no site reads back as NULL");
	rs_db_close(db);
}

static void
test_recstore_change_seq(void)
{
	struct rs_record	 a, b;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_IS_INT(rs_store_records_change_seq(db, org), 0,
	    "recstore change seq: 0 before any change");
	sample(&a, org, "A", NOW_MS);
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	TAP_IS_INT(a.change_seq, 1, "recstore put: the first change is 1");
	TAP_IS_INT(rs_store_records_change_seq(db, org), 1,
	    "recstore change seq: 1 after one put");
	sample(&b, org, "B", NOW_MS + 1);
	TAP_SETUP(put(db, &b, 1) == RS_OK);
	TAP_IS_INT(b.change_seq, 2, "recstore put: the second change is 2");
	TAP_IS_INT(rs_store_records_change_seq(db, org), 2,
	    "recstore change seq: 2 after two puts");
	a.title = "A2";
	TAP_SETUP(put(db, &a, 0) == RS_OK);
	TAP_IS_INT(a.change_seq, 3, "recstore put: an update is change 3");
	TAP_IS_INT(rs_store_records_change_seq(db, org), 3,
	    "recstore change seq: 3 after an update");
	rs_db_close(db);
}

static void
test_recstore_change_seq_per_org(void)
{
	struct rs_record	 a, b;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	sample(&a, org, "A", NOW_MS);
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	sample(&a, org, "A2", NOW_MS);
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	sample(&b, org2, "B", NOW_MS);
	TAP_SETUP(put(db, &b, 1) == RS_OK);
	TAP_IS_INT(b.change_seq, 1,
	    "recstore put: each org numbers its changes from 1");
	TAP_IS_INT(rs_store_records_change_seq(db, org), 2,
	    "recstore change seq: another org's change does not count");
	TAP_IS_INT(rs_store_records_change_seq(db, "org_nosuchorg"), -1,
	    "recstore change seq: an unknown org is -1");
	rs_db_close(db);
}

static void
test_recstore_put_unknown_org(void)
{
	struct rs_record	 r;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&r, "org_nosuchorg", "X", NOW_MS);
	TAP_IS_INT(put(db, &r, 1), RS_ERR_NOTFOUND,
	    "recstore put: an unknown org is RS_ERR_NOTFOUND");
	rs_db_close(db);
}

static void
test_recstore_put_duplicate_id(void)
{
	struct rs_record	 a, b;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&a, org, "A", NOW_MS);
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	sample(&b, org, "B", NOW_MS);
	memcpy(b.id, a.id, sizeof(b.id));
	TAP_IS_INT(put(db, &b, 1), rs_db_pg(db) ? RS_ERR_DB : RS_ERR_EXISTS,
	    "recstore put: inserting an existing id fails the transaction "
	    "(RS_ERR_EXISTS; on PostgreSQL at its commit, RS_ERR_DB)");
	TAP_IS_INT(rs_store_records_change_seq(db, org), 1,
	    "recstore put: a refused insert (rolled back) takes no change");
	TAP_IS_STR(title_of(db, org, a.id), "A",
	    "recstore put: ... and the record is as it was");
	rs_db_close(db);
}

static void
test_recstore_update(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX], causal[RS_ULID_LEN + 1];
	char			 other[RS_ID_MAX];
	int64_t			 seq;
	struct rs_db		*db = db_new(org);

	sample(&r, org, "Before", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	seq = got.seq;
	r.title = "After";
	r.type = "photo";
	r.site = "site-9";
	r.status = "synced";
	r.data = "{\"b\":true}";
	r.size = (int64_t)strlen(r.data);
	rs_ulid_new(causal, sizeof(causal), NOW_MS + 100);
	memcpy(r.causal, causal, sizeof(causal));
	r.version = 2;
	r.updated_at = NOW_MS + 100;
	r.queue = "slow";
	/* Not columns an update writes: */
	r.created_at = NOW_MS + 999;
	rs_id_new(other, sizeof(other), "usr_");
	snprintf(r.created_by, sizeof(r.created_by), "%s", other);
	if (!TAP_IS_INT(put(db, &r, 0), RS_OK,
	    "recstore put: update succeeds") ||
	    !TAP_IS_INT(rs_store_records_get(db, &arena, org, r.id, &got), RS_OK,
	    "recstore get: finds the updated record")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_INT(got.seq, seq, "recstore put: update keeps seq");
	TAP_IS_STR(got.title, "After", "recstore put: update changes title");
	TAP_IS_STR(got.type, "photo", "recstore put: update changes type");
	TAP_IS_STR(got.site, "site-9", "recstore put: update changes site");
	TAP_IS_STR(got.status, "synced",
	    "recstore put: update changes status");
	TAP_IS_STR(got.data, "{\"b\":true}",
	    "recstore put: update changes data");
	TAP_IS_INT(got.size, 10, "recstore put: update changes size");
	TAP_IS_STR(got.causal, causal, "recstore put: update changes causal");
	TAP_IS_INT(got.version, 2, "recstore put: update changes version");
	TAP_IS_INT(got.updated_at, NOW_MS + 100,
	    "recstore put: update changes updated_at");
	TAP_IS_STR(got.queue, "slow", "recstore put: update changes queue");
	TAP_IS_INT(got.change_seq, 2,
	    "recstore put: update takes a new change number");
	TAP_IS_INT(got.created_at, NOW_MS,
	    "recstore put: update keeps created_at");
	TAP_IS_STR(got.created_by, user,
	    "recstore put: update keeps created_by");
	rs_db_close(db);
}

static void
test_recstore_update_tombstone(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&r, org, "Doomed", NOW_MS);
	r.site = "site-1";
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	r.deleted_at = NOW_MS + 50;
	r.site = NULL;
	TAP_SETUP(put(db, &r, 0) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	TAP_IS_INT(got.deleted_at, NOW_MS + 50,
	    "recstore put: update sets deleted_at");
	TAP_OK(got.site == NULL, "recstore put: update can clear site");
	rs_db_close(db);
}

static void
test_recstore_get_unknown(void)
{
	struct rs_record	 got;
	char			 org[RS_ID_MAX], id[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	rs_id_new(id, sizeof(id), "rec_");
	TAP_IS_INT(rs_store_records_get(db, &arena, org, id, &got),
	    RS_ERR_NOTFOUND, "recstore get: an unknown id is RS_ERR_NOTFOUND");
	rs_db_close(db);
}

static void
test_recstore_get_other_org(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	sample(&r, org, "Mine", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_IS_INT(rs_store_records_get(db, &arena, org2, r.id, &got),
	    RS_ERR_NOTFOUND,
	    "recstore get: the id under another org is RS_ERR_NOTFOUND");
	rs_db_close(db);
}

static void
test_recstore_update_other_org(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	sample(&r, org, "Mine", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	snprintf(r.org_id, sizeof(r.org_id), "%s", org2);
	r.title = "Stolen";
	put(db, &r, 0);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	TAP_IS_STR(got.title, "Mine",
	    "recstore put: an update under another org leaves the record");
	rs_db_close(db);
}

static void
test_recstore_list_order(void)
{
	struct rs_record	 r;
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	sample(&r, org, "A", NOW_MS + 30);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org2, "X", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "B", NOW_MS + 10);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "C", NOW_MS + 20);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	any(&f);
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A,B,C",
	    "recstore list: oldest first, only the org's records");
	TAP_IS_STR(titles(db, org2, &f, 0, MAXREC), "X",
	    "recstore list: the other org sees only its own");
	TAP_IS_STR(titles(db, org, &f, 0, 2), "A,B",
	    "recstore list: at most max records");
	TAP_IS_STR(titles(db, org, &f, 0, 0), "",
	    "recstore list: max 0 gives none");
	rs_db_close(db);
}

static void
test_recstore_rowid_per_org(void)
{
	struct rs_record	 r, got;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);
	int64_t			 num, num2, lo, hi;

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	num = fixture_query_int(db, "SELECT num FROM orgs WHERE id = ?1", org);
	num2 = fixture_query_int(db, "SELECT num FROM orgs WHERE id = ?1", org2);
	TAP_OK(num >= 0 && num2 >= 0 && num != num2,
	    "recstore: orgs have distinct numbers");
	sample(&r, org2, "X", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "A", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "B", NOW_MS);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	TAP_IS_INT(got.seq, (num << RS_ORG_ROW_BITS) | got.change_seq,
	    "recstore put: a new record's rowid is the org's number << 40 "
	    "| its change number");
	lo = num << RS_ORG_ROW_BITS;
	hi = (num + 1) << RS_ORG_ROW_BITS;
	TAP_IS_INT(fixture_query_int(db, rs_arena_printf(&arena, "SELECT count(*) "
	    "FROM records WHERE seq >= %lld AND seq < %lld", (long long)lo,
	    (long long)hi), NULL), 2,
	    "recstore put: the org's rowid range holds its records");
	TAP_IS_INT(fixture_query_int(db, rs_arena_printf(&arena, "SELECT count(*) "
	    "FROM records WHERE org_id = ?1 AND (seq < %lld OR seq >= %lld)",
	    (long long)lo, (long long)hi), org), 0,
	    "recstore put: and nothing of the org lies outside it");
	rs_db_close(db);
}

static void
test_recstore_list_keyset(void)
{
	struct rs_record	 r, out[MAXREC];
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX];
	size_t			 n;
	int			 i;
	struct rs_db		*db = db_new(org);

	for (i = 0; i < 5; i++) {
		sample(&r, org, rs_arena_printf(&arena, "R%d", i), NOW_MS + i);
		TAP_SETUP(put(db, &r, 1) == RS_OK);
	}
	any(&f);
	if (!TAP_IS_INT(rs_store_records_list(db, &arena, org, &f, 0, 2, out, &n),
	    RS_OK, "recstore list: first page succeeds") ||
	    !TAP_IS_INT(n, 2, "recstore list: first page has 2")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_STR(titles(db, org, &f, out[1].seq, 2), "R2,R3",
	    "recstore list: after the last seq gives the next page");
	TAP_IS_STR(titles(db, org, &f, out[0].seq, MAXREC), "R1,R2,R3,R4",
	    "recstore list: after seq excludes it and earlier ones");
	TAP_SETUP(rs_store_records_list(db, &arena, org, &f, 0, MAXREC, out,
	    &n) == RS_OK);
	TAP_IS_STR(titles(db, org, &f, out[n - 1].seq, MAXREC), "",
	    "recstore list: after the last record gives none");
	sample(&r, org, "New", NOW_MS + 10);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_IS_STR(titles(db, org, &f, out[1].seq, 2), "R2,R3",
	    "recstore list: a new record does not shift a page");
	rs_db_close(db);
}

/* Four records of org: A, B, C, D, with different attributes. */
static void
filter_fixture(struct rs_db *db, const char *org, char other_user[RS_ID_MAX])
{
	struct rs_record	 r;

	rs_id_new(other_user, RS_ID_MAX, "usr_");
	sample(&r, org, "A", NOW_MS);
	r.site = "north";
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "B", NOW_MS + 10);
	r.status = "synced";
	r.type = "photo";
	r.site = "south";
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "C", NOW_MS + 20);
	r.status = "conflict";
	r.site = "north";
	snprintf(r.created_by, sizeof(r.created_by), "%s", other_user);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	sample(&r, org, "D", NOW_MS + 30);
	r.type = "photo";
	r.deleted_at = NOW_MS + 40;
	r.updated_at = NOW_MS + 40;
	TAP_SETUP(put(db, &r, 1) == RS_OK);
}

static void
test_recstore_list_filter_status(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	f.status = "synced";
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "B",
	    "recstore list: status filter");
	f.status = "failed";
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "",
	    "recstore list: status filter matching none");
	rs_db_close(db);
}

static void
test_recstore_list_filter_type(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	f.type = "photo";
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "B",
	    "recstore list: type filter (deleted excluded)");
	f.include_deleted = 1;
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "B,D",
	    "recstore list: type filter with include_deleted");
	rs_db_close(db);
}

static void
test_recstore_list_filter_site(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	f.site = "north";
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A,C",
	    "recstore list: site filter");
	rs_db_close(db);
}

static void
test_recstore_list_filter_created_by(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	f.created_by = u2;
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "C",
	    "recstore list: created_by filter");
	f.created_by = user;
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A,B",
	    "recstore list: created_by filter, the other user");
	rs_db_close(db);
}

static void
test_recstore_list_filter_updated_after(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	f.updated_after = NOW_MS + 10;
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "C",
	    "recstore list: updated_after is strictly after");
	f.updated_after = 0;
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A,B,C",
	    "recstore list: updated_after 0 keeps everything live");
	rs_db_close(db);
}

static void
test_recstore_list_include_deleted(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A,B,C",
	    "recstore list: deleted records left out by default");
	f.include_deleted = 1;
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A,B,C,D",
	    "recstore list: include_deleted shows them");
	rs_db_close(db);
}

static void
test_recstore_list_filters_combined(void)
{
	struct rs_recfilter	 f;
	char			 org[RS_ID_MAX], u2[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	filter_fixture(db, org, u2);
	any(&f);
	f.site = "north";
	f.status = "queued";
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "A",
	    "recstore list: filters combine with AND");
	rs_db_close(db);
}

static void
test_recstore_changes(void)
{
	struct rs_record	 a, b, c, out[MAXREC];
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	size_t			 n;
	struct rs_db		*db = db_new(org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	sample(&a, org, "A", NOW_MS);
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	sample(&b, org, "B", NOW_MS + 1);
	TAP_SETUP(put(db, &b, 1) == RS_OK);
	sample(&c, org2, "X", NOW_MS + 2);
	TAP_SETUP(put(db, &c, 1) == RS_OK);
	sample(&c, org, "C", NOW_MS + 3);
	TAP_SETUP(put(db, &c, 1) == RS_OK);
	a.title = "A2";
	a.version = 2;
	TAP_SETUP(put(db, &a, 0) == RS_OK);
	b.title = "B2";
	b.version = 2;
	TAP_SETUP(put(db, &b, 0) == RS_OK);
	a.title = "A3";
	a.version = 3;
	a.deleted_at = NOW_MS + 9;
	TAP_SETUP(put(db, &a, 0) == RS_OK);
	if (!TAP_IS_INT(rs_store_records_changes(db, &arena, org, 0, MAXREC, out,
	    &n), RS_OK, "recstore changes: succeeds") ||
	    !TAP_IS_INT(n, 3,
	    "recstore changes: one entry per record, the org's only")) {
		rs_db_close(db);
		return;
	}
	TAP_OK(strcmp(out[0].title, "C") == 0 &&
	    strcmp(out[1].title, "B2") == 0 && strcmp(out[2].title, "A3") == 0,
	    "recstore changes: in change order, each at its latest");
	TAP_OK(out[0].change_seq == 3 && out[1].change_seq == 5 &&
	    out[2].change_seq == 6,
	    "recstore changes: each with its latest change number");
	TAP_IS_INT(out[2].deleted_at, NOW_MS + 9,
	    "recstore changes: a deletion is a change");
	TAP_SETUP(rs_store_records_changes(db, &arena, org, 5, MAXREC, out,
	    &n) == RS_OK);
	TAP_OK(n == 1 && strcmp(out[0].title, "A3") == 0,
	    "recstore changes: after 5 gives only the change after it");
	TAP_SETUP(rs_store_records_changes(db, &arena, org, 6, MAXREC, out,
	    &n) == RS_OK);
	TAP_IS_INT(n, 0, "recstore changes: after the latest gives none");
	TAP_SETUP(rs_store_records_changes(db, &arena, org, 0, 2, out,
	    &n) == RS_OK);
	TAP_OK(n == 2 && strcmp(out[1].title, "B2") == 0,
	    "recstore changes: at most max entries, the earliest changes");
	rs_db_close(db);
}

static void
test_recstore_json_members(void)
{
	static const char	 want[] = "id,title,type,site,status,data,"
	    "size,causal,version,deleted,deleted_at,created_at,updated_at,"
	    "created_by,queue";
	struct rs_record	 r;
	struct json_object	*o;
	char			 org[RS_ID_MAX];

	rs_id_new(org, sizeof(org), "org_");
	sample(&r, org, "T", NOW_MS);
	if (!TAP_OK((o = rs_store_records_json(&r)) != NULL,
	    "recstore json: makes an object"))
		return;
	TAP_IS_STR(members(o), want,
	    "recstore json: exactly the API's members, in order");
	json_object_put(o);
}

/* The text writer and the object print the same document. */
static void
check_text_matches_object(const struct rs_record *r, const char *what)
{
	struct printbuf		*pb = printbuf_new();
	struct json_object	*o = rs_store_records_json(r), *parsed = NULL;
	char			*a = NULL, *b = NULL, err[128];

	if (pb == NULL || o == NULL ||
	    rs_store_records_json_append(pb, r) != 0 ||
	    rs_json_parse(pb->buf, (size_t)pb->bpos, &parsed, err,
	    sizeof(err)) != 0)
		TAP_OK(0, what);
	else {
		a = rs_json_canonical(parsed);
		b = rs_json_canonical(o);
		TAP_IS_STR(a, b, what);
	}
	free(a);
	free(b);
	json_object_put(parsed);
	json_object_put(o);
	if (pb != NULL)
		printbuf_free(pb);
}

static void
test_recstore_json_text(void)
{
	struct rs_record	 r;
	char			 org[RS_ID_MAX];

	rs_id_new(org, sizeof(org), "org_");
	sample(&r, org, "plain", NOW_MS);
	check_text_matches_object(&r, "recstore json text: a plain record");
	sample(&r, org, "q\"b\\n\nt\tc\001 \xc3\xa9/", NOW_MS);
	r.site = "s\"ite";
	r.deleted_at = NOW_MS + 5;
	r.data = "{\"a\":[1,{\"b\":\"c\"}],\"u\":\"\\u0001\"}";
	check_text_matches_object(&r,
	    "recstore json text: escapes, site, tombstone and data");
}

static void
test_recstore_json_values(void)
{
	struct rs_record	 r;
	struct json_object	*o, *v;
	char			 org[RS_ID_MAX], t[32];

	rs_id_new(org, sizeof(org), "org_");
	sample(&r, org, "Title", NOW_MS);
	r.updated_at = NOW_MS + 1500;
	r.version = 7;
	if ((o = rs_store_records_json(&r)) == NULL) {
		TAP_OK(0, "recstore json: makes an object");
		return;
	}
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "id")),
	    r.id, "recstore json: id");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "title")), "Title", "recstore json: title");
	TAP_OK(json_object_object_get_ex(o, "site", &v) && v == NULL,
	    "recstore json: site is null when there is none");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "causal")), r.causal, "recstore json: causal");
	TAP_OK(json_object_is_type(json_object_object_get(o, "version"),
	    json_type_int) && json_object_get_int64(json_object_object_get(o,
	    "version")) == 7, "recstore json: version is a number");
	TAP_OK(json_object_is_type(json_object_object_get(o, "size"),
	    json_type_int) && json_object_get_int64(json_object_object_get(o,
	    "size")) == 2, "recstore json: size is a number");
	TAP_OK(json_object_is_type(json_object_object_get(o, "deleted"),
	    json_type_boolean) && !json_object_get_boolean(
	    json_object_object_get(o, "deleted")),
	    "recstore json: deleted is false when live");
	TAP_OK(json_object_object_get_ex(o, "deleted_at", &v) && v == NULL,
	    "recstore json: deleted_at is null when live");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "created_at")), rs_clock_format(t, sizeof(t), NOW_MS),
	    "recstore json: created_at in RFC 3339");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "updated_at")), "2025-11-26T17:45:22.500Z",
	    "recstore json: updated_at in RFC 3339 with milliseconds");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "created_by")), user, "recstore json: created_by");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "queue")), "default", "recstore json: queue");
	TAP_HAS_STR(rs_json_compact(o), "\"site\":null",
	    "recstore json: site serialises as null");
	json_object_put(o);
}

static void
test_recstore_json_deleted(void)
{
	struct rs_record	 r;
	struct json_object	*o;
	char			 org[RS_ID_MAX];

	rs_id_new(org, sizeof(org), "org_");
	sample(&r, org, "Gone", NOW_MS);
	r.site = "north";
	r.deleted_at = NOW_MS + 1000;
	if ((o = rs_store_records_json(&r)) == NULL) {
		TAP_OK(0, "recstore json: makes an object");
		return;
	}
	TAP_OK(json_object_get_boolean(json_object_object_get(o, "deleted")),
	    "recstore json: deleted is true for a tombstone");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o,
	    "deleted_at")), "2025-11-26T17:45:22.000Z",
	    "recstore json: deleted_at in RFC 3339");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "site")),
	    "north", "recstore json: site when set");
	json_object_put(o);
}

static void
test_recstore_json_data_raw(void)
{
	struct rs_record	 r;
	struct json_object	*o, *back = NULL, *d;
	char			 org[RS_ID_MAX], err[128];
	const char		*s;

	rs_id_new(org, sizeof(org), "org_");
	sample(&r, org, "T", NOW_MS);
	r.data = "{\"a\":[1,2]}";
	r.size = (int64_t)strlen(r.data);
	if ((o = rs_store_records_json(&r)) == NULL) {
		TAP_OK(0, "recstore json: makes an object");
		return;
	}
	s = rs_json_compact(o);
	TAP_HAS_STR(s, "\"data\":{\"a\":[1,2]}",
	    "recstore json: data is emitted raw, as the stored JSON text");
	TAP_OK(rs_json_parse(s, strlen(s), &back, err, sizeof(err)) == 0 &&
	    json_object_object_get_ex(back, "data", &d) &&
	    json_object_is_type(d, json_type_object),
	    "recstore json: the whole serialises as valid JSON, data an "
	    "object");
	json_object_put(back);
	json_object_put(o);
}

static void
test_recstore_json_from_get(void)
{
	struct rs_record	 r, got;
	struct json_object	*o;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);

	sample(&r, org, "T", NOW_MS);
	r.data = "{\"k\":\"v/w\",\"n\":null}";
	r.size = (int64_t)strlen(r.data);
	TAP_SETUP(put(db, &r, 1) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, r.id, &got) ==
	    RS_OK);
	if ((o = rs_store_records_json(&got)) == NULL) {
		TAP_OK(0, "recstore json: makes an object");
		rs_db_close(db);
		return;
	}
	TAP_HAS_STR(rs_json_compact(o), "\"data\":{\"k\":\"v/w\",\"n\":null}",
	    "recstore json: a stored record's data comes out verbatim");
	json_object_put(o);
	rs_db_close(db);
}

/* Collects the text each row of a walk shows, into a printbuf. */
static int
show_row(void *arg, const struct rs_record_text *t)
{
	struct printbuf	*pb = arg;

	if (pb->bpos > 0)
		printbuf_memappend(pb, "|", 1);
	return printbuf_memappend(pb, t->json, (int)t->len) < 0 ? -1 : 0;
}

/*
 * A record stored with its text (sql/0013) shows that text, byte for
 * byte, from get, a list and delta sync; one stored without it (a row
 * older than the column) shows the same text printed from its fields.
 */
static void
test_recstore_json_stored(void)
{
	struct rs_record	 a, b, got;
	struct rs_recfilter	 f;
	struct printbuf		*pb, *want, *walked;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org);
	size_t			 n;
	int64_t			 now;

	sample(&a, org, "Stored", NOW_MS);
	a.json = "{\"stored\":true}";		/* what the writer gave */
	sample(&b, org, "Printed", NOW_MS + 1);
	TAP_SETUP(put(db, &a, 1) == RS_OK && put(db, &b, 1) == RS_OK);
	TAP_SETUP(rs_store_records_get(db, &arena, org, a.id, &got) == RS_OK);
	TAP_IS_STR(got.json, "{\"stored\":true}",
	    "recstore json: get reads the stored text");
	TAP_SETUP((pb = printbuf_new()) != NULL);
	TAP_SETUP(rs_store_records_json_show(pb, &got) == 0);
	TAP_IS_STR(pb->buf, "{\"stored\":true}",
	    "recstore json: shown as stored, not printed again");
	TAP_SETUP(rs_store_records_get(db, &arena, org, b.id, &got) == RS_OK);
	TAP_IS_STR(got.json, NULL, "recstore json: none stored: NULL");
	TAP_SETUP((want = printbuf_new()) != NULL);
	TAP_SETUP(rs_store_records_json_append(want, &got) == 0);
	printbuf_reset(pb);
	TAP_SETUP(rs_store_records_json_show(pb, &got) == 0);
	TAP_IS_STR(pb->buf, want->buf, "recstore json: none stored: printed "
	    "from the fields");
	/* a list and delta sync show the same, row by row */
	TAP_SETUP((walked = printbuf_new()) != NULL);
	memset(&f, 0, sizeof(f));
	f.updated_after = -1;
	TAP_SETUP(rs_store_records_list_each(db, org, &f, 0, 10, show_row,
	    walked, &n, &now) == RS_OK);
	printbuf_reset(pb);
	printbuf_memappend(pb, "{\"stored\":true}|", 16);
	printbuf_memappend(pb, want->buf, want->bpos);
	TAP_IS_STR(walked->buf, pb->buf, "recstore json: a list shows each "
	    "row's stored text, or prints it");
	TAP_IS_INT(n, 2, "recstore json: the list walked both rows");
	printbuf_reset(walked);
	TAP_SETUP(rs_store_records_changes_each(db, org, 0, 10, show_row,
	    walked, &n, &now) == RS_OK);
	TAP_IS_STR(walked->buf, pb->buf, "recstore json: delta sync as well");
	TAP_IS_INT(now, 2, "recstore page: the org's change number with it");
	printbuf_reset(walked);
	TAP_SETUP(rs_store_records_changes_each(db, org, 2, 10, show_row,
	    walked, &n, &now) == RS_OK);
	TAP_OK(n == 0 && walked->bpos == 0 && now == 2,
	    "recstore page: a page of no rows still gives the change number");
	TAP_SETUP(rs_store_records_list_each(db, org, &f, 0, 1, show_row,
	    walked, &n, &now) == RS_OK);
	TAP_OK(n == 1 && now == 2,
	    "recstore page: ... and a page cut short gives it too");
	TAP_OK(rs_store_records_list_each(db, "org_nosuchorg", &f, 0, 10,
	    show_row, walked, &n, &now) == RS_OK && n == 0 && now == -1,
	    "recstore page: an unknown org: no rows, change number -1");
	printbuf_free(pb);
	printbuf_free(want);
	printbuf_free(walked);
	rs_db_close(db);
}

/*
 * A read transaction is one snapshot (rs_db_begin_read): a page and the
 * change number read with it agree, whatever commits between the two
 * (a list's sync token must not name a change older than a row it
 * shows: the next delta sync would send that row again).
 */
static void
test_recstore_read_snapshot(void)
{
	struct rs_record	 a, b;
	struct rs_recfilter	 f;
	struct rs_record	 out[MAXREC];
	char			 org[RS_ID_MAX];
	struct rs_db		*db = db_new(org), *other;
	size_t			 n = 0;
	int64_t			 seq;

	other = fixture_db_again(dir, ndb);
	sample(&a, org, "Before", NOW_MS);
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	any(&f);
	TAP_SETUP(rs_db_begin_read(db) == RS_OK);
	seq = rs_store_records_change_seq(db, org);
	sample(&b, org, "Between", NOW_MS + 1);
	TAP_SETUP(put(other, &b, 1) == RS_OK);
	TAP_SETUP(rs_store_records_list(db, &arena, org, &f, 0, MAXREC, out,
	    &n) == RS_OK);
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_OK(seq == 1 && n == 1 && out[0].change_seq == 1,
	    "recstore read: the change number and the rows are one "
	    "snapshot (a write committed between is in neither)");
	TAP_IS_STR(titles(db, org, &f, 0, MAXREC), "Before,Between",
	    "recstore read: ... and is seen after it");
	rs_db_close(other);
	rs_db_close(db);
}

/* org's page of live records, a list's or (delta) a delta sync's: the
 * texts joined by '|', or "(error)". */
static const char *
page_of(struct rs_db *db, const char *org, int delta)
{
	struct printbuf		*pb = printbuf_new();
	struct rs_recfilter	 f;
	const char		*s = "(error)";
	size_t			 n;
	int64_t			 now;
	enum rs_err		 rc;

	any(&f);
	if (pb == NULL)
		return s;
	rc = delta ? rs_store_records_changes_each(db, org, 0, MAXREC,
	    show_row, pb, &n, &now) : rs_store_records_list_each(db, org, &f,
	    0, MAXREC, show_row, pb, &n, &now);
	if (rc == RS_OK)
		s = rs_arena_strdup(&arena, pb->bpos > 0 ? pb->buf : "");
	printbuf_free(pb);
	return s;
}

#define KEPT_V1	"{\"t\":\"v1\"}"
#define KEPT_V2	"{\"t\":\"v2\"}"
#define KEPT_B	"{\"t\":\"b1\"}"
#define KEPT_V3	"{\"t\":\"v3\"}"
#define KEPT_X3	"{\"t\":\"X3\"}"
#define KEPT_Y3	"{\"t\":\"Y3\"}"

/*
 * On PostgreSQL a connection keeps the texts it read (textcache.h), and
 * a page whose texts are all kept is printed from them. Each page must
 * still show what is committed: a newer version, a new row, and not a
 * text read inside a write transaction that rolled back, whose numbers
 * the next write takes again with another text. One body for both
 * backends; only the text changed behind the store's back tells them
 * apart, and a connection made again keeps nothing.
 */
static void
test_recstore_kept(void)
{
	struct rs_record	 a, b;
	char			 org[RS_ID_MAX], causal[RS_ULID_LEN + 1];
	const char		*json;
	struct rs_db		*db = db_new(org);
	int64_t			 undone;
	int			 pg = rs_db_pg(db);

	sample(&a, org, "Kept", NOW_MS);
	a.json = KEPT_V1;
	TAP_SETUP(put(db, &a, 1) == RS_OK);
	TAP_IS_STR(page_of(db, org, 0), KEPT_V1,
	    "recstore kept: a page shows the stored text");
	TAP_IS_STR(page_of(db, org, 0), KEPT_V1,
	    "recstore kept: ... read again, the same");
	TAP_IS_STR(page_of(db, org, 1), KEPT_V1,
	    "recstore kept: ... and a delta sync's");
	a.version = 2;
	a.updated_at = NOW_MS + 1;
	a.json = KEPT_V2;
	TAP_SETUP(put(db, &a, 0) == RS_OK);
	TAP_IS_STR(page_of(db, org, 0), KEPT_V2,
	    "recstore kept: a newer version shows, not the older kept");
	TAP_IS_STR(page_of(db, org, 1), KEPT_V2,
	    "recstore kept: ... in a delta sync too");
	sample(&b, org, "Other", NOW_MS + 1);
	b.json = KEPT_B;
	TAP_SETUP(put(db, &b, 1) == RS_OK);
	TAP_IS_STR(page_of(db, org, 0), KEPT_V2 "|" KEPT_B,
	    "recstore kept: a page with a kept row and a new one shows both");

	/* A write a batch's page sees (the nest), then rolled back. */
	TAP_SETUP(rs_db_nest_begin(db, org) == RS_OK);
	a.version = 3;
	a.updated_at = NOW_MS + 2;
	a.json = KEPT_V3;
	TAP_SETUP(put(db, &a, 0) == RS_OK);
	undone = a.change_seq;
	TAP_IS_STR(page_of(db, org, 0), KEPT_V3 "|" KEPT_B,
	    "recstore kept: a write transaction's page shows its own write");
	rs_db_nest_rollback(db);
	/* Not a page: it would read a's committed text into a's place. */
	TAP_OK(rs_store_records_get_text(db, &arena, org, a.id, &json,
	    causal) == RS_OK && json != NULL && strcmp(json, KEPT_V2) == 0,
	    "recstore kept: rolled back, the committed text again");
	a.json = KEPT_X3;
	TAP_SETUP(put(db, &a, 0) == RS_OK && a.change_seq == undone);
	TAP_IS_STR(page_of(db, org, 0), KEPT_X3 "|" KEPT_B,
	    "recstore kept: a write under the rolled-back one's numbers "
	    "shows its own text (nothing read in a write transaction is "
	    "kept)");
	TAP_IS_STR(page_of(db, org, 1), KEPT_B "|" KEPT_X3,
	    "recstore kept: ... in a delta sync too");

	TAP_SETUP(fixture_query_int(db, "UPDATE records SET json = "
	    "replace(json, 'X3', 'Y3') WHERE id = ?1 RETURNING 1",
	    a.id) == 1);
	TAP_IS_STR(page_of(db, org, 0), pg ? KEPT_X3 "|" KEPT_B :
	    KEPT_Y3 "|" KEPT_B,
	    "recstore kept: a text changed behind the store under the same "
	    "numbers: PostgreSQL shows the kept one, SQLite keeps none");
	if (pg)
		fixture_query_int(db, "SELECT pg_terminate_backend("
		    "pg_backend_pid())", NULL);
	TAP_IS_STR(page_of(db, org, 0), KEPT_Y3 "|" KEPT_B,
	    "recstore kept: a connection made again shows what is stored");
	rs_db_close(db);
}

/*
 * A live record's stored text and causal token for a read that shows it
 * as it is; nothing for a row without text, a tombstone, or an unknown
 * id.
 */
static void
test_recstore_get_text(void)
{
	struct rs_record	 a, b;
	char			 org[RS_ID_MAX], causal[RS_ULID_LEN + 1];
	const char		*json;
	struct rs_db		*db = db_new(org);

	sample(&a, org, "Stored", NOW_MS);
	a.json = "{\"stored\":true}";
	sample(&b, org, "Printed", NOW_MS + 1);
	TAP_SETUP(put(db, &a, 1) == RS_OK && put(db, &b, 1) == RS_OK);
	TAP_OK(rs_store_records_get_text(db, &arena, org, a.id, &json,
	    causal) == RS_OK && json != NULL &&
	    strcmp(json, "{\"stored\":true}") == 0 &&
	    strcmp(causal, a.causal) == 0,
	    "recstore get text: the stored text and its causal token");
	TAP_OK(rs_store_records_get_text(db, &arena, org, b.id, &json,
	    causal) == RS_OK && json == NULL,
	    "recstore get text: none stored: nothing");
	a.deleted_at = NOW_MS + 2;
	a.version = 2;
	TAP_SETUP(put(db, &a, 0) == RS_OK);
	TAP_OK(rs_store_records_get_text(db, &arena, org, a.id, &json,
	    causal) == RS_OK && json == NULL,
	    "recstore get text: a tombstone: nothing");
	TAP_OK(rs_store_records_get_text(db, &arena, "org_nosuchorg", b.id,
	    &json, causal) == RS_OK && json == NULL,
	    "recstore get text: another org's id: nothing");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(116 + 7 + 4 + 2 + 4 + 12);
	fixture_start(dir, sizeof(dir), "rs-recstore");
	rs_arena_init(&arena);
	rs_id_new(user, sizeof(user), "usr_");

	test_recstore_put_get();
	test_recstore_get_no_site();
	test_recstore_writer();
	test_recstore_change_seq();
	test_recstore_change_seq_per_org();
	test_recstore_put_unknown_org();
	test_recstore_put_duplicate_id();
	test_recstore_update();
	test_recstore_update_tombstone();
	test_recstore_get_unknown();
	test_recstore_get_other_org();
	test_recstore_update_other_org();
	test_recstore_list_order();
	test_recstore_list_keyset();
	test_recstore_rowid_per_org();
	test_recstore_list_filter_status();
	test_recstore_list_filter_type();
	test_recstore_list_filter_site();
	test_recstore_list_filter_created_by();
	test_recstore_list_filter_updated_after();
	test_recstore_list_include_deleted();
	test_recstore_list_filters_combined();
	test_recstore_changes();
	test_recstore_json_members();
	test_recstore_json_values();
	test_recstore_json_text();
	test_recstore_json_deleted();
	test_recstore_json_data_raw();
	test_recstore_json_from_get();
	test_recstore_json_stored();
	test_recstore_get_text();
	test_recstore_read_snapshot();
	test_recstore_kept();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
