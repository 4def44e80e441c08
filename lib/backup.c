#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "admin.h"
#include "config.h"
#include "db.h"
#include "migrate.h"
#include "store_backup.h"
#include "backup.h"

static volatile sig_atomic_t	 rs_backup_stop;

void
rs_backup_interrupt(void)
{
	rs_backup_stop = 1;
}

static int
rs_backup_cancelled(void)
{
	return rs_backup_stop != 0;
}

static void	rs_backup_why(char *why, size_t whysz, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Says why, printf-style, into why. */
static void
rs_backup_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

#define WHY(r, ...)	rs_backup_why((r)->why, sizeof((r)->why), __VA_ARGS__)

/* The files a database has beside it (db.h, ratelimit.h, the worker). */
static const char *const rs_backup_db_files[] = { "", "-wal", "-shm",
    "-journal", ".wlock", ".ratelimit", ".worker.lock", NULL };

/*
 * path's directory made absolute and free of links, then its last
 * name, into out. RS_ERR_NOTFOUND when the directory does not exist.
 */
static enum rs_err
rs_backup_canon(const char *path, char *out, size_t outsz)
{
	char		 dir[RS_BACKUP_PATH], *real;
	const char	*slash = strrchr(path, '/'), *base;
	int		 n;

	base = slash != NULL ? slash + 1 : path;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s",
	    slash == path ? 1 : (int)(slash - path), path) >= sizeof(dir))
		return RS_ERR_RANGE;
	if ((real = realpath(dir, NULL)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? RS_ERR_NOTFOUND :
		    RS_ERR_IO;
	n = snprintf(out, outsz, "%s/%s", strcmp(real, "/") == 0 ? "" : real,
	    base);
	free(real);
	return n >= 0 && (size_t)n < outsz ? RS_OK : RS_ERR_RANGE;
}

/*
 * 1 when file names the database at db_path or one of the files beside
 * it: by name (directories resolved) or, when it exists, by inode.
 */
static int
rs_backup_is_db_file(const char *file, const char *db_path)
{
	char		 cf[RS_BACKUP_PATH], cd[RS_BACKUP_PATH];
	char		 name[RS_BACKUP_PATH + 32];
	struct stat	 fs, ds;
	size_t		 i;

	if (rs_backup_canon(file, cf, sizeof(cf)) == RS_OK &&
	    rs_backup_canon(db_path, cd, sizeof(cd)) == RS_OK)
		for (i = 0; rs_backup_db_files[i] != NULL; i++) {
			snprintf(name, sizeof(name), "%s%s", cd,
			    rs_backup_db_files[i]);
			if (strcmp(cf, name) == 0)
				return 1;
		}
	if (stat(file, &fs) != 0)
		return 0;
	for (i = 0; rs_backup_db_files[i] != NULL; i++) {
		snprintf(name, sizeof(name), "%s%s", db_path,
		    rs_backup_db_files[i]);
		if (stat(name, &ds) == 0 && ds.st_dev == fs.st_dev &&
		    ds.st_ino == fs.st_ino)
			return 1;
	}
	return 0;
}

/* fsync of the file (or directory) at path: 0, or -1 with errno. */
static int
rs_backup_sync(const char *path, int dir)
{
	int	 fd, rc, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY :
	    0))) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* Whether path with suffix exists (or cannot be told: 1). */
static int
rs_backup_exists(const char *path, const char *suffix)
{
	char	 name[RS_BACKUP_PATH + 32];

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	return access(name, F_OK) == 0 || errno != ENOENT;
}

/* Removes path with suffix; a missing file is no error. 0 or -1. */
static int
rs_backup_unlink(const char *path, const char *suffix)
{
	char	 name[RS_BACKUP_PATH + 32];

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	return unlink(name) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes a temporary database of ours and whatever SQLite made beside
 * it. */
static void
rs_backup_remove(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal",
	    ".wlock", NULL };
	size_t	 i;

	for (i = 0; sfx[i] != NULL; i++)
		(void)rs_backup_unlink(path, sfx[i]);
}

/* Makes path, empty, mode 0600, failing when it exists. 0 or -1. */
static int
rs_backup_create(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	return close(fd);
}

/*
 * A file opened read only (store_backup.h). SQLite makes a -wal and a
 * -shm beside a WAL file even so, and a reader cannot remove them: the
 * ones it made (there before: kept) are removed on close while the
 * -wal is empty.
 */
