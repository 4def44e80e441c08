/*
 * test-openapi: the OpenAPI document the program serves agrees with the
 * route table (lib/router.c), both ways: every route is documented under
 * its path and method with the same roles (x-roles; none and no security
 * for a public route) and the same query parameters, and every
 * documented operation is a route. The document is the reference users
 * get; a route it forgets, or one it invents, is a defect this finds.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "embed.h"
#include "http.h"
#include "role.h"
#include "router.h"
#include "tap.h"

#define PATHSZ	256

/* pattern "/v1/records/:id" as the document writes it: "/v1/records/{id}". */
static void
doc_path(const char *pattern, char *out, size_t outsz)
{
	size_t	 o = 0;

	while (*pattern != '\0' && o + 2 < outsz) {
		if (*pattern == ':') {
			out[o++] = '{';
			pattern++;
			while (*pattern != '\0' && *pattern != '/' &&
			    o + 2 < outsz)
				out[o++] = *pattern++;
			out[o++] = '}';
			continue;
		}
		out[o++] = *pattern++;
	}
	out[o] = '\0';
}

/* The route's method as the document's key ("get"), or NULL. */
static const char *
doc_method(enum rs_method m)
{
	switch (m) {
	case RS_METHOD_GET:	return "get";
	case RS_METHOD_POST:	return "post";
	case RS_METHOD_PUT:	return "put";
	case RS_METHOD_PATCH:	return "patch";
	case RS_METHOD_DELETE:	return "delete";
	default:		return NULL;
	}
}

/* The roles an operation's x-roles names, as a mask (0: none given). */
static unsigned int
doc_roles(struct json_object *op)
{
	struct json_object	*roles, *r;
	unsigned int		 mask = 0;
	size_t			 i;

	if (op == NULL || !json_object_object_get_ex(op, "x-roles", &roles))
		return 0;
	for (i = 0; i < json_object_array_length(roles); i++) {
		r = json_object_array_get_idx(roles, i);
		mask |= (unsigned int)rs_role_parse(json_object_get_string(r));
	}
	return mask;
}

/* Parameter i of params, its $ref resolved in doc's components; or NULL. */
static struct json_object *
param_at(struct json_object *doc, struct json_object *params, size_t i)
{
	struct json_object	*p, *v, *comp;
	const char		*ref;

	p = json_object_array_get_idx(params, i);
	if (!json_object_object_get_ex(p, "$ref", &v))
		return p;
	if ((ref = strrchr(json_object_get_string(v), '/')) == NULL ||
	    !json_object_object_get_ex(doc, "components", &comp) ||
	    !json_object_object_get_ex(comp, "parameters", &comp) ||
	    !json_object_object_get_ex(comp, ref + 1, &p))
		return NULL;
	return p;
}

/*
 * The query parameters params (may be NULL) declares: how many, or, with
 * name, how many are called that.
 */
