/*
 * ckpt.h: the checkpointer, a thread of the FastCGI process with its own
 * database connection. Copying the WAL back into the database costs page
 * copies and two fsyncs: milliseconds, at times hundreds of them when the
 * disk is busy. Done between requests on the request thread, that time
 * delayed every request the web server had already queued for this
 * process; on its own thread it delays none. The request thread only asks
 * (rs_ckpt_ask), which never blocks.
 *
 * The thread blocks every signal (they stay the request thread's), waits
 * for the writers' queue by polling rather than with SIGALRM, and is
 * joined by rs_ckpt_stop().
 */
#ifndef RS_CKPT_H
#define RS_CKPT_H

#include "err.h"

struct rs_ckpt;

/*
 * Starts the checkpointer of the database at path (which must exist).
 * RS_OK and *out (stop it with rs_ckpt_stop), or an error (logged).
 */
enum rs_err	 rs_ckpt_start(const char *path, int sync_full,
		    struct rs_ckpt **out);
/* Asks for one checkpoint; several asks before it runs make one. */
void		 rs_ckpt_ask(struct rs_ckpt *c);
/* Checkpoints run so far (for tests and logs). */
long		 rs_ckpt_count(struct rs_ckpt *c);
/* Lets a running checkpoint finish, stops the thread, frees c. */
void		 rs_ckpt_stop(struct rs_ckpt *c);

#endif /* RS_CKPT_H */