struct rs_backup_file {
	struct rs_db	*db;
	const char	*path;
	int		 had_wal;
	int		 had_shm;
};

static enum rs_err
rs_backup_file_open(struct rs_backup_file *f, const char *path, char *why,
    size_t whysz)
{
	f->path = path;
	f->had_wal = rs_backup_exists(path, "-wal");
	f->had_shm = rs_backup_exists(path, "-shm");
	return rs_store_backup_open_ro(path, &f->db, why, whysz);
}

static void
rs_backup_file_close(struct rs_backup_file *f)
{
	char		 wal[RS_BACKUP_PATH + 8];
	struct stat	 st;

	if (f->db == NULL)
		return;
	rs_db_close(f->db);
	f->db = NULL;
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	if (f->had_wal || (stat(wal, &st) == 0 && st.st_size != 0))
		return;
	(void)rs_backup_unlink(f->path, "-wal");
	if (!f->had_shm)
		(void)rs_backup_unlink(f->path, "-shm");
}

/* Says, into why, why path's directory cannot take a new file. */
static enum rs_err
rs_backup_dir(const char *path, char *why, size_t whysz)
{
	char		 dir[RS_BACKUP_PATH];
	uid_t		 owner;
	enum rs_err	 rc;

	switch ((rc = rs_admin_dir_check(path, dir, sizeof(dir), &owner))) {
	case RS_OK:
		break;
	case RS_ERR_NOTFOUND:
		rs_backup_why(why, whysz, "%s: no such directory (for %s)",
		    dir, path);
		break;
	case RS_ERR_INVAL:
		rs_backup_why(why, whysz, "%s: not a directory (for %s)", dir,
		    path);
		break;
	case RS_ERR_IO:
		rs_backup_why(why, whysz, "%s: this user cannot make files in "
		    "it (for %s); run relaysync-admin as the database's owner "
		    "(the web server's user)", dir, path);
		break;
	default:
		rs_backup_why(why, whysz, "%s: path too long", path);
		break;
	}
	return rc;
}

/* ---- check -------------------------------------------------------------- */

struct rs_backup_chains {
	struct rs_backup_check	*c;
	rs_admin_audit_fn	 fn;
	void			*arg;
};

static int
rs_backup_chain(const struct rs_admin_audit_result *res, void *arg)
{
	struct rs_backup_chains	*ch = arg;
	struct rs_backup_check	*c = ch->c;

	c->chains++;
	c->entries += res->entries;
	if (res->broken != 0 && c->broken++ == 0)
		snprintf(c->audit, sizeof(c->audit), "%s: entry %lld is broken "
		    "(%s)", res->org, (long long)res->broken, res->why);
	return ch->fn != NULL ? ch->fn(res, ch->arg) : 0;
}

/* SQLite's checks of a database file, into c. */
static enum rs_err
rs_backup_check_file(struct rs_db *db, struct rs_backup_check *c, char *why,
    size_t whysz)
{
	enum rs_err	 rc;

	/* A file that is no database fails here, with SQLite's words. */
	if ((rc = rs_store_backup_integrity(db, &c->problems, c->integrity,
	    sizeof(c->integrity))) != RS_OK) {
		rs_backup_why(why, whysz, "integrity check: %s",
		    rs_strerror(rc));
		return rc;
	}
	if (c->problems != 0) {
		c->failed |= RS_BACKUP_BAD_INTEGRITY;
		c->skipped |= RS_BACKUP_BAD_FKEYS | RS_BACKUP_BAD_AUDIT |
		    RS_BACKUP_BAD_SCHEMA;
		return RS_OK;
	}
	if ((rc = rs_store_backup_size(db, &c->pages, &c->page_size)) !=
	    RS_OK || (rc = rs_store_backup_fkeys(db, &c->violations, c->fkey,
	    sizeof(c->fkey))) != RS_OK) {
		rs_backup_why(why, whysz, "foreign key check: %s",
		    rs_strerror(rc));
		return rc;
	}
	if (c->violations != 0)
		c->failed |= RS_BACKUP_BAD_FKEYS;
	return RS_OK;
}

/* The checks on an open database, into c; an error when one cannot run. */
static enum rs_err
rs_backup_check_db(struct rs_db *db, rs_admin_audit_fn fn, void *arg,
    struct rs_backup_check *c, char *why, size_t whysz)
{
	struct rs_backup_chains	 ch = { c, fn, arg };
	enum rs_err		 rc;

