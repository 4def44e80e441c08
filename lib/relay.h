/*
 * relay.h: what the worker (bin/relaysync-worker) does with the
 * database, between its HTTP deliveries (worker/deliver.h):
 *
 *   fan-out   each org's new events, in order, into one job per
 *             (event, enabled endpoint that wants its type), in batches,
 *             one write transaction per batch that also moves the org's
 *             place (orgs.fanout_seq): a run killed anywhere neither
 *             skips an event nor fans one out twice;
 *   lease     the due jobs, best first, one record's events to one
 *             endpoint in order (store_jobs.h), each with its endpoint's
 *             secret opened, so a delivery needs nothing more;
 *   settle    a batch of outcomes in one transaction: succeeded, failed
 *             and due again after the backoff (or the receiver's
 *             Retry-After), dead after the last attempt or on 410 Gone
 *             (which also disables the endpoint);
 *   purge     expired idempotency keys, tombstones past the horizon,
 *             record history and closed conflicts past their keeping,
 *             old finished jobs.
 *
 * Each step is one short write transaction (BEGIN IMMEDIATE, db.h) or
 * several; none is ever held across a delivery. It never makes a
 * connection itself and links nothing but librelaysync's own needs.
 */
#ifndef RS_RELAY_H
#define RS_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "whsig.h"

struct rs_arena;
struct rs_db;

#define RS_RELAY_FANOUT_BATCH	256	/* events per fan-out transaction */
#define RS_RELAY_PURGE_BATCH	500	/* rows per purge transaction */
#define RS_RELAY_SUCCEEDED_DAYS	7	/* succeeded jobs kept */
#define RS_RELAY_DEAD_DAYS	30	/* dead jobs kept */
#define RS_RELAY_RETRY_AFTER_MIN_MS	1000LL		/* Retry-After clamp */
#define RS_RELAY_RETRY_AFTER_MAX_MS	(24LL * 3600 * 1000)
#define RS_RELAY_ERROR_MAX	256	/* last_error kept, bytes with NUL */
#define RS_RELAY_GONE_REASON	"the endpoint answered 410 Gone"

/* A leased job, ready to send. */
struct rs_relay_job {
	int64_t		 seq;
	int		 attempts;		/* this attempt's number */
	int		 max_attempts;
	int64_t		 webhook_seq;
	char		 event_id[RS_ID_MAX];	/* the webhook-id */
	const char	*url;			/* in the arena given */
	const char	*body;			/* in the arena given */
	size_t		 bodylen;
	int		 key_ok;		/* 0: the secret did not open */
	unsigned char	 key[RS_WHSIG_KEY];	/* wipe: rs_relay_wipe() */
};

/* How one attempt ended, as the deliverer saw it. */
struct rs_relay_outcome {
	int64_t		 seq;			/* the job's */
	int		 attempts;		/* as leased */
	int		 max_attempts;
	int64_t		 webhook_seq;
	int		 status;		/* HTTP status, 0: none */
	char		 error[RS_RELAY_ERROR_MAX]; /* "": none */
	int64_t		 retry_after_ms;	/* delay asked by a 429 or
						 * 503, clamped; -1: none */
};

/* What a pass did, for --verbose. */
struct rs_relay_tally {
	size_t		 events;		/* fanned out */
	size_t		 jobs;			/* made by fan-out */
	size_t		 delivered;		/* succeeded */
	size_t		 failed;		/* due again later */
	size_t		 dead;			/* out of attempts or 410 */
	size_t		 expired;		/* leases that ran out on the
						 * last attempt: dead */
	size_t		 purged;		/* rows of every kind */
	size_t		 indexed;		/* audit entries added to the
						 * target lookup */
};

/*
 * Adds every org's audit entries not in the target lookup yet
 * (store_audit.h), a batch of one org per short write transaction, until
 * none is left or deadline (ms, 0: none) passes. Adds to t->indexed.
 */
