/*
 * idem.h: Idempotency-Key, per org. The key row is written inside the
 * same BEGIN IMMEDIATE transaction as the change it guards, together
 * with the answer, so two processes racing on one key cannot both write:
 * the second waits for the lock and then finds the answer to replay.
 * A request is identified by a hash over its method, path and canonical
 * JSON body; keys older than RS_IDEM_TTL_MS are ignored.
 */
#ifndef RS_IDEM_H
#define RS_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json_object;
struct rs_arena;
struct rs_db;

#define RS_IDEM_KEY_MAX		255
#define RS_IDEM_HASH_BYTES	32
#define RS_IDEM_TTL_MS		(24LL * 3600 * 1000)

struct rs_idem {
	const char	*key;		/* NULL: the request has none */
	unsigned char	 hash[RS_IDEM_HASH_BYTES];
};

/* A stored answer. Strings live in the arena given to rs_idem_find(). */
struct rs_idem_answer {
	int		 status;
	const char	*headers;	/* "Name: value\n" lines */
	const char	*body;
};

enum rs_idem_found {
	RS_IDEM_NEW,		/* go ahead, then rs_idem_store() */
	RS_IDEM_REPLAY,		/* same request seen: answer with *ans */
	RS_IDEM_MISMATCH,	/* same key, another request: 422 */
	RS_IDEM_ERROR,
};

/*
 * Normalises an Idempotency-Key header value: 1..255 characters of
 * 0x21..0x7e, and the quoted form "abc" means abc. Returns the key (in
 * arena) or NULL when malformed.
 */
const char	*rs_idem_key(struct rs_arena *a, const char *header);
/*
 * Fills id->hash for the request: method, path, If-Match (may be NULL)
 * and the canonical body (may be NULL).
 */
void		 rs_idem_hash(struct rs_idem *id, const char *method,
		    const char *path, const char *if_match,
		    struct json_object *body);
/* Inside the write transaction: has this org seen the key? */
enum rs_idem_found rs_idem_find(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_idem *id, int64_t now,
		    struct rs_idem_answer *ans);
/* Inside the write transaction: remembers the answer for the key. */
enum rs_err	 rs_idem_store(struct rs_db *db, const char *org,
		    const struct rs_idem *id, int64_t now,
		    const struct rs_idem_answer *ans);

#endif /* RS_IDEM_H */
