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
rs_config_load(struct rs_config *cfg, char *err, size_t errsz)
{
	long long	 v;
	const char	*s;

	memset(cfg, 0, sizeof(*cfg));
	cfg->db_path = rs_config_str("RELAYSYNC_DB",
	    RS_LOCALSTATEDIR "/lib/relaysync/relaysync.db");
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
	/* NORMAL survives application crashes; FULL also power loss. */
	s = rs_config_str("RELAYSYNC_SYNCHRONOUS", "normal");
	if (strcasecmp(s, "normal") == 0)
		cfg->sync_full = 0;
	else if (strcasecmp(s, "full") == 0)
		cfg->sync_full = 1;
	else {
		snprintf(err, errsz,
		    "RELAYSYNC_SYNCHRONOUS must be \"normal\" or \"full\"");
		return -1;
	}
	return 0;
}
