/*
 * policy_parse.c: the recursive-descent parsers of "when" and "then"
 * (policy_parse.h). "when" compiles into one block laid out as
 * policy_eval.h says; "then" fills struct rs_policy_then.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "policy.h"
#include "policy_lex.h"
#include "policy_eval.h"
#include "policy_parse.h"

/* --- the parser of "when" --------------------------------------------- */

#define POL_FIELDS	"size, type, site, status, title, data.<key>"

struct pol_parse {
	const char		*text;
	size_t			 off;	/* the lexer's position */
	struct rs_policy_tok	 tok;	/* the token looked at */
	struct rs_policy_when	*w;
	char			*pool;	/* the pool while compiling */
	size_t			 npool;
	int			 sp;	/* the evaluation stack: now */
	int			 maxsp;	/* and at most */
	struct rs_policy_error	*err;
};

static const char *const pol_fields[] = {
	"size", "type", "site", "status", "title"
};

static enum rs_err	pol_expr(struct pol_parse *, int);

static void
pol_next(struct pol_parse *p)
{
	rs_policy_lex_next(p->text, &p->off, &p->tok);
}

/* Fails at byte off of the "when" text with msg. */
static enum rs_err
pol_err(const struct pol_parse *p, size_t off, const char *msg)
{
	return rs_policy_lex_fail(p->err, "when",
	    rs_policy_lex_pos(p->text, off), "%s", msg);
}

/* Fails at the current token: its own message, or what was expected. */
static enum rs_err
pol_expected(struct pol_parse *p, const char *what)
{
	if (p->tok.kind == POLICY_TK_ERR)
		what = p->tok.msg;
	return pol_err(p, p->tok.off, what);
}

/* 1 when the current token is the bare word w. */
static int
pol_is(const struct pol_parse *p, const char *w)
{
	return p->tok.kind == POLICY_TK_WORD && p->tok.len == strlen(w) &&
	    memcmp(p->text + p->tok.off, w, p->tok.len) == 0;
}

/* Appends an instruction, counting the stack it needs. */
static void
pol_emit(struct pol_parse *p, const struct rs_policy_insn *in)
{
	p->w->code[p->w->ncode++] = *in;
	p->sp += in->op == POLICY_OP_TRUE || in->op == POLICY_OP_CMP ? 1 :
	    in->op == POLICY_OP_NOT ? 0 : -1;
	if (p->sp > p->maxsp)
		p->maxsp = p->sp;
}

static void
pol_emit_op(struct pol_parse *p, enum rs_policy_op op)
{
	struct rs_policy_insn	 in;

	memset(&in, 0, sizeof(in));
	in.op = op;
	pol_emit(p, &in);
}

/*
 * The field named by the current word into *field (and a data key into
 * the pool at *key), or RS_ERR_INVAL.
 */
static enum rs_err
pol_fieldname(struct pol_parse *p, uint8_t *field, uint16_t *key)
{
	const char	*s = p->text + p->tok.off;
	size_t		 n = p->tok.len, i;

	for (i = 0; i < sizeof(pol_fields) / sizeof(pol_fields[0]); i++)
		if (pol_is(p, pol_fields[i])) {
			*field = (uint8_t)i;
			return RS_OK;
		}
	if (p->tok.kind != POLICY_TK_WORD || n < 5 ||
	    memcmp(s, "data.", 5) != 0)
		return pol_expected(p, "expected a field (" POL_FIELDS ")");
	for (i = 5; i < n; i++)
		if (s[i] == '.')
			break;
	if (i < n || n == 5 || n - 5 > 64)
		return pol_err(p, p->tok.off + 5,
		    "a data key is 1 to 64 of A-Z, a-z, 0-9, _ and -");
	*field = POLICY_F_DATA;
	*key = (uint16_t)p->npool;
	memcpy(p->pool + p->npool, s + 5, n - 5);
	p->npool += n - 5;
	p->pool[p->npool++] = '\0';
	return RS_OK;
}

