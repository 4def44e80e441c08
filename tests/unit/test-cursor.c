/*
 * test-cursor: sealed strings (lib/seal.h), list cursors and sync tokens
 * (lib/cursor.h) and the query signature cursors are tied to.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "arena.h"
#include "codec.h"
#include "cursor.h"
#include "id.h"
#include "limits.h"
#include "query.h"
#include "seal.h"
#include "secret.h"
#include "fixture.h"
#include "tap.h"

#define NOW_MS	INT64_C(1764179121000)	/* 2025-11-26T17:45:21Z */

static unsigned char	 master[RS_SECRET_BYTES];
static unsigned char	 key[RS_SECRET_BYTES];		/* cursor subkey */
static struct rs_arena	 arena;

/* Replaces the base64url character at s[i] with another one. */
static void
flip(char *s, size_t i)
{
	s[i] = s[i] == 'A' ? 'B' : 'A';
}

/* Seals payload under key as tag into out (RS_MAX_TOKEN + 1 bytes). */
static enum rs_err
seal(const char *tag, const char *payload, char *out)
{
	return rs_seal(key, tag, payload, out, RS_MAX_TOKEN + 1);
}

/* Opens s as tag under key into p (RS_SEAL_PAYLOAD_MAX + 1 bytes). */
static ssize_t
open_sealed(const char *tag, const char *s, char *p)
{
	return rs_seal_open(key, tag, s, p, RS_SEAL_PAYLOAD_MAX + 1);
}

/* A cursor of the records list for a fresh org. */
static void
sample_cursor(struct rs_cursor *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->list, "records");
	rs_id_new(c->org_id, sizeof(c->org_id), "org_");
	c->sig = UINT64_C(0xfedcba9876543210);
	c->pos = 12345;
	c->walk = 678;
}

static void
sample_synctok(struct rs_synctok *t)
{
	memset(t, 0, sizeof(*t));
	rs_id_new(t->org_id, sizeof(t->org_id), "org_");
	t->change_seq = 42;
	t->issued_ms = NOW_MS;
}

/* rs_cursor_sig of the fixed query string qs with skip. */
static uint64_t
sig(const char *qs, const char *const *skip)
{
	struct rs_query	 q;
	char		 err[128];

	if (rs_query_parse(&arena, qs, &q, err, sizeof(err)) != 0)
		tap_bail("query %s: %s", qs, err);
	return rs_cursor_sig(&q, skip);
}

static void
test_seal_round_trip(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1];

	if (!TAP_IS_INT(seal("rst1", "hello\nworld", s), RS_OK,
	    "seal: succeeds"))
		return;
	TAP_OK(strncmp(s, "rst1.", 5) == 0, "seal: starts with the tag");
	TAP_IS_INT(open_sealed("rst1", s, p), 11,
	    "seal open: gives the payload length");
	TAP_IS_STR(p, "hello\nworld", "seal open: gives the payload");
}

static void
test_seal_round_trip_empty(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1];

	TAP_SETUP(seal("rst1", "", s) == RS_OK);
	TAP_IS_INT(open_sealed("rst1", s, p), 0,
	    "seal open: an empty payload round-trips with length 0");
	TAP_IS_STR(p, "", "seal open: an empty payload gives \"\"");
}

static void
test_seal_round_trip_max(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1];
	char	 big[RS_SEAL_PAYLOAD_MAX + 1];

	memset(big, 'x', RS_SEAL_PAYLOAD_MAX);
	big[RS_SEAL_PAYLOAD_MAX] = '\0';
	TAP_IS_INT(seal("rsc1", big, s), RS_OK,
	    "seal: RS_SEAL_PAYLOAD_MAX bytes accepted");
	TAP_IS_INT(open_sealed("rsc1", s, p), RS_SEAL_PAYLOAD_MAX,
	    "seal open: RS_SEAL_PAYLOAD_MAX bytes round-trip");
}

static void
test_seal_payload_too_long(void)
{
	char	 s[RS_MAX_TOKEN + 1];
	char	 big[RS_SEAL_PAYLOAD_MAX + 2];

	memset(big, 'x', RS_SEAL_PAYLOAD_MAX + 1);
	big[RS_SEAL_PAYLOAD_MAX + 1] = '\0';
	TAP_IS_INT(seal("rsc1", big, s), RS_ERR_RANGE,
	    "seal: a payload past RS_SEAL_PAYLOAD_MAX is RS_ERR_RANGE");
}

