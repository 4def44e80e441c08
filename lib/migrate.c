#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "embed.h"
#include "log.h"
#include "migrate.h"

/* The migrations of db's backend: SQLite's, or PostgreSQL's own set. */
static const struct rs_embed *
rs_migrate_set(const struct rs_db *db)
{
#ifdef RS_HAVE_PG
	if (rs_db_pg(db))
		return rs_embed_pgsql;
#else
	(void)db;
#endif
	return rs_embed_sql;
}

static int
rs_migrate_count(const struct rs_embed *set)
{
	int	 n = 0;

	while (set[n].name != NULL)
		n++;
	return n;
}

int
rs_migrate_latest(void)
{
	return rs_migrate_count(rs_embed_sql);
}

int
rs_migrate_latest_of(const struct rs_db *db)
{
	return rs_migrate_count(rs_migrate_set(db));
}

static enum rs_err
rs_migrate_one(struct rs_db *db, int version)
{
	const struct rs_embed	*m = &rs_migrate_set(db)[version - 1];
	enum rs_err		 rc;

	/* The file name's number is the version it brings the schema to. */
	if (atoi(m->name) != version) {
		rs_log_err("migration %s out of sequence", m->name);
		return RS_ERR_SCHEMA;
	}
	if ((rc = rs_db_begin(db)) != RS_OK)
		return rc;
	/* Another process may have migrated while we waited for the lock. */
	if (rs_db_user_version(db) >= version) {
		rs_db_rollback(db);
		return RS_OK;
	}
	if ((rc = rs_db_exec(db, m->data)) != RS_OK ||
	    (rc = rs_db_set_user_version(db, version)) != RS_OK) {
		rs_db_rollback(db);
		rs_log_err("migration %s failed", m->name);
		return rc;
	}
	rs_db_note_shared(db);	/* processes at the old schema must stop */
	return rs_db_commit(db);
}

enum rs_err
rs_migrate_run(struct rs_db *db)
{
	int		 have, want = rs_migrate_latest_of(db), v;
	enum rs_err	 rc;

	if ((have = rs_db_user_version(db)) < 0)
		return RS_ERR_DB;
	if (have > want)
		return RS_ERR_SCHEMA;
	for (v = have + 1; v <= want; v++)
		if ((rc = rs_migrate_one(db, v)) != RS_OK)
			return rc;
	return RS_OK;
}

enum rs_err
rs_migrate_check(struct rs_db *db)
{
	int	 have = rs_db_user_version(db), want = rs_migrate_latest_of(db);

	if (have < 0)
		return RS_ERR_DB;
	if (have > want)
		return RS_ERR_SCHEMA;
	return have < want ? RS_ERR_INVAL : RS_OK;
}
