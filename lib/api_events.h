/*
 * api_events.h: the org's events as a live stream (CONTRACT §8, "the
 * streaming channel"): the outbox's events (store_outbox.h), each as its
 * webhook body, for devices that cannot receive webhooks. Any role; the
 * query's types keeps only the named event types. The stream itself is
 * sse.h's. Reached only from router.c; nothing here writes.
 */
#ifndef RS_API_EVENTS_H
#define RS_API_EVENTS_H

#include "ctx.h"

/* The query parameters GET /v1/events/stream admits. */
extern const char *const rs_api_events_stream_query[];

/* GET /v1/events/stream */
enum rs_step	rs_api_events_stream(struct rs_ctx *ctx);

#endif /* RS_API_EVENTS_H */
