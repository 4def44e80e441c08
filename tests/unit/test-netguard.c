/*
 * test-netguard: where a webhook may point (lib/netguard.h). One line per
 * URL (as lighttpd's src/t/test_burl.c), then addresses as the worker
 * sees them at connect time, then bounded resolution.
 *
 * Non-canonical IPv4 spellings ("127.1", "0x7f.1", "2130706433",
 * "0177.0.0.1") are refused by the parser as not dotted-decimal, before
 * any address check: a resolver would read them as 127.0.0.1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netguard.h"
#include "tap.h"

#define OK	0
#define NO	1

struct ucase {
	int		 line;
	const char	*url;
	int		 allow;		/* allow_private */
	int		 refused;
	const char	*why;		/* part of why when refused */
	const char	*host;		/* when accepted */
	int		 port;
	int		 literal;
};

static const struct ucase ucases[] = {
	/* Accepted. */
	{ __LINE__, "https://hooks.org.io/relaysync", 0, OK, NULL,
	    "hooks.org.io", 443, 0 },
	{ __LINE__, "HTTPS://Hooks.Example.COM:8443/a?b=c", 0, OK, NULL,
	    "hooks.example.com", 8443, 0 },
	{ __LINE__, "https://example.com.", 0, OK, NULL, "example.com", 443,
	    0 },
	{ __LINE__, "https://example.com?x=1", 0, OK, NULL, "example.com",
	    443, 0 },
	{ __LINE__, "https://8.8.8.8/hook", 0, OK, NULL, "8.8.8.8", 443, 1 },
	{ __LINE__, "https://[2606:4700:4700::1111]:444/", 0, OK, NULL,
	    "2606:4700:4700::1111", 444, 1 },
	{ __LINE__, "https://[64:ff9b::808:808]/", 0, OK, NULL,
	    "64:ff9b::808:808", 443, 1 },
	{ __LINE__, "https://1password.com/", 0, OK, NULL, "1password.com",
	    443, 0 },
	{ __LINE__, "https://a.b:65535", 0, OK, NULL, "a.b", 65535, 0 },
	{ __LINE__, "http://127.0.0.1:8080/h", 1, OK, NULL, "127.0.0.1", 8080,
	    1 },
	{ __LINE__, "http://localhost/h", 1, OK, NULL, "localhost", 80, 0 },
	{ __LINE__, "https://[::1]/", 1, OK, NULL, "::1", 443, 1 },

	/* Scheme. */
	{ __LINE__, "http://example.com/", 0, NO, "https://", NULL, 0, 0 },
	{ __LINE__, "ftp://example.com/", 0, NO, "https://", NULL, 0, 0 },
	{ __LINE__, "https:/example.com/", 0, NO, "https://", NULL, 0, 0 },
	{ __LINE__, "example.com", 1, NO, "https://", NULL, 0, 0 },
	{ __LINE__, "", 0, NO, "1 to 2048", NULL, 0, 0 },

	/* Loopback, private and friends as literals. */
	{ __LINE__, "https://127.0.0.1/", 0, NO, "loopback", NULL, 0, 0 },
	{ __LINE__, "https://127.255.0.9/", 0, NO, "loopback", NULL, 0, 0 },
	{ __LINE__, "https://0x7f.1/", 0, NO, "dotted-decimal", NULL, 0, 0 },
	{ __LINE__, "https://127.1/", 0, NO, "dotted-decimal", NULL, 0, 0 },
	{ __LINE__, "https://2130706433/", 0, NO, "dotted-decimal", NULL, 0,
	    0 },
	{ __LINE__, "https://0177.0.0.1/", 0, NO, "dotted-decimal", NULL, 0,
	    0 },
	{ __LINE__, "https://10.1.2.3/", 0, NO, "private", NULL, 0, 0 },
	{ __LINE__, "https://172.16.0.1/", 0, NO, "private", NULL, 0, 0 },
	{ __LINE__, "https://172.31.255.255/", 0, NO, "private", NULL, 0, 0 },
	{ __LINE__, "https://172.32.0.1/", 0, OK, NULL, "172.32.0.1", 443, 1 },
	{ __LINE__, "https://192.168.1.1/", 0, NO, "private", NULL, 0, 0 },
	{ __LINE__, "https://100.64.0.1/", 0, NO, "CGNAT", NULL, 0, 0 },
	{ __LINE__, "https://100.127.255.254/", 0, NO, "CGNAT", NULL, 0, 0 },
	{ __LINE__, "https://100.128.0.1/", 0, OK, NULL, "100.128.0.1", 443,
	    1 },
	{ __LINE__, "https://169.254.169.254/latest/meta-data", 0, NO,
	    "metadata", NULL, 0, 0 },
	{ __LINE__, "https://0.0.0.0/", 0, NO, "this network", NULL, 0, 0 },
	{ __LINE__, "https://224.0.0.1/", 0, NO, "multicast", NULL, 0, 0 },
	{ __LINE__, "https://255.255.255.255/", 0, NO, "broadcast", NULL, 0,
	    0 },
	{ __LINE__, "https://[::1]/", 0, NO, "loopback", NULL, 0, 0 },
	{ __LINE__, "https://[::]/", 0, NO, "unspecified", NULL, 0, 0 },
	{ __LINE__, "https://[fe80::1]/", 0, NO, "link-local", NULL, 0, 0 },
	{ __LINE__, "https://[fc00::1]/", 0, NO, "unique local", NULL, 0, 0 },
	{ __LINE__, "https://[fd12:3456::1]/", 0, NO, "unique local", NULL, 0,
	    0 },
	{ __LINE__, "https://[::ffff:127.0.0.1]/", 0, NO, "IPv4-mapped", NULL,
	    0, 0 },
	{ __LINE__, "https://[::ffff:8.8.8.8]/", 0, NO, "IPv4-mapped", NULL,
	    0, 0 },
	{ __LINE__, "https://[64:ff9b::7f00:1]/", 0, NO, "NAT64", NULL, 0, 0 },
	{ __LINE__, "https://[2002:7f00:1::1]/", 0, NO, "6to4", NULL, 0, 0 },
	{ __LINE__, "https://[ff02::1]/", 0, NO, "multicast", NULL, 0, 0 },
	{ __LINE__, "https://[fe80::1%25eth0]/", 0, NO, "IPv6", NULL, 0, 0 },
	{ __LINE__, "https://[::1/", 0, NO, "bracketed", NULL, 0, 0 },
	{ __LINE__, "https://[::1]x/", 0, NO, "after the IPv6", NULL, 0, 0 },

	/* Names of this machine. */
	{ __LINE__, "https://localhost/", 0, NO, "loopback", NULL, 0, 0 },
	{ __LINE__, "https://LOCALHOST./", 0, NO, "loopback", NULL, 0, 0 },
	{ __LINE__, "https://x.localhost/", 0, NO, "loopback", NULL, 0, 0 },
	{ __LINE__, "https://a.b.localhost:99/", 0, NO, "loopback", NULL, 0,
	    0 },
	{ __LINE__, "https://notlocalhost/", 0, OK, NULL, "notlocalhost", 443,
	    0 },

	/* Shape. */
	{ __LINE__, "https://user:pw@example.com/", 0, NO, "user information",
	    NULL, 0, 0 },
	{ __LINE__, "https://example.com@127.0.0.1/", 1, NO,
	    "user information", NULL, 0, 0 },
	{ __LINE__, "https://example.com/a#frag", 0, NO, "fragment", NULL, 0,
	    0 },
	{ __LINE__, "https://example.com\\@evil/", 0, NO, "backslash", NULL,
	    0, 0 },
	{ __LINE__, "https://exa mple.com/", 0, NO, "printable", NULL, 0, 0 },
	{ __LINE__, "https://example.com/\x01", 0, NO, "printable", NULL, 0,
	    0 },
	{ __LINE__, "https://ex%61mple.com/", 0, NO, "only letters", NULL, 0,
	    0 },
	{ __LINE__, "https:///path", 0, NO, "no host", NULL, 0, 0 },
	{ __LINE__, "https://a..b/", 0, NO, "empty label", NULL, 0, 0 },
	{ __LINE__, "https://example.com:/", 0, NO, "port", NULL, 0, 0 },
	{ __LINE__, "https://example.com:0/", 0, NO, "port", NULL, 0, 0 },
	{ __LINE__, "https://example.com:65536/", 0, NO, "port", NULL, 0, 0 },
	{ __LINE__, "https://example.com:123456/", 0, NO, "port", NULL, 0, 0 },
	{ __LINE__, "https://example.com:-1/", 0, NO, "port", NULL, 0, 0 },
	{ __LINE__, "https://example.com:80:80/", 0, NO, "port", NULL, 0, 0 },
	{ __LINE__, "https://example.com:8a/", 0, NO, "port", NULL, 0, 0 },
};

