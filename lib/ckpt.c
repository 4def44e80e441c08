#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "ckpt.h"

struct rs_ckpt {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 asked;		/* under mu */
	int		 quit;		/* under mu */
	long		 done;		/* under mu */
	struct rs_db	*db;		/* the thread's own connection */
};

static void *
rs_ckpt_main(void *arg)
{
	struct rs_ckpt	*c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->asked && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->quit)
			break;
		c->asked = 0;
		pthread_mutex_unlock(&c->mu);
		rs_db_checkpoint(c->db);
		pthread_mutex_lock(&c->mu);
		c->done++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

enum rs_err
rs_ckpt_start(const char *path, int sync_full, struct rs_ckpt **out)
{
	struct rs_ckpt	*c;
	sigset_t	 all, old;
	enum rs_err	 rc;
	int		 err;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return RS_ERR_NOMEM;
	if ((rc = rs_db_open(path, 0, sync_full, &c->db)) != RS_OK) {
		free(c);
		return rc;
	}
	/* Signals (SIGALRM of the writers' queue, SIGTERM) stay ours. */
	rs_db_set_polling(c->db);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&c->thread, NULL, rs_ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		rs_log_err("checkpointer: %s", strerror(err));
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		rs_db_close(c->db);
		free(c);
		return RS_ERR_NOMEM;
	}
	*out = c;
	return RS_OK;
}

void
rs_ckpt_ask(struct rs_ckpt *c)
{
	pthread_mutex_lock(&c->mu);
	c->asked = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

long
rs_ckpt_count(struct rs_ckpt *c)
{
	long	 n;

	pthread_mutex_lock(&c->mu);
	n = c->done;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
rs_ckpt_stop(struct rs_ckpt *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->quit = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	rs_db_close(c->db);
	free(c);
}
