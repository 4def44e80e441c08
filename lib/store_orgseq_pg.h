/*
 * store_orgseq_pg.h: store_orgseq.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_orgseq.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_ORGSEQ_PG_H
#define RS_STORE_ORGSEQ_PG_H

#include "store_orgseq.h"

enum rs_err	 rs_store_orgseq_pg_take(struct rs_db *db, const char *org,
		    int changes, int events, struct rs_store_orgseq *out);
enum rs_err	 rs_store_orgseq_pg_behind(struct rs_db *db,
		    int64_t after_num, size_t max, char (*ids)[RS_ID_MAX],
		    size_t *n, int64_t *last_num);
enum rs_err	 rs_store_orgseq_pg_fanout(struct rs_db *db, const char *org,
		    struct rs_store_orgseq_fanout *f);
enum rs_err	 rs_store_orgseq_pg_fanout_set(struct rs_db *db,
		    const char *org, int64_t was, int64_t to);

#endif /* RS_STORE_ORGSEQ_PG_H */
