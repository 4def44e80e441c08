#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "num.h"
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

/*
 * Writes the line "<a><b><c>\r\n" (b and c may be NULL) through w: 0,
 * -1 when w fails. A line longer than the header bound is left out:
 * never a truncated header. Copies, not printf: every answer has several.
 */
static int
rs_resp_line(rs_resp_writer w, void *ctx, const char *a, const char *b,
    const char *c)
{
	char		 line[RS_MAX_HEADER + 128];
	const char	*part[3] = { a, b, c };
	size_t		 n = 0, len, i;

	for (i = 0; i < 3; i++) {
		if (part[i] == NULL)
			continue;
		if ((len = strlen(part[i])) > sizeof(line) - 2 - n)
			return 0;
		memcpy(line + n, part[i], len);
		n += len;
	}
	line[n++] = '\r';
	line[n++] = '\n';
	return w(ctx, line, n) ? -1 : 0;
}

int
rs_resp_write(const struct rs_resp *r, rs_resp_writer w, void *ctx)
{
	char	 num[RS_NUM_TEXT_MAX + 2], *end = num + sizeof(num) - 1;
	size_t	 i;

	*end = '\0';
	/* "Status: 200 OK": the number, then a space, then the reason. */
	end[-1] = ' ';
	if (rs_resp_line(w, ctx, "Status: ", rs_num_text(end - 1, r->status),
	    rs_resp_reason(r->status)) != 0)
		return -1;
	if (r->ctype != NULL && rs_resp_line(w, ctx, "Content-Type: ",
	    r->ctype, NULL) != 0)
		return -1;
	for (i = 0; i < r->nhdr; i++)
		if (rs_resp_line(w, ctx, r->hdr[i].name, ": ",
		    r->hdr[i].value) != 0)
			return -1;
	if (r->body != NULL && r->status != 204 && rs_resp_line(w, ctx,
	    "Content-Length: ", rs_num_text(end, (int64_t)r->bodylen),
	    NULL) != 0)
		return -1;
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
