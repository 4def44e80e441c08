/*
 * copy.h: relaysync-admin copy, an SQLite deployment moved to a
 * PostgreSQL database. The source file is opened read only and must be
 * at the schema this program knows (an older one: migrate it first);
 * the target is brought to PostgreSQL's latest schema and must hold no
 * org. Every table's rows go over as they are (store_move.h), read from
 * one snapshot of the source and written in one transaction of the
 * target: a copy that fails anywhere leaves the target empty. Then the
 * target is checked: every table holds as many rows as the source, and
 * every org's audit chain is intact (admin.h's verifier, recomputing
 * each hash from the copied facts).
 *
 * The copy does not stop the server: stop writes to the source first
 * (the web server and the worker's cron), or what is written after the
 * snapshot stays behind. Like backup.h, it says why in its report and
 * never prints.
 */
#ifndef RS_COPY_H
#define RS_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RS_COPY_TABLES	16

struct rs_copy_report {
	size_t		 ntables;
	const char	*table[RS_COPY_TABLES];
	int64_t		 rows[RS_COPY_TABLES];	/* copied, and counted on
						 * both sides */
	int64_t		 orgs;		/* audit chains verified */
	int64_t		 entries;	/* ... and their entries */
	int64_t		 ms;		/* wall time of the whole */
	char		 why[512];	/* when it failed */
};

/* Copies the SQLite database file from into the PostgreSQL database to. */
enum rs_err	 rs_copy_run(const char *from, const char *to,
		    struct rs_copy_report *r);

#endif /* RS_COPY_H */
