/*
 * test-apikey: API keys and their hash (lib/apikey.h), and the secret
 * file (rs_secret_create / rs_secret_load in lib/secret.h).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "apikey.h"
#include "secret.h"
#include "fixture.h"
#include "tap.h"

static char	 dir[64];

/* dir/name into buf. */
static const char *
path(char *buf, size_t bufsz, const char *name)
{
	snprintf(buf, bufsz, "%s/%s", dir, name);
	return buf;
}

/* Writes contents to dir/name (mode 0600, as a secret is); 0 or -1. */
static int
write_file(const char *name, const char *contents)
{
	char	 p[128];
	FILE	*f;
	int	 rc;

	if ((f = fopen(path(p, sizeof(p), name), "w")) == NULL)
		return -1;
	rc = fchmod(fileno(f), 0600) != 0 || fputs(contents, f) < 0;
	return fclose(f) != 0 || rc ? -1 : 0;
}

/* A well-formed key with the character at i replaced by c. */
static void
key_with(char *key, size_t i, char c)
{
	rs_apikey_new(key, RS_APIKEY_LEN + 1);
	key[i] = c;
}

static void
test_apikey_new_shape(void)
{
	char	 key[RS_APIKEY_LEN + 1];

	rs_apikey_new(key, sizeof(key));
	TAP_OK(strncmp(key, "rs_live_", 8) == 0,
	    "apikey new: starts with rs_live_");
	TAP_IS_INT(strlen(key), RS_APIKEY_LEN,
	    "apikey new: RS_APIKEY_LEN characters");
	TAP_IS_INT(rs_apikey_wellformed(key), 1,
	    "apikey new: a new key is well-formed");
}

static void
test_apikey_new_differs(void)
{
	char	 a[RS_APIKEY_LEN + 1], b[RS_APIKEY_LEN + 1];

	rs_apikey_new(a, sizeof(a));
	rs_apikey_new(b, sizeof(b));
	TAP_OK(strcmp(a, b) != 0, "apikey new: two keys differ");
}

static void
test_apikey_new_small_buffer(void)
{
	char	 key[RS_APIKEY_LEN];

	memset(key, 'x', sizeof(key));
	rs_apikey_new(key, sizeof(key));
	TAP_IS_STR(key, "", "apikey new: too small a buffer gets \"\"");
}

static void
test_apikey_wellformed_prefix(void)
{
	char	 key[RS_APIKEY_LEN + 1];

	rs_apikey_new(key, sizeof(key));
	memcpy(key, "rs_test_", 8);
	TAP_IS_INT(rs_apikey_wellformed(key), 0,
	    "apikey wellformed: wrong prefix refused");
}

static void
test_apikey_wellformed_length(void)
{
	char	 key[RS_APIKEY_LEN + 2];

	rs_apikey_new(key, sizeof(key));
	key[RS_APIKEY_LEN - 1] = '\0';
	TAP_IS_INT(rs_apikey_wellformed(key), 0,
	    "apikey wellformed: one character short refused");
	rs_apikey_new(key, sizeof(key));
	key[RS_APIKEY_LEN] = 'a';
	key[RS_APIKEY_LEN + 1] = '\0';
	TAP_IS_INT(rs_apikey_wellformed(key), 0,
	    "apikey wellformed: one character long refused");
	TAP_IS_INT(rs_apikey_wellformed("rs_live_"), 0,
	    "apikey wellformed: prefix alone refused");
	TAP_IS_INT(rs_apikey_wellformed(""), 0,
	    "apikey wellformed: empty string refused");
}

