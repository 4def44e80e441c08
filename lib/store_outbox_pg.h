/*
 * store_outbox_pg.h: store_outbox.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_outbox.c when rs_db_pg() says so. Building an event writes
 * nothing and has no twin.
 */
#ifndef RS_STORE_OUTBOX_PG_H
#define RS_STORE_OUTBOX_PG_H

#include "store_outbox.h"

enum rs_err	rs_store_outbox_pg_put(struct rs_db *db, const char *org,
		    const struct rs_store_outbox_event *ev);
enum rs_err	rs_store_outbox_pg_range(struct rs_db *db, struct rs_arena *a,
		    int64_t after, int64_t upto, size_t max,
		    struct rs_store_outbox_event *out, size_t *n);
enum rs_err	rs_store_outbox_pg_follow(struct rs_db *db,
		    struct rs_arena *a, const char *org, int64_t after_n,
		    size_t max, struct rs_store_outbox_follow *out, size_t *n);

#endif /* RS_STORE_OUTBOX_PG_H */
