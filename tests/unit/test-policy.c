/*
 * test-policy: the policy rule language (lib/policy.h): "when" texts
 * that compile and texts refused with their position and message,
 * "then" texts likewise, every operator against every kind of field,
 * and the bounds (depth, length, numbers). One line per case, with
 * __LINE__, in the manner of lighttpd's src/t/test_burl.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "policy.h"
#include "tap.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define K16		"aaaaaaaaaaaaaaaa"
#define K64		K16 K16 K16 K16
#define F_MSG		"expected a field (size, type, site, status, title, " \
			"data.<key>)"
#define OP_MSG		"expected an operator (>, >=, <, <=, ==, !=)"
#define V_MSG		"expected a number or string"
#define END_MSG		"expected \"and\", \"or\" or the end"
#define KEY_MSG		"a data key is 1 to 64 of A-Z, a-z, 0-9, _ and -"
#define BIG_MSG		"number too large"
#define ESC_MSG		"expected \\\" or \\\\ after a backslash"
#define T_MSG		"expected queue=, priority= or delay="
#define Q_MSG		"a queue is 1 to 64 of a-z, 0-9 and _"
#define P_MSG		"priority is 0 to 9"
#define D_MSG		"delay is a number with s, m or h"
#define D7_MSG		"delay is at most 7 days"
#define SEMI_MSG	"expected \";\" or the end"

/* A "when" text and, for one refused, where and why (pos 0: compiles). */
static const struct {
	int		 line;
	const char	*text;
	int		 pos;
	const char	*msg;
} whens[] = {
	{ __LINE__, "size>5120", 0, NULL },
	{ __LINE__, "size > 5k", 0, NULL },
	{ __LINE__, "size >= 5m", 0, NULL },
	{ __LINE__, "size < 0", 0, NULL },
	{ __LINE__, "size > 0k", 0, NULL },
	{ __LINE__, "size == 0m", 0, NULL },
	{ __LINE__, "size <= 9223372036854775807", 0, NULL },
	{ __LINE__, "size == 9007199254740991k", 0, NULL },
	{ __LINE__, "size != 8796093022207m", 0, NULL },
	{ __LINE__, "type == photo", 0, NULL },
	{ __LINE__, "type == \"photo\"", 0, NULL },
	{ __LINE__, "type==_x", 0, NULL },
	{ __LINE__, "type <= zzz", 0, NULL },
	{ __LINE__, "type == AND", 0, NULL },
	{ __LINE__, "site != north-1.eu", 0, NULL },
	{ __LINE__, "site!=\"\"", 0, NULL },
	{ __LINE__, "status==queued", 0, NULL },
	{ __LINE__, "status == queued and size > 1", 0, NULL },
	{ __LINE__, "title == \"a \\\"q\\\" and \\\\\"", 0, NULL },
	{ __LINE__, "title >= \"\"", 0, NULL },
	{ __LINE__, "title == \"\xe6\x97\xa5\xe6\x9c\xac\"", 0, NULL },
	{ __LINE__, "data.n > 5", 0, NULL },
	{ __LINE__, "data.n >= 5k", 0, NULL },
	{ __LINE__, "data.temp_c-1 == x", 0, NULL },
	{ __LINE__, "data.A9 == \"\"", 0, NULL },
	{ __LINE__, "data.k == data", 0, NULL },
	{ __LINE__, "data.x != \"\\\\\"", 0, NULL },
	{ __LINE__, "data." K64 " == 1", 0, NULL },
	{ __LINE__, "true", 0, NULL },
	{ __LINE__, "not true", 0, NULL },
	{ __LINE__, "not not true", 0, NULL },
	{ __LINE__, "(true)", 0, NULL },
	{ __LINE__, "((size>1))", 0, NULL },
	{ __LINE__, "not(size>1)", 0, NULL },
	{ __LINE__, "true or true and not true", 0, NULL },
	{ __LINE__, "true and true or true", 0, NULL },
	{ __LINE__, "not (size > 1 or type == a)", 0, NULL },
	{ __LINE__, "  size\t>\n1\r ", 0, NULL },
	{ __LINE__, "size>1 and(type==a)or(site==b)", 0, NULL },
	{ __LINE__, "", 1, F_MSG },
	{ __LINE__, "   ", 4, F_MSG },
	{ __LINE__, "Size > 5", 1, F_MSG },
	{ __LINE__, "sizes > 5", 1, F_MSG },
	{ __LINE__, "data > 5", 1, F_MSG },
	{ __LINE__, "\"size\" > 1", 1, F_MSG },
	{ __LINE__, "5 > size", 1, F_MSG },
	{ __LINE__, "and size > 1", 1, F_MSG },
	{ __LINE__, "()", 2, F_MSG },
	{ __LINE__, "not", 4, F_MSG },
	{ __LINE__, "not not", 8, F_MSG },
	{ __LINE__, "size > 1 and", 13, F_MSG },
	{ __LINE__, "size > 1 or or", 13, F_MSG },
	{ __LINE__, "true and", 9, F_MSG },
	{ __LINE__, "size < 1 and (type == a or)", 27, F_MSG },
	{ __LINE__, "data. > 5", 6, KEY_MSG },
	{ __LINE__, "data.a.b > 5", 6, KEY_MSG },
	{ __LINE__, "data." K64 "a > 1", 6, KEY_MSG },
	{ __LINE__, "data.\xc3\xa9 > 1", 6, KEY_MSG },
	{ __LINE__, "size", 5, OP_MSG },
	{ __LINE__, "size = 5", 6, OP_MSG },
	{ __LINE__, "size => 5", 6, OP_MSG },
	{ __LINE__, "size ! 5", 6, OP_MSG },
	{ __LINE__, "not size", 9, OP_MSG },
	{ __LINE__, "size >", 7, V_MSG },
	{ __LINE__, "size >> 5", 7, V_MSG },
	{ __LINE__, "data.n == ", 11, V_MSG },
	{ __LINE__, "type == and", 9, V_MSG },
	{ __LINE__, "type == true", 9, V_MSG },
	{ __LINE__, "type == size", 9, V_MSG },
	{ __LINE__, "type == data.x", 9, V_MSG },
	{ __LINE__, "type == @", 9, V_MSG },
	{ __LINE__, "type == 'a'", 9, V_MSG },
	{ __LINE__, "type == \xc3\xa9", 9, V_MSG },
	{ __LINE__, "size > 5kb", 8, V_MSG },
	{ __LINE__, "size > 1.5", 8, V_MSG },
	{ __LINE__, "size > -1", 8, V_MSG },
	{ __LINE__, "size > 5x", 8, V_MSG },
	{ __LINE__, "size > abc", 8,
	    "size compares with numbers, not strings" },
	{ __LINE__, "size > \"5\"", 8,
	    "size compares with numbers, not strings" },
	{ __LINE__, "type == 5", 9,
	    "type compares with strings, not numbers" },
	{ __LINE__, "site == 1k", 9,
	    "site compares with strings, not numbers" },
	{ __LINE__, "status < 2", 10,
	    "status compares with strings, not numbers" },
	{ __LINE__, "title > 0", 9,
	    "title compares with strings, not numbers" },
	{ __LINE__, "size > 5 type", 10, END_MSG },
	{ __LINE__, "size > 1)", 9, END_MSG },
	{ __LINE__, "true true", 6, END_MSG },
	{ __LINE__, "size > 1 AND size < 2", 10, END_MSG },
	{ __LINE__, "size > 1 Or true", 10, END_MSG },
	{ __LINE__, "size > 5 k", 10, END_MSG },
	{ __LINE__, "size > 1 && size < 2", 10, END_MSG },
	{ __LINE__, "type == x y", 11, END_MSG },
	{ __LINE__, "size > 1 (", 10, END_MSG },
	{ __LINE__, "true == 1", 6, END_MSG },
	{ __LINE__, "(size > 1", 10, "expected \")\"" },
	{ __LINE__, "((size > 1)", 12, "expected \")\"" },
	{ __LINE__, "type == \"abc", 9, "unterminated string" },
	{ __LINE__, "type == \"a\\\"", 9, "unterminated string" },
	{ __LINE__, "type == \"a\\b\"", 11, ESC_MSG },
	{ __LINE__, "size > 9223372036854775808", 8, BIG_MSG },
	{ __LINE__, "size > 99999999999999999999999", 8, BIG_MSG },
	{ __LINE__, "size > 9007199254740992k", 8, BIG_MSG },
	{ __LINE__, "size > 8796093022208m", 8, BIG_MSG },
	/* Positions count characters, not bytes. */
	{ __LINE__, "title == \"\xc3\xa9\" and x > 1", 18, F_MSG },
	{ __LINE__, "title == \"\xe6\x97\xa5\xe6\x9c\xac\" or \xc3\xa9", 18,
	    F_MSG },
	{ __LINE__, "type == \"\xff\"", 10, "invalid UTF-8" },
	{ __LINE__, "type == \"\xc3\x28\"", 10, "invalid UTF-8" },
	{ __LINE__, "type == \"\xed\xa0\x80\"", 10, "invalid UTF-8" },
	{ __LINE__, "type == \"\xc0\xaf\"", 10, "invalid UTF-8" },
};

