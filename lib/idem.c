#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "arena.h"
#include "json.h"
#include "idem.h"

const char *
rs_idem_key(struct rs_arena *a, const char *h)
{
	size_t	 len = strlen(h), i;

	if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
		h++;
		len -= 2;
	}
	if (len == 0 || len > RS_MAX_IDEM_KEY)
		return NULL;
	for (i = 0; i < len; i++)
		if (h[i] < 0x21 || h[i] > 0x7e)
			return NULL;
	return rs_arena_strndup(a, h, len);
}

/* Hashes s with its terminating NUL, so "ab"+"c" differs from "a"+"bc". */
static void
rs_idem_part(crypto_generichash_state *st, const char *s)
{
	crypto_generichash_update(st, (const unsigned char *)s,
	    strlen(s) + 1);
}

enum rs_err
rs_idem_hash(struct rs_idem *id, const char *method, const char *path,
    const char *if_match, struct json_object *body)
{
	crypto_generichash_state	 st;
	char				*canon = NULL;

	/* Canonical: member order and white space do not make a new body. */
	if (body != NULL && (canon = rs_json_canonical(body)) == NULL)
		return RS_ERR_NOMEM;
	crypto_generichash_init(&st, NULL, 0, sizeof(id->hash));
	rs_idem_part(&st, method);
	rs_idem_part(&st, path);
	rs_idem_part(&st, if_match != NULL ? if_match : "");
	if (canon != NULL)
		crypto_generichash_update(&st, (const unsigned char *)canon,
		    strlen(canon));
	crypto_generichash_final(&st, id->hash, sizeof(id->hash));
	free(canon);
	return RS_OK;
}