static void
test_seal_small_buffer(void)
{
	char	 s[40];

	TAP_IS_INT(rs_seal(key, "rsc1", "hello", s, sizeof(s)), RS_ERR_RANGE,
	    "seal: too small a buffer is RS_ERR_RANGE");
}

static void
test_seal_altered_payload(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1];

	TAP_SETUP(seal("rst1", "hello world, a payload", s) == RS_OK);
	flip(s, 8);
	TAP_IS_INT(open_sealed("rst1", s, p), -1,
	    "seal open: an altered payload character is refused");
}

static void
test_seal_altered_mac(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1], *dot;

	TAP_SETUP(seal("rst1", "hello world", s) == RS_OK);
	dot = strrchr(s, '.');
	flip(dot, 10);
	TAP_IS_INT(open_sealed("rst1", s, p), -1,
	    "seal open: an altered MAC character is refused");
}

static void
test_seal_mac_padding_bits(void)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char			 s[RS_MAX_TOKEN + 1];
	char			 p[RS_SEAL_PAYLOAD_MAX + 1], *last;
	size_t			 v;

	/*
	 * The MAC's 32 bytes take 43 characters, the last carrying 2
	 * unused bits: setting one must not give another valid string.
	 */
	TAP_SETUP(seal("rst1", "hello world", s) == RS_OK);
	last = s + strlen(s) - 1;
	v = (size_t)(strchr(b64, *last) - b64);
	*last = b64[v ^ 1];
	TAP_IS_INT(open_sealed("rst1", s, p), -1,
	    "seal open: a MAC with an unused bit set is refused");
}

static void
test_seal_wrong_key(void)
{
	unsigned char	 other[RS_SECRET_BYTES];
	char		 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1];

	TAP_SETUP(seal("rsc1", "hello", s) == RS_OK);
	rs_secret_derive(master, RS_SECRET_TOKEN, other);
	TAP_IS_INT(rs_seal_open(other, "rsc1", s, p, sizeof(p)), -1,
	    "seal open: another key is refused");
}

static void
test_seal_wrong_tag(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[RS_SEAL_PAYLOAD_MAX + 1];

	TAP_SETUP(seal("rst1", "hello", s) == RS_OK);
	TAP_IS_INT(open_sealed("rsc1", s, p), -1,
	    "seal open: an rst1 string opened as rsc1 is refused");
	memcpy(s, "rsc1", 4);
	TAP_IS_INT(open_sealed("rsc1", s, p), -1,
	    "seal open: an rst1 string relabelled rsc1 is refused");
}

static void
test_seal_truncated(void)
{
	char	 s[RS_MAX_TOKEN + 1], t[RS_MAX_TOKEN + 1];
	char	 p[RS_SEAL_PAYLOAD_MAX + 1];

	TAP_SETUP(seal("rst1", "hello", s) == RS_OK);
	strcpy(t, s);
	t[strlen(t) - 1] = '\0';
	TAP_IS_INT(open_sealed("rst1", t, p), -1,
	    "seal open: one character short is refused");
	strcpy(t, s);
	*strrchr(t, '.') = '\0';
	TAP_IS_INT(open_sealed("rst1", t, p), -1,
	    "seal open: without its MAC is refused");
	TAP_IS_INT(open_sealed("rst1", "rst1.", p), -1,
	    "seal open: the bare tag is refused");
	TAP_IS_INT(open_sealed("rst1", "rst1", p), -1,
	    "seal open: the tag without a dot is refused");
}

static void
test_seal_empty(void)
{
	char	 p[RS_SEAL_PAYLOAD_MAX + 1];

	TAP_IS_INT(open_sealed("rst1", "", p), -1,
	    "seal open: the empty string is refused");
	TAP_IS_INT(open_sealed("rst1", "rst1..", p), -1,
	    "seal open: empty payload and MAC refused");
}

