/*
 * migrate.h: the schema, as numbered migrations (sql/NNNN_*.sql, built
 * into the library) tracked by PRAGMA user_version; PostgreSQL's own set
 * (sql/pg/NNNN_*.sql) by table rs_schema (db.h).
 */
#ifndef RS_MIGRATE_H
#define RS_MIGRATE_H

#include "err.h"

struct rs_db;

/*
 * The schema version this program knows (the number of migrations):
 * SQLite's; rs_migrate_latest_of() that of db's backend (PostgreSQL has
 * its own numbered set, sql/pg/).
 */
int		 rs_migrate_latest(void);
int		 rs_migrate_latest_of(const struct rs_db *db);
/*
 * Applies every missing migration, each in its own transaction.
 * RS_ERR_SCHEMA when the database is newer than this program.
 */
enum rs_err	 rs_migrate_run(struct rs_db *db);
/*
 * RS_OK when the database is at exactly the known version, RS_ERR_SCHEMA
 * when newer, RS_ERR_INVAL when older (run "relaysync-admin migrate").
 */
enum rs_err	 rs_migrate_check(struct rs_db *db);

#endif /* RS_MIGRATE_H */
