/*
 * test-migrate: the database connection (lib/db.h), migrations
 * (lib/migrate.h) and the admin operations (lib/admin.h), each test on
 * its own database file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "apikey.h"
#include "clock.h"
#include "db.h"
#include "embed.h"
#include "id.h"
#include "migrate.h"
#include "role.h"
#include "fixture.h"
#include "tap.h"

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static unsigned char	 subkey[32];	/* for API key hashes */

/* A new database, migrated when migrate is set; bails on failure. */
static struct rs_db *
db_new(int migrate)
{
	return fixture_db_open(dir, &ndb, migrate);
}

/* The single integer sql yields, or -1. */
static int64_t
query_int(struct rs_db *db, const char *sql)
{
	return fixture_query_int(db, sql, NULL);
}

/* Sets PRAGMA user_version to v. */
static enum rs_err
set_version(struct rs_db *db, int v)
{
	char	 sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v);
	return rs_db_exec(db, sql);
}

static void
test_migrate_new_is_older(void)
{
	struct rs_db	*db = db_new(0);

	TAP_OK(db != NULL, "db open: creates a new file");
	TAP_IS_INT(rs_db_user_version(db), 0,
	    "db open: a new file is at version 0");
	TAP_IS_INT(rs_migrate_check(db), RS_ERR_INVAL,
	    "migrate check: a new file is older (RS_ERR_INVAL)");
	rs_db_close(db);
}

static void
test_db_open_missing_nocreate(void)
{
	struct rs_db	*db;
	char		 p[128];
	enum rs_err	 rc;

	snprintf(p, sizeof(p), "%s/absent.db", dir);
	rc = rs_db_open(p, 0, 0, &db);
	TAP_OK(rc != RS_OK && db == NULL,
	    "db open: a missing file without create fails");
	if (rc == RS_OK)
		rs_db_close(db);
	TAP_OK(access(p, F_OK) != 0, "db open: without create makes no file");
	unlink(p);
}

static void
test_migrate_run(void)
{
	struct rs_db	*db = db_new(0);

	TAP_OK(rs_migrate_latest() >= 1, "migrate latest: at least one");
	TAP_IS_INT(rs_migrate_run(db), RS_OK, "migrate run: succeeds");
	TAP_IS_INT(rs_db_user_version(db), rs_migrate_latest(),
	    "migrate run: user_version is the latest");
	TAP_IS_INT(rs_migrate_check(db), RS_OK,
	    "migrate check: RS_OK after a run");
	rs_db_close(db);
}

static void
test_migrate_run_twice(void)
{
	struct rs_db	*db = db_new(1);
	char		 id[RS_ID_MAX];

	TAP_SETUP(rs_admin_org_create(db, "Acme", 60, id) == RS_OK);
	TAP_IS_INT(rs_migrate_run(db), RS_OK,
	    "migrate run: a second run succeeds");
	TAP_IS_INT(rs_db_user_version(db), rs_migrate_latest(),
	    "migrate run: a second run keeps the version");
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM orgs"), 1,
	    "migrate run: a second run keeps the data");
	rs_db_close(db);
}

static void
test_migrate_tables(void)
{
	static const char *const tables[] = { "orgs", "users", "api_keys" };
	struct rs_db	*db = db_new(1);
	sqlite3_stmt	*st;
	char		 name[64];
	size_t		 i;
	int		 found;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		found = 0;
		if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM sqlite_master "
		    "WHERE type = 'table' AND name = ?1", -1, &st,
		    NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
			found = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
		}
		snprintf(name, sizeof(name), "migrate run: table %s exists",
		    tables[i]);
		TAP_OK(found, name);
	}
	rs_db_close(db);
}

static void
test_migrate_newer_schema(void)
{
	struct rs_db	*db = db_new(1);

	TAP_SETUP(set_version(db, rs_migrate_latest() + 1) == RS_OK);
	TAP_IS_INT(rs_migrate_check(db), RS_ERR_SCHEMA,
	    "migrate check: a newer database is RS_ERR_SCHEMA");
	TAP_IS_INT(rs_migrate_run(db), RS_ERR_SCHEMA,
	    "migrate run: a newer database is RS_ERR_SCHEMA");
	TAP_IS_INT(rs_db_user_version(db), rs_migrate_latest() + 1,
	    "migrate run: a newer database is left alone");
	rs_db_close(db);
}