/* 1 when the current word is a keyword or a field, not a string. */
static int
pol_reserved(const struct pol_parse *p)
{
	static const char *const kw[] = {
		"and", "or", "not", "true",
		"size", "type", "site", "status", "title"
	};
	size_t	 i;

	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (pol_is(p, kw[i]))
			return 1;
	return p->tok.len > 5 && memcmp(p->text + p->tok.off, "data.", 5) == 0;
}

/* Copies the string token into the pool, escapes undone, into in. */
static void
pol_string(struct pol_parse *p, struct rs_policy_insn *in)
{
	const char	*s = p->text + p->tok.off;
	size_t		 i, n = p->tok.len;

	in->str = (uint16_t)p->npool;
	if (p->tok.kind == POLICY_TK_WORD) {
		memcpy(p->pool + p->npool, s, n);
		p->npool += n;
	} else
		for (i = 1; i < n - 1; i++) {
			if (s[i] == '\\')
				i++;
			p->pool[p->npool++] = s[i];
		}
	in->strlen = (uint16_t)(p->npool - in->str);
	p->pool[p->npool++] = '\0';
}

/* comparison = field op value, typed where the field's type is known. */
static enum rs_err
pol_comparison(struct pol_parse *p)
{
	struct rs_policy_insn	 in;
	enum rs_err	 rc;
	int		 num;

	memset(&in, 0, sizeof(in));
	in.op = POLICY_OP_CMP;
	if ((rc = pol_fieldname(p, &in.field, &in.key)) != RS_OK)
		return rc;
	pol_next(p);
	if (p->tok.kind != POLICY_TK_OP)
		return pol_expected(p,
		    "expected an operator (>, >=, <, <=, ==, !=)");
	in.cmp = p->tok.cmp;
	pol_next(p);
	num = p->tok.kind == POLICY_TK_NUM;
	if (!num && p->tok.kind != POLICY_TK_STR &&
	    (p->tok.kind != POLICY_TK_WORD || pol_reserved(p)))
		return pol_expected(p, "expected a number or string");
	if (in.field == POLICY_F_SIZE && !num)
		return pol_expected(p,
		    "size compares with numbers, not strings");
	if (in.field != POLICY_F_SIZE && in.field != POLICY_F_DATA && num)
		return pol_expected(p, in.field == POLICY_F_TYPE ?
		    "type compares with strings, not numbers" :
		    in.field == POLICY_F_SITE ?
		    "site compares with strings, not numbers" :
		    in.field == POLICY_F_STATUS ?
		    "status compares with strings, not numbers" :
		    "title compares with strings, not numbers");
	in.isnum = (uint8_t)num;
	if (num)
		in.num = p->tok.num;
	else
		pol_string(p, &in);
	pol_emit(p, &in);
	pol_next(p);
	return RS_OK;
}

/* factor = "not" factor | "(" expr ")" | "true" | comparison */
static enum rs_err
pol_factor(struct pol_parse *p, int depth)
{
	enum rs_err	 rc;

	if ((pol_is(p, "not") || p->tok.kind == POLICY_TK_LPAR) &&
	    depth >= RS_MAX_POLICY_DEPTH)
		return pol_expected(p, "nesting deeper than 32");
	if (pol_is(p, "not")) {
		pol_next(p);
		if ((rc = pol_factor(p, depth + 1)) != RS_OK)
			return rc;
		pol_emit_op(p, POLICY_OP_NOT);
		return RS_OK;
	}
	if (p->tok.kind == POLICY_TK_LPAR) {
		pol_next(p);
		if ((rc = pol_expr(p, depth + 1)) != RS_OK)
			return rc;
		if (p->tok.kind != POLICY_TK_RPAR)
			return pol_expected(p, "expected \")\"");
		pol_next(p);
		return RS_OK;
	}
	if (pol_is(p, "true")) {
		pol_emit_op(p, POLICY_OP_TRUE);
		pol_next(p);
		return RS_OK;
	}
	return pol_comparison(p);
}

