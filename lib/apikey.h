/*
 * apikey.h: API keys ("rs_live_" + 43 base64url characters, 256 bits of
 * randomness) and their keyed BLAKE2b-256 hash, the only form stored.
 */
#ifndef RS_APIKEY_H
#define RS_APIKEY_H

#include <stddef.h>

#define RS_APIKEY_PREFIX	"rs_live_"
#define RS_APIKEY_LEN		(8 + 43)
#define RS_APIKEY_HASH_BYTES	32

/* Writes a fresh key into out (>= RS_APIKEY_LEN + 1 bytes). */
void	rs_apikey_new(char *out, size_t outsz);
/* 1 when key has the shape of a key (it may still be unknown). */
int	rs_apikey_wellformed(const char *key);
/* hash = BLAKE2b-256(key) under the RS_SECRET_APIKEY subkey. */
void	rs_apikey_hash(const unsigned char subkey[32], const char *key,
	    unsigned char hash[RS_APIKEY_HASH_BYTES]);

#endif /* RS_APIKEY_H */