/* Brings a new database to version v with the embedded migrations. */
static int
migrate_to(struct rs_db *db, int v)
{
	int	 i;

	for (i = 0; i < v; i++)
		if (rs_db_exec(db, rs_embed_sql[i].data) != RS_OK)
			return -1;
	return set_version(db, v) == RS_OK ? 0 : -1;
}

/* Rows made under schema 3: two orgs, records and events interleaved. */
static int
fill_v3(struct rs_db *db)
{
	static const char *const sql[] = {
		"INSERT INTO orgs (id, name, created_at, change_seq) VALUES "
		"('org_a', 'A', 1, 3), ('org_b', 'B', 2, 2)",
		"INSERT INTO users (id, org_id, email, role, created_at) "
		"VALUES ('usr_a', 'org_a', 'a@example.com', 'admin', 1)",
		"INSERT INTO records (id, org_id, title, type, size, causal, "
		"version, created_at, updated_at, created_by, change_seq) "
		"VALUES ('rec_a1', 'org_a', 'a1', 't', 2, 'c', 1, 1, 1, 'usr_a', 1), "
		"('rec_b1', 'org_b', 'b1', 't', 2, 'c', 1, 1, 1, 'usr_a', 1), "
		"('rec_a2', 'org_a', 'a2', 't', 2, 'c', 1, 1, 1, 'usr_a', 3), "
		"('rec_b2', 'org_b', 'b2', 't', 2, 'c', 1, 1, 1, 'usr_a', 2), "
		"('rec_a3', 'org_a', 'a3', 't', 2, 'c', 1, 1, 1, 'usr_a', 2)",
		"INSERT INTO events (id, org_id, type, payload, created_at) "
		"VALUES ('evt_1', 'org_b', 'x', '{}', 1), "
		"('evt_2', 'org_a', 'x', '{}', 1), "
		"('evt_3', 'org_b', 'x', '{}', 1), "
		"('evt_4', 'org_b', 'x', '{}', 1)",
		NULL,
	};
	size_t	 i;

	for (i = 0; sql[i] != NULL; i++)
		if (rs_db_exec(db, sql[i]) != RS_OK)
			return -1;
	return 0;
}

