#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "num.h"
#include "config.h"

#ifndef RS_LOCALSTATEDIR
#define RS_LOCALSTATEDIR "/var"
#endif

static int
rs_config_getnum(const char *name, long long min, long long max,
    long long def, long long *out, char *err, size_t errsz)
{
	const char	*s = getenv(name), *errstr;

	if (s == NULL || *s == '\0') {
		*out = def;
		return 0;
	}
	*out = rs_num_parse(s, min, max, &errstr);
	if (errstr == NULL)
		return 0;
	snprintf(err, errsz, "%s must be a number from %lld to %lld",
	    name, min, max);
	return -1;
}

static const char *
rs_config_str(const char *name, const char *def)
{
	const char	*s = getenv(name);

	return (s == NULL || *s == '\0') ? def : s;
}

int
rs_config_ip(const char *s, size_t len, struct rs_ip *ip)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char	 buf[INET6_ADDRSTRLEN];

	memset(ip, 0, sizeof(*ip));
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, ip->b) == 1)
		return 0;
	if (inet_pton(AF_INET6, buf, ip->b) != 1)
		return -1;
	/* ::ffff:192.0.2.1 is the IPv4 client of a dual-stack socket. */
	if (memcmp(ip->b, mapped, sizeof(mapped)) == 0) {
		memmove(ip->b, ip->b + 12, 4);
		memset(ip->b + 4, 0, 12);
		return 0;
	}
	ip->v6 = 1;
	return 0;
}

int
rs_config_trusted(const struct rs_config *cfg, const struct rs_ip *ip)
{
	size_t	 i;

	for (i = 0; i < cfg->ntrusted; i++)
		if (cfg->trusted[i].v6 == ip->v6 &&
		    memcmp(cfg->trusted[i].b, ip->b, sizeof(ip->b)) == 0)
			return 1;
	return 0;
}

/*
 * RELAYSYNC_TRUSTED_PROXIES: a comma-separated list of IP addresses
 * (spaces around them allowed), at most RS_MAX_TRUSTED_PROXIES; unset
 * or empty trusts none. 0, or -1 with a reason in err.
 */
static int
rs_config_proxies(struct rs_config *cfg, char *err, size_t errsz)
{
	const char	*s = rs_config_str("RELAYSYNC_TRUSTED_PROXIES", ""), *e;
	size_t		 len;

	for (;;) {
		if (*(s += strspn(s, " \t")) == '\0')
			break;		/* blank: none */
		e = s + strcspn(s, ",");
		len = (size_t)(e - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (cfg->ntrusted == RS_MAX_TRUSTED_PROXIES) {
			snprintf(err, errsz, "RELAYSYNC_TRUSTED_PROXIES: more "
			    "than %d addresses", RS_MAX_TRUSTED_PROXIES);
			return -1;
		}
		if (rs_config_ip(s, len, &cfg->trusted[cfg->ntrusted]) != 0) {
			snprintf(err, errsz, "RELAYSYNC_TRUSTED_PROXIES: "
			    "\"%.*s\" is not an IP address", (int)(len > 64 ?
			    64 : len), s);
			return -1;
		}
		cfg->ntrusted++;
		if (*e == ',' && e[1 + strspn(e + 1, " \t")] == '\0') {
			snprintf(err, errsz, "RELAYSYNC_TRUSTED_PROXIES: an "
			    "empty address after the last comma");
			return -1;
		}
		s = *e == ',' ? e + 1 : e;
	}
	return 0;
}

/*
 * Setting name, one of two words (any case): *out 0 for no, 1 for yes;
 * unset, def. 0, or -1 with the reason in err.
 */
static int
rs_config_either(const char *name, const char *no, const char *yes, int def,
    int *out, char *err, size_t errsz)
{
	const char	*s = rs_config_str(name, def ? yes : no);

	if (strcasecmp(s, no) == 0)
		*out = 0;
	else if (strcasecmp(s, yes) == 0)
		*out = 1;
	else {
		snprintf(err, errsz, "%s must be \"%s\" or \"%s\"", name, no,
		    yes);
		return -1;
	}
	return 0;
}

/*
 * RELAYSYNC_BASE_PATH: unset or empty, NULL (the mount is found per
 * request); else "/" and segments of URL path characters, none empty,
 * "." or "..", no trailing "/", bounded. 0, or -1 with the reason in err.
 */
static int
rs_config_base(struct rs_config *cfg, char *err, size_t errsz)
{
	static const char ok[] = RS_CONFIG_SEGMENT_CHARS;
	const char	*s = rs_config_str("RELAYSYNC_BASE_PATH", NULL), *p;
	size_t		 len, nseg = 0;

	cfg->base_path = NULL;
	if (s == NULL)
		return 0;
	if (strlen(s) > RS_MAX_BASE_PATH)
		goto bad;
	for (p = s; *p == '/'; p += len) {
		p++;
		len = strspn(p, ok);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.') ||
		    ++nseg > RS_MAX_BASE_SEGMENTS)
			goto bad;
	}
	if (*p != '\0' || p == s)
		goto bad;
	cfg->base_path = s;
	return 0;
bad:
	snprintf(err, errsz, "RELAYSYNC_BASE_PATH must be a URL path such as "
	    "/~crew/relaysync: \"/\" and up to %d segments of letters, digits "
	    "and -._~!$&'()*+,;=:@, no trailing \"/\", at most %d bytes",
	    RS_MAX_BASE_SEGMENTS, RS_MAX_BASE_PATH);
	return -1;
}

