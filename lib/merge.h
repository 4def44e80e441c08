/*
 * merge.h: field-level merge, the rule of Prefer: merge=fields (CONTRACT
 * section 3). A record's write is described by the names of what it
 * changed: "title", "type", "site", "status", "deleted", and one
 * "data.<key>" per top-level key of data that its merge patch named
 * (records.changed keeps them per version). A PATCH whose causal token
 * is stale may still be applied to the record as it is now when its base
 * is a version still kept and nothing it names was changed since.
 *
 * Pure: the caller reads what changed since the base (store_history.h)
 * and applies the patch through the one write path.
 */
#ifndef RS_MERGE_H
#define RS_MERGE_H

#include <stddef.h>

struct json_object;

/* What a patch's names are called for; nonzero stops the walk. */
typedef int	(*rs_merge_name_cb)(void *arg, const char *prefix,
		    const char *name);

/*
 * Calls cb once per name the patch body changes, in the body's order:
 * each member but "causal", and for an object "data" one ("data.", key)
 * per key instead of "data" itself. Returns the first nonzero cb result,
 * else 0.
 */
int		 rs_merge_names(struct json_object *patch, rs_merge_name_cb cb,
		    void *arg);

/* What has changed since the patch's base version. */
struct rs_merge_since {
	int			 found;	  /* the base is a version still kept */
	int			 unknown; /* a later version does not say what
					   * it changed (written before the
					   * history was kept) */
	const char *const	*names;	  /* the union of what later versions
					   * changed */
	size_t			 n;
};

enum rs_merge {
	RS_MERGE_APPLY,		/* apply the patch to the current record */
	RS_MERGE_UNKNOWN_BASE,	/* the base is not a version kept */
	RS_MERGE_UNKNOWN_CHANGE,/* what changed since is not known */
	RS_MERGE_OVERLAP,	/* the patch names something changed since */
};

/*
 * The decision for patch against since. On RS_MERGE_OVERLAP, *clash (if
 * clash is not NULL) is the first name of since that the patch also
 * names ("deleted" overlaps every patch); it points into since->names.
 */
enum rs_merge	 rs_merge_decide(struct json_object *patch,
		    const struct rs_merge_since *since, const char **clash);

#endif /* RS_MERGE_H */
