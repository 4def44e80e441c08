/*
 * fuzz-cursor.c: a libFuzzer target for list cursors and sync tokens
 * (cursor.h, on seal.h), under a fixed key. Built and run by
 * tests/fuzz/run; seeds in tests/fuzz/corpus/cursor/.
 *
 * The first byte picks what the rest is (byte % 4):
 *   0  a cursor or sync token as a client sends it back;
 *   1  a payload, sealed here under the key as "rsc1" and "rss1": the
 *      readers' field parsing, which a client cannot reach unsealed;
 *   2  the fields of a cursor and a sync token, made, read back, and
 *      each made text changed at one byte;
 *   3  a query string, for rs_cursor_sig.
 * Beyond what the sanitizers catch, the target abort()s when:
 *   - a text that reads does not make again to the same bytes, reads
 *     under another key, or holds a field out of its bounds;
 *   - a sealed payload that reads does not read the same once made again;
 *   - made fields do not read back the same, or a text changed at one
 *     byte still reads;
 *   - the signature depends on the order of the parameters, or a
 *     skipped parameter changes it.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "arena.h"
#include "cursor.h"
#include "id.h"
#include "query.h"
#include "seal.h"

#define FUZZ_NAME	"cursor"
#include "fuzz.h"

static unsigned char	 key[32], other[32];
static struct rs_arena	 arena;

static void
fz_same_cursor(const struct rs_cursor *a, const struct rs_cursor *b)
{
	CHECK(strcmp(a->list, b->list) == 0);
	CHECK(strcmp(a->org_id, b->org_id) == 0);
	CHECK(a->sig == b->sig && a->pos == b->pos && a->walk == b->walk);
}

static void
fz_same_synctok(const struct rs_synctok *a, const struct rs_synctok *b)
{
	CHECK(strcmp(a->org_id, b->org_id) == 0);
	CHECK(a->change_seq == b->change_seq &&
	    a->issued_ms == b->issued_ms);
}

static void
fz_bounds(const struct rs_cursor *c)
{
	CHECK(c->list[0] != '\0' && memchr(c->list, '\0',
	    sizeof(c->list)) != NULL);
	CHECK(rs_id_valid(c->org_id, "org_"));
	CHECK(c->pos >= 0 && c->walk >= 0);
}

/* A text a client sent back. */
static void
fz_text(const char *s)
{
	struct rs_cursor	 c, c2;
	struct rs_synctok	 t, t2;
	char			 again[RS_CURSOR_MAX];

	if (rs_cursor_read(key, s, &c) == RS_OK) {
		fz_bounds(&c);
		CHECK(rs_cursor_make(key, &c, again, sizeof(again)) == RS_OK);
		CHECK(strcmp(again, s) == 0);
		CHECK(rs_cursor_read(other, s, &c2) == RS_ERR_CRYPTO);
		CHECK(rs_synctok_read(key, s, &t2) == RS_ERR_CRYPTO);
	}
	if (rs_synctok_read(key, s, &t) == RS_OK) {
		CHECK(rs_id_valid(t.org_id, "org_"));
		CHECK(t.change_seq >= 0 && t.issued_ms >= 0);
		CHECK(rs_synctok_make(key, &t, again, sizeof(again)) == RS_OK);
		CHECK(strcmp(again, s) == 0);
		CHECK(rs_synctok_read(other, s, &t2) == RS_ERR_CRYPTO);
	}
}

/* A payload sealed under the key: the fields as the readers take them. */
static void
fz_payload(const char *p)
{
	struct rs_cursor	 c, c2;
	struct rs_synctok	 t, t2;
	char			 sealed[1024], again[RS_CURSOR_MAX];

	if (rs_seal(key, "rsc1", p, sealed, sizeof(sealed)) == RS_OK &&
	    rs_cursor_read(key, sealed, &c) == RS_OK) {
		fz_bounds(&c);
		CHECK(rs_cursor_make(key, &c, again, sizeof(again)) == RS_OK);
		CHECK(rs_cursor_read(key, again, &c2) == RS_OK);
		fz_same_cursor(&c, &c2);
		CHECK(rs_cursor_read(other, sealed, &c2) == RS_ERR_CRYPTO);
	}
	if (rs_seal(key, "rss1", p, sealed, sizeof(sealed)) == RS_OK &&
	    rs_synctok_read(key, sealed, &t) == RS_OK) {
		CHECK(t.change_seq >= 0 && t.issued_ms >= 0);
		CHECK(rs_synctok_make(key, &t, again, sizeof(again)) == RS_OK);
		CHECK(rs_synctok_read(key, again, &t2) == RS_OK);
		fz_same_synctok(&t, &t2);
	}
}

