#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "arena.h"
#include "clock.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "relay.h"
#include "store_audit.h"
#include "store_conflicts.h"
#include "store_history.h"
#include "store_idem.h"
#include "store_jobs.h"
#include "store_orgseq.h"
#include "store_outbox.h"
#include "store_records.h"
#include "store_webhooks.h"

#define RS_RELAY_ORGS_BATCH	64	/* orgs read at a time */
#define RS_RELAY_DAY_MS		(86400LL * 1000)

/* The backoff after failed attempt k (1-based), before jitter (s). */
static const int64_t rs_relay_backoff_s[] = {
	5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600,
};
#define RS_RELAY_NBACKOFF \
	(sizeof(rs_relay_backoff_s) / sizeof(rs_relay_backoff_s[0]))

/* An endpoint as fan-out needs it: its place and the types it wants. */
struct rs_relay_sub {
	int64_t			 seq;
	int64_t			 from_event;
	struct json_object	*types;		/* array; NULL: wants none */
};

/* 1 when types (an endpoint's "events" array) names type or "*". */
static int
rs_relay_wants(struct json_object *types, const char *type)
{
	const char	*s;
	size_t		 i, n;

	if (types == NULL)
		return 0;
	n = json_object_array_length(types);
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(types,
		    i));
		if (s != NULL && (strcmp(s, "*") == 0 ||
		    strcmp(s, type) == 0))
			return 1;
	}
	return 0;
}

/*
 * Org's enabled endpoints into subs (*n), their "events" parsed; an
 * array that does not parse wants nothing (logged). The caller releases
 * the arrays (rs_relay_subs_free).
 */
static enum rs_err
rs_relay_subs(struct rs_db *db, struct rs_arena *a, const char *org,
    struct rs_relay_sub subs[RS_STORE_WEBHOOKS_MAX], size_t *n)
{
	struct rs_store_webhook	 w[RS_STORE_WEBHOOKS_MAX];
	struct json_object	*o;
	enum rs_err		 rc;
	char			 err[128];
	size_t			 i;

	*n = 0;
	if ((rc = rs_store_webhooks_enabled(db, a, org, w, n)) != RS_OK) {
		*n = 0;		/* nothing parsed, nothing to release */
		return rc;
	}
	for (i = 0; i < *n; i++) {
		subs[i].seq = w[i].seq;
		subs[i].from_event = w[i].from_event;
		subs[i].types = NULL;
		if (w[i].events == NULL || rs_json_parse(w[i].events,
		    strlen(w[i].events), &o, err, sizeof(err)) != 0) {
			rs_log_warn("webhook %s: events do not parse", w[i].id);
			continue;
		}
		if (json_object_is_type(o, json_type_array))
			subs[i].types = o;
		else
			json_object_put(o);
	}
	return RS_OK;
}

static void
rs_relay_subs_free(struct rs_relay_sub *subs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_put(subs[i].types);
}

/*
 * Makes the jobs of event ev (number nev in its org) for the endpoints
 * in subs[0..ns) that want it; *made counts them.
 */
static enum rs_err
rs_relay_fanout_event(struct rs_db *db, const char *org,
    const struct rs_store_outbox_event *ev, int64_t nev,
    const struct rs_relay_sub *subs, size_t ns, int64_t now, size_t *made)
{
	struct rs_store_jobs_new nj;
	enum rs_err		 rc;
	size_t			 i;

	for (i = 0; i < ns; i++) {
		/* An endpoint gets the events written after it was made. */
		if (nev <= subs[i].from_event ||
		    !rs_relay_wants(subs[i].types, ev->type))
			continue;
		memset(&nj, 0, sizeof(nj));
		nj.webhook_seq = subs[i].seq;
		nj.event_seq = ev->seq;
		nj.event_type = ev->type;
		nj.record_id = ev->record_id;
		nj.queue = ev->queue;
		nj.priority = ev->priority;
		nj.due_at = ev->not_before;
		if ((rc = rs_store_jobs_add(db, org, &nj, now)) != RS_OK)
			return rc;
		(*made)++;
	}
	return RS_OK;
}

/*
 * One batch of org's events, in one write transaction: reads the place,
 * makes the jobs of up to batch events past it, moves the place past
 * them. *more is set when events remain.
 */
