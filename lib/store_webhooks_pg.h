/*
 * store_webhooks_pg.h: store_webhooks.h on PostgreSQL (db_pg.h): the
 * same functions with a _pg suffix and the same contracts, called only
 * by store_webhooks.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_WEBHOOKS_PG_H
#define RS_STORE_WEBHOOKS_PG_H

#include "store_webhooks.h"

enum rs_err	rs_store_webhooks_pg_create(struct rs_db *db, const char *org,
		    struct rs_store_webhook *w, int64_t now);
enum rs_err	rs_store_webhooks_pg_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id,
		    struct rs_store_webhook *w);
enum rs_err	rs_store_webhooks_pg_by_seq(struct rs_db *db,
		    struct rs_arena *a, int64_t seq,
		    struct rs_store_webhook *w);
enum rs_err	rs_store_webhooks_pg_list(struct rs_db *db,
		    struct rs_arena *a, const char *org, int64_t after_seq,
		    size_t max, struct rs_store_webhook *out, size_t *n);
enum rs_err	rs_store_webhooks_pg_enabled(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    struct rs_store_webhook *out, size_t *n);
enum rs_err	rs_store_webhooks_pg_delete(struct rs_db *db,
		    struct rs_arena *a, const char *org, const char *id,
		    struct rs_store_webhook *w);
enum rs_err	rs_store_webhooks_pg_update(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    struct rs_store_webhook *w, int64_t now);
enum rs_err	rs_store_webhooks_pg_set_secret(struct rs_db *db,
		    const char *org, const char *id,
		    const unsigned char sealed[RS_WHSIG_SEALED], int64_t now);
enum rs_err	rs_store_webhooks_pg_disable(struct rs_db *db, int64_t seq,
		    const char *reason, int64_t now);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define WCOLS	"seq, id, org_id, url, events, description, " \
		"status = 'enabled', disabled_reason, secret, from_event, " \
		"created_at, updated_at"

#endif /* RS_STORE_WEBHOOKS_PG_H */
