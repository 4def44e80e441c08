/*
 * netguard.h: where a webhook may point. An outbound request must never
 * reach the host's own network (SSRF): loopback, private (RFC 1918, ULA),
 * link-local (and so cloud metadata at 169.254.169.254), CGNAT
 * (100.64/10), "this network" 0/8, multicast and reserved ranges, and
 * IPv4 written inside IPv6 (mapped ::ffff:0:0/96, compatible, NAT64
 * 64:ff9b::/96, 6to4 2002::/16 over such an address) are refused unless
 * the operator allows private targets (RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1,
 * for tests and development). The same address test runs twice: on the
 * URL's host at registration (bounded resolution) and, in the worker, on
 * the address actually connected to, so a name that later resolves
 * elsewhere (DNS rebinding) still cannot reach inside.
 * Core: no request, no database, no libcurl.
 */
#ifndef RS_NETGUARD_H
#define RS_NETGUARD_H

#include <stddef.h>

#include "err.h"

struct sockaddr;

#define RS_NETGUARD_URL_MAX	2048
#define RS_NETGUARD_HOST_MAX	256
#define RS_NETGUARD_RESOLVE_MS	2000	/* bound on resolution at registration */

struct rs_netguard_url {
	int		 https;			/* 1 https, 0 http */
	char		 host[RS_NETGUARD_HOST_MAX]; /* lower case; IPv6 without [] */
	int		 port;			/* given or the scheme's */
	int		 literal;		/* host is an IP address */
};

/*
 * Parses and checks url: absolute http(s) URL of at most
 * RS_NETGUARD_URL_MAX bytes, printable ASCII, a host, an optional port
 * 1..65535, no user information, no fragment; http only when
 * allow_private. A literal address, "localhost" or a name under
 * ".localhost" is checked here as an address would be. RS_OK and *u, or
 * RS_ERR_INVAL with why (a sentence for a problem's detail).
 */
enum rs_err	rs_netguard_url(const char *url, int allow_private,
		    struct rs_netguard_url *u, char *why, size_t whysz);
/*
 * 1 when sa (AF_INET or AF_INET6) is an address a webhook may not reach,
 * 0 when it is public. Unknown families are refused.
 */
int		rs_netguard_refused(const struct sockaddr *sa);
/*
 * Resolves u's host within timeout_ms and refuses it (RS_ERR_INVAL, why)
 * when any address it resolves to is refused; RS_OK when all are public,
 * or when it cannot be resolved in time (every delivery checks again).
 * Does nothing but return RS_OK when allow_private.
 */
enum rs_err	rs_netguard_resolve(const struct rs_netguard_url *u,
		    int allow_private, int timeout_ms, char *why, size_t whysz);

#endif /* RS_NETGUARD_H */
