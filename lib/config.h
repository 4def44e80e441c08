/*
 * config.h: settings from the process environment (FcgidInitialEnv,
 * lighttpd's bin-environment, or the shell for the CLI and the worker).
 * Strings point into the environment and live as long as the process.
 */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stddef.h>

struct rs_config {
	const char	*db_path;	/* RELAYSYNC_DB */
	const char	*secret_path;	/* RELAYSYNC_SECRET_FILE */
	int		 token_ttl;	/* RELAYSYNC_TOKEN_TTL, seconds */
	int		 sync_full;	/* RELAYSYNC_SYNCHRONOUS=full */
	long		 max_requests;	/* RELAYSYNC_MAX_REQUESTS, 0: no limit */
	int		 webhook_allow_private; /* RELAYSYNC_WEBHOOK_ALLOW_PRIVATE */
	int		 tombstone_days; /* RELAYSYNC_TOMBSTONE_DAYS */
};

/*
 * Fills cfg from the environment, with defaults for what is unset.
 * Returns 0, or -1 with a reason in err naming the bad variable.
 */
int	rs_config_load(struct rs_config *cfg, char *err, size_t errsz);

#endif /* RS_CONFIG_H */
