/*
 * store_jobs.h: delivery jobs, one per (event, endpoint) (sql/0008), and
 * the worker's place in each org's events. The API reads an org's jobs
 * and forces retries; the worker (relay.h) fans events out into jobs,
 * leases the due ones, and settles each attempt. A job's state:
 *
 *   pending -> running -> succeeded
 *                     \-> failed (due again later) -> running ...
 *                     \-> dead (out of attempts, or the endpoint said 410)
 *
 * A running job whose lease ends (its run died) is due again. A job is
 * leased only when no earlier event of the same record to the same
 * endpoint is still pending, running or failed, so one record's events
 * reach one endpoint in the order they happened. Higher priority (0..9)
 * goes first among due jobs, then the earliest due.
 * Strings of a struct rs_store_job live in the arena passed to the reader.
 */
#ifndef RS_STORE_JOBS_H
#define RS_STORE_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "whsig.h"

struct rs_arena;
struct rs_db;

#define RS_STORE_JOBS_MAX_ATTEMPTS	8	/* the first try and 7 retries */

enum rs_job_state {
	RS_JOB_PENDING,
	RS_JOB_RUNNING,
	RS_JOB_SUCCEEDED,
	RS_JOB_FAILED,
	RS_JOB_DEAD,
	RS_JOB__MAX
};

/* "pending", ...; NULL out of range. */
const char	*rs_job_state_name(enum rs_job_state s);
/* The state named s, or -1. */
int		 rs_job_state_parse(const char *s);

/* A job as the API shows it, with its event's and endpoint's ids. */
struct rs_store_job {
	int64_t		 seq;
	char		 id[RS_ID_MAX];		/* job_... */
	char		 org[RS_ID_MAX];
	int64_t		 webhook_seq;
	char		 webhook_id[RS_ID_MAX];
	int64_t		 event_seq;
	char		 event_id[RS_ID_MAX];
	const char	*event_type;
	const char	*record_id;		/* or NULL */
	const char	*queue;
	int		 priority;
	enum rs_job_state state;
	int		 attempts;
	int		 max_attempts;
	int64_t		 due_at;		/* next_attempt_at */
	const char	*last_error;		/* or NULL */
	int		 last_status;		/* HTTP status, or 0: none */
	int64_t		 created_at;
	int64_t		 updated_at;
};

/* The filters of GET /v1/sync/queue; NULL or -1: any. */
struct rs_store_jobs_filter {
	int		 state;			/* enum rs_job_state or -1 */
	const char	*queue;
	const char	*event_type;
};

/* Up to max of org's jobs matching f after seq after_seq (0: from the first), oldest first. */
enum rs_err	rs_store_jobs_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_store_jobs_filter *f,
		    int64_t after_seq, size_t max, struct rs_store_job *out,
		    size_t *n);
/* Org's job count per state, counts[RS_JOB__MAX]. */
enum rs_err	rs_store_jobs_counts(struct rs_db *db, const char *org,
		    int64_t counts[RS_JOB__MAX]);
/* RS_OK and *j for org's job id, or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_jobs_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_store_job *j);
/*
 * Forces org's job id to be tried now: pending, due now, and for a dead
 * job a fresh attempt budget (max_attempts becomes attempts +
 * RS_STORE_JOBS_MAX_ATTEMPTS: attempts keeps counting the tries made,
 * and the backoff starts again from its first step); *j is the job after. RS_ERR_NOTFOUND;
 * RS_ERR_STATE (and *j as it is) for a succeeded or running job.
 */
enum rs_err	rs_store_jobs_retry(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, int64_t now,
		    struct rs_store_job *j);
/* Drops every job of the endpoint at webhook_seq (it is being deleted). */
enum rs_err	rs_store_jobs_drop_webhook(struct rs_db *db, int64_t webhook_seq);
/*
 * Queues again, for org's endpoint at webhook_seq, each event of the org
 * made in [since, until) whose type events_json (the endpoint's "events"
 * array) names, as new pending jobs due now with the events' ids; at
 * most max, *n made. RS_ERR_RANGE (nothing made) when the window holds
 * more than max matching events.
 */
