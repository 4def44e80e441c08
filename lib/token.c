#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "num.h"
#include "seal.h"
#include "token.h"

#define RS_TOKEN_TAG	"rst1"

enum rs_err
rs_token_mint(const unsigned char subkey[32], const struct rs_token *t,
    char *out, size_t outsz)
{
	char	 payload[RS_SEAL_PAYLOAD_MAX + 1];
	int	 n;

	n = snprintf(payload, sizeof(payload), "%s\n%s\n%s\n%s\n%" PRId64,
	    t->org_id, t->user_id, t->key_id, rs_role_name(t->role), t->exp);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return RS_ERR_RANGE;
	return rs_seal(subkey, RS_TOKEN_TAG, payload, out, outsz);
}

enum rs_err
rs_token_verify(const unsigned char subkey[32], const char *tok,
    int64_t now, struct rs_token *t)
{
	char		 payload[RS_SEAL_PAYLOAD_MAX + 1], *f[5];
	const char	*errstr;

	memset(t, 0, sizeof(*t));
	if (rs_seal_open(subkey, RS_TOKEN_TAG, tok, payload,
	    sizeof(payload)) < 0 || rs_seal_fields(payload, f, 5) != 0 ||
	    !rs_id_valid(f[0], "org_") || !rs_id_valid(f[1], "usr_") ||
	    !rs_id_valid(f[2], "key_") || (t->role = rs_role_parse(f[3])) == 0)
		return RS_ERR_CRYPTO;
	t->exp = rs_num_parse(f[4], 0, INT64_MAX, &errstr);
	if (errstr != NULL)
		return RS_ERR_CRYPTO;
	strcpy(t->org_id, f[0]);
	strcpy(t->user_id, f[1]);
	strcpy(t->key_id, f[2]);
	return t->exp <= now ? RS_ERR_RANGE : RS_OK;
}
