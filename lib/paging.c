#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "app.h"
#include "cursor.h"
#include "valid.h"
#include "paging.h"

/* What a cursor is not tied to: it moves, and the page size may change. */
static const char *const rs_paging_free[] = { "cursor", "limit", NULL };

size_t
rs_paging_limit(struct rs_ctx *ctx, struct rs_valid *v)
{
	const char	*s = rs_query_get(&ctx->req.query, "limit");
	long long	 n;

	if (s == NULL)
		return RS_PAGE_DEFAULT;
	if (rs_config_num(s, 1, RS_PAGE_MAX, &n) != 0) {
		rs_valid_add(v, "limit", "must be a whole number from 1 to %d",
		    RS_PAGE_MAX);
		return RS_PAGE_DEFAULT;
	}
	return (size_t)n;
}

int
rs_paging_cursor(struct rs_ctx *ctx, const char *list, struct rs_cursor *c)
{
	const char	*s = rs_query_get(&ctx->req.query, "cursor");

	if (s == NULL)
		return 0;
	if (rs_cursor_read(ctx->app->k_cursor, s, c) != RS_OK ||
	    strcmp(c->list, list) != 0 ||
	    strcmp(c->org_id, ctx->who.org_id) != 0 ||
	    c->sig != rs_cursor_sig(&ctx->req.query, rs_paging_free)) {
		rs_app_problem(ctx, RS_PROB_INVALID_CURSOR,
		    "the cursor is not one this list handed out");
		return -1;
	}
	return 1;
}

struct json_object *
rs_paging_next(struct rs_ctx *ctx, const char *list, int64_t pos,
    int64_t walk)
{
	struct rs_cursor	 c;
	char			 buf[RS_CURSOR_MAX];

	memset(&c, 0, sizeof(c));
	if (strlen(list) >= sizeof(c.list))
		return NULL;
	strcpy(c.list, list);
	memcpy(c.org_id, ctx->who.org_id, sizeof(c.org_id));
	c.sig = rs_cursor_sig(&ctx->req.query, rs_paging_free);
	c.pos = pos;
	c.walk = walk;
	if (rs_cursor_make(ctx->app->k_cursor, &c, buf, sizeof(buf)) != RS_OK)
		return NULL;
	return json_object_new_string(buf);
}