/* The event streams' settings (limits.h has why the bounds are these). */
static int
rs_config_streams(struct rs_config *cfg, char *err, size_t errsz)
{
	long long	 v;

	if (rs_config_getnum("RELAYSYNC_STREAM_LIFETIME", 1,
	    RS_STREAM_LIFETIME_MAX, RS_STREAM_LIFETIME_DEFAULT, &v, err, errsz))
		return -1;
	cfg->stream_lifetime = (int)v;
	if (rs_config_getnum("RELAYSYNC_STREAM_HEARTBEAT", 1,
	    RS_STREAM_HEARTBEAT_MAX, RS_STREAM_HEARTBEAT_DEFAULT, &v, err,
	    errsz))
		return -1;
	cfg->stream_heartbeat = (int)v;
	if (rs_config_getnum("RELAYSYNC_STREAMS", 0, RS_STREAMS_MAX,
	    RS_STREAMS_DEFAULT, &v, err, errsz))
		return -1;
	cfg->streams_max = (int)v;
	if (rs_config_getnum("RELAYSYNC_STREAMS_PER_ORG", 1, RS_STREAMS_MAX,
	    RS_STREAMS_PER_ORG_DEFAULT, &v, err, errsz))
		return -1;
	cfg->streams_per_org = (int)v;
	return 0;
}

int
rs_config_conninfo(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");

	/* A file path never starts "keyword=" (libpq's "host=/run/pg"). */
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0 ||
	    (n > 0 && s[n + strspn(s + n, " ")] == '=');
}

/* Where the database is, and the names of this host's own files. */
static int
rs_config_db(struct rs_config *cfg, char *err, size_t errsz)
{
	long long	 v;

	cfg->db_path = rs_config_str("RELAYSYNC_DB",
	    RS_LOCALSTATEDIR "/lib/relaysync/relaysync.db");
	cfg->db_label = cfg->db_path;
	cfg->state_path = cfg->db_path;
	if (rs_config_conninfo(cfg->db_path)) {
		cfg->db_label = "the PostgreSQL database of RELAYSYNC_DB";
		cfg->state_path = rs_config_str("RELAYSYNC_STATE",
		    RS_LOCALSTATEDIR "/lib/relaysync/relaysync");
	}
	if (rs_config_getnum("RELAYSYNC_HOSTS", 1, RS_HOSTS_MAX, 1, &v,
	    err, errsz))
		return -1;
	cfg->hosts = (int)v;
	return 0;
}

