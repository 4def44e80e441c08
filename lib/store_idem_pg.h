/*
 * store_idem_pg.h: store_idem.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_idem.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_IDEM_PG_H
#define RS_STORE_IDEM_PG_H

#include "store_idem.h"

enum rs_store_idem_found rs_store_idem_pg_find(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    const struct rs_idem *id, int64_t now,
		    struct rs_idem_answer *ans);
enum rs_err	 rs_store_idem_pg_store(struct rs_db *db, const char *org,
		    const struct rs_idem *id, int64_t now,
		    const struct rs_idem_answer *ans);
enum rs_err	 rs_store_idem_pg_purge(struct rs_db *db, int64_t now,
		    size_t max, size_t *n);

#endif /* RS_STORE_IDEM_PG_H */