/* A "then" text and what it gives, or where and why it is refused. */
static const struct {
	int		 line;
	const char	*text;
	int		 pos;
	const char	*msg;
	const char	*queue;
	int		 priority;
	int64_t		 delay_s;
} thens[] = {
	{ __LINE__, "queue=wifi", 0, NULL, "wifi", -1, -1 },
	{ __LINE__, " queue = wifi ; priority = 3 ; delay = 10m ", 0, NULL,
	    "wifi", 3, 600 },
	{ __LINE__, "priority=0", 0, NULL, "", 0, -1 },
	{ __LINE__, "priority=9;queue=a_1;delay=0s", 0, NULL, "a_1", 9, 0 },
	{ __LINE__, "delay=604800s", 0, NULL, "", -1, 604800 },
	{ __LINE__, "delay=10080m", 0, NULL, "", -1, 604800 },
	{ __LINE__, "delay=168h", 0, NULL, "", -1, 604800 },
	{ __LINE__, "delay=007h", 0, NULL, "", -1, 25200 },
	{ __LINE__, "queue=" K64, 0, NULL, K64, -1, -1 },
	{ __LINE__, "", 1, T_MSG, "", -1, -1 },
	{ __LINE__, "  ;", 3, T_MSG, "", -1, -1 },
	{ __LINE__, "timeout=5", 1, T_MSG, "", -1, -1 },
	{ __LINE__, "Queue=a", 1, T_MSG, "", -1, -1 },
	{ __LINE__, "queue=a;", 9, T_MSG, "", -1, -1 },
	{ __LINE__, "queue=a;;priority=1", 9, T_MSG, "", -1, -1 },
	{ __LINE__, "queue", 6, "expected \"=\" after queue", "", -1, -1 },
	{ __LINE__, "delay 5s", 7, "expected \"=\" after delay", "", -1, -1 },
	{ __LINE__, "queue=", 7, Q_MSG, "", -1, -1 },
	{ __LINE__, "queue=Wifi", 7, Q_MSG, "", -1, -1 },
	{ __LINE__, "queue=wi-fi", 7, Q_MSG, "", -1, -1 },
	{ __LINE__, "queue=a,priority=1", 7, Q_MSG, "", -1, -1 },
	{ __LINE__, "queue=" K64 "a", 7, Q_MSG, "", -1, -1 },
	{ __LINE__, "queue=\xc3\xa9", 7, Q_MSG, "", -1, -1 },
	{ __LINE__, "priority=1;queue=\xe6\x97\xa5\xe6\x9c\xac", 18, Q_MSG,
	    "", -1, -1 },
	{ __LINE__, "queue=a;queue=b", 9, "queue given twice", "", -1, -1 },
	{ __LINE__, "priority=1;priority=2", 12, "priority given twice", "",
	    -1, -1 },
	{ __LINE__, "delay=1s; delay=1s", 11, "delay given twice", "", -1, -1 },
	{ __LINE__, "priority=10", 10, P_MSG, "", -1, -1 },
	{ __LINE__, "priority=a", 10, P_MSG, "", -1, -1 },
	{ __LINE__, "priority=-1", 10, P_MSG, "", -1, -1 },
	{ __LINE__, "priority=", 10, P_MSG, "", -1, -1 },
	{ __LINE__, "delay=10", 7, D_MSG, "", -1, -1 },
	{ __LINE__, "delay=s", 7, D_MSG, "", -1, -1 },
	{ __LINE__, "delay=10d", 7, D_MSG, "", -1, -1 },
	{ __LINE__, "delay=10 s", 7, D_MSG, "", -1, -1 },
	{ __LINE__, "delay=10sec", 7, D_MSG, "", -1, -1 },
	{ __LINE__, "delay=604801s", 7, D7_MSG, "", -1, -1 },
	{ __LINE__, "delay=10081m", 7, D7_MSG, "", -1, -1 },
	{ __LINE__, "delay=169h", 7, D7_MSG, "", -1, -1 },
	{ __LINE__, "delay=99999999999999999999h", 7, D7_MSG, "", -1, -1 },
	{ __LINE__, "queue=a priority=1", 9, SEMI_MSG, "", -1, -1 },
};

