#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "codec.h"
#include "seal.h"

enum rs_err
rs_seal(const unsigned char key[32], const char *tag, const char *payload,
    char *out, size_t outsz)
{
	unsigned char	 mac[crypto_auth_BYTES];
	size_t		 plen = strlen(payload), tlen = strlen(tag), len;

	if (plen > RS_SEAL_PAYLOAD_MAX ||
	    outsz < tlen + 1 + RS_B64URL_LEN(plen) + 1 +
	    RS_B64URL_LEN(sizeof(mac)) + 1)
		return RS_ERR_RANGE;
	memcpy(out, tag, tlen);
	out[tlen] = '.';
	len = tlen + 1;
	len += (size_t)rs_codec_b64url_encode(out + len, outsz - len,
	    (const unsigned char *)payload, plen);
	crypto_auth(mac, (const unsigned char *)out, len, key);
	out[len++] = '.';
	rs_codec_b64url_encode(out + len, outsz - len, mac, sizeof(mac));
	return RS_OK;
}

ssize_t
rs_seal_open(const unsigned char key[32], const char *tag,
    const char *sealed, char *payload, size_t payloadsz)
{
	unsigned char	 mac[crypto_auth_BYTES];
	const char	*dot;
	size_t		 len = strlen(sealed), tlen = strlen(tag), head;
	ssize_t		 n;

	if (len > RS_MAX_TOKEN || len <= tlen + 1 ||
	    strncmp(sealed, tag, tlen) != 0 || sealed[tlen] != '.' ||
	    (dot = strrchr(sealed, '.')) == sealed + tlen)
		return -1;
	head = (size_t)(dot - sealed);
	if (rs_codec_b64url_decode(mac, sizeof(mac), dot + 1,
	    len - head - 1) != (ssize_t)sizeof(mac) ||
	    crypto_auth_verify(mac, (const unsigned char *)sealed, head,
	    key) != 0)
		return -1;
	n = rs_codec_b64url_decode((unsigned char *)payload, payloadsz - 1,
	    sealed + tlen + 1, head - tlen - 1);
	if (n < 0 || memchr(payload, '\0', (size_t)n) != NULL)
		return -1;
	payload[n] = '\0';
	return n;
}

int
rs_seal_fields(char *s, char **f, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		f[i] = s;
		s = strchr(s, '\n');
		if (i + 1 < n) {
			if (s == NULL)
				return -1;
			*s++ = '\0';
		} else if (s != NULL)
			return -1;
	}
	return 0;
}
