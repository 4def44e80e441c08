/*
 * test-textcache: the texts a process keeps under their whole key
 * (lib/textcache.h): found only when row, change, stamp and length all
 * match; a copy, NUL-terminated; a newer text of a row replaces the
 * older, and so does another row in a taken place; a text too long is
 * not kept and forgets the older one; never more than
 * RS_TEXTCACHE_BYTES in all; clear forgets; no cache keeps nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "textcache.h"
#include "tap.h"

#define ROW	((int64_t)3 << 40 | 17)

static struct rs_textcache_key
key(int64_t row, int64_t change, int64_t stamp, const char *text)
{
	struct rs_textcache_key	 k;

	k.row = row;
	k.change = change;
	k.stamp = stamp;
	k.len = strlen(text);
	return k;
}

static void
test_textcache_found(void)
{
	struct rs_textcache	*c = rs_textcache_new();
	struct rs_textcache_key	 k = key(ROW, 5, 1000, "{\"a\":1}"), o;
	char			 src[] = "{\"a\":1}";
	const char		*got;
	size_t			 bytes;

	TAP_SETUP(c != NULL);
	TAP_OK(rs_textcache_get(c, &k) == NULL, "found: nothing when empty");
	rs_textcache_put(c, &k, src);
	src[2] = 'X';
	got = rs_textcache_get(c, &k);
	TAP_OK(got != NULL && strcmp(got, "{\"a\":1}") == 0,
	    "found: a copy of the text, NUL-terminated");
	TAP_OK(rs_textcache_count(c, &bytes) == 1 && bytes == k.len,
	    "found: one text, its length counted");
	o = k;
	o.row++;
	TAP_OK(rs_textcache_get(c, &o) == NULL, "found: not for another row");
	o = k;
	o.change++;
	TAP_OK(rs_textcache_get(c, &o) == NULL,
	    "found: not for another change of the row");
	o = k;
	o.stamp--;
	TAP_OK(rs_textcache_get(c, &o) == NULL,
	    "found: not for another time of writing");
	o = k;
	o.len--;
	TAP_OK(rs_textcache_get(c, &o) == NULL,
	    "found: not for another length");
	rs_textcache_free(c);
}

static void
test_textcache_replaced(void)
{
	struct rs_textcache	*c = rs_textcache_new();
	struct rs_textcache_key	 a = key(ROW, 5, 1000, "{\"v\":1}");
	struct rs_textcache_key	 b = key(ROW, 9, 1001, "{\"v\":22}");
	struct rs_textcache_key	 o;
	char			*big;
	int64_t			 r;
	size_t			 bytes;

	TAP_SETUP(c != NULL);
	rs_textcache_put(c, &a, "{\"v\":1}");
	rs_textcache_put(c, &b, "{\"v\":22}");
	TAP_OK(rs_textcache_get(c, &a) == NULL &&
	    rs_textcache_get(c, &b) != NULL &&
	    rs_textcache_count(c, &bytes) == 1 && bytes == b.len,
	    "replaced: a row's newer text takes the older's place");
	/* Another row whose place is b's. */
	for (r = ROW + 1; r < ROW + 100000; r++) {
		o = key(r, 1, 1, "{}");
		rs_textcache_put(c, &o, "{}");
		if (rs_textcache_get(c, &b) == NULL)
			break;
	}
	TAP_OK(r < ROW + 100000 && rs_textcache_get(c, &o) != NULL,
	    "replaced: another row in a taken place replaces it");
	rs_textcache_put(c, &b, "{\"v\":22}");
	big = malloc(RS_TEXTCACHE_ONE + 2);
	TAP_SETUP(big != NULL);
	memset(big, 'x', RS_TEXTCACHE_ONE + 1);
	big[RS_TEXTCACHE_ONE + 1] = '\0';
	o = key(ROW, 10, 1002, big);
	rs_textcache_put(c, &o, big);
	TAP_OK(rs_textcache_get(c, &o) == NULL &&
	    rs_textcache_get(c, &b) == NULL,
	    "replaced: a text too long is not kept, and the row's older "
	    "one is gone");
	free(big);
	rs_textcache_clear(c);
	TAP_OK(rs_textcache_count(c, &bytes) == 0 && bytes == 0 &&
	    rs_textcache_get(c, &a) == NULL, "replaced: clear forgets all");
	rs_textcache_free(c);
}

static void
test_textcache_bound(void)
{
	struct rs_textcache	*c = rs_textcache_new();
	struct rs_textcache_key	 k, first;
	char			*text;
	size_t			 bytes, most = 0, i, n;

	TAP_SETUP(c != NULL);
	text = malloc(RS_TEXTCACHE_ONE + 1);
	TAP_SETUP(text != NULL);
	memset(text, 'y', RS_TEXTCACHE_ONE);
	text[RS_TEXTCACHE_ONE] = '\0';
	n = 2 * RS_TEXTCACHE_BYTES / RS_TEXTCACHE_ONE;
	first = key(ROW, 1, 1, text);
	for (i = 0; i < n; i++) {
		k = key(ROW + (int64_t)i, 1, 1, text);
		rs_textcache_put(c, &k, text);
		rs_textcache_count(c, &bytes);
		if (bytes > most)
			most = bytes;
	}
	TAP_OK(most <= RS_TEXTCACHE_BYTES && most + RS_TEXTCACHE_ONE >
	    RS_TEXTCACHE_BYTES, "bound: filled to its bound, never past it");
	TAP_OK(rs_textcache_get(c, &k) != NULL &&
	    rs_textcache_get(c, &first) == NULL,
	    "bound: the last text kept, the first freed for room");
	free(text);
	rs_textcache_free(c);
	k = key(ROW, 1, 1, "{}");
	rs_textcache_put(NULL, &k, "{}");
	TAP_OK(rs_textcache_get(NULL, &k) == NULL &&
	    rs_textcache_count(NULL, &bytes) == 0 && bytes == 0,
	    "bound: no cache keeps nothing");
}

int
main(void)
{
	tap_plan(7 + 4 + 3);
	test_textcache_found();
	test_textcache_replaced();
	test_textcache_bound();
	return tap_done();
}
