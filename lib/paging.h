/*
 * paging.h: the list conventions shared by every list endpoint: "limit"
 * (1..RS_PAGE_MAX, default RS_PAGE_DEFAULT) and the opaque "cursor",
 * sealed (cursor.h) and tied to the list's name, the caller's org and the
 * list's other query parameters.
 */
#ifndef RS_PAGING_H
#define RS_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

struct json_object;
struct rs_cursor;
struct rs_valid;

/* The page size asked for; a bad value is recorded in v. */
size_t	 rs_paging_limit(struct rs_ctx *ctx, struct rs_valid *v);
/*
 * The request's cursor for list into *c, *has set when there is one (else
 * *c is all zero: position 0). RS_NEXT, or RS_ANSWERED with 400
 * invalid_cursor.
 */
enum rs_step rs_paging_cursor(struct rs_ctx *ctx, const char *list,
	    struct rs_cursor *c, int *has);
/*
 * Adds member "next_cursor" to o: when more, a cursor for list at pos
 * (walk: the list's own extra position, 0 if none), else null.
 * 0, or -1.
 */
int	 rs_paging_add_next(struct rs_ctx *ctx, struct json_object *o,
	    const char *list, int more, int64_t pos, int64_t walk);

#endif /* RS_PAGING_H */