/*
 * The records "when" is evaluated against: FULL has every kind of value,
 * BARE no site and no data, ARRAY data that is not an object.
 */
enum { FULL, BARE, ARRAY, NRECS };

static const char *const datas[NRECS] = {
	"{\"n\":5,\"d\":2.5,\"s\":\"abc\",\"b\":true,\"z\":null,"
	"\"o\":{\"n\":5},\"a\":[5],\"big\":9223372036854775807,\"neg\":-3}",
	NULL,
	"[5]",
};

static const struct {
	int		 line;
	const char	*text;
	int		 rec;
	int		 want;
} evals[] = {
	/* The seed: size>5120 routes what is larger than 5 KiB. */
	{ __LINE__, "size>5120", FULL, 0 },
	{ __LINE__, "size>5120", BARE, 1 },
	/* size, a number. */
	{ __LINE__, "size>5119", FULL, 1 },
	{ __LINE__, "size>=5120", FULL, 1 },
	{ __LINE__, "size>=5121", FULL, 0 },
	{ __LINE__, "size<5121", FULL, 1 },
	{ __LINE__, "size<5120", FULL, 0 },
	{ __LINE__, "size<=5120", FULL, 1 },
	{ __LINE__, "size<=5119", FULL, 0 },
	{ __LINE__, "size==5k", FULL, 1 },
	{ __LINE__, "size==5121", FULL, 0 },
	{ __LINE__, "size!=5k", FULL, 0 },
	{ __LINE__, "size!=1", FULL, 1 },
	/* The string fields, bytewise. */
	{ __LINE__, "type==photo", FULL, 1 },
	{ __LINE__, "type==\"photo\"", FULL, 1 },
	{ __LINE__, "type==Photo", FULL, 0 },
	{ __LINE__, "type!=photo", FULL, 0 },
	{ __LINE__, "type>photn", FULL, 1 },
	{ __LINE__, "type>photo", FULL, 0 },
	{ __LINE__, "type>=photo", FULL, 1 },
	{ __LINE__, "type<photoa", FULL, 1 },
	{ __LINE__, "type<photo", FULL, 0 },
	{ __LINE__, "type<=photo", FULL, 1 },
	{ __LINE__, "type==\"\"", BARE, 1 },
	{ __LINE__, "site==north", FULL, 1 },
	{ __LINE__, "site!=north", FULL, 0 },
	{ __LINE__, "site<norti", FULL, 1 },
	{ __LINE__, "site>=\"\"", FULL, 1 },
	{ __LINE__, "status==queued", FULL, 1 },
	{ __LINE__, "status!=synced", FULL, 1 },
	{ __LINE__, "status<=queue", FULL, 0 },
	{ __LINE__, "title==\"Caf\xc3\xa9\"", FULL, 1 },
	{ __LINE__, "title>\"Cafe\"", FULL, 1 },
	{ __LINE__, "title<\"Caf\"", FULL, 0 },
	{ __LINE__, "title==\"a\\\"b\\\\c\"", BARE, 1 },
	/* No site: no string, so only != holds. */
	{ __LINE__, "site==north", BARE, 0 },
	{ __LINE__, "site!=north", BARE, 1 },
	{ __LINE__, "site>\"\"", BARE, 0 },
	{ __LINE__, "site>=\"\"", BARE, 0 },
	{ __LINE__, "site<zzz", BARE, 0 },
	{ __LINE__, "site<=zzz", BARE, 0 },
	/* data.<key>, a JSON integer: exact. */
	{ __LINE__, "data.n==5", FULL, 1 },
	{ __LINE__, "data.n!=5", FULL, 0 },
	{ __LINE__, "data.n>4", FULL, 1 },
	{ __LINE__, "data.n>=6", FULL, 0 },
	{ __LINE__, "data.n<6", FULL, 1 },
	{ __LINE__, "data.n<=4", FULL, 0 },
	{ __LINE__, "data.big==9223372036854775807", FULL, 1 },
	{ __LINE__, "data.big>9223372036854775806", FULL, 1 },
	{ __LINE__, "data.neg<0", FULL, 1 },
	/* A JSON double. */
	{ __LINE__, "data.d>2", FULL, 1 },
	{ __LINE__, "data.d<3", FULL, 1 },
	{ __LINE__, "data.d==2", FULL, 0 },
	{ __LINE__, "data.d!=2", FULL, 1 },
	{ __LINE__, "data.d>=3", FULL, 0 },
	{ __LINE__, "data.d<=2", FULL, 0 },
	/* A JSON string. */
	{ __LINE__, "data.s==abc", FULL, 1 },
	{ __LINE__, "data.s==\"abc\"", FULL, 1 },
	{ __LINE__, "data.s!=abc", FULL, 0 },
	{ __LINE__, "data.s>abb", FULL, 1 },
	{ __LINE__, "data.s<abcd", FULL, 1 },
	{ __LINE__, "data.s>=abd", FULL, 0 },
	{ __LINE__, "data.s<=abc", FULL, 1 },
	/* Another type than the literal's, or none: false, even for !=. */
	{ __LINE__, "data.n==\"5\"", FULL, 0 },
	{ __LINE__, "data.n!=\"5\"", FULL, 0 },
	{ __LINE__, "data.s==1", FULL, 0 },
	{ __LINE__, "data.s!=1", FULL, 0 },
	{ __LINE__, "data.b==1", FULL, 0 },
	{ __LINE__, "data.b!=1", FULL, 0 },
	{ __LINE__, "data.z==1", FULL, 0 },
	{ __LINE__, "data.z!=x", FULL, 0 },
	{ __LINE__, "data.o==5", FULL, 0 },
	{ __LINE__, "data.a!=5", FULL, 0 },
	{ __LINE__, "data.nope==1", FULL, 0 },
	{ __LINE__, "data.nope!=1", FULL, 0 },
	{ __LINE__, "not data.nope==1", FULL, 1 },
	{ __LINE__, "data.n==5", BARE, 0 },
	{ __LINE__, "data.n!=5", BARE, 0 },
	{ __LINE__, "data.n==5", ARRAY, 0 },
	/* true, not, precedence, parentheses. */
	{ __LINE__, "true", FULL, 1 },
	{ __LINE__, "not true", FULL, 0 },
	{ __LINE__, "not not true", FULL, 1 },
	{ __LINE__, "true or true and not true", FULL, 1 },
	{ __LINE__, "(true or true) and not true", FULL, 0 },
	{ __LINE__, "size>1 or size>1 and size<0", FULL, 1 },
	{ __LINE__, "not size>1 or true", FULL, 1 },
	{ __LINE__, "not (size>1 or type==x)", FULL, 0 },
	{ __LINE__, "type==photo and site==north and status==queued", FULL, 1 },
	{ __LINE__, "type==photo and (site==x or status==queued)", FULL, 1 },
	{ __LINE__, "(type==photo and site==x) or status==x", FULL, 0 },
	{ __LINE__, "type==video or site==x or title==\"Caf\xc3\xa9\"", FULL,
	    1 },
};

