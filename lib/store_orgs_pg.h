/*
 * store_orgs_pg.h: store_orgs.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_orgs.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_ORGS_PG_H
#define RS_STORE_ORGS_PG_H

#include "store_orgs.h"

enum rs_err	rs_store_orgs_pg_create(struct rs_db *db, const char *id,
		    const char *name, int rate_limit, int64_t now);
enum rs_err	rs_store_orgs_pg_exists(struct rs_db *db, const char *id);
enum rs_err	rs_store_orgs_pg_set_rate(struct rs_db *db, const char *id,
		    int rate_limit);
enum rs_err	rs_store_orgs_pg_ping(struct rs_db *db);
enum rs_err	rs_store_orgs_pg_stats(struct rs_db *db,
		    struct rs_store_stats *s);
enum rs_err	rs_store_orgs_pg_list(struct rs_db *db, struct rs_arena *a,
		    int64_t after, size_t max, struct rs_store_org *out,
		    size_t *n);

#endif /* RS_STORE_ORGS_PG_H */
