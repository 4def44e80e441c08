/*
 * test-store-throttle: failure counters in fixed windows
 * (lib/store_throttle.h): a first failure opens a window, later ones in
 * it add to it, a closed window reads as none and the next failure
 * starts a new one, counters of another key or kind are their own, and
 * counting removes rows whose window has closed. Counting runs inside
 * rs_db_begin()/rs_db_commit(), as txn.c would run it. Each test has its
 * own migrated database in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>

#include "limits.h"
#include "db.h"
#include "store_throttle.h"
#include "fixture.h"
#include "tap.h"

#define NOW	INT64_C(1764179121)	/* 2025-11-26T17:45:21Z */
#define WIN	60

static char	 dir[64];
static int	 ndb;		/* databases made so far */

/* One failure under (kind, k) at now, in its own transaction. */
static enum rs_err
hit(struct rs_db *db, enum rs_throttle_kind kind, const char *k,
    int64_t now)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_throttle_hit(db, kind, k, now, WIN)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* The failures under (kind, k) at now (-1 on error); *left set. */
static int
fails_at(struct rs_db *db, enum rs_throttle_kind kind, const char *k,
    int64_t now, int *left)
{
	int	 fails;

	if (rs_store_throttle_get(db, kind, k, now, WIN, &fails, left) !=
	    RS_OK)
		return -1;
	return fails;
}

static void
test_throttle_none(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	int		 left = -1;

	TAP_IS_INT(fails_at(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW, &left), 0,
	    "throttle get: a key never seen has 0 failures");
	TAP_IS_INT(left, 0, "throttle get: ... and no window");
	rs_db_close(db);
}

static void
test_throttle_count(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	int		 left = -1;

	TAP_IS_INT(hit(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW), RS_OK,
	    "throttle hit: counting one succeeds");
	TAP_IS_INT(fails_at(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW, &left), 1,
	    "throttle get: 1 failure");
	TAP_IS_INT(left, WIN, "throttle get: the window starts now");
	TAP_SETUP(hit(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW + 10) == RS_OK);
	TAP_IS_INT(fails_at(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW + 10,
	    &left), 2, "throttle get: a second failure in the window adds");
	TAP_IS_INT(left, WIN - 10, "throttle get: the window did not move");
	TAP_SETUP(hit(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW + WIN - 1) ==
	    RS_OK);
	TAP_IS_INT(fails_at(db, RS_THROTTLE_ADDR, "192.0.2.1", NOW + WIN - 1,
	    &left), 3, "throttle get: the window's last second counts");
	TAP_IS_INT(left, 1, "throttle get: 1 s left");
	rs_db_close(db);
}

static void
test_throttle_separate(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	int		 left;

	TAP_SETUP(hit(db, RS_THROTTLE_ADDR, "x", NOW) == RS_OK);
	TAP_SETUP(hit(db, RS_THROTTLE_ADDR, "x", NOW) == RS_OK);
	TAP_SETUP(hit(db, RS_THROTTLE_KEY, "x", NOW) == RS_OK);
	TAP_SETUP(hit(db, RS_THROTTLE_ADDR, "y", NOW) == RS_OK);
	TAP_IS_INT(fails_at(db, RS_THROTTLE_ADDR, "x", NOW, &left), 2,
	    "throttle: (addr, x) counts its own failures");
	TAP_IS_INT(fails_at(db, RS_THROTTLE_KEY, "x", NOW, &left), 1,
	    "throttle: (key, x) is another counter");
	TAP_IS_INT(fails_at(db, RS_THROTTLE_ADDR, "y", NOW, &left), 1,
	    "throttle: (addr, y) is another counter");
	rs_db_close(db);
}

static void
test_throttle_window(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	int		 left = -1;

	TAP_SETUP(hit(db, RS_THROTTLE_KEY, "k", NOW) == RS_OK);
	TAP_SETUP(hit(db, RS_THROTTLE_KEY, "k", NOW + 1) == RS_OK);
	TAP_IS_INT(fails_at(db, RS_THROTTLE_KEY, "k", NOW + WIN, &left), 0,
	    "throttle get: a closed window reads as no failures");
	TAP_IS_INT(left, 0, "throttle get: ... and no time left");
	TAP_SETUP(hit(db, RS_THROTTLE_KEY, "k", NOW + WIN + 5) == RS_OK);
	TAP_IS_INT(fails_at(db, RS_THROTTLE_KEY, "k", NOW + WIN + 5, &left),
	    1, "throttle hit: after a closed window counting starts over");
	TAP_IS_INT(left, WIN, "throttle hit: ... in a window from then");
	rs_db_close(db);
}

static void
test_throttle_purge(void)
{
	struct rs_db	*db = fixture_db_open(dir, &ndb, 1);
	char		 k[32];
	int		 i;

	for (i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "198.51.100.%d", i);
		TAP_SETUP(hit(db, RS_THROTTLE_ADDR, k, NOW + i) == RS_OK);
	}
	TAP_SETUP(hit(db, RS_THROTTLE_ADDR, "late", NOW + WIN + 20) == RS_OK);
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM throttle",
	    NULL), 10 - RS_AUTH_FAIL_PURGE + 1,
	    "throttle hit: removes RS_AUTH_FAIL_PURGE closed windows");
	TAP_IS_INT(fixture_query_int(db, "SELECT count(*) FROM throttle "
	    "WHERE k = ?1", "198.51.100.9"), 1,
	    "throttle hit: ... the oldest first");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(18);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-throttle") == 0);

	test_throttle_none();
	test_throttle_count();
	test_throttle_separate();
	test_throttle_window();
	test_throttle_purge();

	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