static void
test_seal_over_max_token(void)
{
	char	 tag[200], s[1024], p[RS_SEAL_PAYLOAD_MAX + 1];
	char	 big[RS_SEAL_PAYLOAD_MAX + 1];

	/* Genuinely sealed, but longer than RS_MAX_TOKEN. */
	memset(tag, 't', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	memset(big, 'x', RS_SEAL_PAYLOAD_MAX);
	big[RS_SEAL_PAYLOAD_MAX] = '\0';
	if (!TAP_IS_INT(rs_seal(key, tag, big, s, sizeof(s)), RS_OK,
	    "seal: a long tag and payload seal into a big buffer"))
		return;
	TAP_OK(strlen(s) > RS_MAX_TOKEN,
	    "seal: the result is past RS_MAX_TOKEN");
	TAP_IS_INT(rs_seal_open(key, tag, s, p, sizeof(p)), -1,
	    "seal open: a string past RS_MAX_TOKEN is refused");
}

static void
test_seal_payload_nul(void)
{
	static const unsigned char	 raw[] = { 'a', '\0', 'b' };
	unsigned char			 mac[crypto_auth_BYTES];
	char				 s[RS_MAX_TOKEN + 1];
	char				 p[RS_SEAL_PAYLOAD_MAX + 1];
	size_t				 len;
	ssize_t				 n;

	/* Sealed by hand, since rs_seal() takes a C string. */
	strcpy(s, "rsc1.");
	len = strlen(s);
	TAP_SETUP((n = rs_codec_b64url_encode(s + len, sizeof(s) - len, raw,
	    sizeof(raw))) > 0);
	len += (size_t)n;
	TAP_SETUP(crypto_auth(mac, (const unsigned char *)s, len, key) == 0);
	s[len++] = '.';
	TAP_SETUP(rs_codec_b64url_encode(s + len, sizeof(s) - len, mac,
	    sizeof(mac)) > 0);
	TAP_IS_INT(open_sealed("rsc1", s, p), -1,
	    "seal open: a payload containing NUL is refused");
}

static void
test_seal_small_payload_buffer(void)
{
	char	 s[RS_MAX_TOKEN + 1], p[8];

	TAP_SETUP(seal("rsc1", "a payload longer than eight", s) == RS_OK);
	TAP_IS_INT(rs_seal_open(key, "rsc1", s, p, sizeof(p)), -1,
	    "seal open: a payload too long for the buffer is refused");
}

static void
test_seal_fields_exact(void)
{
	char	 s[] = "a\n\nccc", *f[3];

	if (!TAP_IS_INT(rs_seal_fields(s, f, 3), 0,
	    "seal fields: three fields split into three"))
		return;
	TAP_IS_STR(f[0], "a", "seal fields: first field");
	TAP_IS_STR(f[1], "", "seal fields: empty middle field");
	TAP_IS_STR(f[2], "ccc", "seal fields: last field");
}

static void
test_seal_fields_one_less(void)
{
	char	 s[] = "a\nb\nc", *f[3];

	TAP_IS_INT(rs_seal_fields(s, f, 2), -1,
	    "seal fields: three fields asked as two are refused");
}

static void
test_seal_fields_one_more(void)
{
	char	 s[] = "a\nb\nc", *f[4];

	TAP_IS_INT(rs_seal_fields(s, f, 4), -1,
	    "seal fields: three fields asked as four are refused");
}

static void
test_seal_fields_single(void)
{
	char	 s[] = "alone", *f[1];

	TAP_IS_INT(rs_seal_fields(s, f, 1), 0,
	    "seal fields: one field without a newline");
	TAP_IS_STR(f[0], "alone", "seal fields: the single field");
}

static void
test_cursor_round_trip(void)
{
	struct rs_cursor	 c, got;
	char			 s[RS_CURSOR_MAX];

	sample_cursor(&c);
	if (!TAP_IS_INT(rs_cursor_make(key, &c, s, sizeof(s)), RS_OK,
	    "cursor make: succeeds"))
		return;
	TAP_OK(strncmp(s, "rsc1.", 5) == 0, "cursor make: starts rsc1.");
	if (!TAP_IS_INT(rs_cursor_read(key, s, &got), RS_OK,
	    "cursor read: its own cursor is read"))
		return;
	TAP_IS_STR(got.list, "records", "cursor read: list");
	TAP_IS_STR(got.org_id, c.org_id, "cursor read: org_id");
	TAP_OK(got.sig == c.sig, "cursor read: sig");
	TAP_IS_INT(got.pos, 12345, "cursor read: pos");
	TAP_IS_INT(got.walk, 678, "cursor read: walk");
}

static void
test_cursor_round_trip_extremes(void)
{
	struct rs_cursor	 c, got;
	char			 s[RS_CURSOR_MAX];

	sample_cursor(&c);
	strcpy(c.list, "fifteen-chars-x");
	c.sig = UINT64_MAX;
	c.pos = INT64_MAX;
	c.walk = INT64_MAX;
	if (!TAP_IS_INT(rs_cursor_make(key, &c, s, sizeof(s)), RS_OK,
	    "cursor make: largest values fit RS_CURSOR_MAX"))
		return;
	TAP_SETUP(rs_cursor_read(key, s, &got) == RS_OK);
	TAP_OK(strcmp(got.list, c.list) == 0 && got.sig == UINT64_MAX &&
	    got.pos == INT64_MAX && got.walk == INT64_MAX,
	    "cursor read: largest values round-trip");
	c.sig = 0;
	c.pos = 0;
	c.walk = 0;
	TAP_SETUP(rs_cursor_make(key, &c, s, sizeof(s)) == RS_OK);
	TAP_SETUP(rs_cursor_read(key, s, &got) == RS_OK);
	TAP_OK(got.sig == 0 && got.pos == 0 && got.walk == 0,
	    "cursor read: zero values round-trip");
}

static void
test_cursor_small_buffer(void)
{
	struct rs_cursor	 c;
	char			 s[64];

	sample_cursor(&c);
	TAP_IS_INT(rs_cursor_make(key, &c, s, sizeof(s)), RS_ERR_RANGE,
	    "cursor make: too small a buffer is RS_ERR_RANGE");
}

static void
test_cursor_tampered(void)
{
	struct rs_cursor	 c, got;
	char			 s[RS_CURSOR_MAX];

	sample_cursor(&c);
	TAP_SETUP(rs_cursor_make(key, &c, s, sizeof(s)) == RS_OK);
	flip(s, 12);
	TAP_IS_INT(rs_cursor_read(key, s, &got), RS_ERR_CRYPTO,
	    "cursor read: a tampered cursor is RS_ERR_CRYPTO");
	TAP_IS_STR(got.org_id, "",
	    "cursor read: a refused cursor fills nothing");
}

static void
test_cursor_wrong_key(void)
{
	struct rs_cursor	 c, got;
	unsigned char		 other[RS_SECRET_BYTES];
	char			 s[RS_CURSOR_MAX];

	sample_cursor(&c);
	TAP_SETUP(rs_cursor_make(key, &c, s, sizeof(s)) == RS_OK);
	rs_secret_derive(master, RS_SECRET_TOKEN, other);
	TAP_IS_INT(rs_cursor_read(other, s, &got), RS_ERR_CRYPTO,
	    "cursor read: another key is RS_ERR_CRYPTO");
}

static void
test_cursor_not_synctok(void)
{
	struct rs_synctok	 t;
	struct rs_cursor	 c;
	char			 s[RS_CURSOR_MAX];

	sample_synctok(&t);
	TAP_SETUP(rs_synctok_make(key, &t, s, sizeof(s)) == RS_OK);
	TAP_IS_INT(rs_cursor_read(key, s, &c), RS_ERR_CRYPTO,
	    "cursor read: a sync token is RS_ERR_CRYPTO");
}

static void
test_synctok_not_cursor(void)
{
	struct rs_synctok	 t;
	struct rs_cursor	 c;
	char			 s[RS_CURSOR_MAX];

	sample_cursor(&c);
	TAP_SETUP(rs_cursor_make(key, &c, s, sizeof(s)) == RS_OK);
	TAP_IS_INT(rs_synctok_read(key, s, &t), RS_ERR_CRYPTO,
	    "synctok read: a cursor is RS_ERR_CRYPTO");
}

static void
test_cursor_other_tag(void)
{
	struct rs_cursor	 c;
	char			 p[RS_SEAL_PAYLOAD_MAX + 1];
	char			 s[RS_MAX_TOKEN + 1];

	/* A cursor's payload sealed under the same key as an access token. */
	snprintf(p, sizeof(p), "records\norg_%s\n0000000000000001\n1\n1",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	TAP_SETUP(seal("rst1", p, s) == RS_OK);
	TAP_IS_INT(rs_cursor_read(key, s, &c), RS_ERR_CRYPTO,
	    "cursor read: a cursor payload under tag rst1 is RS_ERR_CRYPTO");
}

static void
test_cursor_bad_fields(void)
{
	/* Payload formats; %s is the org id. */
	static const struct {
		int		 line;
		const char	*fmt;
	} bad[] = {
		{ __LINE__, "records\norg_x\n0000000000000001\n1\n1" },
		{ __LINE__, "records\n%s\n0000000000000001\n1" },
		{ __LINE__, "records\n%s\n0000000000000001\n1\n1\n1" },
		{ __LINE__, "\n%s\n0000000000000001\n1\n1" },
		{ __LINE__, "records\n%s\n000000000000001\n1\n1" },
		{ __LINE__, "records\n%s\nzzzzzzzzzzzzzzzz\n1\n1" },
		{ __LINE__, "records\n%s\n0000000000000001\n-1\n1" },
		{ __LINE__, "records\n%s\n0000000000000001\n1\nx" },
		{ __LINE__, "sixteen-chars-xx\n%s\n0000000000000001\n1\n1" },
	};
	struct rs_cursor	 c;
	char			 org[RS_ID_MAX], p[RS_SEAL_PAYLOAD_MAX + 1];
	char			 s[RS_MAX_TOKEN + 1], name[96];
	size_t			 i;

	rs_id_new(org, sizeof(org), "org_");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(p, sizeof(p), bad[i].fmt, org);
		TAP_SETUP(seal("rsc1", p, s) == RS_OK);
		snprintf(name, sizeof(name),
		    "cursor read: sealed malformed payload %zu is "
		    "RS_ERR_CRYPTO", i);
		if (!TAP_IS_INT(rs_cursor_read(key, s, &c), RS_ERR_CRYPTO,
		    name))
			tap_diag("payload case at line %d", bad[i].line);
	}
}

static void
test_cursor_garbage(void)
{
	static const struct {
		int		 line;
		const char	*s;
	} bad[] = {
		{ __LINE__, "" },
		{ __LINE__, "rsc1" },
		{ __LINE__, "rsc1." },
		{ __LINE__, "rsc1.." },
		{ __LINE__, "rsc1.a.b" },
		{ __LINE__, "cursor" },
	};
	struct rs_cursor	 c;
	char			 name[64];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name),
		    "cursor read: \"%s\" is RS_ERR_CRYPTO", bad[i].s);
		if (!TAP_IS_INT(rs_cursor_read(key, bad[i].s, &c),
		    RS_ERR_CRYPTO, name))
			tap_diag("garbage case at line %d", bad[i].line);
	}
}

