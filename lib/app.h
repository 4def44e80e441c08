/*
 * app.h: one FastCGI process's state and the request pipeline:
 * parse -> request id -> route -> query and body checks -> bearer and
 * role gate -> handler -> answer -> reset. Handlers receive a struct
 * rs_ctx whose request is validated up to what the route table says and
 * answer through rs_app_json() and rs_app_problem().
 */
#ifndef RS_APP_H
#define RS_APP_H

#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "id.h"
#include "problem.h"
#include "resp.h"
#include "role.h"
#include "secret.h"

struct json_object;
struct rs_db;
struct rs_valid;
struct rs_route;

struct rs_app {
	struct rs_config cfg;
	struct rs_db	*db;
	struct rs_ckpt	*ckpt;		/* started at the first need */
	enum rs_err	 state;		/* RS_OK, or why we answer 503 */
	unsigned char	 k_apikey[RS_SECRET_BYTES];
	unsigned char	 k_token[RS_SECRET_BYTES];
	unsigned char	 k_cursor[RS_SECRET_BYTES];
	unsigned char	 k_invite[RS_SECRET_BYTES];
	struct rs_arena	 arena;		/* reset after every request */
	long		 served;
	int		 schema_logged;	/* the mismatch last logged, or -1 */
};

/* Who is asking: filled from a verified bearer token and the database. */
struct rs_principal {
	int		 authed;
	char		 org_id[RS_ID_MAX];
	char		 user_id[RS_ID_MAX];
	char		 key_id[RS_ID_MAX];
	const char	*email;		/* arena */
	enum rs_role	 role;		/* as the database says now */
	int64_t		 token_exp;	/* Unix seconds */
	int64_t		 last_sync_at;	/* ms, 0: never */
};

struct rs_ctx {
	struct rs_app		*app;
	const struct rs_route	*route;
	struct rs_req		 req;
	struct rs_resp		 resp;
	struct rs_principal	 who;
	const char		*request_id;
	struct json_object	*body;	/* the JSON object body, or NULL */
};

/*
 * Sets up app from the environment: config, secret, database, schema
 * check. Never fails outright: what goes wrong is logged and kept in
 * app->state, so every request answers 503 instead of the process dying
 * and being respawned in a loop.
 */
void	 rs_app_open(struct rs_app *app);
void	 rs_app_close(struct rs_app *app);
/* Serves one request read from envp/rd, answered through wr. */
void	 rs_app_handle(struct rs_app *app, char *const *envp,
	    rs_http_reader rd, void *rdctx, rs_resp_writer wr, void *wrctx);

/* Between requests, after the answer has gone out: asks for a checkpoint
 * when the WAL has grown (never blocks on it). */
void	 rs_app_idle(struct rs_app *app);

/* Answers status with obj serialised (obj is consumed). 0, or -1. */
int	 rs_app_json(struct rs_ctx *ctx, int status, struct json_object *obj);
/* Answers with a problem; detail is printf-style and may be NULL. */
int	 rs_app_problem(struct rs_ctx *ctx, enum rs_problem p,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answers with a problem object built by the caller (consumed). */
int	 rs_app_problem_obj(struct rs_ctx *ctx, enum rs_problem p,
	    struct json_object *prob);
/*
 * Answers with prob under another status than the code's own (the same
 * causal_conflict is 409 for a body token, 412 for If-Match).
 */
int	 rs_app_problem_as(struct rs_ctx *ctx, int status,
	    struct json_object *prob);
/* A new problem object for ctx (instance and request_id filled). */
struct json_object *rs_app_problem_new(struct rs_ctx *ctx, enum rs_problem p,
	    const char *detail);
/* 503 with Retry-After: the write lock stayed taken; nothing changed. */
int	 rs_app_busy(struct rs_ctx *ctx);
/* 400 invalid_request listing v's field errors. */
int	 rs_app_invalid(struct rs_ctx *ctx, const struct rs_valid *v);

#endif /* RS_APP_H */
