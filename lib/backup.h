/*
 * backup.h: relaysync-admin's backup, restore and check. It decides
 * which files may be written and read, in what order, and what is left
 * when a step fails (nothing of its own: no temporary file, no half
 * file under a name an operator gave). The copy and the checks SQLite
 * makes are store_backup.h's; the audit chains are admin.h's verifier;
 * the schema is migrate.h's. The CLI only parses and prints: every
 * message here goes to the caller in a report (why), never to a stream.
 *
 * A backup is one self-contained database file (rollback journal mode:
 * no -wal beside it, opens anywhere, read only too), the live database
 * as one read snapshot saw it; made while the server runs, its writers
 * never waiting for it (a WAL reader), the pool's checkpoints only
 * unable to shorten the WAL while it runs. It is written to
 * FILE.tmp-<pid>, synced, then renamed (or linked) to FILE.
 *
 * A restore replaces a database no process has open (the web server's
 * pool, the worker, another relaysync-admin): it cannot stop a pool
 * safely (the web server would start another), so it refuses and says
 * to stop the web server. It checks FILE, copies it beside the database,
 * migrates an older schema on the copy, checks the copy in full, keeps
 * the previous database whole as <db>.before-restore-<UTC time>, and
 * renames the copy into place, owned and moded like the previous one.
 */
#ifndef RS_BACKUP_H
#define RS_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "err.h"
#include "store_backup.h"

#define RS_BACKUP_PATH		4096
#define RS_BACKUP_STEP_PAGES	256	/* pages copied per step (1 MiB) */
#define RS_BACKUP_PAUSE_MS	2	/* between steps: the disk is shared */
#define RS_BACKUP_PAUSE_MAX_MS	1000	/* the most --pause may ask */

/* What a backup or a restore did, or why it did not. */
struct rs_backup_report {
	int64_t		 pages;
	int64_t		 bytes;
	int64_t		 ms;		/* wall time of the whole */
	int		 schema;	/* the copy's */
	int		 census_ok;	/* census taken (schema current) */
	struct rs_store_backup_census census;	/* of the copy */
	int		 migrated_from;	/* restore: FILE's older schema */
	char		 kept[RS_BACKUP_PATH];	/* restore: the previous
						 * database now; "" none */
	char		 why[RS_BACKUP_PATH + 512];	/* on failure */
};

/* What check found. */
#define RS_BACKUP_BAD_INTEGRITY	0x1
#define RS_BACKUP_BAD_FKEYS	0x2
#define RS_BACKUP_BAD_AUDIT	0x4
#define RS_BACKUP_BAD_SCHEMA	0x8

struct rs_backup_check {
	int		 failed;	/* RS_BACKUP_BAD_* that failed */
	int		 server;	/* a PostgreSQL database: no file
					 * checks (integrity, foreign keys,
					 * pages are the server's) */
	int		 skipped;	/* ... not checked (after a failure
					 * that makes them meaningless) */
	int64_t		 pages;
	int64_t		 page_size;
	int64_t		 problems;	/* integrity_check's */
	char		 integrity[256];	/* the first */
	int64_t		 violations;	/* foreign_key_check's */
	char		 fkey[256];	/* the first */
	int		 schema;
	int		 latest;	/* this program's */
	int64_t		 chains;	/* orgs' audit chains verified */
	int64_t		 entries;	/* intact entries in them */
	int64_t		 broken;	/* chains broken */
	char		 audit[256];	/* the first broken: org, seq, why */
	int		 census_ok;
	struct rs_store_backup_census census;
};

/*
 * Asks a backup under way to stop (and clean up) at its next step:
 * async-signal-safe, for a SIGINT or SIGTERM handler.
 */
void		rs_backup_interrupt(void);

/*
 * Backs the database at db_path up into file. Refused (RS_ERR_EXISTS)
 * when file, or a -wal or -journal beside it, exists, unless force (they
 * are replaced); RS_ERR_INVAL when file names the database or one of
 * its files; RS_ERR_NOTFOUND when there is no database or no directory
 * for file. RS_OK and *r; else an error and r->why, with nothing left.
 */
enum rs_err	rs_backup_make(const char *db_path, const char *file,
		    int force, int sync_full, struct rs_backup_report *r);
/*
 * The same, pausing pause_ms (0 to RS_BACKUP_PAUSE_MAX_MS) between steps
 * instead of RS_BACKUP_PAUSE_MS: a slower copy that takes less of a busy
 * machine's disk and CPU from the server.
 */
enum rs_err	rs_backup_make_paced(const char *db_path, const char *file,
		    int force, int sync_full, int pause_ms,
		    struct rs_backup_report *r);

/*
 * Restores file as the database at db_path (see above). RS_ERR_BUSY:
 * the database is in use; RS_ERR_SCHEMA: file is newer than this
 * program; RS_ERR_STATE: file (or its migrated copy) fails check;
 * RS_ERR_EXISTS: the name the previous database would be kept under is
 * taken. RS_OK and *r (r->kept, r->migrated_from); else an error and
 * r->why, with the database as it was and nothing left beside it.
 */
enum rs_err	rs_backup_restore(const char *db_path, const char *file,
		    int sync_full, struct rs_backup_report *r);

/*
 * Checks the database at path: integrity, foreign keys, the schema
 * against this program's, every org's audit chain (fn, when not NULL,
 * is called per org as admin.h's verifier calls it), and takes the
 * census. live: path is the server's database, opened as the pool opens
 * it (each part one read snapshot: writers go on); else a file opened
 * read only, as it is. RS_OK when the checks ran (*c says what
 * failed); an error with why when the file cannot be opened or read.
 */
enum rs_err	rs_backup_check(const char *path, int live, int sync_full,
		    rs_admin_audit_fn fn, void *arg, struct rs_backup_check *c,
		    char *why, size_t whysz);

#endif /* RS_BACKUP_H */
