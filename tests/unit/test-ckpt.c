/*
 * test-ckpt: the checkpointer thread (lib/ckpt.h): it checkpoints when
 * asked, on its own connection, while the asking connection goes on
 * writing, and stops cleanly. Each test has its own migrated database
 * file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "limits.h"
#include "ckpt.h"
#include "clock.h"
#include "db.h"
#include "fixture.h"
#include "tap.h"

static char	 dir[64];
static int	 ndb;		/* databases made so far */

/* Waits (at most 10 s, in 5 ms steps) until c has run n checkpoints. */
static int
wait_count(struct rs_ckpt *c, long n)
{
	struct timespec	 ts = { 0, 5 * 1000 * 1000 };
	int64_t		 start = rs_clock_now_ms();

	while (rs_ckpt_count(c) < n)
		if (rs_clock_now_ms() - start > 10000)
			return -1;
		else
			nanosleep(&ts, NULL);
	return 0;
}

static void
test_ckpt_checkpoints_when_asked(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	struct rs_ckpt	*c = NULL;
	char		 p[128];
	long long	 before;

	fixture_db_path(p, sizeof(p), dir, ndb, "");
	if (!TAP_IS_INT(rs_ckpt_start(p, 0, &c), RS_OK, "ckpt start: "
	    "succeeds") || !TAP_OK(fixture_fill_pages(db, 1200) == 0,
	    "ckpt: the request connection grows the WAL")) {
		rs_ckpt_stop(c);
		rs_db_close(db);
		return;
	}
	before = fixture_file_size(p);
	TAP_IS_INT(rs_ckpt_count(c), 0, "ckpt: nothing runs unasked");
	rs_ckpt_ask(c);
	TAP_IS_INT(wait_count(c, 1), 0, "ckpt ask: one checkpoint runs");
	TAP_OK(fixture_file_size(p) >= before + 1200LL * 4000,
	    "ckpt: the WAL's pages are in the database file");
	TAP_IS_INT(fixture_fill_pages(db, 10), 0,
	    "ckpt: the request connection writes on");
	rs_ckpt_ask(c);
	rs_ckpt_ask(c);
	TAP_IS_INT(wait_count(c, 2), 0, "ckpt ask: asked again, runs again");
	rs_ckpt_stop(c);
	TAP_OK(1, "ckpt stop: returns (the thread is joined)");
	rs_db_close(db);
}

static void
test_ckpt_stop_unasked(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	struct rs_ckpt	*c = NULL;
	char		 p[128];

	fixture_db_path(p, sizeof(p), dir, ndb, "");
	if (TAP_IS_INT(rs_ckpt_start(p, 0, &c), RS_OK, "ckpt start: again"))
		rs_ckpt_stop(c);
	TAP_OK(1, "ckpt stop: a thread never asked stops");
	rs_ckpt_stop(NULL);
	TAP_OK(1, "ckpt stop: NULL is a no-op");
	rs_db_close(db);
}

static void
test_ckpt_start_missing(void)
{
	struct rs_ckpt	*c = (struct rs_ckpt *)1;
	char		 p[128];

	snprintf(p, sizeof(p), "%s/missing.db", dir);
	TAP_OK(rs_ckpt_start(p, 0, &c) != RS_OK && c == NULL,
	    "ckpt start: a missing database is an error, no thread");
}

int
main(void)
{
	tap_plan(12);
	fixture_start(dir, sizeof(dir), "rs-ckpt");

	test_ckpt_checkpoints_when_asked();
	test_ckpt_stop_unasked();
	test_ckpt_start_missing();

	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