static void
test_netguard_urls(void)
{
	const struct ucase	*c;
	struct rs_netguard_url	 u;
	char			 why[256], name[300];
	enum rs_err		 rc;
	size_t			 i;

	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		c = &ucases[i];
		rc = rs_netguard_url(c->url, c->allow, &u, why, sizeof(why));
		snprintf(name, sizeof(name), "test_netguard_url: %s%s %s",
		    c->url[0] ? c->url : "(empty)",
		    c->allow ? " (private allowed)" : "",
		    c->refused ? "refused" : "accepted");
		if (c->refused) {
			if (tap_is_int(rc, RS_ERR_INVAL, name, __FILE__,
			    c->line, "refused"))
				tap_has_str(why, c->why, name, __FILE__,
				    c->line, "why");
			else
				tap_result(0, name, __FILE__, c->line, "why");
			continue;
		}
		if (!tap_is_int(rc, RS_OK, name, __FILE__, c->line,
		    "accepted"))
			tap_diag("why: %s", why);
		snprintf(name, sizeof(name), "test_netguard_url: %s: host, "
		    "port, literal", c->url);
		tap_result(strcmp(u.host, c->host) == 0 && u.port == c->port &&
		    u.literal == c->literal, name, __FILE__, c->line,
		    "host port literal");
	}
}