/* term = factor { "and" factor } */
static enum rs_err
pol_term(struct pol_parse *p, int depth)
{
	enum rs_err	 rc;

	if ((rc = pol_factor(p, depth)) != RS_OK)
		return rc;
	while (pol_is(p, "and")) {
		pol_next(p);
		if ((rc = pol_factor(p, depth)) != RS_OK)
			return rc;
		pol_emit_op(p, POLICY_OP_AND);
	}
	return RS_OK;
}

/* expr = term { "or" term } */
static enum rs_err
pol_expr(struct pol_parse *p, int depth)
{
	enum rs_err	 rc;

	if ((rc = pol_term(p, depth)) != RS_OK)
		return rc;
	while (pol_is(p, "or")) {
		pol_next(p);
		if ((rc = pol_term(p, depth)) != RS_OK)
			return rc;
		pol_emit_op(p, POLICY_OP_OR);
	}
	return RS_OK;
}

/*
 * Gives back the room compiling did not use: the pool moves down to
 * just after the code. A failed realloc keeps the larger block.
 */
static struct rs_policy_when *
pol_shrink(struct pol_parse *p)
{
	struct rs_policy_when	*w = p->w, *nw;
	size_t			 codesz = w->ncode * sizeof(w->code[0]);

	memmove((char *)w->code + codesz, p->pool, p->npool);
	nw = realloc(w, sizeof(*w) + codesz + p->npool);
	return nw != NULL ? nw : w;
}

enum rs_err
rs_policy_when_compile(const char *text, struct rs_policy_when **out,
    struct rs_policy_error *err)
{
	struct pol_parse	 p;
	enum rs_err		 rc;
	size_t			 len;

	*out = NULL;
	if ((rc = rs_policy_lex_text(text, "when", &len, err)) != RS_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.err = err;
	/*
	 * Every instruction comes from a token of at least one byte and
	 * the pool holds at most the text plus a NUL per token, so room
	 * sized by the text cannot run out; the block shrinks after.
	 */
	p.w = malloc(sizeof(*p.w) + (len + 1) * sizeof(p.w->code[0]) +
	    2 * len + 2);
	if (p.w == NULL)
		return RS_ERR_NOMEM;
	p.w->ncode = 0;
	p.pool = (char *)(p.w->code + len + 1);
	pol_next(&p);
	if ((rc = pol_expr(&p, 0)) != RS_OK)
		goto out;
	if (p.tok.kind != POLICY_TK_END) {
		rc = pol_expected(&p, "expected \"and\", \"or\" or the end");
		goto out;
	}
	if (p.maxsp > POLICY_STACK || p.npool > UINT16_MAX) {
		/* Not reachable within the bounds; kept as the guard. */
		rc = rs_policy_lex_fail(err, "when", 1,
		    "nesting deeper than %d",
		    RS_MAX_POLICY_DEPTH);
		goto out;
	}
	*out = pol_shrink(&p);
	return RS_OK;
out:
	free(p.w);
	return rc;
}

void
rs_policy_when_free(struct rs_policy_when *w)
{
	free(w);
}

/* --- the parser of "then" --------------------------------------------- */

struct pol_then {
	const char		*text;
	size_t			 off;
	struct rs_policy_then	*out;
	struct rs_policy_error	*err;
};

static enum rs_err
pol_then_fail(const struct pol_then *t, size_t off, const char *msg)
{
	return rs_policy_lex_fail(t->err, "then",
	    rs_policy_lex_pos(t->text, off), "%s", msg);
}

/* 1 when the text at t->off ends a value: spaces, ";" or the end. */
static int
pol_then_end(const struct pol_then *t, size_t off)
{
	char	 c = t->text[off];

	return c == '\0' || c == ';' || rs_policy_lex_space(c);
}

/* queue=<[a-z0-9_]{1,64}> */
static enum rs_err
pol_then_queue(struct pol_then *t)
{
	const char	*s = t->text + t->off;
	size_t		 n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || rs_policy_lex_digit(s[n]) ||
	    s[n] == '_')
		n++;
	if (n == 0 || n > RS_POLICY_QUEUE_MAX || !pol_then_end(t, t->off + n))
		return pol_then_fail(t, t->off,
		    "a queue is 1 to 64 of a-z, 0-9 and _");
	memcpy(t->out->queue, s, n);
	t->out->queue[n] = '\0';
	t->off += n;
	return RS_OK;
}

