/*
 * outbox.h: events, written in the transaction of the change that caused
 * them (never after it), so nothing committed can miss its event. The
 * worker's webhook deliveries and the event stream read them later.
 * The payload is the webhook body: {"id","type","timestamp","org_id","data"}.
 */
#ifndef RS_OUTBOX_H
#define RS_OUTBOX_H

#include <stdint.h>

#include "err.h"

struct json_object;
struct rs_db;

/*
 * Appends one event of type for org; data (borrowed) is the resource as
 * the API shows it; record_id may be NULL. Call inside a transaction.
 */
enum rs_err	rs_outbox_add(struct rs_db *db, const char *org,
		    const char *type, const char *record_id,
		    struct json_object *data, int64_t now_ms);

#endif /* RS_OUTBOX_H */