/* The number of checks test_netguard_urls() makes: two a case. */
static int
url_checks(void)
{
	return 2 * (int)(sizeof(ucases) / sizeof(ucases[0]));
}

static void
test_netguard_long(void)
{
	static char		 url[RS_NETGUARD_URL_MAX + 2];
	struct rs_netguard_url	 u;
	char			 why[256];
	size_t			 pre = strlen("https://example.com/");

	memcpy(url, "https://example.com/", pre);
	memset(url + pre, 'a', RS_NETGUARD_URL_MAX - pre);
	url[RS_NETGUARD_URL_MAX] = '\0';
	TAP_IS_INT(rs_netguard_url(url, 0, &u, why, sizeof(why)), RS_OK,
	    "test_netguard_long: 2048 characters accepted");
	url[RS_NETGUARD_URL_MAX] = 'a';
	url[RS_NETGUARD_URL_MAX + 1] = '\0';
	TAP_IS_INT(rs_netguard_url(url, 0, &u, why, sizeof(why)), RS_ERR_INVAL,
	    "test_netguard_long: 2049 characters refused");
	TAP_HAS_STR(why, "2048", "test_netguard_long: why names the bound");
	memset(url, 0, sizeof(url));
	memcpy(url, "https://", 8);
	memset(url + 8, 'a', 60);
	url[68] = '.';
	memset(url + 69, 'b', 64);	/* a 64-character label */
	TAP_IS_INT(rs_netguard_url(url, 0, &u, why, sizeof(why)), RS_ERR_INVAL,
	    "test_netguard_long: a label over 63 characters refused");
}

/* 1 when the address text (v4 or v6) is refused at connect time. */
static int
refused(const char *text)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, text, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return rs_netguard_refused((struct sockaddr *)&s4);
	}
	if (inet_pton(AF_INET6, text, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		return rs_netguard_refused((struct sockaddr *)&s6);
	}
	tap_bail("bad address in the test: %s", text);
}

