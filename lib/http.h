/*
 * http.h: the request side. A FastCGI request's parameters are copied
 * into the request arena (nothing points into fcgi2's envp after
 * FCGX_Finish_r) and the method, path and query decoded once.
 * Routing is on REQUEST_URI: it is the one variable that Apache
 * (mod_fcgid and mod_proxy_fcgi) and lighttpd set alike. The path is
 * split on '/' as sent and each segment percent-decoded after, so an
 * encoded slash (%2F) is a character of its segment, never a separator.
 */
#ifndef RS_HTTP_H
#define RS_HTTP_H

#include <stddef.h>

#include "limits.h"
#include "config.h"
#include "problem.h"
#include "query.h"

struct rs_arena;

enum rs_method {
	RS_METHOD_GET,
	RS_METHOD_HEAD,
	RS_METHOD_POST,
	RS_METHOD_PUT,
	RS_METHOD_PATCH,
	RS_METHOD_DELETE,
	RS_METHOD_OPTIONS,
	RS_METHOD__MAX		/* any other method */
};

#define RS_MAX_PATH_PARAMS	4

struct rs_req {
	struct rs_arena	*arena;
	char		**env;		/* "NAME=VALUE", arena copies */
	size_t		  nenv;
	enum rs_method	  method;
	const char	 *method_name;
	const char	 *uri;		/* as sent, with the query */
	const char	 *path;		/* as sent, no query; bytes outside
					 * printable ASCII %-encoded. Also
					 * set (bounded) when the parse
					 * fails: a problem's instance */
	const char	 *seg[RS_MAX_PATH_SEGMENTS]; /* decoded segments,
					 * after the mount point's */
	size_t		  nseg;		/* segments in the path; past
					 * RS_MAX_PATH_SEGMENTS not kept */
	const char	 *mount;	/* the mount point: "" at the root,
					 * else "/~crew/relaysync" */
	int		  outside;	/* the path is not under the mount
					 * point set: no route matches */
	const char	 *query_err;	/* why the query was refused, or NULL */
	struct rs_query	  query;
	const char	 *remote_addr;
	const char	 *content_type;
	size_t		  content_length;
	char		 *body;		/* NUL-terminated; NULL when none */
	size_t		  bodylen;
	const char	 *params[RS_MAX_PATH_PARAMS]; /* set by the router */
	size_t		  nparams;
};

/* Reads up to n body bytes; returns the count, 0 at the end, -1 on error. */
typedef int	(*rs_http_reader)(void *ctx, char *buf, int n);

/* Why a request cannot be served, as a problem to answer with. */
struct rs_http_fail {
	enum rs_problem	 code;
	const char	*detail;
};

/*
 * Fills req from envp (NULL-terminated "NAME=VALUE" strings).
 * Returns 0, or -1 with fail set when the request line itself is unusable
 * (a path segment that does not decode is 400 here); req->env and, when
 * REQUEST_URI was there, req->path are set even then.
 * A malformed query does not fail here: req->query_err says why, so the
 * router can still answer 404/405 first.
 */
int	 rs_http_parse(struct rs_req *req, struct rs_arena *a,
	    char *const *envp, struct rs_http_fail *fail);
/*
 * Takes the mount point off a parsed req's segments: base (from
 * RELAYSYNC_BASE_PATH) when not NULL, and a path not under it is
 * outside; else SCRIPT_NAME or its directory, when the path starts with
 * it and a version segment ("v1") follows; else the root. Sets
 * req->mount.
 */
void	 rs_http_mount(struct rs_req *req, const char *base);
/*
 * Reads the body announced by CONTENT_LENGTH into req->body.
 * Over RS_MAX_BODY it reads and discards it instead and fails with
 * payload_too_large; a short body fails with invalid_request.
 */
int	 rs_http_read_body(struct rs_req *req, rs_http_reader rd, void *ctx,
	    struct rs_http_fail *fail);
/* The value of a FastCGI parameter, or NULL. */
const char *rs_http_env(const struct rs_req *req, const char *name);
/* A request header by its HTTP name ("X-Request-Id"), or NULL. */
const char *rs_http_header(const struct rs_req *req, const char *name);
/*
 * 1 when the request's Prefer header (RFC 7240; several are joined by
 * commas) holds preference name=value, both compared without regard to
 * case, the value bare or quoted; parameters after ';' are ignored.
 * Else 0.
 */
int	 rs_http_prefer(const struct rs_req *req, const char *name,
	    const char *value);
/*
 * 1 when the media type is one we parse as JSON (application/json, or
 * what curl -d sends) and any charset parameter names UTF-8; else 0.
 */
int	 rs_http_json_type(const char *content_type);
/*
 * s[0..len) with every byte outside printable ASCII %-encoded, cut to at
 * most max bytes (never inside an escape): a string fit for a problem's
 * instance. In req's arena; NULL when out of memory.
 */
char	*rs_http_printable(struct rs_arena *a, const char *s, size_t len,
	    size_t max);
/*
 * Who failed key exchanges are counted against: REMOTE_ADDR, or, when
 * that is one of cfg's trusted proxies, the right-most address of
 * X-Forwarded-For that is not itself one (the left-most when all are);
 * REMOTE_ADDR again when that header is absent or an entry read is not
 * an IP literal. Normalised: IPv4-mapped IPv6 as IPv4, IPv6 as its /64
 * (one host's usual share). In the request arena; never NULL.
 */
const char *rs_http_client(const struct rs_req *req,
	    const struct rs_config *cfg);
const char *rs_http_method_name(enum rs_method m);

#endif /* RS_HTTP_H */
