#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include <libpq-fe.h>

#include "limits.h"
#include "arena.h"
#include "log.h"
#include "clock.h"
#include "db.h"
#include "db_pg.h"
#include "textcache.h"

/* A command sent into the pipeline, its result not read yet. */
struct rs_pg_wait {
	const char	*sql;
	int		 prep;		/* the cache slot it prepares, or -1 */
};

struct rs_pg {
	PGconn		*c;
	int		 tx;		/* a transaction is open (begun and
					 * not yet ended by us) */
	int		 broken;	/* lost: reconnect before the next
					 * transaction */
	int		 writing;	/* the transaction open may write */
	char		 org[RS_PG_ORG];	/* whose lock the transaction
					 * holds, "" none */
	enum rs_err	 txerr;		/* the transaction's first failure */
	/*
	 * Savepoint commands not sent yet: a batch opens and releases two
	 * savepoints an item, and each would be a round trip of its own.
	 * They go ahead of the next statement.
	 */
	const char	*pend[RS_PG_PEND];
	size_t		 npend;
	/*
	 * The pipeline (libpq's pipeline mode): commands sent whose results
	 * are read with the next statement that needs an answer, so a
	 * transaction's writes cost one round trip, not one each.
	 */
	struct rs_pg_wait wait[RS_PG_WAIT];
	size_t		 nwait;
	size_t		 nstmt;	/* cache slots used on this connection */
	const char	*stmts[RS_DB_MAX_STMTS];	/* NULL: free */
	struct rs_textcache *texts;	/* NULL: none kept */
	int64_t		 used_ms;	/* last found alive (monotonic) */
};

/* Statements of this module, prepared like any store's. */
static const char rs_pg_sql_begin[] = "BEGIN";
/* A read's statements share one snapshot (READ COMMITTED takes one a
 * statement); read only, it never fails to serialize. */
static const char rs_pg_sql_begin_read[] =
	"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
static const char rs_pg_sql_lock[] =
	"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
static const char rs_pg_sql_commit[] = "COMMIT";
static const char rs_pg_sql_undo[] = "ROLLBACK TO rs_nest";
static const char rs_pg_sql_save[] = "SAVEPOINT rs_nest";
static const char rs_pg_sql_release[] = "RELEASE rs_nest";

void
rs_pg_args(struct rs_pg_args *a)
{
	a->n = 0;
	a->numbers = 0;
}

void
rs_pg_numbers(struct rs_pg_args *a)
{
	a->numbers = 1;
}

/* The next place of a, or -1 (logged: a bug, RS_PG_MAXARGS too low). */
static int
rs_pg_arg(struct rs_pg_args *a)
{
	if (a->n >= RS_PG_MAXARGS) {
		rs_log_err("more than %d statement parameters", RS_PG_MAXARGS);
		return -1;
	}
	a->fmt[a->n] = 0;
	a->len[a->n] = 0;
	return a->n++;
}

void
rs_pg_text(struct rs_pg_args *a, const char *s)
{
	int	 i;

	if ((i = rs_pg_arg(a)) != -1)
		a->v[i] = s;
}

void
rs_pg_textn(struct rs_pg_args *a, const char *s, size_t len)
{
	char	*copy;
	int	 i;

	/* Text parameters are NUL-terminated for libpq; a short one
	 * goes through num, a long one is cut at len by a binary
	 * parameter of the same bytes (text's binary form is its bytes). */
	if ((i = rs_pg_arg(a)) == -1)
		return;
	if (s == NULL) {
		a->v[i] = NULL;
		return;
	}
	if (len < sizeof(a->num[i])) {
		copy = a->num[i];
		memcpy(copy, s, len);
		copy[len] = '\0';
		a->v[i] = copy;
		return;
	}
	a->v[i] = s;
	a->len[i] = (int)len;
	a->fmt[i] = 1;
}

void
rs_pg_int(struct rs_pg_args *a, int64_t v)
{
	int	 i;

	if ((i = rs_pg_arg(a)) == -1)
		return;
	snprintf(a->num[i], sizeof(a->num[i]), "%" PRId64, v);
	a->v[i] = a->num[i];
}

void
rs_pg_null(struct rs_pg_args *a)
{
	rs_pg_text(a, NULL);
}

