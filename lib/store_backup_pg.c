#include <string.h>

#include "db.h"
#include "db_pg.h"
#include "store_backup_pg.h"

/* One statement: one snapshot, as with SQLite. */
static const char sql_census[] =
	"SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM users), "
	"(SELECT count(*) FROM api_keys), (SELECT count(*) FROM records), "
	"(SELECT count(*) FROM events), (SELECT count(*) FROM audit), "
	"(SELECT count(*) FROM webhooks), (SELECT count(*) FROM jobs)";

enum rs_err
rs_store_backup_pg_census(struct rs_db *db, struct rs_store_backup_census *c)
{
	struct pg_result	*r;
	enum rs_err		 rc;

	memset(c, 0, sizeof(*c));
	if ((rc = rs_pg_query(db, sql_census, NULL, &r)) != RS_OK)
		return rc;
	if (rs_pg_rows(r) == 1) {
		c->orgs = rs_pg_int64(r, 0, 0);
		c->users = rs_pg_int64(r, 0, 1);
		c->keys = rs_pg_int64(r, 0, 2);
		c->records = rs_pg_int64(r, 0, 3);
		c->events = rs_pg_int64(r, 0, 4);
		c->audit = rs_pg_int64(r, 0, 5);
		c->webhooks = rs_pg_int64(r, 0, 6);
		c->jobs = rs_pg_int64(r, 0, 7);
	} else
		rc = RS_ERR_DB;
	rs_pg_clear(r);
	return rc;
}