static void
test_netguard_refused(void)
{
	static const struct {
		const char	*addr;
		int		 refused;
	} a[] = {
		{ "127.0.0.1", 1 }, { "127.8.9.10", 1 }, { "10.0.0.1", 1 },
		{ "10.255.255.255", 1 }, { "172.16.5.4", 1 },
		{ "172.15.255.255", 0 }, { "192.168.0.1", 1 },
		{ "192.169.0.1", 0 }, { "100.64.0.0", 1 }, { "100.63.255.255", 0 },
		{ "169.254.169.254", 1 }, { "0.0.0.0", 1 }, { "0.1.2.3", 1 },
		{ "198.18.0.1", 1 }, { "240.0.0.1", 1 }, { "8.8.8.8", 0 },
		{ "1.1.1.1", 0 }, { "93.184.216.34", 0 },
		{ "::1", 1 }, { "::", 1 }, { "::127.0.0.1", 1 },
		{ "fe80::1", 1 }, { "febf::1", 1 }, { "fec0::1", 1 },
		{ "fc00::1", 1 }, { "fdff::1", 1 }, { "ff02::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "::ffff:10.0.0.1", 1 },
		{ "::ffff:8.8.8.8", 1 }, { "64:ff9b::7f00:1", 1 },
		{ "64:ff9b::a9fe:a9fe", 1 }, { "64:ff9b::808:808", 0 },
		{ "64:ff9b:1::1", 1 }, { "2002:7f00:1::", 1 },
		{ "2002:0a00:1::", 1 }, { "2002:0808:0808::1", 0 },
		{ "2001:db8::1", 1 }, { "2001::1", 1 },
		{ "2606:4700:4700::1111", 0 }, { "2a00:1450:4001::200e", 0 },
	};
	struct sockaddr		 unix_sa;
	char			 name[128];
	size_t			 i;

	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		snprintf(name, sizeof(name), "test_netguard_refused: %s %s",
		    a[i].addr, a[i].refused ? "refused" : "public");
		TAP_IS_INT(refused(a[i].addr), a[i].refused, name);
	}
	memset(&unix_sa, 0, sizeof(unix_sa));
	unix_sa.sa_family = AF_UNIX;
	TAP_IS_INT(rs_netguard_refused(&unix_sa), 1,
	    "test_netguard_refused: an unknown family is refused");
}

#define NREFUSED	(41 + 1)

/* Milliseconds since an arbitrary start. */
static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_netguard_resolve(void)
{
	struct rs_netguard_url	 u;
	char			 why[256];
	long			 t0;
	enum rs_err		 rc;

	/* A name the hosts file gives a loopback address (not the parser's
	 * localhost rule: the struct is filled by hand). */
	memset(&u, 0, sizeof(u));
	snprintf(u.host, sizeof(u.host), "localhost");
	u.https = 1;
	u.port = 443;
	rc = rs_netguard_resolve(&u, 0, RS_NETGUARD_RESOLVE_MS, why,
	    sizeof(why));
	TAP_IS_INT(rc, RS_ERR_INVAL,
	    "test_netguard_resolve: a name resolving to loopback is refused");
	TAP_HAS_STR(why, "resolves to",
	    "test_netguard_resolve: why names the address");
	TAP_IS_INT(rs_netguard_resolve(&u, 1, RS_NETGUARD_RESOLVE_MS, why,
	    sizeof(why)), RS_OK,
	    "test_netguard_resolve: allowed when private targets are");
	/* RFC 6761: .invalid never resolves; accepted, within the bound. */
	snprintf(u.host, sizeof(u.host), "no-such-host.invalid");
	t0 = now_ms();
	rc = rs_netguard_resolve(&u, 0, 300, why, sizeof(why));
	TAP_IS_INT(rc, RS_OK,
	    "test_netguard_resolve: an unresolvable name is accepted");
	TAP_OK(now_ms() - t0 < 300 + 200,
	    "test_netguard_resolve: within the time bound");
	/* Literals are judged without a lookup. */
	TAP_SETUP(rs_netguard_url("https://8.8.8.8/", 0, &u, why,
	    sizeof(why)) == RS_OK);
	TAP_IS_INT(rs_netguard_resolve(&u, 0, 1, why, sizeof(why)), RS_OK,
	    "test_netguard_resolve: a public literal is accepted");
	TAP_SETUP(rs_netguard_url("http://10.0.0.1/", 1, &u, why,
	    sizeof(why)) == RS_OK);
	TAP_IS_INT(rs_netguard_resolve(&u, 0, 1, why, sizeof(why)),
	    RS_ERR_INVAL,
	    "test_netguard_resolve: a private literal is refused");
	/* A zero bound resolves nothing. */
	snprintf(u.host, sizeof(u.host), "localhost");
	u.literal = 0;
	TAP_IS_INT(rs_netguard_resolve(&u, 0, 0, why, sizeof(why)), RS_OK,
	    "test_netguard_resolve: no time, no lookup");
}

int
main(void)
{
	tap_plan(url_checks() + 4 + NREFUSED + 8);
	test_netguard_urls();
	test_netguard_long();
	test_netguard_refused();
	test_netguard_resolve();
	return tap_done();
}
