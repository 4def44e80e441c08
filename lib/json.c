#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "limits.h"
#include "clock.h"
#include "codec.h"
#include "num.h"
#include "json.h"

struct rs_jparse {
	const unsigned char	*p;	/* input */
	size_t			 len;
	size_t			 pos;	/* next byte */
	char			*sbuf;	/* decoded string scratch */
	size_t			 ssz;
	size_t			 slen;
	char			*err;
	size_t			 errsz;
	int			 failed;
};

static struct json_object *rs_json_value(struct rs_jparse *, int);

static void
rs_json_fail(struct rs_jparse *j, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (j->failed)
		return;
	j->failed = 1;
	n = snprintf(j->err, j->errsz, "at byte %zu: ", j->pos);
	if (n < 0 || (size_t)n >= j->errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(j->err + n, j->errsz - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
rs_json_ws(struct rs_jparse *j)
{
	while (j->pos < j->len && (j->p[j->pos] == ' ' ||
	    j->p[j->pos] == '\t' || j->p[j->pos] == '\n' ||
	    j->p[j->pos] == '\r'))
		j->pos++;
}

static int
rs_json_sputc(struct rs_jparse *j, unsigned char c)
{
	char	*n;

	if (j->slen + 1 >= j->ssz) {
		size_t	 nsz = j->ssz ? j->ssz * 2 : 256;

		if ((n = realloc(j->sbuf, nsz)) == NULL) {
			rs_json_fail(j, "out of memory");
			return -1;
		}
		j->sbuf = n;
		j->ssz = nsz;
	}
	j->sbuf[j->slen++] = (char)c;
	return 0;
}

static int
rs_json_sput_cp(struct rs_jparse *j, uint32_t cp)
{
	if (cp < 0x80)
		return rs_json_sputc(j, (unsigned char)cp);
	if (cp < 0x800)
		return rs_json_sputc(j, (unsigned char)(0xc0 | (cp >> 6))) ||
		    rs_json_sputc(j, (unsigned char)(0x80 | (cp & 0x3f)));
	if (cp < 0x10000)
		return rs_json_sputc(j, (unsigned char)(0xe0 | (cp >> 12))) ||
		    rs_json_sputc(j,
			(unsigned char)(0x80 | ((cp >> 6) & 0x3f))) ||
		    rs_json_sputc(j, (unsigned char)(0x80 | (cp & 0x3f)));
	return rs_json_sputc(j, (unsigned char)(0xf0 | (cp >> 18))) ||
	    rs_json_sputc(j, (unsigned char)(0x80 | ((cp >> 12) & 0x3f))) ||
	    rs_json_sputc(j, (unsigned char)(0x80 | ((cp >> 6) & 0x3f))) ||
	    rs_json_sputc(j, (unsigned char)(0x80 | (cp & 0x3f)));
}

static int
rs_json_hex4(struct rs_jparse *j, uint32_t *v)
{
	size_t	 i;
	int	 c;

	if (j->len - j->pos < 4) {
		rs_json_fail(j, "truncated \\u escape");
		return -1;
	}
	*v = 0;
	for (i = 0; i < 4; i++) {
		c = j->p[j->pos + i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else {
			rs_json_fail(j, "bad hex digit in \\u escape");
			return -1;
		}
	}
	j->pos += 4;
	return 0;
}

static int
rs_json_escape(struct rs_jparse *j)
{
	uint32_t	 cp, lo;
	unsigned char	 c;

	if (j->pos >= j->len) {
		rs_json_fail(j, "unterminated string");
		return -1;
	}
	c = j->p[j->pos++];
	switch (c) {
	case '"': case '\\': case '/':
		return rs_json_sputc(j, c);
	case 'b': return rs_json_sputc(j, '\b');
	case 'f': return rs_json_sputc(j, '\f');
	case 'n': return rs_json_sputc(j, '\n');
	case 'r': return rs_json_sputc(j, '\r');
	case 't': return rs_json_sputc(j, '\t');
	case 'u':
		break;
	default:
		j->pos--;
		rs_json_fail(j, "invalid escape '\\%c'", c);
		return -1;
	}
	if (rs_json_hex4(j, &cp))
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		rs_json_fail(j, "unpaired low surrogate in \\u escape");
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->len - j->pos < 2 || j->p[j->pos] != '\\' ||
		    j->p[j->pos + 1] != 'u') {
			rs_json_fail(j, "unpaired high surrogate in \\u escape");
			return -1;
		}
		j->pos += 2;
		if (rs_json_hex4(j, &lo))
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			rs_json_fail(j, "bad low surrogate in \\u escape");
			return -1;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return rs_json_sput_cp(j, cp);
}

/* Decodes the string at j->pos (on its opening quote) into j->sbuf. */
static int
rs_json_string(struct rs_jparse *j)
{
	size_t		 n;
	unsigned char	 c;

	j->slen = 0;
	j->pos++;
	for (;;) {
		if (j->pos >= j->len) {
			rs_json_fail(j, "unterminated string");
			return -1;
		}
		c = j->p[j->pos];
		if (c == '"') {
			j->pos++;
			break;
		} else if (c == '\\') {
			j->pos++;
			if (rs_json_escape(j))
				return -1;
		} else if (c < 0x20) {
			rs_json_fail(j, "control character in string");
			return -1;
		} else {
			if ((n = rs_codec_utf8_len(j->p + j->pos,
			    j->len - j->pos)) == 0) {
				rs_json_fail(j, "invalid UTF-8 in string");
				return -1;
			}
			while (n-- > 0)
				if (rs_json_sputc(j, j->p[j->pos++]))
					return -1;
		}
	}
	return rs_json_sputc(j, '\0');
}

static struct json_object *
rs_json_number(struct rs_jparse *j)
{
	size_t			 start = j->pos;
	int			 isint = 1;
	char			 tmp[64], *end;
	double			 d;
	long long		 ll;
	struct json_object	*o;

	if (j->pos < j->len && j->p[j->pos] == '-')
		j->pos++;
	if (j->pos < j->len && j->p[j->pos] == '0')
		j->pos++;
	else if (j->pos < j->len && j->p[j->pos] >= '1' &&
	    j->p[j->pos] <= '9')
		while (j->pos < j->len && j->p[j->pos] >= '0' &&
		    j->p[j->pos] <= '9')
			j->pos++;
	else {
		rs_json_fail(j, "expected a digit");
		return NULL;
	}
	if (j->pos < j->len && j->p[j->pos] == '.') {
		isint = 0;
		j->pos++;
		if (j->pos >= j->len || j->p[j->pos] < '0' ||
		    j->p[j->pos] > '9') {
			rs_json_fail(j, "expected a digit after '.'");
			return NULL;
		}
		while (j->pos < j->len && j->p[j->pos] >= '0' &&
		    j->p[j->pos] <= '9')
			j->pos++;
	}
	if (j->pos < j->len && (j->p[j->pos] == 'e' || j->p[j->pos] == 'E')) {
		isint = 0;
		j->pos++;
		if (j->pos < j->len && (j->p[j->pos] == '+' ||
		    j->p[j->pos] == '-'))
			j->pos++;
		if (j->pos >= j->len || j->p[j->pos] < '0' ||
		    j->p[j->pos] > '9') {
			rs_json_fail(j, "expected a digit in exponent");
			return NULL;
		}
		while (j->pos < j->len && j->p[j->pos] >= '0' &&
		    j->p[j->pos] <= '9')
			j->pos++;
	}
	if (j->pos - start >= sizeof(tmp)) {
		j->pos = start;
		rs_json_fail(j, "number too long");
		return NULL;
	}
	memcpy(tmp, j->p + start, j->pos - start);
	tmp[j->pos - start] = '\0';
	errno = 0;
	if (isint) {
		ll = strtoll(tmp, &end, 10);
		if (errno == 0)
			o = json_object_new_int64(ll);
		else
			isint = 0;
	}
	if (!isint) {
		errno = 0;
		d = strtod(tmp, &end);
		if (!isfinite(d)) {
			j->pos = start;
			rs_json_fail(j, "number out of range");
			return NULL;
		}
		o = json_object_new_double(d);
	}
	if (o == NULL)
		rs_json_fail(j, "out of memory");
	return o;
}

static int
rs_json_literal(struct rs_jparse *j, const char *word)
{
	size_t	 n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->p + j->pos, word, n) != 0) {
		rs_json_fail(j, "invalid literal");
		return -1;
	}
	j->pos += n;
	return 0;
}

static struct json_object *
rs_json_array(struct rs_jparse *j, int depth)
{
	struct json_object	*arr, *v;

	if ((arr = json_object_new_array()) == NULL) {
		rs_json_fail(j, "out of memory");
		return NULL;
	}
	j->pos++;
	rs_json_ws(j);
	if (j->pos < j->len && j->p[j->pos] == ']') {
		j->pos++;
		return arr;
	}
	for (;;) {
		v = rs_json_value(j, depth);
		if (j->failed)
			goto err;
		if (json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			rs_json_fail(j, "out of memory");
			goto err;
		}
		rs_json_ws(j);
		if (j->pos < j->len && j->p[j->pos] == ',') {
			j->pos++;
			continue;
		}
		if (j->pos < j->len && j->p[j->pos] == ']') {
			j->pos++;
			return arr;
		}
		rs_json_fail(j, "expected ',' or ']'");
		goto err;
	}
err:
	json_object_put(arr);
	return NULL;
}

static struct json_object *
rs_json_object(struct rs_jparse *j, int depth)
{
	struct json_object	*obj, *v;
	char			*key = NULL;
	size_t			 keypos;

	if ((obj = json_object_new_object()) == NULL) {
		rs_json_fail(j, "out of memory");
		return NULL;
	}
	j->pos++;
	rs_json_ws(j);
	if (j->pos < j->len && j->p[j->pos] == '}') {
		j->pos++;
		return obj;
	}
	for (;;) {
		rs_json_ws(j);
		if (j->pos >= j->len || j->p[j->pos] != '"') {
			rs_json_fail(j, "expected a member name string");
			goto err;
		}
		keypos = j->pos;
		if (rs_json_string(j))
			goto err;
		if (strlen(j->sbuf) != j->slen - 1) {
			j->pos = keypos;
			rs_json_fail(j, "member name contains U+0000");
			goto err;
		}
		if (json_object_object_get_ex(obj, j->sbuf, NULL)) {
			j->pos = keypos;
			rs_json_fail(j, "member name \"%.64s\" given twice",
			    j->sbuf);
			goto err;
		}
		if ((key = strdup(j->sbuf)) == NULL) {
			rs_json_fail(j, "out of memory");
			goto err;
		}
		rs_json_ws(j);
		if (j->pos >= j->len || j->p[j->pos] != ':') {
			rs_json_fail(j, "expected ':'");
			goto err;
		}
		j->pos++;
		v = rs_json_value(j, depth);
		if (j->failed)
			goto err;
		if (json_object_object_add(obj, key, v) != 0) {
			json_object_put(v);
			rs_json_fail(j, "out of memory");
			goto err;
		}
		free(key);
		key = NULL;
		rs_json_ws(j);
		if (j->pos < j->len && j->p[j->pos] == ',') {
			j->pos++;
			continue;
		}
		if (j->pos < j->len && j->p[j->pos] == '}') {
			j->pos++;
			return obj;
		}
		rs_json_fail(j, "expected ',' or '}'");
		goto err;
	}
err:
	free(key);
	json_object_put(obj);
	return NULL;
}

static struct json_object *
rs_json_value(struct rs_jparse *j, int depth)
{
	struct json_object	*o;

	rs_json_ws(j);
	if (j->pos >= j->len) {
		rs_json_fail(j, "unexpected end of input");
		return NULL;
	}
	switch (j->p[j->pos]) {
	case '{':
	case '[':
		if (depth >= RS_MAX_JSON_DEPTH) {
			rs_json_fail(j, "nesting deeper than %d levels",
			    RS_MAX_JSON_DEPTH);
			return NULL;
		}
		return j->p[j->pos] == '{' ? rs_json_object(j, depth + 1) :
		    rs_json_array(j, depth + 1);
	case '"':
		if (rs_json_string(j))
			return NULL;
		if ((o = json_object_new_string_len(j->sbuf,
		    (int)(j->slen - 1))) == NULL)
			rs_json_fail(j, "out of memory");
		return o;
	case 't':
		return rs_json_literal(j, "true") ? NULL :
		    json_object_new_boolean(1);
	case 'f':
		return rs_json_literal(j, "false") ? NULL :
		    json_object_new_boolean(0);
	case 'n':
		/* json-c's null is the NULL pointer; j->failed tells errors. */
		rs_json_literal(j, "null");
		return NULL;
	default:
		if (j->p[j->pos] == '-' ||
		    (j->p[j->pos] >= '0' && j->p[j->pos] <= '9'))
			return rs_json_number(j);
		rs_json_fail(j, "unexpected character");
		return NULL;
	}
}

int
rs_json_parse(const char *buf, size_t len, struct json_object **out,
    char *err, size_t errsz)
{
	struct rs_jparse	 j;
	struct json_object	*o;

	memset(&j, 0, sizeof(j));
	j.p = (const unsigned char *)buf;
	j.len = len;
	j.err = err;
	j.errsz = errsz;
	if (errsz > 0)
		err[0] = '\0';
	*out = NULL;
	o = rs_json_value(&j, 0);
	if (!j.failed) {
		rs_json_ws(&j);
		if (j.pos != j.len)
			rs_json_fail(&j, "unexpected data after the value");
	}
	free(j.sbuf);
	if (j.failed) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

static int	rs_json_canon(struct printbuf *, struct json_object *);

static int
rs_json_keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names sorted on the stack up to this many; a larger object mallocs. */
#define RS_JSON_CANON_KEYS	32

static int
rs_json_canon_object(struct printbuf *pb, struct json_object *obj)
{
	const char	*stack[RS_JSON_CANON_KEYS], **keys = stack;
	size_t		 n = 0, i, len;
	int		 rc = -1;

	len = (size_t)json_object_object_length(obj);
	if (len > RS_JSON_CANON_KEYS &&
	    (keys = calloc(len, sizeof(*keys))) == NULL)
		return -1;
	json_object_object_foreach(obj, key, val) {
		(void)val;
		keys[n++] = key;
	}
	qsort(keys, n, sizeof(*keys), rs_json_keycmp);
	printbuf_memappend(pb, "{", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			printbuf_memappend(pb, ",", 1);
		rs_json_append_string(pb, keys[i]);
		printbuf_memappend(pb, ":", 1);
		if (rs_json_canon(pb, json_object_object_get(obj, keys[i])))
			goto out;
	}
	printbuf_memappend(pb, "}", 1);
	rc = 0;
out:
	if (keys != stack)
		free(keys);
	return rc;
}

/*
 * Strings, integers and literals printed here exactly as json-c prints
 * them (the idempotency hashes already stored were made from its print),
 * without an allocation each; doubles and raw strings (their text as it
 * is) still go through json-c.
 */
static int
rs_json_canon(struct printbuf *pb, struct json_object *obj)
{
	const char	*s;
	size_t		 i, n;
	int64_t		 v;

	switch (json_object_get_type(obj)) {
	case json_type_object:
		return rs_json_canon_object(pb, obj);
	case json_type_array:
		n = json_object_array_length(obj);
		printbuf_memappend(pb, "[", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				printbuf_memappend(pb, ",", 1);
			if (rs_json_canon(pb,
			    json_object_array_get_idx(obj, i)))
				return -1;
		}
		printbuf_memappend(pb, "]", 1);
		return 0;
	case json_type_null:
		printbuf_memappend(pb, "null", 4);
		return 0;
	case json_type_boolean:
		if (json_object_get_boolean(obj))
			printbuf_memappend(pb, "true", 4);
		else
			printbuf_memappend(pb, "false", 5);
		return 0;
	case json_type_string:
		if (rs_json_is_raw(obj))
			break;
		rs_json_append_strn(pb, json_object_get_string(obj),
		    (size_t)json_object_get_string_len(obj));
		return 0;
	case json_type_int:
		/* why: INT64_MAX may stand for a larger unsigned value */
		if ((v = json_object_get_int64(obj)) != INT64_MAX) {
			rs_json_append_int(pb, v);
			return 0;
		}
		break;
	default:
		break;
	}
	s = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		return -1;
	printbuf_memappend(pb, s, (int)strlen(s));
	return 0;
}

char *
rs_json_canonical(struct json_object *obj)
{
	struct printbuf	*pb;
	char		*s = NULL;

	if ((pb = printbuf_new()) == NULL)
		return NULL;
	if (rs_json_canon(pb, obj) == 0)
		s = strndup(pb->buf, (size_t)pb->bpos);
	printbuf_free(pb);
	return s;
}

const char *
rs_json_compact(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Marks the strings rs_json_raw() made (their serializer's userdata). */
static char	 rs_json_raw_mark;

/* Emits the object's string value as it is: it already holds JSON. */
static int
rs_json_raw_serializer(struct json_object *o, struct printbuf *pb,
    int level, int flags)
{
	(void)level;
	(void)flags;
	return printbuf_memappend(pb, json_object_get_string(o),
	    json_object_get_string_len(o));
}

struct json_object *
rs_json_raw(const char *text, size_t len)
{
	struct json_object	*o;

	if ((o = json_object_new_string_len(text, (int)len)) != NULL)
		json_object_set_serializer(o, rs_json_raw_serializer,
		    &rs_json_raw_mark, NULL);
	return o;
}

int
rs_json_is_raw(struct json_object *o)
{
	return json_object_is_type(o, json_type_string) &&
	    json_object_get_userdata(o) == &rs_json_raw_mark;
}

int
rs_json_merge_patch(struct json_object *target, struct json_object *patch)
{
	struct json_object	*cur, *copy;

	json_object_object_foreach(patch, key, val) {
		if (val == NULL) {
			json_object_object_del(target, key);
			continue;
		}
		if (json_object_is_type(val, json_type_object)) {
			if (!json_object_object_get_ex(target, key, &cur) ||
			    !json_object_is_type(cur, json_type_object)) {
				if ((cur = json_object_new_object()) == NULL ||
				    json_object_object_add(target, key, cur)) {
					json_object_put(cur);
					return -1;
				}
			}
			if (rs_json_merge_patch(cur, val) != 0)
				return -1;
			continue;
		}
		copy = NULL;
		if (json_object_deep_copy(val, &copy, NULL) != 0 ||
		    json_object_object_add(target, key, copy) != 0) {
			json_object_put(copy);
			return -1;
		}
	}
	return 0;
}

struct json_object *
rs_json_time(int64_t ms)
{
	char	 buf[RS_CLOCK_RFC3339_LEN + 1];

	return ms == 0 ? NULL :
	    json_object_new_string(rs_clock_format(buf, sizeof(buf), ms));
}

void
rs_json_append_strn(struct printbuf *pb, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*run = s, *end = s + len;
	char			 esc[7];

	printbuf_memappend(pb, "\"", 1);
	for (; s < end; s++) {
		unsigned char	 c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		printbuf_memappend(pb, run, (int)(s - run));
		run = s + 1;
		switch (c) {
		case '"': printbuf_memappend(pb, "\\\"", 2); break;
		case '\\': printbuf_memappend(pb, "\\\\", 2); break;
		case '\b': printbuf_memappend(pb, "\\b", 2); break;
		case '\f': printbuf_memappend(pb, "\\f", 2); break;
		case '\n': printbuf_memappend(pb, "\\n", 2); break;
		case '\r': printbuf_memappend(pb, "\\r", 2); break;
		case '\t': printbuf_memappend(pb, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			printbuf_memappend(pb, esc, 6);
		}
	}
	printbuf_memappend(pb, run, (int)(s - run));
	printbuf_memappend(pb, "\"", 1);
}

void
rs_json_append_string(struct printbuf *pb, const char *s)
{
	rs_json_append_strn(pb, s, strlen(s));
}

void
rs_json_append_int(struct printbuf *pb, int64_t v)
{
	char	 buf[RS_NUM_TEXT_MAX], *p = rs_num_text(buf + sizeof(buf), v);

	printbuf_memappend(pb, p, (int)(buf + sizeof(buf) - p));
}

void
rs_json_append_time(struct printbuf *pb, int64_t ms)
{
	char	 buf[RS_CLOCK_RFC3339_LEN + 3];

	if (ms == 0) {
		printbuf_memappend(pb, "null", 4);
		return;
	}
	buf[0] = '"';
	rs_clock_format(buf + 1, sizeof(buf) - 2, ms);
	buf[RS_CLOCK_RFC3339_LEN + 1] = '"';
	printbuf_memappend(pb, buf, RS_CLOCK_RFC3339_LEN + 2);
}

int
rs_json_add(struct json_object *o, const char *name, struct json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(o, name, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int
rs_json_add_str(struct json_object *o, const char *name, const char *s)
{
	return s == NULL ? -1 : rs_json_add(o, name, json_object_new_string(s));
}

int
rs_json_add_int(struct json_object *o, const char *name, int64_t v)
{
	return rs_json_add(o, name, json_object_new_int64(v));
}

int
rs_json_add_bool(struct json_object *o, const char *name, int v)
{
	return rs_json_add(o, name, json_object_new_boolean(v));
}

int
rs_json_add_null(struct json_object *o, const char *name)
{
	return json_object_object_add(o, name, NULL) == 0 ? 0 : -1;
}

int
rs_json_add_time(struct json_object *o, const char *name, int64_t ms)
{
	if (ms == 0)
		return rs_json_add_null(o, name);
	return rs_json_add(o, name, rs_json_time(ms));
}