int
rs_config_load(struct rs_config *cfg, char *err, size_t errsz)
{
	long long	 v;

	memset(cfg, 0, sizeof(*cfg));
	if (rs_config_db(cfg, err, errsz) != 0)
		return -1;
	cfg->secret_path = rs_config_str("RELAYSYNC_SECRET_FILE",
	    RS_LOCALSTATEDIR "/lib/relaysync/relaysync.key");
	if (rs_config_getnum("RELAYSYNC_TOKEN_TTL", RS_TOKEN_TTL_MIN,
	    RS_TOKEN_TTL_MAX, RS_TOKEN_TTL_DEFAULT, &v, err, errsz))
		return -1;
	cfg->token_ttl = (int)v;
	if (rs_config_getnum("RELAYSYNC_MAX_REQUESTS", 0, RS_MAX_REQUESTS_MAX, 0, &v,
	    err, errsz))
		return -1;
	cfg->max_requests = (long)v;
	if (rs_config_getnum("RELAYSYNC_WEBHOOK_ALLOW_PRIVATE", 0, 1, 0, &v,
	    err, errsz))
		return -1;
	cfg->webhook_allow_private = (int)v;
	if (rs_config_getnum("RELAYSYNC_TOMBSTONE_DAYS", 1, 3650,
	    RS_TOMBSTONE_DAYS_DEFAULT, &v, err, errsz))
		return -1;
	cfg->tombstone_days = (int)v;
	if (rs_config_getnum("RELAYSYNC_HISTORY_DAYS", 0, RS_HISTORY_DAYS_MAX,
	    RS_HISTORY_DAYS_DEFAULT, &v, err, errsz))
		return -1;
	cfg->history_days = (int)v;
	if (rs_config_streams(cfg, err, errsz) != 0 ||
	    rs_config_proxies(cfg, err, errsz) != 0 ||
	    rs_config_base(cfg, err, errsz) != 0)
		return -1;
	if (rs_config_either("RELAYSYNC_RATE_LIMITS", "off", "on", 1,
	    &cfg->rate_limits, err, errsz) != 0)
		return -1;
	/* NORMAL survives application crashes; FULL also power loss. */
	if (rs_config_either("RELAYSYNC_SYNCHRONOUS", "normal", "full", 0,
	    &cfg->sync_full, err, errsz) != 0)
		return -1;
	return 0;
}

/*
 * One line of a settings file (s[0..len), no newline): 0 and *name,
 * *nlen, *val, *vlen (*nlen 0: nothing to set), or -1 with the reason.
 */
static int
rs_config_line(const char *s, size_t len, const char **name, size_t *nlen,
    const char **val, size_t *vlen, const char **why)
{
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
	const char	*eq;

	*nlen = 0;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len == 0 || s[0] == '#')
		return 0;
	if ((eq = memchr(s, '=', len)) == NULL) {
		*why = "not NAME=value";
		return -1;
	}
	*name = s;
	*nlen = (size_t)(eq - s);
	if (*nlen <= strlen("RELAYSYNC_") || strncmp(s, "RELAYSYNC_",
	    strlen("RELAYSYNC_")) != 0 || strspn(s, upper) != *nlen) {
		*why = "not a RELAYSYNC_ setting";
		return -1;
	}
	*val = eq + 1;
	*vlen = len - *nlen - 1;
	if (memchr(*val, '\0', *vlen) != NULL) {
		*why = "a NUL byte in the value";
		return -1;
	}
	return 0;
}

int
rs_config_file(const char *path, char *err, size_t errsz)
{
	FILE		*f;
	char		*buf, *names[RS_CONFIG_FILE_LINES];
	char		*vals[RS_CONFIG_FILE_LINES];
	const char	*p, *e, *name, *val, *why = NULL;
	size_t		 got, nlen, vlen, n = 0, i, line = 0;
	int		 rc = -1;

	if ((buf = malloc(RS_CONFIG_FILE_MAX + 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	got = fread(buf, 1, RS_CONFIG_FILE_MAX + 1, f);
	if (ferror(f) || got > RS_CONFIG_FILE_MAX) {
		snprintf(err, errsz, "%s: %s", path, ferror(f) ?
		    "cannot be read" : "longer than 64 KiB");
		goto out;
	}
	/* Every line checked before any is set: a bad file sets nothing. */
	for (p = buf; p < buf + got; p = e + 1) {
		line++;
		if ((e = memchr(p, '\n', (size_t)(buf + got - p))) == NULL)
			e = buf + got;
		if (rs_config_line(p, (size_t)(e - p), &name, &nlen, &val,
		    &vlen, &why) != 0)
			goto bad;
		if (nlen == 0)
			continue;
		if (n == RS_CONFIG_FILE_LINES) {
			why = "too many settings";
			goto bad;
		}
		names[n] = buf + (name - buf);
		vals[n] = buf + (val - buf);
		names[n][nlen] = '\0';
		vals[n][vlen] = '\0';
		n++;
	}
	for (i = 0; i < n; i++)
		if (setenv(names[i], vals[i], 0) != 0) {
			snprintf(err, errsz, "%s: %s: %s", path, names[i],
			    strerror(errno));
			goto out;
		}
	rc = 0;
	goto out;
bad:
	snprintf(err, errsz, "%s: line %zu: %s", path, line, why);
out:
	fclose(f);
	free(buf);
	return rc;
}
