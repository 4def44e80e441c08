#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "reply.h"
#include "cursor.h"
#include "json.h"
#include "num.h"
#include "valid.h"
#include "paging.h"

/* What a cursor is not tied to: it moves, and the page size may change. */
static const char *const rs_paging_free[] = { "cursor", "limit", NULL };

size_t
rs_paging_limit(struct rs_ctx *ctx, struct rs_valid *v)
{
	const char	*s = rs_query_get(&ctx->req.query, "limit"), *errstr;
	long long	 n;

	if (s == NULL)
		return RS_PAGE_DEFAULT;
	n = rs_num_parse(s, 1, RS_PAGE_MAX, &errstr);
	if (errstr != NULL) {
		rs_valid_add(v, "limit", "must be a whole number from 1 to %d",
		    RS_PAGE_MAX);
		return RS_PAGE_DEFAULT;
	}
	return (size_t)n;
}

enum rs_step
rs_paging_cursor(struct rs_ctx *ctx, const char *list, struct rs_cursor *c,
    int *has)
{
	const char	*s = rs_query_get(&ctx->req.query, "cursor");

	memset(c, 0, sizeof(*c));
	if ((*has = s != NULL) == 0)
		return RS_NEXT;
	if (rs_cursor_read(ctx->app->k_cursor, s, c) != RS_OK ||
	    strcmp(c->list, list) != 0 ||
	    strcmp(c->org_id, ctx->who.org_id) != 0 ||
	    c->sig != rs_cursor_sig(&ctx->req.query, rs_paging_free))
		return rs_reply_problem(ctx, RS_PROB_INVALID_CURSOR,
		    "the cursor is not one this list handed out");
	return RS_NEXT;
}

int
rs_paging_next_text(struct rs_ctx *ctx, const char *list, int64_t pos,
    int64_t walk, char *buf, size_t bufsz)
{
	struct rs_cursor	 c;

	memset(&c, 0, sizeof(c));
	if (strlen(list) >= sizeof(c.list))
		return -1;
	strcpy(c.list, list);
	memcpy(c.org_id, ctx->who.org_id, sizeof(c.org_id));
	c.sig = rs_cursor_sig(&ctx->req.query, rs_paging_free);
	c.pos = pos;
	c.walk = walk;
	return rs_cursor_make(ctx->app->k_cursor, &c, buf, bufsz) == RS_OK ?
	    0 : -1;
}

/* A "next_cursor" value for list at pos (caller owns it), or NULL. */
static struct json_object *
rs_paging_next(struct rs_ctx *ctx, const char *list, int64_t pos,
    int64_t walk)
{
	char	 buf[RS_CURSOR_MAX];

	if (rs_paging_next_text(ctx, list, pos, walk, buf, sizeof(buf)) != 0)
		return NULL;
	return json_object_new_string(buf);
}

int
rs_paging_add_next(struct rs_ctx *ctx, struct json_object *o,
    const char *list, int more, int64_t pos, int64_t walk)
{
	if (!more)
		return rs_json_add_null(o, "next_cursor");
	return rs_json_add(o, "next_cursor",
	    rs_paging_next(ctx, list, pos, walk));
}

struct json_object *
rs_paging_page(struct rs_ctx *ctx, const char *list, const void *rows,
    size_t size, size_t n, size_t limit, rs_paging_show show,
    rs_paging_place place)
{
	struct json_object	*o, *arr, *row;
	const char		*p = rows;
	int64_t			 pos = 0, walk = 0;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (rs_json_add(o, "data", arr = json_object_new_array()) != 0)
		goto fail;
	for (i = 0; i < n && i < limit; i++)
		if ((row = show(p + i * size)) == NULL ||
		    json_object_array_add(arr, row) != 0) {
			json_object_put(row);
			goto fail;
		}
	if (n > limit)
		place(p + (limit - 1) * size, &pos, &walk);
	if (rs_json_add_bool(o, "has_more", n > limit) != 0 ||
	    rs_paging_add_next(ctx, o, list, n > limit, pos, walk) != 0)
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}
