/*
 * secret.h: the server secret, a 32-byte master key kept as 64 hex
 * characters in a 0600 file, and the purpose-bound keys derived from it
 * (libsodium crypto_kdf). The master key never leaves this module's
 * callers' memory except through derivation; wipe copies with
 * sodium_memzero.
 */
#ifndef RS_SECRET_H
#define RS_SECRET_H

#include "err.h"

#define RS_SECRET_BYTES	32

/* Subkey ids and their 8-character contexts. */
enum rs_secret_use {
	RS_SECRET_APIKEY = 1,	/* "rs_apike": hashing API keys */
	RS_SECRET_TOKEN = 2,	/* "rs_token": MAC of access tokens */
	RS_SECRET_CURSOR = 3,	/* "rs_cursr": MAC of list cursors */
	RS_SECRET_INVITE = 4,	/* "rs_invit": hashing invite tokens */
	RS_SECRET_WEBHOOK = 5,	/* "rs_whsec": sealing webhook secrets */
};

/* Creates path with a fresh secret (mode 0600); RS_ERR_EXISTS if present. */
enum rs_err	rs_secret_create(const char *path);
/* Reads the master key from path. */
enum rs_err	rs_secret_load(const char *path,
		    unsigned char key[RS_SECRET_BYTES]);
/* Derives the subkey for use from the master key. */
void		rs_secret_derive(const unsigned char master[RS_SECRET_BYTES],
		    enum rs_secret_use use, unsigned char out[RS_SECRET_BYTES]);

#endif /* RS_SECRET_H */
