/*
 * store_webhooks.h: an org's webhook endpoints (sql/0008). Every API
 * query is scoped by org; the worker reads by seq (it works for every
 * org). The secret is stored and returned sealed (whsig.h): this store
 * never sees it in the clear. Strings of a struct rs_store_webhook live
 * in the arena passed to the reader.
 */
#ifndef RS_STORE_WEBHOOKS_H
#define RS_STORE_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "whsig.h"

struct rs_arena;
struct rs_db;

#define RS_STORE_WEBHOOKS_MAX	16	/* endpoints per org */

struct rs_store_webhook {
	int64_t		 seq;
	char		 id[RS_ID_MAX];		/* whk_... */
	char		 org[RS_ID_MAX];
	const char	*url;
	const char	*events;		/* a JSON array, as stored */
	const char	*description;		/* or NULL */
	int		 enabled;
	const char	*disabled_reason;	/* or NULL */
	unsigned char	 secret[RS_WHSIG_SEALED];	/* sealed */
	int64_t		 from_event;		/* see sql/0008 */
	int64_t		 created_at;
	int64_t		 updated_at;
};

/*
 * Creates w for org at now: w->url, events, description and secret are
 * given; a new id, seq and from_event (the org's event count now) are
 * set into w. RS_ERR_RANGE when the org has RS_STORE_WEBHOOKS_MAX.
 */
enum rs_err	rs_store_webhooks_create(struct rs_db *db, const char *org,
		    struct rs_store_webhook *w, int64_t now);
/* RS_OK and *w for org's endpoint id, or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_webhooks_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_store_webhook *w);
/* The endpoint at seq, whatever its org (the worker), or RS_ERR_NOTFOUND. */
enum rs_err	rs_store_webhooks_by_seq(struct rs_db *db, struct rs_arena *a,
		    int64_t seq, struct rs_store_webhook *w);
/* Up to max of org's endpoints after seq after_seq (0: from the first), oldest first. */
enum rs_err	rs_store_webhooks_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, int64_t after_seq, size_t max,
		    struct rs_store_webhook *out, size_t *n);
/* Org's enabled endpoints (at most RS_STORE_WEBHOOKS_MAX), for fan-out. */
enum rs_err	rs_store_webhooks_enabled(struct rs_db *db, struct rs_arena *a,
		    const char *org, struct rs_store_webhook *out, size_t *n);
/*
 * Deletes org's endpoint id, its row as it was into *w (may be NULL);
 * RS_ERR_NOTFOUND when there is none. Its jobs are the caller's to drop
 * (store_jobs.h), in the same transaction.
 */
enum rs_err	rs_store_webhooks_delete(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_store_webhook *w);
/*
 * Sets org's endpoint w->id to w's url, events, description and enabled
 * at now. Enabling clears disabled_reason; disabling an enabled endpoint
 * sets it to w->disabled_reason (may be NULL); a disabled one keeps its
 * reason. *w is then the row as stored (strings in a); RS_ERR_NOTFOUND.
 */
enum rs_err	rs_store_webhooks_update(struct rs_db *db, struct rs_arena *a,
		    const char *org, struct rs_store_webhook *w, int64_t now);
/* Replaces the sealed secret of org's endpoint id; RS_ERR_NOTFOUND. */
enum rs_err	rs_store_webhooks_set_secret(struct rs_db *db, const char *org,
		    const char *id, const unsigned char sealed[RS_WHSIG_SEALED],
		    int64_t now);
/* Disables the endpoint at seq with reason (the worker, on a 410). */
enum rs_err	rs_store_webhooks_disable(struct rs_db *db, int64_t seq,
		    const char *reason, int64_t now);

#endif /* RS_STORE_WEBHOOKS_H */
