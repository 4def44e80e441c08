#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "clock.h"
#include "codec.h"
#include "json.h"
#include "valid.h"
#include "reply.h"

struct json_object *
rs_reply_problem_new(struct rs_ctx *ctx, enum rs_problem p, const char *detail)
{
	char	*fixed;

	/* What a client sent, cut by "%.64s" or not UTF-8 at all, must
	 * not make the answer invalid JSON. */
	if (detail != NULL && !rs_codec_utf8_valid(detail, strlen(detail)) &&
	    (fixed = rs_arena_strdup(&ctx->app->arena, detail)) != NULL) {
		rs_codec_utf8_scrub(fixed);
		detail = fixed;
	}
	return rs_problem_new(p, detail, ctx->req.path, ctx->request_id);
}

enum rs_step
rs_reply_json(struct rs_ctx *ctx, int status, struct json_object *obj)
{
	const char	*s;
	enum rs_step	 rc = RS_FAIL;

	if (obj == NULL)
		return RS_FAIL;
	if ((s = rs_json_compact(obj)) != NULL &&
	    (ctx->resp.body = rs_arena_strdup(&ctx->app->arena, s)) != NULL) {
		ctx->resp.bodylen = strlen(s);
		ctx->resp.status = status;
		if (ctx->resp.ctype == NULL)
			ctx->resp.ctype = "application/json";
		rc = RS_ANSWERED;
	}
	json_object_put(obj);
	return rc;
}

enum rs_step
rs_reply_text(struct rs_ctx *ctx, int status, const char *json, size_t len)
{
	if ((ctx->resp.body = rs_arena_strndup(&ctx->app->arena, json,
	    len)) == NULL)
		return RS_FAIL;
	ctx->resp.bodylen = len;
	ctx->resp.status = status;
	if (ctx->resp.ctype == NULL)
		ctx->resp.ctype = "application/json";
	return RS_ANSWERED;
}

enum rs_step
rs_reply_problem_obj(struct rs_ctx *ctx, enum rs_problem p,
    struct json_object *prob)
{
	ctx->resp.ctype = "application/problem+json";
	return rs_reply_json(ctx, rs_problem_status(p), prob);
}

enum rs_step
rs_reply_problem_as(struct rs_ctx *ctx, int status, struct json_object *prob)
{
	if (prob == NULL || json_object_object_add(prob, "status",
	    json_object_new_int(status)) != 0) {
		json_object_put(prob);
		return RS_FAIL;
	}
	ctx->resp.ctype = "application/problem+json";
	return rs_reply_json(ctx, status, prob);
}

enum rs_step
rs_reply_problem(struct rs_ctx *ctx, enum rs_problem p, const char *fmt, ...)
{
	va_list	 ap;
	char	 detail[512];

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	return rs_reply_problem_obj(ctx, p,
	    rs_reply_problem_new(ctx, p, fmt != NULL ? detail : NULL));
}

enum rs_step
rs_reply_busy(struct rs_ctx *ctx)
{
	rs_resp_header(&ctx->resp, "Retry-After", "1");
	return rs_reply_problem(ctx, RS_PROB_UNAVAILABLE,
	    "the database is busy; nothing was changed: retry");
}

enum rs_step
rs_reply_txn(struct rs_ctx *ctx, enum rs_txn_result res)
{
	switch (res) {
	case RS_TXN_DECLINED:
		return RS_ANSWERED;
	case RS_TXN_BUSY:
		return rs_reply_busy(ctx);
	case RS_TXN_KEY_REUSED:
		return rs_reply_problem(ctx, RS_PROB_IDEM_REUSED, "this "
		    "Idempotency-Key was used for a different request in the "
		    "last 24 hours");
	default:
		return RS_FAIL;
	}
}

enum rs_step
rs_reply_invalid(struct rs_ctx *ctx, const struct rs_valid *v)
{
	struct json_object	*prob;
	char			 detail[320];
	size_t			 i;

	if (v->n == 1)
		snprintf(detail, sizeof(detail), "%s: %s", v->e[0].field,
		    v->e[0].message);
	else
		snprintf(detail, sizeof(detail), "%zu members are invalid; "
		    "see errors", v->n);
	if ((prob = rs_reply_problem_new(ctx, RS_PROB_INVALID_REQUEST,
	    detail)) == NULL)
		return RS_FAIL;
	for (i = 0; i < v->n; i++)
		if (rs_problem_field(prob, v->e[i].field, v->e[i].message)) {
			json_object_put(prob);
			return RS_FAIL;
		}
	return rs_reply_problem_obj(ctx, RS_PROB_INVALID_REQUEST, prob);
}