/* The column of each row sql yields, joined by ','. */
static const char *
query_list(struct rs_db *db, const char *sql, char *buf, size_t bufsz)
{
	sqlite3_stmt	*st;
	size_t		 len = 0;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return "(error)";
	while (sqlite3_step(st) == SQLITE_ROW && len < bufsz)
		len += (size_t)snprintf(buf + len, bufsz - len, "%s%s",
		    len ? "," : "", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

static void
test_migrate_0004_clusters(void)
{
	struct rs_db	*db = db_new(0);
	char		 buf[256];

	if (!TAP_OK(migrate_to(db, 3) == 0 && fill_v3(db) == 0,
	    "migrate 0004: a version 3 database with rows") ||
	    !TAP_IS_INT(rs_migrate_run(db), RS_OK, "migrate 0004: runs")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_STR(query_list(db, "SELECT id || ':' || num || ':' || "
	    "event_seq FROM orgs ORDER BY id", buf, sizeof(buf)),
	    "org_a:1:1,org_b:2:3",
	    "migrate 0004: orgs are numbered, event counts kept");
	TAP_IS_STR(query_list(db, "SELECT id || '@' || (seq >> "
	    RS_STR(RS_ORG_ROW_BITS) ") || '.' || (seq & ((1 << "
	    RS_STR(RS_ORG_ROW_BITS) ") - 1)) || '#' || change_seq "
	    "FROM records ORDER BY seq", buf, sizeof(buf)),
	    "rec_a1@1.1#1,rec_a2@1.2#3,rec_a3@1.3#2,rec_b1@2.1#1,rec_b2@2.2#2",
	    "migrate 0004: records keep their order, in their org's range, "
	    "with their change numbers");
	TAP_IS_STR(query_list(db, "SELECT id || '@' || (seq >> "
	    RS_STR(RS_ORG_ROW_BITS) ") || '.' || (seq & ((1 << "
	    RS_STR(RS_ORG_ROW_BITS) ") - 1)) FROM events ORDER BY seq",
	    buf, sizeof(buf)), "evt_2@1.1,evt_1@2.1,evt_3@2.2,evt_4@2.3",
	    "migrate 0004: events keep their order, in their org's range");
	TAP_IS_STR(query_list(db, "SELECT name FROM sqlite_schema WHERE "
	    "type = 'index' AND tbl_name IN ('records', 'events') "
	    "ORDER BY name", buf, sizeof(buf)),
	    "records_deleted,records_org_change,sqlite_autoindex_records_1",
	    "migrate 0004: records keep three indexes, events none");
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM "
	    "pragma_foreign_key_check"), 0, "migrate 0004: foreign keys hold");
	rs_db_close(db);
}

#define FILLER_ROWS	(RS_DB_CHECKPOINT_PAGES + 200)	/* a page each */

/* Grows db's WAL past the checkpoint threshold in one commit. */
static int
grow_wal(struct rs_db *db)
{
	return fixture_fill_pages(db, FILLER_ROWS);
}

static void
test_db_checkpoint_restarts_wal(void)
{
	struct rs_db	*db = db_new(1);
	char		 wal[128];
	long long	 before, after;

	fixture_db_path(wal, sizeof(wal), dir, ndb, "-wal");
	TAP_IS_INT(rs_db_checkpoint_due(db), 0,
	    "db checkpoint due: not for a small WAL");
	if (!TAP_OK(grow_wal(db) == 0, "db checkpoint: a WAL past the "
	    "threshold")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_INT(rs_db_checkpoint_due(db), 1,
	    "db checkpoint due: once the WAL passed the threshold");
	TAP_IS_INT(rs_db_checkpoint_due(db), 0,
	    "db checkpoint due: said once, until the next commit");
	before = fixture_file_size(wal);
	TAP_SETUP(rs_db_checkpoint(db) == RS_OK);
	TAP_OK(query_int(db, "SELECT count(*) FROM filler") == FILLER_ROWS,
	    "db checkpoint: the rows are still there");
	TAP_SETUP(grow_wal(db) == 0);
	after = fixture_file_size(wal);
	TAP_OK(before > 0 && after == before,
	    "db checkpoint: the next writer starts the WAL again from its "
	    "beginning (it does not grow)");
	if (after != before)
		tap_diag("WAL %lld bytes, then %lld", before, after);
	rs_db_close(db);
}

/*
 * A reader that stays (a backup's snapshot) keeps the WAL from starting
 * again: a checkpoint is asked for once past the threshold, then only
 * after as many pages more, not at every commit; once the WAL starts
 * again the threshold is the first one again.
 */
static void
test_db_checkpoint_long_reader(void)
{
	struct rs_db	*db = db_new(1), *rd = NULL;
	char		 p[128], err[256];

	fixture_db_path(p, sizeof(p), dir, ndb, "");
	if (!TAP_OK(rs_db_open_bare(p, 1, 0, &rd, err, sizeof(err)) ==
	    RS_OK && rs_db_exec(rd, "BEGIN") == RS_OK &&
	    query_int(rd, "SELECT count(*) FROM sqlite_schema") > 0,
	    "db checkpoint, long reader: a second connection holds a read "
	    "snapshot")) {
		rs_db_close(rd);
		rs_db_close(db);
		return;
	}
	TAP_SETUP(grow_wal(db) == 0);
	TAP_IS_INT(rs_db_checkpoint_due(db), 1,
	    "db checkpoint, long reader: asked once past the threshold");
	TAP_OK(rs_db_checkpoint(db) != RS_OK,
	    "db checkpoint, long reader: the WAL cannot start again");
	TAP_SETUP(fixture_fill_pages(db, 1) == 0);
	TAP_IS_INT(rs_db_checkpoint_due(db), 0,
	    "db checkpoint, long reader: not asked again at the next commit");
	TAP_SETUP(grow_wal(db) == 0);
	TAP_IS_INT(rs_db_checkpoint_due(db), 1,
	    "db checkpoint, long reader: asked again once the WAL grew as "
	    "much more");
	rs_db_exec(rd, "COMMIT");
	rs_db_close(rd);
	TAP_SETUP(rs_db_checkpoint(db) == RS_OK &&
	    fixture_fill_pages(db, 1) == 0);
	TAP_IS_INT(rs_db_checkpoint_due(db), 0,
	    "db checkpoint, reader gone: the WAL started again, nothing due");
	TAP_SETUP(grow_wal(db) == 0);
	TAP_IS_INT(rs_db_checkpoint_due(db), 1,
	    "db checkpoint, reader gone: asked at the first threshold again");
	rs_db_close(db);
}

static void
test_db_checkpoint(void)
{
	struct rs_db	*db = db_new(1);
	char		 p[128];
	long long	 before;

	fixture_db_path(p, sizeof(p), dir, ndb, "");
	before = fixture_file_size(p);
	if (!TAP_OK(grow_wal(db) == 0, "db checkpoint: a grown WAL")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_INT(rs_db_checkpoint(db), RS_OK, "db checkpoint: succeeds");
	TAP_OK(fixture_file_size(p) >= before + FILLER_ROWS * 4000LL,
	    "db checkpoint: the rows are in the database file");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_db_checkpoint(db), RS_ERR_BUSY,
	    "db checkpoint: not inside a transaction (RS_ERR_BUSY)");
	rs_db_rollback(db);
	rs_db_close(db);
}

static void
test_db_checkpoint_reader_stays(void)
{
	struct rs_db	*db = db_new(1), *reader = NULL;
	char		 p[128];
	int64_t		 t0, waited;

	fixture_db_path(p, sizeof(p), dir, ndb, "");
	if (!TAP_OK(rs_db_open(p, 0, 0, &reader) == RS_OK &&
	    grow_wal(db) == 0 && rs_db_begin_read(reader) == RS_OK &&
	    query_int(reader, "SELECT count(*) FROM filler") == FILLER_ROWS,
	    "db checkpoint: a reader holds a snapshot in the WAL")) {
		rs_db_close(reader);
		rs_db_close(db);
		return;
	}
	TAP_SETUP(grow_wal(db) == 0);
	t0 = rs_clock_now_ms();
	rs_db_checkpoint(db);
	waited = rs_clock_now_ms() - t0;
	/* The RESTART step waits 20 ms for readers, not the 5 s a writer
	 * would; a generous bound, since only "not 5 s" matters here. */
	TAP_OK(waited < RS_BUSY_TIMEOUT_MS / 2,
	    "db checkpoint: a reader that stays does not hold writers for "
	    "the full busy timeout");
	TAP_IS_INT(rs_db_begin(db), RS_OK,
	    "db checkpoint: the writers' queue is free afterwards");
	rs_db_rollback(db);
	TAP_IS_INT(query_int(reader, "SELECT count(*) FROM filler"),
	    FILLER_ROWS,
	    "db checkpoint: the reader's snapshot is intact");
	TAP_SETUP(rs_db_commit(reader) == RS_OK);
	rs_db_close(reader);
	rs_db_close(db);
}

static void
test_db_journal_wal(void)
{
	struct rs_db	*db = db_new(0);
	sqlite3_stmt	*st;
	char		 mode[16] = "";

	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(mode, sizeof(mode), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	TAP_IS_STR(mode, "wal", "db open: journal_mode is wal");
	TAP_IS_INT(query_int(db, "PRAGMA foreign_keys"), 1,
	    "db open: foreign_keys is on");
	rs_db_close(db);
}

static void
test_db_rollback(void)
{
	struct rs_db	*db = db_new(1);

	TAP_IS_INT(rs_db_begin(db), RS_OK, "db begin: succeeds");
	TAP_SETUP(rs_db_exec(db, "INSERT INTO orgs (id, name, created_at) "
	    "VALUES ('org_x', 'X', 0)") == RS_OK);
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM orgs"), 1,
	    "db begin: the row is visible inside the transaction");
	rs_db_rollback(db);
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM orgs"), 0,
	    "db rollback: leaves no row");
	TAP_OK(db->in_tx == 0 && sqlite3_get_autocommit(db->h),
	    "db rollback: no transaction left open");
	rs_db_close(db);
}

static void
test_db_commit(void)
{
	struct rs_db	*db = db_new(1);

	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_SETUP(rs_db_exec(db, "INSERT INTO orgs (id, name, created_at) "
	    "VALUES ('org_x', 'X', 0)") == RS_OK);
	TAP_IS_INT(rs_db_commit(db), RS_OK, "db commit: succeeds");
	rs_db_rollback(db);
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM orgs"), 1,
	    "db commit: the row stays");
	rs_db_close(db);
}

