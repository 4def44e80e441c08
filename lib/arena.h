/*
 * arena.h: per-request memory. Everything a request allocates comes from
 * its arena and is released at once by rs_arena_reset() after the answer,
 * so nothing leaks from one request into the next.
 * Functions return NULL only when malloc fails.
 */
#ifndef RS_ARENA_H
#define RS_ARENA_H

#include <stddef.h>

struct rs_arena_chunk;

struct rs_arena {
	struct rs_arena_chunk	*head;	/* newest chunk first */
	size_t			 total;	/* bytes handed out since reset */
	struct rs_arena_chunk	*spare;	/* chunks kept for the next request */
	size_t			 nspare;
};

void	 rs_arena_init(struct rs_arena *a);
void	*rs_arena_alloc(struct rs_arena *a, size_t size);
void	*rs_arena_calloc(struct rs_arena *a, size_t n, size_t size);
char	*rs_arena_strdup(struct rs_arena *a, const char *s);
char	*rs_arena_strndup(struct rs_arena *a, const char *s, size_t len);
/* The strings up to a NULL, joined: what "%s%s..." would print, without
 * printf (a hot path). */
char	*rs_arena_cat(struct rs_arena *a, const char *s, ...)
	    __attribute__((sentinel));
char	*rs_arena_printf(struct rs_arena *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Forgets everything handed out. Standard chunks, up to RS_ARENA_KEEP of
 * them, are kept for the next request: a list page would otherwise give
 * its memory back to the kernel and fault it in again every time.
 */
void	 rs_arena_reset(struct rs_arena *a);
/* Releases everything; a is left empty and usable. */
void	 rs_arena_free(struct rs_arena *a);

#endif /* RS_ARENA_H */
