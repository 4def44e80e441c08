#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

void
rs_resp_init(struct rs_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
}

int
rs_resp_header(struct rs_resp *r, const char *name, const char *value)
{
	if (r->nhdr == RS_MAX_RESP_HEADERS)
		return -1;
	r->hdr[r->nhdr].name = name;
	r->hdr[r->nhdr].value = value;
	r->nhdr++;
	return 0;
}

const char *
rs_resp_get(const struct rs_resp *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

const char *
rs_resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

int
rs_resp_write(const struct rs_resp *r, rs_resp_writer w, void *ctx)
{
	char	 line[RS_MAX_HEADER + 128];
	size_t	 i;
	int	 n;

	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", r->status,
	    rs_resp_reason(r->status));
	if (w(ctx, line, (size_t)n))
		return -1;
	if (r->ctype != NULL) {
		n = snprintf(line, sizeof(line), "Content-Type: %s\r\n",
		    r->ctype);
		if (w(ctx, line, (size_t)n))
			return -1;
	}
	for (i = 0; i < r->nhdr; i++) {
		n = snprintf(line, sizeof(line), "%s: %s\r\n",
		    r->hdr[i].name, r->hdr[i].value);
		if (n < 0 || (size_t)n >= sizeof(line))
			continue;	/* never emit a truncated header */
		if (w(ctx, line, (size_t)n))
			return -1;
	}
	if (r->body != NULL && r->status != 204) {
		n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n",
		    r->bodylen);
		if (w(ctx, line, (size_t)n))
			return -1;
	}
	if (w(ctx, "\r\n", 2))
		return -1;
	if (r->stream.run != NULL)
		return w(ctx, NULL, 0) != 0 ? -1 :
		    r->stream.run(r->stream.arg, w, ctx);
	if (r->body != NULL && r->bodylen > 0 && r->status != 204)
		return w(ctx, r->body, r->bodylen);
	return 0;
}

void
rs_resp_finish(struct rs_resp *r)
{
	if (r->stream.done != NULL)
		r->stream.done(r->stream.arg);
	memset(&r->stream, 0, sizeof(r->stream));
}
