/*
 * fuzz-token.c: a libFuzzer target for bearer tokens (token.h, on
 * seal.h), under a fixed key. Built and run by tests/fuzz/run; seeds in
 * tests/fuzz/corpus/token/.
 *
 * The first byte picks what the rest is (byte % 3):
 *   0  a bearer token as a client sends it;
 *   1  a payload, sealed here under the key as "rst1": the field parsing
 *      a client cannot reach without the key;
 *   2  a token's fields: minted, verified, and changed at one byte.
 * Beyond what the sanitizers catch, the target abort()s when:
 *   - a token that verifies (RS_OK, or RS_ERR_RANGE: genuine but
 *     expired) was not made with the key: it mints again to other bytes,
 *     or verifies under another key; or its fields are out of bounds,
 *     or its expiry and the answer disagree;
 *   - a refused token leaves an id in *t;
 *   - a sealed payload that verifies does not verify the same minted
 *     again;
 *   - minted fields do not verify back the same, or a token changed at
 *     one byte still verifies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "id.h"
#include "role.h"
#include "seal.h"
#include "token.h"

#define FUZZ_NAME	"token"
#include "fuzz.h"

#define NOW	1767225600	/* 2026-01-01, Unix seconds */

static unsigned char	 key[32], other[32];

static void
fz_same(const struct rs_token *a, const struct rs_token *b)
{
	CHECK(strcmp(a->org_id, b->org_id) == 0);
	CHECK(strcmp(a->user_id, b->user_id) == 0);
	CHECK(strcmp(a->key_id, b->key_id) == 0);
	CHECK(a->role == b->role && a->exp == b->exp);
}

/* What rs_token_verify promises of what it filled. */
static void
fz_verified(enum rs_err rc, const struct rs_token *t)
{
	if (rc != RS_OK && rc != RS_ERR_RANGE) {
		CHECK(rc == RS_ERR_CRYPTO);
		CHECK(t->org_id[0] == '\0' && t->user_id[0] == '\0' &&
		    t->key_id[0] == '\0');
		return;
	}
	CHECK(rs_id_valid(t->org_id, "org_") && rs_id_valid(t->user_id,
	    "usr_") && rs_id_valid(t->key_id, "key_"));
	CHECK(t->role == RS_ROLE_ADMIN || t->role == RS_ROLE_OPERATOR ||
	    t->role == RS_ROLE_VIEWER);
	CHECK(t->exp >= 0);
	CHECK(rc == RS_OK ? t->exp > NOW : t->exp <= NOW);
}

static void
fz_text(const char *s)
{
	struct rs_token	 t, t2;
	char		 again[RS_MAX_TOKEN + 1];
	enum rs_err	 rc;

	rc = rs_token_verify(key, s, NOW, &t);
	fz_verified(rc, &t);
	if (rc != RS_OK && rc != RS_ERR_RANGE)
		return;
	CHECK(rs_token_mint(key, &t, again, sizeof(again)) == RS_OK);
	CHECK(strcmp(again, s) == 0);
	CHECK(rs_token_verify(other, s, NOW, &t2) == RS_ERR_CRYPTO);
}

static void
fz_payload(const char *p)
{
	struct rs_token	 t, t2;
	char		 sealed[1024], again[RS_MAX_TOKEN + 1];
	enum rs_err	 rc;

	if (rs_seal(key, "rst1", p, sealed, sizeof(sealed)) != RS_OK)
		return;
	rc = rs_token_verify(key, sealed, NOW, &t);
	fz_verified(rc, &t);
	if (rc != RS_OK && rc != RS_ERR_RANGE)
		return;
	CHECK(rs_token_mint(key, &t, again, sizeof(again)) == RS_OK);
	CHECK(rs_token_verify(key, again, NOW, &t2) == rc);
	fz_same(&t, &t2);
	CHECK(rs_token_verify(other, sealed, NOW, &t2) == RS_ERR_CRYPTO);
}

static void
fz_take(const uint8_t **d, size_t *left, void *out, size_t n)
{
	size_t	 k = n < *left ? n : *left;

	memset(out, 0, n);
	memcpy(out, *d, k);
	*d += k;
	*left -= k;
}

static void
fz_id(const uint8_t **d, size_t *left, char *out, const char *prefix)
{
	static const char	 alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";
	uint8_t			 raw[RS_ID_BODY_LEN];
	size_t			 i;

	fz_take(d, left, raw, sizeof(raw));
	memcpy(out, prefix, 4);
	for (i = 0; i < RS_ID_BODY_LEN; i++)
		out[4 + i] = alpha[raw[i] % 32];
	out[4 + RS_ID_BODY_LEN] = '\0';
}

static void
fz_fields(const uint8_t *d, size_t left)
{
	struct rs_token	 t, t2;
	char		 text[RS_MAX_TOKEN + 1];
	uint8_t		 role, x;
	uint16_t	 at;
	size_t		 len;
	enum rs_err	 rc;

	memset(&t, 0, sizeof(t));
	fz_id(&d, &left, t.org_id, "org_");
	fz_id(&d, &left, t.user_id, "usr_");
	fz_id(&d, &left, t.key_id, "key_");
	fz_take(&d, &left, &role, 1);
	fz_take(&d, &left, &t.exp, sizeof(t.exp));
	fz_take(&d, &left, &at, sizeof(at));
	fz_take(&d, &left, &x, 1);
	t.role = (enum rs_role)(1 << (role % 3));
	t.exp &= INT64_MAX;

	CHECK(rs_token_mint(key, &t, text, sizeof(text)) == RS_OK);
	rc = rs_token_verify(key, text, NOW, &t2);
	CHECK(rc == (t.exp > NOW ? RS_OK : RS_ERR_RANGE));
	fz_same(&t, &t2);
	len = strlen(text);
	at %= len;
	text[at] = (char)(text[at] == (char)x || x == 0 ?
	    (text[at] == 'A' ? 'B' : 'A') : x);
	rc = rs_token_verify(key, text, NOW, &t2);
	CHECK(rc == RS_ERR_CRYPTO);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(key, 0x3c, sizeof(key));
	memset(other, 0x3d, sizeof(other));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size == 0)
		return 0;
	if (data[0] % 3 == 2) {
		fz_fields(data + 1, size - 1);
		return 0;
	}
	s = fuzz_text(data + 1, size - 1);
	if (data[0] % 3 == 0)
		fz_text(s);
	else
		fz_payload(s);
	free(s);
	return 0;
}
