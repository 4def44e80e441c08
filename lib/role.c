#include <string.h>

#include "role.h"

static const struct {
	enum rs_role	 role;
	const char	*name;
} rs_roles[] = {
	{ RS_ROLE_ADMIN, "admin" },
	{ RS_ROLE_OPERATOR, "operator" },
	{ RS_ROLE_VIEWER, "viewer" },
};

enum rs_role
rs_role_parse(const char *s)
{
	size_t	 i;

	for (i = 0; s != NULL && i < sizeof(rs_roles) / sizeof(rs_roles[0]);
	    i++)
		if (strcmp(s, rs_roles[i].name) == 0)
			return rs_roles[i].role;
	return 0;
}

const char *
rs_role_name(enum rs_role r)
{
	size_t	 i;

	for (i = 0; i < sizeof(rs_roles) / sizeof(rs_roles[0]); i++)
		if (rs_roles[i].role == r)
			return rs_roles[i].name;
	return "unknown";
}
