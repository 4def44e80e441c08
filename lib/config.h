/*
 * config.h: settings from the process environment (FcgidInitialEnv,
 * lighttpd's bin-environment, the CGI environment, or the shell for the
 * CLI and the worker; app.c adds a FastCGI process's first request's
 * RELAYSYNC_* parameters to it first, without replacing any).
 * Strings point into the environment and live as long as the process.
 */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stddef.h>

#include "limits.h"

/* An IP address: IPv4 (4 bytes, also from an IPv4-mapped IPv6 literal)
 * or IPv6 (16). */
struct rs_ip {
	int		 v6;
	unsigned char	 b[16];
};

#define RS_CONFIG_FILE_MAX	65536	/* a settings file, bytes */
#define RS_CONFIG_FILE_LINES	64	/* ... and its settings */

/* The characters of a mount point's segments (RELAYSYNC_BASE_PATH, and
 * the one http.h derives from SCRIPT_NAME): RFC 3986 pchar without %. */
#define RS_CONFIG_SEGMENT_CHARS	"abcdefghijklmnopqrstuvwxyz" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@"

struct rs_config {
	const char	*db_path;	/* RELAYSYNC_DB: a file, or a
					 * PostgreSQL conninfo */
	const char	*db_label;	/* db_path for the log: never a
					 * conninfo, which may hold a
					 * password */
	const char	*state_path;	/* this host's own files (the rate
					 * limits' table, the streams' slots)
					 * are named after it: db_path, or
					 * RELAYSYNC_STATE with PostgreSQL */
	int		 hosts;		/* RELAYSYNC_HOSTS: web hosts sharing
					 * the database; each enforces
					 * 1/hosts of an org's rate limit */
	const char	*secret_path;	/* RELAYSYNC_SECRET_FILE */
	const char	*base_path;	/* RELAYSYNC_BASE_PATH: the mount
					 * point ("/~crew/relaysync"), or
					 * NULL: found per request */
	int		 token_ttl;	/* RELAYSYNC_TOKEN_TTL, seconds */
	int		 sync_full;	/* RELAYSYNC_SYNCHRONOUS=full */
	long		 max_requests;	/* RELAYSYNC_MAX_REQUESTS, 0: no limit */
	int		 webhook_allow_private; /* RELAYSYNC_WEBHOOK_ALLOW_PRIVATE */
	int		 tombstone_days; /* RELAYSYNC_TOMBSTONE_DAYS */
	int		 history_days;	/* RELAYSYNC_HISTORY_DAYS: record
					 * history and closed conflicts
					 * kept; 0: no history */
	/* Event streams (sse.h): seconds, and how many may be open. */
	int		 stream_lifetime; /* RELAYSYNC_STREAM_LIFETIME */
	int		 stream_heartbeat; /* RELAYSYNC_STREAM_HEARTBEAT */
	int		 streams_max;	/* RELAYSYNC_STREAMS, the whole pool */
	int		 streams_per_org; /* RELAYSYNC_STREAMS_PER_ORG */
	int		 rate_limits;	/* RELAYSYNC_RATE_LIMITS: on (1), off */
	struct rs_ip	 trusted[RS_MAX_TRUSTED_PROXIES];
	size_t		 ntrusted;	/* RELAYSYNC_TRUSTED_PROXIES */
};

/*
 * Whether the setting s (RELAYSYNC_DB) names a PostgreSQL database, a
 * libpq conninfo ("postgresql://...", "postgres://..." or "key=value
 * ..."), rather than a file.
 */
int	rs_config_conninfo(const char *s);
/*
 * Fills cfg from the environment, with defaults for what is unset.
 * Returns 0, or -1 with a reason in err naming the bad variable.
 */
int	rs_config_load(struct rs_config *cfg, char *err, size_t errsz);
/*
 * Adds the settings of the file at path (lines "RELAYSYNC_NAME=value",
 * blank lines and "#" comments; the value verbatim to the end of the
 * line, a trailing CR dropped; at most RS_CONFIG_FILE_MAX bytes) to the
 * environment, each unless the environment has it already: the
 * environment wins. Returns 0, or -1 with a reason in err naming the
 * file and line (nothing added then).
 */
int	rs_config_file(const char *path, char *err, size_t errsz);
/*
 * Parses the IP literal s[0..len) ("192.0.2.1", "2001:db8::1"; no port,
 * no brackets, no prefix length) into *ip: 0, or -1 when it is not one.
 */
int	rs_config_ip(const char *s, size_t len, struct rs_ip *ip);
/* 1 when ip is one of cfg's trusted proxies, else 0. */
int	rs_config_trusted(const struct rs_config *cfg, const struct rs_ip *ip);

#endif /* RS_CONFIG_H */
