/*
 * test-whsig: webhook secrets, their sealing and the Standard Webhooks
 * signature (lib/whsig.h). The expected signatures were computed outside
 * this code, with Python's hmac module:
 *
 *   python3 -c 'import hmac,hashlib,base64; key=bytes(range(32));
 *     msg=b"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1614265330.{\"test\": 2432232314}";
 *     print("v1,"+base64.b64encode(hmac.new(key,msg,hashlib.sha256).digest()).decode())'
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "secret.h"
#include "whsig.h"
#include "fixture.h"
#include "tap.h"

/* bytes(range(32)), as a secret's text. */
#define KNOWN_SECRET	"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KNOWN_ID	"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
#define KNOWN_TS	INT64_C(1614265330)
#define KNOWN_BODY	"{\"test\": 2432232314}"
#define KNOWN_SIG	"v1,5DJQNPXi/Ri56kFO62OYFtL5Km0Oqhbya5pKx4a6Fwk="
/* HMAC of "evt_01.0." under the same key: an empty body, timestamp 0. */
#define EMPTY_SIG	"v1,3i0aAzsrE7mNkuA29ypv2cW12ddIqYaNZJYj9H8GQ/g="

/* 1 when hay holds the n bytes of needle somewhere. */
static int
contains(const unsigned char *hay, size_t len, const unsigned char *needle,
    size_t n)
{
	size_t	 i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static void
test_whsig_known_vector(void)
{
	unsigned char	 key[RS_WHSIG_KEY], want[RS_WHSIG_KEY];
	char		 sig[RS_WHSIG_SIG_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)i;
	TAP_IS_INT(rs_whsig_secret_decode(KNOWN_SECRET, key), RS_OK,
	    "test_whsig_decode_known: the known secret decodes");
	TAP_OK(memcmp(key, want, sizeof(key)) == 0,
	    "test_whsig_decode_known: to bytes 0..31");
	rs_whsig_sign(key, KNOWN_ID, KNOWN_TS, KNOWN_BODY, strlen(KNOWN_BODY),
	    sig, sizeof(sig));
	TAP_IS_STR(sig, KNOWN_SIG,
	    "test_whsig_sign_known: matches Python's HMAC-SHA256");
	rs_whsig_sign(key, "evt_01", 0, "", 0, sig, sizeof(sig));
	TAP_IS_STR(sig, EMPTY_SIG,
	    "test_whsig_sign_empty: empty body, timestamp 0");
	/* One byte of the body more changes it. */
	rs_whsig_sign(key, KNOWN_ID, KNOWN_TS, KNOWN_BODY " ",
	    strlen(KNOWN_BODY) + 1, sig, sizeof(sig));
	TAP_OK(strcmp(sig, KNOWN_SIG) != 0,
	    "test_whsig_sign_body: another body, another signature");
	rs_whsig_sign(key, KNOWN_ID, KNOWN_TS + 1, KNOWN_BODY,
	    strlen(KNOWN_BODY), sig, sizeof(sig));
	TAP_OK(strcmp(sig, KNOWN_SIG) != 0,
	    "test_whsig_sign_ts: another timestamp, another signature");
	rs_whsig_sign(key, KNOWN_ID, KNOWN_TS, KNOWN_BODY, strlen(KNOWN_BODY),
	    sig, 10);
	TAP_IS_STR(sig, "", "test_whsig_sign_small: no half signature");
}

static void
test_whsig_secret_new(void)
{
	char		 a[RS_WHSIG_SECRET_MAX], b[RS_WHSIG_SECRET_MAX];
	unsigned char	 ka[RS_WHSIG_KEY], kb[RS_WHSIG_KEY], back[RS_WHSIG_KEY];

	rs_whsig_secret_new(a, sizeof(a), ka);
	rs_whsig_secret_new(b, sizeof(b), kb);
	TAP_IS_INT(strlen(a), 6 + 44, "test_whsig_secret_new: 50 characters");
	TAP_IS_INT(strncmp(a, "whsec_", 6), 0,
	    "test_whsig_secret_new: whsec_ prefix");
	TAP_OK(a[49] == '=' && strspn(a + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=") == 44,
	    "test_whsig_secret_new: standard base64 with padding");
	TAP_OK(strcmp(a, b) != 0 && memcmp(ka, kb, sizeof(ka)) != 0,
	    "test_whsig_secret_new: two secrets differ");
	TAP_OK(rs_whsig_secret_decode(a, back) == RS_OK &&
	    memcmp(back, ka, sizeof(ka)) == 0,
	    "test_whsig_secret_new: the text decodes to its key");
	rs_whsig_secret_new(a, 20, ka);
	TAP_IS_STR(a, "", "test_whsig_secret_new: a short buffer gets nothing");
}

static void
test_whsig_secret_decode_bad(void)
{
	static const char *const bad[] = {
		"",
		"whsec_",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",	/* no prefix */
		"whsek_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",	/* no pad */
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x",
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=",	/* url */
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMU FRYXGBkaGxwdHh8=",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",	/* 24 bytes */
	};
	unsigned char	 key[RS_WHSIG_KEY];
	char		 name[128];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "test_whsig_decode_bad: "
		    "\"%.60s\" refused", bad[i]);
		TAP_IS_INT(rs_whsig_secret_decode(bad[i], key), RS_ERR_INVAL,
		    name);
	}
}

