/*
 * batch.h: POST /v1/batch (CONTRACT section 11). Up to
 * RS_MAX_BATCH_ITEMS requests to the routes marked RS_ROUTE_ITEM, each
 * answered exactly as it would be alone: it takes the steps a request
 * takes after its bearer check (gate.h: the org's rate limit, the
 * route's roles, the query, the body) and then its route's handler,
 * with the batch's caller. All of them run in one write transaction
 * (db.h's nest: one lock, one commit), each item in a savepoint of its
 * own, so an item that fails leaves nothing and the others stand; an
 * atomic batch rolls back whole when any item answers 400 or more. The
 * batch's own Idempotency-Key keeps its whole answer (txn.h).
 *
 * The envelope is checked whole before anything runs: a malformed item
 * is a 400 naming it ("requests[3].path") and nothing runs. An item's
 * answer keeps its status, body and the headers a client acts on.
 */
#ifndef RS_BATCH_H
#define RS_BATCH_H

#include "ctx.h"

enum rs_step	 rs_batch_handle(struct rs_ctx *ctx);	/* POST /v1/batch */

#endif /* RS_BATCH_H */
