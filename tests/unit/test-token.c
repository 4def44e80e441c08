/*
 * test-token: access tokens (lib/token.h) and subkey derivation
 * (rs_secret_derive in lib/secret.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "limits.h"
#include "id.h"
#include "role.h"
#include "secret.h"
#include "token.h"
#include "fixture.h"
#include "tap.h"

#define NOW	INT64_C(1764179121)	/* 2025-11-26T17:45:21Z */

static unsigned char	 master[RS_SECRET_BYTES];
static unsigned char	 subkey[RS_SECRET_BYTES];

/* A token for fresh ids, as operator, expiring at exp. */
static void
sample(struct rs_token *t, int64_t exp)
{
	memset(t, 0, sizeof(*t));
	rs_id_new(t->org_id, sizeof(t->org_id), "org_");
	rs_id_new(t->user_id, sizeof(t->user_id), "usr_");
	rs_id_new(t->key_id, sizeof(t->key_id), "key_");
	t->role = RS_ROLE_OPERATOR;
	t->exp = exp;
}

/* Mints a token for sample(exp) into buf (RS_MAX_TOKEN + 1 bytes). */
static enum rs_err
mint(struct rs_token *t, int64_t exp, char *buf)
{
	sample(t, exp);
	return rs_token_mint(subkey, t, buf, RS_MAX_TOKEN + 1);
}

/* Replaces the base64url character at s[i] with another one. */
static void
flip(char *s, size_t i)
{
	s[i] = s[i] == 'A' ? 'B' : 'A';
}

static void
test_token_round_trip(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1];

	if (!TAP_IS_INT(mint(&t, NOW + 900, buf), RS_OK,
	    "token mint: succeeds"))
		return;
	TAP_OK(strncmp(buf, "rst1.", 5) == 0, "token mint: starts rst1.");
	TAP_IS_INT(rs_token_verify(subkey, buf, NOW, &got), RS_OK,
	    "token verify: a fresh token verifies");
	TAP_IS_STR(got.org_id, t.org_id, "token verify: org_id");
	TAP_IS_STR(got.user_id, t.user_id, "token verify: user_id");
	TAP_IS_STR(got.key_id, t.key_id, "token verify: key_id");
	TAP_IS_INT(got.role, RS_ROLE_OPERATOR, "token verify: role");
	TAP_IS_INT(got.exp, NOW + 900, "token verify: exp");
}

static void
test_token_round_trip_roles(void)
{
	static const struct {
		int		 line;
		enum rs_role	 role;
	} roles[] = {
		{ __LINE__, RS_ROLE_ADMIN },
		{ __LINE__, RS_ROLE_OPERATOR },
		{ __LINE__, RS_ROLE_VIEWER },
	};
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1], name[64];
	size_t		 i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		sample(&t, NOW + 1);
		t.role = roles[i].role;
		snprintf(name, sizeof(name), "token verify: role %s kept",
		    rs_role_name(roles[i].role));
		if (!TAP_OK(rs_token_mint(subkey, &t, buf, sizeof(buf)) ==
		    RS_OK && rs_token_verify(subkey, buf, NOW, &got) == RS_OK &&
		    got.role == roles[i].role, name))
			tap_diag("role case at line %d", roles[i].line);
	}
}

static void
test_token_small_buffer(void)
{
	struct rs_token	 t;
	char		 buf[64];

	sample(&t, NOW + 900);
	TAP_IS_INT(rs_token_mint(subkey, &t, buf, sizeof(buf)), RS_ERR_RANGE,
	    "token mint: too small a buffer is RS_ERR_RANGE");
}

static void
test_token_expired(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1];

	TAP_SETUP(mint(&t, NOW - 1, buf) == RS_OK);
	TAP_IS_INT(rs_token_verify(subkey, buf, NOW, &got), RS_ERR_RANGE,
	    "token verify: expired is RS_ERR_RANGE");
}

static void
test_token_expires_now(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1];

	TAP_SETUP(mint(&t, NOW, buf) == RS_OK);
	TAP_IS_INT(rs_token_verify(subkey, buf, NOW, &got), RS_ERR_RANGE,
	    "token verify: exp == now is RS_ERR_RANGE");
}

static void
test_token_tampered_payload(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1];

	TAP_SETUP(mint(&t, NOW + 900, buf) == RS_OK);
	flip(buf, 10);
	TAP_IS_INT(rs_token_verify(subkey, buf, NOW, &got), RS_ERR_CRYPTO,
	    "token verify: tampered payload is RS_ERR_CRYPTO");
	TAP_IS_STR(got.org_id, "", "token verify: forged token fills nothing");
}

static void
test_token_tampered_tag(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1], *dot;

	TAP_SETUP(mint(&t, NOW + 900, buf) == RS_OK);
	dot = strrchr(buf, '.');
	flip(dot, 10);
	TAP_IS_INT(rs_token_verify(subkey, buf, NOW, &got), RS_ERR_CRYPTO,
	    "token verify: tampered tag is RS_ERR_CRYPTO");
}

static void
test_token_truncated_tag(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1];

	TAP_SETUP(mint(&t, NOW + 900, buf) == RS_OK);
	buf[strlen(buf) - 1] = '\0';
	TAP_IS_INT(rs_token_verify(subkey, buf, NOW, &got), RS_ERR_CRYPTO,
	    "token verify: truncated tag is RS_ERR_CRYPTO");
}