static void
test_apikey_wellformed_chars(void)
{
	static const char bad[] = { '+', '/', '=', '.', ' ', '!' };
	char	 key[RS_APIKEY_LEN + 1], name[64];
	size_t	 i;

	for (i = 0; i < sizeof(bad); i++) {
		key_with(key, 8 + i * 5, bad[i]);
		snprintf(name, sizeof(name),
		    "apikey wellformed: '%c' in the body refused", bad[i]);
		TAP_IS_INT(rs_apikey_wellformed(key), 0, name);
	}
	key_with(key, RS_APIKEY_LEN - 1, '\xc3');
	TAP_IS_INT(rs_apikey_wellformed(key), 0,
	    "apikey wellformed: non-ASCII byte refused");
}

static void
test_apikey_wellformed_alphabet(void)
{
	char	 key[RS_APIKEY_LEN + 1];

	memcpy(key, "rs_live_", 8);
	memcpy(key + 8, "azAZ09-_azAZ09-_azAZ09-_azAZ09-_azAZ09-_azA", 43);
	key[RS_APIKEY_LEN] = '\0';
	TAP_IS_INT(rs_apikey_wellformed(key), 1,
	    "apikey wellformed: the whole base64url alphabet accepted");
}

static void
test_apikey_hash_deterministic(void)
{
	unsigned char	 k[32], h1[RS_APIKEY_HASH_BYTES];
	unsigned char	 h2[RS_APIKEY_HASH_BYTES];
	char		 key[RS_APIKEY_LEN + 1];

	randombytes_buf(k, sizeof(k));
	rs_apikey_new(key, sizeof(key));
	rs_apikey_hash(k, key, h1);
	rs_apikey_hash(k, key, h2);
	TAP_OK(memcmp(h1, h2, sizeof(h1)) == 0,
	    "apikey hash: same key and subkey give the same hash");
}

static void
test_apikey_hash_subkey(void)
{
	unsigned char	 k1[32], k2[32];
	unsigned char	 h1[RS_APIKEY_HASH_BYTES], h2[RS_APIKEY_HASH_BYTES];
	char		 key[RS_APIKEY_LEN + 1];

	randombytes_buf(k1, sizeof(k1));
	memcpy(k2, k1, sizeof(k2));
	k2[31] ^= 0x80;
	rs_apikey_new(key, sizeof(key));
	rs_apikey_hash(k1, key, h1);
	rs_apikey_hash(k2, key, h2);
	TAP_OK(memcmp(h1, h2, sizeof(h1)) != 0,
	    "apikey hash: another subkey gives another hash");
}

static void
test_apikey_hash_key(void)
{
	unsigned char	 k[32];
	unsigned char	 h1[RS_APIKEY_HASH_BYTES], h2[RS_APIKEY_HASH_BYTES];
	char		 a[RS_APIKEY_LEN + 1], b[RS_APIKEY_LEN + 1];

	randombytes_buf(k, sizeof(k));
	rs_apikey_new(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[RS_APIKEY_LEN - 1] = b[RS_APIKEY_LEN - 1] == 'A' ? 'B' : 'A';
	rs_apikey_hash(k, a, h1);
	rs_apikey_hash(k, b, h2);
	TAP_OK(memcmp(h1, h2, sizeof(h1)) != 0,
	    "apikey hash: another key gives another hash");
}

static void
test_secret_create_mode(void)
{
	struct stat	 st;
	char		 p[128];

	path(p, sizeof(p), "created.key");
	TAP_IS_INT(rs_secret_create(p), RS_OK, "secret create: succeeds");
	TAP_OK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "secret create: file is mode 0600");
	TAP_OK(stat(p, &st) == 0 && st.st_size == 65,
	    "secret create: 64 hex characters and a newline");
}

static void
test_secret_create_exists(void)
{
	unsigned char	 before[RS_SECRET_BYTES], after[RS_SECRET_BYTES];
	char		 p[128];

	path(p, sizeof(p), "twice.key");
	TAP_SETUP(rs_secret_create(p) == RS_OK);
	TAP_SETUP(rs_secret_load(p, before) == RS_OK);
	TAP_IS_INT(rs_secret_create(p), RS_ERR_EXISTS,
	    "secret create: an existing file is RS_ERR_EXISTS");
	TAP_OK(rs_secret_load(p, after) == RS_OK &&
	    memcmp(before, after, sizeof(before)) == 0,
	    "secret create: an existing secret is left as it was");
}