/* Checks in main() beyond one per table row. */
#define NSPECIAL	14

static struct json_object *
parse(const char *s)
{
	struct json_object	*o;

	if (s == NULL)
		return NULL;
	o = json_tokener_parse(s);
	TAP_SETUP(o != NULL);
	return o;
}

/* Compiles text and checks the answer against row i of whens. */
static void
test_when(size_t i)
{
	struct rs_policy_when	*w = NULL;
	struct rs_policy_error	 err;
	enum rs_err		 rc;
	char			 name[128];
	int			 ok;

	memset(&err, 0, sizeof(err));
	rc = rs_policy_when_compile(whens[i].text, &w, &err);
	snprintf(name, sizeof(name), "when, line %d", whens[i].line);
	if (whens[i].pos == 0)
		ok = rc == RS_OK && w != NULL;
	else
		ok = rc == RS_ERR_INVAL && w == NULL && err.pos ==
		    whens[i].pos && strcmp(err.msg, whens[i].msg) == 0 &&
		    err.member != NULL && strcmp(err.member, "when") == 0;
	if (!tap_result(ok, name, __FILE__, whens[i].line, "compile"))
		tap_diag("got rc %d, pos %d, \"%s\"", (int)rc, err.pos,
		    err.msg);
	rs_policy_when_free(w);
}

