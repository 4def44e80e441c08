/*
 * store_backup_pg.h: store_backup.h on PostgreSQL (db_pg.h). Of a
 * database as a whole only the census applies: its copies are
 * pg_dump's, its checks and files the server's, so store_backup.c
 * answers the rest with RS_ERR_STATE there.
 */
#ifndef RS_STORE_BACKUP_PG_H
#define RS_STORE_BACKUP_PG_H

#include "store_backup.h"

enum rs_err	rs_store_backup_pg_census(struct rs_db *db,
		    struct rs_store_backup_census *c);

#endif /* RS_STORE_BACKUP_PG_H */