static enum rs_err
rs_relay_fanout_batch(struct rs_db *db, struct rs_arena *a, const char *org,
    int64_t now, size_t batch, struct rs_store_outbox_event *evs,
    struct rs_relay_tally *t, int *more)
{
	struct rs_relay_sub		 subs[RS_STORE_WEBHOOKS_MAX];
	struct rs_store_orgseq_fanout	 f;
	struct rs_store_orgseq		 s;
	enum rs_err			 rc;
	size_t				 ns = 0, nev = 0, i, made = 0;
	int64_t				 last;

	*more = 0;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	if ((rc = rs_store_orgseq_fanout(db, org, &f)) != RS_OK)
		goto out;
	if (f.fanout >= f.event)
		goto out;
	memset(&s, 0, sizeof(s));
	s.num = f.num;
	if ((rc = rs_relay_subs(db, a, org, subs, &ns)) != RS_OK)
		goto out;
	/* No enabled endpoint: nothing to make, the place moves to the end
	 * without reading the events (an endpoint made or enabled later
	 * gets only the events after it). */
	if (ns == 0) {
		if ((rc = rs_store_orgseq_fanout_set(db, org, f.fanout,
		    f.event)) != RS_OK)
			goto out;
		rc = rs_db_commit(db);
		return rc;
	}
	if ((rc = rs_store_outbox_range(db, a,
	    rs_store_orgseq_rowid(&s, f.fanout),
	    rs_store_orgseq_rowid(&s, f.event), batch, evs, &nev)) != RS_OK)
		goto out;
	for (i = 0; i < nev; i++)
		if ((rc = rs_relay_fanout_event(db, org, &evs[i],
		    evs[i].seq - rs_store_orgseq_rowid(&s, 0), subs, ns, now,
		    &made)) != RS_OK)
			goto out;
	/*
	 * The place moves past the last event read; when the range held
	 * fewer than asked, past every event counted (a number without
	 * its row, which a writer never leaves, would stop fan-out for
	 * good otherwise).
	 */
	last = nev < batch ? f.event :
	    evs[nev - 1].seq - rs_store_orgseq_rowid(&s, 0);
	if (nev < batch && (nev == 0 ||
	    evs[nev - 1].seq - rs_store_orgseq_rowid(&s, 0) != f.event))
		rs_log_warn("org %s: events %lld..%lld are missing; "
		    "skipped", org, (long long)(nev == 0 ? f.fanout + 1 :
		    evs[nev - 1].seq - rs_store_orgseq_rowid(&s, 0) + 1),
		    (long long)f.event);
	if ((rc = rs_store_orgseq_fanout_set(db, org, f.fanout, last)) !=
	    RS_OK)
		goto out;
	if ((rc = rs_db_commit(db)) == RS_OK) {
		t->events += nev;
		t->jobs += made;
		*more = last < f.event;
	}
	rs_relay_subs_free(subs, ns);
	return rc;
out:
	rs_relay_subs_free(subs, ns);
	rs_db_rollback(db);
	return rc;
}

enum rs_err
rs_relay_fanout(struct rs_db *db, int64_t now, size_t batch,
    struct rs_relay_tally *t)
{
	struct rs_store_outbox_event	*evs;
	struct rs_arena			 a;
	char				 orgs[RS_RELAY_ORGS_BATCH][RS_ID_MAX];
	enum rs_err			 rc = RS_OK;
	int64_t				 after = 0;
	size_t				 n, i;
	int				 more;

	if (batch == 0)
		batch = RS_RELAY_FANOUT_BATCH;
	if ((evs = calloc(batch, sizeof(*evs))) == NULL)
		return RS_ERR_NOMEM;
	rs_arena_init(&a);
	do {
		if ((rc = rs_store_orgseq_behind(db, after,
		    RS_RELAY_ORGS_BATCH, orgs, &n, &after)) != RS_OK)
			break;
		for (i = 0; i < n && rc == RS_OK; i++) {
			do {
				rc = rs_relay_fanout_batch(db, &a, orgs[i],
				    now, batch, evs, t, &more);
				rs_arena_reset(&a);
			} while (rc == RS_OK && more);
			/* Another worker (another host's, on PostgreSQL)
			 * moved the org's place first: its jobs are made,
			 * and ours were rolled back. */
			if (rc == RS_ERR_STATE)
				rc = RS_OK;
		}
	} while (rc == RS_OK && n == RS_RELAY_ORGS_BATCH);
	rs_arena_free(&a);
	free(evs);
	return rc;
}

