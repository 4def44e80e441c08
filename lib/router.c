#include <string.h>

#include "arena.h"
#include "role.h"
#include "router.h"
#include "api_auth.h"
#include "api_ops.h"
#include "api_records.h"
#include "api_recsync.h"
#include "api_users.h"

#define ANY	RS_ROLES_ANY
#define WRITERS	(RS_ROLE_ADMIN | RS_ROLE_OPERATOR)

#define BODY	RS_ROUTE_BODY
#define SYNC	RS_ROUTE_SYNC
#define ADMIN	RS_ROLE_ADMIN

/* One row per route: method, path, roles admitted, flags, query, handler. */
static const struct rs_route rs_routes[] = {
	{ RS_METHOD_GET, "/v1/health", RS_ROLES_NONE, 0, NULL,
	    rs_api_ops_health },
	{ RS_METHOD_GET, "/v1/openapi.json", RS_ROLES_NONE, 0, NULL,
	    rs_api_ops_openapi },
	{ RS_METHOD_POST, "/v1/auth/token", RS_ROLES_NONE, BODY, NULL,
	    rs_api_auth_token },
	{ RS_METHOD_GET, "/v1/me", ANY, 0, NULL, rs_api_auth_me },
	{ RS_METHOD_POST, "/v1/records", WRITERS, BODY | SYNC, NULL,
	    rs_api_records_create },
	{ RS_METHOD_GET, "/v1/records", ANY, SYNC, rs_api_recsync_list_query,
	    rs_api_recsync_list },
	{ RS_METHOD_GET, "/v1/records/:id", ANY, SYNC, NULL, rs_api_records_get },
	{ RS_METHOD_PATCH, "/v1/records/:id", WRITERS, BODY | SYNC, NULL,
	    rs_api_records_patch },
	{ RS_METHOD_DELETE, "/v1/records/:id", WRITERS, SYNC, NULL,
	    rs_api_records_delete },
	{ RS_METHOD_GET, "/v1/users", ADMIN, 0, rs_api_users_list_query,
	    rs_api_users_list },
	{ RS_METHOD_POST, "/v1/users/invite", ADMIN, BODY, NULL,
	    rs_api_users_invite },
	{ RS_METHOD_POST, "/v1/users/accept", RS_ROLES_NONE, BODY, NULL,
	    rs_api_users_accept },
	{ RS_METHOD_PATCH, "/v1/users/:id", ADMIN, BODY, NULL,
	    rs_api_users_patch },
	{ RS_METHOD__MAX, NULL, 0, 0, NULL, NULL },
};

const struct rs_route *
rs_router_table(void)
{
	return rs_routes;
}

/*
 * Matches path against pattern segment by segment; ":x" matches one
 * non-empty segment, captured into params. Returns 1 on a match.
 */
static int
rs_router_path(const char *pattern, const char *path, const char **params,
    size_t *nparams, struct rs_arena *a)
{
	const char	*p = pattern, *s = path, *pe, *se;
	size_t		 n = 0;

	for (;;) {
		if (*p != '/' || *s != '/')
			return *p == '\0' && *s == '\0' && (*nparams = n, 1);
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		if (*p == ':') {
			if (se == s || n == RS_MAX_PATH_PARAMS)
				return 0;
			if (a != NULL && (params[n++] =
			    rs_arena_strndup(a, s, (size_t)(se - s))) == NULL)
				return 0;
		} else if (pe - p != se - s || memcmp(p, s,
		    (size_t)(pe - p)) != 0)
			return 0;
		p = pe;
		s = se;
	}
}

enum rs_match
rs_router_match(struct rs_req *req, const struct rs_route **route,
    char *allow, size_t allowsz)
{
	const struct rs_route	*r;
	const char		*dummy[RS_MAX_PATH_PARAMS];
	size_t			 n;
	int			 seen = 0;

	*route = NULL;
	if (allowsz > 0)
		allow[0] = '\0';
	for (r = rs_routes; r->pattern != NULL; r++) {
		if (!rs_router_path(r->pattern, req->path, dummy, &n, NULL))
			continue;
		if (r->method == req->method) {
			if (!rs_router_path(r->pattern, req->path,
			    req->params, &req->nparams, req->arena))
				return RS_MATCH_NOT_FOUND;
			*route = r;
			return RS_MATCH_OK;
		}
		if (strstr(allow, rs_http_method_name(r->method)) == NULL) {
			if (seen++)
				strncat(allow, ", ",
				    allowsz - strlen(allow) - 1);
			strncat(allow, rs_http_method_name(r->method),
			    allowsz - strlen(allow) - 1);
		}
	}
	return seen ? RS_MATCH_BAD_METHOD : RS_MATCH_NOT_FOUND;
}
