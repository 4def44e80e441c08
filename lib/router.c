#include <string.h>

#include "role.h"
#include "router.h"
#include "api_audit.h"
#include "api_auth.h"
#include "api_conflicts.h"
#include "api_events.h"
#include "api_ops.h"
#include "api_policies.h"
#include "api_queue.h"
#include "api_records.h"
#include "api_recsync.h"
#include "api_users.h"
#include "api_webhooks.h"
#include "batch.h"

#define ANY	RS_ROLES_ANY
#define WRITERS	(RS_ROLE_ADMIN | RS_ROLE_OPERATOR)

#define BODY	RS_ROUTE_BODY
#define SYNC	RS_ROUTE_SYNC
#define ITEM	RS_ROUTE_ITEM
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
	{ RS_METHOD_POST, "/v1/records", WRITERS, BODY | SYNC | ITEM, NULL,
	    rs_api_records_create },
	{ RS_METHOD_GET, "/v1/records", ANY, SYNC | ITEM,
	    rs_api_recsync_list_query, rs_api_recsync_list },
	{ RS_METHOD_GET, "/v1/records/:id", ANY, SYNC | ITEM, NULL,
	    rs_api_records_get },
	{ RS_METHOD_PATCH, "/v1/records/:id", WRITERS, BODY | SYNC | ITEM, NULL,
	    rs_api_records_patch },
	{ RS_METHOD_DELETE, "/v1/records/:id", WRITERS, SYNC | ITEM, NULL,
	    rs_api_records_delete },
	{ RS_METHOD_GET, "/v1/users", ADMIN, ITEM, rs_api_users_list_query,
	    rs_api_users_list },
	{ RS_METHOD_POST, "/v1/users/invite", ADMIN, BODY | ITEM, NULL,
	    rs_api_users_invite },
	{ RS_METHOD_POST, "/v1/users/accept", RS_ROLES_NONE, BODY, NULL,
	    rs_api_users_accept },
	{ RS_METHOD_PATCH, "/v1/users/:id", ADMIN, BODY | ITEM, NULL,
	    rs_api_users_patch },
	{ RS_METHOD_POST, "/v1/policies", ADMIN, BODY | ITEM, NULL,
	    rs_api_policies_put },
	{ RS_METHOD_GET, "/v1/policies", ANY, ITEM, rs_api_policies_list_query,
	    rs_api_policies_list },
	{ RS_METHOD_POST, "/v1/policies/evaluate", ANY, BODY | ITEM, NULL,
	    rs_api_policies_evaluate },
	{ RS_METHOD_GET, "/v1/policies/:name", ANY, ITEM, NULL,
	    rs_api_policies_get },
	{ RS_METHOD_DELETE, "/v1/policies/:name", ADMIN, ITEM, NULL,
	    rs_api_policies_delete },
	{ RS_METHOD_POST, "/v1/webhooks", ADMIN, BODY, NULL,
	    rs_api_webhooks_create },
	{ RS_METHOD_GET, "/v1/webhooks", ADMIN, 0, rs_api_webhooks_list_query,
	    rs_api_webhooks_list },
	{ RS_METHOD_GET, "/v1/webhooks/:id", ADMIN, 0, NULL,
	    rs_api_webhooks_get },
	{ RS_METHOD_PATCH, "/v1/webhooks/:id", ADMIN, BODY, NULL,
	    rs_api_webhooks_patch },
	{ RS_METHOD_DELETE, "/v1/webhooks/:id", ADMIN, 0, NULL,
	    rs_api_webhooks_delete },
	{ RS_METHOD_POST, "/v1/webhooks/:id/rotate-secret", ADMIN, 0, NULL,
	    rs_api_webhooks_rotate },
	{ RS_METHOD_POST, "/v1/webhooks/:id/replay", ADMIN, BODY, NULL,
	    rs_api_webhooks_replay },
	{ RS_METHOD_GET, "/v1/sync/queue", WRITERS, 0, rs_api_queue_list_query,
	    rs_api_queue_list },
	{ RS_METHOD_POST, "/v1/sync/retry/:job", WRITERS, 0, NULL,
	    rs_api_queue_retry },
	{ RS_METHOD_GET, "/v1/audit", ADMIN, 0, rs_api_audit_list_query,
	    rs_api_audit_list },
	{ RS_METHOD_GET, "/v1/audit/stream", ADMIN, 0,
	    rs_api_audit_stream_query, rs_api_audit_stream },
	{ RS_METHOD_GET, "/v1/events/stream", ANY, 0,
	    rs_api_events_stream_query, rs_api_events_stream },
	{ RS_METHOD_GET, "/v1/records/:id/history", ANY, SYNC | ITEM,
	    rs_api_records_history_query, rs_api_records_history },
	{ RS_METHOD_GET, "/v1/conflicts", ANY, ITEM,
	    rs_api_conflicts_list_query, rs_api_conflicts_list },
	{ RS_METHOD_GET, "/v1/conflicts/:id", ANY, ITEM, NULL,
	    rs_api_conflicts_get },
	{ RS_METHOD_POST, "/v1/conflicts/:id/resolve", WRITERS,
	    BODY | SYNC | ITEM, NULL, rs_api_conflicts_resolve },
	{ RS_METHOD_POST, "/v1/batch", ANY, BODY | SYNC, NULL,
	    rs_batch_handle },
	{ RS_METHOD__MAX, NULL, 0, 0, NULL, NULL },
};

