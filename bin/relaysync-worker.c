/*
 * relaysync-worker: drains the outbound queue, run from cron (or
 * --loop beside a development server). A pass fans the orgs' new
 * events out into jobs, delivers the due ones concurrently
 * (worker/deliver.h) and settles their outcomes (lib/relay.h), then,
 * now and then, purges what is past its horizon and checkpoints the
 * WAL. Every decision is in lib/relay.c; this program parses
 * arguments, holds the lock, keeps time and loops.
 *
 * Exit status, for cron to report: 0 when the run did its work, found
 * another run holding the lock, or found the database busy (the next
 * run tries again); 1 on any other failure (no configuration, a
 * database it cannot open or write, a schema it does not know, a failed
 * checkpoint); 2 on a usage error. It prints nothing when all is well
 * (--verbose: a line per pass on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "relaysync.h"
#include "deliver.h"

#define PATH_BUF		4096
#define CRON_TIME_LIMIT_S	50	/* a cron run's default budget */
#define TIME_LIMIT_MAX_S	86400
#define IDLE_MS			1000	/* between passes with nothing due */
#define POLL_MS			100	/* longest wait for the network */
#define SETTLE_MS		200	/* longest an outcome waits to be kept */
#define PURGE_EVERY_MS		60000	/* purges and checkpoints, at most */
#define HOLD_ROUNDS		4	/* leased jobs held: rounds of slots */
#define SETTLE_TRIES		5	/* a busy database, at the end of a pass */
/*
 * The worker yields the CPU to the web server's pool: on a small host a
 * backlog being delivered at full speed took half the cores from record
 * writes (bench/README, "Webhook delivery"). Deliveries are background
 * work; a client waiting on its write is not.
 */
#define DEFAULT_NICE		10
/*
 * The same for the database's one write lock: a write of ours that had
 * to queue behind another writer (the API) is followed by YIELD_FACTOR
 * times its length without one (at most YIELD_MAX_MS), so while clients
 * write, the worker holds the lock a seventh of the time at most; alone,
 * it never waits and never yields.
 */
#define YIELD_FACTOR		6
#define YIELD_MAX_MS		250
#define COPY_PAGES		4096	/* a WAL (16 MiB) we copy back */

enum mode {
	MODE_CRON,		/* passes while there is work, up to the limit */
	MODE_ONCE,		/* one pass */
	MODE_LOOP,		/* passes until told to stop */
};

struct opts {
	enum mode	 mode;
	int		 time_limit;	/* s; 0: none */
	int		 concurrency;
	int		 timeout;	/* s */
	int		 lease;		/* s */
	int		 nice;		/* added to the process's niceness */
	int		 verbose;
	const char	*env_file;	/* settings file (config.h), or NULL */
};

struct worker {
	struct opts		 o;
	struct rs_config	 cfg;
	struct rs_db		*db;
	struct rs_deliver	*dl;
	struct rs_arena		 arena;		/* the held jobs' strings */
	unsigned char		 sealkey[RS_SECRET_BYTES];
	struct rs_relay_job	*held;		/* leased, not started yet */
	size_t			 nheld, next, held_max;
	int64_t			 leased_at;	/* of the held jobs */
	struct rs_relay_outcome	*outs;		/* ended, not kept yet */
	size_t			 nouts, outs_max;
	int64_t			 outs_since;	/* the oldest's arrival */
	int64_t			 start_until;	/* no delivery starts after */
	int64_t			 deadline;	/* of the run; 0: none */
	int64_t			 next_purge;
	int64_t			 quiet_until;	/* no write of ours before */
	struct rs_relay_tally	 tally;		/* this pass */
	enum rs_err		 failed;	/* the error that ends the run */
	const char		*failed_what;
};

static volatile sig_atomic_t	 stopping;