	c->latest = rs_migrate_latest_of(db);
	/* A server's pages and keys are its own to check (pg_amcheck). */
	if (rs_db_pg(db))
		c->server = 1;
	else if ((rc = rs_backup_check_file(db, c, why, whysz)) != RS_OK ||
	    (c->failed & RS_BACKUP_BAD_INTEGRITY))
		return rc;
	c->schema = rs_db_user_version(db);
	if (c->schema != c->latest) {
		/* The chains and the census read today's tables. */
		c->failed |= RS_BACKUP_BAD_SCHEMA;
		c->skipped |= RS_BACKUP_BAD_AUDIT;
		return RS_OK;
	}
	if ((rc = rs_admin_audit_verify(db, NULL, rs_backup_chain, &ch)) !=
	    RS_OK) {
		rs_backup_why(why, whysz, "audit chains: %s", rs_strerror(rc));
		return rc;
	}
	if (c->broken != 0)
		c->failed |= RS_BACKUP_BAD_AUDIT;
	if ((rc = rs_store_backup_census(db, &c->census)) != RS_OK) {
		rs_backup_why(why, whysz, "counts: %s", rs_strerror(rc));
		return rc;
	}
	c->census_ok = 1;
	return RS_OK;
}

enum rs_err
rs_backup_check(const char *path, int live, int sync_full,
    rs_admin_audit_fn fn, void *arg, struct rs_backup_check *c, char *why,
    size_t whysz)
{
	struct rs_backup_file	 f;
	struct stat		 st;
	enum rs_err		 rc;

	memset(c, 0, sizeof(*c));
	memset(&f, 0, sizeof(f));
	why[0] = '\0';
	if (live && rs_config_conninfo(path)) {
		if ((rc = rs_db_open(path, 0, sync_full, &f.db)) != RS_OK) {
			rs_backup_why(why, whysz, "cannot connect to the "
			    "PostgreSQL database (%s); see the log",
			    rs_strerror(rc));
			return rc;
		}
		rc = rs_backup_check_db(f.db, fn, arg, c, why, whysz);
		rs_db_close(f.db);
		return rc;
	}
	if (stat(path, &st) != 0) {
		rs_backup_why(why, whysz, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? RS_ERR_NOTFOUND : RS_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		rs_backup_why(why, whysz, "%s: not a regular file", path);
		return RS_ERR_INVAL;
	}
	if (live) {
		if ((rc = rs_db_open(path, 0, sync_full, &f.db)) != RS_OK) {
			rs_backup_why(why, whysz, "%s: cannot open the "
			    "database (%s)", path, rs_strerror(rc));
			return rc;
		}
		rc = rs_backup_check_db(f.db, fn, arg, c, why, whysz);
		rs_db_close(f.db);
		return rc;
	}
	if ((rc = rs_backup_file_open(&f, path, why, whysz)) != RS_OK)
		return rc;
	rc = rs_backup_check_db(f.db, fn, arg, c, why, whysz);
	rs_backup_file_close(&f);
	return rc;
}

/* What failed in c, for a message: "integrity: ...", into buf. */
static const char *
rs_backup_check_says(const struct rs_backup_check *c, char *buf,
    size_t bufsz)
{
	if (c->failed & RS_BACKUP_BAD_INTEGRITY)
		snprintf(buf, bufsz, "integrity: %s", c->integrity);
	else if (c->failed & RS_BACKUP_BAD_FKEYS)
		snprintf(buf, bufsz, "foreign keys: %lld violations, the "
		    "first: %s", (long long)c->violations, c->fkey);
	else if (c->failed & RS_BACKUP_BAD_SCHEMA)
		snprintf(buf, bufsz, "schema version %d, this program's %d",
		    c->schema, c->latest);
	else if (c->failed & RS_BACKUP_BAD_AUDIT)
		snprintf(buf, bufsz, "audit chain %s", c->audit);
	else
		snprintf(buf, bufsz, "nothing");
	return buf;
}

/* ---- backup ------------------------------------------------------------- */

/*
 * Puts the finished copy tmp in place as file: with force by rename
 * (first removing a -wal, -shm or -journal of the file it replaces,
 * which SQLite would otherwise read into the new one); else by link,
 * which fails when file appeared meanwhile.
 */
static enum rs_err
rs_backup_install(const char *tmp, const char *file, int force,
    struct rs_backup_report *r)
{
	if (force) {
		if (rs_backup_unlink(file, "-wal") != 0 ||
		    rs_backup_unlink(file, "-shm") != 0 ||
		    rs_backup_unlink(file, "-journal") != 0) {
			WHY(r, "%s: cannot remove the files beside it: %s",
			    file, strerror(errno));
			return RS_ERR_IO;
		}
		if (rename(tmp, file) != 0) {
			WHY(r, "%s: %s", file, strerror(errno));
			return RS_ERR_IO;
		}
		return RS_OK;
	}
	if (link(tmp, file) == 0) {
		(void)unlink(tmp);
		return RS_OK;
	}
	if (errno != EEXIST && !rs_backup_exists(file, "") &&
	    rename(tmp, file) == 0)
		return RS_OK;	/* a file system without hard links */
	if (errno == EEXIST || rs_backup_exists(file, "")) {
		WHY(r, "%s exists (made while the backup ran); --force "
		    "replaces it", file);
		return RS_ERR_EXISTS;
	}
	WHY(r, "%s: %s", file, strerror(errno));
	return RS_ERR_IO;
}

/* The refusals before anything is made: file's name, and what is there. */
static enum rs_err
rs_backup_make_may(const char *db_path, const char *file, int force,
    struct rs_backup_report *r)
{
	struct stat	 st;
	enum rs_err	 rc;

	if (file == NULL || *file == '\0') {
		WHY(r, "no backup file named");
		return RS_ERR_INVAL;
	}
	if ((rc = rs_backup_dir(file, r->why, sizeof(r->why))) != RS_OK)
		return rc;
	if (rs_backup_is_db_file(file, db_path)) {
		WHY(r, "%s is the live database %s or one of the files beside "
		    "it: back up to another name", file, db_path);
		return RS_ERR_INVAL;
	}
	if (stat(db_path, &st) != 0) {
		WHY(r, "%s: no such database", db_path);
		return RS_ERR_NOTFOUND;
	}
	if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
		WHY(r, "%s is a directory: name the backup file", file);
		return RS_ERR_INVAL;
	}
	if (!force && rs_backup_exists(file, "")) {
		WHY(r, "%s exists; --force replaces it", file);
		return RS_ERR_EXISTS;
	}
	if (!force && (rs_backup_exists(file, "-wal") ||
	    rs_backup_exists(file, "-journal"))) {
		WHY(r, "%s-wal or %s-journal exists (a database was open "
		    "there); SQLite would read it into the backup: remove "
		    "it, or --force removes it", file, file);
		return RS_ERR_EXISTS;
	}
	return RS_OK;
}

