/*
 * deliver.h: webhook deliveries over HTTP, concurrently, with the
 * libcurl multi interface. The only module that includes curl/curl.h;
 * linked into relaysync-worker alone (lib/README, scripts/layers).
 *
 * A delivery is a POST of the event's payload, verbatim, signed as the
 * Standard Webhooks specification has it (webhook-id, webhook-timestamp,
 * webhook-signature, whsig.h). No redirect is followed, no proxy used,
 * the answer is read up to RS_DELIVER_ANSWER_MAX bytes, connect and
 * total time are bounded. Unless private targets are allowed, only
 * https is spoken and every address connected to is checked first
 * (rs_netguard_refused, on the address actually connected to: DNS
 * rebinding cannot reach inside). Connections stay open between
 * deliveries to the same host.
 *
 * It knows nothing of the database: the worker leases jobs (relay.h),
 * starts them here, and settles the outcomes it collects.
 */
#ifndef RS_DELIVER_H
#define RS_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "relay.h"

#define RS_DELIVER_ANSWER_MAX	(64 * 1024)	/* answer bytes read */
#define RS_DELIVER_MAX_CONCURRENCY 256

struct rs_deliver;

struct rs_deliver_cfg {
	int		 concurrency;	/* deliveries at once, 1..256 */
	int		 timeout_s;	/* connect and total, per delivery */
	int		 allow_private;	/* http and private addresses too */
	const char	*user_agent;	/* "RelaySync-Webhooks/<version>" */
};

/* A deliverer for c: RS_OK and *out (rs_deliver_free), or an error. */
enum rs_err	rs_deliver_new(const struct rs_deliver_cfg *c,
		    struct rs_deliver **out);
/* Ends what is in flight (without outcomes) and frees d; NULL is fine. */
void		rs_deliver_free(struct rs_deliver *d);
/* Deliveries in flight (or ended, not yet collected). */
size_t		rs_deliver_busy(const struct rs_deliver *d);
/* Deliveries that may start now. */
size_t		rs_deliver_idle(const struct rs_deliver *d);
/*
 * Starts delivering j at now (ms): signs it with j->key (which the
 * caller wipes after) and copies what it needs. A job whose key did not
 * open ends at once with that error. RS_ERR_RANGE when no slot is idle.
 */
enum rs_err	rs_deliver_start(struct rs_deliver *d,
		    const struct rs_relay_job *j, int64_t now);
/*
 * Moves the deliveries on for up to wait_ms (returning sooner when one
 * ends) and collects up to max of those that ended into out, *n.
 */
enum rs_err	rs_deliver_poll(struct rs_deliver *d, int wait_ms,
		    struct rs_relay_outcome *out, size_t max, size_t *n);

#endif /* RS_DELIVER_H */
