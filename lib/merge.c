#include <string.h>

#include <json-c/json.h>

#include "merge.h"

int
rs_merge_names(struct json_object *patch, rs_merge_name_cb cb, void *arg)
{
	int	 rc;

	json_object_object_foreach(patch, name, val) {
		if (strcmp(name, "causal") == 0)
			continue;
		if (strcmp(name, "data") != 0 ||
		    !json_object_is_type(val, json_type_object)) {
			if ((rc = cb(arg, "", name)) != 0)
				return rc;
			continue;
		}
		json_object_object_foreach(val, key, kval) {
			(void)kval;
			if ((rc = cb(arg, "data.", key)) != 0)
				return rc;
		}
	}
	return 0;
}

struct rs_merge_find {
	const struct rs_merge_since	*since;
	const char			*clash;
};

/* Is prefix+name one of since's names? Stops the walk (1) when it is. */
static int
rs_merge_clash(void *arg, const char *prefix, const char *name)
{
	struct rs_merge_find	*f = arg;
	size_t			 i, plen = strlen(prefix);
	const char		*s;

	for (i = 0; i < f->since->n; i++) {
		s = f->since->names[i];
		if (strncmp(s, prefix, plen) == 0 &&
		    strcmp(s + plen, name) == 0) {
			f->clash = s;
			return 1;
		}
	}
	return 0;
}

enum rs_merge
rs_merge_decide(struct json_object *patch, const struct rs_merge_since *since,
    const char **clash)
{
	struct rs_merge_find	 f;
	size_t			 i;

	if (clash != NULL)
		*clash = NULL;
	if (!since->found)
		return RS_MERGE_UNKNOWN_BASE;
	if (since->unknown)
		return RS_MERGE_UNKNOWN_CHANGE;
	f.since = since;
	f.clash = NULL;
	/* A delete since then: nothing is left to merge into. */
	for (i = 0; i < since->n; i++)
		if (strcmp(since->names[i], "deleted") == 0)
			f.clash = since->names[i];
	if (f.clash == NULL &&
	    rs_merge_names(patch, rs_merge_clash, &f) == 0)
		return RS_MERGE_APPLY;
	if (clash != NULL)
		*clash = f.clash;
	return RS_MERGE_OVERLAP;
}
