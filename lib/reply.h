/*
 * reply.h: the answers handlers and pipeline steps give, written into
 * ctx->resp: JSON bodies and RFC 9457 problems (problem.h), with the
 * request's path as instance and its id as request_id.
 *
 * Every function returns RS_ANSWERED once ctx->resp holds the answer, or
 * RS_FAIL (nothing usable was built; the pipeline answers 500), so a
 * handler may end with "return rs_reply_...(ctx, ...)".
 */
#ifndef RS_REPLY_H
#define RS_REPLY_H

#include "ctx.h"
#include "idem.h"
#include "txn.h"
#include "problem.h"

struct json_object;
struct rs_valid;

/* Answers status with obj serialised (obj is consumed, may be NULL). */
enum rs_step	 rs_reply_json(struct rs_ctx *ctx, int status,
		    struct json_object *obj);
/*
 * Answers status with JSON text already made (len bytes, copied into the
 * request arena): for an answer printed straight to text, a list page.
 */
enum rs_step	 rs_reply_text(struct rs_ctx *ctx, int status,
		    const char *json, size_t len);
/* Answers with a problem; detail is printf-style and may be NULL. */
enum rs_step	 rs_reply_problem(struct rs_ctx *ctx, enum rs_problem p,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answers with a problem object built by the caller (consumed). */
enum rs_step	 rs_reply_problem_obj(struct rs_ctx *ctx, enum rs_problem p,
		    struct json_object *prob);
/*
 * Answers with prob under another status than the code's own (the same
 * causal_conflict is 409 for a body token, 412 for If-Match).
 */
enum rs_step	 rs_reply_problem_as(struct rs_ctx *ctx, int status,
		    struct json_object *prob);
/* A new problem object for ctx (instance and request_id filled), or NULL. */
struct json_object *rs_reply_problem_new(struct rs_ctx *ctx,
		    enum rs_problem p, const char *detail);
/* 503 with Retry-After: the write lock stayed taken; nothing changed. */
enum rs_step	 rs_reply_busy(struct rs_ctx *ctx);
/*
 * The answer for a write (txn.h) that did not commit: RS_ANSWERED for a
 * change that declined (it answered), 503 busy when the lock was not had,
 * 422 for a reused Idempotency-Key; RS_FAIL for an error (500). A replay
 * is the caller's: it must discard what it built first.
 */
enum rs_step	 rs_reply_txn(struct rs_ctx *ctx, enum rs_txn_result res);
/*
 * rs_txn_init() for a write by the request's caller: the org, now, and
 * the audit entry's who and where (the caller's user, the request's id,
 * the client's address); the change sets action, target and detail.
 */
void		 rs_reply_txn_init(struct rs_ctx *ctx, struct rs_txn *t);
/* 400 invalid_request listing v's field errors. */
enum rs_step	 rs_reply_invalid(struct rs_ctx *ctx, const struct rs_valid *v);
/*
 * Adds a response header, its value copied into the request arena.
 * RS_OK, RS_ERR_NOMEM, or RS_ERR_RANGE when the header table is full.
 */
enum rs_err	 rs_reply_header(struct rs_ctx *ctx, const char *name,
		    const char *value);
/*
 * Adds Location: the request's mount point ("" at the root) followed by
 * the printf-style path ("/v1/records/%s"). RS_OK or as rs_reply_header().
 */
enum rs_err	 rs_reply_location(struct rs_ctx *ctx, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Forgets an answer built in advance, keeping the first nhdr headers. */
void		 rs_reply_clear(struct rs_ctx *ctx, size_t nhdr);
/*
 * The answer now in ctx->resp as an Idempotency-Key keeps it (status,
 * every header as "Name: value\n" lines, body; strings in the request
 * arena) into *ans. RS_OK or RS_ERR_NOMEM.
 */
enum rs_err	 rs_reply_remember(struct rs_ctx *ctx,
		    struct rs_idem_answer *ans);
/*
 * Reads the request's Idempotency-Key into *idem (key NULL: none) with
 * the hash of what it guards: method, path, If-Match and the canonical
 * body. RS_NEXT, RS_ANSWERED (400 for a malformed key) or RS_FAIL.
 */
enum rs_step	 rs_reply_idem(struct rs_ctx *ctx, struct rs_idem *idem);
/* Answers with a kept answer, marked Idempotent-Replayed. */
enum rs_step	 rs_reply_replay(struct rs_ctx *ctx,
		    const struct rs_idem_answer *ans);

#endif /* RS_REPLY_H */
