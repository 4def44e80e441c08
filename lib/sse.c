/* POLLRDHUP (Linux): the peer hung up its end, seen before any read. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "limits.h"
#include "arena.h"
#include "log.h"
#include "num.h"
#include "reply.h"
#include "slot.h"
#include "sse.h"

static const char rs_sse_heartbeat[] = ": heartbeat\n\n";

/* The last id a stream can hold: an org's rows are numbered in 40 bits. */
#define RS_SSE_ID_MAX	((1LL << RS_ORG_ROW_BITS) - 1)

/* One stream of a request: its loop, its places, its reader's arena. */
struct rs_sse_state {
	struct rs_sse_loop	 loop;
	struct rs_slot		 org;
	struct rs_slot		 pool;
	struct rs_arena		 arena;
};

/*
 * Waits ms, or less when a signal comes. 0, or -1 when the web server
 * hung up the connection (it does when its client goes away): poll's
 * POLLRDHUP, since the request's own bytes may still wait unread there.
 */
static int
rs_sse_wait(const struct rs_sse_loop *l, int64_t ms)
{
	struct pollfd	 p;
	struct timespec	 ts;

	if (l->conn >= 0) {
		p.fd = l->conn;
		p.events = POLLRDHUP;
		p.revents = 0;
		if (poll(&p, 1, (int)ms) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return -1;
		return 0;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
	return 0;
}

/*
 * The stream's place and the reconnection delay, a block with no data:
 * "retry: 1000" first, so clients learn how soon to come back; "id:" so
 * one that reconnects resumes from here even if nothing was sent.
 */
static int
rs_sse_place(rs_resp_writer w, void *wctx, int64_t after, int first)
{
	char	 buf[80];
	int	 n;

	n = snprintf(buf, sizeof(buf), first ? "retry: 1000\nid: %lld\n\n" :
	    "id: %lld\nretry: 1000\n\n", (long long)after);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return w(wctx, buf, (size_t)n) != 0 || w(wctx, NULL, 0) != 0 ? -1 : 0;
}

static int
rs_sse_put(rs_resp_writer w, void *wctx, const char *s)
{
	return w(wctx, s, strlen(s));
}

int
rs_sse_write_frame(const struct rs_sse_frame *f, rs_resp_writer w,
    void *wctx)
{
	char		 head[96];
	const char	*p, *nl;
	int		 n;

	n = snprintf(head, sizeof(head), "id: %lld\nevent: %s\n",
	    (long long)f->id, f->event);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (w(wctx, head, (size_t)n) != 0)
		return -1;
	/* A line break inside data would end the field: one line each. */
	for (p = f->data; ; p = nl + 1) {
		nl = strchr(p, '\n');
		if (w(wctx, "data: ", 6) != 0 ||
		    w(wctx, p, nl ? (size_t)(nl - p) : strlen(p)) != 0 ||
		    w(wctx, "\n", 1) != 0)
			return -1;
		if (nl == NULL)
			break;
	}
	return w(wctx, "\n", 1);
}

/*
 * One poll: writes the frames after l->after and moves it on. *sent the
 * frames written, *more when a whole batch came (read again at once).
 * 0, -1 when the client went away, 1 when the reader failed.
 */
static int
rs_sse_poll(struct rs_sse_loop *l, rs_resp_writer w, void *wctx,
    size_t *sent, int *more)
{
	struct rs_sse_frame	 f[RS_STREAM_BATCH];
	int64_t			 scanned;
	size_t			 i, n;
	enum rs_err		 rc;

	*sent = 0;
	*more = 0;
	rs_arena_reset(l->arena);
	scanned = l->after;
	if ((rc = l->read(l->arg, l->arena, l->after, RS_STREAM_BATCH, f, &n,
	    &scanned)) != RS_OK) {
		rs_log_err("event stream: cannot read new rows (%s)",
		    rs_strerror(rc));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (rs_sse_write_frame(&f[i], w, wctx) != 0)
			return -1;
		l->after = f[i].id;
	}
	if (scanned > l->after)
		l->after = scanned;
	*sent = n;
	*more = n == RS_STREAM_BATCH;
	return n > 0 && w(wctx, NULL, 0) != 0 ? -1 : 0;
}

int
rs_sse_run(struct rs_sse_loop *l, rs_resp_writer w, void *wctx)
{
	int64_t		 start, now, quiet, left;
	size_t		 sent;
	int		 more, rc, any = 0;

	start = quiet = rs_clock_mono_ms();
	if (rs_sse_place(w, wctx, l->after, 1) != 0)
		return -1;
	for (;;) {
		if (l->stop != NULL && *l->stop)
			break;
		if ((rc = rs_sse_poll(l, w, wctx, &sent, &more)) < 0)
			return -1;
		if (rc > 0)
			break;
		now = rs_clock_mono_ms();
		if (sent > 0) {
			quiet = now;
			any = 1;
		}
		if ((left = start + l->lifetime_ms - now) <= 0)
			break;
		if (more)
			continue;
		if (l->buffered && any)
			break;
		if (now - quiet >= l->heartbeat_ms) {
			if (rs_sse_put(w, wctx, rs_sse_heartbeat) != 0 ||
			    w(wctx, NULL, 0) != 0)
				return -1;
			quiet = now;
		}
		if (rs_sse_wait(l, left < RS_STREAM_POLL_MS ? left :
		    RS_STREAM_POLL_MS) != 0)
			return -1;
	}
	return rs_sse_place(w, wctx, l->after, 0);
}

/* The answer's stream: the loop, then nothing (done lets go). */
static int
rs_sse_stream_run(void *arg, rs_resp_writer w, void *wctx)
{
	struct rs_sse_state	*s = arg;

	if (rs_sse_run(&s->loop, w, wctx) != 0) {
		rs_log_info("event stream: the client went away");
		return -1;
	}
	return 0;
}

static void
rs_sse_stream_done(void *arg)
{
	struct rs_sse_state	*s = arg;

	rs_slot_release(&s->pool);
	rs_slot_release(&s->org);
	rs_arena_free(&s->arena);
}

/* A start value: 0 and *after, or -1 (not a whole number in range). */
static int
rs_sse_id(const char *s, int64_t *after)
{
	const char	*errstr;

	*after = rs_num_parse(s, 0, RS_SSE_ID_MAX, &errstr);
	return errstr == NULL ? 0 : -1;
}

enum rs_step
rs_sse_start(struct rs_ctx *ctx, int64_t *after)
{
	static const char *const names[] = { "last_event_id", "after_seq" };
	const char	*s;
	size_t		 i;

	*after = -1;
	/* A reconnecting EventSource sends the header and its first URL:
	 * the header is where it really is. */
	if ((s = rs_http_header(&ctx->req, "Last-Event-ID")) != NULL) {
		if (rs_sse_id(s, after) != 0)
			return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "the Last-Event-ID header must be a whole number "
			    "from 0 to %lld", RS_SSE_ID_MAX);
		return RS_NEXT;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((s = rs_query_get(&ctx->req.query, names[i])) == NULL)
			continue;
		if (rs_sse_id(s, after) != 0)
			return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
			    "%s must be a whole number from 0 to %lld",
			    names[i], RS_SSE_ID_MAX);
		return RS_NEXT;
	}
	return RS_NEXT;
}

