/*
 * query.h: percent-decoding and the query string of a request.
 * A query is decoded once into name/value pairs; a name given twice, a
 * bad escape, a decoded NUL or invalid UTF-8 refuse the whole query.
 * All strings live in the arena passed to rs_query_parse().
 */
#ifndef RS_QUERY_H
#define RS_QUERY_H

#include <stddef.h>

#include "limits.h"

struct rs_arena;

struct rs_param {
	const char	*name;
	const char	*value;
};

struct rs_query {
	size_t		 n;
	struct rs_param	 p[RS_MAX_QUERY_PARAMS];
};

/*
 * Decodes src[0..len) ('+' as space when plus is set) into a new arena
 * string. Returns NULL with a reason in *why on malformed input.
 */
char	*rs_query_decode(struct rs_arena *a, const char *src, size_t len,
	    int plus, const char **why);
/* 0, or -1 with a reason in err. q is empty for NULL or "". */
int	 rs_query_parse(struct rs_arena *a, const char *qs, struct rs_query *q,
	    char *err, size_t errsz);
/* The value of name, or NULL when absent. */
const char *rs_query_get(const struct rs_query *q, const char *name);
/* The first name not in the NULL-terminated allowed list, or NULL. */
const char *rs_query_unknown(const struct rs_query *q,
	    const char *const *allowed);

#endif /* RS_QUERY_H */
