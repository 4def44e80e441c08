/*
 * test-audit: the canonical JSON of audit entries and their hash
 * (lib/audit.h). The expected texts were made independently: by a
 * key-sorting JSON.stringify in Node (v20), and the hash by Python's
 * hashlib.blake2b(digest_size=32) over the same bytes; they are pasted
 * here, not computed by the code under test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "audit.h"
#include "json.h"
#include "tap.h"

/* The canonical JSON of the JSON text in (parsed strictly), or NULL. */
static char *
canon_text(const char *in, enum rs_err *rc)
{
	struct json_object	*o;
	struct rs_audit_buf	 b;
	char			 err[64];

	memset(&b, 0, sizeof(b));
	TAP_SETUP(rs_json_parse(in, strlen(in), &o, err, sizeof(err)) == 0);
	*rc = rs_audit_canon(o, &b);
	json_object_put(o);
	if (*rc != RS_OK) {
		rs_audit_buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* Checks that in's canonical form is want. */
static void
is_canon(const char *in, const char *want, const char *name)
{
	enum rs_err	 rc;
	char		*got = canon_text(in, &rc);

	TAP_IS_STR(got, want, name);
	free(got);
}

/* The canonical form of object o (taken), or NULL with *rc. */
static char *
canon_obj(struct json_object *o, enum rs_err *rc)
{
	struct rs_audit_buf	 b;

	memset(&b, 0, sizeof(b));
	*rc = rs_audit_canon(o, &b);
	json_object_put(o);
	if (*rc != RS_OK) {
		rs_audit_buf_free(&b);
		return NULL;
	}
	return b.p;
}

static void
test_audit_member_order(void)
{
	is_canon("{\"b\":1,\"a\":2,\"A\":3,\"_\":4,\"aa\":5,\"\":6}",
	    "{\"\":6,\"A\":3,\"_\":4,\"a\":2,\"aa\":5,\"b\":1}",
	    "audit canon: members sorted by name, a prefix first");
	is_canon("{\"z\":{\"y\":[3,{\"b\":true,\"a\":false}],\"x\":null}}",
	    "{\"z\":{\"x\":null,\"y\":[3,{\"a\":false,\"b\":true}]}}",
	    "audit canon: nested objects sorted, array order kept");
	/* JS sort: é (U+00E9) < 😀 (D83D DE00) < ！ (U+FF01). */
	is_canon("{\"\\uff01\":1,\"\\ud83d\\ude00\":2,\"\\u00e9\":3}",
	    "{\"\xc3\xa9\":3,\"\xf0\x9f\x98\x80\":2,\"\xef\xbc\x81\":1}",
	    "audit canon: names sorted by UTF-16 code units, not code points");
	is_canon(" { \"a\" : [ 1 , 2 ] } ", "{\"a\":[1,2]}",
	    "audit canon: no whitespace");
}

static void
test_audit_escapes(void)
{
	struct json_object	*s;
	enum rs_err		 rc;
	char			 in[32], *got;
	int			 c;

	for (c = 0; c < 0x20; c++)
		in[c] = (char)c;
	s = json_object_new_string_len(in, 0x20);
	TAP_SETUP(s != NULL);
	got = canon_obj(s, &rc);
	TAP_IS_STR(got, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006"
	    "\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012"
	    "\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b"
	    "\\u001c\\u001d\\u001e\\u001f\"",
	    "audit canon: every control character as JSON.stringify writes "
	    "it (short forms, else lower-case \\u00xx)");
	free(got);
	is_canon("\"q\\\"b\\\\s\\/e\"", "\"q\\\"b\\\\s/e\"",
	    "audit canon: quote and backslash escaped, slash not");
	is_canon("\"\\u007f\\u00e9\\u2713\\ud83d\\ude00\\u2028\"",
	    "\"\x7f\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80\xe2\x80\xa8\"",
	    "audit canon: DEL, non-ASCII and U+2028 kept as literal UTF-8");
	TAP_IS_INT(canon_obj(json_object_new_string("\xc3\x28"), &rc) == NULL ?
	    rc : RS_OK, RS_ERR_INVAL,
	    "audit canon: a string that is not UTF-8 is refused");
	TAP_IS_INT(canon_obj(json_object_new_string("\xed\xa0\x80"), &rc) ==
	    NULL ? rc : RS_OK, RS_ERR_INVAL,
	    "audit canon: an encoded surrogate is refused");
	TAP_IS_INT(canon_obj(json_object_new_string("\xc0\xaf"), &rc) ==
	    NULL ? rc : RS_OK, RS_ERR_INVAL,
	    "audit canon: an overlong form is refused");
}

static void
test_audit_numbers(void)
{
	enum rs_err	 rc;
	char		*got;

	is_canon("[0,-5,42,9007199254740991,-9007199254740991]",
	    "[0,-5,42,9007199254740991,-9007199254740991]",
	    "audit canon: integers in decimal, no sign for non-negatives");
	got = canon_text("[9007199254740992]", &rc);
	TAP_OK(got == NULL && rc == RS_ERR_RANGE,
	    "audit canon: an integer past 2^53 - 1 is RS_ERR_RANGE");
	free(got);
	got = canon_obj(json_object_new_double(1.5), &rc);
	TAP_OK(got == NULL && rc == RS_ERR_INVAL,
	    "audit canon: a fraction is RS_ERR_INVAL");
	free(got);
	got = canon_obj(json_object_new_double(2.0), &rc);
	TAP_IS_STR(got, "2", "audit canon: an integral double is an integer");
	free(got);
	got = canon_obj(json_object_new_double(-0.0), &rc);
	TAP_IS_STR(got, "0", "audit canon: -0 is 0, as JSON.stringify");
	free(got);
	is_canon("[true,false,null]", "[true,false,null]",
	    "audit canon: true, false, null");
}

static void
test_audit_raw_and_depth(void)
{
	struct json_object	*o;
	enum rs_err		 rc;
	char			*got;
	int			 i;

	o = json_object_new_object();
	TAP_SETUP(o != NULL && json_object_object_add(o, "e",
	    rs_json_raw("{\"b\":1, \"a\":\"x\\/y\"}", 19)) == 0);
	got = canon_obj(o, &rc);
	TAP_IS_STR(got, "{\"e\":{\"a\":\"x/y\",\"b\":1}}",
	    "audit canon: a raw JSON value is written in canonical form");
	free(got);
	o = json_object_new_array();
	TAP_SETUP(o != NULL);
	for (i = 0; i < RS_MAX_JSON_DEPTH + 1; i++) {
		struct json_object *in = json_object_new_array();

		TAP_SETUP(in != NULL && json_object_array_add(in, o) == 0);
		o = in;
	}
	got = canon_obj(o, &rc);
	TAP_OK(got == NULL && rc == RS_ERR_RANGE,
	    "audit canon: nesting past RS_MAX_JSON_DEPTH is RS_ERR_RANGE");
	free(got);
}

static void
test_audit_detail(void)
{
	struct json_object	*o;
	char			*d;

	TAP_OK(rs_audit_detail(NULL, &d) == RS_OK && d != NULL &&
	    strcmp(d, "{}") == 0, "audit detail: none is {}");
	free(d);
	o = json_object_new_array();
	TAP_IS_INT(rs_audit_detail(o, &d), RS_ERR_INVAL,
	    "audit detail: an array is not a detail");
	TAP_OK(d == NULL, "audit detail: and gives no text");
	json_object_put(o);
}

/* The fixed entry of test_audit_entry; detail set by the caller. */
static void
entry_fill(struct rs_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->n = 7;
	e->at = INT64_C(1764179121123);		/* 2025-11-26T17:45:21.123Z */
	e->org_id = "org_01TEST";
	e->actor_type = "user";
	e->actor_id = "usr_01ANN";
	e->action = "record.create";
	e->target = "rec_01X";
	e->request_id = "req_01Y";
	e->ip = "203.0.113.9";
	memset(e->prev_hash, 0, sizeof(e->prev_hash));
	for (int i = 0; i < RS_AUDIT_HASH_HEX; i += 2)
		memcpy(e->prev_hash + i, "ab", 2);
}

static void
test_audit_entry(void)
{
	struct rs_audit_entry	 e;
	struct rs_audit_buf	 b;
	struct json_object	*d, *fields;
	char			*detail;
	static const char	 want[] =
	    "{\"action\":\"record.create\",\"actor\":{\"id\":\"usr_01ANN\","
	    "\"type\":\"user\"},\"at\":\"2025-11-26T17:45:21.123Z\","
	    "\"detail\":{\"fields\":[\"title\",\"data\"],\"note\":\"a/b "
	    "\\\"q\\\" \\\\ \\n\\u0001\\u001f\x7f"" \xc3""\xa9"" \xe2""\x9c"
	    "\x93"" \xf0""\x9f""\x98""\x80""\",\"version\":3},"
	    "\"ip\":\"203.0.113.9\",\"org_id\":\"org_01TEST\","
	    "\"prev_hash\":\"abababababababababababababababababababababab"
	    "abababababababababab\",\"request_id\":\"req_01Y\",\"seq\":7,"
	    "\"target\":\"rec_01X\"}";

	d = json_object_new_object();
	fields = json_object_new_array();
	TAP_SETUP(d != NULL && fields != NULL &&
	    json_object_array_add(fields, json_object_new_string("title")) ==
	    0 && json_object_array_add(fields,
	    json_object_new_string("data")) == 0 &&
	    json_object_object_add(d, "version", json_object_new_int(3)) ==
	    0 && json_object_object_add(d, "note", json_object_new_string(
	    "a/b \"q\" \\ \n\x01\x1f\x7f \xc3\xa9 \xe2\x9c\x93 "
	    "\xf0\x9f\x98\x80")) == 0 &&
	    json_object_object_add(d, "fields", fields) == 0);
	TAP_SETUP(rs_audit_detail(d, &detail) == RS_OK);
	json_object_put(d);
	entry_fill(&e);
	e.detail = detail;
	memset(&b, 0, sizeof(b));
	TAP_IS_INT(rs_audit_entry_canon(&e, &b), RS_OK,
	    "audit entry: canonical form made");
	TAP_IS_STR(b.p, want,
	    "audit entry: byte for byte what a key-sorting JSON.stringify "
	    "writes");
	rs_audit_buf_free(&b);
	TAP_IS_INT(rs_audit_seal(&e), RS_OK, "audit entry: sealed");
	TAP_IS_STR(e.hash,
	    "c6d7c91da07d2287f231c9c86655cfff3aa65343962513f1e314b78bf56346e6",
	    "audit entry: BLAKE2b-256 of prev_hash and the canonical JSON, "
	    "as hashlib.blake2b(digest_size=32) computes it");
	e.target = NULL;
	e.request_id = NULL;
	e.ip = NULL;
	memset(&b, 0, sizeof(b));
	TAP_SETUP(rs_audit_entry_canon(&e, &b) == RS_OK);
	TAP_HAS_STR(b.p, "\"ip\":null,", "audit entry: no ip is null");
	TAP_HAS_STR(b.p, "\"request_id\":null,\"seq\":7,\"target\":null}",
	    "audit entry: no request id, no target are null");
	rs_audit_buf_free(&b);
	free(detail);
}

static void
test_audit_genesis_hash(void)
{
	char	 hex[RS_AUDIT_HASH_HEX + 1];

	TAP_IS_INT(strlen(rs_audit_genesis), RS_AUDIT_HASH_HEX,
	    "audit genesis: 64 characters");
	TAP_OK(strspn(rs_audit_genesis, "0") == RS_AUDIT_HASH_HEX,
	    "audit genesis: all \"0\"");
	/* python3: blake2b(b"0" * 64 + b"{}", digest_size=32) */
	rs_audit_hash(rs_audit_genesis, "{}", 2, hex);
	TAP_IS_STR(hex,
	    "8b8b2b05207a232a1f85084a3109c163444436185e60823f5e09004709a5ef5a",
	    "audit hash: over prev_hash then the text");
}

static void
test_audit_check(void)
{
	struct rs_audit_entry	 e;

	entry_fill(&e);
	e.detail = "{}";
	TAP_IS_INT(rs_audit_check(&e), RS_OK, "audit check: a whole entry");
	e.action = NULL;
	TAP_IS_INT(rs_audit_check(&e), RS_ERR_INVAL,
	    "audit check: no action");
	e.action = "record";
	TAP_IS_INT(rs_audit_check(&e), RS_ERR_INVAL,
	    "audit check: an action without its dot");
	e.action = "Record.Create";
	TAP_IS_INT(rs_audit_check(&e), RS_ERR_INVAL,
	    "audit check: an action in capitals");
	e.action = "webhook.rotate_secret";
	TAP_IS_INT(rs_audit_check(&e), RS_OK,
	    "audit check: webhook.rotate_secret");
	e.actor_type = "robot";
	TAP_IS_INT(rs_audit_check(&e), RS_ERR_INVAL,
	    "audit check: an actor type other than user or system");
	e.actor_type = "system";
	e.actor_id = NULL;
	TAP_IS_INT(rs_audit_check(&e), RS_ERR_INVAL,
	    "audit check: an actor without an id");
}

int
main(void)
{
	tap_plan(37);
	TAP_SETUP(sodium_init() >= 0);
	test_audit_member_order();
	test_audit_escapes();
	test_audit_numbers();
	test_audit_raw_and_depth();
	test_audit_detail();
	test_audit_entry();
	test_audit_genesis_hash();
	test_audit_check();
	return tap_done();
}
