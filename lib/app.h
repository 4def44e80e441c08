/*
 * app.h: the request pipeline, for the programs only (cgi-bin/, tests).
 * One FastCGI process's state is a struct rs_app (ctx.h); each request
 * runs parse -> request id -> route -> service state -> bearer, rate
 * limit and role gate -> query and body checks -> caller's bookkeeping
 * -> handler -> answer -> reset. Every step returns enum rs_step.
 *
 * Nothing below the pipeline includes this header (scripts/test checks):
 * handlers see struct rs_ctx and answer through reply.h.
 */
#ifndef RS_APP_H
#define RS_APP_H

#include "ctx.h"
#include "http.h"
#include "resp.h"

/*
 * Sets up app from the environment: config, secret, database, schema
 * check. Never fails outright: what goes wrong is logged and kept in
 * app->state, so every request answers 503 instead of the process dying
 * and being respawned in a loop.
 */
void	 rs_app_open(struct rs_app *app);
/* Releases what rs_app_open() set up and wipes every key and token. */
void	 rs_app_close(struct rs_app *app);
/* Serves one request read from envp/rd, answered through wr. */
void	 rs_app_handle(struct rs_app *app, char *const *envp,
	    rs_http_reader rd, void *rdctx, rs_resp_writer wr, void *wrctx);

/* Between requests, after the answer has gone out: asks for a checkpoint
 * when the WAL has grown (never blocks on it). */
void	 rs_app_idle(struct rs_app *app);

#endif /* RS_APP_H */
