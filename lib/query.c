#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "codec.h"
#include "query.h"

static int
rs_query_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
rs_query_decode(struct rs_arena *a, const char *src, size_t len, int plus,
    const char **why)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	if ((out = o = rs_arena_alloc(a, len + 1)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < len; i++) {
		if (src[i] == '%') {
			if (len - i < 3) {
				*why = "truncated percent escape";
				return NULL;
			}
			if ((hi = rs_query_hexval(src[i + 1])) < 0 ||
			    (lo = rs_query_hexval(src[i + 2])) < 0) {
				*why = "bad percent escape";
				return NULL;
			}
			*o = (char)(hi << 4 | lo);
			if (*o == '\0') {
				*why = "escaped NUL byte";
				return NULL;
			}
			o++;
			i += 2;
		} else if (plus && src[i] == '+')
			*o++ = ' ';
		else
			*o++ = src[i];
	}
	*o = '\0';
	if (!rs_codec_utf8_valid(out, (size_t)(o - out))) {
		*why = "invalid UTF-8";
		return NULL;
	}
	return out;
}

const char *
rs_query_get(const struct rs_query *q, const char *name)
{
	size_t	 i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->p[i].name, name) == 0)
			return q->p[i].value;
	return NULL;
}

const char *
rs_query_unknown(const struct rs_query *q, const char *const *allowed)
{
	size_t	 i, j;

	for (i = 0; i < q->n; i++) {
		for (j = 0; allowed != NULL && allowed[j] != NULL; j++)
			if (strcmp(q->p[i].name, allowed[j]) == 0)
				break;
		if (allowed == NULL || allowed[j] == NULL)
			return q->p[i].name;
	}
	return NULL;
}

int
rs_query_parse(struct rs_arena *a, const char *qs, struct rs_query *q,
    char *err, size_t errsz)
{
	const char	*p, *amp, *eq, *why;
	char		*name, *value;
	size_t		 len;

	q->n = 0;
	if (qs == NULL)
		return 0;
	for (p = qs; *p != '\0'; p = *amp ? amp + 1 : amp) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;	/* "a=1&&b=2" */
		len = (size_t)(amp - p);
		if ((eq = memchr(p, '=', len)) == NULL)
			eq = amp;
		/* Sent form first (3 bytes per escaped byte), then decoded. */
		if ((size_t)(eq - p) > 3 * RS_MAX_QUERY_VALUE ||
		    (eq < amp &&
		    (size_t)(amp - eq - 1) > 3 * RS_MAX_QUERY_VALUE)) {
			snprintf(err, errsz, "query parameter too long");
			return -1;
		}
		if ((name = rs_query_decode(a, p, (size_t)(eq - p), 1,
		    &why)) == NULL ||
		    (value = rs_query_decode(a, eq < amp ? eq + 1 : eq,
		    eq < amp ? (size_t)(amp - eq - 1) : 0, 1, &why)) == NULL) {
			snprintf(err, errsz, "malformed query string: %s", why);
			return -1;
		}
		if (strlen(name) > RS_MAX_QUERY_VALUE ||
		    strlen(value) > RS_MAX_QUERY_VALUE) {
			snprintf(err, errsz, "query parameter too long");
			return -1;
		}
		if (*name == '\0') {
			snprintf(err, errsz, "query parameter without a name");
			return -1;
		}
		if (rs_query_get(q, name) != NULL) {
			snprintf(err, errsz,
			    "query parameter \"%.64s\" given more than once",
			    name);
			return -1;
		}
		if (q->n == RS_MAX_QUERY_PARAMS) {
			snprintf(err, errsz, "more than %d query parameters",
			    RS_MAX_QUERY_PARAMS);
			return -1;
		}
		q->p[q->n].name = name;
		q->p[q->n].value = value;
		q->n++;
	}
	return 0;
}
