/*
 * store_audit_pg.h: store_audit.h on PostgreSQL (db_pg.h): the same
 * functions with a _pg suffix and the same contracts, called only by
 * store_audit.c when rs_db_pg() says so.
 */
#ifndef RS_STORE_AUDIT_PG_H
#define RS_STORE_AUDIT_PG_H

#include "store_audit.h"

enum rs_err	rs_store_audit_pg_append(struct rs_db *db,
		    struct rs_audit_entry *e);
enum rs_err	rs_store_audit_pg_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_store_audit_filter *f,
		    size_t max, struct rs_store_audit_row *out, size_t *n);
enum rs_err	rs_store_audit_pg_last(struct rs_db *db, const char *org,
		    int64_t *n);
enum rs_err	rs_store_audit_pg_org_next(struct rs_db *db, int64_t after,
		    int64_t *num);
enum rs_err	rs_store_audit_pg_index(struct rs_db *db, int64_t num,
		    size_t max, size_t *n);
enum rs_err	rs_store_audit_pg_org_num(struct rs_db *db, const char *org,
		    int64_t *num);

/*
 * The columns both halves read, in the order their row fillers take
 * them: one list, so the two cannot drift apart.
 */
#define ACOLS	"seq, org_id, n, at, actor_type, actor_id, action, target, " \
		"request_id, ip, detail, prev_hash, hash"

#endif /* RS_STORE_AUDIT_PG_H */
