/*
 * store_history_pg.h: store_history.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_history.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_HISTORY_PG_H
#define RS_STORE_HISTORY_PG_H

#include "store_history.h"

enum rs_err	rs_store_history_pg_put(struct rs_db *db,
		    const struct rs_history *h);
enum rs_err	rs_store_history_pg_list(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    const char *record_id, int64_t before, int64_t horizon,
		    size_t max, struct rs_history *out, size_t *n);
enum rs_err	rs_store_history_pg_since(struct rs_db *db,
		    struct rs_arena *a, const char *org,
		    const char *record_id, const char *base,
		    const char *cur_changed, struct rs_history_since *out);
enum rs_err	rs_store_history_pg_purge(struct rs_db *db, int64_t horizon,
		    size_t max, size_t *n);

/*
 * What "since" makes of the rows it read, the same on both backends
 * (store_history.c): the union of JSON arrays of member names changed
 * (NULL: unknown) in seen, each name once in list; *unknown set for
 * NULL or text that is not an array of strings. Then list's names into
 * out->names, in arena a.
 */
struct json_object;
enum rs_err	rs_store_history_union(const char *changed,
		    struct json_object *seen, struct json_object *list,
		    int *unknown);
enum rs_err	rs_store_history_names(struct rs_arena *a,
		    struct json_object *list, struct rs_history_since *out);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define HCOLS	"seq, org_id, record_id, version, causal, record, changed, " \
		"actor, written_at, superseded_at"

#endif /* RS_STORE_HISTORY_PG_H */
