/*
 * whocache.h: who holds a key, as this process last read it from the
 * database, so that a request need not read it again (auth.c). A small
 * table in the process (struct rs_app owns it), one slot per key id by
 * hash; a newer key in a taken slot replaces the older.
 *
 * An entry is good while two things hold: the pool's generation word
 * (ratelimit.h) is the one read before the entry was read from the
 * database, and it is younger than RS_SHARED_TTL_MS (limits.h). Every commit that
 * changes a holder steps the word on (db.h: rs_db_note_shared), so a
 * revocation, a role or status change or an org's new rate reaches every
 * process at its next request; the age bound covers a change the word
 * missed (a process killed between its commit and the step, the
 * database changed by hand). Only live holders are kept: a refused
 * token is looked up every time. Core: no request, no database.
 */
#ifndef RS_WHOCACHE_H
#define RS_WHOCACHE_H

#include <stdint.h>

#include "limits.h"
#include "id.h"
#include "role.h"

#define RS_WHOCACHE_SLOTS	64

/* What is kept of a holder (store_keys.h reads it). */
struct rs_whocache_holder {
	const char	*email;
	enum rs_role	 role;
	int64_t		 last_sync_at;		/* ms, 0: never */
	int		 rate_limit;
};

struct rs_whocache_entry {
	char		 key_id[RS_ID_MAX];	/* "": a free slot */
	char		 org_id[RS_ID_MAX];
	char		 user_id[RS_ID_MAX];
	char		 email[RS_MAX_EMAIL + 1];
	enum rs_role	 role;
	int64_t		 last_sync_at;		/* ms, 0: never */
	int		 rate_limit;
	uint64_t	 gen;			/* the word before the read */
	int64_t		 read_ms;		/* when it was read */
};

struct rs_whocache {
	struct rs_whocache_entry e[RS_WHOCACHE_SLOTS];
};

/*
 * The entry of key_id of user uid of org, if still good at generation
 * gen and time now_ms (any clock that only goes forward); else NULL.
 */
const struct rs_whocache_entry *rs_whocache_get(struct rs_whocache *c,
		    const char *key_id, const char *org, const char *uid,
		    uint64_t gen, int64_t now_ms);
/*
 * Keeps h as the holder of key_id of user uid of org, read from the
 * database at now_ms after the word was gen. One whose ids or email do
 * not fit an entry is not kept.
 */
void		 rs_whocache_put(struct rs_whocache *c, const char *key_id,
		    const char *org, const char *uid,
		    const struct rs_whocache_holder *h, uint64_t gen,
		    int64_t now_ms);
/* This process wrote user uid's last_sync_at: its entries say so. */
void		 rs_whocache_synced(struct rs_whocache *c, const char *uid,
		    int64_t at_ms);
/* Forgets every entry. */
void		 rs_whocache_clear(struct rs_whocache *c);

#endif /* RS_WHOCACHE_H */
