#include <stdlib.h>
#include <string.h>

#include "textcache.h"

struct rs_textcache_slot {
	struct rs_textcache_key	 k;
	char			*text;		/* NULL: a free place */
};

struct rs_textcache {
	struct rs_textcache_slot s[RS_TEXTCACHE_SLOTS];
	size_t			 count;
	size_t			 bytes;
	size_t			 hand;	/* the next place freed for room */
};

struct rs_textcache *
rs_textcache_new(void)
{
	return calloc(1, sizeof(struct rs_textcache));
}

void
rs_textcache_free(struct rs_textcache *c)
{
	if (c == NULL)
		return;
	rs_textcache_clear(c);
	free(c);
}

/* A row's place: rows of one org are consecutive numbers, spread out. */
static size_t
rs_textcache_place(int64_t row)
{
	uint64_t	 h = (uint64_t)row * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) % RS_TEXTCACHE_SLOTS;
}

static void
rs_textcache_drop(struct rs_textcache *c, struct rs_textcache_slot *s)
{
	if (s->text == NULL)
		return;
	free(s->text);
	s->text = NULL;
	c->count--;
	c->bytes -= s->k.len;
}

const char *
rs_textcache_get(const struct rs_textcache *c,
    const struct rs_textcache_key *k)
{
	const struct rs_textcache_slot	*s;

	if (c == NULL)
		return NULL;
	s = &c->s[rs_textcache_place(k->row)];
	if (s->text == NULL || s->k.row != k->row ||
	    s->k.change != k->change || s->k.stamp != k->stamp ||
	    s->k.len != k->len)
		return NULL;
	return s->text;
}

void
rs_textcache_put(struct rs_textcache *c, const struct rs_textcache_key *k,
    const char *text)
{
	struct rs_textcache_slot	*s;

	if (c == NULL)
		return;
	s = &c->s[rs_textcache_place(k->row)];
	/* Whatever the place held is older, or another row's. */
	rs_textcache_drop(c, s);
	if (k->len > RS_TEXTCACHE_ONE)
		return;
	while (c->bytes + k->len > RS_TEXTCACHE_BYTES) {
		rs_textcache_drop(c, &c->s[c->hand]);
		c->hand = (c->hand + 1) % RS_TEXTCACHE_SLOTS;
	}
	if ((s->text = malloc(k->len + 1)) == NULL)
		return;
	memcpy(s->text, text, k->len);
	s->text[k->len] = '\0';
	s->k = *k;
	c->count++;
	c->bytes += k->len;
}

void
rs_textcache_clear(struct rs_textcache *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < RS_TEXTCACHE_SLOTS; i++)
		rs_textcache_drop(c, &c->s[i]);
	c->hand = 0;
}

size_t
rs_textcache_count(const struct rs_textcache *c, size_t *bytes)
{
	if (bytes != NULL)
		*bytes = c != NULL ? c->bytes : 0;
	return c != NULL ? c->count : 0;
}
