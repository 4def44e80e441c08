#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "clock.h"
#include "json.h"
#include "audit.h"

const char rs_audit_genesis[RS_AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void
rs_audit_buf_free(struct rs_audit_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Appends s[0..len) to b; 0, or -1 (b->nomem set) when out of memory. */
static int
rs_audit_put(struct rs_audit_buf *b, const char *s, size_t len)
{
	size_t	 cap;
	char	*p;

	if (b->nomem)
		return -1;
	if (b->len + len + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 256; cap < b->len + len + 1;
		    cap *= 2)
			;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->nomem = 1;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

static int
rs_audit_puts(struct rs_audit_buf *b, const char *s)
{
	return rs_audit_put(b, s, strlen(s));
}

/*
 * The length of the UTF-8 sequence at s[0..len) and its code point in
 * *cp, or 0 when it is not well-formed UTF-8 (overlong forms, surrogates
 * and code points past U+10FFFF are not).
 */
static size_t
rs_audit_utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t	 c = s[0], min;
	size_t		 n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

enum rs_err
rs_audit_canon_string(struct rs_audit_buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	char			 esc[7];
	size_t			 i = 0, run = 0, n;
	uint32_t		 cp;

	if (rs_audit_put(b, "\"", 1) != 0)
		return RS_ERR_NOMEM;
	/* Runs of bytes kept as they are go out in one copy. */
	while (i < len) {
		if (u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' &&
		    u[i] != '\\') {
			i++;
			continue;
		}
		if (u[i] >= 0x80) {
			if ((n = rs_audit_utf8(u + i, len - i, &cp)) == 0)
				return RS_ERR_INVAL;
			i += n;
			continue;
		}
		if (rs_audit_put(b, s + run, i - run) != 0)
			return RS_ERR_NOMEM;
		esc[0] = '\\';
		esc[2] = '\0';
		switch (u[i]) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			esc[6] = '\0';
			break;
		}
		if (rs_audit_puts(b, esc) != 0)
			return RS_ERR_NOMEM;
		run = ++i;
	}
	if (rs_audit_put(b, s + run, i - run) != 0 ||
	    rs_audit_put(b, "\"", 1) != 0)
		return RS_ERR_NOMEM;
	return RS_OK;
}

/*
 * The next UTF-16 code unit of the UTF-8 text at *s, advancing *s past
 * its code point once the unit is the last of it (*lo holds a low
 * surrogate still to come, or 0). -1 at the end. Names here come from
 * json-c objects, which hold what our strict parser accepted or what the
 * code built; a byte that is not UTF-8 counts as itself.
 */
static int32_t
rs_audit_u16(const unsigned char **s, uint32_t *lo)
{
	uint32_t	 cp;
	size_t		 n;

	if (*lo != 0) {
		cp = *lo;
		*lo = 0;
		return (int32_t)cp;
	}
	if (**s == '\0')
		return -1;
	if ((n = rs_audit_utf8(*s, strnlen((const char *)*s, 4), &cp)) == 0)
		n = 1, cp = **s;
	*s += n;
	if (cp < 0x10000)
		return (int32_t)cp;
	cp -= 0x10000;
	*lo = 0xdc00 | (cp & 0x3ff);
	return (int32_t)(0xd800 | (cp >> 10));
}

/* qsort: member names in the order of their UTF-16 code units (JCS). */
static int
rs_audit_name_cmp(const void *pa, const void *pb)
{
	const unsigned char	*a = *(const unsigned char *const *)pa;
	const unsigned char	*b = *(const unsigned char *const *)pb;
	uint32_t		 la = 0, lb = 0;
	int32_t			 ca, cb;

	do {
		ca = rs_audit_u16(&a, &la);
		cb = rs_audit_u16(&b, &lb);
	} while (ca == cb && ca != -1);
	return ca < cb ? -1 : ca > cb;
}

static enum rs_err rs_audit_canon_at(struct json_object *, struct rs_audit_buf *,
	    int);

static enum rs_err
rs_audit_canon_object(struct json_object *v, struct rs_audit_buf *b,
    int depth)
{
	struct json_object	*m;
	const char		**names;
	enum rs_err		 rc = RS_OK;
	size_t			 n = 0, i;

	if ((names = calloc((size_t)json_object_object_length(v) + 1,
	    sizeof(*names))) == NULL)
		return RS_ERR_NOMEM;
	json_object_object_foreach(v, key, val) {
		(void)val;
		names[n++] = key;
	}
	qsort(names, n, sizeof(*names), rs_audit_name_cmp);
	if (rs_audit_put(b, "{", 1) != 0)
		rc = RS_ERR_NOMEM;
	for (i = 0; rc == RS_OK && i < n; i++) {
		if (i > 0 && rs_audit_put(b, ",", 1) != 0) {
			rc = RS_ERR_NOMEM;
			break;
		}
		m = json_object_object_get(v, names[i]);
		if ((rc = rs_audit_canon_string(b, names[i],
		    strlen(names[i]))) != RS_OK)
			break;
		if (rs_audit_put(b, ":", 1) != 0)
			rc = RS_ERR_NOMEM;
		else
			rc = rs_audit_canon_at(m, b, depth + 1);
	}
	if (rc == RS_OK && rs_audit_put(b, "}", 1) != 0)
		rc = RS_ERR_NOMEM;
	free(names);
	return rc;
}

static enum rs_err
rs_audit_canon_int(struct rs_audit_buf *b, int64_t i)
{
	char	 num[24];

	if (i > RS_AUDIT_INT_MAX || i < -RS_AUDIT_INT_MAX)
		return RS_ERR_RANGE;
	snprintf(num, sizeof(num), "%" PRId64, i);
	return rs_audit_puts(b, num) == 0 ? RS_OK : RS_ERR_NOMEM;
}

/* A raw value (rs_json_raw): parsed, then written in canonical form. */
static enum rs_err
rs_audit_canon_raw(struct json_object *v, struct rs_audit_buf *b, int depth)
{
	struct json_object	*parsed;
	enum rs_err		 rc;
	char			 err[64];

	if (rs_json_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), &parsed, err,
	    sizeof(err)) != 0)
		return RS_ERR_INVAL;
	rc = rs_audit_canon_at(parsed, b, depth);
	json_object_put(parsed);
	return rc;
}