void
rs_pg_bytes(struct rs_pg_args *a, const void *p, size_t n)
{
	int	 i;

	if ((i = rs_pg_arg(a)) == -1)
		return;
	a->v[i] = p;
	a->len[i] = (int)n;
	a->fmt[i] = 1;
}

/*
 * The session every connection starts with (after a reconnect too).
 * enable_seqscan off: a connection keeps each statement's plan, and one
 * made while a table was small walks the whole table (cheaper then) for
 * as long as the connection lives, however the table grows (measured: a
 * create's Idempotency-Key look-up at 1.3 ms, the create rate a quarter
 * of its own, until autovacuum analyzed the table). Every statement here
 * is written for an index, as SQLite runs them; one with no index to
 * use still walks the table. jit off: such a walk is then costed past
 * jit_above_cost, and compiling it took 50-100 ms (a one-row table's
 * schema check); no statement here is long enough to gain from it.
 */
static int
rs_pg_session(struct rs_pg *pg)
{
	PGresult	*r;
	int		 ok;

	r = PQexec(pg->c, "SET TIME ZONE 'UTC'; "
	    "SET client_encoding = 'UTF8'; "
	    "SET default_transaction_isolation = 'read committed'; "
	    "SET lock_timeout = " RS_STR(RS_BUSY_TIMEOUT_MS) "; "
	    "SET client_min_messages = 'warning'; "
	    "SET enable_seqscan = off; SET jit = off");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		rs_log_err("postgresql: %s", PQerrorMessage(pg->c));
	PQclear(r);
	return ok ? 0 : -1;
}

enum rs_err
rs_pg_open(const char *conninfo, struct rs_pg **out)
{
	struct rs_pg	*pg;
	const char	*keys[3], *vals[3];

	*out = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return RS_ERR_NOMEM;
	/*
	 * libpq waits for a connection as long as the kernel does (minutes
	 * for a host that is gone) unless told: a request during a failover
	 * must be answered 503 in seconds. A conninfo that names its own
	 * connect_timeout wins (it is expanded after this default).
	 */
	keys[0] = "connect_timeout";
	vals[0] = RS_STR(RS_PG_CONNECT_TIMEOUT);
	keys[1] = "dbname";
	vals[1] = conninfo;
	keys[2] = vals[2] = NULL;
	if ((pg->c = PQconnectdbParams(keys, vals, 1)) == NULL) {
		free(pg);
		return RS_ERR_NOMEM;
	}
	if (PQstatus(pg->c) != CONNECTION_OK) {
		/* The message names the host, never the password. */
		rs_log_err("postgresql: %s", PQerrorMessage(pg->c));
		rs_pg_close(pg);
		return RS_ERR_BUSY;
	}
	if (rs_pg_session(pg) != 0) {
		rs_pg_close(pg);
		return RS_ERR_DB;
	}
	/* Without memory for it, nothing is kept: pages carry every text. */
	pg->texts = rs_textcache_new();
	*out = pg;
	return RS_OK;
}

void
rs_pg_close(struct rs_pg *pg)
{
	if (pg == NULL)
		return;
	PQfinish(pg->c);
	rs_textcache_free(pg->texts);
	free(pg);
}

/*
 * Whether a connection idle for RS_PG_IDLE_MS or more still has its
 * server. A server that went while the process waited for requests (a
 * failover, a restart, its process ended) said so and closed the
 * socket; an idle connection is otherwise never written to, so anything
 * to read on it, or a hang-up, means a new connection is needed. A busy
 * connection is not asked: if its server went meanwhile, its next
 * statement is answered 503, as one in flight is.
 */
static int
rs_pg_still(struct rs_pg *pg, int64_t now)
{
	struct pollfd	 p;

	if (now - pg->used_ms < RS_PG_IDLE_MS && now >= pg->used_ms)
		return 1;
	p.fd = PQsocket(pg->c);
	p.events = POLLIN;
	p.revents = 0;
	if (p.fd < 0 || poll(&p, 1, 0) != 0)
		return 0;
	return 1;
}

/*
 * Outside a transaction, a connection found lost is made again (a
 * failover, a restart of the server): its prepared statements went with
 * it. 0, or -1 when the server still cannot be reached.
 */