enum rs_err	rs_relay_index(struct rs_db *db, int64_t deadline,
		    struct rs_relay_tally *t);

/* What the purge keeps. */
struct rs_relay_purge_cfg {
	int		 tombstone_days;	/* cfg.tombstone_days */
	int		 history_days;		/* cfg.history_days */
};

/*
 * Fans out every org's events not fanned out yet at now, batch events
 * per transaction (0: RS_RELAY_FANOUT_BATCH). Adds to t->events and
 * t->jobs. RS_OK, or the first error (what was committed stays).
 */
enum rs_err	rs_relay_fanout(struct rs_db *db, int64_t now, size_t batch,
		    struct rs_relay_tally *t);
/*
 * Leases up to max due jobs at now until now + lease_ms, best first,
 * into out (*n of them; url and body in arena a), opening each endpoint's
 * secret with sealkey (the RS_SECRET_WEBHOOK subkey). First makes dead
 * the running jobs whose lease ran out on their last attempt (t->expired).
 * One read, then one write transaction. The caller wipes the keys
 * (rs_relay_wipe) once it has signed.
 */
enum rs_err	rs_relay_lease(struct rs_db *db, struct rs_arena *a,
		    const unsigned char sealkey[32], int64_t now,
		    int64_t lease_ms, size_t max, struct rs_relay_job *out,
		    size_t *n, struct rs_relay_tally *t);
/*
 * Gives back, in one write transaction, the leases of jobs[0..n) that
 * were never started (the run ran out of time or was told to stop):
 * they wait again, their attempt not counted. Wipes their keys.
 */
enum rs_err	rs_relay_release(struct rs_db *db, struct rs_relay_job *jobs,
		    size_t n, int64_t now);
/* Wipes the keys of jobs[0..n). */
void		rs_relay_wipe(struct rs_relay_job *jobs, size_t n);
/*
 * Records outcomes o[0..n) at now in one write transaction: a 2xx
 * without error succeeded; 410 dead, and its endpoint disabled; any
 * other failure dead when it was the last attempt, else failed and due
 * again after retry_after_ms when given, else after the backoff. u
 * returns uniform numbers in [0, 1) for the jitter (NULL: libsodium's).
 * Adds to t. An outcome whose job moved meanwhile (its endpoint deleted)
 * is skipped.
 */
enum rs_err	rs_relay_settle(struct rs_db *db,
		    const struct rs_relay_outcome *o, size_t n, int64_t now,
		    double (*u)(void), struct rs_relay_tally *t);
/*
 * The delay before the next try after failed attempt k (1-based, within
 * the job's budget) with jitter draw u in [0, 1): 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h (the last step again past the table), times
 * 0.8 + 0.4 u. In ms.
 */
int64_t		rs_relay_backoff_ms(int k, double u);
/*
 * The delay a Retry-After value asks for at now (ms): delta-seconds or
 * an HTTP date (IMF-fixdate), clamped to RS_RELAY_RETRY_AFTER_MIN_MS ..
 * _MAX_MS. -1 when value is NULL or neither.
 */
int64_t		rs_relay_retry_after(const char *value, int64_t now);
/*
 * Purges at now what is past its horizon, RS_RELAY_PURGE_BATCH rows per
 * transaction: expired idempotency keys, tombstones older than
 * c->tombstone_days (with their history and conflicts), record history
 * superseded and conflicts closed more than c->history_days ago (0:
 * every history row; closed conflicts then stay until their record's
 * tombstone goes), succeeded jobs older
 * than RS_RELAY_SUCCEEDED_DAYS and dead ones older than
 * RS_RELAY_DEAD_DAYS. Adds to t->purged. Stops early (RS_OK) at
 * deadline (ms, 0: none) so a run keeps to its time.
 */
enum rs_err	rs_relay_purge(struct rs_db *db,
		    const struct rs_relay_purge_cfg *c, int64_t now,
		    int64_t deadline, struct rs_relay_tally *t);

#endif /* RS_RELAY_H */
