/*
 * relaysync-worker: drains the outbound queue, run from cron.
 * For now it opens the database, checks the schema, checkpoints the WAL
 * and exits: webhook delivery, retries and purges arrive with the webhook
 * work.
 *
 * Exit status, for cron to report: 0 when the run did its work or found
 * the database busy (another checkpoint or a long reader: the next run
 * tries again), 1 on any other failure (no configuration, a database it
 * cannot open or write, a schema it does not know, a failed
 * checkpoint), 2 on a usage error. It prints nothing when all is well.
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <pwd.h>
#include <unistd.h>

#include <sodium.h>

#include "relaysync.h"

#define PATH_BUF	4096

static void
usage(FILE *f)
{
	fprintf(f, "usage: relaysync-worker [--help]\n\n"
	    "Opens RELAYSYNC_DB, checks its schema and checkpoints the WAL\n"
	    "(delivery of webhooks is not implemented yet). Run it from cron\n"
	    "as the web server's user, which owns the database; it prints\n"
	    "nothing when all is well.\n\n"
	    "Exit status: 0 done (also when the database was busy: the next\n"
	    "run retries), 1 failed, 2 usage error.\n");
}

/*
 * Says why the database at path cannot be used, naming the file this
 * user may not write when the file system tells; returns 1.
 */
static int
fail_db(const char *path, const char *what, enum rs_err rc)
{
	struct passwd	*pw = getpwuid(geteuid());
	char		 bad[PATH_BUF];

	switch (rs_admin_db_writable(path, bad, sizeof(bad))) {
	case RS_ERR_NOTFOUND:
		rs_log_err("%s: no such database (relaysync-admin init "
		    "makes it)", path);
		break;
	case RS_ERR_IO:
		rs_log_err("%s: not writable by user %s (uid %ld), which this "
		    "worker runs as; run it as the database's owner (the web "
		    "server's user: name it in the cron.d line, or use its "
		    "crontab)", bad, pw ? pw->pw_name : "?", (long)geteuid());
		break;
	default:
		rs_log_err("%s: %s: %s", path, what, rs_strerror(rc));
		break;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	struct rs_config	 cfg;
	struct rs_db		*db;
	char			 err[256] = "libsodium failed";
	char			 bad[PATH_BUF];
	enum rs_err		 rc;

	rs_log_set_name("relaysync-worker");
	if (argc > 1) {
		usage(strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	if (sodium_init() < 0 || rs_config_load(&cfg, err, sizeof(err))) {
		rs_log_err("configuration: %s", err);
		return 1;
	}
	/* SQLite opens a database it cannot write read-only and fails
	 * only at the first write: ask first, and name the culprit. */
	if ((rc = rs_admin_db_writable(cfg.db_path, bad, sizeof(bad))) !=
	    RS_OK)
		return fail_db(cfg.db_path, "open", rc);
	if ((rc = rs_db_open(cfg.db_path, 0, cfg.sync_full, &db)) != RS_OK)
		return fail_db(cfg.db_path, "open", rc);
	if ((rc = rs_migrate_check(db)) != RS_OK) {
		rs_log_err("%s: %s", cfg.db_path, rc == RS_ERR_SCHEMA ?
		    rs_strerror(rc) : "schema out of date: run "
		    "relaysync-admin migrate");
		rs_db_close(db);
		return 1;
	}
	/* The pool checkpoints as the WAL grows; this catches a WAL that
	 * stopped growing before it asked (the same two steps, so a cron
	 * run never stalls writers for long). Busy is normal: another
	 * checkpoint runs, or a reader stayed; the next run retries. */
	rc = rs_db_checkpoint(db);
	rs_db_close(db);
	if (rc == RS_OK || rc == RS_ERR_BUSY)
		return 0;
	return fail_db(cfg.db_path, "checkpoint", rc);
}
