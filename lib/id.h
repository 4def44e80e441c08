/*
 * id.h: opaque ids with a type prefix. The body is 16 random bytes in
 * lower-case base32 (26 characters), or a ULID (rs_id_new_sorted).
 *
 * The prefixes: org_ (orgs), usr_ (users), key_ (API keys), rec_
 * (records), evt_ (events), job_ (delivery jobs), pol_ (policies),
 * whk_ (webhook endpoints), cfl_ (conflicts, RS_ID_CONFLICT), req_
 * (request ids).
 */
#ifndef RS_ID_H
#define RS_ID_H

#include <stddef.h>
#include <stdint.h>

#define RS_ID_BODY_LEN	26
#define RS_ID_CONFLICT	"cfl_"		/* a conflict's, sorted */
#define RS_ID_MAX	(8 + RS_ID_BODY_LEN + 1)	/* prefix, body, NUL */

/* Writes prefix + random body into out (>= RS_ID_MAX); returns out. */
char	*rs_id_new(char *out, size_t outsz, const char *prefix);
/*
 * Like rs_id_new, but the body is a ULID for time ms (lower case): ids
 * made later sort later, so an index on them grows at its right edge
 * instead of touching a random page per insert. For rows written on the
 * hot path (records, events); it tells the creation time to the holder.
 */
char	*rs_id_new_sorted(char *out, size_t outsz, const char *prefix,
	    int64_t ms);
/* 1 if s is prefix followed by a well-formed body, else 0. */
int	 rs_id_valid(const char *s, const char *prefix);

#endif /* RS_ID_H */