static void
test_synctok_round_trip(void)
{
	struct rs_synctok	 t, got;
	char			 s[RS_CURSOR_MAX];

	sample_synctok(&t);
	if (!TAP_IS_INT(rs_synctok_make(key, &t, s, sizeof(s)), RS_OK,
	    "synctok make: succeeds"))
		return;
	TAP_OK(strncmp(s, "rss1.", 5) == 0, "synctok make: starts rss1.");
	if (!TAP_IS_INT(rs_synctok_read(key, s, &got), RS_OK,
	    "synctok read: its own token is read"))
		return;
	TAP_IS_STR(got.org_id, t.org_id, "synctok read: org_id");
	TAP_IS_INT(got.change_seq, 42, "synctok read: change_seq");
	TAP_IS_INT(got.issued_ms, NOW_MS, "synctok read: issued_ms");
}

static void
test_synctok_zero_seq(void)
{
	struct rs_synctok	 t, got;
	char			 s[RS_CURSOR_MAX];

	sample_synctok(&t);
	t.change_seq = 0;
	TAP_SETUP(rs_synctok_make(key, &t, s, sizeof(s)) == RS_OK);
	TAP_OK(rs_synctok_read(key, s, &got) == RS_OK && got.change_seq == 0,
	    "synctok read: change_seq 0 round-trips");
}

