/*
 * resp.h: the answer to one request: status, headers, one body.
 * Strings are borrowed (static or in the request arena); nothing here
 * allocates. rs_resp_write() emits the CGI-style header block that
 * FastCGI expects ("Status: 404 Not Found") and then the body, or runs
 * the answer's stream: an answer written as it is made (sse.h), which
 * has no body and no Content-Length.
 */
#ifndef RS_RESP_H
#define RS_RESP_H

#include <stddef.h>

#include "limits.h"

/*
 * Writes n bytes; returns 0, or -1 when the client went away. Called
 * with buf NULL (and n 0) it sends what it holds on at once (a stream's
 * flush) with the same result.
 */
typedef int	(*rs_resp_writer)(void *ctx, const char *buf, size_t n);

/*
 * A streamed answer: run writes the body through w after the header
 * block (0, or -1 when the client went away); done is called exactly
 * once, whether or not run was (rs_resp_finish), to let go of what the
 * stream holds.
 */
struct rs_resp_stream {
	int		(*run)(void *arg, rs_resp_writer w, void *wctx);
	void		(*done)(void *arg);
	void		*arg;
};

struct rs_resp {
	int		 status;
	const char	*ctype;
	const char	*body;
	size_t		 bodylen;
	size_t		 nhdr;
	struct {
		const char	*name;
		const char	*value;
	}		 hdr[RS_MAX_RESP_HEADERS];
	struct rs_resp_stream stream;	/* run NULL: none */
};

void		 rs_resp_init(struct rs_resp *r);
/* Adds a header; -1 when the table is full (a bug: raise the limit). */
int		 rs_resp_header(struct rs_resp *r, const char *name,
		    const char *value);
/* The header's value, or NULL. */
const char	*rs_resp_get(const struct rs_resp *r, const char *name);
const char	*rs_resp_reason(int status);
int		 rs_resp_write(const struct rs_resp *r, rs_resp_writer w,
		    void *ctx);
/* Calls the stream's done, if any, and forgets the stream. */
void		 rs_resp_finish(struct rs_resp *r);

#endif /* RS_RESP_H */