enum rs_err
rs_backup_make(const char *db_path, const char *file, int force,
    int sync_full, struct rs_backup_report *r)
{
	return rs_backup_make_paced(db_path, file, force, sync_full,
	    RS_BACKUP_PAUSE_MS, r);
}

enum rs_err
rs_backup_make_paced(const char *db_path, const char *file, int force,
    int sync_full, int pause_ms, struct rs_backup_report *r)
{
	struct rs_store_backup_copy	 cp;
	struct rs_backup_file		 f;
	struct rs_db			*db = NULL;
	char				 tmp[RS_BACKUP_PATH];
	char				 dir[RS_BACKUP_PATH], msg[512];
	int64_t				 start = rs_clock_mono_ms();
	uid_t				 owner;
	int				 made = 0;
	enum rs_err			 rc;

	memset(r, 0, sizeof(*r));
	memset(&f, 0, sizeof(f));
	if ((rc = rs_backup_make_may(db_path, file, force, r)) != RS_OK)
		return rc;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", file,
	    (long)getpid()) >= sizeof(tmp)) {
		WHY(r, "%s: path too long", file);
		return RS_ERR_RANGE;
	}
	if (rs_backup_create(tmp) != 0) {
		WHY(r, "%s: %s", tmp, strerror(errno));
		return RS_ERR_IO;
	}
	made = 1;
	if ((rc = rs_db_open(db_path, 0, sync_full, &db)) != RS_OK) {
		WHY(r, "%s: cannot open the database (%s)", db_path,
		    rs_strerror(rc));
		goto fail;
	}
	rc = rs_store_backup_copy(db, tmp, RS_BACKUP_STEP_PAGES,
	    pause_ms < 0 ? 0 : pause_ms > RS_BACKUP_PAUSE_MAX_MS ?
	    RS_BACKUP_PAUSE_MAX_MS : pause_ms, rs_backup_cancelled, &cp, msg,
	    sizeof(msg));
	rs_db_close(db);
	if (rc != RS_OK) {
		WHY(r, "the copy failed: %s", msg);
		goto fail;
	}
	r->pages = cp.pages;
	r->bytes = cp.pages * cp.page_size;
	/* The copy read back: it opens, and what it holds. */
	if ((rc = rs_backup_file_open(&f, tmp, msg, sizeof(msg))) != RS_OK) {
		WHY(r, "the copy does not open: %s", msg);
		goto fail;
	}
	r->schema = rs_db_user_version(f.db);
	if (r->schema == rs_migrate_latest() &&
	    rs_store_backup_census(f.db, &r->census) == RS_OK)
		r->census_ok = 1;
	rs_backup_file_close(&f);
	if (rs_backup_sync(tmp, 0) != 0) {
		WHY(r, "%s: fsync: %s", tmp, strerror(errno));
		rc = RS_ERR_IO;
		goto fail;
	}
	if ((rc = rs_backup_install(tmp, file, force, r)) != RS_OK)
		goto fail;
	made = 0;
	if (rs_admin_dir_check(file, dir, sizeof(dir), &owner) != RS_OK ||
	    rs_backup_sync(dir, 1) != 0) {
		/* The file is whole; only its name may not survive a crash
		 * of the machine. */
		WHY(r, "%s is made, but its directory could not be synced: "
		    "%s", file, strerror(errno));
		return RS_ERR_IO;
	}
	r->ms = rs_clock_mono_ms() - start;
	return RS_OK;