static void
test_db_exec_constraint(void)
{
	struct rs_db	*db = db_new(1);

	TAP_SETUP(rs_db_exec(db, "INSERT INTO orgs (id, name, created_at) "
	    "VALUES ('org_x', 'X', 0)") == RS_OK);
	TAP_IS_INT(rs_db_exec(db, "INSERT INTO orgs (id, name, created_at) "
	    "VALUES ('org_x', 'Y', 0)"), RS_ERR_EXISTS,
	    "db exec: a unique violation is RS_ERR_EXISTS");
	rs_db_close(db);
}

static void
test_db_stmt_cached(void)
{
	static const char	 sql_a[] = "SELECT 1";
	static const char	 sql_b[] = "SELECT 2";
	struct rs_db		*db = db_new(0);
	sqlite3_stmt		*a, *b;

	a = rs_db_stmt(db, sql_a);
	TAP_OK(a != NULL, "db stmt: prepares");
	TAP_OK(rs_db_stmt(db, sql_a) == a,
	    "db stmt: the same SQL gives the same cached statement");
	b = rs_db_stmt(db, sql_b);
	TAP_OK(b != NULL && b != a,
	    "db stmt: other SQL gives another statement");
	TAP_IS_INT(db->nstmt, 2, "db stmt: two statements cached");
	rs_db_close(db);
}

