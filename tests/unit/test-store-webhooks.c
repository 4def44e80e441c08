/*
 * test-store-webhooks: webhook endpoints (lib/store_webhooks.h), in SQLite
 * and, with RS_TEST_PG, PostgreSQL:
 * create (id, from_event = the org's event count, the sealed secret kept
 * as given), the per-org cap, get and by_seq, paging by seq, the enabled
 * list, update (the disabled_reason rules), the secret replaced, delete,
 * the worker's disable, and the scoping by org. Each test has its own
 * migrated database file in a mkdtemp directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "admin.h"
#include "arena.h"
#include "db.h"
#include "id.h"
#include "store_webhooks.h"
#define FIXTURE_BOTH	/* store_webhooks_pg.c too, with RS_TEST_PG */
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */
#define URL	"https://hooks.example.com/h"
#define EVENTS	"[\"record.created\",\"record.synced\"]"

static char		 dir[64];
static int		 ndb;		/* databases made so far */
static struct rs_arena	 arena;

/* A new migrated database with org "Acme" (its id into org). */
static struct rs_db *
db_new(char org[RS_ID_MAX])
{
	return fixture_db_org(dir, &ndb, org);
}

/* Creates an endpoint for org in a transaction of its own, into *w. */
static enum rs_err
create(struct rs_db *db, const char *org, const char *url,
    const char *description, int64_t now, struct rs_store_webhook *w)
{
	enum rs_err	 rc;

	memset(w, 0, sizeof(*w));
	w->url = url;
	w->events = EVENTS;
	w->description = description;
	randombytes_buf(w->secret, sizeof(w->secret));
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_webhooks_create(db, org, w, now)) != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

/* Sets org's event count (orgs.event_seq) to n. */
static void
set_event_seq(struct rs_db *db, const char *org, int n)
{
	char	 q[160];

	snprintf(q, sizeof(q), "UPDATE orgs SET event_seq = %d WHERE id = "
	    "'%s'", n, org);
	TAP_SETUP(rs_db_exec(db, q) == RS_OK);
}

static void
test_webhooks_create(void)
{
	struct rs_store_webhook	 w, g, b;
	struct rs_db		*db;
	char			 org[RS_ID_MAX];

	db = db_new(org);
	set_event_seq(db, org, 7);
	TAP_IS_INT(create(db, org, URL, NULL, NOW_MS, &w), RS_OK,
	    "test_webhooks_create: created");
	TAP_OK(rs_id_valid(w.id, "whk_"), "test_webhooks_create: whk_ id");
	TAP_OK(w.seq > 0, "test_webhooks_create: a seq");
	TAP_IS_INT(w.from_event, 7,
	    "test_webhooks_create: from_event is the org's event count");
	TAP_IS_STR(w.org, org, "test_webhooks_create: the org");
	TAP_IS_INT(rs_store_webhooks_get(db, &arena, org, w.id, &g), RS_OK,
	    "test_webhooks_create: get");
	TAP_OK(strcmp(g.url, URL) == 0 && strcmp(g.events, EVENTS) == 0 &&
	    g.description == NULL && g.enabled == 1 &&
	    g.disabled_reason == NULL,
	    "test_webhooks_create: url, events, no description, enabled");
	TAP_OK(memcmp(g.secret, w.secret, sizeof(w.secret)) == 0,
	    "test_webhooks_create: the sealed secret as given");
	TAP_OK(g.created_at == NOW_MS && g.updated_at == NOW_MS &&
	    g.from_event == 7 && g.seq == w.seq,
	    "test_webhooks_create: times, from_event and seq stored");
	TAP_IS_INT(rs_store_webhooks_by_seq(db, &arena, w.seq, &b), RS_OK,
	    "test_webhooks_create: by_seq");
	TAP_IS_STR(b.id, w.id, "test_webhooks_create: by_seq's id");
	TAP_IS_INT(rs_store_webhooks_by_seq(db, &arena, w.seq + 100, &b),
	    RS_ERR_NOTFOUND, "test_webhooks_create: by_seq unknown");
	TAP_IS_INT(create(db, "org_nosuchorg", URL, NULL, NOW_MS, &w),
	    RS_ERR_NOTFOUND, "test_webhooks_create: unknown org");
	TAP_IS_INT(create(db, org, URL, "for the ops team", NOW_MS, &w), RS_OK,
	    "test_webhooks_create: with a description");
	TAP_OK(rs_store_webhooks_get(db, &arena, org, w.id, &g) == RS_OK &&
	    g.description != NULL &&
	    strcmp(g.description, "for the ops team") == 0,
	    "test_webhooks_create: the description stored");
	rs_db_close(db);
}