/*
 * Takes a place of the caller's org, then one of the pool: RS_NEXT, or
 * RS_ANSWERED (429, 503, with Retry-After).
 */
static enum rs_step
rs_sse_places(struct rs_ctx *ctx, struct rs_sse_state *s)
{
	const struct rs_config	*cfg = &ctx->app->cfg;
	const char		*dir;
	enum rs_err		 rc;

	if (cfg->streams_max == 0) {
		rs_resp_header(&ctx->resp, "Retry-After", "3600");
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE, "event "
		    "streams are turned off on this server (RELAYSYNC_STREAMS "
		    "is 0)");
	}
	if ((dir = rs_arena_printf(&ctx->app->arena, "%s-streams",
	    cfg->state_path)) == NULL)
		return RS_FAIL;
	rc = rs_slot_take(&s->org, dir, ctx->who.org_id,
	    cfg->streams_per_org);
	if (rc == RS_ERR_BUSY) {
		rs_resp_header(&ctx->resp, "Retry-After",
		    RS_STREAM_RETRY_AFTER);
		return rs_reply_problem(ctx, RS_PROB_TOO_MANY_STREAMS, "this "
		    "org has %d event streams open, as many as it may; one "
		    "must end first", cfg->streams_per_org);
	}
	if (rc == RS_OK && (rc = rs_slot_take(&s->pool, dir, "pool",
	    cfg->streams_max)) == RS_ERR_BUSY) {
		rs_slot_release(&s->org);
		rs_resp_header(&ctx->resp, "Retry-After",
		    RS_STREAM_RETRY_AFTER);
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE, "every "
		    "event stream this server runs at once is in use; try "
		    "again shortly");
	}
	if (rc != RS_OK) {
		rs_slot_release(&s->org);
		rs_resp_header(&ctx->resp, "Retry-After",
		    RS_STREAM_RETRY_AFTER);
		return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE, "event "
		    "streams cannot be opened now; see the log");
	}
	return RS_NEXT;
}

enum rs_step
rs_sse_answer(struct rs_ctx *ctx, rs_sse_reader rd, void *arg,
    int64_t after)
{
	struct rs_sse_state	*s;
	const char		*mode;
	enum rs_step		 step;

	if ((s = rs_arena_calloc(&ctx->app->arena, 1, sizeof(*s))) == NULL)
		return RS_FAIL;
	rs_slot_init(&s->org);
	rs_slot_init(&s->pool);
	if ((step = rs_sse_places(ctx, s)) != RS_NEXT)
		return step;
	rs_arena_init(&s->arena);
	mode = rs_http_env(&ctx->req, "RELAYSYNC_STREAM");
	s->loop.read = rd;
	s->loop.arg = arg;
	s->loop.arena = &s->arena;
	s->loop.after = after;
	s->loop.lifetime_ms = (int64_t)ctx->app->cfg.stream_lifetime * 1000;
	s->loop.heartbeat_ms = (int64_t)ctx->app->cfg.stream_heartbeat * 1000;
	s->loop.buffered = mode != NULL && strcmp(mode, "buffered") == 0;
	s->loop.stop = ctx->app->stop;
	s->loop.conn = ctx->app->conn_fd;
	ctx->resp.status = 200;
	ctx->resp.ctype = "text/event-stream";
	ctx->resp.stream.run = rs_sse_stream_run;
	ctx->resp.stream.done = rs_sse_stream_done;
	ctx->resp.stream.arg = s;
	/* Proxies that buffer (nginx) pass this answer through as it comes. */
	if (rs_reply_header(ctx, "X-Accel-Buffering", "no") != RS_OK)
		return RS_FAIL;
	return RS_ANSWERED;
}
