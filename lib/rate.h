/*
 * rate.h: the pipeline's rate limit step (CONTRACT §9): a request of an
 * authenticated org takes from the org's bucket (ratelimit.h, the
 * process's mapping of the pool's table, made at the first need), and
 * every answer to it says where the bucket stands (the RateLimit
 * headers). No database work: the org's rate came with the token's
 * holder (auth.h). The table is the process's mapping (shm.h); one
 * that cannot be used lets every request through. Called only by
 * gate.c and batch.c (each item of a batch takes from the bucket too).
 */
#ifndef RS_RATE_H
#define RS_RATE_H

#include "ctx.h"

/*
 * Takes one request from the caller's org's bucket: RS_NEXT, or
 * RS_ANSWERED (429 rate_limited with Retry-After). Notes the bucket in
 * ctx for rs_rate_headers().
 */
enum rs_step	rs_rate_check(struct rs_ctx *ctx);
/* Adds the RateLimit headers to ctx's answer when rs_rate_check() ran. */
void		rs_rate_headers(struct rs_ctx *ctx);

#endif /* RS_RATE_H */
