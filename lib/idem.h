/*
 * idem.h: what identifies a request under an Idempotency-Key: the key
 * as sent (normalised) and a hash over the method, path, If-Match and
 * canonical JSON body. Pure: store_idem.h keeps keys and answers, and
 * txn.h checks and stores them inside the one write transaction.
 */
#ifndef RS_IDEM_H
#define RS_IDEM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json_object;
struct rs_arena;

#define RS_IDEM_HASH_BYTES	32

struct rs_idem {
	const char	*key;		/* NULL: the request has none */
	unsigned char	 hash[RS_IDEM_HASH_BYTES];
};

/* An answer kept under a key, to be replayed byte for byte. */
struct rs_idem_answer {
	int		 status;
	const char	*headers;	/* "Name: value\n" lines */
	const char	*body;
};

/*
 * Normalises an Idempotency-Key header value: 1..RS_MAX_IDEM_KEY
 * characters of 0x21..0x7e, and the quoted form "abc" means abc.
 * Returns the key (in arena) or NULL when malformed.
 */
const char	*rs_idem_key(struct rs_arena *a, const char *header);
/*
 * Fills id->hash for the request: method, path, If-Match (may be NULL)
 * and the canonical body (may be NULL). RS_OK, or RS_ERR_NOMEM when the
 * body's canonical form cannot be built: a hash without the body would
 * make two different requests look the same.
 */
enum rs_err	 rs_idem_hash(struct rs_idem *id, const char *method,
		    const char *path, const char *if_match,
		    struct json_object *body);

#endif /* RS_IDEM_H */
