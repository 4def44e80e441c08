/*
 * test-store-orgseq: an org's counters (lib/store_orgseq.h): change and event
 * numbers taken together, per org, and the rowids they make. Each test
 * has its own migrated database file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "db.h"
#include "id.h"
#include "store_orgseq.h"
#define FIXTURE_BOTH	/* store_orgseq_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

static char	 dir[64];
static int	 ndb;		/* databases made so far */

/* Takes counters in a transaction of its own (committed when RS_OK). */
static enum rs_err
take(struct rs_db *db, const char *org, int changes, int events,
    struct rs_store_orgseq *out)
{
	enum rs_err	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_orgseq_take(db, org, changes, events, out)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

static void
test_orgseq_counts(void)
{
	struct rs_store_orgseq	 s;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = fixture_db_org(dir, &ndb, org);

	TAP_IS_INT(take(db, org, 1, 0, &s), RS_OK, "orgseq take: succeeds");
	TAP_IS_INT(s.change, 1, "orgseq take: the first change is 1");
	TAP_IS_INT(take(db, org, 1, 2, &s), RS_OK,
	    "orgseq take: a change and two events");
	TAP_IS_INT(s.change, 2, "orgseq take: the next change is 2");
	TAP_IS_INT(s.event, 1, "orgseq take: the first of two events is 1");
	TAP_IS_INT(take(db, org, 0, 1, &s), RS_OK,
	    "orgseq take: one event alone");
	TAP_IS_INT(s.event, 3, "orgseq take: events go on from the last");
	TAP_IS_INT(take(db, org, 1, 0, &s), RS_OK,
	    "orgseq take: one change alone");
	TAP_IS_INT(s.change, 3, "orgseq take: an event takes no change");
	rs_db_close(db);
}

static void
test_orgseq_per_org(void)
{
	struct rs_store_orgseq	 a, b;
	char			 org[RS_ID_MAX], org2[RS_ID_MAX];
	struct rs_db		*db = fixture_db_org(dir, &ndb, org);

	TAP_SETUP(rs_admin_org_create(db, "Other", 120, org2) == RS_OK);
	TAP_SETUP(take(db, org, 1, 1, &a) == RS_OK);
	TAP_SETUP(take(db, org, 1, 1, &a) == RS_OK);
	TAP_SETUP(take(db, org2, 1, 1, &b) == RS_OK);
	TAP_OK(b.change == 1 && b.event == 1,
	    "orgseq take: each org counts from 1");
	TAP_OK(a.num != b.num, "orgseq take: orgs have their own numbers");
	TAP_IS_INT(rs_store_orgseq_rowid(&a, 5), (a.num << RS_ORG_ROW_BITS) | 5,
	    "orgseq rowid: the org's number << 40 | n");
	TAP_OK(rs_store_orgseq_rowid(&a, (1LL << RS_ORG_ROW_BITS) - 1) <
	    rs_store_orgseq_rowid(&b, 1) || rs_store_orgseq_rowid(&b,
	    (1LL << RS_ORG_ROW_BITS) - 1) < rs_store_orgseq_rowid(&a, 1),
	    "orgseq rowid: two orgs' ranges do not meet");
	TAP_IS_INT(take(db, "org_nosuchorg", 1, 1, &a), RS_ERR_NOTFOUND,
	    "orgseq take: an unknown org is RS_ERR_NOTFOUND");
	rs_db_close(db);
}

static void
test_orgseq_range(void)
{
	struct rs_store_orgseq	 s;
	char			 org[RS_ID_MAX], sql[128];
	struct rs_db		*db = fixture_db_org(dir, &ndb, org);

	snprintf(sql, sizeof(sql), "UPDATE orgs SET change_seq = %lld",
	    (long long)((1LL << RS_ORG_ROW_BITS) - 2));
	TAP_SETUP(rs_db_exec(db, sql) == RS_OK);
	TAP_IS_INT(take(db, org, 1, 0, &s), RS_OK,
	    "orgseq take: the last change number of the range");
	TAP_IS_INT(take(db, org, 1, 0, &s), RS_ERR_DB,
	    "orgseq take: past the range is RS_ERR_DB");
	snprintf(sql, sizeof(sql), "UPDATE orgs SET event_seq = %lld",
	    (long long)((1LL << RS_ORG_ROW_BITS) - 1));
	TAP_SETUP(rs_db_exec(db, "UPDATE orgs SET change_seq = 0") == RS_OK);
	TAP_SETUP(rs_db_exec(db, sql) == RS_OK);
	TAP_IS_INT(take(db, org, 1, 1, &s), RS_ERR_DB,
	    "orgseq take: an event number past the range is RS_ERR_DB");
	rs_db_close(db);
}

/*
 * The fan-out place (sql/0008): orgs behind their events are listed, the
 * place moves only from where it is (a run that finds it moved changes
 * nothing), and an org caught up is no longer listed.
 */
static void
test_orgseq_fanout(void)
{
	struct rs_store_orgseq_fanout	 f;
	struct rs_store_orgseq		 s;
	char				 org[RS_ID_MAX], ids[4][RS_ID_MAX];
	struct rs_db			*db = fixture_db_org(dir, &ndb, org);
	int64_t				 last = -1;
	size_t				 n = 9;

	TAP_IS_INT(rs_store_orgseq_behind(db, 0, 4, ids, &n, &last), RS_OK,
	    "test_orgseq_fanout: behind, before any event");
	TAP_IS_INT(n, 0, "test_orgseq_fanout: no org is behind");
	TAP_SETUP(take(db, org, 0, 3, &s) == RS_OK);
	TAP_IS_INT(rs_store_orgseq_behind(db, 0, 4, ids, &n, &last), RS_OK,
	    "test_orgseq_fanout: behind, after 3 events");
	TAP_OK(n == 1 && strcmp(ids[0], org) == 0 && last == s.num,
	    "test_orgseq_fanout: the org is listed, with its number");
	TAP_IS_INT(rs_store_orgseq_fanout(db, org, &f), RS_OK,
	    "test_orgseq_fanout: read the place");
	TAP_OK(f.num == s.num && f.fanout == 0 && f.event == 3,
	    "test_orgseq_fanout: nothing fanned out of 3");
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_orgseq_fanout_set(db, org, 1, 3), RS_ERR_STATE,
	    "test_orgseq_fanout: moving it from where it is not is refused");
	TAP_IS_INT(rs_store_orgseq_fanout_set(db, org, 0, 3), RS_OK,
	    "test_orgseq_fanout: moving it from where it is");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(rs_store_orgseq_behind(db, 0, 4, ids, &n, &last), RS_OK,
	    "test_orgseq_fanout: behind, caught up");
	TAP_IS_INT(n, 0, "test_orgseq_fanout: a caught-up org is not listed");
	TAP_IS_INT(rs_store_orgseq_fanout(db, "org_nope", &f), RS_ERR_NOTFOUND,
	    "test_orgseq_fanout: an unknown org");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(28);
	fixture_start(dir, sizeof(dir), "rs-orgseq");

	test_orgseq_counts();
	test_orgseq_per_org();
	test_orgseq_range();
	test_orgseq_fanout();

	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
