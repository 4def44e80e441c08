#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "arena.h"
#include "codec.h"
#include "valid.h"

void
rs_valid_init(struct rs_valid *v, struct rs_arena *a)
{
	memset(v, 0, sizeof(*v));
	v->arena = a;
}

void
rs_valid_add(struct rs_valid *v, const char *field, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[256];

	if (v->n == RS_VALID_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* "%.64s" of a member's name can cut a character in two. */
	rs_codec_utf8_scrub(msg);
	/* Out of memory, the error is still counted (with the caller's
	 * name, which outlives the request, and a plain message): a bad
	 * member must never pass because its error could not be kept. */
	if ((v->e[v->n].field = rs_arena_strdup(v->arena, field)) == NULL)
		v->e[v->n].field = field;
	if ((v->e[v->n].message = rs_arena_strdup(v->arena, msg)) == NULL)
		v->e[v->n].message = "is invalid";
	v->n++;
}

void
rs_valid_known(struct rs_valid *v, struct json_object *obj,
    const char *const *names)
{
	size_t	 i;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(key, names[i]) == 0)
				break;
		if (names[i] == NULL)
			rs_valid_add(v, key, "unknown member \"%.64s\"", key);
	}
}

const char *
rs_valid_string(struct rs_valid *v, struct json_object *obj,
    const char *name, int required, size_t minlen, size_t maxlen)
{
	struct json_object	*m;
	size_t			 len;

	if (!json_object_object_get_ex(obj, name, &m)) {
		if (required)
			rs_valid_add(v, name, "is required");
		return NULL;
	}
	if (!json_object_is_type(m, json_type_string)) {
		rs_valid_add(v, name, "must be a string");
		return NULL;
	}
	len = (size_t)json_object_get_string_len(m);
	if (len < minlen || len > maxlen) {
		if (minlen == maxlen)
			rs_valid_add(v, name, "must be %zu bytes long", minlen);
		else
			rs_valid_add(v, name,
			    "must be %zu to %zu bytes long", minlen, maxlen);
		return NULL;
	}
	if (strlen(json_object_get_string(m)) != len) {
		rs_valid_add(v, name, "must not contain U+0000");
		return NULL;
	}
	return json_object_get_string(m);
}

int
rs_valid_email(const char *s)
{
	const char	*at, *dot, *p;
	size_t		 len = strlen(s);

	if (len < 3 || len > RS_MAX_EMAIL || (at = strchr(s, '@')) == NULL ||
	    at == s || strchr(at + 1, '@') != NULL || (at - s) > 64)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("()<>,;:\\\"[]", *p) != NULL)
			return 0;
	/* A domain with a dot, not at either end, and no empty labels. */
	if ((dot = strrchr(at + 1, '.')) == NULL || dot == at + 1 ||
	    dot[1] == '\0' || strstr(at + 1, "..") != NULL ||
	    at[1] == '.' || s[len - 1] == '.' || s[0] == '.' ||
	    at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	return 1;
}

size_t
rs_valid_chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}
