/*
 * test-policy-set: what an org's policies choose for a record
 * (lib/policy_set.h): the defaults without policies, the first match in
 * (order, name), a reload when the org's policy version moves (a write
 * from another connection, as another process of the pool would make),
 * disabled and deleted policies, data.<key> read only when a policy asks,
 * another org's policies never used, and more orgs than the process
 * keeps. Each test has its own migrated database in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "policy_set.h"
#include "store_policies.h"
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)

static char		 dir[64];
static int		 ndb;
static struct rs_arena	 arena;

/* Creates or replaces policy name of org, in a transaction of its own. */
static enum rs_err
put(struct rs_db *db, const char *org, const char *name, const char *when,
    const char *then, int64_t order, int enabled)
{
	struct rs_store_policy	 p;
	enum rs_err		 rc;
	int			 created;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.when = when;
	p.then = then;
	p.order = order;
	p.enabled = enabled;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_policies_put(db, &arena, org, &p, NOW_MS,
	    &created)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

static enum rs_err
del(struct rs_db *db, const char *org, const char *name)
{
	struct rs_store_policy	 p;
	enum rs_err		 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_policies_delete(db, &arena, org, name, NOW_MS,
	    &p)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* The queue chosen for a record of size and type with data text. */
static const char *
queue(struct rs_policy_set **set, struct rs_db *db, const char *org,
    int64_t size, const char *type, const char *data)
{
	static char			 q[RS_POLICY_QUEUE_MAX + 1];
	struct rs_policy_record		 r;
	struct rs_policy_choice		 c;

	memset(&r, 0, sizeof(r));
	r.size = size;
	r.type = type;
	r.status = "queued";
	r.title = "t";
	if (rs_policy_set_choose(set, db, org, &r, data, &c) != RS_OK)
		return "(error)";
	snprintf(q, sizeof(q), "%s", c.queue);
	return q;
}

static void
test_set_defaults(void)
{
	struct rs_policy_set	*set = NULL;
	struct rs_policy_record	 r;
	struct rs_policy_choice	 c;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = fixture_db_org(dir, &ndb, org);

	memset(&r, 0, sizeof(r));
	r.type = "photo";
	TAP_IS_INT(rs_policy_set_choose(&set, db, org, &r, NULL, &c), RS_OK,
	    "set: an org without policies is RS_OK");
	TAP_OK(strcmp(c.queue, "default") == 0 &&
	    c.priority == RS_POLICY_DEFAULT_PRIORITY && c.delay_s == 0,
	    "set: and gets default, 5, no delay");
	rs_policy_set_free(set);
	rs_db_close(db);
}

static void
test_set_order_and_reload(void)
{
	struct rs_policy_set	*set = NULL;
	struct rs_policy_record	 r;
	struct rs_policy_choice	 c;
	struct rs_db		*db, *other;
	char			 org[RS_ID_MAX], p[128];

	db = fixture_db_org(dir, &ndb, org);
	TAP_SETUP(rs_db_open(fixture_db_path(p, sizeof(p), dir, ndb, ""), 0,
	    0, &other) == RS_OK);
	TAP_SETUP(put(db, org, "big", "size>5120", "queue=wifi", 100, 1) ==
	    RS_OK);
	TAP_IS_STR(queue(&set, db, org, 6000, "photo", NULL), "wifi",
	    "set: the seed policy sends a big record to wifi");
	TAP_IS_STR(queue(&set, db, org, 10, "photo", NULL), "default",
	    "set: and a small one to default");
	/* Another connection (another process) adds a policy tried first. */
	TAP_SETUP(put(other, org, "alarm", "type==alarm",
	    "queue=now;priority=1;delay=2m", 10, 1) == RS_OK);
	memset(&r, 0, sizeof(r));
	r.size = 6000;
	r.type = "alarm";
	TAP_SETUP(rs_policy_set_choose(&set, db, org, &r, NULL, &c) == RS_OK);
	TAP_OK(strcmp(c.queue, "now") == 0 && c.priority == 1 &&
	    c.delay_s == 120, "set: a policy another process wrote is seen "
	    "at once, and order 10 is tried before 100");
	TAP_SETUP(put(other, org, "alarm", "type==alarm", "queue=now", 10,
	    0) == RS_OK);
	TAP_IS_STR(queue(&set, db, org, 6000, "alarm", NULL), "wifi",
	    "set: a disabled policy is not tried");
	TAP_SETUP(del(other, org, "big") == RS_OK);
	TAP_IS_STR(queue(&set, db, org, 6000, "photo", NULL), "default",
	    "set: a deleted policy is not tried");
	TAP_SETUP(put(other, org, "a", "true", "queue=qa", 5, 1) == RS_OK);
	TAP_SETUP(put(other, org, "b", "true", "queue=qb", 5, 1) == RS_OK);
	TAP_IS_STR(queue(&set, db, org, 1, "photo", NULL), "qa",
	    "set: with equal order, name decides");
	rs_policy_set_free(set);
	rs_db_close(other);
	rs_db_close(db);
}

static void
test_set_data(void)
{
	struct rs_policy_set	*set = NULL;
	char			 org[RS_ID_MAX];
	struct rs_db		*db = fixture_db_org(dir, &ndb, org);

	TAP_SETUP(put(db, org, "hot", "data.temp > 80", "queue=hot", 100, 1) ==
	    RS_OK);
	TAP_IS_STR(queue(&set, db, org, 11, "x", "{\"temp\":95}"), "hot",
	    "set: data.<key> is read from the record's data");
	TAP_IS_STR(queue(&set, db, org, 11, "x", "{\"temp\":20}"), "default",
	    "set: and compared");
	TAP_IS_STR(queue(&set, db, org, 2, "x", "{}"), "default",
	    "set: a missing key does not match");
	TAP_IS_STR(queue(&set, db, org, 2, "x", NULL), "default",
	    "set: nor does no data");
	rs_policy_set_free(set);
	rs_db_close(db);
}

/* More orgs than a process keeps: each still gets its own choice. */
static void
test_set_many_orgs(void)
{
	struct rs_policy_set	*set = NULL;
	char			 orgs[RS_POLICY_SET_ORGS + 3][RS_ID_MAX];
	char			 q[32];
	struct rs_db		*db;
	int			 i, round, wrong = 0;

	db = fixture_db_org(dir, &ndb, orgs[0]);
	for (i = 1; i < RS_POLICY_SET_ORGS + 3; i++)
		TAP_SETUP(rs_admin_org_create(db, "Other", 120, orgs[i]) ==
		    RS_OK);
	for (i = 0; i < RS_POLICY_SET_ORGS + 3; i++) {
		snprintf(q, sizeof(q), "queue=q%d", i);
		TAP_SETUP(put(db, orgs[i], "all", "true", q, 100, 1) == RS_OK);
	}
	for (round = 0; round < 2; round++)
		for (i = 0; i < RS_POLICY_SET_ORGS + 3; i++) {
			snprintf(q, sizeof(q), "q%d", i);
			if (strcmp(queue(&set, db, orgs[i], 1, "x", NULL),
			    q) != 0)
				wrong++;
		}
	TAP_IS_INT(wrong, 0, "set: past RS_POLICY_SET_ORGS orgs, each org "
	    "still gets its own policies' choice");
	rs_policy_set_free(set);
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(13);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-polset") == 0);
	rs_arena_init(&arena);

	test_set_defaults();
	test_set_order_and_reload();
	test_set_data();
	test_set_many_orgs();

	rs_arena_free(&arena);
	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
