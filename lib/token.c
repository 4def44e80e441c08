#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "codec.h"
#include "config.h"
#include "token.h"

#define RS_TOKEN_HEAD		"rst1."
#define RS_TOKEN_PAYLOAD_MAX	256

enum rs_err
rs_token_mint(const unsigned char subkey[32], const struct rs_token *t,
    char *out, size_t outsz)
{
	char		 payload[RS_TOKEN_PAYLOAD_MAX];
	unsigned char	 tag[crypto_auth_BYTES];
	int		 n;
	size_t		 len;

	n = snprintf(payload, sizeof(payload), "%s\n%s\n%s\n%s\n%" PRId64,
	    t->org_id, t->user_id, t->key_id, rs_role_name(t->role), t->exp);
	if (n < 0 || (size_t)n >= sizeof(payload) ||
	    outsz < sizeof(RS_TOKEN_HEAD) + RS_B64URL_LEN((size_t)n) + 1 +
	    RS_B64URL_LEN(sizeof(tag)) + 1)
		return RS_ERR_RANGE;
	strcpy(out, RS_TOKEN_HEAD);
	len = strlen(out);
	len += (size_t)rs_codec_b64url_encode(out + len, outsz - len,
	    (const unsigned char *)payload, (size_t)n);
	crypto_auth(tag, (const unsigned char *)out, len, subkey);
	out[len++] = '.';
	rs_codec_b64url_encode(out + len, outsz - len, tag, sizeof(tag));
	return RS_OK;
}

/* Splits the verified payload into t; -1 when a field is malformed. */
static int
rs_token_fields(char *payload, struct rs_token *t)
{
	char		*f[5], *p = payload;
	size_t		 i;
	long long	 exp;

	for (i = 0; i < 5; i++) {
		f[i] = p;
		if (i < 4) {
			if ((p = strchr(p, '\n')) == NULL)
				return -1;
			*p++ = '\0';
		}
	}
	if (!rs_id_valid(f[0], "org_") || !rs_id_valid(f[1], "usr_") ||
	    !rs_id_valid(f[2], "key_") || (t->role = rs_role_parse(f[3])) == 0 ||
	    rs_config_num(f[4], 0, INT64_MAX, &exp) != 0)
		return -1;
	strcpy(t->org_id, f[0]);
	strcpy(t->user_id, f[1]);
	strcpy(t->key_id, f[2]);
	t->exp = exp;
	return 0;
}

enum rs_err
rs_token_verify(const unsigned char subkey[32], const char *tok,
    int64_t now, struct rs_token *t)
{
	unsigned char	 tag[crypto_auth_BYTES];
	char		 payload[RS_TOKEN_PAYLOAD_MAX];
	const char	*dot;
	size_t		 len = strlen(tok), headlen;
	ssize_t		 n;

	memset(t, 0, sizeof(*t));
	if (len > RS_MAX_TOKEN || strncmp(tok, RS_TOKEN_HEAD,
	    sizeof(RS_TOKEN_HEAD) - 1) != 0 ||
	    (dot = strrchr(tok, '.')) == NULL ||
	    dot < tok + sizeof(RS_TOKEN_HEAD) - 1)
		return RS_ERR_CRYPTO;
	headlen = (size_t)(dot - tok);
	if (rs_codec_b64url_decode(tag, sizeof(tag), dot + 1,
	    len - headlen - 1) != (ssize_t)sizeof(tag) ||
	    crypto_auth_verify(tag, (const unsigned char *)tok, headlen,
	    subkey) != 0)
		return RS_ERR_CRYPTO;
	n = rs_codec_b64url_decode((unsigned char *)payload,
	    sizeof(payload) - 1, tok + sizeof(RS_TOKEN_HEAD) - 1,
	    headlen - (sizeof(RS_TOKEN_HEAD) - 1));
	if (n < 0)
		return RS_ERR_CRYPTO;
	payload[n] = '\0';
	if (rs_token_fields(payload, t) != 0)
		return RS_ERR_CRYPTO;
	return t->exp <= now ? RS_ERR_RANGE : RS_OK;
}
