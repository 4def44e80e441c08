/*
 * store_records.h: records in SQLite: one row type, reads, keyset lists, the
 * per-org change sequence and the record's JSON form. Writes happen
 * only inside the caller's transaction (recwrite.c owns the write path);
 * every query is scoped by org, so another org's ids simply do not exist.
 * Strings of a struct rs_record live in the arena passed to the reader.
 */
#ifndef RS_STORE_RECORDS_H
#define RS_STORE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"
#include "ulid.h"

struct json_object;
struct rs_arena;
struct rs_db;

struct rs_record {
	int64_t		 seq;		/* creation order */
	char		 id[RS_ID_MAX];
	char		 org_id[RS_ID_MAX];
	const char	*title;
	const char	*type;
	const char	*site;		/* NULL: none */
	const char	*status;
	const char	*data;		/* compact JSON object */
	int64_t		 size;		/* strlen(data) */
	char		 causal[RS_ULID_LEN + 1];
	int64_t		 version;
	int64_t		 deleted_at;	/* 0: live */
	int64_t		 created_at;
	int64_t		 updated_at;
	char		 created_by[RS_ID_MAX];
	const char	*queue;
	int64_t		 change_seq;
	/* Internal, never shown (sql/0012): who wrote this version ("":
	 * unknown, an old row: created_by), and the JSON array of the
	 * member names its write changed (NULL: unknown). */
	char		 updated_by[RS_ID_MAX];
	const char	*changed;
	/* The record as the API shows it, stored with it (sql/0013) by
	 * rs_store_records_put when set; NULL: none (a row older than
	 * that, printed from its columns). The writer sets it from the
	 * fields it stores, never keeps a loaded one across a change. */
	const char	*json;
};

/* List filters; NULL / -1 / 0 mean "any". */
struct rs_recfilter {
	const char	*status;
	const char	*type;
	const char	*site;
	const char	*created_by;
	int64_t		 updated_after;	/* ms, -1: any */
	int		 include_deleted;
};

/*
 * A live record's text as stored (sql/0013) and its causal token, for a
 * read that shows it as it is: *json set (in a), or NULL when there is
 * nothing to show this way (no such record, a tombstone, a row with no
 * text: read it whole). RS_OK or an error.
 */
enum rs_err	rs_store_records_get_text(struct rs_db *db,
		    struct rs_arena *a, const char *org, const char *id,
		    const char **json, char causal[RS_ULID_LEN + 1]);
/* RS_OK and *r, or RS_ERR_NOTFOUND (also for another org's id). */
enum rs_err	rs_store_records_get(struct rs_db *db, struct rs_arena *a,
		    const char *org, const char *id, struct rs_record *r);
/*
 * Inside a write transaction: inserts (insert set; at rowid r->seq) or
 * updates the row, with r->change_seq, both taken from the org's counters
 * (orgseq.h). An insert whose id or numbers are taken fails the
 * transaction: RS_ERR_EXISTS, or on PostgreSQL, where the write goes
 * ahead with the next statement (db_pg.h, rs_pg_later), that statement
 * or the commit fails (RS_ERR_DB). Ids are made, never taken from a
 * client, so no caller answers a clash.
 */
enum rs_err	rs_store_records_put(struct rs_db *db, const struct rs_record *r,
		    int insert);
/* The org's latest change number (0 before any change), or -1. */
int64_t		rs_store_records_change_seq(struct rs_db *db, const char *org);
/*
 * Up to max records of org matching f with seq > after, oldest first,
 * into out; *n receives the count.
 */
enum rs_err	rs_store_records_list(struct rs_db *db, struct rs_arena *a,
		    const char *org, const struct rs_recfilter *f,
		    int64_t after, size_t max, struct rs_record *out,
		    size_t *n);
/* A row of a walk: its text as the API shows it, and its places. */
struct rs_record_text {
	int64_t		 seq;		/* the list's order */
	int64_t		 change_seq;	/* delta sync's */
	const char	*json;		/* borrowed, for the call only */
	size_t		 len;
};
/* What a walk calls with each row; nonzero stops the walk. */
typedef int	(*rs_store_records_each)(void *arg,
		    const struct rs_record_text *t);
/*
 * rs_store_records_list() and rs_store_records_changes() for a page
 * printed as it is read (a list prints fifty records): each(arg, text)
 * for each row, in order, with the text stored with it (sql/0013) or,
 * for an older row, printed from its columns; *n counts them. *now is
 * the org's change number (rs_store_records_change_seq) read in the
 * same snapshot as the rows, so a sync token made of it names no change
 * older than a row shown; -1 for an unknown org, which has no rows.
 */
enum rs_err	rs_store_records_list_each(struct rs_db *db, const char *org,
		    const struct rs_recfilter *f, int64_t after, size_t max,
		    rs_store_records_each each, void *arg, size_t *n,
		    int64_t *now);
enum rs_err	rs_store_records_changes_each(struct rs_db *db,
		    const char *org, int64_t after, size_t max,
		    rs_store_records_each each, void *arg, size_t *n,
		    int64_t *now);
/* Up to max records of org changed after change number after, in order. */
enum rs_err	rs_store_records_changes(struct rs_db *db, struct rs_arena *a,
		    const char *org, int64_t after, size_t max,
		    struct rs_record *out, size_t *n);
/*
 * The record as the API shows it, as an object (caller owns it), or NULL;
 * parsed from rs_store_records_json_append's text, the one printer.
 */
struct json_object *rs_store_records_json(const struct rs_record *r);
/*
 * Appends the record as compact JSON text to pb, without building
 * objects: lists print fifty records per request. 0, or -1.
 */
struct printbuf;
int		rs_store_records_json_append(struct printbuf *pb,
		    const struct rs_record *r);

/*
 * Appends the record as the API shows it to pb: its stored text (r->json)
 * when it has one, else printed from its fields. 0, or -1.
 */
int		rs_store_records_json_show(struct printbuf *pb,
		    const struct rs_record *r);
/* Appends rows[0..n) to pb as a JSON array (each shown): 0, or -1. */
int		rs_store_records_json_array(struct printbuf *pb,
		    const struct rs_record *rows, size_t n);
/*
 * rows[0..n) as JSON text (each shown): one record, or (array set) an
 * array of them.
 * Returns a raw object (json.h) whose text lives in arena a, or NULL.
 */
struct json_object *rs_store_records_json_raw(struct rs_arena *a,
		    const struct rs_record *rows, size_t n, int array);
/* 1 when s is a record status (queued, synced, conflict, failed). */
int		rs_store_records_status_valid(const char *s);
/*
 * Inside a write transaction: removes up to max tombstones of records
 * deleted before horizon (ms; now less the tombstone days: a sync token
 * issued before it is refused, api_recsync.c, so no client still needs
 * them), oldest first; *n removed. Each takes its history rows and
 * conflicts with it (sql/0012's trigger: store_history.h,
 * store_conflicts.h).
 */
enum rs_err	rs_store_records_purge(struct rs_db *db, int64_t horizon,
		    size_t max, size_t *n);

#endif /* RS_STORE_RECORDS_H */