fail:
	if (made)
		rs_backup_remove(tmp);
	return rc;
}

/* ---- restore ------------------------------------------------------------ */

/* The refusals about file itself (before the database is touched). */
static enum rs_err
rs_backup_restore_may(const char *db_path, const char *file,
    struct rs_backup_report *r)
{
	struct stat	 st;

	if (file == NULL || *file == '\0') {
		WHY(r, "no backup file named");
		return RS_ERR_INVAL;
	}
	if (stat(file, &st) != 0) {
		WHY(r, "%s: %s", file, strerror(errno));
		return errno == ENOENT ? RS_ERR_NOTFOUND : RS_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		WHY(r, "%s: not a regular file", file);
		return RS_ERR_INVAL;
	}
	if (rs_backup_is_db_file(file, db_path)) {
		WHY(r, "%s is the live database %s or one of the files beside "
		    "it, not a backup", file, db_path);
		return RS_ERR_INVAL;
	}
	return rs_backup_dir(db_path, r->why, sizeof(r->why));
}

/*
 * Copies file into tmp (made empty) after checking what it is: whole,
 * a RelaySync database, not newer than this program. Its schema to
 * *schema.
 */
static enum rs_err
rs_backup_take(const char *file, const char *tmp, int *schema,
    struct rs_backup_report *r)
{
	struct rs_store_backup_copy	 cp;
	struct rs_backup_file		 f;
	char				 msg[512];
	int64_t				 problems;
	enum rs_err			 rc;

	memset(&f, 0, sizeof(f));
	if ((rc = rs_backup_file_open(&f, file, msg, sizeof(msg))) != RS_OK) {
		WHY(r, "%s does not open: %s", file, msg);
		return rc;
	}
	if ((rc = rs_store_backup_integrity(f.db, &problems, msg,
	    sizeof(msg))) != RS_OK || problems != 0) {
		WHY(r, "%s fails its integrity check: %s", file,
		    rc != RS_OK ? rs_strerror(rc) : msg);
		rc = RS_ERR_STATE;
		goto out;
	}
	*schema = rs_db_user_version(f.db);
	if (*schema <= 0) {
		WHY(r, "%s is not a RelaySync database (schema version %d)",
		    file, *schema);
		rc = RS_ERR_STATE;
		goto out;
	}
	if (*schema > rs_migrate_latest()) {
		WHY(r, "%s has schema version %d, newer than this program's "
		    "%d: restore it with the RelaySync that made it", file,
		    *schema, rs_migrate_latest());
		rc = RS_ERR_SCHEMA;
		goto out;
	}
	if ((rc = rs_store_backup_copy(f.db, tmp, RS_BACKUP_STEP_PAGES, 0,
	    NULL, &cp, msg, sizeof(msg))) != RS_OK)
		WHY(r, "the copy of %s failed: %s", file, msg);
out:
	rs_backup_file_close(&f);
	return rc;
}

