/*
 * sse.h: an event stream answer (Server-Sent Events, text/event-stream,
 * CONTRACT §7 and §8): where it starts (the Last-Event-ID header, else
 * last_event_id or after_seq), how many may run (per org and for the
 * whole pool, slot.h: 429 and 503 with Retry-After beyond), and the loop
 * that polls for new rows every RS_STREAM_POLL_MS and writes each as a
 * frame ("id:", "event:", "data:"), sends ": heartbeat" when it has been
 * quiet for the heartbeat period, and after its lifetime sends
 * "retry: 1000" and ends, so EventSource clients reconnect and resume.
 * The stream's position goes out as an "id:" line of its own at the
 * start and the end too, so a client that reconnects after a stream that
 * sent nothing (or only rows a filter left out) resumes where it was and
 * misses nothing written meanwhile. A client that went away is noticed
 * when the web server hangs up the FastCGI connection (watched between
 * polls), or else at the next write (a heartbeat at the latest): the
 * stream ends there and its process serves again.
 *
 * Buffered mode (the request parameter RELAYSYNC_STREAM=buffered, which
 * the Apache include sets where mod_fcgid holds an answer until it ends):
 * the stream ends right after the first poll that wrote a frame, so the
 * frames reach the client at once and it reconnects for the next ones.
 *
 * One module for both streams: a handler (api_audit, api_events) gives a
 * reader of its rows and nothing else. Edge: answers into ctx->resp; it
 * reads the database only through the reader, between polls it holds no
 * statement and so no read transaction (a reader stops checkpoints).
 */
#ifndef RS_SSE_H
#define RS_SSE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "resp.h"

struct rs_arena;

struct rs_sse_frame {
	int64_t		 id;
	const char	*event;
	const char	*data;		/* each line becomes a "data:" line */
};

/*
 * Up to max frames with ids after after, in order, into out (*n of them),
 * strings in a. *scanned: the last id looked at, at least the last
 * frame's (a reader that filters skips rows; the stream then does not
 * look at them again).
 */
typedef enum rs_err (*rs_sse_reader)(void *arg, struct rs_arena *a,
		    int64_t after, size_t max, struct rs_sse_frame *out,
		    size_t *n, int64_t *scanned);

/* One stream's loop, apart from any request (rs_sse_answer fills it). */
struct rs_sse_loop {
	rs_sse_reader	 read;
	void		*arg;
	struct rs_arena	*arena;		/* for the reader, reset every poll */
	int64_t		 after;		/* the last id sent, or scanned */
	int64_t		 lifetime_ms;
	int64_t		 heartbeat_ms;
	int		 buffered;	/* end after the first frames */
	const volatile sig_atomic_t *stop; /* the process stops; or NULL */
	int		 conn;		/* the web server's connection, or -1 */
};

/*
 * Where the request's stream starts: RS_NEXT with *after the last id
 * the client has (-1: none given, start at the current end), or
 * RS_ANSWERED (400 for a value that is not a whole number from 0 to
 * 2^40 - 1).
 */
enum rs_step	rs_sse_start(struct rs_ctx *ctx, int64_t *after);
/*
 * Answers ctx with the stream of rd's frames after after: takes a place
 * of the caller's org and one of the pool, or answers 429
 * too_many_streams / 503; sets the status, headers and stream of
 * ctx->resp, which runs once the headers are out. arg must live as long
 * as the request (its arena). RS_ANSWERED, or RS_FAIL.
 */
enum rs_step	rs_sse_answer(struct rs_ctx *ctx, rs_sse_reader rd, void *arg,
		    int64_t after);
/*
 * Runs l until its lifetime ends, the process stops, the reader fails
 * or (buffered) frames were sent: 0; -1 when the client went away.
 */
int		rs_sse_run(struct rs_sse_loop *l, rs_resp_writer w, void *wctx);
/* Writes one frame through w: 0, or -1. */
int		rs_sse_write_frame(const struct rs_sse_frame *f,
		    rs_resp_writer w, void *wctx);

#endif /* RS_SSE_H */
