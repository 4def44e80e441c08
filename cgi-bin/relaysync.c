/*
 * relaysync.fcgi: the FastCGI accept loop, and nothing else.
 * Apache (mod_fcgid) or lighttpd (mod_fastcgi) starts a pool of these;
 * each is single-threaded with one SQLite connection. Started as a plain
 * CGI program (mod_cgi, a shared host without FastCGI), it answers the
 * one request in its environment and exits.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "relaysync.h"

/* Freed memory a process keeps for its next requests (see main). */
#define RS_FCGI_KEEP_HEAP	(4 * 1024 * 1024)

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t listening;	/* fd 0 is the server's socket */

/*
 * Finish the request in hand, then leave the loop. A signal that lands
 * after libfcgi's last look at its flag but before accept() blocks would
 * leave the process waiting for good, its server gone: so the listening
 * socket goes too, and that accept() fails at once. The request in hand
 * has its own descriptor.
 */
static void
on_signal(int sig)
{
	int	 saved = errno;

	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
	if (listening) {
		listening = 0;
		close(STDIN_FILENO);
	}
	errno = saved;
}

static int
fcgi_read(void *ctx, char *buf, int n)
{
	return FCGX_GetStr(buf, n, ctx);
}

/* buf NULL: send what libfcgi holds now (an event stream's frames). */
static int
fcgi_write(void *ctx, const char *buf, size_t n)
{
	if (buf == NULL)
		return FCGX_FFlush(ctx) == 0 ? 0 : -1;
	return FCGX_PutStr(buf, (int)n, ctx) == (int)n ? 0 : -1;
}

/* Plain CGI: the body on stdin, the answer on stdout. */
static int
cgi_read(void *ctx, char *buf, int n)
{
	ssize_t	 got;

	(void)ctx;
	while ((got = read(STDIN_FILENO, buf, (size_t)n)) == -1 &&
	    errno == EINTR)
		continue;
	return (int)got;
}

static int
cgi_write(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	if (buf == NULL)
		return fflush(stdout) == 0 ? 0 : -1;
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

extern char **environ;

/* One request, then the due checkpoint once the answer has gone out. */
static int
serve_cgi(void)
{
	struct rs_app	 app;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	rs_app_open(&app);
	app.cgi = 1;
	app.stop = &stopping;
	rs_app_handle(&app, environ, cgi_read, NULL, cgi_write, NULL);
	if (fflush(stdout) != 0)
		rs_log_info("client went away before the answer was sent");
	fclose(stdout);
	rs_app_idle(&app);
	rs_app_close(&app);
	return 0;
}

int
main(void)
{
	struct rs_app		 app;
	FCGX_Request		 req;
	struct sigaction	 sa;

	rs_log_set_name("relaysync.fcgi");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);	/* one handler at a time */
	sigaddset(&sa.sa_mask, SIGUSR1);
	sigaddset(&sa.sa_mask, SIGINT);
	/* No SA_RESTART, and FCGI_FAIL_ACCEPT_ON_INTR below: a signal
	 * ends a blocked accept instead of libfcgi retrying it. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* stdin is the web server's listening socket, or this is a CGI. */
	if (FCGX_IsCGI())
		return serve_cgi();
	/*
	 * The server stops its pool (SIGTERM; SIGUSR1) once the requests in
	 * flight are answered. A terminal's Ctrl-C reaches the whole process
	 * group: leaving at once makes lighttpd spawn replacements during its
	 * shutdown, and 1.4.69 can lose its SIGTERM to one of them (sent
	 * between its fork and exec), which then waits for good.
	 */
	signal(SIGINT, SIG_IGN);
	listening = !stopping;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		rs_log_err("FastCGI initialisation failed");
		return 1;
	}
	/*
	 * Keep what is freed for the next request instead of giving it
	 * back: SQLite frees a savepoint's 120 KiB journal at its release
	 * (a batch, once an item), and handing the heap's top back to the
	 * kernel flushes the TLB of every core (brk). The mmap threshold is
	 * fixed above the largest body, as setting the trim threshold stops
	 * glibc adjusting it: a larger block would be mapped and unmapped,
	 * with the same flush, every request.
	 */
	mallopt(M_MMAP_THRESHOLD, RS_FCGI_KEEP_HEAP / 2);
	mallopt(M_TRIM_THRESHOLD, RS_FCGI_KEEP_HEAP);
	/* The database is opened after FCGX_Init, never before a fork. */
	rs_app_open(&app);
	app.stop = &stopping;
	while (!stopping && FCGX_Accept_r(&req) >= 0) {
		app.conn_fd = req.ipcFd;
		rs_app_handle(&app, req.envp, fcgi_read, req.in, fcgi_write,
		    req.out);
		FCGX_Finish_r(&req);
		rs_app_idle(&app);
		if (app.cfg.max_requests > 0 &&
		    app.served >= app.cfg.max_requests)
			break;
	}
	FCGX_Free(&req, 1);
	rs_app_close(&app);
	return 0;
}
