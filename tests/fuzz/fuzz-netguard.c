/*
 * fuzz-netguard.c: a libFuzzer target for the webhook URL checker
 * (netguard.h): rs_netguard_url, the syntactic part that runs before any
 * name is resolved, and the address classes (rs_netguard_refused).
 * Nothing is resolved and nothing connects. Built and run by
 * tests/fuzz/run; seeds in tests/fuzz/corpus/netguard/.
 *
 * The first byte picks what the rest is: even, a URL (up to a NUL);
 * odd, an address: 4 bytes (IPv4), the same address carried in IPv6
 * (mapped, NAT64, 6to4) and the next 16 bytes as IPv6. Beyond what the
 * sanitizers catch, the target abort()s when:
 *   - a refusal has no reason, or a URL refused where private targets
 *     are allowed is accepted where they are not;
 *   - an accepted URL's parts are not those a plain reading of it gives
 *     (scheme, host between "://" and the port's colon or the path,
 *     without brackets or one trailing dot, in lower case; the port or
 *     the scheme's); its host is not a literal address or a name of
 *     letters, digits, '-', '_' in labels of 1 to 63; it is accepted
 *     without private targets allowed but is plain http, names
 *     localhost, or is a literal address rs_netguard_refused refuses;
 *     or it reads otherwise with private targets allowed;
 *   - IPv4 in IPv6: mapped is refused, NAT64 (64:ff9b::/96) and 6to4
 *     (2002::/16) are refused exactly when the IPv4 address is.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netguard.h"

#define FUZZ_NAME	"netguard"
#include "fuzz.h"

static int
fz_refused4(const unsigned char a[4])
{
	struct sockaddr_in	 s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	memcpy(&s.sin_addr, a, 4);
	return rs_netguard_refused((struct sockaddr *)&s);
}

static int
fz_refused6(const unsigned char a[16])
{
	struct sockaddr_in6	 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	memcpy(&s.sin6_addr, a, 16);
	return rs_netguard_refused((struct sockaddr *)&s);
}

static void
fz_addr(const uint8_t *d, size_t n)
{
	unsigned char	 a4[4], a6[16];
	int		 r4;

	memset(a4, 0, sizeof(a4));
	memcpy(a4, d, n < 4 ? n : 4);
	r4 = fz_refused4(a4);
	CHECK(r4 == 0 || r4 == 1);
	memset(a6, 0, sizeof(a6));
	a6[10] = a6[11] = 0xff;			/* ::ffff:a.b.c.d */
	memcpy(a6 + 12, a4, 4);
	CHECK(fz_refused6(a6) == 1);
	memset(a6, 0, sizeof(a6));		/* 64:ff9b::a.b.c.d */
	a6[1] = 0x64;
	a6[2] = 0xff;
	a6[3] = 0x9b;
	memcpy(a6 + 12, a4, 4);
	CHECK(fz_refused6(a6) == r4);
	memset(a6, 0, sizeof(a6));		/* 2002:a.b.c.d::/48 */
	a6[0] = 0x20;
	a6[1] = 0x02;
	memcpy(a6 + 2, a4, 4);
	if (n > 20)
		memcpy(a6 + 6, d + 10, 10);
	CHECK(fz_refused6(a6) == r4);
	if (n >= 20) {
		memcpy(a6, d + 4, 16);
		CHECK(fz_refused6(a6) == 0 || fz_refused6(a6) == 1);
	}
}

/* The parts of url as a plain reading finds them, for an accepted one. */
static void
fz_plain(const char *url, const struct rs_netguard_url *u)
{
	const char	*auth, *end, *colon, *h;
	char		 host[RS_NETGUARD_HOST_MAX];
	size_t		 hlen, i;
	long		 port;

	CHECK((u->https && strncasecmp(url, "https://", 8) == 0) ||
	    (!u->https && strncasecmp(url, "http://", 7) == 0));
	auth = url + (u->https ? 8 : 7);
	end = auth + strcspn(auth, "/?");
	if (*auth == '[') {
		h = auth + 1;
		colon = strchr(auth, ']');
		CHECK(colon != NULL && colon < end);
		hlen = (size_t)(colon - h);
		colon = colon + 1 < end ? colon + 1 : NULL;
	} else {
		h = auth;
		colon = memchr(auth, ':', (size_t)(end - auth));
		hlen = (size_t)((colon ? colon : end) - auth);
		if (hlen > 0 && h[hlen - 1] == '.')
			hlen--;
	}
	CHECK(hlen > 0 && hlen < sizeof(host));
	for (i = 0; i < hlen; i++)
		host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	host[hlen] = '\0';
	CHECK(strcmp(host, u->host) == 0);
	if (colon == NULL)
		CHECK(u->port == (u->https ? 443 : 80));
	else {
		CHECK(*colon == ':');
		port = strtol(colon + 1, NULL, 10);
		CHECK(port == u->port);
	}
}

static void
fz_host(const struct rs_netguard_url *u, int allow_private)
{
	unsigned char	 a[16];
	const char	*label;
	size_t		 n;

	CHECK(u->host[0] != '\0' && memchr(u->host, '\0',
	    sizeof(u->host)) != NULL);
	CHECK(u->port >= 1 && u->port <= 65535);
	if (u->literal) {
		if (inet_pton(AF_INET, u->host, a) == 1)
			CHECK(allow_private || !fz_refused4(a));
		else {
			CHECK(inet_pton(AF_INET6, u->host, a) == 1);
			CHECK(allow_private || !fz_refused6(a));
		}
		return;
	}
	CHECK(strspn(u->host, "abcdefghijklmnopqrstuvwxyz0123456789-_.") ==
	    strlen(u->host));
	for (label = u->host; ; label += n + 1) {
		n = strcspn(label, ".");
		CHECK(n >= 1 && n <= 63);
		if (label[n] == '\0')
			break;
	}
	CHECK(!(*label >= '0' && *label <= '9'));
	if (!allow_private) {
		CHECK(strcmp(u->host, "localhost") != 0);
		n = strlen(u->host);
		CHECK(n <= 10 || strcmp(u->host + n - 10, ".localhost") != 0);
	}
}

static void
fz_url(const char *url)
{
	struct rs_netguard_url	 u0, u1;
	char			 why0[256], why1[256];
	enum rs_err		 r0, r1;

	r0 = rs_netguard_url(url, 0, &u0, why0, sizeof(why0));
	r1 = rs_netguard_url(url, 1, &u1, why1, sizeof(why1));
	CHECK(r0 == RS_OK || r0 == RS_ERR_INVAL);
	CHECK(r1 == RS_OK || r1 == RS_ERR_INVAL);
	if (r0 != RS_OK)
		CHECK(why0[0] != '\0' && memchr(why0, '\0', sizeof(why0)));
	if (r1 != RS_OK) {
		CHECK(why1[0] != '\0' && memchr(why1, '\0', sizeof(why1)));
		CHECK(r0 != RS_OK);
		return;
	}
	fz_plain(url, &u1);
	fz_host(&u1, 1);
	if (r0 != RS_OK)
		return;
	CHECK(u0.https == 1);
	fz_plain(url, &u0);
	fz_host(&u0, 0);
	CHECK(memcmp(&u0, &u1, sizeof(u0)) == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		fz_addr(data + 1, size - 1);
		return 0;
	}
	s = fuzz_text(data + 1, size - 1);
	fz_url(s);
	free(s);
	return 0;
}