/* Fills j from the lease l, opening its secret with sealkey. */
static void
rs_relay_job(struct rs_relay_job *j, const struct rs_store_jobs_lease *l,
    const unsigned char sealkey[32])
{
	memset(j, 0, sizeof(*j));
	j->seq = l->seq;
	j->attempts = l->attempts;
	j->max_attempts = l->max_attempts;
	j->webhook_seq = l->webhook_seq;
	memcpy(j->event_id, l->event_id, sizeof(j->event_id));
	j->url = l->url;
	j->body = l->payload;
	j->bodylen = strlen(l->payload);
	j->key_ok = rs_whsig_open(sealkey, l->secret, l->secretlen,
	    j->key) == RS_OK;
}

enum rs_err
rs_relay_lease(struct rs_db *db, struct rs_arena *a,
    const unsigned char sealkey[32], int64_t now, int64_t lease_ms,
    size_t max, struct rs_relay_job *out, size_t *n, struct rs_relay_tally *t)
{
	struct rs_store_jobs_lease	 l;
	int64_t				*seqs;
	enum rs_err			 rc;
	size_t				 k = 0, i, expired;

	*n = 0;
	if (max == 0)
		return RS_OK;
	if ((seqs = calloc(max, sizeof(*seqs))) == NULL)
		return RS_ERR_NOMEM;
	/* The scan of the due jobs is a read: writers go on meanwhile, and
	 * the write below checks each candidate again. */
	if ((rc = rs_store_jobs_due(db, now, max, seqs, &k)) != RS_OK ||
	    (rc = rs_db_begin(db)) != RS_OK)
		goto out;
	if ((rc = rs_store_jobs_expire(db, now, &expired)) != RS_OK)
		goto fail;
	for (i = 0; i < k; i++) {
		rc = rs_store_jobs_lease(db, a, seqs[i], now, now + lease_ms,
		    &l);
		if (rc == RS_ERR_NOTFOUND)	/* taken or changed since */
			continue;
		if (rc != RS_OK)
			goto fail;
		rs_relay_job(&out[(*n)++], &l, sealkey);
		sodium_memzero(l.secret, sizeof(l.secret));
	}
	if ((rc = rs_db_commit(db)) == RS_OK) {
		t->expired += expired;
		t->dead += expired;
		goto out;
	}
fail:
	rs_db_rollback(db);
	rs_relay_wipe(out, *n);
	*n = 0;
out:
	free(seqs);
	return rc;
}

enum rs_err
rs_relay_release(struct rs_db *db, struct rs_relay_job *jobs, size_t n,
    int64_t now)
{
	enum rs_err	 rc;
	size_t		 i;

	rs_relay_wipe(jobs, n);
	if (n == 0)
		return RS_OK;
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = rs_store_jobs_unlease(db, jobs[i].seq,
		    jobs[i].attempts, now)) != RS_OK &&
		    rc != RS_ERR_NOTFOUND) {
			rs_db_rollback(db);
			return rc;
		}
	return rs_db_commit(db);
}

void
rs_relay_wipe(struct rs_relay_job *jobs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		sodium_memzero(jobs[i].key, sizeof(jobs[i].key));
}

int64_t
rs_relay_backoff_ms(int k, double u)
{
	int64_t	 base;

	if (k < 1)
		k = 1;
	if ((size_t)k > RS_RELAY_NBACKOFF)
		k = (int)RS_RELAY_NBACKOFF;
	if (!(u >= 0.0 && u < 1.0))	/* also NaN */
		u = 0.5;
	base = rs_relay_backoff_s[k - 1] * 1000;
	return (int64_t)((double)base * (0.8 + 0.4 * u));
}

/* A uniform draw in [0, 1) from libsodium. */
static double
rs_relay_uniform(void)
{
	return (double)randombytes_random() / 4294967296.0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t
rs_relay_days(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110) into *ms:
 * 0, or -1 when s is not one.
 */
static int
rs_relay_http_date(const char *s, int64_t *ms)
{
	static const char	 months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char			 wd[4], mon[4], gmt[4];
	int			 d, y, h, mi, sec, m, used = 0;
	const char		*p;

	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3s%n",
	    wd, &d, mon, &y, &h, &mi, &sec, gmt, &used) != 8 ||
	    strcmp(gmt, "GMT") != 0)
		return -1;
	for (p = s + used; *p != '\0'; p++)
		if (!isspace((unsigned char)*p))
			return -1;
	if ((p = strstr(months, mon)) == NULL || (p - months) % 3 != 0 ||
	    strlen(mon) != 3)
		return -1;
	m = (int)((p - months) / 3) + 1;
	if (d < 1 || d > 31 || y < 1970 || h > 23 || mi > 59 || sec > 60 ||
	    h < 0 || mi < 0 || sec < 0)
		return -1;
	*ms = ((rs_relay_days(y, m, d) * 24 + h) * 60 + mi) * 60000LL +
	    sec * 1000LL;
	return 0;
}

