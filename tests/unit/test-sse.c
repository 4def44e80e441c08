/*
 * test-sse: the event stream's framing and loop (lib/sse.h), with a
 * reader over rows held in memory and a writer into memory: what is
 * written and in which order, heartbeats, the lifetime, buffered mode,
 * a client that goes away, the process stopping, a failing reader, and
 * a reader that filters rows out.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "sse.h"
#include "tap.h"

#define NROWS	300

/* The rows a reader sees: ids 1..nrows, visible once calls > hidden_until. */
struct rows {
	int64_t		 nrows;
	int		 calls;
	int		 hidden_until;	/* calls before any row shows */
	int64_t		 skip_upto;	/* rows <= this are filtered out */
	int		 fail;		/* fail on this call (1-based), 0: never */
	char		 data[NROWS + 1][32];
};

static enum rs_err
rows_read(void *arg, struct rs_arena *a, int64_t after, size_t max,
    struct rs_sse_frame *out, size_t *n, int64_t *scanned)
{
	struct rows	*r = arg;
	int64_t		 id;

	(void)a;
	*n = 0;
	r->calls++;
	if (r->fail == r->calls)
		return RS_ERR_DB;
	if (r->calls <= r->hidden_until)
		return RS_OK;
	for (id = after + 1; id <= r->nrows && *n < max; id++) {
		*scanned = id;
		if (id <= r->skip_upto)
			continue;
		out[*n].id = id;
		out[*n].event = "audit";
		out[*n].data = r->data[id];
		(*n)++;
	}
	return RS_OK;
}

struct sink {
	char	 buf[1 << 16];
	size_t	 len;
	int	 flushes;
	size_t	 fail_after;	/* bytes accepted before failing, 0: never */
	int	 failed;
};

static int
sink_write(void *ctx, const char *buf, size_t n)
{
	struct sink	*s = ctx;

	if (s->fail_after > 0 && s->len + n > s->fail_after) {
		s->failed++;
		return -1;
	}
	if (buf == NULL) {
		s->flushes++;
		return 0;
	}
	if (s->len + n >= sizeof(s->buf))
		return -1;
	memcpy(s->buf + s->len, buf, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
rows_init(struct rows *r, int64_t n)
{
	int64_t	 i;

	memset(r, 0, sizeof(*r));
	r->nrows = n;
	for (i = 1; i <= NROWS; i++)
		snprintf(r->data[i], sizeof(r->data[i]), "{\"n\":%lld}",
		    (long long)i);
}

static void
loop_init(struct rs_sse_loop *l, struct rs_arena *a, struct rows *r,
    int64_t after, int64_t life, int64_t beat)
{
	memset(l, 0, sizeof(*l));
	l->read = rows_read;
	l->arg = r;
	l->arena = a;
	l->after = after;
	l->lifetime_ms = life;
	l->heartbeat_ms = beat;
	l->conn = -1;
}

/* Occurrences of needle in hay. */
static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_sse_frame(void)
{
	struct sink		 s;
	struct rs_sse_frame	 f = { 42, "record.created", "{\"a\":1}" };

	memset(&s, 0, sizeof(s));
	TAP_IS_INT(rs_sse_write_frame(&f, sink_write, &s), 0,
	    "sse frame: written");
	TAP_IS_STR(s.buf, "id: 42\nevent: record.created\ndata: {\"a\":1}\n\n",
	    "sse frame: id, event, data, blank line");
	memset(&s, 0, sizeof(s));
	f.data = "one\ntwo\n";
	TAP_IS_INT(rs_sse_write_frame(&f, sink_write, &s), 0,
	    "sse frame: data with line breaks written");
	TAP_IS_STR(s.buf, "id: 42\nevent: record.created\ndata: one\n"
	    "data: two\ndata: \n\n", "sse frame: each line its own data line");
}

static void
test_sse_run(struct rs_arena *a)
{
	struct rs_sse_loop	 l;
	struct rows		 r;
	struct sink		 s;
	int64_t			 t0, took;
	const char		*p1, *p3;

	rows_init(&r, 3);
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 1300, 400);
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0,
	    "sse run: ends by itself");
	took = mono_ms() - t0;
	TAP_OK(took >= 1250 && took < 2500, "sse run: after its lifetime");
	TAP_OK(strncmp(s.buf, "retry: 1000\nid: 0\n\n", 19) == 0,
	    "sse run: starts with retry and its place");
	TAP_OK(s.len > 19 && strcmp(s.buf + s.len - 19,
	    "id: 3\nretry: 1000\n\n") == 0,
	    "sse run: ends with its place and retry");
	p1 = strstr(s.buf, "id: 1\n");
	p3 = strstr(s.buf, "id: 3\n");
	TAP_OK(p1 != NULL && p3 != NULL && p1 < p3 &&
	    strstr(s.buf, "data: {\"n\":2}\n") != NULL,
	    "sse run: the rows, in order");
	TAP_IS_INT(count(s.buf, "event: "), 3, "sse run: each row once");
	TAP_OK(count(s.buf, ": heartbeat\n\n") >= 2 &&
	    count(s.buf, ": heartbeat\n\n") <= 3,
	    "sse run: a heartbeat each quiet 400 ms");
	TAP_OK(s.flushes >= 4, "sse run: flushes as it goes");
	TAP_IS_INT(l.after, 3, "sse run: its place is the last row");

	/* Resumes after a place; a row that shows up later still comes. */
	rows_init(&r, 5);
	r.hidden_until = 2;
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 3, 1500, 10000);
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0,
	    "sse resume: ends by itself");
	TAP_OK(strstr(s.buf, "id: 3\nevent") == NULL && strstr(s.buf,
	    "id: 4\nevent") != NULL && strstr(s.buf, "id: 5\nevent") != NULL,
	    "sse resume: only the rows after the place, once they show");
	TAP_IS_INT(count(s.buf, ": heartbeat"), 0,
	    "sse resume: no heartbeat before the heartbeat period");
}