static void
test_synctok_tampered(void)
{
	struct rs_synctok	 t, got;
	char			 s[RS_CURSOR_MAX];

	sample_synctok(&t);
	TAP_SETUP(rs_synctok_make(key, &t, s, sizeof(s)) == RS_OK);
	flip(s, 10);
	TAP_IS_INT(rs_synctok_read(key, s, &got), RS_ERR_CRYPTO,
	    "synctok read: a tampered token is RS_ERR_CRYPTO");
	TAP_IS_STR(got.org_id, "",
	    "synctok read: a refused token fills nothing");
}

/*
 * One signature case: queries a and b (with the skip list when skip is
 * set) sign the same when same is set, differently when not.
 */
static const struct sig_case {
	int		 line;
	const char	*a;
	const char	*b;
	int		 skip;
	int		 same;
	const char	*name;
} sig_cases[] = {
	{ __LINE__, "a=1&b=2", "b=2&a=1", 0, 1,
	    "cursor sig: ?a=1&b=2 and ?b=2&a=1 are equal" },
	{ __LINE__, "status=queued&type=x&site=s",
	    "site=s&status=queued&type=x", 0, 1,
	    "cursor sig: three parameters in another order are equal" },
	{ __LINE__, "a=1&b=2", "a=1&b=2", 0, 1,
	    "cursor sig: the same query gives the same signature" },
	{ __LINE__, "", NULL, 0, 1,
	    "cursor sig: the empty and absent queries are equal" },
	{ __LINE__, "a=1&b=2", "a=1&b=3", 0, 0,
	    "cursor sig: another value of b differs" },
	{ __LINE__, "a=1&b=2", "a=2&b=2", 0, 0,
	    "cursor sig: another value of a differs" },
	{ __LINE__, "a=1&b=2", "a=1", 0, 0,
	    "cursor sig: a missing filter differs" },
	{ __LINE__, "a=1&b=2", "a=1&b=2&c=", 0, 0,
	    "cursor sig: an added empty filter differs" },
	{ __LINE__, "a=1&b=2", "a=1&c=2", 0, 0,
	    "cursor sig: another name with the same value differs" },
	{ __LINE__, "ab=c", "a=bc", 0, 0,
	    "cursor sig: ab=c and a=bc differ" },
	{ __LINE__, "status=queued", "status=queued&limit=10", 1, 1,
	    "cursor sig: limit is skipped" },
	{ __LINE__, "status=queued", "cursor=abc&status=queued", 1, 1,
	    "cursor sig: cursor is skipped" },
	{ __LINE__, "status=queued", "limit=5&cursor=xyz&status=queued", 1, 1,
	    "cursor sig: cursor and limit both skipped" },
	{ __LINE__, "limit=5", "", 1, 1,
	    "cursor sig: only skipped names is the empty query" },
	{ __LINE__, "status=queued", "status=synced&limit=10", 1, 0,
	    "cursor sig: a filter still counts beside skipped names" },
	{ __LINE__, "status=queued&limit=10", "status=queued&limit=20", 0, 0,
	    "cursor sig: limit counts when not skipped" },
};