enum rs_err	rs_store_jobs_replay(struct rs_db *db, const char *org,
		    int64_t webhook_seq, const char *events_json,
		    int64_t since, int64_t until, int64_t now, size_t max,
		    size_t *n);

/*
 * The worker's side (relay.h). Reads (rs_store_jobs_due) run outside a
 * transaction, so the scan of the due jobs never holds the write lock;
 * each write runs inside the caller's short write transaction.
 */

/* A job to make: one event to one endpoint (fan-out). */
struct rs_store_jobs_new {
	int64_t		 webhook_seq;
	int64_t		 event_seq;		/* events' rowid */
	const char	*event_type;
	const char	*record_id;		/* or NULL */
	const char	*queue;
	int		 priority;		/* 0..9 */
	int64_t		 due_at;		/* the event's not_before */
};

/* A leased job: what its delivery needs. Strings in the arena given. */
struct rs_store_jobs_lease {
	int64_t		 seq;
	int		 attempts;		/* this attempt's number */
	int		 max_attempts;
	int64_t		 webhook_seq;
	char		 event_id[RS_ID_MAX];	/* the webhook-id */
	const char	*payload;		/* the body, verbatim */
	const char	*url;
	unsigned char	 secret[RS_WHSIG_SEALED]; /* sealed (whsig.h) */
	size_t		 secretlen;		/* as stored */
};

/* Inside a write transaction: makes the pending job n for org at now. */
enum rs_err	rs_store_jobs_add(struct rs_db *db, const char *org,
		    const struct rs_store_jobs_new *n, int64_t now);
/*
 * Up to max jobs that may be leased at now, best first (priority, then
 * the earliest due): waiting or with a lease run out, attempts left, the
 * endpoint enabled, no earlier event of the same record to the same
 * endpoint pending, running or failed. Their seqs into seqs, *n of them.
 * A read: rs_store_jobs_lease checks each again under the write lock.
 */
enum rs_err	rs_store_jobs_due(struct rs_db *db, int64_t now, size_t max,
		    int64_t *seqs, size_t *n);
/*
 * Inside a write transaction: leases job seq if it still may be leased
 * at now (as rs_store_jobs_due says): running, attempts + 1, due at
 * until (the lease's end); *l filled. RS_ERR_NOTFOUND when it may not.
 */
enum rs_err	rs_store_jobs_lease(struct rs_db *db, struct rs_arena *a,
		    int64_t seq, int64_t now, int64_t until,
		    struct rs_store_jobs_lease *l);
/*
 * Inside a write transaction: gives back the lease of attempt attempts
 * of running job seq, never started: the attempt is not counted, the
 * job waits again (pending when it was its first, else failed), due at
 * now. RS_ERR_NOTFOUND when it is not running that attempt.
 */
enum rs_err	rs_store_jobs_unlease(struct rs_db *db, int64_t seq,
		    int attempts, int64_t now);
/*
 * Inside a write transaction: running jobs whose lease ran out on their
 * last attempt (their run died) become dead; *n of them.
 */
enum rs_err	rs_store_jobs_expire(struct rs_db *db, int64_t now, size_t *n);
/*
 * Inside a write transaction: records the end of attempt attempts of
 * running job seq: its new state, due_at, last_error (NULL: none) and
 * last_status (0: none). RS_ERR_NOTFOUND when the job is not running
 * that attempt any more (dropped with its endpoint, or retried).
 */
enum rs_err	rs_store_jobs_settle(struct rs_db *db, int64_t seq,
		    int attempts, enum rs_job_state state, int64_t due_at,
		    const char *error, int status, int64_t now);
/*
 * Inside a write transaction: removes up to max jobs in state
 * (RS_JOB_SUCCEEDED or RS_JOB_DEAD) last changed before before; *n
 * removed. RS_ERR_INVAL for another state.
 */
enum rs_err	rs_store_jobs_purge(struct rs_db *db, enum rs_job_state state,
		    int64_t before, size_t max, size_t *n);

#endif /* RS_STORE_JOBS_H */
