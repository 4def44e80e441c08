/*
 * token.h: short-lived access tokens, MAC'd with the RS_SECRET_TOKEN
 * subkey. Form: "rst1." b64url(payload) "." b64url(tag), where payload is
 * "org\nuser\nkey\nrole\nexpiry-unix-seconds" and tag is
 * HMAC-SHA-512-256 over everything before the last dot. Nothing in a
 * token is read before its tag has been checked in constant time.
 */
#ifndef RS_TOKEN_H
#define RS_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "role.h"

struct rs_token {
	char		 org_id[RS_ID_MAX];
	char		 user_id[RS_ID_MAX];
	char		 key_id[RS_ID_MAX];
	enum rs_role	 role;
	int64_t		 exp;		/* Unix seconds */
};

/* Writes the token for t into out; RS_ERR_RANGE when out is too small. */
enum rs_err	rs_token_mint(const unsigned char subkey[32],
		    const struct rs_token *t, char *out, size_t outsz);
/*
 * Checks tok and fills *t. RS_ERR_CRYPTO for anything malformed or
 * forged, RS_ERR_RANGE for a genuine token past its expiry at now.
 */
enum rs_err	rs_token_verify(const unsigned char subkey[32],
		    const char *tok, int64_t now, struct rs_token *t);

#endif /* RS_TOKEN_H */