static void
test_cursor_sig_cases(void)
{
	static const char *const skip[] = { "cursor", "limit", NULL };
	const struct sig_case	*t;
	const char *const	*k;
	size_t			 i;

	for (i = 0; i < sizeof(sig_cases) / sizeof(sig_cases[0]); i++) {
		t = &sig_cases[i];
		k = t->skip ? skip : NULL;
		if (!TAP_OK((sig(t->a, k) == sig(t->b, k)) == t->same,
		    t->name))
			tap_diag("sig case at line %d", t->line);
	}
}

int
main(void)
{
	tap_plan(93);
	fixture_subkey(master, RS_SECRET_CURSOR, key);
	rs_arena_init(&arena);

	test_seal_round_trip();
	test_seal_round_trip_empty();
	test_seal_round_trip_max();
	test_seal_payload_too_long();
	test_seal_small_buffer();
	test_seal_altered_payload();
	test_seal_altered_mac();
	test_seal_mac_padding_bits();
	test_seal_wrong_key();
	test_seal_wrong_tag();
	test_seal_truncated();
	test_seal_empty();
	test_seal_over_max_token();
	test_seal_payload_nul();
	test_seal_small_payload_buffer();
	test_seal_fields_exact();
	test_seal_fields_one_less();
	test_seal_fields_one_more();
	test_seal_fields_single();
	test_cursor_round_trip();
	test_cursor_round_trip_extremes();
	test_cursor_small_buffer();
	test_cursor_tampered();
	test_cursor_wrong_key();
	test_cursor_not_synctok();
	test_synctok_not_cursor();
	test_cursor_other_tag();
	test_cursor_bad_fields();
	test_cursor_garbage();
	test_synctok_round_trip();
	test_synctok_zero_seq();
	test_synctok_tampered();
	test_cursor_sig_cases();

	rs_arena_free(&arena);
	return tap_done();
}