static void
test_webhooks_cap(void)
{
	struct rs_store_webhook	 w;
	struct rs_db		*db;
	char			 org[RS_ID_MAX], orgb[RS_ID_MAX];
	size_t			 n;
	int			 i, ok = 1;

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, orgb) == RS_OK);
	for (i = 0; i < RS_STORE_WEBHOOKS_MAX; i++)
		ok &= create(db, org, URL, NULL, NOW_MS, &w) == RS_OK;
	TAP_OK(ok, "test_webhooks_cap: 16 endpoints");
	TAP_IS_INT(create(db, org, URL, NULL, NOW_MS, &w), RS_ERR_RANGE,
	    "test_webhooks_cap: the 17th is refused");
	TAP_IS_INT(create(db, orgb, URL, NULL, NOW_MS, &w), RS_OK,
	    "test_webhooks_cap: another org is not capped by it");
	TAP_SETUP(rs_store_webhooks_list(db, &arena, org, 0, 1, &w, &n) ==
	    RS_OK && n == 1);
	TAP_SETUP(rs_db_begin(db) == RS_OK);
	TAP_IS_INT(rs_store_webhooks_delete(db, &arena, org, w.id, NULL),
	    RS_OK, "test_webhooks_cap: delete one");
	TAP_SETUP(rs_db_commit(db) == RS_OK);
	TAP_IS_INT(create(db, org, URL, NULL, NOW_MS, &w), RS_OK,
	    "test_webhooks_cap: then one more fits");
	rs_db_close(db);
}

static void
test_webhooks_list(void)
{
	struct rs_store_webhook	 w[5], rows[8];
	struct rs_db		*db;
	char			 org[RS_ID_MAX], orgb[RS_ID_MAX];
	size_t			 n;
	int			 i;

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, orgb) == RS_OK);
	for (i = 0; i < 5; i++)
		TAP_SETUP(create(db, i == 2 ? orgb : org, URL, NULL,
		    NOW_MS + i, &w[i]) == RS_OK);
	TAP_IS_INT(rs_store_webhooks_list(db, &arena, org, 0, 8, rows, &n),
	    RS_OK, "test_webhooks_list: list");
	TAP_IS_INT(n, 4, "test_webhooks_list: the org's four");
	TAP_OK(strcmp(rows[0].id, w[0].id) == 0 &&
	    strcmp(rows[1].id, w[1].id) == 0 &&
	    strcmp(rows[2].id, w[3].id) == 0,
	    "test_webhooks_list: oldest first, another org's left out");
	TAP_IS_INT(rs_store_webhooks_list(db, &arena, org, 0, 2, rows, &n),
	    RS_OK, "test_webhooks_list: a page of two");
	TAP_IS_INT(n, 2, "test_webhooks_list: two");
	TAP_IS_INT(rs_store_webhooks_list(db, &arena, org, rows[1].seq, 2,
	    rows, &n), RS_OK, "test_webhooks_list: the next page");
	TAP_OK(n == 2 && strcmp(rows[0].id, w[3].id) == 0 &&
	    strcmp(rows[1].id, w[4].id) == 0,
	    "test_webhooks_list: after the seq");
	TAP_IS_INT(rs_store_webhooks_list(db, &arena, org, rows[1].seq, 2,
	    rows, &n), RS_OK, "test_webhooks_list: past the end");
	TAP_IS_INT(n, 0, "test_webhooks_list: nothing more");
	rs_db_close(db);
}

