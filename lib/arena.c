#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "arena.h"

struct rs_arena_chunk {
	struct rs_arena_chunk	*next;
	size_t			 size;	/* usable bytes in data */
	size_t			 used;
	max_align_t		 data[];
};

#define RS_ALIGN(n)	(((n) + sizeof(max_align_t) - 1) & \
			    ~(sizeof(max_align_t) - 1))

void
rs_arena_init(struct rs_arena *a)
{
	a->head = NULL;
	a->total = 0;
	a->spare = NULL;
	a->nspare = 0;
}

static struct rs_arena_chunk *
rs_arena_grow(struct rs_arena *a, size_t need)
{
	struct rs_arena_chunk	*c;
	size_t			 size = RS_ARENA_CHUNK;

	if (need > size)
		size = need;
	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	if (size == RS_ARENA_CHUNK && (c = a->spare) != NULL) {
		a->spare = c->next;
		a->nspare--;
	} else if ((c = malloc(sizeof(*c) + size)) == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = a->head;
	a->head = c;
	return c;
}

void *
rs_arena_alloc(struct rs_arena *a, size_t size)
{
	struct rs_arena_chunk	*c = a->head;
	void			*p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX / 2)
		return NULL;
	size = RS_ALIGN(size);
	if (c == NULL || c->size - c->used < size)
		if ((c = rs_arena_grow(a, size)) == NULL)
			return NULL;
	p = (char *)c->data + c->used;
	c->used += size;
	a->total += size;
	return p;
}

void *
rs_arena_calloc(struct rs_arena *a, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = rs_arena_alloc(a, n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

char *
rs_arena_strndup(struct rs_arena *a, const char *s, size_t len)
{
	char	*p;

	if ((p = rs_arena_alloc(a, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
rs_arena_strdup(struct rs_arena *a, const char *s)
{
	return rs_arena_strndup(a, s, strlen(s));
}

char *
rs_arena_cat(struct rs_arena *a, const char *s, ...)
{
	va_list		 ap;
	const char	*t;
	size_t		 len = 0, n;
	char		*p, *o;

	va_start(ap, s);
	for (t = s; t != NULL; t = va_arg(ap, const char *))
		len += strlen(t);
	va_end(ap);
	if ((p = o = rs_arena_alloc(a, len + 1)) == NULL)
		return NULL;
	va_start(ap, s);
	for (t = s; t != NULL; t = va_arg(ap, const char *)) {
		n = strlen(t);
		memcpy(o, t, n);
		o += n;
	}
	va_end(ap);
	*o = '\0';
	return p;
}

char *
rs_arena_printf(struct rs_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 len;
	char	*p;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (p = rs_arena_alloc(a, (size_t)len + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
rs_arena_reset(struct rs_arena *a)
{
	struct rs_arena_chunk	*c, *next;

	if (a->head == NULL)
		return;
	/* Keep the oldest chunk: it is the ordinary request's working set. */
	for (c = a->head; c->next != NULL; c = next) {
		next = c->next;
		if (c->size == RS_ARENA_CHUNK && a->nspare < RS_ARENA_KEEP) {
			c->next = a->spare;
			a->spare = c;
			a->nspare++;
		} else
			free(c);
	}
	a->head = c;
	c->used = 0;
	a->total = 0;
}

void
rs_arena_free(struct rs_arena *a)
{
	struct rs_arena_chunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	for (c = a->spare; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	rs_arena_init(a);
}
