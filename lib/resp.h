/*
 * resp.h: the answer to one request: status, headers, one body.
 * Strings are borrowed (static or in the request arena); nothing here
 * allocates. rs_resp_write() emits the CGI-style header block that
 * FastCGI expects ("Status: 404 Not Found") and then the body.
 */
#ifndef RS_RESP_H
#define RS_RESP_H

#include <stddef.h>

#include "limits.h"

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
};

/* Writes n bytes; returns 0, or -1 when the client went away. */
typedef int	(*rs_resp_writer)(void *ctx, const char *buf, size_t n);

void		 rs_resp_init(struct rs_resp *r);
/* Adds a header; -1 when the table is full (a bug: raise the limit). */
int		 rs_resp_header(struct rs_resp *r, const char *name,
		    const char *value);
/* The header's value, or NULL. */
const char	*rs_resp_get(const struct rs_resp *r, const char *name);
const char	*rs_resp_reason(int status);
int		 rs_resp_write(const struct rs_resp *r, rs_resp_writer w,
		    void *ctx);

#endif /* RS_RESP_H */
