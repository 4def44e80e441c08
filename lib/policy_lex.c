/*
 * policy_lex.c: the checks every policy text passes first, character
 * positions and errors, and the lexer of "when" (policy_lex.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "policy.h"
#include "policy_lex.h"

/* --- text checks and errors ------------------------------------------- */

/* The 1-based character position of byte off of text (valid UTF-8). */
int
rs_policy_lex_pos(const char *text, size_t off)
{
	size_t	 i;
	int	 pos = 1;

	for (i = 0; i < off; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			pos++;
	return pos;
}

/* Fills err (when not NULL) and returns RS_ERR_INVAL. */
enum rs_err
rs_policy_lex_fail(struct rs_policy_error *err, const char *member, int pos,
    const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL)
		return RS_ERR_INVAL;
	err->member = member;
	err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return RS_ERR_INVAL;
}

/*
 * The length in bytes of the UTF-8 character at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t
pol_utf8(const unsigned char *s)
{
	size_t	 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * Checks that text is valid UTF-8 of at most RS_MAX_POLICY_TEXT
 * characters, reading no further than one character past the bound.
 * RS_OK with *len its length in bytes, or RS_ERR_INVAL with err filled.
 */
enum rs_err
rs_policy_lex_text(const char *text, const char *member, size_t *len,
    struct rs_policy_error *err)
{
	const unsigned char	*s = (const unsigned char *)text;
	size_t			 off = 0, n;
	int			 chars = 0;

	if (text == NULL)
		return rs_policy_lex_fail(err, member, 0, "no text");
	while (s[off] != '\0') {
		if (++chars > RS_MAX_POLICY_TEXT)
			return rs_policy_lex_fail(err, member, chars,
			    "longer than %d characters", RS_MAX_POLICY_TEXT);
		if ((n = pol_utf8(s + off)) == 0)
			return rs_policy_lex_fail(err, member, chars,
			    "invalid UTF-8");
		off += n;
	}
	*len = off;
	return RS_OK;
}

/* --- the lexer of "when" ---------------------------------------------- */

/* Reads the number at text + off (a digit) into t, suffix included. */
static void
pol_lex_num(const char *text, size_t off, struct rs_policy_tok *t)
{
	size_t	 i = off;
	int64_t	 v = 0, mul = 1;

	for (; rs_policy_lex_digit(text[i]); i++) {
		if (v > (INT64_MAX - (text[i] - '0')) / 10)
			goto large;
		v = v * 10 + (text[i] - '0');
	}
	if (text[i] == 'k' || text[i] == 'm') {
		mul = text[i] == 'k' ? 1024 : 1048576;
		i++;
	}
	if (v > INT64_MAX / mul)
		goto large;
	/* "5kb" or "1.5" is no number: refuse rather than split it. */
	t->kind = rs_policy_lex_wordc(text[i]) ? POLICY_TK_BAD : POLICY_TK_NUM;
	t->num = v * mul;
	t->len = i - off;
	return;
large:
	t->kind = POLICY_TK_ERR;
	t->msg = "number too large";
}

/* Finds the end of the quoted string at text + off into t. */
static void
pol_lex_str(const char *text, size_t off, struct rs_policy_tok *t)
{
	size_t	 i;

	for (i = off + 1; text[i] != '"'; i++) {
		if (text[i] == '\0') {
			t->kind = POLICY_TK_ERR;
			t->msg = "unterminated string";
			return;
		}
		if (text[i] != '\\')
			continue;
		if (text[i + 1] != '"' && text[i + 1] != '\\') {
			t->kind = POLICY_TK_ERR;
			t->off = i;
			t->msg = "expected \\\" or \\\\ after a backslash";
			return;
		}
		i++;
	}
	t->kind = POLICY_TK_STR;
	t->len = i + 1 - off;
}

/* Reads "> >= < <= == !=" at text + off into t, or POLICY_TK_BAD. */
static void
pol_lex_op(const char *text, size_t off, struct rs_policy_tok *t)
{
	char	 c = text[off], e = text[off + 1];

	t->len = e == '=' ? 2 : 1;
	if (c == '>')
		t->cmp = e == '=' ? POLICY_C_GE : POLICY_C_GT;
	else if (c == '<')
		t->cmp = e == '=' ? POLICY_C_LE : POLICY_C_LT;
	else if (c == '=' && e == '=')
		t->cmp = POLICY_C_EQ;
	else if (c == '!' && e == '=')
		t->cmp = POLICY_C_NE;
	else {
		t->kind = POLICY_TK_BAD;
		return;
	}
	t->kind = POLICY_TK_OP;
}

/* Reads the token at or after *off into t and moves *off past it. */
void
rs_policy_lex_next(const char *text, size_t *off, struct rs_policy_tok *t)
{
	size_t	 i = *off;

	while (rs_policy_lex_space(text[i]))
		i++;
	memset(t, 0, sizeof(*t));
	t->off = i;
	t->len = 1;
	if (text[i] == '\0') {
		t->kind = POLICY_TK_END;
		t->len = 0;
	} else if (text[i] == '(')
		t->kind = POLICY_TK_LPAR;
	else if (text[i] == ')')
		t->kind = POLICY_TK_RPAR;
	else if (rs_policy_lex_digit(text[i]))
		pol_lex_num(text, i, t);
	else if (text[i] == '"')
		pol_lex_str(text, i, t);
	else if (rs_policy_lex_alpha(text[i])) {
		t->kind = POLICY_TK_WORD;
		while (rs_policy_lex_wordc(text[i + t->len]))
			t->len++;
	} else
		pol_lex_op(text, i, t);
	*off = i + t->len;
}

