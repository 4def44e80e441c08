/*
 * store_history.h: record_history, the prior versions of records
 * (sql/0012). A row is written in the transaction of the write that
 * superseded its version (recwrite.h) and never changed; it goes with
 * the worker's retention purge, or with its record (the tombstone
 * purge's trigger). Every query is scoped by org. This store never
 * reads the records table: what it needs of the current version, the
 * caller gives. Strings of a struct rs_history live in the arena passed
 * to the reader.
 */
#ifndef RS_STORE_HISTORY_H
#define RS_STORE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "ulid.h"

struct rs_arena;
struct rs_db;

struct rs_history {
	int64_t		 seq;
	char		 org_id[RS_ID_MAX];
	char		 record_id[RS_ID_MAX];
	int64_t		 version;
	char		 causal[RS_ULID_LEN + 1];
	const char	*record;	/* the version as the API showed it */
	const char	*changed;	/* its JSON array of names, or NULL:
					 * unknown (written before 0012) */
	char		 actor[RS_ID_MAX]; /* who wrote the version */
	int64_t		 written_at;	/* when (its updated_at) */
	int64_t		 superseded_at;	/* when the next write replaced it */
};

/*
 * Inside a write transaction: appends h. A version that is there
 * already fails the transaction: RS_ERR_EXISTS, or on PostgreSQL (the
 * write goes ahead with the next statement) RS_ERR_DB there.
 */
enum rs_err	rs_store_history_put(struct rs_db *db,
		    const struct rs_history *h);
/*
 * Up to max versions of org's record_id below version before (0: from
 * the newest) that were superseded at or after horizon (ms: older ones
 * are past their keeping, purged or not yet), newest first, into out;
 * *n receives the count.
 */
enum rs_err	rs_store_history_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *record_id, int64_t before,
		    int64_t horizon, size_t max, struct rs_history *out,
		    size_t *n);

/* What changed in a record since a version (rs_store_history_since). */
struct rs_history_since {
	int		 found;		/* base names a kept version */
	int64_t		 version;	/* ... that version, else 0 */
	int		 unknown;	/* a version after it does not say what
					 * it changed: anything may have */
	const char	**names;	/* the union, each name once, in the
					 * order first seen (arena) */
	size_t		 n;
};

/*
 * Whether causal token base names a prior version of org's record_id
 * (the current version is not in the history: the caller compares it
 * first), and when it does, the union of the changed names of every
 * version written after it: the history rows of higher versions, then
 * cur_changed, the current version's (rs_record.changed; NULL:
 * unknown). A base whose row is purged is not found. RS_OK and *out.
 */
enum rs_err	rs_store_history_since(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *record_id, const char *base,
		    const char *cur_changed, struct rs_history_since *out);
/*
 * Inside a write transaction: removes up to max rows superseded before
 * horizon (ms), oldest first; *n removed.
 */
enum rs_err	rs_store_history_purge(struct rs_db *db, int64_t horizon,
		    size_t max, size_t *n);

#endif /* RS_STORE_HISTORY_H */
