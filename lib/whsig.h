/*
 * whsig.h: webhook secrets and signatures, as the Standard Webhooks
 * specification has them. A secret is "whsec_" followed by the standard
 * base64 (with padding) of RS_WHSIG_KEY random bytes; it is shown to its
 * owner once and kept only sealed (XSalsa20-Poly1305, crypto_secretbox)
 * under a key derived from the server secret (RS_SECRET_WEBHOOK), since
 * the worker must sign with it later. A signature is
 *     "v1," base64(HMAC-SHA-256(key, id "." timestamp "." body))
 * Core: no request, no database. Copies of a key are wiped by the caller
 * with sodium_memzero.
 */
#ifndef RS_WHSIG_H
#define RS_WHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RS_WHSIG_KEY		32	/* secret bytes */
#define RS_WHSIG_SECRET_MAX	64	/* "whsec_" + 44 + NUL, rounded up */
#define RS_WHSIG_SEALED		(24 + 16 + RS_WHSIG_KEY) /* nonce, MAC, key */
#define RS_WHSIG_SIG_MAX	64	/* "v1," + 44 + NUL, rounded up */

/* A fresh secret: its text into text (>= RS_WHSIG_SECRET_MAX), its bytes into key. */
void		rs_whsig_secret_new(char *text, size_t textsz,
		    unsigned char key[RS_WHSIG_KEY]);
/* The text of the secret whose bytes are key, into text (>= RS_WHSIG_SECRET_MAX). */
void		rs_whsig_secret_text(const unsigned char key[RS_WHSIG_KEY],
		    char *text, size_t textsz);
/* key from a secret's text; RS_ERR_INVAL when it is not one. */
enum rs_err	rs_whsig_secret_decode(const char *text,
		    unsigned char key[RS_WHSIG_KEY]);
/* Seals key under sealkey (derived, secret.h) into out, a fresh nonce each time. */
void		rs_whsig_seal(const unsigned char sealkey[32],
		    const unsigned char key[RS_WHSIG_KEY],
		    unsigned char out[RS_WHSIG_SEALED]);
/* Opens sealed (len bytes); RS_ERR_INVAL when it is not ours or was changed. */
enum rs_err	rs_whsig_open(const unsigned char sealkey[32],
		    const unsigned char *sealed, size_t len,
		    unsigned char key[RS_WHSIG_KEY]);
/*
 * The webhook-signature value for message id sent at ts (Unix seconds)
 * with body (len bytes) into out (>= RS_WHSIG_SIG_MAX).
 */
void		rs_whsig_sign(const unsigned char key[RS_WHSIG_KEY],
		    const char *id, int64_t ts, const char *body, size_t len,
		    char *out, size_t outsz);

#endif /* RS_WHSIG_H */