/* Parses text and checks the answer against row i of thens. */
static void
test_then(size_t i)
{
	struct rs_policy_then	 t;
	struct rs_policy_error	 err;
	enum rs_err		 rc;
	char			 name[128];
	int			 ok;

	memset(&err, 0, sizeof(err));
	rc = rs_policy_then_parse(thens[i].text, &t, &err);
	snprintf(name, sizeof(name), "then, line %d", thens[i].line);
	if (thens[i].pos == 0)
		ok = rc == RS_OK;
	else
		ok = rc == RS_ERR_INVAL && err.pos == thens[i].pos &&
		    strcmp(err.msg, thens[i].msg) == 0 &&
		    err.member != NULL && strcmp(err.member, "then") == 0;
	ok = ok && strcmp(t.queue, thens[i].queue) == 0 &&
	    t.priority == thens[i].priority && t.delay_s == thens[i].delay_s;
	if (!tap_result(ok, name, __FILE__, thens[i].line, "parse"))
		tap_diag("got rc %d, pos %d, \"%s\"; queue \"%s\", "
		    "priority %d, delay %jd", (int)rc, err.pos, err.msg,
		    t.queue, t.priority, (intmax_t)t.delay_s);
}

/* 1 when text compiles and its answer for r is want. */
static int
when_is(const char *text, const struct rs_policy_record *r, int want)
{
	struct rs_policy_when	*w;
	struct rs_policy_error	 err;
	int			 got;

	if (rs_policy_when_compile(text, &w, &err) != RS_OK) {
		tap_diag("\"%.40s\": %d: %s", text, err.pos, err.msg);
		return 0;
	}
	got = rs_policy_when_match(w, r);
	rs_policy_when_free(w);
	return got == want;
}