static int
rs_pg_alive(struct rs_pg *pg)
{
	int64_t	 now = rs_clock_mono_ms();

	if (!pg->broken && PQstatus(pg->c) == CONNECTION_OK &&
	    rs_pg_still(pg, now)) {
		pg->used_ms = now;
		return 0;
	}
	PQreset(pg->c);
	/* The server reached now may be older than the one the texts
	 * came from: a standby that had not replayed the last commits, a
	 * restore. Its change numbers may name other texts. */
	rs_textcache_clear(pg->texts);
	pg->nstmt = 0;
	pg->nwait = 0;
	pg->npend = 0;
	if (PQstatus(pg->c) != CONNECTION_OK) {
		rs_log_err("postgresql: reconnect: %s",
		    PQerrorMessage(pg->c));
		return -1;
	}
	if (rs_pg_session(pg) != 0)
		return -1;
	pg->broken = 0;
	pg->used_ms = now;
	rs_log_warn("postgresql: reconnected");
	return 0;
}

/* rs_pg_err() but for the note. */
static enum rs_err
rs_pg_err1(struct rs_pg *pg, const PGresult *r, const char *sql)
{
	const char	*state;

	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(pg->c) != CONNECTION_OK || state == NULL ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		pg->broken = 1;
		rs_log_err("postgresql: connection lost: %s",
		    PQerrorMessage(pg->c));
		return RS_ERR_BUSY;
	}
	if (strncmp(state, "23", 2) == 0)
		return RS_ERR_EXISTS;	/* as SQLite's constraint result */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return RS_ERR_RETRY;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0) {
		rs_log_warn("postgresql: %.60s: waited too long", sql);
		return RS_ERR_BUSY;
	}
	rs_log_err("postgresql: %.80s: %s", sql, PQresultErrorMessage(r));
	return RS_ERR_DB;
}

/* Notes rc as the transaction's failure unless one came before. */
static enum rs_err
rs_pg_failed(struct rs_pg *pg, enum rs_err rc)
{
	if (pg->tx && pg->txerr == RS_OK)
		pg->txerr = rc;
	return rc;
}

/* The error a failed result stands for, logged unless it is expected. */
static enum rs_err
rs_pg_err(struct rs_pg *pg, const PGresult *r, const char *sql)
{
	return rs_pg_failed(pg, rs_pg_err1(pg, r, sql));
}

/*
 * The slot of sql in the statement cache (its prepared name is "rs" and
 * the slot); *fresh set when sql is new to the connection and the caller
 * must prepare it. A slot whose preparing failed is free again. -1 when
 * the cache is full (logged: raise RS_DB_MAX_STMTS).
 */
static int
rs_pg_slot(struct rs_pg *pg, const char *sql, int *fresh)
{
	size_t	 i, hole = pg->nstmt;

	*fresh = 0;
	for (i = 0; i < pg->nstmt; i++) {
		if (pg->stmts[i] == sql)
			return (int)i;
		if (pg->stmts[i] == NULL && hole == pg->nstmt)
			hole = i;
	}
	if (hole == pg->nstmt) {
		if (pg->nstmt == RS_DB_MAX_STMTS) {
			rs_log_err("statement cache full (%d): %.80s",
			    RS_DB_MAX_STMTS, sql);
			return -1;
		}
		pg->nstmt++;
	}
	pg->stmts[hole] = sql;
	*fresh = 1;
	return (int)hole;
}

/* The prepared name of sql on this connection, preparing it now. */
static int
rs_pg_prepared(struct rs_pg *pg, const char *sql, char *name, size_t namesz)
{
	PGresult	*r;
	int		 i, fresh, ok;

	if ((i = rs_pg_slot(pg, sql, &fresh)) == -1)
		return -1;
	snprintf(name, namesz, "rs%d", i);
	if (!fresh)
		return 0;
	r = PQprepare(pg->c, name, sql, 0, NULL);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		(void)rs_pg_err(pg, r, sql);
		pg->stmts[i] = NULL;
	}
	PQclear(r);
	return ok ? 0 : -1;
}

/* A send that libpq refused: the connection is gone (or memory is). */
static enum rs_err
rs_pg_unsent(struct rs_pg *pg)
{
	pg->broken = 1;
	rs_log_err("postgresql: connection lost: %s", PQerrorMessage(pg->c));
	return rs_pg_failed(pg, RS_ERR_BUSY);
}

