/*
 * ctx.h: the data every layer above the stores shares, and nothing else:
 * one process's state (struct rs_app), who is asking (struct
 * rs_principal), one request in flight (struct rs_ctx), and the one
 * result type of pipeline steps and handlers (enum rs_step).
 *
 * Data only, no functions: the pipeline (app.h) fills these, handlers
 * read them and answer through reply.h. Store modules never include
 * this header (scripts/test checks): they see an org id, not a request.
 */
#ifndef RS_CTX_H
#define RS_CTX_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "arena.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "id.h"
#include "install.h"
#include "resp.h"
#include "role.h"
#include "secret.h"
#include "token.h"
#include "whocache.h"

struct json_object;
struct rs_ckpt;
struct rs_db;
struct rs_policy_set;
struct rs_ratelimit;
struct rs_route;

/*
 * What a pipeline step or a handler did, as lighttpd's handler_t says it
 * for every stage: go on to the next step, the request is answered (any
 * status, in ctx->resp), or it failed without an answer (the pipeline
 * rolls back and answers 500).
 */
enum rs_step {
	RS_NEXT,
	RS_ANSWERED,
	RS_FAIL,
};

/* The last bearer token this process verified: clients send the same one
 * many times. Wiped when the process closes. */
struct rs_token_memo {
	char		 tok[RS_MAX_TOKEN + 1];
	size_t		 len;		/* 0: none */
	struct rs_token	 t;
};

struct rs_app {
	struct rs_config cfg;
	struct rs_db	*db;
	struct rs_ckpt	*ckpt;		/* started at the first need */
	enum rs_err	 state;		/* RS_OK, or why we answer 503 */
	unsigned char	 k_apikey[RS_SECRET_BYTES];
	unsigned char	 k_token[RS_SECRET_BYTES];
	unsigned char	 k_cursor[RS_SECRET_BYTES];
	unsigned char	 k_invite[RS_SECRET_BYTES];
	unsigned char	 k_webhook[RS_SECRET_BYTES]; /* seals webhook secrets */
	struct rs_token_memo memo;
	struct rs_policy_set *policies;	/* compiled, per org (policy_set.h) */
	struct rs_arena	 arena;		/* reset after every request */
	long		 served;
	/* Set (by a signal) when the process should stop: a stream ends. */
	const volatile sig_atomic_t *stop;
	/* The web server's connection for the request in hand, or -1: a
	 * stream watches it to end as soon as the server hangs up. */
	int		 conn_fd;
	struct rs_ratelimit *limits;	/* the pool's buckets, or NULL */
	int		 limits_tried;	/* opened (or failed, logged) once */
	int		 limits_warned;	/* a bucket was missing: logged */
	int		 schema_logged;	/* the mismatch last logged, or -1 */
	/* The schema was found current at this generation word and time
	 * (shm.h; read_ms 0: not since the word last changed). */
	uint64_t	 schema_gen;
	int64_t		 schema_read_ms;
	int64_t		 setup_ms;	/* the last try of a setup that
					 * could not reach the database */
	struct rs_whocache whocache;	/* holders of keys (auth.c) */
	/* The installation served (install.h). pending: no database named
	 * yet, everything waits for the first request; settled: its
	 * settings were taken. */
	struct rs_install install;
	int		 pending;
	int		 settled;
	int		 cgi;		/* plain CGI: one request, no thread */
	char		*openapi;	/* the document for openapi_mount */
	size_t		 openapi_len;
	char		*openapi_mount;
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
	int		 rate_limit;	/* the org's, requests/s */
};

struct rs_ctx {
	struct rs_app		*app;
	const struct rs_route	*route;
	struct rs_req		 req;
	struct rs_resp		 resp;
	struct rs_principal	 who;
	const char		*request_id;
	struct json_object	*body;	/* the JSON object body, or NULL */
	/* The org's bucket as this request left it (RateLimit headers). */
	int			 limited;	/* 1: the headers are due */
	int64_t			 limit;		/* this host's share of the
						 * org's requests a second */
	int64_t			 limit_left;
	int64_t			 limit_reset_ms;
};

#endif /* RS_CTX_H */
