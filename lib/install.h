/*
 * install.h: which installation a process serves. Its settings come from
 * the process environment and, for what that lacks, from the first
 * request's RELAYSYNC_* parameters (an .htaccess "SetEnv" arrives that
 * way under mod_fcgid), added to the environment before config.h reads
 * it; the environment always wins. A process then serves that one
 * installation: a later request carrying other settings is refused. And
 * an installation whose database or secret lies under the web server's
 * document root, where the server could hand it out, is refused too.
 *
 * Owns the copies of the settings it took (freed by rs_install_free()).
 * Reads requests (http.h), never the database. Called only by app.c.
 */
#ifndef RS_INSTALL_H
#define RS_INSTALL_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "http.h"

#define RS_INSTALL_MAX_TAKEN	32	/* settings taken from a request */

struct rs_install {
	char		*taken[RS_INSTALL_MAX_TAKEN]; /* "NAME=VALUE" */
	size_t		 ntaken;
	int		 foreign_logged; /* a foreign request was logged */
	char		*docroot;	/* the last roots checked, joined */
	enum rs_err	 docroot_rc;	/* ... and what it found */
};

/* 1 when the process environment names no database: the settings wait
 * for the first request. */
int		 rs_install_pending(void);
/*
 * Adds req's RELAYSYNC_* parameters (settings, not per-request ones) the
 * environment lacks to it, and keeps them: RS_OK, or RS_ERR_RANGE /
 * RS_ERR_NOMEM (logged; what was added stays).
 */
enum rs_err	 rs_install_take(struct rs_install *in, const struct rs_req *req);
/*
 * RS_OK when req's settings parameters are the ones taken (none, when
 * none was taken: then the environment's are the process's); else
 * RS_ERR_STATE, logged once per process.
 */
enum rs_err	 rs_install_same(struct rs_install *in, const struct rs_req *req);
/*
 * RS_OK unless cfg's database or secret file lies in one of the n
 * document roots (NULL entries skipped; Apache's DOCUMENT_ROOT and, for
 * an Alias or ~user directory, CONTEXT_DOCUMENT_ROOT) or under it,
 * symbolic links resolved: then RS_ERR_STATE, logged once per set of
 * roots. Remembers the last set and its answer.
 */
enum rs_err	 rs_install_docroot(struct rs_install *in,
		    const struct rs_config *cfg, const char *const *roots,
		    size_t n);
void		 rs_install_free(struct rs_install *in);

#endif /* RS_INSTALL_H */