static void
test_sse_batches(struct rs_arena *a)
{
	struct rs_sse_loop	 l;
	struct rows		 r;
	struct sink		 s;
	char			 want[32];
	int			 i, ordered = 1;
	const char		*p = NULL, *q;

	rows_init(&r, 250);
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 300, 10000);
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0, "sse batches: ends");
	TAP_IS_INT(count(s.buf, "event: "), 250,
	    "sse batches: more rows than one read holds all come");
	for (i = 1; i <= 250; i++) {
		snprintf(want, sizeof(want), "\nid: %d\n", i);
		q = strstr(s.buf, want);
		if (q == NULL || (p != NULL && q < p))
			ordered = 0;
		p = q;
	}
	TAP_OK(ordered, "sse batches: in order");
}

static void
test_sse_ends(struct rs_arena *a)
{
	struct rs_sse_loop		 l;
	struct rows			 r;
	struct sink			 s;
	int64_t				 t0;
	int				 calls;
	volatile sig_atomic_t		 stop = 0;

	/* Buffered: ends as soon as something was sent. */
	rows_init(&r, 2);
	r.hidden_until = 1;
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 5000, 10000);
	l.buffered = 1;
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0, "sse buffered: ends");
	TAP_OK(mono_ms() - t0 < 2000, "sse buffered: soon after the rows");
	TAP_IS_INT(count(s.buf, "event: "), 2, "sse buffered: with the rows");
	TAP_OK(strcmp(s.buf + s.len - 19, "id: 2\nretry: 1000\n\n") == 0,
	    "sse buffered: and the retry");

	/* The client goes away: the loop stops at the next write. */
	rows_init(&r, 1);
	memset(&s, 0, sizeof(s));
	s.fail_after = 20;
	loop_init(&l, a, &r, 0, 5000, 200);
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), -1,
	    "sse gone: a failed write ends the run with -1");
	TAP_OK(mono_ms() - t0 < 1000, "sse gone: at once");
	calls = r.calls;
	TAP_OK(calls <= 1, "sse gone: no reading after the client left");

	/* A quiet stream notices at its heartbeat. */
	rows_init(&r, 0);
	memset(&s, 0, sizeof(s));
	s.fail_after = 20;	/* the first block passes, nothing more */
	loop_init(&l, a, &r, 0, 5000, 600);
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), -1,
	    "sse gone quiet: noticed");
	TAP_OK(mono_ms() - t0 < 1500, "sse gone quiet: at the heartbeat");

	/* The process is asked to stop. */
	rows_init(&r, 0);
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 5000, 10000);
	stop = 1;
	l.stop = &stop;
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0, "sse stop: ends");
	TAP_OK(mono_ms() - t0 < 500 && strcmp(s.buf, "retry: 1000\nid: 0\n\n"
	    "id: 0\nretry: 1000\n\n") == 0, "sse stop: at once, with the retry");

	/* A reader that fails ends the stream (the client reconnects). */
	rows_init(&r, 1);
	r.fail = 2;
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 5000, 10000);
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0, "sse read error: ends");
	TAP_OK(mono_ms() - t0 < 1500 && count(s.buf, "event: ") == 1,
	    "sse read error: soon, after what was read");
}

