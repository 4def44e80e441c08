/*
 * role.h: the three roles (admin, operator, viewer), as bits so that a
 * route can state the set it admits in one mask.
 */
#ifndef RS_ROLE_H
#define RS_ROLE_H

enum rs_role {
	RS_ROLE_ADMIN = 1 << 0,		/* everything */
	RS_ROLE_OPERATOR = 1 << 1,	/* records, queue read/retry, policies read */
	RS_ROLE_VIEWER = 1 << 2,	/* records and policies read */
};

#define RS_ROLES_NONE	0u	/* public: no bearer token */
#define RS_ROLES_ANY	(RS_ROLE_ADMIN | RS_ROLE_OPERATOR | RS_ROLE_VIEWER)

/* The role named s ("admin", ...), or 0 for none. */
enum rs_role	 rs_role_parse(const char *s);
/* The role's name, or "unknown". */
const char	*rs_role_name(enum rs_role r);

#endif /* RS_ROLE_H */