/*
 * Sends sql in the pipeline (preparing it first, in the same pipeline,
 * when it is new to the connection); its result waits for rs_pg_sync().
 */
static enum rs_err
rs_pg_send(struct rs_pg *pg, const char *sql, const struct rs_pg_args *a)
{
	char	 name[24];
	int	 i, fresh;

	if ((i = rs_pg_slot(pg, sql, &fresh)) == -1)
		return RS_ERR_DB;
	snprintf(name, sizeof(name), "rs%d", i);
	if (fresh) {
		if (!PQsendPrepare(pg->c, name, sql, 0, NULL)) {
			pg->stmts[i] = NULL;
			return rs_pg_unsent(pg);
		}
		pg->wait[pg->nwait].sql = sql;
		pg->wait[pg->nwait++].prep = i;
	}
	if (!PQsendQueryPrepared(pg->c, name, a != NULL ? a->n : 0,
	    a != NULL ? a->v : NULL, a != NULL ? a->len : NULL,
	    a != NULL ? a->fmt : NULL, a != NULL ? a->numbers : 0))
		return rs_pg_unsent(pg);
	pg->wait[pg->nwait].sql = sql;
	pg->wait[pg->nwait++].prep = -1;
	return RS_OK;
}

/*
 * Reads one command's result in the pipeline, and the end of it that
 * follows. NULL when the connection went (pg->broken set).
 */
static PGresult *
rs_pg_next(struct rs_pg *pg)
{
	PGresult	*r, *end;

	if ((r = PQgetResult(pg->c)) == NULL) {
		(void)rs_pg_unsent(pg);
		return NULL;
	}
	if ((end = PQgetResult(pg->c)) != NULL) {
		/* One result a command, then NULL: anything else is a
		 * connection libpq gave up on. */
		PQclear(end);
		PQclear(r);
		(void)rs_pg_unsent(pg);
		return NULL;
	}
	return r;
}

/*
 * Ends the pipeline: asks for the results of every command sent into it
 * and reads them in order. The first failure is the answer (those after
 * it did not run). With mine, the last command is the caller's own and
 * *mine its result when it succeeded; a command sent ahead (rs_pg_later)
 * whose failure shows here was answered RS_OK to its caller, so a clash
 * it made is RS_ERR_DB here, never RS_ERR_EXISTS of the caller's own.
 */
static enum rs_err
rs_pg_sync(struct rs_pg *pg, PGresult **mine)
{
	PGresult	*r;
	ExecStatusType	 st;
	enum rs_err	 rc = RS_OK, e;
	size_t		 i, n = pg->nwait;
	int		 own;

	if (mine != NULL)
		*mine = NULL;
	pg->nwait = 0;
	if (!PQpipelineSync(pg->c))
		return rs_pg_unsent(pg);
	for (i = 0; i < n; i++) {
		if ((r = rs_pg_next(pg)) == NULL)
			return RS_ERR_BUSY;
		own = mine != NULL && i == n - 1;
		st = PQresultStatus(r);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (own && rc == RS_OK)
				*mine = r;
			else
				PQclear(r);
			continue;
		}
		if (pg->wait[i].prep != -1)	/* to be prepared again */
			pg->stmts[pg->wait[i].prep] = NULL;
		if (st != PGRES_PIPELINE_ABORTED && rc == RS_OK) {
			e = rs_pg_err(pg, r, pg->wait[i].sql);
			rc = own || e != RS_ERR_EXISTS ? e : RS_ERR_DB;
			if (!own && e == RS_ERR_EXISTS)
				rs_log_err("postgresql: %.80s: %s",
				    pg->wait[i].sql, PQresultErrorMessage(r));
		}
		PQclear(r);
	}
	if ((r = PQgetResult(pg->c)) == NULL ||
	    PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		PQclear(r);
		if (mine != NULL && *mine != NULL) {
			PQclear(*mine);
			*mine = NULL;
		}
		return rs_pg_unsent(pg);
	}
	PQclear(r);
	if (!PQexitPipelineMode(pg->c)) {
		if (mine != NULL && *mine != NULL) {
			PQclear(*mine);
			*mine = NULL;
		}
		return rs_pg_unsent(pg);
	}
	return rc;
}