static void
test_db_stmt_bad_sql(void)
{
	static const char	 bad[] = "SELEKT nonsense";
	struct rs_db		*db = db_new(0);

	TAP_OK(rs_db_stmt(db, bad) == NULL && db->nstmt == 0,
	    "db stmt: bad SQL gives NULL and caches nothing");
	rs_db_close(db);
}

static void
test_admin_key_lifecycle(void)
{
	struct rs_db	*db = db_new(1);
	char		 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1];
	char		 kid[RS_ID_MAX];

	TAP_IS_INT(rs_admin_org_create(db, "Acme", 120, org), RS_OK,
	    "admin org create: succeeds");
	TAP_IS_INT(rs_id_valid(org, "org_"), 1,
	    "admin org create: gives an org_ id");
	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "ops@example.com",
	    RS_ROLE_ADMIN, key, kid), RS_OK, "admin key create: succeeds");
	TAP_IS_INT(rs_apikey_wellformed(key), 1,
	    "admin key create: gives a well-formed key");
	TAP_IS_INT(rs_id_valid(kid, "key_"), 1,
	    "admin key create: gives a key_ id");
	TAP_IS_INT(rs_admin_key_revoke(db, kid), RS_OK,
	    "admin key revoke: succeeds");
	TAP_IS_INT(rs_admin_key_revoke(db, kid), RS_OK,
	    "admin key revoke: twice is fine");
	TAP_IS_INT(query_int(db,
	    "SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL"), 1,
	    "admin key revoke: the key is marked revoked");
	TAP_IS_INT(rs_admin_key_revoke(db, "key_nosuchkey"), RS_ERR_NOTFOUND,
	    "admin key revoke: an unknown key is RS_ERR_NOTFOUND");
	rs_db_close(db);
}

static void
test_admin_key_hash_stored(void)
{
	struct rs_db	*db = db_new(1);
	unsigned char	 hash[RS_APIKEY_HASH_BYTES];
	char		 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1];
	char		 kid[RS_ID_MAX];
	sqlite3_stmt	*st;
	int		 same = 0;

	TAP_SETUP(rs_admin_org_create(db, "Acme", 120, org) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, org, "ops@example.com",
	    RS_ROLE_VIEWER, key, kid) == RS_OK);
	rs_apikey_hash(subkey, key, hash);
	if (sqlite3_prepare_v2(db->h, "SELECT hash FROM api_keys "
	    "WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, kid, -1, SQLITE_STATIC);
		same = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_bytes(st, 0) == (int)sizeof(hash) &&
		    memcmp(sqlite3_column_blob(st, 0), hash,
		    sizeof(hash)) == 0;
		sqlite3_finalize(st);
	}
	TAP_OK(same, "admin key create: stores the key's hash");
	rs_db_close(db);
}

static void
test_admin_key_unknown_org(void)
{
	struct rs_db	*db = db_new(1);
	char		 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];

	TAP_IS_INT(rs_admin_key_create(db, subkey, "org_nosuchorg",
	    "ops@example.com", RS_ROLE_ADMIN, key, kid), RS_ERR_NOTFOUND,
	    "admin key create: an unknown org is RS_ERR_NOTFOUND");
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM users"), 0,
	    "admin key create: an unknown org makes no user");
	TAP_OK(sqlite3_get_autocommit(db->h),
	    "admin key create: failure leaves no transaction open");
	rs_db_close(db);
}

