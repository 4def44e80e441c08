/*
 * test-whocache: what a process keeps of a key's holder between
 * requests (lib/whocache.h): found only for the same key, org and user,
 * only at the generation it was read at and for RS_SHARED_TTL_MS; ids or
 * an email too long to keep are not kept; a key in a taken slot replaces
 * the older; this process's own last_sync_at write shows; clear forgets.
 */
#include <stdio.h>
#include <string.h>

#include "whocache.h"
#include "tap.h"

#define KEY	"key_01JD5Q9X0000000000000000"
#define ORG	"org_01JD5Q9X0000000000000000"
#define USR	"usr_01JD5Q9X0000000000000000"
#define T0	1000000

static struct rs_whocache	 c;

static const struct rs_whocache_holder	 admin = {
	"ada@example.com", RS_ROLE_ADMIN, 0, 20
};

static void
test_whocache_found(void)
{
	const struct rs_whocache_entry	*e;

	rs_whocache_clear(&c);
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 7, T0) == NULL,
	    "found: nothing in an empty cache");
	rs_whocache_put(&c, KEY, ORG, USR, &admin, 7, T0);
	e = rs_whocache_get(&c, KEY, ORG, USR, 7, T0 + 10);
	TAP_OK(e != NULL && strcmp(e->email, "ada@example.com") == 0 &&
	    e->role == RS_ROLE_ADMIN && e->rate_limit == 20 &&
	    e->last_sync_at == 0, "found: the holder as put");
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 8, T0 + 10) == NULL,
	    "found: not once the generation moved on");
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 6, T0 + 10) == NULL,
	    "found: nor at another generation behind");
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 7,
	    T0 + RS_SHARED_TTL_MS - 1) != NULL,
	    "found: until just before its age bound");
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 7,
	    T0 + RS_SHARED_TTL_MS) == NULL, "found: not at its age bound");
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 7, T0 - 1) == NULL,
	    "found: not when the clock reads earlier than the read");
	TAP_OK(rs_whocache_get(&c, KEY, "org_01JD5Q9X0000000000000001", USR,
	    7, T0) == NULL, "found: not for the same key id in another org");
	TAP_OK(rs_whocache_get(&c, KEY, ORG, "usr_01JD5Q9X0000000000000001",
	    7, T0) == NULL, "found: nor for another user");
	TAP_OK(rs_whocache_get(&c, "key_01JD5Q9X0000000000000001", ORG, USR,
	    7, T0) == NULL, "found: nor for another key");
}

static void
test_whocache_refused(void)
{
	struct rs_whocache_holder	 h = admin;
	char				 longer[RS_MAX_EMAIL + 2];
	char				 id[RS_ID_MAX + 1];

	rs_whocache_clear(&c);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	h.email = longer;
	rs_whocache_put(&c, KEY, ORG, USR, &h, 1, T0);
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 1, T0) == NULL,
	    "refused: an email longer than an entry holds is not kept");
	memset(id, 'k', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	rs_whocache_put(&c, id, ORG, USR, &admin, 1, T0);
	TAP_OK(rs_whocache_get(&c, id, ORG, USR, 1, T0) == NULL,
	    "refused: a key id longer than an entry holds is not kept");
	rs_whocache_put(&c, "", ORG, USR, &admin, 1, T0);
	TAP_OK(rs_whocache_get(&c, "", ORG, USR, 1, T0) == NULL,
	    "refused: an empty key id is not kept");
}

static void
test_whocache_slots(void)
{
	struct rs_whocache_holder	 h = admin;
	char				 k[RS_ID_MAX];
	const struct rs_whocache_entry	*e;
	int				 i, kept = 0, other = -1;

	rs_whocache_clear(&c);
	rs_whocache_put(&c, KEY, ORG, USR, &admin, 1, T0);
	/* Some key among enough others lands in KEY's slot. */
	for (i = 0; i < 100 * RS_WHOCACHE_SLOTS && other == -1; i++) {
		snprintf(k, sizeof(k), "key_%026d", i);
		h.role = RS_ROLE_VIEWER;
		rs_whocache_put(&c, k, ORG, USR, &h, 1, T0);
		if (rs_whocache_get(&c, KEY, ORG, USR, 1, T0) == NULL)
			other = i;
	}
	TAP_OK(other != -1, "slots: a key in a taken slot replaces the "
	    "older one");
	e = rs_whocache_get(&c, k, ORG, USR, 1, T0);
	TAP_OK(e != NULL && e->role == RS_ROLE_VIEWER,
	    "slots: and is found itself");
	rs_whocache_clear(&c);
	for (i = 0; i < RS_WHOCACHE_SLOTS; i++) {
		snprintf(k, sizeof(k), "key_%026d", i);
		rs_whocache_put(&c, k, ORG, USR, &admin, 1, T0);
	}
	for (i = 0; i < RS_WHOCACHE_SLOTS; i++) {
		snprintf(k, sizeof(k), "key_%026d", i);
		kept += rs_whocache_get(&c, k, ORG, USR, 1, T0) != NULL;
	}
	tap_diag("%d of %d keys kept side by side", kept, RS_WHOCACHE_SLOTS);
	TAP_OK(kept > RS_WHOCACHE_SLOTS / 2,
	    "slots: most of as many keys as slots are kept at once");
}

static void
test_whocache_synced(void)
{
	const struct rs_whocache_entry	*e;

	rs_whocache_clear(&c);
	rs_whocache_put(&c, KEY, ORG, USR, &admin, 3, T0);
	rs_whocache_put(&c, "key_01JD5Q9X0000000000000009", ORG,
	    "usr_01JD5Q9X0000000000000009", &admin, 3, T0);
	rs_whocache_synced(&c, USR, 123456);
	e = rs_whocache_get(&c, KEY, ORG, USR, 3, T0);
	TAP_OK(e != NULL && e->last_sync_at == 123456,
	    "synced: the user's entry says when it last synced");
	e = rs_whocache_get(&c, "key_01JD5Q9X0000000000000009", ORG,
	    "usr_01JD5Q9X0000000000000009", 3, T0);
	TAP_OK(e != NULL && e->last_sync_at == 0,
	    "synced: another user's entry is unchanged");
	rs_whocache_clear(&c);
	TAP_OK(rs_whocache_get(&c, KEY, ORG, USR, 3, T0) == NULL,
	    "clear: forgets every entry");
}

int
main(void)
{
	tap_plan(10 + 3 + 3 + 3);
	test_whocache_found();
	test_whocache_refused();
	test_whocache_slots();
	test_whocache_synced();
	return tap_done();
}
