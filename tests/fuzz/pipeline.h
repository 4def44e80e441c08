/*
 * pipeline.h: the whole request pipeline in-process for the targets that
 * fuzz what only a handler with a database reaches (fuzz-bodies,
 * fuzz-batch), as tests/unit/test-app.c drives it: rs_app_handle() on a
 * FastCGI parameter list and a body, the answer read back from the CGI
 * header block. One real SQLite database in a directory under $TMPDIR,
 * made once per process (fz_pipe_open) and removed at exit, with one org,
 * its admin (whose bearer token every call carries, unless public), and
 * things to act on: a record, an open conflict, an invited user, a
 * webhook. Webhook URLs are never resolved (private targets allowed: no
 * network). With FUZZ_SHOW set in the environment, every answer and
 * every row written is printed to stderr: replay a reproducer so to see
 * what a request did.
 */
#ifndef RS_FUZZ_PIPELINE_H
#define RS_FUZZ_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

struct fz_answer {
	int			 status;
	char			*raw;		/* the CGI answer, NUL-terminated */
	size_t			 len, cap;
	const char		*body;		/* in raw, after the headers */
	size_t			 bodylen;
	char			 etag[128];	/* ETag without its quotes, or "" */
	struct json_object	*json;		/* the body parsed, or NULL */
};

/* Sets everything up (it aborts when it cannot). */
void	 fz_pipe_open(void);
/*
 * Serves one request: method, uri, more header lines ("Name: value\n",
 * or NULL), body (or NULL) of bodylen bytes as application/json, with
 * the admin's bearer token unless public. In uri, headers and body,
 * ${rec}, ${causal}, ${usr}, ${wh}, ${cfl} and ${invite} are first
 * replaced by the fixtures' current values. The answer goes to a
 * (fz_answer_free); it aborts when the answer is malformed or a 5xx.
 */
void	 fz_pipe_call(const char *method, const char *uri, const char *hdrs,
	    const char *body, size_t bodylen, int public, struct fz_answer *a);
void	 fz_answer_free(struct fz_answer *a);
/* A mark of what the database holds: it moves with every change the
 * API commits (each table's largest rowid, or its row count). */
uint64_t fz_pipe_version(void);
/* After a call that used one up: a new conflict, invite, or the record's
 * causal token from a write's answer. */
void	 fz_pipe_new_conflict(void);
void	 fz_pipe_new_invite(void);
void	 fz_pipe_set_causal(const char *causal);

#endif /* RS_FUZZ_PIPELINE_H */