static size_t
count_query(struct json_object *doc, struct json_object *params,
    const char *name)
{
	struct json_object	*p, *v;
	size_t			 i, n = 0;

	for (i = 0; params != NULL && i < json_object_array_length(params);
	    i++)
		if ((p = param_at(doc, params, i)) != NULL &&
		    json_object_object_get_ex(p, "in", &v) &&
		    strcmp(json_object_get_string(v), "query") == 0 &&
		    (name == NULL ||
		    (json_object_object_get_ex(p, "name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0)))
			n++;
	return n;
}

/* One route against its operation; returns the failures. */
static int
check_route(struct json_object *doc, struct json_object *paths,
    const struct rs_route *r)
{
	struct json_object	*item, *op, *opp = NULL, *pathp = NULL, *sec;
	const char		*m = doc_method(r->method);
	char			 path[PATHSZ], name[PATHSZ + 96];
	size_t			 i, nq = 0;
	int			 bad = 0;

	doc_path(r->pattern, path, sizeof(path));
	snprintf(name, sizeof(name), "openapi: %s %s is documented",
	    m != NULL ? m : "?", path);
	/* Undocumented: the checks below still run (on nothing), so the
	 * plan holds; this one has failed already. */
	item = op = NULL;
	if (!TAP_OK(m != NULL && json_object_object_get_ex(paths, path,
	    &item) && json_object_object_get_ex(item, m, &op), name))
		bad++;
	if (op != NULL)
		json_object_object_get_ex(op, "parameters", &opp);
	if (item != NULL)
		json_object_object_get_ex(item, "parameters", &pathp);
	if (m == NULL)
		m = "?";

	snprintf(name, sizeof(name), "openapi: %s %s: x-roles are the "
	    "route's", m, path);
	bad += !TAP_IS_INT(doc_roles(op), r->roles, name);
	if (r->roles == RS_ROLES_NONE) {
		snprintf(name, sizeof(name), "openapi: %s %s: public, "
		    "security []", m, path);
		bad += !TAP_OK(op != NULL && json_object_object_get_ex(op,
		    "security", &sec) && json_object_array_length(sec) == 0,
		    name);
	}
	for (i = 0; r->query != NULL && r->query[i] != NULL; i++, nq++) {
		snprintf(name, sizeof(name), "openapi: %s %s: query %s "
		    "documented", m, path, r->query[i]);
		bad += !TAP_OK(count_query(doc, opp, r->query[i]) +
		    count_query(doc, pathp, r->query[i]) == 1, name);
	}
	snprintf(name, sizeof(name), "openapi: %s %s: no query parameter "
	    "the route refuses", m, path);
	bad += !TAP_IS_INT(count_query(doc, opp, NULL) +
	    count_query(doc, pathp, NULL), nq, name);
	return bad;
}

/* Is (method, path) of the document a route? */
static int
is_route(const char *method, const char *path)
{
	const struct rs_route	*r;
	const char		*m;
	char			 p[PATHSZ];

	for (r = rs_router_table(); r->pattern != NULL; r++) {
		m = doc_method(r->method);
		doc_path(r->pattern, p, sizeof(p));
		if (m != NULL && strcmp(m, method) == 0 && strcmp(p, path) == 0)
			return 1;
	}
	return 0;
}

/* How many checks check_route() makes for r. */
static int
route_checks(const struct rs_route *r)
{
	int	 n = 3;

	if (r->roles == RS_ROLES_NONE)
		n++;
	for (size_t i = 0; r->query != NULL && r->query[i] != NULL; i++)
		n++;
	return n;
}

int
main(void)
{
	const struct rs_route	*r;
	struct json_object	*doc, *paths;
	int			 plan = 1;
	char			 name[PATHSZ + 64];

	for (r = rs_router_table(); r->pattern != NULL; r++)
		plan += route_checks(r);
	doc = json_tokener_parse(rs_embed_openapi[0].data);
	if (doc == NULL || !json_object_object_get_ex(doc, "paths", &paths))
		tap_bail("the embedded OpenAPI document has no paths");
	json_object_object_foreach(paths, p, item) {
		(void)p;
		json_object_object_foreach(item, m, op) {
			(void)op;
			if (strcmp(m, "parameters") != 0)
				plan++;
		}
	}
	tap_plan(plan);

	for (r = rs_router_table(); r->pattern != NULL; r++)
		check_route(doc, paths, r);
	json_object_object_foreach(paths, p2, item2) {
		json_object_object_foreach(item2, m2, op2) {
			(void)op2;
			if (strcmp(m2, "parameters") == 0)
				continue;
			snprintf(name, sizeof(name), "openapi: %s %s is a route",
			    m2, p2);
			TAP_OK(is_route(m2, p2), name);
		}
	}
	TAP_OK(rs_embed_openapi[1].name == NULL, "openapi: one document "
	    "embedded");
	json_object_put(doc);
	return tap_done();
}
