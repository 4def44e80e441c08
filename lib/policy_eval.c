/*
 * policy_eval.c: runs a compiled "when" (policy_eval.h) against one
 * record: no allocation, no failure, a missing value or another JSON
 * type is simply false.
 */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "policy.h"
#include "policy_eval.h"

/* --- evaluation ------------------------------------------------------- */

/* 1 when c (<0, 0, >0: how a compares to b) satisfies the operator. */
static int
pol_holds(enum rs_policy_cmp op, int c)
{
	switch (op) {
	case POLICY_C_GT:
		return c > 0;
	case POLICY_C_GE:
		return c >= 0;
	case POLICY_C_LT:
		return c < 0;
	case POLICY_C_LE:
		return c <= 0;
	case POLICY_C_EQ:
		return c == 0;
	default:
		return c != 0;
	}
}

/* Bytewise, shorter first when one is a prefix of the other. */
static int
pol_strcmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	 c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
pol_i64cmp(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* A data.<key> comparison: false unless the JSON type fits the literal. */
static int
pol_data(const struct rs_policy_when *w, const struct rs_policy_insn *in,
    struct json_object *data)
{
	const char		*pool = (const char *)(w->code + w->ncode);
	struct json_object	*v;
	double			 d;

	if (data == NULL || !json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, pool + in->key, &v) || v == NULL)
		return 0;
	if (in->isnum && json_object_is_type(v, json_type_int))
		return pol_holds(in->cmp,
		    pol_i64cmp(json_object_get_int64(v), in->num));
	if (in->isnum && json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (d != d)
			return 0;	/* NaN orders with nothing */
		return pol_holds(in->cmp, d < (double)in->num ? -1 :
		    d > (double)in->num);
	}
	if (!in->isnum && json_object_is_type(v, json_type_string))
		return pol_holds(in->cmp, pol_strcmp(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), pool + in->str,
		    in->strlen));
	return 0;
}

/* One comparison against r. */
static int
pol_compare(const struct rs_policy_when *w, const struct rs_policy_insn *in,
    const struct rs_policy_record *r)
{
	const char	*pool = (const char *)(w->code + w->ncode), *s;

	switch (in->field) {
	case POLICY_F_SIZE:
		return pol_holds(in->cmp, pol_i64cmp(r->size, in->num));
	case POLICY_F_DATA:
		return pol_data(w, in, r->data);
	case POLICY_F_TYPE:
		s = r->type;
		break;
	case POLICY_F_SITE:
		s = r->site;
		break;
	case POLICY_F_STATUS:
		s = r->status;
		break;
	default:
		s = r->title;
		break;
	}
	/* No string differs from every string and orders with none. */
	if (s == NULL)
		return in->cmp == POLICY_C_NE;
	return pol_holds(in->cmp,
	    pol_strcmp(s, strlen(s), pool + in->str, in->strlen));
}

int
rs_policy_when_match(const struct rs_policy_when *w,
    const struct rs_policy_record *r)
{
	unsigned char	 st[POLICY_STACK];
	size_t		 i, sp = 0;

	if (w == NULL || r == NULL)
		return 0;
	for (i = 0; i < w->ncode; i++) {
		switch (w->code[i].op) {
		case POLICY_OP_TRUE:
			st[sp++] = 1;
			break;
		case POLICY_OP_CMP:
			st[sp++] = (unsigned char)pol_compare(w, &w->code[i],
			    r);
			break;
		case POLICY_OP_NOT:
			st[sp - 1] = !st[sp - 1];
			break;
		case POLICY_OP_AND:
			sp--;
			st[sp - 1] = st[sp - 1] && st[sp];
			break;
		default:
			sp--;
			st[sp - 1] = st[sp - 1] || st[sp];
			break;
		}
	}
	return sp == 1 && st[0];
}