static enum rs_err
rs_audit_canon_at(struct json_object *v, struct rs_audit_buf *b, int depth)
{
	double		 d;
	size_t		 i, n;
	enum rs_err	 rc;

	if (depth > RS_MAX_JSON_DEPTH)
		return RS_ERR_RANGE;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return rs_audit_puts(b, "null") == 0 ? RS_OK : RS_ERR_NOMEM;
	case json_type_boolean:
		return rs_audit_puts(b, json_object_get_boolean(v) ? "true" :
		    "false") == 0 ? RS_OK : RS_ERR_NOMEM;
	case json_type_int:
		/* json-c keeps values past INT64_MAX as uint64: too big. */
		if (json_object_get_int64(v) == INT64_MAX)
			return RS_ERR_RANGE;
		return rs_audit_canon_int(b, json_object_get_int64(v));
	case json_type_double:
		/* An integral double is the integer JSON.stringify writes
		 * (-0 as 0); a fraction has no form here. */
		d = json_object_get_double(v);
		if (d != d)
			return RS_ERR_INVAL;
		if (d < -(double)RS_AUDIT_INT_MAX ||
		    d > (double)RS_AUDIT_INT_MAX)
			return RS_ERR_RANGE;
		if ((double)(int64_t)d != d)
			return RS_ERR_INVAL;
		return rs_audit_canon_int(b, (int64_t)d);
	case json_type_string:
		if (rs_json_is_raw(v))
			return rs_audit_canon_raw(v, b, depth);
		return rs_audit_canon_string(b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	case json_type_array:
		if (rs_audit_put(b, "[", 1) != 0)
			return RS_ERR_NOMEM;
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i > 0 && rs_audit_put(b, ",", 1) != 0)
				return RS_ERR_NOMEM;
			if ((rc = rs_audit_canon_at(json_object_array_get_idx(v,
			    i), b, depth + 1)) != RS_OK)
				return rc;
		}
		return rs_audit_put(b, "]", 1) == 0 ? RS_OK : RS_ERR_NOMEM;
	case json_type_object:
		return rs_audit_canon_object(v, b, depth);
	}
	return RS_ERR_INVAL;
}

enum rs_err
rs_audit_canon(struct json_object *v, struct rs_audit_buf *b)
{
	return rs_audit_canon_at(v, b, 0);
}

enum rs_err
rs_audit_detail(struct json_object *detail, char **out)
{
	struct rs_audit_buf	 b;
	enum rs_err		 rc;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (detail == NULL)
		rc = rs_audit_puts(&b, "{}") == 0 ? RS_OK : RS_ERR_NOMEM;
	else if (!json_object_is_type(detail, json_type_object))
		rc = RS_ERR_INVAL;
	else
		rc = rs_audit_canon(detail, &b);
	if (rc != RS_OK) {
		rs_audit_buf_free(&b);
		return rc;
	}
	*out = b.p;
	return RS_OK;
}

