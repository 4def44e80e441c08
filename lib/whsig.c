/*
 * whsig.c: webhook secrets (whsec_ + base64), their sealing under the
 * server's webhook subkey, and Standard Webhooks signatures. See whsig.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "whsig.h"

#define RS_WHSIG_PREFIX		"whsec_"
#define RS_WHSIG_PREFIX_LEN	6
/* The standard base64 (with padding) of RS_WHSIG_KEY bytes: 44 characters. */
#define RS_WHSIG_B64_LEN	(sodium_base64_ENCODED_LEN(RS_WHSIG_KEY, \
				    sodium_base64_VARIANT_ORIGINAL) - 1)

void
rs_whsig_secret_text(const unsigned char key[RS_WHSIG_KEY], char *text,
    size_t textsz)
{
	if (textsz < RS_WHSIG_PREFIX_LEN + RS_WHSIG_B64_LEN + 1) {
		/* A caller's bug: never hand out a truncated secret. */
		if (textsz > 0)
			text[0] = '\0';
		return;
	}
	memcpy(text, RS_WHSIG_PREFIX, RS_WHSIG_PREFIX_LEN);
	sodium_bin2base64(text + RS_WHSIG_PREFIX_LEN,
	    textsz - RS_WHSIG_PREFIX_LEN, key, RS_WHSIG_KEY,
	    sodium_base64_VARIANT_ORIGINAL);
}

void
rs_whsig_secret_new(char *text, size_t textsz, unsigned char key[RS_WHSIG_KEY])
{
	randombytes_buf(key, RS_WHSIG_KEY);
	rs_whsig_secret_text(key, text, textsz);
}

enum rs_err
rs_whsig_secret_decode(const char *text, unsigned char key[RS_WHSIG_KEY])
{
	const char	*end;
	size_t		 len, bin = 0;

	if (strncmp(text, RS_WHSIG_PREFIX, RS_WHSIG_PREFIX_LEN) != 0)
		return RS_ERR_INVAL;
	text += RS_WHSIG_PREFIX_LEN;
	len = strlen(text);
	/* Exactly 44 characters, no spaces (ignore = NULL), nothing after. */
	if (len != RS_WHSIG_B64_LEN ||
	    sodium_base642bin(key, RS_WHSIG_KEY, text, len, NULL, &bin, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin != RS_WHSIG_KEY || end != text + len) {
		sodium_memzero(key, RS_WHSIG_KEY);
		return RS_ERR_INVAL;
	}
	return RS_OK;
}

void
rs_whsig_seal(const unsigned char sealkey[32],
    const unsigned char key[RS_WHSIG_KEY], unsigned char out[RS_WHSIG_SEALED])
{
	/* The nonce first, then the box (MAC and ciphertext). A random
	 * 24-byte nonce never repeats in practice, so one key seals many. */
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, key,
	    RS_WHSIG_KEY, out, sealkey);
}

enum rs_err
rs_whsig_open(const unsigned char sealkey[32], const unsigned char *sealed,
    size_t len, unsigned char key[RS_WHSIG_KEY])
{
	if (len != RS_WHSIG_SEALED)
		return RS_ERR_INVAL;
	if (crypto_secretbox_open_easy(key, sealed + crypto_secretbox_NONCEBYTES,
	    len - crypto_secretbox_NONCEBYTES, sealed, sealkey) != 0) {
		sodium_memzero(key, RS_WHSIG_KEY);
		return RS_ERR_INVAL;
	}
	return RS_OK;
}

void
rs_whsig_sign(const unsigned char key[RS_WHSIG_KEY], const char *id,
    int64_t ts, const char *body, size_t len, char *out, size_t outsz)
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 mac[crypto_auth_hmacsha256_BYTES];
	char				 tsbuf[32];
	int				 n;

	if (outsz < 3 + sodium_base64_ENCODED_LEN(sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL)) {
		if (outsz > 0)
			out[0] = '\0';	/* a caller's bug: no half signature */
		return;
	}
	n = snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
	/* The signed content "<id>.<ts>.<body>", streamed: no copy of body. */
	crypto_auth_hmacsha256_init(&st, key, RS_WHSIG_KEY);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf,
	    (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, outsz - 3, mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(mac, sizeof(mac));
}
