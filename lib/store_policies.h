/*
 * store_policies.h: an org's sync policies and its policy version. Every
 * query is scoped by org. A deleted policy stays as a tombstone that no
 * reader returns (sql/0006), so a list cursor that names it by seq can
 * still find its place. Every write bumps the org's policy version in the
 * same transaction (txn.h), so a cache of compiled policies can tell it
 * is stale. The store keeps texts as given: the caller has checked them
 * (policy.h). Strings of a struct rs_store_policy live in the arena
 * passed to the reader.
 */
#ifndef RS_STORE_POLICIES_H
#define RS_STORE_POLICIES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"

struct rs_arena;
struct rs_db;

#define RS_STORE_POLICY_NAME_MAX	64	/* [a-z0-9_]{1,64} */
#define RS_STORE_POLICY_ORDER_MAX	1000000	/* order: 0..this */

struct rs_store_policy {
	int64_t		 seq;		/* the row: a list cursor's place */
	char		 id[RS_ID_MAX];
	char		 name[RS_STORE_POLICY_NAME_MAX + 1];
	const char	*when;
	const char	*then;
	int64_t		 order;
	int		 enabled;
	int64_t		 created_at;
	int64_t		 updated_at;
};

/* RS_OK and *p for the live policy name of org, or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_policies_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *name,
		    struct rs_store_policy *p);
/*
 * Up to max live policies of org in evaluation order ("order", then
 * name), after the place (order, the name of row seq) when after_seq is
 * not 0, else from the first; enabled_only keeps the enabled ones.
 */
enum rs_err	rs_store_policies_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, int enabled_only, int64_t after_order,
		    int64_t after_seq, size_t max, struct rs_store_policy *out,
		    size_t *n);
/*
 * Creates or replaces policy p->name of org with p's when, then, order
 * and enabled at now; *created is 1 when no live policy had the name (a
 * new id, p->id is ignored), 0 when one was replaced (it keeps its id and
 * created_at). *p is then the row as stored (strings in a). Bumps the
 * org's policy version.
 */
enum rs_err	rs_store_policies_put(struct rs_db *db, struct rs_arena *a,
		    const char *org, struct rs_store_policy *p, int64_t now,
		    int *created);
/*
 * Deletes the live policy name of org at now (a tombstone), its row as it
 * was into *p; RS_ERR_NOTFOUND when there is none. Bumps the org's policy
 * version.
 */
enum rs_err	rs_store_policies_delete(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *name, int64_t now,
		    struct rs_store_policy *p);
/* The org's policy version (0 before any policy write), or -1. */
int64_t		rs_store_policies_version(struct rs_db *db, const char *org);

#endif /* RS_STORE_POLICIES_H */
