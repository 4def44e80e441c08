/*
 * policy.h: the rule language of sync policies (pure: no database, no
 * request). A policy's "when" is an expression over a record; its "then"
 * is a list of assignments. Both are parsed once, by a lexer and a
 * recursive-descent parser of our own, into a compiled form that is
 * evaluated per record write without parsing again.
 *
 *   when    = expr ;
 *   expr    = term { "or" term } ;
 *   term    = factor { "and" factor } ;
 *   factor  = "not" factor | "(" expr ")" | "true" | comparison ;
 *   comparison = field op value ;
 *   field   = "size" | "type" | "site" | "status" | "title"
 *           | "data." key ;
 *   op      = ">" | ">=" | "<" | "<=" | "==" | "!=" ;
 *   value   = number [ "k" | "m" ] | quoted-string | bare-word ;
 *   then    = assign { ";" assign } ;
 *   assign  = "queue=" name | "priority=" digit | "delay=" number unit ;
 *   unit    = "s" | "m" | "h" ;
 *
 * Typing, decided at parse time where the field's type is known: size
 * is a number (a string value is refused); type, site, status and title
 * are strings (a number value is refused; all six operators compare
 * bytewise, a missing site compares as no string: only != matches).
 * data.<key> compares by the JSON type found at evaluation: a number
 * literal against a JSON number, a string literal against a JSON string;
 * a missing key or another type is false, never an error. Bounds:
 * RS_MAX_POLICY_TEXT characters per text, RS_MAX_POLICY_DEPTH levels of
 * parentheses and "not", checked on every recursion.
 *
 * Lexical details: a number is decimal digits, no sign, no fraction,
 * at most INT64_MAX after its suffix ("number too large" otherwise); a
 * quoted string knows the escapes \" and \\ only and may hold any
 * UTF-8; a bare word is [A-Za-z_][A-Za-z0-9_.-]* other than a keyword
 * (and or not true, lower case only) or a field; a data key is
 * [A-Za-z0-9_-]{1,64}. Spaces, tabs and line ends may surround any
 * token in "when" and "then". A text must be valid UTF-8. Any string
 * field that is NULL compares as no string (only != matches); a data
 * comparison that does not apply is false for != too.
 *
 * The layers: policy_lex.c (text checks, positions, the lexer),
 * policy_parse.c (both parsers, the compiler), policy_eval.c (the
 * evaluator); policy_eval.h documents the compiled form.
 */
#ifndef RS_POLICY_H
#define RS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct json_object;

#define RS_POLICY_QUEUE_MAX	64	/* a queue name: [a-z0-9_]{1,64} */

/* Why a text did not parse: which member, where (1-based character
 * position, counted in UTF-8 characters), and what was expected. */
struct rs_policy_error {
	const char	*member;	/* "when" or "then" */
	int		 pos;
	char		 msg[160];	/* "expected a number or string" */
};

/* A compiled "when"; opaque, owned by the caller (rs_policy_when_free). */
struct rs_policy_when;

/* A parsed "then": what is unset keeps the default. */
struct rs_policy_then {
	char		 queue[RS_POLICY_QUEUE_MAX + 1];	/* "" unset */
	int		 priority;	/* 0..9, -1 unset */
	int64_t		 delay_s;	/* seconds, -1 unset */
};

/* The record as "when" sees it; strings may be NULL (site). */
struct rs_policy_record {
	int64_t			 size;
	const char		*type;
	const char		*site;
	const char		*status;
	const char		*title;
	struct json_object	*data;		/* an object, or NULL */
};

/*
 * Compiles text into *out (one malloc'd block; *out NULL on failure).
 * RS_OK; RS_ERR_INVAL with *err filled (member "when") for a text that
 * does not parse or is out of bounds; or RS_ERR_NOMEM. err may be NULL.
 */
enum rs_err	 rs_policy_when_compile(const char *text,
		    struct rs_policy_when **out, struct rs_policy_error *err);
void		 rs_policy_when_free(struct rs_policy_when *w);
/*
 * 1 when r matches w, else 0 (never an error: see the typing rules; a
 * NULL w or r is 0). Allocates nothing; safe to call from any thread.
 */
int		 rs_policy_when_match(const struct rs_policy_when *w,
		    const struct rs_policy_record *r);
/*
 * Parses a "then" text into *out. RS_OK, or RS_ERR_INVAL with *err filled
 * (member "then") and *out left all unset. Never allocates.
 */
enum rs_err	 rs_policy_then_parse(const char *text,
		    struct rs_policy_then *out, struct rs_policy_error *err);

#endif /* RS_POLICY_H */