static void
usage(FILE *f)
{
	fprintf(f, "usage: relaysync-worker [--once | --loop] "
	    "[--time-limit S] [--concurrency N]\n"
	    "                        [--timeout S] [--lease S] [--nice N] "
	    "[--env-file FILE]\n"
	    "                        [--verbose] [--help]\n\n"
	    "Delivers RELAYSYNC_DB's webhooks: turns new events into jobs, "
	    "sends the due\n"
	    "ones, signed, and schedules retries; purges expired rows and "
	    "checkpoints\n"
	    "the WAL. Run it from cron every minute as the web server's "
	    "user, which owns\n"
	    "the database. Another run holding <RELAYSYNC_DB>.worker.lock "
	    "makes it exit 0.\n\n"
	    "  (no mode)         cron: passes while anything is due (new "
	    "events, retries),\n"
	    "                    then exit; at most the time limit\n"
	    "  --once            one pass: everything due now, purge, "
	    "checkpoint, exit\n"
	    "  --loop            passes until SIGTERM or SIGINT (which let "
	    "the deliveries\n"
	    "                    in flight end first)\n"
	    "  --time-limit S    the run's budget, 1..86400 s (cron: %d; "
	    "--once, --loop:\n"
	    "                    none); no delivery starts in its last "
	    "--timeout seconds\n"
	    "                    (or its second half, if shorter)\n"
	    "  --concurrency N   deliveries at once, 1..256 (32)\n"
	    "  --timeout S       connect and total time of a delivery, 1..60 "
	    "s (10)\n"
	    "  --lease S         how long a job stays leased, more than "
	    "--timeout (60)\n"
	    "  --nice N          lower the worker's CPU priority by N, "
	    "0..19 (%d), so the\n"
	    "                    web server's requests go first\n"
	    "  --verbose         a line per pass on stderr\n"
	    "  --env-file FILE   settings from FILE (RELAYSYNC_NAME=value "
	    "lines, # comments)\n"
	    "                    where the environment has none: for a "
	    "hosting panel's cron\n\n"
	    "Environment: RELAYSYNC_DB, RELAYSYNC_SECRET_FILE, "
	    "RELAYSYNC_TOMBSTONE_DAYS,\nRELAYSYNC_HISTORY_DAYS, "
	    "RELAYSYNC_WEBHOOK_ALLOW_PRIVATE=1 (http:// and private\n"
	    "addresses, for tests).\n\n"
	    "Exit status: 0 done (also when the database was busy or "
	    "another run held the\n"
	    "lock: the next run retries), 1 failed, 2 usage error (or an "
	    "unusable\n--env-file).\n",
	    CRON_TIME_LIMIT_S, DEFAULT_NICE);
}

/*
 * Says why the database at path cannot be used, naming the file this
 * user may not write when the file system tells; returns 1.
 */
static int
fail_db(const char *path, const char *what, enum rs_err rc)
{
	struct passwd	*pw = getpwuid(geteuid());
	char		 bad[PATH_BUF];

	switch (rs_admin_db_writable(path, bad, sizeof(bad))) {
	case RS_ERR_NOTFOUND:
		rs_log_err("%s: no such database (relaysync-admin init "
		    "makes it)", path);
		break;
	case RS_ERR_IO:
		rs_log_err("%s: not writable by user %s (uid %ld), which this "
		    "worker runs as; run it as the database's owner (the web "
		    "server's user: name it in the cron.d line, or use its "
		    "crontab)", bad, pw ? pw->pw_name : "?", (long)geteuid());
		break;
	default:
		rs_log_err("%s: %s: %s", path, what, rs_strerror(rc));
		break;
	}
	return 1;
}

/* Parses the value of option name into *v within [min, max]; 0 or -1. */
static int
opt_num(const char *name, const char *s, int min, int max, int *v)
{
	const char	*errstr;
	long long	 n;

	if (s == NULL) {
		fprintf(stderr, "relaysync-worker: %s needs a value\n", name);
		return -1;
	}
	n = rs_num_parse(s, min, max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "relaysync-worker: %s %s: %s (%d..%d)\n", name,
		    s, errstr, min, max);
		return -1;
	}
	*v = (int)n;
	return 0;
}