/*
 * Opens the pipeline (when it is not) with room for n more commands and
 * sends the savepoint commands held back into it.
 */
static enum rs_err
rs_pg_pipe(struct rs_pg *pg, size_t n)
{
	enum rs_err	 rc;
	size_t		 i;

	/* Each command may bring its preparing: two places. */
	if (pg->nwait + 2 * (pg->npend + n) > RS_PG_WAIT &&
	    pg->nwait > 0 && (rc = rs_pg_sync(pg, NULL)) != RS_OK)
		return rc;
	if (PQpipelineStatus(pg->c) == PQ_PIPELINE_OFF &&
	    !PQenterPipelineMode(pg->c))
		return rs_pg_unsent(pg);
	for (i = 0; i < pg->npend; i++)
		if ((rc = rs_pg_send(pg, pg->pend[i], NULL)) != RS_OK)
			return rc;
	pg->npend = 0;
	return RS_OK;
}

/* Whether a statement must go through the pipeline: others wait in it. */
static int
rs_pg_piped(const struct rs_pg *pg)
{
	return pg->nwait > 0 || pg->npend > 0;
}

/*
 * Ends the pipeline before a command that cannot run in it (several
 * statements in one text, an unprepared one): the first failure of what
 * was in it, or RS_OK.
 */
enum rs_err
rs_pg_settle(struct rs_pg *pg)
{
	enum rs_err	 rc;

	if (!rs_pg_piped(pg))
		return RS_OK;
	if ((rc = rs_pg_pipe(pg, 0)) != RS_OK)
		return rc;
	return rs_pg_sync(pg, NULL);
}

/*
 * Holds a savepoint command back until the next statement, which takes
 * it along. A RELEASE right after the SAVEPOINT it ends cancels both:
 * nothing ran between them.
 */
static enum rs_err
rs_pg_defer(struct rs_pg *pg, const char *cmd)
{
	enum rs_err	 rc;

	if (pg->broken)
		return RS_ERR_BUSY;
	if (cmd == rs_pg_sql_release && pg->npend > 0 &&
	    pg->pend[pg->npend - 1] == rs_pg_sql_save) {
		pg->npend--;
		return RS_OK;
	}
	if (pg->npend == RS_PG_PEND && (rc = rs_pg_settle(pg)) != RS_OK)
		return rc;
	pg->pend[pg->npend++] = cmd;
	return RS_OK;
}

/* Runs sql through the pipeline, behind what waits in it. */
static enum rs_err
rs_pg_query_piped(struct rs_pg *pg, const char *sql,
    const struct rs_pg_args *a, PGresult **res)
{
	enum rs_err	 rc;

	if ((rc = rs_pg_pipe(pg, 1)) != RS_OK ||
	    (rc = rs_pg_send(pg, sql, a)) != RS_OK)
		return rc;
	return rs_pg_sync(pg, res);
}

static enum rs_err
rs_pg_query_on(struct rs_pg *pg, const char *sql, const struct rs_pg_args *a,
    PGresult **res)
{
	PGresult	*r;
	char		 name[24];
	ExecStatusType	 st;
	enum rs_err	 rc;

	*res = NULL;
	/* Inside a transaction the connection lost, nothing may run: the
	 * caller rolls back, and its next transaction reconnects. */
	if (pg->tx ? pg->broken : rs_pg_alive(pg) != 0)
		return RS_ERR_BUSY;
	if (rs_pg_piped(pg))
		return rs_pg_query_piped(pg, sql, a, res);
	if (rs_pg_prepared(pg, sql, name, sizeof(name)) != 0)
		return pg->broken ? RS_ERR_BUSY : RS_ERR_DB;
	r = PQexecPrepared(pg->c, name, a != NULL ? a->n : 0,
	    a != NULL ? a->v : NULL, a != NULL ? a->len : NULL,
	    a != NULL ? a->fmt : NULL, a != NULL ? a->numbers : 0);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = rs_pg_err(pg, r, sql);
		PQclear(r);
		return rc;
	}
	*res = r;
	return RS_OK;
}

/* rs_pg_later() on the connection. */
static enum rs_err
rs_pg_later_on(struct rs_pg *pg, const char *sql, const struct rs_pg_args *a)
{
	enum rs_err	 rc;

	if (pg->broken)
		return RS_ERR_BUSY;
	if ((rc = rs_pg_pipe(pg, 1)) != RS_OK)
		return rc;
	return rs_pg_send(pg, sql, a);
}

