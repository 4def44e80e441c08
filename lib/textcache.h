/*
 * textcache.h: texts that never change once written, as this process
 * last read them, so that a page need not carry them again: a record's
 * JSON on PostgreSQL (store_records_pg.c), where every byte of a page
 * crosses a socket and libpq before it is copied into the answer.
 *
 * A text is kept under its whole key (struct rs_textcache_key): the
 * row it belongs to, the change number that wrote it, when, and its
 * length. A record's change number is new at every write of it, so one
 * key names one text for good, as long as the database never goes back
 * to an older state; whoever holds a cache must clear it when that may
 * have happened (db_pg.c: a connection made again, after a failover or
 * a restore). Only committed texts may be kept (store_records_pg.c):
 * a number written by a transaction that rolled back is written again.
 *
 * One table of RS_TEXTCACHE_SLOTS places by the row's number, a newer
 * key in a taken place replacing the older, and at most
 * RS_TEXTCACHE_BYTES of texts in all: past it, the oldest places in
 * turn are freed. A text longer than RS_TEXTCACHE_ONE is not kept.
 * Core: no request, no database.
 */
#ifndef RS_TEXTCACHE_H
#define RS_TEXTCACHE_H

#include <stddef.h>
#include <stdint.h>

#define RS_TEXTCACHE_SLOTS	8192
#define RS_TEXTCACHE_BYTES	(4 * 1024 * 1024)
#define RS_TEXTCACHE_ONE	(64 * 1024)

/* What names one text: all four must match. */
struct rs_textcache_key {
	int64_t		 row;		/* a record's seq */
	int64_t		 change;	/* the change that wrote it */
	int64_t		 stamp;		/* when (ms) */
	size_t		 len;		/* its length in bytes */
};

struct rs_textcache;

/* An empty cache (rs_textcache_free), or NULL without memory. */
struct rs_textcache *rs_textcache_new(void);
void		 rs_textcache_free(struct rs_textcache *c);
/*
 * The text kept under k, k->len bytes and a NUL, good until the next
 * rs_textcache_put() or _clear() on c; else NULL.
 */
const char	*rs_textcache_get(const struct rs_textcache *c,
		    const struct rs_textcache_key *k);
/* Keeps a copy of text (k->len bytes) under k, if it may and can. */
void		 rs_textcache_put(struct rs_textcache *c,
		    const struct rs_textcache_key *k, const char *text);
/* Forgets every text. */
void		 rs_textcache_clear(struct rs_textcache *c);
/* How many texts, and how many bytes of them, are kept. */
size_t		 rs_textcache_count(const struct rs_textcache *c,
		    size_t *bytes);

#endif /* RS_TEXTCACHE_H */