enum rs_err
rs_reply_header(struct rs_ctx *ctx, const char *name, const char *value)
{
	const char	*v;

	if ((v = rs_arena_strdup(&ctx->app->arena, value)) == NULL)
		return RS_ERR_NOMEM;
	return rs_resp_header(&ctx->resp, name, v) == 0 ? RS_OK :
	    RS_ERR_RANGE;
}

enum rs_err
rs_reply_location(struct rs_ctx *ctx, const char *fmt, ...)
{
	char		 path[512];
	const char	*v;
	va_list		 ap;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return RS_ERR_RANGE;
	if ((v = rs_arena_cat(&ctx->app->arena, ctx->req.mount ?
	    ctx->req.mount : "", path, NULL)) == NULL)
		return RS_ERR_NOMEM;
	return rs_resp_header(&ctx->resp, "Location", v) == 0 ? RS_OK :
	    RS_ERR_RANGE;
}

void
rs_reply_clear(struct rs_ctx *ctx, size_t nhdr)
{
	ctx->resp.nhdr = nhdr;
	ctx->resp.status = 0;
	ctx->resp.ctype = NULL;
	ctx->resp.body = NULL;
	ctx->resp.bodylen = 0;
}

enum rs_step
rs_reply_idem(struct rs_ctx *ctx, struct rs_idem *idem)
{
	const char	*h = rs_http_header(&ctx->req, "Idempotency-Key");

	memset(idem, 0, sizeof(*idem));
	if (h == NULL)
		return RS_NEXT;
	if ((idem->key = rs_idem_key(&ctx->app->arena, h)) == NULL)
		return rs_reply_problem(ctx, RS_PROB_INVALID_REQUEST,
		    "Idempotency-Key must be 1 to %d visible ASCII "
		    "characters", RS_MAX_IDEM_KEY);
	if (rs_idem_hash(idem, ctx->req.method_name, ctx->req.path,
	    rs_http_header(&ctx->req, "If-Match"), ctx->body) != RS_OK)
		return RS_FAIL;
	return RS_NEXT;
}

enum rs_err
rs_reply_remember(struct rs_ctx *ctx, struct rs_idem_answer *ans)
{
	const struct rs_resp	*r = &ctx->resp;
	char			*h, *p;
	size_t			 i, n = 1, ln, lv;

	/* "name: value\n" per header, measured, then copied once. */
	for (i = 0; i < r->nhdr; i++)
		n += strlen(r->hdr[i].name) + strlen(r->hdr[i].value) + 3;
	if ((h = p = rs_arena_alloc(&ctx->app->arena, n)) == NULL)
		return RS_ERR_NOMEM;
	for (i = 0; i < r->nhdr; i++) {
		ln = strlen(r->hdr[i].name);
		lv = strlen(r->hdr[i].value);
		memcpy(p, r->hdr[i].name, ln);
		memcpy(p + ln, ": ", 2);
		memcpy(p + ln + 2, r->hdr[i].value, lv);
		p[ln + 2 + lv] = '\n';
		p += ln + lv + 3;
	}
	*p = '\0';
	ans->status = ctx->resp.status;
	ans->headers = h;
	ans->body = ctx->resp.body;
	return ans->body != NULL ? RS_OK : RS_ERR_INVAL;
}

enum rs_step
rs_reply_replay(struct rs_ctx *ctx, const struct rs_idem_answer *ans)
{
	char	*h, *line, *colon, *next;

	if ((h = rs_arena_strdup(&ctx->app->arena, ans->headers)) == NULL)
		return RS_FAIL;
	ctx->resp.status = ans->status;
	ctx->resp.ctype = ans->status >= 400 ? "application/problem+json" :
	    "application/json";
	ctx->resp.body = ans->body;
	ctx->resp.bodylen = strlen(ans->body);
	for (line = h; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			next = line + strlen(line);
		else
			*next++ = '\0';
		if ((colon = strstr(line, ": ")) == NULL)
			continue;
		*colon = '\0';
		if (rs_resp_header(&ctx->resp, line, colon + 2) != 0)
			return RS_FAIL;
	}
	if (rs_resp_header(&ctx->resp, "Idempotent-Replayed", "true") != 0)
		return RS_FAIL;
	return RS_ANSWERED;
}

void
rs_reply_txn_init(struct rs_ctx *ctx, struct rs_txn *t)
{
	rs_txn_init(t, ctx->app->db, &ctx->app->arena,
	    ctx->who.authed ? ctx->who.org_id : NULL, rs_clock_now_ms());
	t->audit.actor_type = "user";
	t->audit.actor_id = ctx->who.authed ? ctx->who.user_id : NULL;
	t->audit.request_id = ctx->request_id;
	t->audit.ip = ctx->req.remote_addr;	/* the issue: REMOTE_ADDR */
}
