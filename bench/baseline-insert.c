/*
 * baseline-insert: the ceiling for writes of this architecture.
 *
 * A FastCGI responder doing, per request, exactly one prepared SQLite
 * INSERT of the request body in autocommit, with the settings RelaySync
 * uses: WAL, synchronous=NORMAL, a busy timeout, the connection opened
 * after FCGX_Init (never before the web server forks the pool).  It
 * answers 201 and a small JSON body.  No parsing, no validation, no auth:
 * the distance from this to POST /v1/records is RelaySync's write path.
 *
 *   baseline-insert --init DB   create the database (WAL) and table, exit
 *   baseline-insert             serve; the database is $BENCH_DB
 *
 * Used by bench/run only; built there with cc -O2 -Wall -Wextra -Werror.
 */
#include <fcgiapp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX	(64 * 1024)	/* the bench posts ~100 bytes */
#define BUSY_MS		5000

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS items ("
    " id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL);";

/*
 * Open DB with the per-connection settings (both must be set on every
 * connection: Debian's SQLite defaults to synchronous=FULL and no busy
 * timeout).  Returns NULL after logging on failure.
 */
static sqlite3 *
db_open(const char *path)
{
	sqlite3	*db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline-insert: %s: %s\n", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, BUSY_MS);
	if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL;", NULL, NULL,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline-insert: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int
init(const char *path)
{
	sqlite3	*db;
	int	 rc;

	if ((db = db_open(path)) == NULL)
		return 1;
	rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "baseline-insert: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : 1;
}

/* Read the request body (up to BODY_MAX bytes) into buf; returns length. */
static int
read_body(FCGX_Stream *in, char *buf, int size)
{
	int	 n, len = 0;

	while (len < size && (n = FCGX_GetStr(buf + len, size - len, in)) > 0)
		len += n;
	return len;
}

int
main(int argc, char *argv[])
{
	static char	 body[BODY_MAX];
	FCGX_Request	 req;
	sqlite3		*db;
	sqlite3_stmt	*ins = NULL;
	const char	*path;
	char		 id[64], out[160];
	unsigned long	 seq = 0;
	int		 len, rc;

	if (argc == 3 && strcmp(argv[1], "--init") == 0)
		return init(argv[2]);
	if ((path = getenv("BENCH_DB")) == NULL) {
		fprintf(stderr, "baseline-insert: BENCH_DB is not set\n");
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "baseline-insert: FastCGI init failed\n");
		return 1;
	}
	if ((db = db_open(path)) == NULL)
		return 1;
	if (sqlite3_prepare_v3(db, "INSERT INTO items (id, body, created_at) "
	    "VALUES (?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT, &ins,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline-insert: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		len = read_body(req.in, body, sizeof(body));
		snprintf(id, sizeof(id), "itm_%ld_%lu", (long)getpid(), ++seq);
		sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, body, len, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)time(NULL));
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		if (rc == SQLITE_DONE) {
			len = snprintf(out, sizeof(out), "Status: 201 Created\r\n"
			    "Content-Type: application/json\r\n\r\n"
			    "{\"id\":\"%s\",\"version\":1}", id);
		} else {
			fprintf(stderr, "baseline-insert: %s\n",
			    sqlite3_errmsg(db));
			len = snprintf(out, sizeof(out), "Status: 503 Service "
			    "Unavailable\r\nContent-Type: application/json\r\n"
			    "\r\n{\"code\":\"busy\"}");
		}
		FCGX_PutStr(out, len, req.out);
		FCGX_Finish_r(&req);
	}
	sqlite3_finalize(ins);
	sqlite3_close(db);
	return 0;
}
