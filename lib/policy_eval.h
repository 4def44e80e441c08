/*
 * policy_eval.h: the compiled form of a policy's "when" (written by
 * policy_parse.c) and its evaluator, rs_policy_when_match (policy.h),
 * which never allocates and never fails.
 *
 * A compiled "when" is a postfix program in one allocation:
 *
 *   struct rs_policy_when | code[0] .. code[ncode - 1] | pool
 *
 * Each instruction pushes or combines truth values on a small stack:
 * TRUE and CMP push one, NOT flips the top, AND and OR pop two and push
 * one; the program leaves exactly one value. "a or b and c" compiles to
 * a b c AND OR, "not (a or b)" to a b OR NOT. The pool, right after the
 * code, holds the NUL-terminated data keys and string literals that a
 * CMP names by offset and length: offsets, not pointers, so that the
 * block can shrink by realloc once compiled. At one level of
 * parentheses at most two values wait (an "or" and an "and" operand),
 * so POLICY_STACK values always suffice; the compiler counts anyway.
 * Evaluation walks the code once, without branches back: a few
 * nanoseconds per instruction.
 */
#ifndef RS_POLICY_EVAL_H
#define RS_POLICY_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "policy.h"
#include "policy_lex.h"

#define POLICY_STACK	(2 * RS_MAX_POLICY_DEPTH + 3)

enum rs_policy_op {
	POLICY_OP_TRUE, POLICY_OP_CMP, POLICY_OP_NOT, POLICY_OP_AND,
	POLICY_OP_OR
};

enum rs_policy_field {
	POLICY_F_SIZE, POLICY_F_TYPE, POLICY_F_SITE, POLICY_F_STATUS,
	POLICY_F_TITLE, POLICY_F_DATA
};

struct rs_policy_insn {
	uint8_t		 op;		/* enum rs_policy_op */
	uint8_t		 field;		/* enum rs_policy_field */
	uint8_t		 cmp;		/* enum rs_policy_cmp */
	uint8_t		 isnum;		/* 1 num, 0 the string */
	uint16_t	 key;		/* data.<key>: pool offset */
	uint16_t	 str;		/* the string: pool offset */
	uint16_t	 strlen;	/* its length in bytes */
	int64_t		 num;		/* k/m applied */
};

struct rs_policy_when {
	size_t			 ncode;
	struct rs_policy_insn	 code[];	/* then the pool */
};

/* The pool of w: right after its code. */
static inline const char *
rs_policy_eval_pool(const struct rs_policy_when *w)
{
	return (const char *)(w->code + w->ncode);
}

#endif /* RS_POLICY_EVAL_H */
