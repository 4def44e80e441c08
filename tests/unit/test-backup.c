/*
 * test-backup: relaysync-admin's backup, restore and check (backup.h)
 * and the whole-file operations under them (store_backup.h), over real
 * migrated databases: a backup equals its source (counts, integrity, one
 * file in rollback mode); the copy is one snapshot, finished while
 * another connection commits between its steps; every refusal leaves
 * nothing behind; a restore keeps the previous database and refuses a
 * database in use, a newer schema, a damaged file and a broken chain,
 * and migrates an older schema; check finds a broken audit chain, a
 * failed integrity check, a foreign key violation and a newer schema.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "backup.h"
#include "db.h"
#include "embed.h"
#include "migrate.h"
#include "store_backup.h"
#include "fixture.h"
#include "tap.h"

static char		 dir[64];
static int		 ndb;
static unsigned char	 subkey[RS_SECRET_BYTES];

/* dir/name into buf. */
static const char *
at(char *buf, size_t bufsz, const char *name)
{
	snprintf(buf, bufsz, "%s/%s", dir, name);
	return buf;
}

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Files in dir a failed or finished command must not leave. */
static int
leftovers(void)
{
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	TAP_SETUP((d = opendir(dir)) != NULL);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp-") != NULL ||
		    strstr(e->d_name, ".restore-") != NULL) {
			tap_diag("left behind: %s", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* Runs sql on the file at path through a plain connection (no WAL). */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3	*h;
	char	*msg = NULL;

	TAP_SETUP(sqlite3_open(path, &h) == SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		tap_bail("%s: %s: %s", path, sql, msg ? msg : "?");
	sqlite3_close(h);
}

/* Overwrites page n (from 1) of the file at path with 0xff bytes. */
static void
damage_page(const char *path, int n, int page_size)
{
	unsigned char	 junk[65536];
	int		 fd;

	memset(junk, 0xff, sizeof(junk));
	TAP_SETUP((fd = open(path, O_WRONLY)) != -1);
	TAP_SETUP(pwrite(fd, junk, (size_t)page_size,
	    (off_t)(n - 1) * page_size) == page_size);
	close(fd);
}

static ino_t
inode(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* The census of the database file at path (opened read only). */
static void
census_of(const char *path, struct rs_store_backup_census *c)
{
	struct rs_db	*db;

	TAP_SETUP(rs_store_backup_open_ro(path, &db, NULL, 0) == RS_OK);
	TAP_SETUP(rs_store_backup_census(db, c) == RS_OK);
	rs_db_close(db);
}

static int64_t
filler_rows(const char *path)
{
	struct rs_db	*db;
	int64_t		 n;

	TAP_SETUP(rs_store_backup_open_ro(path, &db, NULL, 0) == RS_OK);
	n = fixture_query_int(db, "SELECT count(*) FROM filler", NULL);
	rs_db_close(db);
	return n;
}

/* The source: two orgs with keys, and 700 pages of filler. */
static char	 src[128], org1[RS_ID_MAX], org2[RS_ID_MAX];

static void
make_source(void)
{
	struct rs_db	*db;
	char		 key[RS_APIKEY_LEN + 1], kid[RS_ID_MAX];

	db = fixture_db_org(dir, &ndb, org1);
	fixture_db_path(src, sizeof(src), dir, ndb, "");
	TAP_SETUP(rs_admin_org_create(db, "Second", 120, org2) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, org1, "a@example.com",
	    RS_ROLE_ADMIN, key, kid) == RS_OK);
	TAP_SETUP(rs_admin_key_create(db, subkey, org2, "b@example.com",
	    RS_ROLE_VIEWER, key, kid) == RS_OK);
	TAP_SETUP(fixture_fill_pages(db, 700) == 0);
	rs_db_close(db);
}

static void
test_backup_equal(void)
{
	struct rs_store_backup_census	 want;
	struct rs_backup_report		 r;
	struct rs_backup_check		 c;
	struct stat			 st;
	unsigned char			 hdr[20];
	char				 b1[128], p[160], why[256];
	int				 fd;

	census_of(src, &want);
	TAP_OK(rs_backup_make(src, at(b1, sizeof(b1), "b1.db"), 0, 0, &r) ==
	    RS_OK, "backup: a database with data");
	TAP_OK(r.pages > 2 * RS_BACKUP_STEP_PAGES && r.bytes ==
	    fixture_file_size(b1), "backup: pages and bytes as copied");
	TAP_OK(r.census_ok && memcmp(&r.census, &want, sizeof(want)) == 0 &&
	    want.orgs == 2 && want.keys == 2 && want.audit == 4,
	    "backup: the copy's counts are the source's");
	TAP_OK(filler_rows(b1) == 700, "backup: every row of every table");
	TAP_SETUP(rs_backup_check(b1, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK);
	TAP_OK(c.failed == 0 && c.chains == 2 && c.entries == 4 &&
	    c.census_ok && memcmp(&c.census, &want, sizeof(want)) == 0,
	    "check: the backup passes, the same counts");
	TAP_SETUP((fd = open(b1, O_RDONLY)) != -1);
	TAP_SETUP(read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
	close(fd);
	TAP_OK(hdr[18] == 1 && hdr[19] == 1 &&
	    !exists(at(p, sizeof(p), "b1.db-wal")) &&
	    !exists(at(p, sizeof(p), "b1.db-shm")),
	    "backup: one file in rollback mode, nothing beside it");
	TAP_OK(stat(b1, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "backup: mode 0600");
	TAP_OK(leftovers() == 0, "backup: no temporary file left");
}

/* The copy's snapshot, against commits of another connection. */
static struct rs_db	*writer;
static int		 writes, write_fails;

static int
write_between_steps(void)
{
	if (writes++ > 1000)
		return 1;	/* restarting for ever: give up */
	if (rs_db_exec(writer, "INSERT INTO filler VALUES (randomblob(4000))")
	    != RS_OK)
		write_fails++;
	return 0;
}

static void
test_backup_snapshot(void)
{
	struct rs_store_backup_copy	 cp;
	struct rs_db			*db;
	char				 b[128], msg[256];

	TAP_SETUP(rs_db_open(src, 0, 0, &db) == RS_OK);
	TAP_SETUP(rs_db_open(src, 0, 0, &writer) == RS_OK);
	TAP_SETUP(creat(at(b, sizeof(b), "snap.db"), 0600) != -1);
	TAP_OK(rs_store_backup_copy(db, b, 64, 0, write_between_steps, &cp,
	    msg, sizeof(msg)) == RS_OK, "copy: finished while another "
	    "connection committed between its steps");
	TAP_OK(cp.steps > 5 && writes == cp.steps - 1 && write_fails == 0,
	    "copy: every commit between steps went through");
	TAP_OK(filler_rows(b) == 700 && fixture_query_int(writer,
	    "SELECT count(*) FROM filler", NULL) == 700 + writes,
	    "copy: the snapshot it began with, none of the later commits");
	TAP_SETUP(rs_db_exec(writer, "DELETE FROM filler WHERE rowid > 700") ==
	    RS_OK);
	rs_db_close(writer);
	rs_db_close(db);
	unlink(b);
}

static void
test_backup_refusals(void)
{
	struct rs_backup_report	 r;
	struct stat		 before, after;
	char			 b1[128], p[160], q[160];

	at(b1, sizeof(b1), "b1.db");
	TAP_SETUP(stat(b1, &before) == 0);
	TAP_OK(rs_backup_make(src, b1, 0, 0, &r) == RS_ERR_EXISTS &&
	    strstr(r.why, "--force") != NULL, "backup: refuses an existing "
	    "file, naming --force");
	TAP_OK(stat(b1, &after) == 0 && after.st_ino == before.st_ino &&
	    after.st_mtime == before.st_mtime, "backup: the file refused is "
	    "unchanged");
	snprintf(p, sizeof(p), "%s-wal", src);
	TAP_OK(rs_backup_make(src, p, 1, 0, &r) == RS_ERR_INVAL &&
	    rs_backup_make(src, src, 1, 0, &r) == RS_ERR_INVAL,
	    "backup: refuses the database and its -wal, even with --force");
	snprintf(p, sizeof(p), "%s/../%s/x.db-shm", dir, strrchr(dir, '/') + 1);
	snprintf(q, sizeof(q), "%s/x.db", dir);
	TAP_OK(rs_backup_make(q, p, 1, 0, &r) == RS_ERR_INVAL,
	    "backup: refuses the -shm by another path");
	TAP_SETUP(link(src, at(p, sizeof(p), "alias.db")) == 0);
	TAP_OK(rs_backup_make(src, p, 1, 0, &r) == RS_ERR_INVAL,
	    "backup: refuses another name of the database (its inode)");
	unlink(p);
	TAP_OK(rs_backup_make(src, at(p, sizeof(p), "nodir/x.db"), 0, 0,
	    &r) == RS_ERR_NOTFOUND && strstr(r.why, "no such directory"),
	    "backup: refuses a missing directory");
	TAP_OK(rs_backup_make(src, dir, 1, 0, &r) == RS_ERR_INVAL,
	    "backup: refuses a directory");
	TAP_OK(rs_backup_make(at(q, sizeof(q), "none.db"), at(p, sizeof(p),
	    "b2.db"), 0, 0, &r) == RS_ERR_NOTFOUND && !exists(p) &&
	    !exists(q), "backup: no database: refused, nothing made");
	raw_exec(at(q, sizeof(q), "b2.db-wal"), "SELECT 1");	/* a file */
	TAP_SETUP(exists(q));
	TAP_OK(rs_backup_make(src, p, 0, 0, &r) == RS_ERR_EXISTS &&
	    !exists(p), "backup: refuses a name with a -wal beside it");
	TAP_OK(rs_backup_make(src, p, 1, 0, &r) == RS_OK && !exists(q) &&
	    filler_rows(p) == 700, "backup --force: removes the stale -wal");
	TAP_OK(rs_backup_make(src, b1, 1, 0, &r) == RS_OK &&
	    inode(b1) != before.st_ino && filler_rows(b1) == 700,
	    "backup --force: replaces the file");
	unlink(p);
	TAP_OK(leftovers() == 0, "backup: refusals leave nothing behind");
}

/* A copy of b1 as name, with sql run on it (NULL: none). */
static const char *
variant(char *buf, size_t bufsz, const char *name, const char *sql)
{
	struct rs_backup_report	 r;

	at(buf, bufsz, name);
	unlink(buf);
	TAP_SETUP(rs_backup_make(src, buf, 0, 0, &r) == RS_OK);
	if (sql != NULL)
		raw_exec(buf, sql);
	return buf;
}

/* Drops the audit triggers of path and changes org1's first entry. */
static void
tamper(const char *path)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		 names[4][64], sql[300];
	int		 n = 0, i;

	TAP_SETUP(sqlite3_open(path, &h) == SQLITE_OK);
	TAP_SETUP(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_master "
	    "WHERE type = 'trigger' AND tbl_name = 'audit'", -1, &st, NULL) ==
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < 4)
		snprintf(names[n++], sizeof(names[0]), "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	TAP_SETUP(n >= 2);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "DROP TRIGGER \"%s\"", names[i]);
		TAP_SETUP(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	TAP_SETUP(sqlite3_prepare_v2(h, "UPDATE audit SET detail = "
	    "'{\"name\":\"Forged\"}' WHERE org_id = ?1 AND n = 1", -1, &st,
	    NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, org1, -1, SQLITE_STATIC);
	TAP_SETUP(sqlite3_step(st) == SQLITE_DONE);
	TAP_SETUP(sqlite3_changes(h) == 1);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void
test_check(void)
{
	struct rs_backup_check	 c;
	char			 p[128], why[256], sql[96];

	tamper(variant(p, sizeof(p), "tampered.db", NULL));
	TAP_SETUP(rs_backup_check(p, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK);
	TAP_OK(c.failed == RS_BACKUP_BAD_AUDIT && c.broken == 1 &&
	    c.chains == 2 && strstr(c.audit, org1) != NULL &&
	    strstr(c.audit, "entry 1 is broken") != NULL,
	    "check: finds the broken chain, names its org and entry");

	variant(p, sizeof(p), "damaged.db", NULL);
	damage_page(p, 400, 4096);
	TAP_SETUP(rs_backup_check(p, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK);
	TAP_OK(c.failed == RS_BACKUP_BAD_INTEGRITY && c.problems > 0 &&
	    c.integrity[0] != '\0', "check: a failed integrity check, with "
	    "its first problem");
	TAP_OK(!exists(at(why, sizeof(why), "damaged.db-wal")) &&
	    !exists(at(why, sizeof(why), "damaged.db-shm")),
	    "check: a file is read as it is, nothing made beside it");

	variant(p, sizeof(p), "orphan.db", "PRAGMA foreign_keys=OFF; "
	    "INSERT INTO users (id, org_id, email, role, created_at) VALUES "
	    "('usr_x', 'org_none', 'x@example.com', 'admin', 1)");
	TAP_SETUP(rs_backup_check(p, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK);
	TAP_OK(c.failed == RS_BACKUP_BAD_FKEYS && c.violations == 1 &&
	    strstr(c.fkey, "users") != NULL, "check: a foreign key "
	    "violation");

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
	    rs_migrate_latest() + 1);
	variant(p, sizeof(p), "newer.db", sql);
	TAP_SETUP(rs_backup_check(p, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK);
	TAP_OK(c.failed == RS_BACKUP_BAD_SCHEMA &&
	    c.schema == rs_migrate_latest() + 1, "check: a newer schema");

	TAP_OK(rs_backup_check(src, 1, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK && c.failed == 0 && c.chains == 2,
	    "check: the live database passes");
	TAP_OK(rs_backup_check(at(p, sizeof(p), "none.db"), 0, 0, NULL, NULL,
	    &c, why, sizeof(why)) == RS_ERR_NOTFOUND && !exists(p),
	    "check: no such file, none made");
}

/* A database at the schema before this program's, with an org. */
static void
make_older(const char *path)
{
	struct rs_db	*db;
	char		 sql[64], org[RS_ID_MAX];
	int		 v;

	TAP_SETUP(rs_db_open(path, 1, 0, &db) == RS_OK);
	for (v = 1; v < rs_migrate_latest(); v++) {
		TAP_SETUP(rs_db_exec(db, rs_embed_sql[v - 1].data) == RS_OK);
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v);
		TAP_SETUP(rs_db_exec(db, sql) == RS_OK);
	}
	TAP_SETUP(rs_admin_org_create(db, "Old", 120, org) == RS_OK);
	rs_db_close(db);
}

static void
test_restore(void)
{
	struct rs_store_backup_census	 old, want, got;
	struct rs_backup_report		 r;
	struct rs_backup_check		 c;
	struct rs_db			*db, *open_one;
	struct stat			 st;
	char				 tgt[128], b1[128], p[160], sql[96];
	char				 org[RS_ID_MAX], why[256];
	ino_t				 ino;

	/* The database restored over: one org of its own. */
	db = fixture_db_org(dir, &ndb, org);
	rs_db_close(db);
	fixture_db_path(tgt, sizeof(tgt), dir, ndb, "");
	TAP_SETUP(chmod(tgt, 0640) == 0);
	census_of(tgt, &old);
	census_of(at(b1, sizeof(b1), "b1.db"), &want);
	ino = inode(tgt);

	TAP_SETUP(rs_db_open(tgt, 0, 0, &open_one) == RS_OK);
	TAP_SETUP(rs_store_backup_census(open_one, &got) == RS_OK);
	TAP_OK(rs_backup_restore(tgt, b1, 0, &r) == RS_ERR_BUSY &&
	    strstr(r.why, "Stop the web server") != NULL,
	    "restore: refuses a database in use, saying to stop the server");
	TAP_OK(inode(tgt) == ino && r.kept[0] == '\0' && leftovers() == 0,
	    "restore: refused, the database stays, nothing made");
	rs_db_close(open_one);

	variant(p, sizeof(p), "newer.db", NULL);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
	    rs_migrate_latest() + 1);
	raw_exec(p, sql);
	TAP_OK(rs_backup_restore(tgt, p, 0, &r) == RS_ERR_SCHEMA &&
	    strstr(r.why, "newer") != NULL, "restore: refuses a newer schema");
	variant(p, sizeof(p), "damaged.db", NULL);
	damage_page(p, 400, 4096);
	TAP_OK(rs_backup_restore(tgt, p, 0, &r) == RS_ERR_STATE &&
	    strstr(r.why, "integrity") != NULL,
	    "restore: refuses a file failing its integrity check");
	tamper(variant(p, sizeof(p), "tampered.db", NULL));
	TAP_OK(rs_backup_restore(tgt, p, 0, &r) == RS_ERR_STATE &&
	    strstr(r.why, "audit chain") != NULL,
	    "restore: refuses a file whose audit chain is broken");
	raw_exec(at(p, sizeof(p), "empty.db"), "SELECT 1");
	TAP_OK(rs_backup_restore(tgt, p, 0, &r) == RS_ERR_STATE &&
	    strstr(r.why, "not a RelaySync database") != NULL,
	    "restore: refuses a database that is not RelaySync's");
	TAP_OK(inode(tgt) == ino && leftovers() == 0, "restore: refusals "
	    "leave the database and nothing else");

	TAP_OK(rs_backup_restore(tgt, b1, 0, &r) == RS_OK && r.kept[0] != '\0'
	    && strstr(r.kept, ".before-restore-") != NULL,
	    "restore: done, the previous database kept");
	census_of(tgt, &got);
	TAP_OK(memcmp(&got, &want, sizeof(got)) == 0 && r.census_ok &&
	    memcmp(&r.census, &want, sizeof(want)) == 0,
	    "restore: the database now holds the backup's rows");
	census_of(r.kept, &got);
	TAP_OK(memcmp(&got, &old, sizeof(got)) == 0 && inode(r.kept) == ino,
	    "restore: the kept file is the previous database, whole");
	TAP_OK(rs_backup_check(r.kept, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK && c.failed == 0,
	    "restore: the kept file passes check");
	snprintf(p, sizeof(p), "%s-wal", tgt);
	TAP_OK(stat(tgt, &st) == 0 && (st.st_mode & 0777) == 0640 &&
	    st.st_uid == geteuid() && !exists(p), "restore: the previous "
	    "mode and owner, no stale -wal");
	TAP_OK(rs_backup_check(tgt, 1, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK && c.failed == 0 && leftovers() == 0,
	    "restore: the new database passes check, nothing left");
	unlink(r.kept);

	/* An older schema: migrated on the copy, into a fresh place. */
	make_older(at(p, sizeof(p), "older.db"));
	TAP_OK(rs_backup_restore(at(tgt, sizeof(tgt), "fresh.db"), p, 0, &r) ==
	    RS_OK && r.migrated_from == rs_migrate_latest() - 1 &&
	    r.schema == rs_migrate_latest() && r.kept[0] == '\0' &&
	    r.census_ok && r.census.orgs == 1, "restore: an older schema is "
	    "migrated; no previous database to keep");
	TAP_OK(rs_backup_check(tgt, 0, 0, NULL, NULL, &c, why,
	    sizeof(why)) == RS_OK && c.failed == 0 && c.chains == 1 &&
	    leftovers() == 0, "restore: the migrated database passes check");
}

int
main(void)
{
	unsigned char	 master[RS_SECRET_BYTES];
	char		 cmd[400];

	tap_plan(8 + 3 + 12 + 7 + 15);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-backup") == 0);
	TAP_SETUP(fixture_subkey(master, RS_SECRET_APIKEY, subkey) == 0);
	make_source();

	test_backup_equal();
	test_backup_snapshot();
	test_backup_refusals();
	test_check();
	test_restore();

	/* The files of this program's own names, then the fixture's. */
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/*.db '%s'/*.db-wal "
	    "'%s'/*.db-shm '%s'/*.db.wlock", dir, dir, dir, dir);
	if (system(cmd) != 0)
		tap_diag("cannot run %s", cmd);
	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