static void
test_whsig_seal(void)
{
	unsigned char	 master[RS_SECRET_BYTES], sk[RS_SECRET_BYTES];
	unsigned char	 other[RS_SECRET_BYTES];
	unsigned char	 key[RS_WHSIG_KEY], back[RS_WHSIG_KEY];
	unsigned char	 s1[RS_WHSIG_SEALED], s2[RS_WHSIG_SEALED];
	char		 text[RS_WHSIG_SECRET_MAX];

	fixture_subkey(master, RS_SECRET_WEBHOOK, sk);
	rs_secret_derive(master, RS_SECRET_CURSOR, other);
	rs_whsig_secret_new(text, sizeof(text), key);
	rs_whsig_seal(sk, key, s1);
	rs_whsig_seal(sk, key, s2);
	TAP_OK(memcmp(s1, s2, sizeof(s1)) != 0,
	    "test_whsig_seal_nonce: two seals of one key differ");
	TAP_OK(!contains(s1, sizeof(s1), key, sizeof(key)),
	    "test_whsig_seal_hidden: the key is not in the clear");
	TAP_OK(rs_whsig_open(sk, s1, sizeof(s1), back) == RS_OK &&
	    memcmp(back, key, sizeof(key)) == 0,
	    "test_whsig_open: opens to the key");
	TAP_OK(rs_whsig_open(sk, s2, sizeof(s2), back) == RS_OK &&
	    memcmp(back, key, sizeof(key)) == 0,
	    "test_whsig_open: the second seal too");
	TAP_IS_INT(rs_whsig_open(other, s1, sizeof(s1), back), RS_ERR_INVAL,
	    "test_whsig_open_key: another subkey cannot open it");
	s1[RS_WHSIG_SEALED - 1] ^= 1;
	TAP_IS_INT(rs_whsig_open(sk, s1, sizeof(s1), back), RS_ERR_INVAL,
	    "test_whsig_open_changed: a changed box is refused");
	s1[RS_WHSIG_SEALED - 1] ^= 1;
	s1[0] ^= 1;
	TAP_IS_INT(rs_whsig_open(sk, s1, sizeof(s1), back), RS_ERR_INVAL,
	    "test_whsig_open_nonce: a changed nonce is refused");
	s1[0] ^= 1;
	TAP_IS_INT(rs_whsig_open(sk, s1, sizeof(s1) - 1, back), RS_ERR_INVAL,
	    "test_whsig_open_short: a short blob is refused");
	TAP_IS_INT(rs_whsig_open(sk, s1, 0, back), RS_ERR_INVAL,
	    "test_whsig_open_empty: an empty blob is refused");
	sodium_memzero(master, sizeof(master));
	sodium_memzero(sk, sizeof(sk));
}

int
main(void)
{
	tap_plan(7 + 6 + 10 + 9);
	TAP_SETUP(sodium_init() >= 0);
	test_whsig_known_vector();
	test_whsig_secret_new();
	test_whsig_secret_decode_bad();
	test_whsig_seal();
	return tap_done();
}
