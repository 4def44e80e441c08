/*
 * embed.h: files compiled into the library by scripts/embed: the SQL
 * migrations (in order), PostgreSQL's, and the OpenAPI document. Each table ends with a
 * row whose name is NULL.
 */
#ifndef RS_EMBED_H
#define RS_EMBED_H

#include <stddef.h>

struct rs_embed {
	const char	*name;
	const char	*data;	/* NUL-terminated */
	size_t		 len;
};

extern const struct rs_embed rs_embed_sql[];
extern const struct rs_embed rs_embed_openapi[];
/* PostgreSQL's migrations, in builds with the backend (db_pg.h). */
extern const struct rs_embed rs_embed_pgsql[];

#endif /* RS_EMBED_H */
