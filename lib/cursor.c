#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "num.h"
#include "query.h"
#include "seal.h"
#include "cursor.h"

#define RS_CURSOR_TAG	"rsc1"
#define RS_SYNCTOK_TAG	"rss1"

enum rs_err
rs_cursor_make(const unsigned char key[32], const struct rs_cursor *c,
    char *out, size_t outsz)
{
	char	 p[RS_SEAL_PAYLOAD_MAX + 1];

	snprintf(p, sizeof(p), "%s\n%s\n%016" PRIx64 "\n%" PRId64 "\n%"
	    PRId64, c->list, c->org_id, c->sig, c->pos, c->walk);
	return rs_seal(key, RS_CURSOR_TAG, p, out, outsz);
}

enum rs_err
rs_cursor_read(const unsigned char key[32], const char *s,
    struct rs_cursor *c)
{
	char		 p[RS_SEAL_PAYLOAD_MAX + 1], *f[5], *end;
	const char	*e1, *e2;

	memset(c, 0, sizeof(*c));
	if (rs_seal_open(key, RS_CURSOR_TAG, s, p, sizeof(p)) < 0 ||
	    rs_seal_fields(p, f, 5) != 0 || strlen(f[0]) == 0 ||
	    strlen(f[0]) >= sizeof(c->list) ||
	    !rs_id_valid(f[1], "org_") || strlen(f[2]) != 16)
		return RS_ERR_CRYPTO;
	c->pos = rs_num_parse(f[3], 0, INT64_MAX, &e1);
	c->walk = rs_num_parse(f[4], 0, INT64_MAX, &e2);
	if (e1 != NULL || e2 != NULL)
		return RS_ERR_CRYPTO;
	c->sig = strtoull(f[2], &end, 16);
	if (*end != '\0')
		return RS_ERR_CRYPTO;
	strcpy(c->list, f[0]);
	strcpy(c->org_id, f[1]);
	return RS_OK;
}

enum rs_err
rs_synctok_make(const unsigned char key[32], const struct rs_synctok *t,
    char *out, size_t outsz)
{
	char	 p[RS_SEAL_PAYLOAD_MAX + 1];

	snprintf(p, sizeof(p), "sync\n%s\n%" PRId64 "\n%" PRId64, t->org_id,
	    t->change_seq, t->issued_ms);
	return rs_seal(key, RS_SYNCTOK_TAG, p, out, outsz);
}

enum rs_err
rs_synctok_read(const unsigned char key[32], const char *s,
    struct rs_synctok *t)
{
	char		 p[RS_SEAL_PAYLOAD_MAX + 1], *f[4];
	const char	*e1, *e2;

	memset(t, 0, sizeof(*t));
	if (rs_seal_open(key, RS_SYNCTOK_TAG, s, p, sizeof(p)) < 0 ||
	    rs_seal_fields(p, f, 4) != 0 || strcmp(f[0], "sync") != 0 ||
	    !rs_id_valid(f[1], "org_"))
		return RS_ERR_CRYPTO;
	t->change_seq = rs_num_parse(f[2], 0, INT64_MAX, &e1);
	t->issued_ms = rs_num_parse(f[3], 0, INT64_MAX, &e2);
	if (e1 != NULL || e2 != NULL)
		return RS_ERR_CRYPTO;
	strcpy(t->org_id, f[1]);
	return RS_OK;
}

static int
rs_cursor_skipped(const char *name, const char *const *skip)
{
	size_t	 i;

	for (i = 0; skip != NULL && skip[i] != NULL; i++)
		if (strcmp(name, skip[i]) == 0)
			return 1;
	return 0;
}

uint64_t
rs_cursor_sig(const struct rs_query *q, const char *const *skip)
{
	crypto_generichash_state	 st;
	unsigned char			 h[8];
	const struct rs_param		*p[RS_MAX_QUERY_PARAMS], *t;
	size_t				 n = 0, i, j;
	uint64_t			 v = 0;

	for (i = 0; i < q->n; i++)
		if (!rs_cursor_skipped(q->p[i].name, skip))
			p[n++] = &q->p[i];
	/* Order-independent: ?a=1&b=2 and ?b=2&a=1 are one list. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(p[j - 1]->name, p[j]->name) > 0;
		    j--) {
			t = p[j];
			p[j] = p[j - 1];
			p[j - 1] = t;
		}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (i = 0; i < n; i++) {
		crypto_generichash_update(&st,
		    (const unsigned char *)p[i]->name, strlen(p[i]->name) + 1);
		crypto_generichash_update(&st,
		    (const unsigned char *)p[i]->value,
		    strlen(p[i]->value) + 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return v;
}
