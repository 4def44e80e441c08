/*
 * policy_lex.h: the bottom layer of the policy language (policy.h): the
 * checks every policy text passes first (UTF-8, length), character
 * positions and errors, and the lexer of "when". It knows no grammar:
 * the parser (policy_parse.c) decides what a token means where.
 */
#ifndef RS_POLICY_LEX_H
#define RS_POLICY_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* The comparison operators, as the lexer reads them. */
enum rs_policy_cmp {
	POLICY_C_GT, POLICY_C_GE, POLICY_C_LT, POLICY_C_LE, POLICY_C_EQ,
	POLICY_C_NE
};

enum rs_policy_tk {
	POLICY_TK_END,
	POLICY_TK_NUM,		/* digits, an optional k or m */
	POLICY_TK_STR,		/* "...", escapes still in the text */
	POLICY_TK_WORD,		/* [A-Za-z_][A-Za-z0-9_.-]*, keywords */
	POLICY_TK_OP,		/* > >= < <= == != */
	POLICY_TK_LPAR,
	POLICY_TK_RPAR,
	POLICY_TK_BAD,		/* no token starts here */
	POLICY_TK_ERR		/* a broken token: msg says why */
};

struct rs_policy_tok {
	enum rs_policy_tk	 kind;
	size_t			 off;	/* where it starts (bytes) */
	size_t			 len;	/* bytes, quotes included */
	int64_t			 num;	/* a number, k/m applied */
	enum rs_policy_cmp	 cmp;	/* an operator */
	const char		*msg;	/* POLICY_TK_ERR: static */
};

/* The 1-based character position of byte off of text (valid UTF-8). */
int		 rs_policy_lex_pos(const char *text, size_t off);
/* Fills err (when not NULL) and returns RS_ERR_INVAL. */
enum rs_err	 rs_policy_lex_fail(struct rs_policy_error *err,
		    const char *member, int pos, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/*
 * Checks that text is valid UTF-8 of at most RS_MAX_POLICY_TEXT
 * characters. RS_OK with *len its length in bytes, or RS_ERR_INVAL
 * with err filled for member.
 */
enum rs_err	 rs_policy_lex_text(const char *text, const char *member,
		    size_t *len, struct rs_policy_error *err);
/* Reads the token at or after *off of text into t; moves *off past it. */
void		 rs_policy_lex_next(const char *text, size_t *off,
		    struct rs_policy_tok *t);

/* Space between tokens, in "when" and "then" alike. */
static inline int
rs_policy_lex_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline int
rs_policy_lex_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A character that may start a bare word. */
static inline int
rs_policy_lex_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* A character that may continue a bare word. */
static inline int
rs_policy_lex_wordc(char c)
{
	return rs_policy_lex_alpha(c) || rs_policy_lex_digit(c) ||
	    c == '.' || c == '-';
}

#endif /* RS_POLICY_LEX_H */
