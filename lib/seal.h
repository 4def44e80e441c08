/*
 * seal.h: opaque strings the server hands out and must get back intact
 * (access tokens, list cursors, sync tokens):
 *     TAG "." b64url(payload) "." b64url(HMAC-SHA-512-256(key, TAG "." b64url(payload)))
 * The tag names the kind ("rst1", "rsc1", "rss1") so one kind can never
 * be passed off as another; the payload is read only after the MAC has
 * been checked in constant time.
 */
#ifndef RS_SEAL_H
#define RS_SEAL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define RS_SEAL_PAYLOAD_MAX	256

/* Writes the sealed form of payload into out; RS_ERR_RANGE if too small. */
enum rs_err	rs_seal(const unsigned char key[32], const char *tag,
		    const char *payload, char *out, size_t outsz);
/*
 * Checks sealed and copies its payload (NUL-terminated) into payload.
 * Returns the payload's length, or -1 for anything malformed or forged.
 */
ssize_t		rs_seal_open(const unsigned char key[32], const char *tag,
		    const char *sealed, char *payload, size_t payloadsz);
/*
 * Splits s in place at each '\n' into exactly n fields; 0, or -1 when
 * the count differs.
 */
int		rs_seal_fields(char *s, char **f, size_t n);

#endif /* RS_SEAL_H */