const struct rs_route *
rs_router_table(void)
{
	return rs_routes;
}

/*
 * Matches req's decoded path segments against pattern's; ":x" matches
 * one non-empty segment, whose decoded value goes into params (up to
 * RS_MAX_PATH_PARAMS). Returns 1 on a match, with *nparams set.
 */
static int
rs_router_path(const char *pattern, const struct rs_req *req,
    const char **params, size_t *nparams)
{
	const char	*p = pattern, *pe;
	size_t		 i, n = 0, len;

	if (req->nseg > RS_MAX_PATH_SEGMENTS)
		return 0;
	for (i = 0; *p == '/'; i++, p = pe) {
		p++;
		pe = p + strcspn(p, "/");
		len = (size_t)(pe - p);
		if (i == req->nseg)
			return 0;
		if (*p == ':') {
			if (req->seg[i][0] == '\0' || n == RS_MAX_PATH_PARAMS)
				return 0;
			params[n++] = req->seg[i];
		} else if (strlen(req->seg[i]) != len ||
		    memcmp(p, req->seg[i], len) != 0)
			return 0;
	}
	if (i != req->nseg)
		return 0;
	*nparams = n;
	return 1;
}

/* Appends method m to the Allow list unless it is there. */
static void
rs_router_allow(char *allow, size_t allowsz, enum rs_method m)
{
	const char	*name = rs_http_method_name(m);

	if (allowsz == 0 || strstr(allow, name) != NULL)
		return;
	if (allow[0] != '\0')
		strncat(allow, ", ", allowsz - strlen(allow) - 1);
	strncat(allow, name, allowsz - strlen(allow) - 1);
}

/* Does row r serve method m? HEAD is served by every GET row. */
static int
rs_router_serves(const struct rs_route *r, enum rs_method m)
{
	return r->method == m ||
	    (m == RS_METHOD_HEAD && r->method == RS_METHOD_GET);
}

enum rs_match
rs_router_match(struct rs_req *req, const struct rs_route **route,
    char *allow, size_t allowsz)
{
	const struct rs_route	*r;
	const char		*params[RS_MAX_PATH_PARAMS];
	size_t			 n, i;
	int			 seen = 0;

	*route = NULL;
	if (allowsz > 0)
		allow[0] = '\0';
	for (r = rs_routes; r->pattern != NULL; r++) {
		if (!rs_router_path(r->pattern, req, params, &n))
			continue;
		if (rs_router_serves(r, req->method)) {
			for (i = 0; i < n; i++)
				req->params[i] = params[i];
			req->nparams = n;
			*route = r;
			return RS_MATCH_OK;
		}
		seen = 1;
		rs_router_allow(allow, allowsz, r->method);
		if (r->method == RS_METHOD_GET)
			rs_router_allow(allow, allowsz, RS_METHOD_HEAD);
	}
	return seen ? RS_MATCH_BAD_METHOD : RS_MATCH_NOT_FOUND;
}