/*
 * Brings tmp (a copy at schema from) to this program's schema, and
 * back to rollback journal mode (no -wal or -shm left beside it).
 */
static enum rs_err
rs_backup_migrate(const char *tmp, int from, int sync_full,
    struct rs_backup_report *r)
{
	struct rs_db	*db;
	char		 msg[512];
	enum rs_err	 rc;

	if ((rc = rs_db_open(tmp, 0, sync_full, &db)) != RS_OK) {
		WHY(r, "%s: cannot open the copy (%s)", tmp, rs_strerror(rc));
		return rc;
	}
	rc = rs_migrate_run(db);
	rs_db_close(db);
	(void)rs_backup_unlink(tmp, ".wlock");
	if (rc != RS_OK) {
		WHY(r, "the migration of the copy from schema %d failed (%s)",
		    from, rs_strerror(rc));
		return rc;
	}
	if ((rc = rs_store_backup_seize(tmp, &db, msg, sizeof(msg))) !=
	    RS_OK) {
		WHY(r, "the migrated copy: %s", msg);
		return rc;
	}
	rs_db_close(db);
	r->migrated_from = from;
	return RS_OK;
}

/*
 * Keeps the previous database (held: ours alone, in rollback mode, so
 * the file is whole) under kept: a second name for the same file, or,
 * where there are no hard links, a copy read through held itself (an
 * open and close of the file would drop held's lock).
 */
static enum rs_err
rs_backup_keep(struct rs_db *held, const char *db_path, const char *kept,
    struct rs_backup_report *r)
{
	struct rs_store_backup_copy	 cp;
	char				 msg[512];
	enum rs_err			 rc;

	if (link(db_path, kept) == 0)
		return RS_OK;
	if (errno == EEXIST) {
		WHY(r, "%s exists: try again in a second", kept);
		return RS_ERR_EXISTS;
	}
	if (rs_backup_create(kept) != 0) {
		WHY(r, "%s: %s", kept, strerror(errno));
		return errno == EEXIST ? RS_ERR_EXISTS : RS_ERR_IO;
	}
	if ((rc = rs_store_backup_copy(held, kept, RS_BACKUP_STEP_PAGES, 0,
	    NULL, &cp, msg, sizeof(msg))) != RS_OK ||
	    rs_backup_sync(kept, 0) != 0) {
		WHY(r, "the previous database could not be kept as %s: %s",
		    kept, rc != RS_OK ? msg : strerror(errno));
		rs_backup_remove(kept);
		return rc != RS_OK ? rc : RS_ERR_IO;
	}
	return RS_OK;
}

/* tmp gets the owner and mode of the previous database (st), or, for a
 * first database, SQLite's 0644 less the umask. */
static enum rs_err
rs_backup_owner(const char *tmp, const struct stat *st,
    struct rs_backup_report *r)
{
	mode_t	 mask;

	if (st == NULL) {
		mask = umask(0);
		umask(mask);
		return chmod(tmp, 0644 & ~mask) == 0 ? RS_OK : RS_ERR_IO;
	}
	if (chown(tmp, st->st_uid, st->st_gid) != 0) {
		WHY(r, "cannot give the restored database the owner of the "
		    "previous one (uid %ld, gid %ld): %s; run restore as the "
		    "database's owner (the web server's user)",
		    (long)st->st_uid, (long)st->st_gid, strerror(errno));
		return RS_ERR_IO;
	}
	if (chmod(tmp, st->st_mode & 07777) != 0) {
		WHY(r, "%s: chmod: %s", tmp, strerror(errno));
		return RS_ERR_IO;
	}
	return RS_OK;
}

/* "<db_path>.before-restore-<UTC time>" into buf. */
static enum rs_err
rs_backup_kept_name(const char *db_path, char *buf, size_t bufsz)
{
	char		 ts[32];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return RS_ERR_RANGE;
	return (size_t)snprintf(buf, bufsz, "%s.before-restore-%s", db_path,
	    ts) < bufsz ? RS_OK : RS_ERR_RANGE;
}

/* The steps once the database is ours (held; NULL: there is none). */
static enum rs_err
rs_backup_swap(struct rs_db *held, const struct stat *old,
    const char *db_path, const char *file, const char *tmp, int sync_full,
    struct rs_backup_report *r)
{
	struct rs_backup_check	 c;
	char			 dir[RS_BACKUP_PATH], msg[512];
	int			 schema;
	uid_t			 owner;
	enum rs_err		 rc;

