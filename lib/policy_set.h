/*
 * policy_set.h: what an org's policies choose for a record being written.
 * Its enabled policies are tried in ("order", name) order and the first
 * whose "when" matches sets the queue, priority and delay; none: queue
 * "default", priority RS_POLICY_DEFAULT_PRIORITY, no delay.
 *
 * The policies are read and compiled once per process and kept, for up
 * to RS_POLICY_SET_ORGS orgs, until the org's policy version (bumped by
 * every policy write, store_policies.h) moves: a record write costs one
 * indexed read of that integer and the matches, never a parse. It sits
 * beside txn.c: it calls the stores and the policy language, never sees
 * a request. One per process, used by one thread.
 */
#ifndef RS_POLICY_SET_H
#define RS_POLICY_SET_H

#include <stdint.h>

#include "err.h"
#include "policy.h"

struct rs_db;

#define RS_POLICY_SET_ORGS	16	/* orgs whose policies a process keeps */

struct rs_policy_set;

struct rs_policy_choice {
	char		 queue[RS_POLICY_QUEUE_MAX + 1];
	int		 priority;	/* 0..9 */
	int64_t		 delay_s;
};

/*
 * Fills *c for record r of org from its policies, (re)loading them into
 * *set (made at the first call) when they changed. r->data is ignored:
 * data (the record's data as compact JSON text, may be NULL) is parsed
 * only when a policy of the org reads data.<key>. RS_OK, or the error of
 * reading the policies (then *c holds the defaults). A stored policy that
 * no longer parses is logged and skipped.
 */
enum rs_err	 rs_policy_set_choose(struct rs_policy_set **set,
		    struct rs_db *db, const char *org,
		    const struct rs_policy_record *r, const char *data,
		    struct rs_policy_choice *c);
void		 rs_policy_set_free(struct rs_policy_set *set);

#endif /* RS_POLICY_SET_H */