static void
test_sse_filtered(struct rs_arena *a)
{
	struct rs_sse_loop	 l;
	struct rows		 r;
	struct sink		 s;

	rows_init(&r, 6);
	r.skip_upto = 4;
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 300, 10000);
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0, "sse filter: ends");
	TAP_OK(count(s.buf, "event: ") == 2 && strstr(s.buf, "id: 5\nevent") &&
	    strstr(s.buf, "id: 6\nevent"), "sse filter: only the rows kept");

	/* Only filtered rows: the place still moves past them. */
	rows_init(&r, 4);
	r.skip_upto = 4;
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 300, 10000);
	rs_sse_run(&l, sink_write, &s);
	TAP_IS_INT(l.after, 4, "sse filter: the place moves past rows left "
	    "out");
	TAP_OK(count(s.buf, "event: ") == 0 && s.len > 19 &&
	    strcmp(s.buf + s.len - 19, "id: 4\nretry: 1000\n\n") == 0,
	    "sse filter: and the client is told, so it resumes past them");
}

/* The web server hangs up: noticed while waiting, not at a write. */
static void
test_sse_hangup(struct rs_arena *a)
{
	struct rs_sse_loop	 l;
	struct rows		 r;
	struct sink		 s;
	int			 sv[2];
	int64_t			 t0;
	pid_t			 pid;

	/* Bytes waiting unread are not a hang-up. */
	TAP_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	TAP_SETUP(write(sv[1], "unread", 6) == 6);
	rows_init(&r, 0);
	memset(&s, 0, sizeof(s));
	loop_init(&l, a, &r, 0, 700, 10000);
	l.conn = sv[0];
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), 0,
	    "sse hang-up: unread bytes do not end the stream early");
	/* The peer closes 300 ms in: the stream ends with no write. */
	loop_init(&l, a, &r, 0, 10000, 10000);
	l.conn = sv[0];
	memset(&s, 0, sizeof(s));
	if ((pid = fork()) == 0) {
		usleep(300000);
		_exit(0);
	}
	TAP_SETUP(pid > 0);
	close(sv[1]);	/* the child holds the other copy until it exits */
	t0 = mono_ms();
	TAP_IS_INT(rs_sse_run(&l, sink_write, &s), -1,
	    "sse hang-up: the server hanging up ends the stream");
	TAP_OK(mono_ms() - t0 < 1500, "sse hang-up: at once, before any "
	    "heartbeat");
	waitpid(pid, NULL, 0);
	close(sv[0]);
}

int
main(void)
{
	struct rs_arena	 a;

	tap_plan(4 + 12 + 3 + 13 + 4 + 3);
	rs_arena_init(&a);
	test_sse_frame();
	test_sse_run(&a);
	test_sse_batches(&a);
	test_sse_ends(&a);
	test_sse_filtered(&a);
	test_sse_hangup(&a);
	rs_arena_free(&a);
	return tap_done();
}
