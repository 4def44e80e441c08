/*
 * fuzz-json.c: a libFuzzer target for the strict JSON parser (json.h).
 * Built and run by tests/fuzz/run; seeds in tests/fuzz/corpus/json/.
 *
 * The input, all its bytes, is one request body. Beyond what the
 * sanitizers catch, the target abort()s when:
 *
 *   - a refusal is not -1 with *out NULL and a message "at byte N: ..."
 *     (N within the input) in the NUL-terminated err;
 *   - an accepted value does not come back the same (fuzz_json_same)
 *     from its compact form and from its canonical form re-parsed by
 *     rs_json_parse, or the canonical form of that is not the same bytes
 *     (canonical is a fixed point: Idempotency-Key hashes rely on it);
 *   - json-c's own tokener in strict mode (JSON_TOKENER_STRICT, UTF-8
 *     validated, the same depth) accepts the whole input too and makes a
 *     different value of it (but for an integer past 64 bits, which
 *     json-c clamps and we keep as a double). What only one accepts is not
 *     judged: ours refuses more (a member name given twice, U+0000 in a
 *     name, numbers past a double, invalid UTF-8 that json-c passes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "json.h"

#define FUZZ_NAME	"json"
#include "fuzz.h"

static void
fz_refused(size_t size, struct json_object *o, const char *err, size_t errsz)
{
	size_t	 at;
	char	 rest;

	CHECK(o == NULL);
	CHECK(memchr(err, '\0', errsz) != NULL);
	CHECK(sscanf(err, "at byte %zu: %c", &at, &rest) == 2);
	CHECK(at <= size);
}

/* Parses s (ours) and returns the value; aborts when it is refused. */
static struct json_object *
fz_reparse(const char *s)
{
	struct json_object	*o;
	char			 err[128];

	CHECK(s != NULL);
	if (rs_json_parse(s, strlen(s), &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz-json: refused %s: %s\n", s, err);
		CHECK(!"what we wrote parses again");
	}
	return o;
}

/* json-c's strict reading of the whole input, or NULL with *ok 0. */
static struct json_object *
fz_jsonc(const uint8_t *data, size_t size, int *ok)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 end;

	*ok = 0;
	if (size > INT32_MAX ||
	    (tok = json_tokener_new_ex(RS_MAX_JSON_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	end = json_tokener_get_parse_end(tok);
	/* Trailing whitespace is the input's too; anything else is not. */
	while (end < size && (data[end] == ' ' || data[end] == '\t' ||
	    data[end] == '\n' || data[end] == '\r'))
		end++;
	if (json_tokener_get_error(tok) == json_tokener_success &&
	    end == size)
		*ok = 1;
	else {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/*
 * 1 when the text holds a \uD800-\uDBFF escape. Debian's json-c reads
 * some valid surrogate pairs ("\ud836\ude00", U+1DA00) as U+FFFD; we read
 * them as RFC 8259 (and Python, and browsers) do, so json-c is no judge of
 * such a text. (Over-matches an escaped backslash before "u": harmless.)
 */
static int
fz_surrogate_escape(const uint8_t *data, size_t size)
{
	size_t	 i;

	for (i = 0; i + 3 < size; i++)
		if (data[i] == '\\' && data[i + 1] == 'u' &&
		    (data[i + 2] == 'd' || data[i + 2] == 'D') &&
		    strchr("89abAB", data[i + 3]) != NULL && data[i + 3] != 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*o, *c, *k, *theirs;
	char			 err[128], *canon, *canon2;
	int			 ok;

	memset(err, 'x', sizeof(err));
	if (rs_json_parse((const char *)data, size, &o, err,
	    sizeof(err)) != 0) {
		fz_refused(size, o, err, sizeof(err));
		return 0;
	}
	CHECK(err[0] == '\0');

	/* The compact form: what answers are made of. */
	c = fz_reparse(rs_json_compact(o));
	CHECK(fuzz_json_same(o, c));
	json_object_put(c);

	/* The canonical form: what Idempotency-Key and audit hashes see. */
	canon = rs_json_canonical(o);
	k = fz_reparse(canon);
	CHECK(fuzz_json_same(o, k));
	canon2 = rs_json_canonical(k);
	CHECK(canon2 != NULL && strcmp(canon, canon2) == 0);
	free(canon2);
	free(canon);
	json_object_put(k);

	/* json-c in strict mode, where it accepts the input too. */
	theirs = fz_jsonc(data, size, &ok);
	if (ok && !fz_surrogate_escape(data, size) &&
	    !fuzz_json_same_ex(o, theirs, 1)) {
		fprintf(stderr, "fuzz-json: ours %s\n", rs_json_compact(o));
		fprintf(stderr, "fuzz-json: json-c's %s\n",
		    json_object_to_json_string_ext(theirs,
		    JSON_C_TO_STRING_PLAIN));
		CHECK(!"json-c strict reads the same value");
	}
	json_object_put(theirs);
	json_object_put(o);
	return 0;
}