enum rs_err
rs_pg_later(struct rs_db *db, const char *sql, const struct rs_pg_args *a)
{
	/* Outside a transaction a statement commits on its own: its
	 * caller must know how that went. */
	if (!db->pg->tx)
		return rs_pg_run(db, sql, a, NULL);
	return rs_pg_later_on(db->pg, sql, a);
}

enum rs_err
rs_pg_once(struct rs_db *db, const char *sql, const struct rs_pg_args *a,
    PGresult **res)
{
	struct rs_pg	*pg = db->pg;
	PGresult	*r;
	ExecStatusType	 st;
	enum rs_err	 rc;

	*res = NULL;
	if (pg->tx ? pg->broken : rs_pg_alive(pg) != 0)
		return RS_ERR_BUSY;
	if ((rc = rs_pg_settle(pg)) != RS_OK)
		return rc;
	r = PQexecParams(pg->c, sql, a != NULL ? a->n : 0, NULL,
	    a != NULL ? a->v : NULL, a != NULL ? a->len : NULL,
	    a != NULL ? a->fmt : NULL, a != NULL ? a->numbers : 0);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = rs_pg_err(pg, r, sql);
		PQclear(r);
		return rc;
	}
	*res = r;
	return RS_OK;
}

enum rs_err
rs_pg_query(struct rs_db *db, const char *sql, const struct rs_pg_args *a,
    PGresult **res)
{
	return rs_pg_query_on(db->pg, sql, a, res);
}

enum rs_err
rs_pg_run(struct rs_db *db, const char *sql, const struct rs_pg_args *a,
    int64_t *changed)
{
	PGresult	*r;
	enum rs_err	 rc;
	const char	*n;

	if (changed != NULL)
		*changed = 0;
	if ((rc = rs_pg_query(db, sql, a, &r)) != RS_OK)
		return rc;
	n = PQcmdTuples(r);
	if (changed != NULL && n != NULL && *n != '\0')
		*changed = strtoll(n, NULL, 10);
	PQclear(r);
	return RS_OK;
}

enum rs_err
rs_pg_exec(struct rs_db *db, const char *sql)
{
	struct rs_pg	*pg = db->pg;
	PGresult	*r;
	enum rs_err	 rc = RS_OK;
	ExecStatusType	 st;

	if (pg->tx ? pg->broken : rs_pg_alive(pg) != 0)
		return RS_ERR_BUSY;
	if ((rc = rs_pg_settle(pg)) != RS_OK)
		return rc;
	r = PQexec(pg->c, sql);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		rc = rs_pg_err(pg, r, sql);
	PQclear(r);
	return rc;
}

void
rs_pg_clear(PGresult *res)
{
	PQclear(res);
}

int
rs_pg_rows(const PGresult *res)
{
	return PQntuples(res);
}

int
rs_pg_isnull(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col);
}

