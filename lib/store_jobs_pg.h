/*
 * store_jobs_pg.h: store_jobs.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_jobs.c when rs_db_pg() says so. (rs_job_state_name and
 * rs_job_state_parse touch no database and have no twin.)
 */
#ifndef RS_STORE_JOBS_PG_H
#define RS_STORE_JOBS_PG_H

#include "store_jobs.h"

enum rs_err	rs_store_jobs_pg_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_store_jobs_filter *f,
		    int64_t after_seq, size_t max, struct rs_store_job *out,
		    size_t *n);
enum rs_err	rs_store_jobs_pg_counts(struct rs_db *db, const char *org,
		    int64_t counts[RS_JOB__MAX]);
enum rs_err	rs_store_jobs_pg_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_store_job *j);
enum rs_err	rs_store_jobs_pg_retry(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, int64_t now,
		    struct rs_store_job *j);
enum rs_err	rs_store_jobs_pg_drop_webhook(struct rs_db *db,
		    int64_t webhook_seq);
enum rs_err	rs_store_jobs_pg_replay(struct rs_db *db, const char *org,
		    int64_t webhook_seq, const char *events_json,
		    int64_t since, int64_t until, int64_t now, size_t max,
		    size_t *n);
enum rs_err	rs_store_jobs_pg_add(struct rs_db *db, const char *org,
		    const struct rs_store_jobs_new *n, int64_t now);
enum rs_err	rs_store_jobs_pg_due(struct rs_db *db, int64_t now,
		    size_t max, int64_t *seqs, size_t *n);
enum rs_err	rs_store_jobs_pg_lease(struct rs_db *db, struct rs_arena *a,
		    int64_t seq, int64_t now, int64_t until,
		    struct rs_store_jobs_lease *l);
enum rs_err	rs_store_jobs_pg_unlease(struct rs_db *db, int64_t seq,
		    int attempts, int64_t now);
enum rs_err	rs_store_jobs_pg_expire(struct rs_db *db, int64_t now,
		    size_t *n);
enum rs_err	rs_store_jobs_pg_settle(struct rs_db *db, int64_t seq,
		    int attempts, enum rs_job_state state, int64_t due_at,
		    const char *error, int status, int64_t now);
enum rs_err	rs_store_jobs_pg_purge(struct rs_db *db,
		    enum rs_job_state state, int64_t before, size_t max,
		    size_t *n);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart. A job with its event's
 * and endpoint's ids, as the API shows it.
 */
#define JCOLS	"j.seq, j.id, j.org_id, j.webhook_seq, w.id, j.event_seq, " \
		"e.id, j.event_type, j.record_id, j.queue, j.priority, " \
		"j.state, j.attempts, j.max_attempts, j.due_at, " \
		"j.last_error, j.last_status, j.created_at, j.updated_at " \
		"FROM jobs j JOIN events e ON e.seq = j.event_seq " \
		"JOIN webhooks w ON w.seq = j.webhook_seq "

#endif /* RS_STORE_JOBS_PG_H */
