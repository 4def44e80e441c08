#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "limits.h"
#include "arena.h"
#include "db.h"
#include "db_pg.h"
#include "textcache.h"
#include "store_records_pg.h"

/* The columns of COLS (a full PAGE's change number follows). */
#define NCOLS	20

enum {
	STMT_GET,
	STMT_GET_TEXT,
	STMT_CHANGE_SEQ,
	STMT_INSERT,
	STMT_UPDATE,
	STMT_LIST_PAGE,
	STMT_LIST_PAGE_FULL,
	STMT_LIST_PAGE_NUM,
	STMT_LIVE_PAGE,
	STMT_LIVE_PAGE_FULL,
	STMT_LIVE_PAGE_NUM,
	STMT_CHANGES_PAGE,
	STMT_CHANGES_PAGE_FULL,
	STMT_CHANGES_PAGE_NUM,
	STMT_PURGE,
	STMT__MAX
};

#define LIST_WHERE \
	"AND ($3::text IS NULL OR status = $3::text) " \
	"AND ($4::text IS NULL OR type = $4::text) " \
	"AND ($5::text IS NULL OR site = $5::text) " \
	"AND ($6::text IS NULL OR created_by = $6::text) " \
	"AND ($7::bigint IS NULL OR updated_at > $7::bigint) " \
	"AND ($8::int <> 0 OR deleted_at IS NULL) ORDER BY seq LIMIT $9"
#define LIVE_WHERE \
	"AND deleted_at IS NULL ORDER BY seq LIMIT $3"
#define CHANGES_FROM \
	"FROM records WHERE org_id = $1 AND change_seq > $2 " \
	"ORDER BY change_seq LIMIT $3"

/*
 * A list walks the org's key range, in order (pg/0001: seq is num << 40
 * | n), a range scan of the primary key. SQLite's two-argument max() is
 * greatest() here. Its "+org_id" hint is "(org_id = $1) IS TRUE", a
 * test no index serves: without it, a planner whose statistics lag (a
 * table just filled) ANDs records_org_change into a bitmap of the whole
 * org and sorts it for every page (measured: 0.5 ms a page of 200 rows,
 * against 0.1 ms). NULL parameters mean "any"; each is cast, as a
 * prepared statement has no types. The list a sync client reads, every
 * live record with no filter, has statements of its own (LIVE): a
 * filter's test costs each row, and its setup each page, even when its
 * parameter says "any".
 *
 * A page (PAGE) is one statement, so one snapshot and one round trip
 * with no transaction: up to $9 rows, each with the org's change number
 * last (rs_store_records_list_each()'s *now), and for a page of none one
 * row of NULLs but that number; an unknown org gives no row at all. A
 * page reads each row's own text (TEXT: seq, change_seq, json), since
 * every column sent is a cost to the server; only a page holding a row
 * older than its text (sql/0013) is read again with every column (FULL:
 * COLS), to print that row from them. The lists of whole records read
 * FULL pages too.
 *
 * Before either, a page whose texts this connection may already keep
 * (textcache.h, db_pg.h) is asked for its numbers only, in binary
 * (NUM: seq, change_seq, updated_at, the text's length): when every
 * row's text is kept under those, the page is printed from them, one
 * snapshot still, and the texts never cross the socket again. A row not
 * kept makes it a TEXT page, whose texts are then kept.
 */
#define TEXT_COLS	"seq, change_seq, json, updated_at"
#define NUM_COLS	"seq, change_seq, updated_at, octet_length(json)"
#define LIST_PAGE(cols, where) \
	"SELECT r.*, o.change_seq FROM orgs o LEFT JOIN LATERAL " \
	"(SELECT " cols " FROM records " \
	"WHERE seq > greatest($2::bigint, o.num << " \
	RS_STR(RS_ORG_ROW_BITS) ") " \
	"AND seq < (o.num + 1) << " RS_STR(RS_ORG_ROW_BITS) " " \
	"AND (org_id = $1) IS TRUE " where ") r ON true " \
	"WHERE o.id = $1"
#define CHANGES_PAGE(cols) \
	"SELECT r.*, o.change_seq FROM orgs o LEFT JOIN LATERAL " \
	"(SELECT " cols " " CHANGES_FROM ") r ON true " \
	"WHERE o.id = $1"