static void
test_token_wrong_subkey(void)
{
	struct rs_token	 t, got;
	unsigned char	 other[RS_SECRET_BYTES];
	char		 buf[RS_MAX_TOKEN + 1];

	TAP_SETUP(mint(&t, NOW + 900, buf) == RS_OK);
	rs_secret_derive(master, RS_SECRET_CURSOR, other);
	TAP_IS_INT(rs_token_verify(other, buf, NOW, &got), RS_ERR_CRYPTO,
	    "token verify: another subkey is RS_ERR_CRYPTO");
}

static void
test_token_garbage(void)
{
	static const struct {
		int		 line;
		const char	*s;
	} bad[] = {
		{ __LINE__, "" },
		{ __LINE__, "rst1." },
		{ __LINE__, "rst1.." },
		{ __LINE__, "rst1.a.b" },
		{ __LINE__, "Bearer x" },
		{ __LINE__, "rst2.aa.bb" },
	};
	struct rs_token	 got;
	char		 name[64], big[601];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name),
		    "token verify: \"%s\" is RS_ERR_CRYPTO", bad[i].s);
		if (!TAP_IS_INT(rs_token_verify(subkey, bad[i].s, NOW, &got),
		    RS_ERR_CRYPTO, name))
			tap_diag("garbage case at line %d", bad[i].line);
	}
	memset(big, 'A', sizeof(big) - 1);
	memcpy(big, "rst1.", 5);
	big[300] = '.';
	big[sizeof(big) - 1] = '\0';
	TAP_IS_INT(rs_token_verify(subkey, big, NOW, &got), RS_ERR_CRYPTO,
	    "token verify: 600-character string is RS_ERR_CRYPTO");
}

/*
 * Found by tests/fuzz (fuzz-token): libsodium 1.0.18 decodes a byte past
 * 0x7f as '_', so a genuine token with its '_' changed to such a byte
 * verified. Every character of a token, each changed to 0x80 and 0xdf,
 * must be refused.
 */
static void
test_token_high_bytes(void)
{
	struct rs_token	 t, got;
	char		 buf[RS_MAX_TOKEN + 1], orig;
	size_t		 i, len, passed = 0;

	if (!TAP_IS_INT(mint(&t, NOW + 900, buf), RS_OK,
	    "token high bytes: mint"))
		return;
	len = strlen(buf);
	for (i = 0; i < len; i++) {
		orig = buf[i];
		buf[i] = (char)0x80;
		if (rs_token_verify(subkey, buf, NOW, &got) == RS_ERR_CRYPTO)
			passed++;
		buf[i] = (char)0xdf;
		if (rs_token_verify(subkey, buf, NOW, &got) == RS_ERR_CRYPTO)
			passed++;
		buf[i] = orig;
	}
	if (!TAP_IS_INT(passed, 2 * len,
	    "token verify: a byte past 0x7f anywhere is RS_ERR_CRYPTO"))
		tap_diag("%s", buf);
}

static void
test_secret_derive_per_use(void)
{
	unsigned char	 a[RS_SECRET_BYTES], b[RS_SECRET_BYTES];
	unsigned char	 c[RS_SECRET_BYTES];

	rs_secret_derive(master, RS_SECRET_APIKEY, a);
	rs_secret_derive(master, RS_SECRET_TOKEN, b);
	rs_secret_derive(master, RS_SECRET_INVITE, c);
	TAP_OK(memcmp(a, b, sizeof(a)) != 0 && memcmp(b, c, sizeof(b)) != 0 &&
	    memcmp(a, c, sizeof(a)) != 0,
	    "secret derive: each use has its own subkey");
	TAP_OK(memcmp(a, master, sizeof(a)) != 0,
	    "secret derive: a subkey is not the master key");
}

static void
test_secret_derive_stable(void)
{
	unsigned char	 a[RS_SECRET_BYTES], b[RS_SECRET_BYTES];
	unsigned char	 other[RS_SECRET_BYTES];

	rs_secret_derive(master, RS_SECRET_TOKEN, a);
	rs_secret_derive(master, RS_SECRET_TOKEN, b);
	TAP_OK(memcmp(a, b, sizeof(a)) == 0,
	    "secret derive: same master and use give the same subkey");
	memcpy(other, master, sizeof(other));
	other[0] ^= 1;
	rs_secret_derive(other, RS_SECRET_TOKEN, b);
	TAP_OK(memcmp(a, b, sizeof(a)) != 0,
	    "secret derive: another master gives another subkey");
}

int
main(void)
{
	tap_plan(32);
	fixture_subkey(master, RS_SECRET_TOKEN, subkey);

	test_token_round_trip();
	test_token_round_trip_roles();
	test_token_small_buffer();
	test_token_expired();
	test_token_expires_now();
	test_token_tampered_payload();
	test_token_tampered_tag();
	test_token_truncated_tag();
	test_token_wrong_subkey();
	test_token_garbage();
	test_token_high_bytes();
	test_secret_derive_per_use();
	test_secret_derive_stable();

	return tap_done();
}
