/*
 * store_policies_pg.h: store_policies.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_policies.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_POLICIES_PG_H
#define RS_STORE_POLICIES_PG_H

#include "store_policies.h"

enum rs_err	rs_store_policies_pg_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *name,
		    struct rs_store_policy *p);
enum rs_err	rs_store_policies_pg_list(struct rs_db *db,
		    struct rs_arena *a, const char *org, int enabled_only,
		    int64_t after_order, int64_t after_seq, size_t max,
		    struct rs_store_policy *out, size_t *n);
enum rs_err	rs_store_policies_pg_put(struct rs_db *db, struct rs_arena *a,
		    const char *org, struct rs_store_policy *p, int64_t now,
		    int *created);
enum rs_err	rs_store_policies_pg_delete(struct rs_db *db,
		    struct rs_arena *a, const char *org, const char *name,
		    int64_t now, struct rs_store_policy *p);
int64_t		rs_store_policies_pg_version(struct rs_db *db,
		    const char *org);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define PCOLS	"seq, id, name, \"when\", \"then\", \"order\", enabled, " \
		"created_at, updated_at"

#endif /* RS_STORE_POLICIES_PG_H */
