#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"
#include "shm.h"

struct rs_ratelimit *
rs_shm_table(struct rs_app *app)
{
	char		 path[4096];
	enum rs_err	 rc;

	if (app->limits_tried)
		return app->limits;
	app->limits_tried = 1;
	if ((rc = rs_ratelimit_path(path, sizeof(path),
	    app->cfg.state_path)) == RS_OK)
		rc = rs_ratelimit_open(path, &app->limits);
	if (rc == RS_ERR_STATE)
		rs_log_err("%s: not a rate limits table of this version (or "
		    "damaged); this process lets every request through and "
		    "counts no failed key exchange. Stop the server, delete "
		    "the file, start it again", path);
	else if (rc != RS_OK)
		rs_log_err("%s: cannot use the rate limits' table (%s); this "
		    "process lets every request through and counts no failed "
		    "key exchange", path, rc == RS_ERR_IO ? strerror(errno) :
		    rs_strerror(rc));
	return app->limits;
}

int
rs_shm_fail_wait(struct rs_ctx *ctx, const uint64_t *keys, size_t n,
    int max, int window_s)
{
	struct rs_ratelimit	*rl;
	int64_t			 now = rs_ratelimit_now();
	int			 fails, left, wait = 0;
	size_t			 i;

	if ((rl = rs_shm_table(ctx->app)) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		rs_ratelimit_fail_get(rl, keys[i], now, window_s, &fails,
		    &left);
		if (fails >= max && left > wait)
			wait = left;
	}
	return wait;
}

void
rs_shm_fail_count(struct rs_ctx *ctx, const uint64_t *keys, size_t n,
    int window_s)
{
	struct rs_ratelimit	*rl;
	int64_t			 now = rs_ratelimit_now();
	size_t			 i;

	if ((rl = rs_shm_table(ctx->app)) == NULL)
		return;
	for (i = 0; i < n; i++)
		if (rs_ratelimit_fail_hit(rl, keys[i], now, window_s) != RS_OK)
			rs_log_warn("a failed key exchange was not counted: "
			    "its counters kept changing");
}

int
rs_shm_gen(struct rs_app *app, uint64_t *gen)
{
	struct rs_ratelimit	*rl;

	if ((rl = rs_shm_table(app)) == NULL)
		return -1;
	*gen = rs_ratelimit_gen(rl);
	return 0;
}

void
rs_shm_bump(void *arg)
{
	struct rs_app		*app = arg;
	struct rs_ratelimit	*rl;

	if ((rl = rs_shm_table(app)) != NULL)
		rs_ratelimit_gen_bump(rl);
}
