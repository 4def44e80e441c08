#include <string.h>

#include "whocache.h"

/* FNV-1a of the key id: keys are few per process, slots are cheap. */
static struct rs_whocache_entry *
rs_whocache_slot(struct rs_whocache *c, const char *key_id)
{
	uint32_t	 h = 2166136261u;

	for (; *key_id != '\0'; key_id++)
		h = (h ^ (unsigned char)*key_id) * 16777619u;
	return &c->e[h % RS_WHOCACHE_SLOTS];
}

const struct rs_whocache_entry *
rs_whocache_get(struct rs_whocache *c, const char *key_id, const char *org,
    const char *uid, uint64_t gen, int64_t now_ms)
{
	struct rs_whocache_entry	*e = rs_whocache_slot(c, key_id);

	if (e->key_id[0] == '\0' || strcmp(e->key_id, key_id) != 0 ||
	    strcmp(e->org_id, org) != 0 || strcmp(e->user_id, uid) != 0)
		return NULL;
	/* A clock that went back is as suspect as an old entry. */
	if (e->gen != gen || now_ms < e->read_ms ||
	    now_ms - e->read_ms >= RS_SHARED_TTL_MS)
		return NULL;
	return e;
}

/* Copies s into dst of dstsz: 0, or -1 when it does not fit. */
static int
rs_whocache_copy(char *dst, size_t dstsz, const char *s)
{
	size_t	 n = strlen(s);

	if (n >= dstsz)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

void
rs_whocache_put(struct rs_whocache *c, const char *key_id, const char *org,
    const char *uid, const struct rs_whocache_holder *h, uint64_t gen,
    int64_t now_ms)
{
	struct rs_whocache_entry	 e;

	memset(&e, 0, sizeof(e));
	if (*key_id == '\0' ||
	    rs_whocache_copy(e.key_id, sizeof(e.key_id), key_id) == -1 ||
	    rs_whocache_copy(e.org_id, sizeof(e.org_id), org) == -1 ||
	    rs_whocache_copy(e.user_id, sizeof(e.user_id), uid) == -1 ||
	    rs_whocache_copy(e.email, sizeof(e.email), h->email) == -1)
		return;
	e.role = h->role;
	e.last_sync_at = h->last_sync_at;
	e.rate_limit = h->rate_limit;
	e.gen = gen;
	e.read_ms = now_ms;
	*rs_whocache_slot(c, key_id) = e;
}

void
rs_whocache_synced(struct rs_whocache *c, const char *uid, int64_t at_ms)
{
	size_t	 i;

	for (i = 0; i < RS_WHOCACHE_SLOTS; i++)
		if (c->e[i].key_id[0] != '\0' &&
		    strcmp(c->e[i].user_id, uid) == 0)
			c->e[i].last_sync_at = at_ms;
}

void
rs_whocache_clear(struct rs_whocache *c)
{
	memset(c, 0, sizeof(*c));
}