const char *
rs_pg_str(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

size_t
rs_pg_len(const PGresult *res, int row, int col)
{
	return (size_t)PQgetlength(res, row, col);
}

/*
 * An integer as the server sends one in binary: big-endian, two's
 * complement, 1 (a boolean), 2, 4 or 8 bytes.
 */
static int64_t
rs_pg_binary(const unsigned char *p, int len)
{
	uint64_t	 v = 0;
	int		 i;

	if (len < 1 || len > 8)
		return 0;
	for (i = 0; i < len; i++)
		v = v << 8 | p[i];
	if (len < 8 && (p[0] & 0x80))
		v |= ~UINT64_C(0) << (8 * len);
	return (int64_t)v;
}

/*
 * An integer as the server prints one (int8out: "-?[0-9]+"), up to the
 * first other character. strtoll() would do, at several times the cost
 * with a page's hundreds of numbers: its locale and bases are of no use.
 */
static int64_t
rs_pg_decimal(const char *s)
{
	uint64_t	 v = 0;
	int		 neg = (*s == '-');

	for (s += neg; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	return neg ? (int64_t)(0 - v) : (int64_t)v;
}

int64_t
rs_pg_int64(const PGresult *res, int row, int col)
{
	const char	*s;

	if ((s = rs_pg_str(res, row, col)) == NULL)
		return 0;
	if (PQfformat(res, col) == 1)
		return rs_pg_binary((const unsigned char *)s,
		    PQgetlength(res, row, col));
	if (s[0] == 't' && s[1] == '\0')
		return 1;
	if (s[0] == 'f' && s[1] == '\0')
		return 0;
	return rs_pg_decimal(s);
}

enum rs_err
rs_pg_copy(const PGresult *res, int row, int col, char *dst, size_t dstsz)
{
	const char	*s = rs_pg_str(res, row, col);
	size_t		 len = rs_pg_len(res, row, col);

	dst[0] = '\0';
	if (s == NULL || len >= dstsz)
		return RS_ERR_RANGE;
	memcpy(dst, s, len + 1);
	return RS_OK;
}

const char *
rs_pg_dup(const PGresult *res, int row, int col, struct rs_arena *a)
{
	const char	*s = rs_pg_str(res, row, col);

	return s == NULL ? NULL :
	    rs_arena_strndup(a, s, rs_pg_len(res, row, col));
}

static int
rs_pg_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum rs_err
rs_pg_bytea(const PGresult *res, int row, int col, unsigned char *dst,
    size_t dstsz, size_t *n)
{
	const char	*s = rs_pg_str(res, row, col);
	size_t		 len, i;
	int		 hi, lo;

	*n = 0;
	/* Text results give bytea as "\x" and two hex digits a byte. */
	if (s == NULL || s[0] != '\\' || s[1] != 'x')
		return RS_ERR_RANGE;
	len = rs_pg_len(res, row, col) - 2;
	if (len % 2 != 0 || len / 2 > dstsz)
		return RS_ERR_RANGE;
	for (i = 0; i < len / 2; i++) {
		if ((hi = rs_pg_hex(s[2 + 2 * i])) < 0 ||
		    (lo = rs_pg_hex(s[3 + 2 * i])) < 0)
			return RS_ERR_RANGE;
		dst[i] = (unsigned char)(hi << 4 | lo);
	}
	*n = len / 2;
	return RS_OK;
}

/* Runs one of this module's statements, with one text parameter p1. */
static enum rs_err
rs_pg_step(struct rs_pg *pg, const char *sql, const char *p1)
{
	struct rs_pg_args	 a;
	PGresult		*r;
	enum rs_err		 rc;

	rs_pg_args(&a);
	if (p1 != NULL)
		rs_pg_text(&a, p1);
	if ((rc = rs_pg_query_on(pg, sql, &a, &r)) == RS_OK)
		PQclear(r);
	return rc;
}

enum rs_err
rs_pg_begin(struct rs_pg *pg, const char *org, int read)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;

	if (pg->tx)
		return RS_ERR_STATE;
	if (rs_pg_alive(pg) != 0)
		return RS_ERR_BUSY;
	pg->npend = 0;
	pg->tx = 1;
	pg->writing = !read;
	pg->txerr = RS_OK;
	/*
	 * BEGIN and the lock go ahead of the transaction's first statement
	 * that needs an answer: a failure shows there. Writers of one org
	 * take turns (db_pg.h); the lock goes with the transaction,
	 * whatever ends it.
	 */
	rs_pg_args(&a);
	if (org != NULL)
		rs_pg_text(&a, org);
	if ((rc = rs_pg_later_on(pg, read ? rs_pg_sql_begin_read :
	    rs_pg_sql_begin, NULL)) != RS_OK ||
	    (org != NULL &&
	    (rc = rs_pg_later_on(pg, rs_pg_sql_lock, &a)) != RS_OK)) {
		rs_pg_rollback(pg);
		return rc;
	}
	if (org != NULL && strlen(org) < sizeof(pg->org))
		memcpy(pg->org, org, strlen(org) + 1);
	return RS_OK;
}

enum rs_err
rs_pg_commit(struct rs_pg *pg)
{
	PGresult	*r;
	enum rs_err	 rc;

	/* COMMIT of a transaction that failed answers ROLLBACK, no error:
	 * it must not pass for a commit. */
	if (pg->broken || (!rs_pg_piped(pg) &&
	    PQtransactionStatus(pg->c) == PQTRANS_INERROR)) {
		rs_pg_rollback(pg);
		return pg->broken ? RS_ERR_BUSY : RS_ERR_DB;
	}
	rc = rs_pg_query_on(pg, rs_pg_sql_commit, NULL, &r);
	if (rc != RS_OK) {
		/* A failure in the pipeline ahead of it: the COMMIT did not
		 * run, and the transaction is still open. */
		rs_pg_rollback(pg);
		return rc;
	}
	pg->tx = 0;	/* ended, one way or the other */
	pg->org[0] = '\0';
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = RS_ERR_DB;
	PQclear(r);
	return rc;
}

void
rs_pg_rollback(struct rs_pg *pg)
{
	PGresult	*r;

	pg->tx = 0;
	pg->org[0] = '\0';
	pg->npend = 0;	/* undone with the rest */
	/* What waits in the pipeline is undone too, whatever it says. */
	if (pg->nwait > 0 && !pg->broken)
		(void)rs_pg_sync(pg, NULL);
	pg->nwait = 0;
	if (pg->broken || PQtransactionStatus(pg->c) == PQTRANS_IDLE ||
	    PQstatus(pg->c) != CONNECTION_OK)
		return;
	r = PQexec(pg->c, "ROLLBACK");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		(void)rs_pg_err(pg, r, "ROLLBACK");
	PQclear(r);
}

enum rs_err
rs_pg_savepoint(struct rs_pg *pg)
{
	return rs_pg_defer(pg, rs_pg_sql_save);
}

enum rs_err
rs_pg_release(struct rs_pg *pg)
{
	enum rs_err	 rc;

	if ((rc = rs_pg_defer(pg, rs_pg_sql_release)) != RS_OK)
		return rc;
	/*
	 * A nest whose statements were sent ahead learns how they went
	 * before it counts as done: a failure showing in the next one
	 * would undo this one's work after it was answered.
	 */
	return pg->nwait > 0 ? rs_pg_settle(pg) : RS_OK;
}

enum rs_err
rs_pg_undo(struct rs_pg *pg)
{
	enum rs_err	 rc;

	/* What is held back goes first: the savepoint to return to. Undone,
	 * the nest's failure is no longer the transaction's. */
	if ((rc = rs_pg_step(pg, rs_pg_sql_undo, NULL)) == RS_OK)
		pg->txerr = RS_OK;
	return rc;
}

enum rs_err
rs_pg_tx_err(const struct rs_pg *pg)
{
	return pg->txerr;
}

int
rs_pg_org_locked(struct rs_db *db, const char *org)
{
	return db->pg->tx && db->pg->org[0] != '\0' &&
	    strcmp(db->pg->org, org) == 0;
}

int
rs_pg_in_tx(const struct rs_pg *pg)
{
	return pg->tx;
}

struct rs_textcache *
rs_pg_texts(struct rs_db *db, int *keep)
{
	struct rs_pg	*pg = db->pg;

	*keep = !(pg->tx && pg->writing);
	return pg->texts;
}

void
rs_pg_order_free(struct rs_pg_order *o)
{
	if (o->i != o->ibuf)
		free(o->i);
	if (o->key != o->kbuf)
		free(o->key);
	o->i = o->ibuf;
	o->key = o->kbuf;
}

enum rs_err
rs_pg_order(const PGresult *res, int col, int skip, struct rs_pg_order *o)
{
	int	 rows = PQntuples(res), r, p;
	int64_t	 k;

	o->n = 0;
	o->i = o->ibuf;
	o->key = o->kbuf;
	if (rows > RS_PG_ORDER_ROWS) {
		o->i = malloc(sizeof(*o->i) * (size_t)rows);
		o->key = malloc(sizeof(*o->key) * (size_t)rows);
		if (o->i == NULL || o->key == NULL) {
			free(o->i);
			free(o->key);
			o->i = o->ibuf;
			o->key = o->kbuf;
			return RS_ERR_NOMEM;
		}
	}
	for (r = 0; r < rows; r++) {
		if (PQgetisnull(res, r, skip))
			continue;
		k = rs_pg_int64(res, r, col);
		for (p = o->n; p > 0 && o->key[p - 1] > k; p--) {
			o->key[p] = o->key[p - 1];
			o->i[p] = o->i[p - 1];
		}
		o->key[p] = k;
		o->i[p] = r;
		o->n++;
	}
	return RS_OK;
}
