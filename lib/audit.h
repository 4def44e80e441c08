/*
 * audit.h: an audit entry (CONTRACT section 7) and its hash chain: the
 * canonical JSON an entry is hashed as, and the hash. Core: no request,
 * no database (store_audit.h keeps the entries, txn.h appends them).
 *
 * Canonical JSON is RFC 8785 (JCS) restricted to what entries hold, so
 * that a third party recomputes it with a key-sorting JSON.stringify:
 * object members sorted by name in UTF-16 code units, no whitespace,
 * strings escaped exactly as ECMAScript's JSON.stringify does (\" \\ \b
 * \f \n \r \t, other U+0000..U+001F as \u00xx in lower-case hex, all
 * else literal UTF-8, "/" not escaped), integers in decimal (at most
 * 2^53 - 1 in magnitude, what a JavaScript number holds exactly), true,
 * false, null. Fractions, and strings that are not UTF-8, are refused:
 * they have no one form a verifier could agree on.
 *
 * hash = lower-case hex BLAKE2b-256 (unkeyed) over the 64 hex characters
 * of prev_hash followed by the canonical JSON of the entry without its
 * "hash" member; an org's first entry has prev_hash 64 "0"s.
 *
 * This is our own serializer on purpose: json-c escapes "/" and
 * control characters otherwise, and would change the bytes hashed.
 */
#ifndef RS_AUDIT_H
#define RS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json_object;

#define RS_AUDIT_HASH_HEX	64	/* hex characters of a hash */
#define RS_AUDIT_INT_MAX	INT64_C(9007199254740991)	/* 2^53 - 1 */
#define RS_AUDIT_ACTION_MAX	40	/* "webhook.rotate_secret" fits */

/* A growing text; p is NUL-terminated once anything was added. */
struct rs_audit_buf {
	char		*p;		/* malloc'd, the caller frees:
					 * rs_audit_buf_free */
	size_t		 len;
	size_t		 cap;
	int		 nomem;		/* an append failed */
};

/* One entry, as GET /v1/audit shows it and as it is hashed. */
struct rs_audit_entry {
	int64_t		 n;		/* the org's seq: 1, 2, 3 ... */
	int64_t		 at;		/* ms since the epoch */
	const char	*org_id;
	const char	*actor_type;	/* "user" or "system" */
	const char	*actor_id;
	const char	*action;	/* "record.create", ... */
	const char	*target;	/* or NULL */
	const char	*request_id;	/* or NULL */
	const char	*ip;		/* or NULL */
	const char	*detail;	/* canonical JSON of an object */
	char		 prev_hash[RS_AUDIT_HASH_HEX + 1];
	char		 hash[RS_AUDIT_HASH_HEX + 1];
};

/* Releases b's text (NULL and an empty b are fine); b is empty after. */
void		 rs_audit_buf_free(struct rs_audit_buf *b);

/*
 * Appends the canonical JSON of v (NULL: null) to b. RS_OK; RS_ERR_INVAL
 * for a fraction or a string that is not UTF-8; RS_ERR_RANGE for an
 * integer beyond RS_AUDIT_INT_MAX or nesting deeper than
 * RS_MAX_JSON_DEPTH; RS_ERR_NOMEM. A value made by rs_json_raw() (json.h)
 * is parsed and written in canonical form. On failure b holds a partial
 * text.
 */
enum rs_err	 rs_audit_canon(struct json_object *v, struct rs_audit_buf *b);
/* Appends s (UTF-8, len bytes) as a canonical JSON string to b. */
enum rs_err	 rs_audit_canon_string(struct rs_audit_buf *b, const char *s,
		    size_t len);
/*
 * The canonical JSON of a detail object (NULL: "{}") into *out,
 * malloc'd, the caller frees. RS_ERR_INVAL when detail is not an object;
 * else as rs_audit_canon().
 */
enum rs_err	 rs_audit_detail(struct json_object *detail, char **out);
/*
 * Whether the facts of e can make an entry: an actor of type "user" or
 * "system" with an id, an action of the form "word.word" ([a-z_], at
 * most RS_AUDIT_ACTION_MAX bytes), an org, n > 0, a detail. RS_OK or
 * RS_ERR_INVAL.
 */
enum rs_err	 rs_audit_check(const struct rs_audit_entry *e);
/*
 * Appends the canonical JSON of e without its "hash" member to b (e's
 * detail is spliced in as it is: it is canonical already). RS_OK,
 * RS_ERR_INVAL (a string that is not UTF-8), RS_ERR_NOMEM.
 */
enum rs_err	 rs_audit_entry_canon(const struct rs_audit_entry *e,
		    struct rs_audit_buf *b);
/*
 * The hash of an entry whose canonical JSON (without "hash") is
 * canon[0..len), after prev_hash (RS_AUDIT_HASH_HEX characters), as hex
 * into hex (RS_AUDIT_HASH_HEX + 1 bytes).
 */
void		 rs_audit_hash(const char *prev_hash, const char *canon,
		    size_t len, char hex[RS_AUDIT_HASH_HEX + 1]);
/*
 * Sets e->hash from e's other members (e->prev_hash included). RS_OK or
 * as rs_audit_entry_canon().
 */
enum rs_err	 rs_audit_seal(struct rs_audit_entry *e);
/* The first entry's prev_hash: RS_AUDIT_HASH_HEX "0"s. */
extern const char rs_audit_genesis[RS_AUDIT_HASH_HEX + 1];

#endif /* RS_AUDIT_H */
