/*
 * store_move_pg.h: store_move.h on PostgreSQL (db_pg.h): the target's
 * half, called only by store_move.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_MOVE_PG_H
#define RS_STORE_MOVE_PG_H

#include "store_move.h"

enum rs_err	rs_store_move_pg_columns(struct rs_db *db,
		    struct rs_arena *a, const char *table, const char **cols,
		    size_t *n);
enum rs_err	rs_store_move_pg_insert(struct rs_db *db, const char *table,
		    const char *const *cols, size_t n,
		    const struct rs_store_cell *cells);
enum rs_err	rs_store_move_pg_renumber(struct rs_db *db);
enum rs_err	rs_store_move_pg_analyze(struct rs_db *db);
enum rs_err	rs_store_move_pg_count(struct rs_db *db, const char *table,
		    int64_t *n);

#endif /* RS_STORE_MOVE_PG_H */