/* Parses argv into o: 0, 1 (--help: done) or -1 (usage error). */
static int
opts_parse(int argc, char *argv[], struct opts *o)
{
	const char	*a, *v;
	int		 i, modes = 0, limit = -1;
	size_t		 len;

	memset(o, 0, sizeof(*o));
	o->mode = MODE_CRON;
	o->concurrency = 32;
	o->timeout = 10;
	o->lease = 60;
	o->nice = DEFAULT_NICE;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		/* "--name=value" or "--name value" */
		v = strchr(a, '=');
		len = v != NULL ? (size_t)(v - a) : strlen(a);
		if (v != NULL)
			v++;
#define IS(name)	(len == strlen(name) && strncmp(a, name, len) == 0)
#define VALUE()		(v != NULL ? v : (i + 1 < argc ? argv[++i] : NULL))
		if (IS("--help") && v == NULL) {
			usage(stdout);
			return 1;
		} else if (IS("--once") && v == NULL) {
			o->mode = MODE_ONCE;
			modes++;
		} else if (IS("--loop") && v == NULL) {
			o->mode = MODE_LOOP;
			modes++;
		} else if (IS("--verbose") && v == NULL)
			o->verbose = 1;
		else if (IS("--time-limit")) {
			if (opt_num("--time-limit", VALUE(), 1,
			    TIME_LIMIT_MAX_S, &limit))
				return -1;
		} else if (IS("--concurrency")) {
			if (opt_num("--concurrency", VALUE(), 1,
			    RS_DELIVER_MAX_CONCURRENCY, &o->concurrency))
				return -1;
		} else if (IS("--timeout")) {
			if (opt_num("--timeout", VALUE(), 1, 60, &o->timeout))
				return -1;
		} else if (IS("--lease")) {
			if (opt_num("--lease", VALUE(), 2, 86400, &o->lease))
				return -1;
		} else if (IS("--env-file")) {
			if ((o->env_file = VALUE()) == NULL || *o->env_file ==
			    '\0') {
				fprintf(stderr, "relaysync-worker: --env-file "
				    "needs a file\n");
				return -1;
			}
		} else if (IS("--nice")) {
			if (opt_num("--nice", VALUE(), 0, 19, &o->nice))
				return -1;
		} else {
			fprintf(stderr, "relaysync-worker: unknown argument "
			    "%s\n", a);
			return -1;
		}
#undef IS
#undef VALUE
	}
	if (modes > 1) {
		fprintf(stderr, "relaysync-worker: --once and --loop exclude "
		    "each other\n");
		return -1;
	}
	if (o->lease <= o->timeout) {
		fprintf(stderr, "relaysync-worker: --lease (%d s) must be "
		    "longer than --timeout (%d s)\n", o->lease, o->timeout);
		return -1;
	}
	o->time_limit = limit > 0 ? limit :
	    o->mode == MODE_CRON ? CRON_TIME_LIMIT_S : 0;
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Takes "<db>.worker.lock": 1 taken (*fd holds it until exit), 0 held by
 * another run, -1 error (logged).
 */
static int
lock_take(const char *db_path, int *fd)
{
	char	 path[PATH_BUF];

	if ((size_t)snprintf(path, sizeof(path), "%s.worker.lock", db_path) >=
	    sizeof(path)) {
		rs_log_err("%s: path too long for its lock file", db_path);
		return -1;
	}
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		rs_log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	if (errno == EWOULDBLOCK)
		return 0;
	rs_log_err("%s: flock: %s", path, strerror(errno));
	return -1;
}

