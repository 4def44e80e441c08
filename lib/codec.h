/*
 * codec.h: byte encodings used in ids, keys, tokens and cursors.
 * Encoders write a NUL-terminated string and return its length, or -1
 * when out is too small. Decoders return the decoded length or -1 on any
 * malformed input (no padding is accepted or produced).
 */
#ifndef RS_CODEC_H
#define RS_CODEC_H

#include <stddef.h>
#include <sys/types.h>

#define RS_B64URL_LEN(n)	(((n) * 4 + 2) / 3)
#define RS_B32_LEN(n)		(((n) * 8 + 4) / 5)

ssize_t	rs_codec_b64url_encode(char *out, size_t outsz,
	    const unsigned char *in, size_t len);
ssize_t	rs_codec_b64url_decode(unsigned char *out, size_t outsz,
	    const char *in, size_t len);
/* Crockford base32, lower case: sortable, URL- and filename-safe. */
ssize_t	rs_codec_b32_encode(char *out, size_t outsz,
	    const unsigned char *in, size_t len);
ssize_t	rs_codec_hex_encode(char *out, size_t outsz,
	    const unsigned char *in, size_t len);
ssize_t	rs_codec_hex_decode(unsigned char *out, size_t outsz,
	    const char *in, size_t len);

/* Length of the well-formed UTF-8 sequence at p (n > 0 bytes left), or
 * 0: overlong forms, surrogates and code points past U+10FFFF refused. */
size_t	rs_codec_utf8_len(const unsigned char *p, size_t n);
/* 1 when s[0..len) is entirely well-formed UTF-8, else 0. */
int	rs_codec_utf8_valid(const char *s, size_t len);
/*
 * Makes NUL-terminated s well-formed UTF-8 in place: each byte that does
 * not begin a well-formed sequence becomes '?'. For text made with
 * printf from outside input ("%.64s" can cut a character in two, a
 * header can hold any byte) before it goes into a JSON answer.
 */
void	rs_codec_utf8_scrub(char *s);

#endif /* RS_CODEC_H */