int64_t
rs_relay_retry_after(const char *value, int64_t now)
{
	const char	*p;
	int64_t		 ms, when;
	int		 digits = 0;

	if (value == NULL)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	ms = 0;
	for (p = value; isdigit((unsigned char)*p); p++) {
		/* Past a day is clamped anyway: stop counting there. */
		if (ms < RS_RELAY_RETRY_AFTER_MAX_MS)
			ms = ms * 10 + (*p - '0') * 1000;
		digits++;
	}
	if (digits > 0) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '\0')
			return -1;
	} else if (rs_relay_http_date(value, &when) == 0)
		ms = when - now;
	else
		return -1;
	if (ms < RS_RELAY_RETRY_AFTER_MIN_MS)
		ms = RS_RELAY_RETRY_AFTER_MIN_MS;
	if (ms > RS_RELAY_RETRY_AFTER_MAX_MS)
		ms = RS_RELAY_RETRY_AFTER_MAX_MS;
	return ms;
}

/* Settles one outcome inside the transaction; RS_ERR_NOTFOUND: moved. */
static enum rs_err
rs_relay_settle_one(struct rs_db *db, const struct rs_relay_outcome *o,
    int64_t now, double (*u)(void), struct rs_relay_tally *t)
{
	enum rs_job_state	 state;
	enum rs_err		 rc;
	char			 why[RS_RELAY_ERROR_MAX];
	const char		*error = NULL;
	int64_t			 due = now;
	int			 k;

	if (o->error[0] == '\0' && o->status >= 200 && o->status <= 299)
		state = RS_JOB_SUCCEEDED;
	else {
		if (o->error[0] != '\0')
			error = o->error;
		else {
			snprintf(why, sizeof(why), "the endpoint answered %d",
			    o->status);
			error = why;
		}
		if (o->status == 410) {
			state = RS_JOB_DEAD;
			error = RS_RELAY_GONE_REASON;
		} else if (o->attempts >= o->max_attempts)
			state = RS_JOB_DEAD;
		else {
			state = RS_JOB_FAILED;
			/* The attempt's place in its budget: a dead job
			 * retried by hand starts the schedule again. */
			k = o->attempts - (o->max_attempts -
			    RS_STORE_JOBS_MAX_ATTEMPTS);
			due = now + (o->retry_after_ms >= 0 ?
			    o->retry_after_ms : rs_relay_backoff_ms(k, u()));
		}
	}
	if ((rc = rs_store_jobs_settle(db, o->seq, o->attempts, state, due,
	    error, o->status, now)) != RS_OK)
		return rc;
	if (o->status == 410 && (rc = rs_store_webhooks_disable(db,
	    o->webhook_seq, RS_RELAY_GONE_REASON, now)) != RS_OK &&
	    rc != RS_ERR_NOTFOUND)
		return rc;
	if (state == RS_JOB_SUCCEEDED)
		t->delivered++;
	else if (state == RS_JOB_FAILED)
		t->failed++;
	else
		t->dead++;
	return RS_OK;
}

enum rs_err
rs_relay_settle(struct rs_db *db, const struct rs_relay_outcome *o, size_t n,
    int64_t now, double (*u)(void), struct rs_relay_tally *t)
{
	struct rs_relay_tally	 add;
	enum rs_err		 rc;
	size_t			 i;

	if (n == 0)
		return RS_OK;
	if (u == NULL)
		u = rs_relay_uniform;
	memset(&add, 0, sizeof(add));
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	for (i = 0; i < n; i++) {
		rc = rs_relay_settle_one(db, &o[i], now, u, &add);
		if (rc == RS_ERR_NOTFOUND)
			continue;
		if (rc != RS_OK) {
			rs_db_rollback(db);
			return rc;
		}
	}
	if ((rc = rs_db_commit(db)) != RS_OK)
		return rc;
	t->delivered += add.delivered;
	t->failed += add.failed;
	t->dead += add.dead;
	return RS_OK;
}