static const char *const sql[STMT__MAX] = {
	/* STMT_GET */
	"SELECT " COLS " FROM records WHERE org_id = $1 AND id = $2",
	/* STMT_GET_TEXT */
	"SELECT json, causal FROM records WHERE org_id = $1 AND id = $2 "
	"AND deleted_at IS NULL",
	/* STMT_CHANGE_SEQ */
	"SELECT change_seq FROM orgs WHERE id = $1",
	/* STMT_INSERT */
	"INSERT INTO records (id, org_id, title, type, site, status, data, "
	"size, causal, version, deleted_at, created_at, updated_at, "
	"created_by, queue, change_seq, seq, updated_by, changed, json) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
	"$15, $16, $17, $18, $19, $20)",
	/* STMT_UPDATE: numbered apart from the insert's, since a prepared
	 * statement must use every parameter it is given (created_at,
	 * created_by and seq are not written). */
	"UPDATE records SET title = $3, type = $4, site = $5, status = $6, "
	"data = $7, size = $8, causal = $9, version = $10, deleted_at = $11, "
	"updated_at = $12, queue = $13, change_seq = $14, updated_by = $15, "
	"changed = $16, json = $17 WHERE id = $1 AND org_id = $2",
	/* STMT_LIST_PAGE (PAGE) */
	LIST_PAGE(TEXT_COLS, LIST_WHERE),
	/* STMT_LIST_PAGE_FULL */
	LIST_PAGE(COLS, LIST_WHERE),
	/* STMT_LIST_PAGE_NUM */
	LIST_PAGE(NUM_COLS, LIST_WHERE),
	/* STMT_LIVE_PAGE */
	LIST_PAGE(TEXT_COLS, LIVE_WHERE),
	/* STMT_LIVE_PAGE_FULL */
	LIST_PAGE(COLS, LIVE_WHERE),
	/* STMT_LIVE_PAGE_NUM */
	LIST_PAGE(NUM_COLS, LIVE_WHERE),
	/* STMT_CHANGES_PAGE */
	CHANGES_PAGE(TEXT_COLS),
	/* STMT_CHANGES_PAGE_FULL */
	CHANGES_PAGE(COLS),
	/* STMT_CHANGES_PAGE_NUM */
	CHANGES_PAGE(NUM_COLS),
	/* STMT_PURGE: walks records_deleted; pg/0001's trigger removes each
	 * record's history and conflicts with it. The worker purges while
	 * others run: a row another transaction holds is left for the next
	 * run rather than waited for. */
	"DELETE FROM records WHERE seq IN (SELECT seq FROM records "
	"WHERE deleted_at IS NOT NULL AND deleted_at < $1 "
	"ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
};

/*
 * Fills r from row i of a COLS result, its strings borrowed from res:
 * valid until it is cleared.
 */
static enum rs_err
rs_store_records_pg_view(const struct pg_result *res, int i,
    struct rs_record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = rs_pg_int64(res, i, 0);
	/* A stored id or token longer than its type is a damaged row:
	 * refused, never shown cut short. */
	if (rs_pg_copy(res, i, 1, r->id, sizeof(r->id)) != RS_OK ||
	    rs_pg_copy(res, i, 2, r->org_id, sizeof(r->org_id)) != RS_OK ||
	    rs_pg_copy(res, i, 9, r->causal, sizeof(r->causal)) != RS_OK ||
	    rs_pg_copy(res, i, 14, r->created_by,
	    sizeof(r->created_by)) != RS_OK)
		return RS_ERR_RANGE;
	r->title = rs_pg_str(res, i, 3);
	r->type = rs_pg_str(res, i, 4);
	r->site = rs_pg_str(res, i, 5);
	r->status = rs_pg_str(res, i, 6);
	r->data = rs_pg_str(res, i, 7);
	r->size = rs_pg_int64(res, i, 8);
	r->version = rs_pg_int64(res, i, 10);
	r->deleted_at = rs_pg_int64(res, i, 11);
	r->created_at = rs_pg_int64(res, i, 12);
	r->updated_at = rs_pg_int64(res, i, 13);
	r->queue = rs_pg_str(res, i, 15);
	r->change_seq = rs_pg_int64(res, i, 16);
	/* NULL: created_by wrote it, what changed is unknown. */
	if (!rs_pg_isnull(res, i, 17) && rs_pg_copy(res, i, 17,
	    r->updated_by, sizeof(r->updated_by)) != RS_OK)
		return RS_ERR_RANGE;
	r->changed = rs_pg_str(res, i, 18);
	r->json = rs_pg_str(res, i, 19);
	return RS_OK;
}

