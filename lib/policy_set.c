#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "arena.h"
#include "json.h"
#include "log.h"
#include "store_policies.h"
#include "policy_set.h"

#define RS_POLICY_SET_CHUNK	64	/* policies read at a time */

/* One policy, compiled. */
struct rs_policy_compiled {
	struct rs_policy_when	*when;
	struct rs_policy_then	 then;
};

/* One org's enabled policies at one version, in evaluation order. */
struct rs_policy_org {
	char				 org[RS_ID_MAX];	/* "": free */
	int64_t				 version;
	uint64_t			 used;		/* tick of last use */
	int				 uses_data;
	size_t				 n;
	struct rs_policy_compiled	*p;
};

struct rs_policy_set {
	uint64_t		 tick;
	struct rs_policy_org	 orgs[RS_POLICY_SET_ORGS];
};

static void
rs_policy_set_clear(struct rs_policy_org *o)
{
	size_t	 i;

	for (i = 0; i < o->n; i++)
		rs_policy_when_free(o->p[i].when);
	free(o->p);
	memset(o, 0, sizeof(*o));
}

/* Compiles row into the next slot of o; a bad text is logged, skipped. */
static enum rs_err
rs_policy_set_add(struct rs_policy_org *o, const struct rs_store_policy *row)
{
	struct rs_policy_compiled	*p = &o->p[o->n];
	struct rs_policy_error		 e;
	enum rs_err			 rc;

	if ((rc = rs_policy_when_compile(row->when, &p->when, &e)) == RS_OK &&
	    (rc = rs_policy_then_parse(row->then, &p->then, &e)) != RS_OK) {
		rs_policy_when_free(p->when);
		p->when = NULL;
	}
	if (rc == RS_ERR_NOMEM)
		return rc;
	if (rc != RS_OK) {
		rs_log_warn("policy %s of %s: %s: position %d: %s; skipped",
		    row->name, o->org, e.member, e.pos, e.msg);
		return RS_OK;
	}
	/* Only then is a record's data parsed: most policies read none. */
	if (strstr(row->when, "data.") != NULL)
		o->uses_data = 1;
	o->n++;
	return RS_OK;
}

/* Reads and compiles org's enabled policies into o (cleared first). */
static enum rs_err
rs_policy_set_load(struct rs_policy_org *o, struct rs_db *db,
    const char *org, int64_t version)
{
	struct rs_store_policy		 rows[RS_POLICY_SET_CHUNK];
	struct rs_policy_compiled	*grown;
	struct rs_arena			 a;
	int64_t				 after_order = 0, after_seq = 0;
	size_t				 n, i, cap = 0;
	enum rs_err			 rc = RS_OK;

	rs_policy_set_clear(o);
	strcpy(o->org, org);
	rs_arena_init(&a);
	do {
		rs_arena_reset(&a);
		if ((rc = rs_store_policies_list(db, &a, org, 1, after_order,
		    after_seq, RS_POLICY_SET_CHUNK, rows, &n)) != RS_OK)
			break;
		if (o->n + n > cap) {
			cap = o->n + n;
			if ((grown = realloc(o->p, cap * sizeof(*grown))) ==
			    NULL) {
				rc = RS_ERR_NOMEM;
				break;
			}
			o->p = grown;
		}
		for (i = 0; i < n && rc == RS_OK; i++)
			rc = rs_policy_set_add(o, &rows[i]);
		if (n > 0) {
			after_order = rows[n - 1].order;
			after_seq = rows[n - 1].seq;
		}
	} while (rc == RS_OK && n == RS_POLICY_SET_CHUNK);
	rs_arena_free(&a);
	if (rc != RS_OK) {
		rs_policy_set_clear(o);
		return rc;
	}
	o->version = version;
	return RS_OK;
}

/* The entry of org at version, loading it (into the least recently used
 * slot) when it is missing or stale; NULL with *rc on failure. */
static struct rs_policy_org *
rs_policy_set_find(struct rs_policy_set *s, struct rs_db *db,
    const char *org, enum rs_err *rc)
{
	struct rs_policy_org	*o = NULL, *old = &s->orgs[0];
	int64_t			 version;
	size_t			 i;

	/* The org's row is there (its writer was authenticated): no
	 * version is a database that cannot be read now (a connection to
	 * PostgreSQL lost): busy, so the write is answered 503, not 500. */
	if ((version = rs_store_policies_version(db, org)) < 0) {
		*rc = RS_ERR_BUSY;
		return NULL;
	}
	for (i = 0; i < RS_POLICY_SET_ORGS; i++) {
		if (strcmp(s->orgs[i].org, org) == 0)
			o = &s->orgs[i];
		if (s->orgs[i].used < old->used)
			old = &s->orgs[i];
	}
	if (o == NULL || o->version != version) {
		if (o == NULL)
			o = old;
		if ((*rc = rs_policy_set_load(o, db, org, version)) != RS_OK)
			return NULL;
	}
	o->used = ++s->tick;
	return o;
}

enum rs_err
rs_policy_set_choose(struct rs_policy_set **set, struct rs_db *db,
    const char *org, const struct rs_policy_record *r, const char *data,
    struct rs_policy_choice *c)
{
	struct rs_policy_record	 rec = *r;
	struct rs_policy_org	*o;
	enum rs_err		 rc = RS_OK;
	size_t			 i;

	strcpy(c->queue, "default");
	c->priority = RS_POLICY_DEFAULT_PRIORITY;
	c->delay_s = 0;
	if (strlen(org) >= RS_ID_MAX)
		return RS_ERR_INVAL;
	if (*set == NULL && (*set = calloc(1, sizeof(**set))) == NULL)
		return RS_ERR_NOMEM;
	if ((o = rs_policy_set_find(*set, db, org, &rc)) == NULL)
		return rc;
	rec.data = NULL;
	/* Stored data is valid JSON: a parse can only fail for memory. */
	if (o->n > 0 && o->uses_data && data != NULL &&
	    rs_json_parse(data, strlen(data), &rec.data, NULL, 0) != 0)
		return RS_ERR_NOMEM;
	for (i = 0; i < o->n; i++)
		if (rs_policy_when_match(o->p[i].when, &rec))
			break;
	if (i < o->n) {
		if (o->p[i].then.queue[0] != '\0')
			strcpy(c->queue, o->p[i].then.queue);
		if (o->p[i].then.priority >= 0)
			c->priority = o->p[i].then.priority;
		if (o->p[i].then.delay_s >= 0)
			c->delay_s = o->p[i].then.delay_s;
	}
	json_object_put(rec.data);
	return RS_OK;
}

void
rs_policy_set_free(struct rs_policy_set *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < RS_POLICY_SET_ORGS; i++)
		rs_policy_set_clear(&set->orgs[i]);
	free(set);
}
