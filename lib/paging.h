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
 * The cursor text for list at pos (walk: the list's own extra position,
 * 0 if none) into buf (RS_CURSOR_MAX bytes): 0, or -1.
 */
int	 rs_paging_next_text(struct rs_ctx *ctx, const char *list,
	    int64_t pos, int64_t walk, char *buf, size_t bufsz);
/*
 * Adds member "next_cursor" to o: when more, a cursor for list at pos
 * (walk: the list's own extra position, 0 if none), else null.
 * 0, or -1.
 */
int	 rs_paging_add_next(struct rs_ctx *ctx, struct json_object *o,
	    const char *list, int more, int64_t pos, int64_t walk);

/* One row of a page as the API shows it (caller owns it), or NULL. */
typedef struct json_object *(*rs_paging_show)(const void *row);
/* The place in the list's order of a row shown last: pos and walk. */
typedef void	(*rs_paging_place)(const void *row, int64_t *pos,
	    int64_t *walk);

/*
 * The page {"data","has_more","next_cursor"} of list for rows[0..n), each
 * size bytes, fetched one past limit: at most limit are shown (show);
 * when more follow, the cursor holds the last shown row's place. The
 * caller owns the object (and may add members); NULL on failure.
 */
struct json_object *rs_paging_page(struct rs_ctx *ctx, const char *list,
	    const void *rows, size_t size, size_t n, size_t limit,
	    rs_paging_show show, rs_paging_place place);

#endif /* RS_PAGING_H */