/* Copies a borrowed string of r into arena a; NULL stays NULL. */
static int
rs_store_records_pg_keep(struct rs_arena *a, const char **s)
{
	return *s == NULL || (*s = rs_arena_strdup(a, *s)) != NULL ? 0 : -1;
}

/* Fills r from row i of a COLS result, its strings in a. */
static enum rs_err
rs_store_records_pg_row(struct rs_arena *a, const struct pg_result *res,
    int i, struct rs_record *r)
{
	enum rs_err	 rc;

	if ((rc = rs_store_records_pg_view(res, i, r)) != RS_OK)
		return rc;
	if (rs_store_records_pg_keep(a, &r->title) != 0 ||
	    rs_store_records_pg_keep(a, &r->type) != 0 ||
	    rs_store_records_pg_keep(a, &r->site) != 0 ||
	    rs_store_records_pg_keep(a, &r->status) != 0 ||
	    rs_store_records_pg_keep(a, &r->data) != 0 ||
	    rs_store_records_pg_keep(a, &r->queue) != 0 ||
	    rs_store_records_pg_keep(a, &r->changed) != 0 ||
	    rs_store_records_pg_keep(a, &r->json) != 0)
		return RS_ERR_NOMEM;
	return RS_OK;
}

enum rs_err
rs_store_records_pg_get_text(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, const char **json,
    char causal[RS_ULID_LEN + 1])
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	*json = NULL;
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	if ((rc = rs_pg_query(db, sql[STMT_GET_TEXT], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1 && !rs_pg_isnull(r, 0, 0) &&
	    (rc = rs_pg_copy(r, 0, 1, causal, RS_ULID_LEN + 1)) == RS_OK &&
	    (*json = rs_pg_dup(r, 0, 0, a)) == NULL)
		rc = RS_ERR_NOMEM;
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_records_pg_get(struct rs_db *db, struct rs_arena *a,
    const char *org, const char *id, struct rs_record *rec)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	enum rs_err		 rc;

	rs_pg_args(&args);
	rs_pg_text(&args, org);
	rs_pg_text(&args, id);
	if ((rc = rs_pg_query(db, sql[STMT_GET], &args, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1)
		rc = rs_store_records_pg_row(a, r, 0, rec);
	else
		rc = RS_ERR_NOTFOUND;
	rs_pg_clear(r);
	return rc;
}

int64_t
rs_store_records_pg_change_seq(struct rs_db *db, const char *org)
{
	struct rs_pg_args	 args;
	struct pg_result	*r;
	int64_t			 v = -1;

	/* As rs_db_int(): -1 for no row or a failure. */
	rs_pg_args(&args);
	rs_pg_text(&args, org);
	if (rs_pg_query(db, sql[STMT_CHANGE_SEQ], &args, &r) != RS_OK)
		return -1;
	if (rs_pg_rows(r) == 1)
		v = rs_pg_int64(r, 0, 0);
	rs_pg_clear(r);
	return v;
}

/* Appends an integer parameter, or NULL when there is none (unset). */
static void
rs_store_records_pg_intnull(struct rs_pg_args *a, int64_t v, int unset)
{
	if (unset)
		rs_pg_null(a);
	else
		rs_pg_int(a, v);
}

enum rs_err
rs_store_records_pg_put(struct rs_db *db, const struct rs_record *r,
    int insert)
{
	struct rs_pg_args	 a;

	/* $1 .. $11, the same in both statements. */
	rs_pg_args(&a);
	rs_pg_text(&a, r->id);
	rs_pg_text(&a, r->org_id);
	rs_pg_text(&a, r->title);
	rs_pg_text(&a, r->type);
	rs_pg_text(&a, r->site);
	rs_pg_text(&a, r->status);
	rs_pg_text(&a, r->data);
	rs_pg_int(&a, r->size);
	rs_pg_text(&a, r->causal);
	rs_pg_int(&a, r->version);
	rs_store_records_pg_intnull(&a, r->deleted_at, r->deleted_at == 0);
	if (insert)
		rs_pg_int(&a, r->created_at);
	rs_pg_int(&a, r->updated_at);
	if (insert)
		rs_pg_text(&a, r->created_by);
	rs_pg_text(&a, r->queue);
	rs_pg_int(&a, r->change_seq);
	if (insert)
		rs_pg_int(&a, r->seq);
	rs_pg_text(&a, r->updated_by[0] != '\0' ? r->updated_by : NULL);
	rs_pg_text(&a, r->changed);
	rs_pg_text(&a, r->json);
	/* Ids are made here, never sent: a clash is no answer to give. */
	return rs_pg_later(db, sql[insert ? STMT_INSERT : STMT_UPDATE], &a);
}

/*
 * Where a PAGE result holds what a walk reads: json -1 for a NUM page,
 * whose texts are kept ones; len -1 where it is the text's own.
 */
struct rs_store_records_pg_page {
	int	 seq, change, json, now, stamp, len;
};
static const struct rs_store_records_pg_page rs_store_records_pg_text = {
	0, 1, 2, 4, 3, -1
};
static const struct rs_store_records_pg_page rs_store_records_pg_full = {
	0, 16, 19, NCOLS, 13, -1
};
static const struct rs_store_records_pg_page rs_store_records_pg_num = {
	0, 1, -1, 4, 2, 3
};

/* Row i's key in the kept texts; -1 for a row without text. */
static int
rs_store_records_pg_key(const struct pg_result *res, int i,
    const struct rs_store_records_pg_page *pl, struct rs_textcache_key *k)
{
	int	 len = pl->len >= 0 ? pl->len : pl->json;

	if (rs_pg_isnull(res, i, len))
		return -1;
	k->row = rs_pg_int64(res, i, pl->seq);
	k->change = rs_pg_int64(res, i, pl->change);
	k->stamp = rs_pg_int64(res, i, pl->stamp);
	k->len = pl->len >= 0 ? (size_t)rs_pg_int64(res, i, pl->len) :
	    rs_pg_len(res, i, pl->json);
	return 0;
}

/* A NUM page's rows' texts, found kept. */
struct rs_store_records_pg_kept {
	const char	*text;
	size_t		 len;
};

/*
 * Whether every row of a NUM page in order o, up to max, has its text
 * kept: into kept[row] (a page of more than RS_PAGE_MAX + 1 rows is not
 * looked for).
 */
static int
rs_store_records_pg_all_kept(const struct pg_result *res,
    const struct rs_pg_order *o, const struct rs_textcache *c,
    size_t max, struct rs_store_records_pg_kept *kept)
{
	const struct rs_store_records_pg_page	*pl = &rs_store_records_pg_num;
	struct rs_textcache_key			 k;
	int					 j, i;

	if (rs_pg_rows(res) > RS_PAGE_MAX + 1)
		return 0;
	for (j = 0; j < o->n && (size_t)j < max; j++) {
		i = o->i[j];
		if (rs_store_records_pg_key(res, i, pl, &k) != 0 ||
		    (kept[i].text = rs_textcache_get(c, &k)) == NULL)
			return 0;
		kept[i].len = k.len;
	}
	return 1;
}

/* Whether every row of a TEXT page has its text (a FULL one is needed). */
static int
rs_store_records_pg_all_text(const struct pg_result *res)
{
	const struct rs_store_records_pg_page	*pl = &rs_store_records_pg_text;
	int					 i;

	for (i = 0; i < rs_pg_rows(res); i++)
		if (!rs_pg_isnull(res, i, pl->seq) &&
		    rs_pg_isnull(res, i, pl->json))
			return 0;
	return 1;
}

/* Where a walk finds its rows' texts. */
struct rs_store_records_pg_texts {
	struct rs_textcache			*c;
	int					 keep;	/* in c */
	const struct rs_store_records_pg_kept	*kept;	/* a NUM page's */
};

/*
 * Row i's text as a walk shows it: a NUM page's found kept, else the
 * stored one, borrowed from res (kept in c if keep), or NULL.
 */
static const char *
rs_store_records_pg_text_of(const struct pg_result *res, int i,
    const struct rs_store_records_pg_page *pl,
    const struct rs_store_records_pg_texts *tx, size_t *len)
{
	struct rs_textcache_key	 k;
	const char		*text;

	if (pl->json < 0) {
		*len = tx->kept[i].len;
		return tx->kept[i].text;
	}
	if ((text = rs_pg_str(res, i, pl->json)) == NULL)
		return NULL;
	*len = rs_pg_len(res, i, pl->json);
	if (tx->keep && rs_store_records_pg_key(res, i, pl, &k) == 0)
		rs_textcache_put(tx->c, &k, text);
	return text;
}

/*
 * Reads a PAGE result laid out as pl says: each(arg, text) for up to max
 * rows, with the row's text as shown: as tx says (a NUM page's found
 * kept, or the stored one), or (a row from before sql/0013, in a FULL
 * page) printed from its columns; *now the org's change number. *n
 * counts the rows seen. A nonzero answer from each stops the walk with
 * RS_ERR_NOMEM.
 */
static enum rs_err
rs_store_records_pg_walk(const struct pg_result *res,
    const struct rs_store_records_pg_page *pl,
    const struct rs_pg_order *o,
    const struct rs_store_records_pg_texts *tx, size_t max,
    rs_store_records_each each, void *arg, size_t *n, int64_t *now)
{
	struct rs_record	 r;
	struct rs_record_text	 t;
	struct printbuf		*pb = NULL;
	enum rs_err		 rc = RS_OK;
	int			 i, j;

	*n = 0;
	if (rs_pg_rows(res) > 0)
		*now = rs_pg_int64(res, 0, pl->now);
	for (j = 0; j < o->n && *n < max; j++) {
		i = o->i[j];
		t.seq = rs_pg_int64(res, i, pl->seq);
		t.change_seq = rs_pg_int64(res, i, pl->change);
		if ((t.json = rs_store_records_pg_text_of(res, i, pl, tx,
		    &t.len)) == NULL) {
			if (pl != &rs_store_records_pg_full ||
			    (rc = rs_store_records_pg_view(res, i,
			    &r)) != RS_OK) {
				rc = RS_ERR_DB;
				break;
			}
			if (pb == NULL && (pb = printbuf_new()) == NULL) {
				rc = RS_ERR_NOMEM;
				break;
			}
			printbuf_reset(pb);
			if (rs_store_records_json_append(pb, &r) != 0) {
				rc = RS_ERR_NOMEM;
				break;
			}
			t.json = pb->buf;
			t.len = (size_t)pb->bpos;
		}
		(*n)++;
		if (each(arg, &t) != 0) {
			rc = RS_ERR_NOMEM;
			break;
		}
	}
	if (pb != NULL)
		printbuf_free(pb);
	return rc;
}

/* Reads a FULL page, ordered by column col, into out[0..max). */
static enum rs_err
rs_store_records_pg_rows(const struct pg_result *res, int col,
    struct rs_arena *a, size_t max, struct rs_record *out, size_t *n)
{
	struct rs_pg_order	 o;
	enum rs_err		 rc;
	int			 j;

	*n = 0;
	if ((rc = rs_pg_order(res, col,
	    rs_store_records_pg_full.seq, &o)) != RS_OK)
		return rc;
	for (j = 0; j < o.n && *n < max; j++)
		if ((rc = rs_store_records_pg_row(a, res, o.i[j],
		    &out[(*n)++])) != RS_OK)
			break;
	rs_pg_order_free(&o);
	return rc;
}

/* Runs a list PAGE, stmt, with a list's parameters (a NUM page's:
 * numbers set, its results in binary). */
static enum rs_err
rs_store_records_pg_list_query(struct rs_db *db, int stmt, int numbers,
    const char *org, const struct rs_recfilter *f, int64_t after,
    size_t max, struct pg_result **res)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	if (numbers)
		rs_pg_numbers(&a);
	rs_pg_text(&a, org);
	rs_pg_int(&a, after);
	rs_pg_text(&a, f->status);
	rs_pg_text(&a, f->type);
	rs_pg_text(&a, f->site);
	rs_pg_text(&a, f->created_by);
	rs_store_records_pg_intnull(&a, f->updated_after,
	    f->updated_after < 0);
	rs_pg_int(&a, f->include_deleted);
	rs_pg_int(&a, (int64_t)max);
	return rs_pg_query(db, sql[stmt], &a, res);
}

/* Runs a changes or LIVE PAGE, stmt: their parameters are the same. */
static enum rs_err
rs_store_records_pg_changes_query(struct rs_db *db, int stmt, int numbers,
    const char *org, int64_t after, size_t max, struct pg_result **res)
{
	struct rs_pg_args	 a;

	rs_pg_args(&a);
	if (numbers)
		rs_pg_numbers(&a);
	rs_pg_text(&a, org);
	rs_pg_int(&a, after);
	rs_pg_int(&a, (int64_t)max);
	return rs_pg_query(db, sql[stmt], &a, res);
}

/* A page's parameters: a list's (f set) or a delta sync's. */
struct rs_store_records_pg_ask {
	const char			*org;
	const struct rs_recfilter	*f;
	int64_t				 after;
	size_t				 max;
};

/*
 * The page kinds, each a filtered list's statement, a live list's and a
 * delta sync's.
 */
enum rs_store_records_pg_kind { PAGE_TEXT, PAGE_FULL, PAGE_NUM };
static const int rs_store_records_pg_stmts[][3] = {
	{ STMT_LIST_PAGE, STMT_LIVE_PAGE, STMT_CHANGES_PAGE },
	{ STMT_LIST_PAGE_FULL, STMT_LIVE_PAGE_FULL, STMT_CHANGES_PAGE_FULL },
	{ STMT_LIST_PAGE_NUM, STMT_LIVE_PAGE_NUM, STMT_CHANGES_PAGE_NUM },
};

/* Whether f asks for every live record (a LIVE page). */
static int
rs_store_records_pg_live(const struct rs_recfilter *f)
{
	return f->status == NULL && f->type == NULL && f->site == NULL &&
	    f->created_by == NULL && f->updated_after < 0 &&
	    !f->include_deleted;
}

/* Runs the page of kind q asks for: a list's, or a delta sync's (f NULL). */
static enum rs_err
rs_store_records_pg_fetch(struct rs_db *db,
    const struct rs_store_records_pg_ask *q,
    enum rs_store_records_pg_kind kind, struct pg_result **res)
{
	const int	*stmt = rs_store_records_pg_stmts[kind];
	int		 numbers = kind == PAGE_NUM;

	if (q->f == NULL)
		return rs_store_records_pg_changes_query(db, stmt[2], numbers,
		    q->org, q->after, q->max, res);
	if (rs_store_records_pg_live(q->f))
		return rs_store_records_pg_changes_query(db, stmt[1], numbers,
		    q->org, q->after, q->max, res);
	return rs_store_records_pg_list_query(db, stmt[0], numbers, q->org,
	    q->f, q->after, q->max, res);
}

/*
 * Orders a page of q's laid out as pl says: a list's by seq, a delta
 * sync's by change_seq, an empty page's row of NULLs left out. The
 * statement's join yields its subquery's rows in that order under every
 * plan PostgreSQL makes, but SQL does not promise it, and an ORDER BY
 * over the join had the server sort a copy of every row (a TEXT page's
 * 38 KB too): the order is made here instead, at no cost when it holds.
 */
static enum rs_err
rs_store_records_pg_sort(const struct rs_store_records_pg_ask *q,
    const struct pg_result *res, const struct rs_store_records_pg_page *pl,
    struct rs_pg_order *o)
{
	return rs_pg_order(res, q->f != NULL ? pl->seq :
	    pl->change, pl->seq, o);
}

/*
 * A NUM page, when this connection keeps texts: 1 and *res, in order o,
 * when every row's is kept (into kept), or 1 and *rc on failure; 0 when
 * a TEXT page is needed.
 */
static int
rs_store_records_pg_fetch_kept(struct rs_db *db,
    const struct rs_store_records_pg_ask *q, const struct rs_textcache *c,
    struct rs_store_records_pg_kept *kept, struct rs_pg_order *o,
    struct pg_result **res, enum rs_err *rc)
{
	*res = NULL;
	if (rs_textcache_count(c, NULL) == 0)
		return 0;
	if ((*rc = rs_store_records_pg_fetch(db, q, PAGE_NUM, res)) != RS_OK ||
	    (*rc = rs_store_records_pg_sort(q, *res,
	    &rs_store_records_pg_num, o)) != RS_OK)
		return 1;
	if (rs_store_records_pg_all_kept(*res, o, c, q->max, kept))
		return 1;
	rs_pg_order_free(o);
	rs_pg_clear(*res);
	*res = NULL;
	return 0;
}

/* rs_store_records_pg_list_each() and _changes_each(), as q says. */
static enum rs_err
rs_store_records_pg_page(struct rs_db *db,
    const struct rs_store_records_pg_ask *q, rs_store_records_each each,
    void *arg, size_t *n, int64_t *now)
{
	const struct rs_store_records_pg_page	*pl = &rs_store_records_pg_num;
	struct rs_store_records_pg_kept		 kept[RS_PAGE_MAX + 1];
	struct rs_store_records_pg_texts	 tx;
	struct rs_pg_order		 o;
	struct pg_result			*r;
	enum rs_err				 rc = RS_OK;

	*n = 0;
	*now = -1;
	tx.c = rs_pg_texts(db, &tx.keep);
	tx.kept = kept;
	if (rs_store_records_pg_fetch_kept(db, q, tx.c, kept, &o, &r, &rc)) {
		if (rc != RS_OK) {
			rs_pg_clear(r);
			return rc;
		}
	} else {
		pl = &rs_store_records_pg_text;
		if ((rc = rs_store_records_pg_fetch(db, q, PAGE_TEXT,
		    &r)) != RS_OK)
			return rc;
		if (!rs_store_records_pg_all_text(r)) {
			rs_pg_clear(r);
			pl = &rs_store_records_pg_full;
			if ((rc = rs_store_records_pg_fetch(db, q, PAGE_FULL,
			    &r)) != RS_OK)
				return rc;
		}
		if ((rc = rs_store_records_pg_sort(q, r, pl, &o)) != RS_OK) {
			rs_pg_clear(r);
			return rc;
		}
	}
	rc = rs_store_records_pg_walk(r, pl, &o, &tx, q->max, each, arg, n,
	    now);
	rs_pg_order_free(&o);
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_records_pg_list_each(struct rs_db *db, const char *org,
    const struct rs_recfilter *f, int64_t after, size_t max,
    rs_store_records_each each, void *arg, size_t *n, int64_t *now)
{
	struct rs_store_records_pg_ask	 q = { org, f, after, max };

	return rs_store_records_pg_page(db, &q, each, arg, n, now);
}

enum rs_err
rs_store_records_pg_changes_each(struct rs_db *db, const char *org,
    int64_t after, size_t max, rs_store_records_each each, void *arg,
    size_t *n, int64_t *now)
{
	struct rs_store_records_pg_ask	 q = { org, NULL, after, max };

	return rs_store_records_pg_page(db, &q, each, arg, n, now);
}

enum rs_err
rs_store_records_pg_list(struct rs_db *db, struct rs_arena *a,
    const char *org, const struct rs_recfilter *f, int64_t after,
    size_t max, struct rs_record *out, size_t *n)
{
	struct pg_result	*r;
	enum rs_err		 rc;

	*n = 0;
	if ((rc = rs_store_records_pg_list_query(db, STMT_LIST_PAGE_FULL, 0,
	    org, f, after, max, &r)) != RS_OK)
		return rc;
	rc = rs_store_records_pg_rows(r, rs_store_records_pg_full.seq, a, max,
	    out, n);
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_records_pg_changes(struct rs_db *db, struct rs_arena *a,
    const char *org, int64_t after, size_t max, struct rs_record *out,
    size_t *n)
{
	struct pg_result	*r;
	enum rs_err		 rc;

	*n = 0;
	if ((rc = rs_store_records_pg_changes_query(db,
	    STMT_CHANGES_PAGE_FULL, 0, org, after, max, &r)) != RS_OK)
		return rc;
	rc = rs_store_records_pg_rows(r, rs_store_records_pg_full.change, a,
	    max, out, n);
	rs_pg_clear(r);
	return rc;
}

enum rs_err
rs_store_records_pg_purge(struct rs_db *db, int64_t horizon, size_t max,
    size_t *n)
{
	struct rs_pg_args	 a;
	enum rs_err		 rc;
	int64_t			 changed;

	*n = 0;
	rs_pg_args(&a);
	rs_pg_int(&a, horizon);
	rs_pg_int(&a, (int64_t)max);
	if ((rc = rs_pg_run(db, sql[STMT_PURGE], &a, &changed)) == RS_OK)
		*n = (size_t)changed;
	return rc;
}
