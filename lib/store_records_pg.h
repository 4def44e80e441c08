/*
 * store_records_pg.h: store_records.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_records.c when rs_db_pg() says so. The JSON printers and the
 * status check touch no database and have no twin.
 */
#ifndef RS_STORE_RECORDS_PG_H
#define RS_STORE_RECORDS_PG_H

#include "store_records.h"

enum rs_err	rs_store_records_pg_get_text(struct rs_db *db,
		    struct rs_arena *a, const char *org, const char *id,
		    const char **json, char causal[RS_ULID_LEN + 1]);
enum rs_err	rs_store_records_pg_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_record *r);
enum rs_err	rs_store_records_pg_put(struct rs_db *db,
		    const struct rs_record *r, int insert);
int64_t		rs_store_records_pg_change_seq(struct rs_db *db,
		    const char *org);
enum rs_err	rs_store_records_pg_list(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    const struct rs_recfilter *f, int64_t after, size_t max,
		    struct rs_record *out, size_t *n);
enum rs_err	rs_store_records_pg_list_each(struct rs_db *db,
		    const char *org, const struct rs_recfilter *f,
		    int64_t after, size_t max, rs_store_records_each each,
		    void *arg, size_t *n, int64_t *now);
enum rs_err	rs_store_records_pg_changes_each(struct rs_db *db,
		    const char *org, int64_t after, size_t max,
		    rs_store_records_each each, void *arg, size_t *n,
		    int64_t *now);
enum rs_err	rs_store_records_pg_changes(struct rs_db *db,
		    struct rs_arena *a, const char *org, int64_t after,
		    size_t max, struct rs_record *out, size_t *n);
enum rs_err	rs_store_records_pg_purge(struct rs_db *db, int64_t horizon,
		    size_t max, size_t *n);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define COLS	"seq, id, org_id, title, type, site, status, data, size, " \
		"causal, version, deleted_at, created_at, updated_at, " \
		"created_by, queue, change_seq, updated_by, changed, json"

#endif /* RS_STORE_RECORDS_PG_H */