static void
test_secret_create_fresh(void)
{
	unsigned char	 a[RS_SECRET_BYTES], b[RS_SECRET_BYTES];
	char		 pa[128], pb[128];

	TAP_SETUP(rs_secret_create(path(pa, sizeof(pa), "fresh-a.key")) ==
	    RS_OK);
	TAP_SETUP(rs_secret_create(path(pb, sizeof(pb), "fresh-b.key")) ==
	    RS_OK);
	TAP_OK(rs_secret_load(pa, a) == RS_OK && rs_secret_load(pb, b) ==
	    RS_OK && memcmp(a, b, sizeof(a)) != 0,
	    "secret create: two secrets differ");
}

static void
test_secret_load_known(void)
{
	unsigned char	 key[RS_SECRET_BYTES], want[RS_SECRET_BYTES];
	char		 p[128];
	size_t		 i;

	for (i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)(i * 7 + 1);
	TAP_SETUP(write_file("known.key",
	    "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da"
	    "\n") == 0);
	TAP_IS_INT(rs_secret_load(path(p, sizeof(p), "known.key"), key),
	    RS_OK, "secret load: a 64-hex-digit file loads");
	TAP_OK(memcmp(key, want, sizeof(key)) == 0,
	    "secret load: the bytes are the file's hex");
}

static void
test_secret_load_malformed(void)
{
	static const struct {
		const char	*name;
		const char	*contents;
	} bad[] = {
		{ "empty.key", "" },
		{ "short.key",
		    "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3"
		    "\n" },
		{ "long.key",
		    "01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da"
		    "00\n" },
		{ "nothex.key",
		    "zz080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da"
		    "\n" },
	};
	unsigned char	 key[RS_SECRET_BYTES];
	char		 p[128], name[64];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TAP_SETUP(write_file(bad[i].name, bad[i].contents) == 0);
		snprintf(name, sizeof(name),
		    "secret load: %s is RS_ERR_INVAL", bad[i].name);
		TAP_IS_INT(rs_secret_load(path(p, sizeof(p), bad[i].name), key),
		    RS_ERR_INVAL, name);
	}
}

static void
test_secret_load_missing(void)
{
	unsigned char	 key[RS_SECRET_BYTES];
	char		 p[128];

	TAP_IS_INT(rs_secret_load(path(p, sizeof(p), "absent.key"), key),
	    RS_ERR_IO, "secret load: a missing file is RS_ERR_IO");
}

/* Removes every file this program made in dir, then dir. */
static void
cleanup(void)
{
	static const char *const files[] = {
		"created.key", "twice.key", "fresh-a.key", "fresh-b.key",
		"known.key", "empty.key", "short.key", "long.key",
		"nothex.key",
	};
	char	 p[128];
	size_t	 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path(p, sizeof(p), files[i]));
	if (rmdir(dir) != 0)
		tap_diag("cannot remove %s", dir);
}

int
main(void)
{
	tap_plan(34);
	fixture_start(dir, sizeof(dir), "rs-apikey");

	test_apikey_new_shape();
	test_apikey_new_differs();
	test_apikey_new_small_buffer();
	test_apikey_wellformed_prefix();
	test_apikey_wellformed_length();
	test_apikey_wellformed_chars();
	test_apikey_wellformed_alphabet();
	test_apikey_hash_deterministic();
	test_apikey_hash_subkey();
	test_apikey_hash_key();
	test_secret_create_mode();
	test_secret_create_exists();
	test_secret_create_fresh();
	test_secret_load_known();
	test_secret_load_malformed();
	test_secret_load_missing();

	cleanup();
	return tap_done();
}