static void
test_webhooks_update(void)
{
	struct rs_store_webhook	 w, u, rows[4];
	struct rs_db		*db;
	char			 org[RS_ID_MAX], orgb[RS_ID_MAX];
	size_t			 n;

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, orgb) == RS_OK);
	TAP_SETUP(create(db, org, URL, "d", NOW_MS, &w) == RS_OK);
	TAP_IS_INT(rs_store_webhooks_disable(db, w.seq, "the endpoint answered "
	    "410 Gone", NOW_MS + 1), RS_OK, "test_webhooks_disable: disable");
	TAP_OK(rs_store_webhooks_get(db, &arena, org, w.id, &u) == RS_OK &&
	    !u.enabled && u.disabled_reason != NULL &&
	    strcmp(u.disabled_reason, "the endpoint answered 410 Gone") == 0 &&
	    u.updated_at == NOW_MS + 1,
	    "test_webhooks_disable: disabled with its reason");
	TAP_IS_INT(rs_store_webhooks_enabled(db, &arena, org, rows, &n), RS_OK,
	    "test_webhooks_enabled: list");
	TAP_IS_INT(n, 0, "test_webhooks_enabled: a disabled one is left out");
	TAP_IS_INT(rs_store_webhooks_disable(db, w.seq + 50, "x", NOW_MS),
	    RS_ERR_NOTFOUND, "test_webhooks_disable: unknown seq");

	/* Still disabled, a new reason offered: the worker's stays. */
	u.url = "https://other.example.com/";
	u.description = NULL;
	u.disabled_reason = "by an admin";
	TAP_IS_INT(rs_store_webhooks_update(db, &arena, org, &u, NOW_MS + 2),
	    RS_OK, "test_webhooks_update: update while disabled");
	TAP_OK(!u.enabled && u.disabled_reason != NULL &&
	    strcmp(u.disabled_reason, "the endpoint answered 410 Gone") == 0 &&
	    strcmp(u.url, "https://other.example.com/") == 0 &&
	    u.description == NULL && u.updated_at == NOW_MS + 2 &&
	    u.created_at == NOW_MS,
	    "test_webhooks_update: new url, no description, reason kept");
	u.enabled = 1;
	u.disabled_reason = "ignored";
	TAP_IS_INT(rs_store_webhooks_update(db, &arena, org, &u, NOW_MS + 3),
	    RS_OK, "test_webhooks_update: enable");
	TAP_OK(u.enabled && u.disabled_reason == NULL,
	    "test_webhooks_update: enabling clears the reason");
	TAP_OK(rs_store_webhooks_enabled(db, &arena, org, rows, &n) == RS_OK &&
	    n == 1 && strcmp(rows[0].id, w.id) == 0,
	    "test_webhooks_enabled: back in the enabled list");
	u.enabled = 0;
	u.disabled_reason = NULL;
	TAP_IS_INT(rs_store_webhooks_update(db, &arena, org, &u, NOW_MS + 4),
	    RS_OK, "test_webhooks_update: disable");
	TAP_OK(!u.enabled && u.disabled_reason == NULL,
	    "test_webhooks_update: disabled with the reason given (none)");
	TAP_IS_INT(rs_store_webhooks_update(db, &arena, orgb, &u, NOW_MS + 5),
	    RS_ERR_NOTFOUND, "test_webhooks_update: another org's");
	rs_db_close(db);
}

static void
test_webhooks_secret_delete(void)
{
	struct rs_store_webhook	 w, g, d;
	struct rs_db		*db;
	unsigned char		 sealed[RS_WHSIG_SEALED];
	char			 org[RS_ID_MAX], orgb[RS_ID_MAX];

	db = db_new(org);
	TAP_SETUP(rs_admin_org_create(db, "Other", 120, orgb) == RS_OK);
	TAP_SETUP(create(db, org, URL, NULL, NOW_MS, &w) == RS_OK);
	randombytes_buf(sealed, sizeof(sealed));
	TAP_IS_INT(rs_store_webhooks_set_secret(db, orgb, w.id, sealed,
	    NOW_MS + 1), RS_ERR_NOTFOUND,
	    "test_webhooks_secret: not through another org");
	TAP_IS_INT(rs_store_webhooks_set_secret(db, org, w.id, sealed,
	    NOW_MS + 1), RS_OK, "test_webhooks_secret: replaced");
	TAP_OK(rs_store_webhooks_get(db, &arena, org, w.id, &g) == RS_OK &&
	    memcmp(g.secret, sealed, sizeof(sealed)) == 0 &&
	    g.updated_at == NOW_MS + 1,
	    "test_webhooks_secret: the new sealed secret stored");
	TAP_IS_INT(rs_store_webhooks_get(db, &arena, orgb, w.id, &g),
	    RS_ERR_NOTFOUND, "test_webhooks_get: another org's is not found");
	TAP_IS_INT(rs_store_webhooks_delete(db, &arena, orgb, w.id, &d),
	    RS_ERR_NOTFOUND, "test_webhooks_delete: not another org's");
	TAP_IS_INT(rs_store_webhooks_delete(db, &arena, org, w.id, &d), RS_OK,
	    "test_webhooks_delete: deleted");
	TAP_OK(strcmp(d.id, w.id) == 0 && d.seq == w.seq &&
	    strcmp(d.url, URL) == 0,
	    "test_webhooks_delete: the row as it was");
	TAP_IS_INT(rs_store_webhooks_get(db, &arena, org, w.id, &g),
	    RS_ERR_NOTFOUND, "test_webhooks_delete: gone");
	TAP_IS_INT(rs_store_webhooks_delete(db, &arena, org, w.id, NULL),
	    RS_ERR_NOTFOUND, "test_webhooks_delete: twice");
	TAP_IS_INT(rs_store_webhooks_set_secret(db, org, w.id, sealed,
	    NOW_MS), RS_ERR_NOTFOUND, "test_webhooks_secret: a deleted one");
	rs_db_close(db);
}

int
main(void)
{
	tap_plan(15 + 5 + 9 + 13 + 10);
	TAP_SETUP(fixture_start(dir, sizeof(dir), "rs-webhooks") == 0);
	rs_arena_init(&arena);

	test_webhooks_create();
	test_webhooks_cap();
	test_webhooks_list();
	test_webhooks_update();
	test_webhooks_secret_delete();

	fixture_db_cleanup(dir, ndb);
	rs_arena_free(&arena);
	return tap_done();
}
