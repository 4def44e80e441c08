/*
 * store_backup.h: what is done to a database file as a whole, for
 * backup.h (relaysync-admin backup, restore, check): the online copy
 * (SQLite's backup API, from one read snapshot, in steps), the checks
 * SQLite makes of a file (integrity_check, foreign_key_check), its size,
 * the census (how many rows the main tables hold: counts, never a row),
 * opening a file as it is (read only, its journal mode left alone), and
 * taking a database for this process alone (an exclusive lock that
 * fails at once while any other connection has it open).
 *
 * It owns no table and changes no row: the only writes are the copy's
 * pages and a file's journal mode. Like every store, it never sees a
 * request and its header names no sqlite3 type. The handles it returns
 * are struct rs_db, released with rs_db_close(); they have no writers'
 * queue and never take part in the pool's write transactions.
 */
#ifndef RS_STORE_BACKUP_H
#define RS_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct rs_db;

/* What a copy copied. */
struct rs_store_backup_copy {
	int64_t	 pages;
	int64_t	 page_size;	/* bytes */
	int64_t	 steps;
};

/* Row counts of the main tables, from one statement (one snapshot). */
struct rs_store_backup_census {
	int64_t	 orgs;
	int64_t	 users;
	int64_t	 keys;		/* live and revoked */
	int64_t	 records;	/* tombstones included */
	int64_t	 events;
	int64_t	 audit;		/* audit log entries */
	int64_t	 webhooks;
	int64_t	 jobs;
};

/*
 * Opens the database file at path as it is: read only (no file is made,
 * nothing in it changes, its journal mode stays), busy waits up to
 * RS_BUSY_TIMEOUT_MS. RS_OK and *out; RS_ERR_IO when it cannot be opened
 * (errmsg says why, when errmsg is not NULL).
 */
enum rs_err	rs_store_backup_open_ro(const char *path, struct rs_db **out,
		    char *errmsg, size_t errsz);
/*
 * Takes the database at path for this process alone: opens it read-write
 * in exclusive locking mode and turns its journal mode to DELETE, which
 * copies any WAL into the file, removes -wal and -shm, and holds an
 * exclusive lock on the file until rs_db_close(*out). No busy wait: a
 * database any other connection has open (a FastCGI process, its
 * checkpointer, the worker, another relaysync-admin) is RS_ERR_BUSY at
 * once, and is not changed. RS_ERR_IO when it cannot be opened.
 */
enum rs_err	rs_store_backup_seize(const char *path, struct rs_db **out,
		    char *errmsg, size_t errsz);
/*
 * Copies src into the database file dest (which must be empty or a
 * database nothing else has open) with SQLite's online backup API, from
 * one read snapshot of src held for the whole copy: a WAL reader, so
 * src's writers go on meanwhile and none of their commits shows in the
 * copy (nor restarts it). step_pages pages a step, a pause of pause_ms
 * between steps; cancelled (may be NULL) is asked between steps, and
 * when it returns nonzero the copy stops with RS_ERR_STATE. The copy is
 * left in rollback (DELETE) journal mode: one self-contained file that
 * opens anywhere, with no -wal beside it. src must have no transaction
 * open. RS_OK and *out; an error with errmsg saying why.
 */
enum rs_err	rs_store_backup_copy(struct rs_db *src, const char *dest,
		    int step_pages, int pause_ms, int (*cancelled)(void),
		    struct rs_store_backup_copy *out, char *errmsg,
		    size_t errsz);
/*
 * PRAGMA integrity_check: *problems 0 when it says ok; else how many it
 * listed (at most RS_STORE_BACKUP_PROBLEMS), the first in first. A file
 * too damaged to check (or no database at all) is one problem, SQLite's
 * message. RS_OK when the check ran.
 */
#define RS_STORE_BACKUP_PROBLEMS	100
enum rs_err	rs_store_backup_integrity(struct rs_db *db, int64_t *problems,
		    char *first, size_t firstsz);
/*
 * PRAGMA foreign_key_check: *violations, and the first ("table rowid N
 * refers to a missing parent") in first.
 */
enum rs_err	rs_store_backup_fkeys(struct rs_db *db, int64_t *violations,
		    char *first, size_t firstsz);
/* The file's size in pages, and the page size. */
enum rs_err	rs_store_backup_size(struct rs_db *db, int64_t *pages,
		    int64_t *page_size);
/* The census, for a database at the schema this program knows. */
enum rs_err	rs_store_backup_census(struct rs_db *db,
		    struct rs_store_backup_census *c);

#endif /* RS_STORE_BACKUP_H */
