#include <string.h>

#include <sodium.h>

#include "codec.h"
#include "ulid.h"
#include "id.h"

char *
rs_id_new(char *out, size_t outsz, const char *prefix)
{
	unsigned char	 raw[16];
	size_t		 plen = strlen(prefix);

	if (outsz < plen + RS_ID_BODY_LEN + 1) {
		if (outsz > 0)
			out[0] = '\0';
		return out;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, plen);
	rs_codec_b32_encode(out + plen, outsz - plen, raw, sizeof(raw));
	return out;
}

char *
rs_id_new_sorted(char *out, size_t outsz, const char *prefix, int64_t ms)
{
	size_t	 plen = strlen(prefix), i;

	if (outsz < plen + RS_ID_BODY_LEN + 1) {
		if (outsz > 0)
			out[0] = '\0';
		return out;
	}
	memcpy(out, prefix, plen);
	rs_ulid_new(out + plen, outsz - plen, ms);
	/* Crockford upper case to the lower case of rs_id_new's alphabet. */
	for (i = plen; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	return out;
}

int
rs_id_valid(const char *s, const char *prefix)
{
	size_t	 plen = strlen(prefix), i;

	if (strncmp(s, prefix, plen) != 0 ||
	    strlen(s + plen) != RS_ID_BODY_LEN)
		return 0;
	for (i = plen; s[i] != '\0'; i++)
		if (strchr("0123456789abcdefghjkmnpqrstvwxyz", s[i]) == NULL)
			return 0;
	return 1;
}
