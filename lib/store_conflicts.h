/*
 * store_conflicts.h: conflicts, the lost causal checks kept as
 * resources (sql/0012). A conflict is written in the transaction of the
 * write that lost (recwrite.h), open until it is resolved (api_conflicts)
 * or superseded by a later write of its record by the same user; closed
 * ones go with the worker's retention purge, and all of a record's with
 * its tombstone purge (the trigger). Every query is scoped by org, so
 * another org's ids do not exist. The store keeps attempted and current
 * as given (compact JSON objects). Strings of a struct rs_conflict live
 * in the arena passed to the reader.
 */
#ifndef RS_STORE_CONFLICTS_H
#define RS_STORE_CONFLICTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "ulid.h"

struct rs_arena;
struct rs_db;

#define RS_CONFLICT_OPEN	"open"
#define RS_CONFLICT_RESOLVED	"resolved"
#define RS_CONFLICT_SUPERSEDED	"superseded"

struct rs_conflict {
	int64_t		 seq;		/* creation order: a cursor's place */
	char		 id[RS_ID_MAX];	/* cfl_... */
	char		 org_id[RS_ID_MAX];
	char		 record_id[RS_ID_MAX];
	char		 base_causal[RS_ULID_LEN + 1];
	const char	*attempted;	/* the write that lost, JSON object */
	const char	*current;	/* the record it lost to, JSON object */
	const char	*status;	/* open, resolved, superseded */
	char		 created_by[RS_ID_MAX];
	int64_t		 created_at;
	int64_t		 resolved_at;	/* 0 while open */
	char		 resolved_by[RS_ID_MAX]; /* "" while open */
	const char	*resolution;	/* NULL while open; current,
					 * attempted, record or superseded */
};

/* List filters; NULL means "any". */
struct rs_conflict_filter {
	const char	*status;
	const char	*record_id;
};

/* 1 when s is a conflict status (open, resolved, superseded). */
int		rs_store_conflicts_status_valid(const char *s);
/* Inside a write transaction: appends c, open. */
enum rs_err	rs_store_conflicts_put(struct rs_db *db,
		    const struct rs_conflict *c);
/* RS_OK and *c, or RS_ERR_NOTFOUND (also for another org's id). */
enum rs_err	rs_store_conflicts_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_conflict *c);
/*
 * Up to max conflicts of org matching f with seq > after, oldest first,
 * into out; *n receives the count.
 */
enum rs_err	rs_store_conflicts_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_conflict_filter *f,
		    int64_t after, size_t max, struct rs_conflict *out,
		    size_t *n);
/*
 * Inside a write transaction: closes org's open conflict id as resolved
 * with resolution (current, attempted or record) by user at now.
 * RS_ERR_NOTFOUND when no open conflict has that id.
 */
enum rs_err	rs_store_conflicts_resolve(struct rs_db *db, const char *org,
		    const char *id, const char *resolution, const char *user,
		    int64_t now);
/*
 * Inside a write transaction: marks every open conflict of user on
 * org's record_id superseded (by user, at now), the write by user that
 * replaced what they lost to; *n of them. One probe of an index of the
 * open ones: every record write pays it.
 */
enum rs_err	rs_store_conflicts_supersede(struct rs_db *db, const char *org,
		    const char *record_id, const char *user, int64_t now,
		    size_t *n);
/*
 * Inside a write transaction: removes up to max closed conflicts
 * resolved (or superseded) before horizon (ms), oldest first; open ones
 * stay. *n removed.
 */
enum rs_err	rs_store_conflicts_purge(struct rs_db *db, int64_t horizon,
		    size_t max, size_t *n);

#endif /* RS_STORE_CONFLICTS_H */