/* The purges, in the order they run. */
enum rs_relay_purge_kind {
	RS_RELAY_PURGE_IDEM,
	RS_RELAY_PURGE_TOMBSTONES,
	RS_RELAY_PURGE_HISTORY,
	RS_RELAY_PURGE_CONFLICTS,
	RS_RELAY_PURGE_SUCCEEDED,
	RS_RELAY_PURGE_DEAD,
	RS_RELAY_PURGE__MAX
};

/* One transaction of purge kind at now: *n rows removed. */
static enum rs_err
rs_relay_purge_one(struct rs_db *db, const struct rs_relay_purge_cfg *c,
    enum rs_relay_purge_kind kind, int64_t now, size_t *n)
{
	enum rs_err	 rc;

	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	switch (kind) {
	case RS_RELAY_PURGE_IDEM:
		rc = rs_store_idem_purge(db, now, RS_RELAY_PURGE_BATCH, n);
		break;
	case RS_RELAY_PURGE_TOMBSTONES:
		/* The same horizon api_recsync.c refuses sync tokens at:
		 * a token issued at or after it needs no tombstone
		 * older than it. */
		rc = rs_store_records_purge(db, now -
		    (int64_t)c->tombstone_days * RS_RELAY_DAY_MS,
		    RS_RELAY_PURGE_BATCH, n);
		break;
	case RS_RELAY_PURGE_HISTORY:
		/* 0 days keeps none: whatever was written before is due. */
		rc = rs_store_history_purge(db, now -
		    (int64_t)c->history_days * RS_RELAY_DAY_MS,
		    RS_RELAY_PURGE_BATCH, n);
		break;
	case RS_RELAY_PURGE_CONFLICTS:
		/* 0 days: closed conflicts stay until their record's
		 * tombstone purge takes them (sql/0012). */
		*n = 0;
		rc = c->history_days == 0 ? RS_OK :
		    rs_store_conflicts_purge(db, now -
		    (int64_t)c->history_days * RS_RELAY_DAY_MS,
		    RS_RELAY_PURGE_BATCH, n);
		break;
	case RS_RELAY_PURGE_SUCCEEDED:
		rc = rs_store_jobs_purge(db, RS_JOB_SUCCEEDED, now -
		    RS_RELAY_SUCCEEDED_DAYS * RS_RELAY_DAY_MS,
		    RS_RELAY_PURGE_BATCH, n);
		break;
	default:
		rc = rs_store_jobs_purge(db, RS_JOB_DEAD, now -
		    RS_RELAY_DEAD_DAYS * RS_RELAY_DAY_MS,
		    RS_RELAY_PURGE_BATCH, n);
		break;
	}
	if (rc != RS_OK) {
		rs_db_rollback(db);
		return rc;
	}
	return rs_db_commit(db);
}

enum rs_err
rs_relay_purge(struct rs_db *db, const struct rs_relay_purge_cfg *c,
    int64_t now, int64_t deadline, struct rs_relay_tally *t)
{
	enum rs_err	 rc;
	size_t		 n;
	int		 k;

	for (k = 0; k < RS_RELAY_PURGE__MAX; k++)
		do {
			if (deadline != 0 && rs_clock_now_ms() >= deadline)
				return RS_OK;
			if ((rc = rs_relay_purge_one(db, c,
			    (enum rs_relay_purge_kind)k, now, &n)) != RS_OK)
				return rc;
			t->purged += n;
		} while (n == RS_RELAY_PURGE_BATCH);
	return RS_OK;
}

/* Audit entries added to the target lookup per write transaction. */
#define RS_RELAY_INDEX_BATCH	2000

enum rs_err
rs_relay_index(struct rs_db *db, int64_t deadline, struct rs_relay_tally *t)
{
	enum rs_err	 rc;
	int64_t		 num = 0;
	size_t		 n;

	while ((rc = rs_store_audit_org_next(db, num, &num)) == RS_OK)
		do {
			if (deadline != 0 && rs_clock_now_ms() >= deadline)
				return RS_OK;
			if ((rc = rs_db_begin(db)) != RS_OK)
				return rc;
			if ((rc = rs_store_audit_index(db, num,
			    RS_RELAY_INDEX_BATCH, &n)) != RS_OK) {
				rs_db_rollback(db);
				return rc;
			}
			if ((rc = rs_db_commit(db)) != RS_OK)
				return rc;
			t->indexed += n;
		} while (n == RS_RELAY_INDEX_BATCH);
	return rc == RS_ERR_NOTFOUND ? RS_OK : rc;
}
