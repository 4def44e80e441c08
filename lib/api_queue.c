#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "clock.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "paging.h"
#include "reply.h"
#include "store_jobs.h"
#include "txn.h"
#include "valid.h"
#include "api_queue.h"

const char *const rs_api_queue_list_query[] = {
	"state", "queue", "event_type", "limit", "cursor", NULL,
};

/* j as the API shows it (caller owns it), or NULL. */
static struct json_object *
rs_api_queue_json(const struct rs_store_job *j)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (rs_json_add_str(o, "id", j->id) != 0 ||
	    rs_json_add_str(o, "kind", "webhook") != 0 ||
	    rs_json_add_str(o, "queue", j->queue) != 0 ||
	    rs_json_add_int(o, "priority", j->priority) != 0 ||
	    rs_json_add_str(o, "state", rs_job_state_name(j->state)) != 0 ||
	    rs_json_add_int(o, "attempts", j->attempts) != 0 ||
	    rs_json_add_int(o, "max_attempts", j->max_attempts) != 0 ||
	    rs_json_add_time(o, "next_attempt_at", j->due_at) != 0 ||
	    (j->last_error ? rs_json_add_str(o, "last_error",
	    j->last_error) : rs_json_add_null(o, "last_error")) != 0 ||
	    (j->last_status ? rs_json_add_int(o, "last_status",
	    j->last_status) : rs_json_add_null(o, "last_status")) != 0 ||
	    rs_json_add_str(o, "event_id", j->event_id) != 0 ||
	    rs_json_add_str(o, "event_type", j->event_type) != 0 ||
	    (j->record_id ? rs_json_add_str(o, "record_id", j->record_id) :
	    rs_json_add_null(o, "record_id")) != 0 ||
	    rs_json_add_str(o, "webhook_id", j->webhook_id) != 0 ||
	    rs_json_add_time(o, "created_at", j->created_at) != 0 ||
	    rs_json_add_time(o, "updated_at", j->updated_at) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- GET /v1/sync/queue ------------------------------------------------ */

/* The filters of the query into f; errors to v. */
static void
rs_api_queue_filter(struct rs_ctx *ctx, struct rs_valid *v,
    struct rs_store_jobs_filter *f)
{
	const struct rs_query	*q = &ctx->req.query;
	const char		*s;

	f->state = -1;
	if ((s = rs_query_get(q, "state")) != NULL &&
	    (f->state = rs_job_state_parse(s)) < 0)
		rs_valid_add(v, "state", "must be pending, running, "
		    "succeeded, failed or dead");
	if ((f->queue = rs_query_get(q, "queue")) != NULL &&
	    (f->queue[0] == '\0' || strlen(f->queue) > RS_MAX_QUEUE_FILTER))
		rs_valid_add(v, "queue", "must be 1 to %d bytes",
		    RS_MAX_QUEUE_FILTER);
	if ((f->event_type = rs_query_get(q, "event_type")) != NULL &&
	    (f->event_type[0] == '\0' ||
	    strlen(f->event_type) > RS_MAX_QUEUE_FILTER))
		rs_valid_add(v, "event_type", "must be 1 to %d bytes",
		    RS_MAX_QUEUE_FILTER);
}

/* The "counts" member: every state of the org's jobs, unfiltered. */
static struct json_object *
rs_api_queue_counts(const int64_t counts[RS_JOB__MAX])
{
	struct json_object	*o;
	int			 s;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (s = 0; s < RS_JOB__MAX; s++)
		if (rs_json_add_int(o, rs_job_state_name(s), counts[s]) != 0) {
			json_object_put(o);
			return NULL;
		}
	return o;
}

/* A job of a page (rs_paging_page). */
static struct json_object *
rs_api_queue_show(const void *row)
{
	return rs_api_queue_json(row);
}

/* The place is the last job's seq: jobs are only ever added after. */
static void
rs_api_queue_place(const void *row, int64_t *pos, int64_t *walk)
{
	*pos = ((const struct rs_store_job *)row)->seq;
	*walk = 0;
}

enum rs_step
rs_api_queue_list(struct rs_ctx *ctx)
{
	struct rs_store_jobs_filter f;
	struct rs_valid		 v;
	struct rs_cursor	 cur;
	struct rs_store_job	*rows;
	struct json_object	*o;
	int64_t			 counts[RS_JOB__MAX];
	size_t			 limit, n;
	enum rs_step		 step;
	int			 has;

	rs_valid_init(&v, &ctx->app->arena);
	limit = rs_paging_limit(ctx, &v);
	rs_api_queue_filter(ctx, &v, &f);
	if (v.n > 0)
		return rs_reply_invalid(ctx, &v);
	if ((step = rs_paging_cursor(ctx, "queue", &cur, &has)) != RS_NEXT)
		return step;
	/* The page and the counts from one snapshot. */
	if (rs_db_begin_read(ctx->app->db) != RS_OK)
		return RS_FAIL;
	if ((rows = rs_arena_calloc(&ctx->app->arena, limit + 1,
	    sizeof(*rows))) == NULL ||
	    rs_store_jobs_list(ctx->app->db, &ctx->app->arena,
	    ctx->who.org_id, &f, cur.pos, limit + 1, rows, &n) != RS_OK ||
	    rs_store_jobs_counts(ctx->app->db, ctx->who.org_id, counts) !=
	    RS_OK) {
		rs_db_rollback(ctx->app->db);
		return RS_FAIL;
	}
	rs_db_commit(ctx->app->db);
	if ((o = rs_paging_page(ctx, "queue", rows, sizeof(*rows), n, limit,
	    rs_api_queue_show, rs_api_queue_place)) == NULL)
		return RS_FAIL;
	if (rs_json_add(o, "counts", rs_api_queue_counts(counts)) != 0) {
		json_object_put(o);
		return RS_FAIL;
	}
	return rs_reply_json(ctx, 200, o);
}

/* ---- POST /v1/sync/retry/:job ------------------------------------------ */

struct rs_retry {
	struct rs_ctx		*ctx;
	const char		*id;
};

static enum rs_txn_do
rs_api_queue_retry_change(struct rs_txn *t, void *arg)
{
	struct rs_retry		*r = arg;
	struct rs_store_job	 j;
	struct json_object	*o;
	const char		*before = NULL;

	/* The state it had, for the audit entry (retry gives the after). */
	t->err = rs_store_jobs_get(t->db, t->arena, t->org, r->id, &j);
	if (t->err == RS_OK) {
		before = rs_job_state_name(j.state);
		t->err = rs_store_jobs_retry(t->db, t->arena, t->org, r->id,
		    t->now, &j);
	}
	if (t->err == RS_ERR_NOTFOUND) {
		rs_reply_problem(r->ctx, RS_PROB_NOT_FOUND, "no job %.64s",
		    r->id);
		return RS_TXN_DECLINE;
	}
	if (t->err == RS_ERR_STATE) {
		rs_reply_problem(r->ctx, RS_PROB_JOB_NOT_RETRYABLE, "the job "
		    "is %s; only a pending, failed or dead job can be retried",
		    rs_job_state_name(j.state));
		return RS_TXN_DECLINE;
	}
	if (t->err != RS_OK)
		return RS_TXN_FAILED;
	if (rs_reply_json(r->ctx, 202, rs_api_queue_json(&j)) !=
	    RS_ANSWERED) {
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	if ((o = json_object_new_object()) == NULL ||
	    rs_json_add_str(o, "job_state_before", before) != 0 ||
	    (t->audit.target = rs_arena_strdup(t->arena, j.id)) == NULL) {
		json_object_put(o);
		t->err = RS_ERR_NOMEM;
		return RS_TXN_FAILED;
	}
	t->audit.action = "job.retry";
	t->audit.detail = o;
	return RS_TXN_COMMIT;
}

enum rs_step
rs_api_queue_retry(struct rs_ctx *ctx)
{
	struct rs_retry		 r;
	struct rs_txn		 t;
	enum rs_txn_result	 res;
	size_t			 nhdr = ctx->resp.nhdr;

	r.ctx = ctx;
	r.id = ctx->req.params[0];
	rs_reply_txn_init(ctx, &t);
	if ((res = rs_txn_run(&t, rs_api_queue_retry_change, &r)) ==
	    RS_TXN_DONE || res == RS_TXN_DECLINED)
		return RS_ANSWERED;
	rs_reply_clear(ctx, nhdr);
	return rs_reply_txn(ctx, res);
}