/* Whether s is "word.word", [a-z_] each, within RS_AUDIT_ACTION_MAX. */
static int
rs_audit_action_ok(const char *s)
{
	size_t	 len, dot;

	if (s == NULL || (len = strlen(s)) > RS_AUDIT_ACTION_MAX)
		return 0;
	dot = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
	return dot > 0 && s[dot] == '.' && dot + 1 < len &&
	    strspn(s + dot + 1, "abcdefghijklmnopqrstuvwxyz_") == len - dot - 1;
}

enum rs_err
rs_audit_check(const struct rs_audit_entry *e)
{
	if (e->actor_type == NULL || (strcmp(e->actor_type, "user") != 0 &&
	    strcmp(e->actor_type, "system") != 0) ||
	    e->actor_id == NULL || e->actor_id[0] == '\0' ||
	    !rs_audit_action_ok(e->action) ||
	    e->org_id == NULL || e->org_id[0] == '\0' || e->n <= 0 ||
	    e->detail == NULL)
		return RS_ERR_INVAL;
	return RS_OK;
}

/* Appends ,"name": and s as a string, or null when s is NULL. */
static enum rs_err
rs_audit_member(struct rs_audit_buf *b, const char *name, const char *s)
{
	if (rs_audit_puts(b, name) != 0)
		return RS_ERR_NOMEM;
	if (s == NULL)
		return rs_audit_puts(b, "null") == 0 ? RS_OK : RS_ERR_NOMEM;
	return rs_audit_canon_string(b, s, strlen(s));
}

enum rs_err
rs_audit_entry_canon(const struct rs_audit_entry *e, struct rs_audit_buf *b)
{
	char		 at[RS_CLOCK_RFC3339_LEN + 8];
	enum rs_err	 rc;

	/* The members in their sorted order. */
	if ((rc = rs_audit_member(b, "{\"action\":", e->action)) != RS_OK ||
	    (rc = rs_audit_member(b, ",\"actor\":{\"id\":",
	    e->actor_id)) != RS_OK ||
	    (rc = rs_audit_member(b, ",\"type\":", e->actor_type)) != RS_OK ||
	    (rc = rs_audit_member(b, "},\"at\":", rs_clock_format(at,
	    sizeof(at), e->at))) != RS_OK)
		return rc;
	if (rs_audit_puts(b, ",\"detail\":") != 0 ||
	    rs_audit_puts(b, e->detail) != 0)
		return RS_ERR_NOMEM;
	if ((rc = rs_audit_member(b, ",\"ip\":", e->ip)) != RS_OK ||
	    (rc = rs_audit_member(b, ",\"org_id\":", e->org_id)) != RS_OK ||
	    (rc = rs_audit_member(b, ",\"prev_hash\":",
	    e->prev_hash)) != RS_OK ||
	    (rc = rs_audit_member(b, ",\"request_id\":",
	    e->request_id)) != RS_OK)
		return rc;
	if (rs_audit_puts(b, ",\"seq\":") != 0 ||
	    (rc = rs_audit_canon_int(b, e->n)) != RS_OK)
		return rc == RS_OK ? RS_ERR_NOMEM : rc;
	if ((rc = rs_audit_member(b, ",\"target\":", e->target)) != RS_OK)
		return rc;
	return rs_audit_puts(b, "}") == 0 ? RS_OK : RS_ERR_NOMEM;
}

void
rs_audit_hash(const char *prev_hash, const char *canon, size_t len,
    char hex[RS_AUDIT_HASH_HEX + 1])
{
	crypto_generichash_state	 st;
	unsigned char			 h[RS_AUDIT_HASH_HEX / 2];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)prev_hash,
	    RS_AUDIT_HASH_HEX);
	crypto_generichash_update(&st, (const unsigned char *)canon, len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, RS_AUDIT_HASH_HEX + 1, h, sizeof(h));
}

enum rs_err
rs_audit_seal(struct rs_audit_entry *e)
{
	struct rs_audit_buf	 b;
	enum rs_err		 rc;

	memset(&b, 0, sizeof(b));
	if ((rc = rs_audit_entry_canon(e, &b)) == RS_OK)
		rs_audit_hash(e->prev_hash, b.p, b.len, e->hash);
	rs_audit_buf_free(&b);
	return rc;
}
