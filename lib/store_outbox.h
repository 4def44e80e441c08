/*
 * store_outbox.h: events, written in the transaction of the change that caused
 * them (never after it), so nothing committed can miss its event. The
 * worker's webhook deliveries and the event stream read them later.
 * The payload is the webhook body: {"id","type","timestamp","org_id","data"}.
 *
 * An event is built (rs_store_outbox_event) and written (rs_store_outbox_put) in two
 * steps, so a writer can build it before taking the write lock.
 */
#ifndef RS_STORE_OUTBOX_H
#define RS_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"

struct json_object;
struct rs_arena;
struct rs_db;

/* Every event type there is (CONTRACT §3, §6, §8), NULL-ended, and
 * the same as one line of text for error messages. */
extern const char *const rs_store_outbox_types[];
#define RS_STORE_OUTBOX_TYPES	"record.created, record.updated, " \
	"record.deleted, record.synced, record.conflict, user.invited, " \
	"user.activated, policy.updated, policy.deleted"

/* 1 when s names an event type, else 0. */
int		rs_store_outbox_type_known(const char *s);

struct rs_store_outbox_event {
	int64_t		 seq;			/* rowid, store_orgseq.h */
	char		 id[RS_ID_MAX];		/* evt_... */
	const char	*type;			/* borrowed */
	const char	*record_id;		/* borrowed, or NULL */
	const char	*payload;		/* in the arena */
	int64_t		 created_at;
	/* Where and when it is to be delivered (policy_set.h). */
	const char	*queue;			/* borrowed */
	int		 priority;		/* 0..9 */
	int64_t		 not_before;		/* ms */
};

/*
 * Builds one event of type for org into ev, its payload in a; data
 * (borrowed) is the resource as the API shows it. Writes nothing.
 */
enum rs_err	rs_store_outbox_event(struct rs_arena *a,
		    struct rs_store_outbox_event *ev, const char *org, const char *type, const char *record_id,
		    struct json_object *data, int64_t now_ms);
/*
 * As rs_store_outbox_event, with the members of more (borrowed, may be
 * NULL) after data, at the payload's top level: record.conflict's
 * conflict_id.
 */
enum rs_err	rs_store_outbox_event_more(struct rs_arena *a,
		    struct rs_store_outbox_event *ev, const char *org,
		    const char *type, const char *record_id,
		    struct json_object *data, struct json_object *more,
		    int64_t now_ms);
/*
 * Appends ev for org, at rowid ev->seq (the caller takes the event
 * number from store_orgseq.h). Call inside a transaction; txn.h
 * does, for every writer.
 */

enum rs_err	rs_store_outbox_put(struct rs_db *db, const char *org,
		    const struct rs_store_outbox_event *ev);
/*
 * Up to max events with rowids in (after, upto], in order, into out (*n
 * of them; the worker's fan-out reads one org's range, store_orgseq.h).
 * Strings go to arena a; payload is not read (NULL).
 */
enum rs_err	rs_store_outbox_range(struct rs_db *db, struct rs_arena *a,
		    int64_t after, int64_t upto, size_t max,
		    struct rs_store_outbox_event *out, size_t *n);

/* An event as the event stream shows it. */
struct rs_store_outbox_follow {
	int64_t		 n;		/* its number within the org */
	const char	*type;		/* in the arena */
	const char	*payload;	/* in the arena */
};

/*
 * Up to max of org's events numbered after after_n, in order, into out
 * (*n of them), strings in a. RS_ERR_NOTFOUND for an unknown org is not
 * told apart: it has no events.
 */
enum rs_err	rs_store_outbox_follow(struct rs_db *db, struct rs_arena *a,
		    const char *org, int64_t after_n, size_t max,
		    struct rs_store_outbox_follow *out, size_t *n);
#endif /* RS_STORE_OUTBOX_H */
