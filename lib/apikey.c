#include <string.h>

#include <sodium.h>

#include "codec.h"
#include "apikey.h"

void
rs_apikey_new(char *out, size_t outsz)
{
	unsigned char	 raw[32];

	if (outsz < RS_APIKEY_LEN + 1) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, RS_APIKEY_PREFIX, 8);
	rs_codec_b64url_encode(out + 8, outsz - 8, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

int
rs_apikey_wellformed(const char *key)
{
	size_t	 i;

	if (strlen(key) != RS_APIKEY_LEN ||
	    strncmp(key, RS_APIKEY_PREFIX, 8) != 0)
		return 0;
	for (i = 8; key[i] != '\0'; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') ||
		    key[i] == '-' || key[i] == '_'))
			return 0;
	return 1;
}

void
rs_apikey_hash(const unsigned char subkey[32], const char *key,
    unsigned char hash[RS_APIKEY_HASH_BYTES])
{
	crypto_generichash(hash, RS_APIKEY_HASH_BYTES,
	    (const unsigned char *)key, strlen(key), subkey, 32);
}