static void
test_admin_same_email_other_role(void)
{
	struct rs_db	*db = db_new(1);
	char		 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1];
	char		 kid[RS_ID_MAX];

	TAP_SETUP(rs_admin_org_create(db, "Acme", 120, org) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, org, "ops@example.com",
	    RS_ROLE_VIEWER, key, kid) == RS_OK);
	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "ops@example.com",
	    RS_ROLE_ADMIN, key, kid), RS_ERR_EXISTS,
	    "admin key create: same email, other role is RS_ERR_EXISTS");
	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "OPS@Example.com",
	    RS_ROLE_ADMIN, key, kid), RS_ERR_EXISTS,
	    "admin key create: email compared without case");
	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "ops@example.com",
	    RS_ROLE_VIEWER, key, kid), RS_OK,
	    "admin key create: same email, same role adds a key");
	TAP_IS_INT(query_int(db, "SELECT count(*) FROM users"), 1,
	    "admin key create: one user for one email");
	rs_db_close(db);
}

static void
test_admin_bad_input(void)
{
	struct rs_db	*db = db_new(1);
	char		 org[RS_ID_MAX], key[RS_APIKEY_LEN + 1];
	char		 kid[RS_ID_MAX];

	TAP_SETUP(rs_admin_org_create(db, "Acme", 120, org) == RS_OK);
	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "not-an-address",
	    RS_ROLE_ADMIN, key, kid), RS_ERR_INVAL,
	    "admin key create: a bad email is RS_ERR_INVAL");
	TAP_IS_INT(rs_admin_key_create(db, subkey, org, "ops@example.com",
	    (enum rs_role)0, key, kid), RS_ERR_INVAL,
	    "admin key create: no role is RS_ERR_INVAL");
	TAP_IS_INT(rs_admin_org_create(db, "", 120, org), RS_ERR_INVAL,
	    "admin org create: an empty name is RS_ERR_INVAL");
	TAP_IS_INT(rs_admin_org_create(db, "Acme", 0, org), RS_ERR_INVAL,
	    "admin org create: a zero rate limit is RS_ERR_INVAL");
	rs_db_close(db);
}

static void
test_admin_stats(void)
{
	struct rs_db		*db = db_new(1);
	struct rs_admin_stats	 s;
	char			 o1[RS_ID_MAX], o2[RS_ID_MAX];
	char			 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];

	TAP_SETUP(rs_admin_org_create(db, "One", 10, o1) == RS_OK);
	TAP_SETUP(rs_admin_org_create(db, "Two", 10, o2) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, o1, "a@example.com",
	    RS_ROLE_ADMIN, key, kid) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, o1, "a@example.com",
	    RS_ROLE_ADMIN, key, kid) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, o2, "a@example.com",
	    RS_ROLE_VIEWER, key, kid) == RS_OK);
	TAP_SETUP(rs_admin_key_revoke(db, kid) == RS_OK);
	if (!TAP_IS_INT(rs_admin_stats(db, &s), RS_OK,
	    "admin stats: succeeds")) {
		rs_db_close(db);
		return;
	}
	TAP_IS_INT(s.orgs, 2, "admin stats: two orgs");
	TAP_IS_INT(s.users, 2, "admin stats: two users");
	TAP_IS_INT(s.keys, 2, "admin stats: two live keys");
	TAP_IS_INT(s.keys_revoked, 1, "admin stats: one revoked key");
	TAP_IS_INT(s.schema, rs_migrate_latest(),
	    "admin stats: schema is the latest");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(87);
	fixture_start(dir, sizeof(dir), "rs-migrate");
	randombytes_buf(subkey, sizeof(subkey));

	test_migrate_new_is_older();
	test_db_open_missing_nocreate();
	test_migrate_run();
	test_migrate_run_twice();
	test_migrate_tables();
	test_migrate_newer_schema();
	test_migrate_0004_clusters();
	test_db_journal_wal();
	test_db_checkpoint_restarts_wal();
	test_db_checkpoint_long_reader();
	test_db_checkpoint_reader_stays();
	test_db_checkpoint();
	test_db_rollback();
	test_db_commit();
	test_db_exec_constraint();
	test_db_stmt_cached();
	test_db_stmt_bad_sql();
	test_admin_key_lifecycle();
	test_admin_key_hash_stored();
	test_admin_key_unknown_org();
	test_admin_same_email_other_role();
	test_admin_bad_input();
	test_admin_stats();

	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