/* n bytes of data from *d (zeros past the end). */
static void
fz_take(const uint8_t **d, size_t *left, void *out, size_t n)
{
	size_t	 k = n < *left ? n : *left;

	memset(out, 0, n);
	memcpy(out, *d, k);
	*d += k;
	*left -= k;
}

/* Changes text at byte at (to x, or by one when that is no change). */
static void
fz_flip(char *text, size_t at, uint8_t x)
{
	size_t	 len = strlen(text);

	at %= len;
	text[at] = (char)(text[at] == (char)x || x == 0 ?
	    (text[at] == 'A' ? 'B' : 'A') : x);
}

static void
fz_fields(const uint8_t *d, size_t left)
{
	static const char	 alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";
	struct rs_cursor	 c, c2;
	struct rs_synctok	 t, t2;
	char			 text[RS_CURSOR_MAX];
	uint8_t			 raw[RS_ID_BODY_LEN], n, x;
	uint16_t		 at;
	size_t			 i;

	memset(&c, 0, sizeof(c));
	fz_take(&d, &left, &n, 1);
	fz_take(&d, &left, c.list, 1 + n % (sizeof(c.list) - 1));
	c.list[sizeof(c.list) - 1] = '\0';
	for (i = 0; c.list[i] != '\0'; i++)	/* no separators */
		if (c.list[i] == '\n')
			c.list[i] = '_';
	if (c.list[0] == '\0')
		memcpy(c.list, "records", 8);
	fz_take(&d, &left, raw, sizeof(raw));
	memcpy(c.org_id, "org_", 4);
	for (i = 0; i < RS_ID_BODY_LEN; i++)
		c.org_id[4 + i] = alpha[raw[i] % 32];
	c.org_id[4 + RS_ID_BODY_LEN] = '\0';
	fz_take(&d, &left, &c.sig, sizeof(c.sig));
	fz_take(&d, &left, &c.pos, sizeof(c.pos));
	fz_take(&d, &left, &c.walk, sizeof(c.walk));
	fz_take(&d, &left, &at, sizeof(at));
	fz_take(&d, &left, &x, 1);
	c.pos &= INT64_MAX;
	c.walk &= INT64_MAX;

	CHECK(rs_cursor_make(key, &c, text, sizeof(text)) == RS_OK);
	CHECK(rs_cursor_read(key, text, &c2) == RS_OK);
	fz_same_cursor(&c, &c2);
	fz_flip(text, at, x);
	CHECK(rs_cursor_read(key, text, &c2) == RS_ERR_CRYPTO);

	memset(&t, 0, sizeof(t));
	memcpy(t.org_id, c.org_id, sizeof(t.org_id));
	t.change_seq = c.pos;
	t.issued_ms = c.walk;
	CHECK(rs_synctok_make(key, &t, text, sizeof(text)) == RS_OK);
	CHECK(rs_synctok_read(key, text, &t2) == RS_OK);
	fz_same_synctok(&t, &t2);
	CHECK(rs_cursor_read(key, text, &c2) == RS_ERR_CRYPTO);
	fz_flip(text, at, x);
	CHECK(rs_synctok_read(key, text, &t2) == RS_ERR_CRYPTO);
}

static void
fz_sig(const char *qs)
{
	struct rs_query		 q, r;
	const char		*skip[2];
	char			 err[160];
	size_t			 i;
	uint64_t		 s;

	if (rs_query_parse(&arena, qs, &q, err, sizeof(err)) != 0)
		return;
	s = rs_cursor_sig(&q, NULL);
	r.n = q.n;
	for (i = 0; i < q.n; i++)
		r.p[i] = q.p[q.n - 1 - i];
	CHECK(rs_cursor_sig(&r, NULL) == s);
	if (q.n == 0)
		return;
	/* Skipping the first parameter is leaving it out. */
	skip[0] = q.p[0].name;
	skip[1] = NULL;
	s = rs_cursor_sig(&q, skip);
	r.n = q.n - 1;
	for (i = 1; i < q.n; i++)
		r.p[i - 1] = q.p[i];
	CHECK(rs_cursor_sig(&r, NULL) == s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(key, 0x5a, sizeof(key));
	memset(other, 0x5b, sizeof(other));
	rs_arena_init(&arena);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
	case 1:
	case 3:
		s = fuzz_text(data + 1, size - 1);
		if (data[0] % 4 == 0)
			fz_text(s);
		else if (data[0] % 4 == 1)
			fz_payload(s);
		else
			fz_sig(s);
		free(s);
		break;
	default:
		fz_fields(data + 1, size - 1);
	}
	rs_arena_reset(&arena);
	return 0;
}