/* 1 when text is refused at pos with msg. */
static int
when_refused(const char *text, int pos, const char *msg)
{
	struct rs_policy_when	*w = NULL;
	struct rs_policy_error	 err;

	memset(&err, 0, sizeof(err));
	if (rs_policy_when_compile(text, &w, &err) != RS_ERR_INVAL ||
	    w != NULL || err.pos != pos || strcmp(err.msg, msg) != 0) {
		tap_diag("got pos %d, \"%s\"", err.pos, err.msg);
		rs_policy_when_free(w);
		return 0;
	}
	return 1;
}

/* Appends n copies of s to buf (room enough). */
static char *
cat(char *buf, const char *s, int n)
{
	while (n-- > 0)
		strcat(buf, s);
	return buf;
}

/* Depth: 32 levels of parentheses or "not" are fine, 33 are not. */
static void
test_depth(const struct rs_policy_record *r)
{
	char	 buf[2048];

	buf[0] = '\0';
	cat(cat(cat(buf, "(", 32), "size>1", 1), ")", 32);
	TAP_OK(when_is(buf, r, 1), "32 parentheses");
	buf[0] = '\0';
	cat(cat(cat(buf, "(", 33), "size>1", 1), ")", 33);
	TAP_OK(when_refused(buf, 33, "nesting deeper than 32"),
	    "33 parentheses");
	buf[0] = '\0';
	TAP_OK(when_is(cat(cat(buf, "not ", 32), "true", 1), r, 1),
	    "32 nots");
	buf[0] = '\0';
	TAP_OK(when_refused(cat(cat(buf, "not ", 33), "true", 1), 129,
	    "nesting deeper than 32"), "33 nots");
	/* The deepest stack: two values wait at each of 33 levels. */
	buf[0] = '\0';
	cat(cat(cat(buf, "size<0 or true and (", 32), "true", 1), ")", 32);
	TAP_OK(when_is(buf, r, 1), "32 levels, two values waiting on each");
	/* "not (" is two levels: the "not" and the parenthesis. */
	buf[0] = '\0';
	cat(cat(cat(buf, "not (", 16), "true", 1), ")", 16);
	TAP_OK(when_is(buf, r, 1), "16 nots, 16 parentheses");
	buf[0] = '\0';
	cat(cat(cat(buf, "not (", 16), "not true", 1), ")", 16);
	TAP_OK(when_refused(buf, 81, "nesting deeper than 32"),
	    "17 nots, 16 parentheses");
}

