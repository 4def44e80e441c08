#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "codec.h"

ssize_t
rs_codec_b64url_encode(char *out, size_t outsz, const unsigned char *in,
    size_t len)
{
	size_t	 need = sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	if (outsz < need)
		return -1;
	sodium_bin2base64(out, outsz, in, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return (ssize_t)strlen(out);
}

ssize_t
rs_codec_b64url_decode(unsigned char *out, size_t outsz, const char *in,
    size_t len)
{
	size_t		 binlen, i;
	const char	*end;

	/*
	 * libsodium 1.0.18 reads a byte past 0x7f as '_' (its table takes a
	 * signed char), so a sealed text with '_' changed to any such byte
	 * still decoded, and verified: only the alphabet is ours to accept.
	 */
	for (i = 0; i < len; i++)
		if (!((in[i] >= 'A' && in[i] <= 'Z') ||
		    (in[i] >= 'a' && in[i] <= 'z') ||
		    (in[i] >= '0' && in[i] <= '9') || in[i] == '-' ||
		    in[i] == '_'))
			return -1;
	if (sodium_base642bin(out, outsz, in, len, NULL, &binlen, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || end != in + len)
		return -1;
	return (ssize_t)binlen;
}

ssize_t
rs_codec_b32_encode(char *out, size_t outsz, const unsigned char *in,
    size_t len)
{
	static const char	 digits[] = "0123456789abcdefghjkmnpqrstvwxyz";
	size_t			 i, o = 0;
	unsigned int		 buf = 0, bits = 0;

	if (outsz < RS_B32_LEN(len) + 1)
		return -1;
	for (i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = digits[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = digits[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t
rs_codec_hex_encode(char *out, size_t outsz, const unsigned char *in,
    size_t len)
{
	if (outsz < len * 2 + 1)
		return -1;
	sodium_bin2hex(out, outsz, in, len);
	return (ssize_t)(len * 2);
}

ssize_t
rs_codec_hex_decode(unsigned char *out, size_t outsz, const char *in,
    size_t len)
{
	size_t		 binlen;
	const char	*end;

	if (sodium_hex2bin(out, outsz, in, len, NULL, &binlen, &end) != 0 ||
	    end != in + len)
		return -1;
	return (ssize_t)binlen;
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0
 * for an ill-formed one: overlong forms, surrogates and code points past
 * U+10FFFF are refused (RFC 3629).
 */
size_t
rs_codec_utf8_len(const unsigned char *p, size_t n)
{
	uint32_t	 cp;
	size_t		 len, i;

	if (p[0] < 0x80)
		return 1;
	else if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
rs_codec_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = rs_codec_utf8_len(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

void
rs_codec_utf8_scrub(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 left = strlen(s), n;

	while (left > 0) {
		if ((n = rs_codec_utf8_len(p, left)) == 0) {
			*p = '?';
			n = 1;
		}
		p += n;
		left -= n;
	}
}