/* Sleeps ms, in short steps so a signal ends it soon. */
static void
nap(int64_t ms)
{
	struct timespec	 ts;
	int64_t		 step;

	while (ms > 0 && !stopping) {
		step = ms < POLL_MS ? ms : POLL_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/*
 * Notes a database error rc of step what: busy is normal (another
 * writer held on; the next pass retries), anything else ends the run.
 * Returns rc.
 */
static enum rs_err
note(struct worker *w, const char *what, enum rs_err rc)
{
	/* A race lost to another writer (PostgreSQL) is tried again, as a
	 * busy database is: what waits stays kept. */
	if (rc == RS_OK || rc == RS_ERR_BUSY || rc == RS_ERR_RETRY)
		return rc;
	if (w->failed == RS_OK) {
		w->failed = rc;
		w->failed_what = what;
	}
	stopping = 1;
	return rc;
}

/* After our write begun at t0: when it queued behind another, yield. */
static void
yield_after(struct worker *w, int64_t t0)
{
	int64_t	 now = rs_clock_now_ms(), d;

	if (!rs_db_wlock_waited(w->db))
		return;
	d = (now - t0) * YIELD_FACTOR;
	if (d < 2)
		d = 2;
	w->quiet_until = now + (d > YIELD_MAX_MS ? YIELD_MAX_MS : d);
}

/* Job order, for qsort. */
static int
outcome_cmp(const void *a, const void *b)
{
	const struct rs_relay_outcome	*x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Keeps the outcomes collected so far (they wait when the database is busy). */
static void
settle(struct worker *w)
{
	int64_t		 t0 = rs_clock_now_ms();
	enum rs_err	 rc;

	if (w->nouts == 0)
		return;
	/* Jobs in the order every writer takes them (an endpoint's delete
	 * too): two transactions never wait on each other in a circle. */
	qsort(w->outs, w->nouts, sizeof(w->outs[0]), outcome_cmp);
	if (note(w, "settle", rs_relay_settle(w->db, w->outs, w->nouts,
	    t0, NULL, &w->tally)) == RS_OK)
		w->nouts = 0;
	yield_after(w, t0);
	/*
	 * Our own writes grow the WAL too, and while no client writes, no
	 * pool process checkpoints: a backlog drained after the load grew
	 * it past 200 MiB in 20 s (bench/soak). So when we find it past
	 * COPY_PAGES (which the pool's checkpoints keep it well under while
	 * clients write), we copy it back, which lets our next write start
	 * it again. Only that step, and only then: the whole checkpoint
	 * holds the writers' queue, which, niced, we held too long (client
	 * writes' p99 100-350 ms while we delivered, bench/soak).
	 */
	if (rs_db_wal_pages(w->db) >= COPY_PAGES &&
	    (rc = rs_db_checkpoint_copy(w->db)) != RS_OK && rc != RS_ERR_BUSY)
		note(w, "checkpoint", rc);
}

/* Gives back the held jobs that will not start now. */
static void
release(struct worker *w)
{
	if (w->next < w->nheld)
		note(w, "release", rs_relay_release(w->db, w->held + w->next,
		    w->nheld - w->next, rs_clock_now_ms()));
	w->nheld = w->next = 0;
	rs_arena_reset(&w->arena);
}

/*
 * Leases more jobs into the held list when it is empty: 1 when some
 * came, 0 when none is due (or the database was busy).
 */
static int
lease(struct worker *w)
{
	enum rs_err	 rc;

	release(w);
	w->leased_at = rs_clock_now_ms();
	rc = rs_relay_lease(w->db, &w->arena, w->sealkey, w->leased_at,
	    (int64_t)w->o.lease * 1000, w->held_max, w->held, &w->nheld,
	    &w->tally);
	if (note(w, "lease", rc) != RS_OK)
		w->nheld = 0;
	yield_after(w, w->leased_at);
	return w->nheld > 0;
}

/*
 * Starts held jobs in the idle slots while their lease has time left;
 * returns -1 when it gave the held jobs back instead (too late to start
 * them), else 0.
 */
static int
start(struct worker *w, int64_t now)
{
	struct rs_relay_job	*j;
	int64_t			 lease = (int64_t)w->o.lease * 1000;
	int64_t			 timeout = (int64_t)w->o.timeout * 1000;
	int64_t			 margin = (lease - timeout) / 2;

	/* A job must end (timeout) before its lease does, with time to
	 * keep its outcome: 2 s, or half the slack of a short lease (the
	 * options make lease > timeout, so a fresh lease always starts). */
	if (margin > 2000)
		margin = 2000;
	if (w->next < w->nheld && now + timeout + margin >
	    w->leased_at + lease) {
		release(w);
		return -1;
	}
	while (w->next < w->nheld && rs_deliver_idle(w->dl) > 0) {
		j = &w->held[w->next++];
		rs_deliver_start(w->dl, j, now);
		rs_relay_wipe(j, 1);
	}
	return 0;
}

/*
 * Delivers everything due now: leases, starts, collects and settles
 * until nothing is due, nothing is in flight and everything is kept,
 * or until the run must stop starting deliveries.
 */
static void
deliver(struct worker *w)
{
	size_t	 n;
	int64_t	 now;
	int	 exhausted = 0, may_start, tries = 0;

	for (;;) {
		now = rs_clock_now_ms();
		may_start = !stopping && (w->start_until == 0 ||
		    now < w->start_until);
		if (!may_start)
			release(w);
		else {
			if (w->next == w->nheld && !exhausted &&
			    now >= w->quiet_until &&
			    rs_deliver_idle(w->dl) > 0) {
				exhausted = !lease(w);
				now = rs_clock_now_ms();
			}
			/* Jobs given back: no new lease in this pass, or a
			 * lease too slow to start would spin. */
			if (start(w, now) < 0)
				exhausted = 1;
		}
		if (rs_deliver_busy(w->dl) == 0 && w->next == w->nheld &&
		    (exhausted || !may_start)) {
			if (now < w->quiet_until && w->nouts > 0) {
				nap(w->quiet_until - now);
				continue;
			}
			settle(w);
			/* Outcomes not kept after a few tries are given up:
			 * their jobs come back when the lease ends. */
			if (w->nouts == 0 || w->failed != RS_OK ||
			    ++tries > SETTLE_TRIES)
				break;
			nap(POLL_MS);	/* busy: try again */
			continue;
		}
		if (rs_deliver_poll(w->dl, POLL_MS, w->outs + w->nouts,
		    w->outs_max - w->nouts, &n) != RS_OK) {
			/* What is in flight comes back when its lease ends. */
			rs_log_err("deliveries: the HTTP client failed");
			note(w, "deliver", RS_ERR_IO);
			release(w);
			break;
		}
		if (n > 0 && w->nouts == 0)
			w->outs_since = now;
		w->nouts += n;
		/* Kept in batches: one transaction per batch, not per job;
		 * while yielding, only when the outcomes have no more room. */
		if (w->nouts > 0 && (w->outs_max - w->nouts <
		    (size_t)w->o.concurrency || (now >= w->quiet_until &&
		    (w->nouts * 2 >= (size_t)w->o.concurrency ||
		    rs_deliver_busy(w->dl) == 0 ||
		    now - w->outs_since >= SETTLE_MS)))) {
			settle(w);
			/* A success or a death lets a record's next event go. */
			exhausted = 0;
		}
	}
}

/* Purges and checkpoints, at most every PURGE_EVERY_MS unless forced. */
static void
housekeeping(struct worker *w, int force)
{
	struct rs_relay_purge_cfg	 c;
	int64_t				 now = rs_clock_now_ms();
	enum rs_err			 rc;

	if (!force && now < w->next_purge)
		return;
	w->next_purge = now + PURGE_EVERY_MS;
	c.tombstone_days = w->cfg.tombstone_days;
	c.history_days = w->cfg.history_days;
	if (note(w, "purge", rs_relay_purge(w->db, &c, now, w->deadline,
	    &w->tally)) != RS_OK && w->failed != RS_OK)
		return;
	/* The pool checkpoints as the WAL grows; this catches a WAL that
	 * stopped growing before it asked. Busy is normal: another
	 * checkpoint runs, or a reader stayed; the next one retries. */
	if ((rc = rs_db_checkpoint(w->db)) != RS_OK && rc != RS_ERR_BUSY)
		note(w, "checkpoint", rc);
}

/* One pass; returns whether it found anything to do. */
static int
pass(struct worker *w, int force_housekeeping)
{
	struct rs_relay_tally	*t = &w->tally;

	memset(t, 0, sizeof(*t));
	note(w, "fan-out", rs_relay_fanout(w->db, rs_clock_now_ms(), 0, t));
	if (!stopping)
		deliver(w);
	/* Lookups of the audit log by target read what is not here yet
	 * from the log itself: keep that tail short. */
	note(w, "audit index", rs_relay_index(w->db, w->deadline, t));
	housekeeping(w, force_housekeeping);
	if (w->o.verbose)
		fprintf(stderr, "relaysync-worker: pass: fanned out %zu "
		    "events into %zu jobs; delivered %zu, failed %zu, dead "
		    "%zu; purged %zu rows; indexed %zu audit entries\n",
		    t->events, t->jobs, t->delivered, t->failed, t->dead,
		    t->purged, t->indexed);
	return t->events > 0 || t->delivered > 0 || t->failed > 0 ||
	    t->dead > 0;
}

/* The passes of w's mode. */
static void
run(struct worker *w)
{
	int64_t	 start = rs_clock_now_ms(), budget, now;

	if (w->o.time_limit > 0) {
		budget = (int64_t)w->o.time_limit * 1000;
		w->deadline = start + budget;
		/* A delivery started may take the whole timeout. */
		w->start_until = w->deadline - (int64_t)w->o.timeout * 1000;
		if (w->start_until < start + budget / 2)
			w->start_until = start + budget / 2;
	}
	if (w->o.mode == MODE_ONCE) {
		pass(w, 1);
		return;
	}
	for (;;) {
		if (!pass(w, 0) && !stopping) {
			/* cron drains what is due and goes: the next
			 * minute's run takes what comes later. */
			if (w->o.mode == MODE_CRON)
				break;
			now = rs_clock_now_ms();
			nap(w->deadline == 0 || now + IDLE_MS < w->deadline ?
			    IDLE_MS : w->deadline - now);
		}
		if (stopping || (w->deadline != 0 &&
		    rs_clock_now_ms() >= w->start_until))
			break;
	}
	/* The last purge and checkpoint of a run that stops. */
	if (w->failed == RS_OK)
		housekeeping(w, w->o.mode == MODE_LOOP);
}

/* Sets w up to deliver: buffers, the deliverer; 0 or -1 (logged). */
static int
worker_init(struct worker *w)
{
	struct rs_deliver_cfg	 dc;
	enum rs_err		 rc;

	/* Held jobs start within HOLD_ROUNDS timeouts, well inside their
	 * lease: fewer rounds when the lease is short. */
	w->held_max = (size_t)w->o.concurrency * (size_t)(w->o.lease /
	    w->o.timeout - 1 > HOLD_ROUNDS ? HOLD_ROUNDS :
	    w->o.lease / w->o.timeout - 1 < 1 ? 1 :
	    w->o.lease / w->o.timeout - 1);
	w->outs_max = (size_t)w->o.concurrency * 2;
	if ((w->held = calloc(w->held_max, sizeof(*w->held))) == NULL ||
	    (w->outs = calloc(w->outs_max, sizeof(*w->outs))) == NULL) {
		rs_log_err("out of memory");
		return -1;
	}
	rs_arena_init(&w->arena);
	memset(&dc, 0, sizeof(dc));
	dc.concurrency = w->o.concurrency;
	dc.timeout_s = w->o.timeout;
	dc.allow_private = w->cfg.webhook_allow_private;
	dc.user_agent = "RelaySync-Webhooks/" PACKAGE_VERSION;
	if ((rc = rs_deliver_new(&dc, &w->dl)) != RS_OK) {
		rs_log_err("the HTTP client: %s", rs_strerror(rc));
		return -1;
	}
	return 0;
}

static void
worker_free(struct worker *w)
{
	if (w->held != NULL)
		rs_relay_wipe(w->held, w->held_max);
	rs_deliver_free(w->dl);
	rs_arena_free(&w->arena);
	free(w->held);
	free(w->outs);
	sodium_memzero(w->sealkey, sizeof(w->sealkey));
	rs_db_close(w->db);
}

/* Derives the webhook subkey from the server secret; 0 or -1 (logged). */
static int
load_key(struct worker *w)
{
	unsigned char	 master[RS_SECRET_BYTES];
	enum rs_err	 rc;

	if ((rc = rs_secret_load(w->cfg.secret_path, master)) != RS_OK) {
		rs_log_err("%s: %s (the server secret signs webhooks)",
		    w->cfg.secret_path, rs_strerror(rc));
		return -1;
	}
	rs_secret_derive(master, RS_SECRET_WEBHOOK, w->sealkey);
	sodium_memzero(master, sizeof(master));
	return 0;
}

int
main(int argc, char *argv[])
{
	struct worker		 w;
	struct sigaction	 sa;
	char			 err[256] = "libsodium failed";
	char			 bad[PATH_BUF];
	enum rs_err		 rc;
	int			 lockfd = -1, st, status = 1;

	rs_log_set_name("relaysync-worker");
	memset(&w, 0, sizeof(w));
	if ((st = opts_parse(argc, argv, &w.o)) != 0) {
		if (st < 0)
			usage(stderr);
		return st < 0 ? 2 : 0;
	}
	errno = 0;
	if (w.o.nice > 0 && nice(w.o.nice) == -1 && errno != 0)
		rs_log_warn("nice(%d): %s; running at the same priority",
		    w.o.nice, strerror(errno));
	if (w.o.env_file != NULL &&
	    rs_config_file(w.o.env_file, err, sizeof(err)) != 0) {
		rs_log_err("settings: %s", err);
		return 2;
	}
	if (sodium_init() < 0 || rs_config_load(&w.cfg, err, sizeof(err))) {
		rs_log_err("configuration: %s", err);
		return 1;
	}
	/* SQLite opens a database it cannot write read-only and fails
	 * only at the first write: ask first, and name the culprit. */
	if (!rs_config_conninfo(w.cfg.db_path) &&
	    (rc = rs_admin_db_writable(w.cfg.db_path, bad, sizeof(bad))) !=
	    RS_OK)
		return fail_db(w.cfg.db_path, "open", rc);
	/* One run a host at a time; with PostgreSQL, each host's worker
	 * runs, and leases keep them from sending a job twice. */
	if ((st = lock_take(w.cfg.state_path, &lockfd)) <= 0) {
		if (st == 0 && w.o.verbose)
			fprintf(stderr, "relaysync-worker: another run holds "
			    "%s.worker.lock; nothing to do\n",
			    w.cfg.state_path);
		return st == 0 ? 0 : 1;
	}
	if ((rc = rs_db_open(w.cfg.db_path, 0, w.cfg.sync_full, &w.db)) !=
	    RS_OK)
		return fail_db(w.cfg.db_label, "open", rc);
	if ((rc = rs_migrate_check(w.db)) != RS_OK) {
		rs_log_err("%s: %s", w.cfg.db_label, rc == RS_ERR_SCHEMA ?
		    rs_strerror(rc) : "schema out of date: run "
		    "relaysync-admin migrate");
		goto out;
	}
	if (load_key(&w) != 0 || worker_init(&w) != 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	run(&w);
	if (w.failed == RS_OK)
		status = 0;
	else
		status = fail_db(w.cfg.db_label, w.failed_what, w.failed);
out:
	worker_free(&w);
	close(lockfd);
	return status;
}