	if ((rc = rs_backup_take(file, tmp, &schema, r)) != RS_OK)
		return rc;
	if (schema < rs_migrate_latest() &&
	    (rc = rs_backup_migrate(tmp, schema, sync_full, r)) != RS_OK)
		return rc;
	/* What will be served, checked in full. */
	if ((rc = rs_backup_check(tmp, 0, sync_full, NULL, NULL, &c, msg,
	    sizeof(msg))) != RS_OK) {
		WHY(r, "the copy of %s cannot be checked: %s", file, msg);
		return rc;
	}
	if (c.failed != 0) {
		WHY(r, "%s fails check: %s", file,
		    rs_backup_check_says(&c, msg, sizeof(msg)));
		return RS_ERR_STATE;
	}
	r->pages = c.pages;
	r->bytes = c.pages * c.page_size;
	r->schema = c.schema;
	r->census = c.census;
	r->census_ok = c.census_ok;
	if ((rc = rs_backup_owner(tmp, old, r)) != RS_OK)
		return rc;
	if (rs_backup_sync(tmp, 0) != 0) {
		WHY(r, "%s: fsync: %s", tmp, strerror(errno));
		return RS_ERR_IO;
	}
	if (held != NULL) {
		if ((rc = rs_backup_kept_name(db_path, r->kept,
		    sizeof(r->kept))) != RS_OK) {
			WHY(r, "%s: path too long", db_path);
			return rc;
		}
		if ((rc = rs_backup_keep(held, db_path, r->kept, r)) != RS_OK) {
			r->kept[0] = '\0';
			return rc;
		}
	}
	if (rename(tmp, db_path) != 0) {
		WHY(r, "%s: %s", db_path, strerror(errno));
		if (held != NULL)
			(void)unlink(r->kept);	/* a second name, or a copy */
		r->kept[0] = '\0';
		return RS_ERR_IO;
	}
	/* Seizing left none; one made since would be the old file's. */
	(void)rs_backup_unlink(db_path, "-wal");
	(void)rs_backup_unlink(db_path, "-shm");
	(void)rs_backup_unlink(db_path, "-journal");
	if (rs_admin_dir_check(db_path, dir, sizeof(dir), &owner) != RS_OK ||
	    rs_backup_sync(dir, 1) != 0)
		return RS_OK;	/* in place; a crash of the machine now may
				 * bring the previous name back: no harm */
	return RS_OK;
}

enum rs_err
rs_backup_restore(const char *db_path, const char *file, int sync_full,
    struct rs_backup_report *r)
{
	struct rs_db	*held = NULL;
	struct stat	 old;
	char		 tmp[RS_BACKUP_PATH], msg[512];
	int64_t		 start = rs_clock_mono_ms();
	int		 have_old;
	enum rs_err	 rc;

	memset(r, 0, sizeof(*r));
	if ((rc = rs_backup_restore_may(db_path, file, r)) != RS_OK)
		return rc;
	if (!(have_old = stat(db_path, &old) == 0) && errno != ENOENT) {
		WHY(r, "%s: %s", db_path, strerror(errno));
		return RS_ERR_IO;
	}
	if (have_old && (rc = rs_store_backup_seize(db_path, &held, msg,
	    sizeof(msg))) != RS_OK) {
		if (rc == RS_ERR_BUSY)
			WHY(r, "%s is in use: the web server's FastCGI "
			    "processes (or the worker, or another "
			    "relaysync-admin) have it open. Stop the web "
			    "server, and let a worker run end, then restore: "
			    "a database in use is never replaced", db_path);
		else
			WHY(r, "%s", msg);
		return rc;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.restore-%ld", db_path,
	    (long)getpid()) >= sizeof(tmp)) {
		WHY(r, "%s: path too long", db_path);
		rs_db_close(held);
		return RS_ERR_RANGE;
	}
	if (rs_backup_create(tmp) != 0) {
		WHY(r, "%s: %s", tmp, strerror(errno));
		rs_db_close(held);
		return RS_ERR_IO;
	}
	rc = rs_backup_swap(held, have_old ? &old : NULL, db_path, file, tmp,
	    sync_full, r);
	if (rc != RS_OK)
		rs_backup_remove(tmp);
	rs_db_close(held);
	r->ms = rs_clock_mono_ms() - start;
	return rc;
}
