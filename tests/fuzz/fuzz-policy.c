/*
 * fuzz-policy.c: a libFuzzer target for the policy language (policy.h).
 * Built and run by tests/fuzz/run; seeds in tests/fuzz/corpus/policy/.
 *
 * The input, up to its first NUL byte, is one text given to both
 * parsers: rs_policy_when_compile and rs_policy_then_parse (a text
 * that one of them refuses still exercises the other, and one corpus
 * serves both). A "when" that compiles is matched against fixed
 * records and freed. Beyond what the sanitizers catch, the target
 * abort()s when a promise of policy.h is broken:
 *
 *   - refused: RS_ERR_INVAL, *out NULL (when) or all unset (then),
 *     err.member "when" or "then", err.msg non-empty and terminated,
 *     err.pos within 1 .. characters + 1;
 *   - accepted: a non-NULL "when"; a "then" with at least one value set,
 *     each within its bounds;
 *   - a match is 0 or 1, the same on a second call, 0 for a NULL
 *     record, and "not (text)", when it compiles, answers the opposite.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "policy.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NRECS	4

static struct rs_policy_record	 recs[NRECS];

/* Stops the run: the fuzzer reports the input and this stack. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-policy: %s:%d: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The characters of text as policy_lex counts them: non-continuation bytes. */
static int
fz_chars(const char *text)
{
	int	 n = 0;

	for (; *text != '\0'; text++)
		if (((unsigned char)*text & 0xc0) != 0x80)
			n++;
	return n;
}

/* The promises about a refusal of text for member. */
static void
fz_refused(const char *text, const struct rs_policy_error *err,
    const char *member)
{
	CHECK(err->member != NULL && strcmp(err->member, member) == 0);
	CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	CHECK(err->msg[0] != '\0');
	CHECK(err->pos >= 1 && err->pos <= fz_chars(text) + 1);
}

/* 1 when s is a queue name: [a-z0-9_]{1,64}. */
static int
fz_queue(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > RS_POLICY_QUEUE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static void
fz_then(const char *text)
{
	struct rs_policy_then	 t;
	struct rs_policy_error	 err;
	enum rs_err		 rc;

	memset(&err, 0, sizeof(err));
	rc = rs_policy_then_parse(text, &t, &err);
	CHECK(rc == RS_OK || rc == RS_ERR_INVAL);
	CHECK(memchr(t.queue, '\0', sizeof(t.queue)) != NULL);
	if (rc != RS_OK) {
		fz_refused(text, &err, "then");
		CHECK(t.queue[0] == '\0' && t.priority == -1 &&
		    t.delay_s == -1);
		return;
	}
	CHECK(t.queue[0] != '\0' || t.priority != -1 || t.delay_s != -1);
	CHECK(t.queue[0] == '\0' || fz_queue(t.queue));
	CHECK(t.priority >= -1 && t.priority <= 9);
	CHECK(t.delay_s >= -1 && t.delay_s <= 7 * 86400);
}

/* Compiles text: the compiled form, or NULL with the refusal checked. */
static struct rs_policy_when *
fz_compile(const char *text)
{
	struct rs_policy_when	*w = (struct rs_policy_when *)1;
	struct rs_policy_error	 err;
	enum rs_err		 rc;

	memset(&err, 0, sizeof(err));
	rc = rs_policy_when_compile(text, &w, &err);
	CHECK(rc == RS_OK || rc == RS_ERR_INVAL || rc == RS_ERR_NOMEM);
	if (rc == RS_OK) {
		CHECK(w != NULL);
		return w;
	}
	CHECK(w == NULL);
	if (rc == RS_ERR_INVAL)
		fz_refused(text, &err, "when");
	return NULL;
}

static void
fz_when(const char *text, size_t len)
{
	struct rs_policy_when	*w, *nw;
	char			*neg;
	int			 got[NRECS], m;
	size_t			 i;

	if ((w = fz_compile(text)) == NULL)
		return;
	for (i = 0; i < NRECS; i++) {
		got[i] = rs_policy_when_match(w, &recs[i]);
		CHECK(got[i] == 0 || got[i] == 1);
		CHECK(rs_policy_when_match(w, &recs[i]) == got[i]);
	}
	CHECK(rs_policy_when_match(w, NULL) == 0);
	CHECK(rs_policy_when_match(NULL, &recs[0]) == 0);
	rs_policy_when_free(w);

	/* The same text, negated: tokens cannot run into "(" or ")". */
	if ((neg = malloc(len + 7)) == NULL)
		return;
	memcpy(neg, "not (", 5);
	memcpy(neg + 5, text, len);
	memcpy(neg + 5 + len, ")", 2);
	if ((nw = fz_compile(neg)) != NULL) {
		for (i = 0; i < NRECS; i++) {
			m = rs_policy_when_match(nw, &recs[i]);
			CHECK(m == !got[i]);
		}
		rs_policy_when_free(nw);
	}
	free(neg);
}

/* Builds the records once: rich data, no data, NULL site, empty strings. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_object	*d, *e;

	(void)argc;
	(void)argv;
	d = json_tokener_parse("{\"kind\":\"invoice\",\"n\":42,\"f\":2.5,"
	    "\"big\":9223372036854775807,\"neg\":-7,\"s\":\"Caf\\u00e9\","
	    "\"x-y\":\"q\",\"o\":{\"a\":1},\"a\":[1,2],\"b\":true,"
	    "\"z\":null,\"e\":\"\"}");
	e = json_object_new_object();
	if (d == NULL || e == NULL)
		abort();
	json_object_object_add(d, "nan", json_object_new_double(NAN));
	recs[0] = (struct rs_policy_record){ 5121, "photo", "north",
	    "queued", "Caf\xc3\xa9", d };
	recs[1] = (struct rs_policy_record){ 0, "", NULL, "", "", NULL };
	recs[2] = (struct rs_policy_record){ INT64_MAX, "doc", NULL,
	    "synced", "a\"b\\c", e };
	recs[3] = (struct rs_policy_record){ 1024, "invoice", "", "failed",
	    "\xf0\x9f\x98\x80", d };
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text;
	size_t	 len;

	len = strnlen((const char *)data, size);
	if ((text = malloc(len + 1)) == NULL)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	fz_when(text, len);
	fz_then(text);
	free(text);
	return 0;
}