/* Length: RS_MAX_POLICY_TEXT characters, counted as characters. */
static void
test_length(const struct rs_policy_record *r)
{
	static char		 buf[4096];
	struct rs_policy_then	 t;
	struct rs_policy_error	 err;

	snprintf(buf, sizeof(buf), "size > 1%*s", 1024 - 8, "");
	TAP_OK(when_is(buf, r, 1), "1024 characters");
	strcat(buf, " ");
	TAP_OK(when_refused(buf, 1025, "longer than 1024 characters"),
	    "1025 characters");
	buf[0] = '\0';
	cat(cat(cat(buf, "title != \"", 1), "\xc3\xa9", 1013), "\"", 1);
	TAP_OK(when_is(buf, r, 1), "1024 characters in 2037 bytes");
	buf[0] = '\0';
	cat(cat(cat(buf, "title != \"", 1), "\xc3\xa9", 1014), "\"", 1);
	TAP_OK(when_refused(buf, 1025, "longer than 1024 characters"),
	    "1025 characters in 2039 bytes");
	snprintf(buf, sizeof(buf), "queue=a%*s", 1024 - 7, "");
	TAP_OK(rs_policy_then_parse(buf, &t, &err) == RS_OK &&
	    strcmp(t.queue, "a") == 0, "then of 1024 characters");
	strcat(buf, " ");
	TAP_OK(rs_policy_then_parse(buf, &t, &err) == RS_ERR_INVAL &&
	    err.pos == 1025 && strcmp(err.member, "then") == 0,
	    "then of 1025 characters");
}

int
main(void)
{
	struct rs_policy_record	 recs[NRECS] = {
		{ 5120, "photo", "north", "queued", "Caf\xc3\xa9", NULL },
		{ 6000, "", NULL, "synced", "a\"b\\c", NULL },
		{ 1, "photo", "north", "queued", "x", NULL },
	};
	size_t			 i;
	char			 name[128];

	tap_plan((int)(NITEMS(whens) + NITEMS(thens) + NITEMS(evals)) +
	    NSPECIAL);
	for (i = 0; i < NRECS; i++)
		recs[i].data = parse(datas[i]);
	for (i = 0; i < NITEMS(whens); i++)
		test_when(i);
	for (i = 0; i < NITEMS(thens); i++)
		test_then(i);
	for (i = 0; i < NITEMS(evals); i++) {
		snprintf(name, sizeof(name), "match, line %d", evals[i].line);
		tap_result(when_is(evals[i].text, &recs[evals[i].rec],
		    evals[i].want), name, __FILE__, evals[i].line,
		    evals[i].text);
	}
	test_depth(&recs[FULL]);
	test_length(&recs[FULL]);
	TAP_OK(rs_policy_when_match(NULL, &recs[FULL]) == 0,
	    "no compiled when matches nothing");
	for (i = 0; i < NRECS; i++)
		json_object_put(recs[i].data);
	return tap_done();
}
