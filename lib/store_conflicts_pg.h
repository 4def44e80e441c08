/*
 * store_conflicts_pg.h: store_conflicts.h on PostgreSQL (db_pg.h): the
 * same functions with a _pg suffix and the same contracts, called only
 * by store_conflicts.c when rs_db_pg() says so. The status check
 * touches no database and has no twin.
 */
#ifndef RS_STORE_CONFLICTS_PG_H
#define RS_STORE_CONFLICTS_PG_H

#include "store_conflicts.h"

enum rs_err	rs_store_conflicts_pg_put(struct rs_db *db,
		    const struct rs_conflict *c);
enum rs_err	rs_store_conflicts_pg_get(struct rs_db *db,
		    struct rs_arena *a, const char *org, const char *id,
		    struct rs_conflict *c);
enum rs_err	rs_store_conflicts_pg_list(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    const struct rs_conflict_filter *f, int64_t after,
		    size_t max, struct rs_conflict *out, size_t *n);
enum rs_err	rs_store_conflicts_pg_resolve(struct rs_db *db,
		    const char *org, const char *id, const char *resolution,
		    const char *user, int64_t now);
enum rs_err	rs_store_conflicts_pg_supersede(struct rs_db *db,
		    const char *org, const char *record_id, const char *user,
		    int64_t now, size_t *n);
enum rs_err	rs_store_conflicts_pg_purge(struct rs_db *db,
		    int64_t horizon, size_t max, size_t *n);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define CCOLS	"seq, id, org_id, record_id, base_causal, attempted, " \
		"current, status, created_by, created_at, resolved_at, " \
		"resolved_by, resolution"

#endif /* RS_STORE_CONFLICTS_PG_H */
