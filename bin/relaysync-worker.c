/*
 * relaysync-worker: drains the outbound queue, run from cron.
 * For now it opens the database, checks the schema, checkpoints the WAL
 * and exits: webhook delivery, retries and purges arrive with the webhook
 * work.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "relaysync.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: relaysync-worker [--help]\n"
	    "Opens RELAYSYNC_DB, checks its schema and checkpoints the WAL. "
	    "Delivery of webhooks is not implemented yet.\n");
}

int
main(int argc, char *argv[])
{
	struct rs_config	 cfg;
	struct rs_db		*db;
	char			 err[256] = "libsodium failed";
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
	if ((rc = rs_db_open(cfg.db_path, 0, cfg.sync_full, &db)) != RS_OK) {
		rs_log_err("%s: %s", cfg.db_path, rs_strerror(rc));
		return 1;
	}
	if ((rc = rs_migrate_check(db)) != RS_OK) {
		rs_log_err("%s: %s", cfg.db_path, rc == RS_ERR_SCHEMA ?
		    rs_strerror(rc) : "schema out of date: run "
		    "relaysync-admin migrate");
		rs_db_close(db);
		return 1;
	}
	/* The pool checkpoints as the WAL grows; this catches a WAL that
	 * stopped growing before it asked (the same two steps, so a cron
	 * run never stalls writers for long). */
	if (rs_db_checkpoint(db) != RS_OK)
		rs_log_warn("%s: checkpoint not finished; will retry next run",
		    cfg.db_path);
	rs_db_close(db);
	return 0;
}