/* priority=<0..9> */
static enum rs_err
pol_then_priority(struct pol_then *t)
{
	const char	*s = t->text + t->off;

	if (!rs_policy_lex_digit(s[0]) || !pol_then_end(t, t->off + 1))
		return pol_then_fail(t, t->off, "priority is 0 to 9");
	t->out->priority = s[0] - '0';
	t->off++;
	return RS_OK;
}

/* delay=<n>s|m|h, at most seven days. */
static enum rs_err
pol_then_delay(struct pol_then *t)
{
	const char	*s = t->text + t->off;
	size_t		 n = 0;
	int64_t		 v = 0, unit;

	for (; rs_policy_lex_digit(s[n]); n++)
		if ((v = v * 10 + (s[n] - '0')) > 7 * 86400)
			return pol_then_fail(t, t->off,
			    "delay is at most 7 days");
	if (n == 0 || (s[n] != 's' && s[n] != 'm' && s[n] != 'h') ||
	    !pol_then_end(t, t->off + n + 1))
		return pol_then_fail(t, t->off,
		    "delay is a number with s, m or h");
	unit = s[n] == 's' ? 1 : s[n] == 'm' ? 60 : 3600;
	if (v * unit > 7 * 86400)
		return pol_then_fail(t, t->off, "delay is at most 7 days");
	t->out->delay_s = v * unit;
	t->off += n + 1;
	return RS_OK;
}

static void
pol_then_space(struct pol_then *t)
{
	while (rs_policy_lex_space(t->text[t->off]))
		t->off++;
}

/* assign = name "=" value, each name at most once. */
static enum rs_err
pol_then_assign(struct pol_then *t)
{
	static const char *const names[] = { "queue", "priority", "delay" };
	const char	*s = t->text + t->off;
	size_t		 i, n = 0, at = t->off;
	int		 given;

	while (rs_policy_lex_alpha(s[n]))
		n++;
	for (i = 0; i < 3; i++)
		if (n == strlen(names[i]) && memcmp(s, names[i], n) == 0)
			break;
	if (i == 3)
		return pol_then_fail(t, at,
		    "expected queue=, priority= or delay=");
	given = i == 0 ? t->out->queue[0] != '\0' :
	    i == 1 ? t->out->priority != -1 : t->out->delay_s != -1;
	if (given)
		return rs_policy_lex_fail(t->err, "then",
		    rs_policy_lex_pos(t->text, at),
		    "%s given twice", names[i]);
	t->off += n;
	pol_then_space(t);
	if (t->text[t->off] != '=')
		return rs_policy_lex_fail(t->err, "then",
		    rs_policy_lex_pos(t->text, t->off),
		    "expected \"=\" after %s", names[i]);
	t->off++;
	pol_then_space(t);
	return i == 0 ? pol_then_queue(t) : i == 1 ? pol_then_priority(t) :
	    pol_then_delay(t);
}

enum rs_err
rs_policy_then_parse(const char *text, struct rs_policy_then *out,
    struct rs_policy_error *err)
{
	struct pol_then	 t;
	enum rs_err	 rc;
	size_t		 len;

	memset(out, 0, sizeof(*out));
	out->priority = -1;
	out->delay_s = -1;
	if ((rc = rs_policy_lex_text(text, "then", &len, err)) != RS_OK)
		return rc;
	t.text = text;
	t.off = 0;
	t.out = out;
	t.err = err;
	for (;;) {
		pol_then_space(&t);
		if ((rc = pol_then_assign(&t)) != RS_OK)
			goto out;
		pol_then_space(&t);
		if (text[t.off] == '\0')
			return RS_OK;
		if (text[t.off] != ';') {
			rc = pol_then_fail(&t, t.off,
			    "expected \";\" or the end");
			goto out;
		}
		t.off++;
	}
out:
	memset(out, 0, sizeof(*out));
	out->priority = -1;
	out->delay_s = -1;
	return rc;
}

