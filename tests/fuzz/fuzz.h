/*
 * fuzz.h: what the libFuzzer targets share (header-only, static inline):
 * CHECK, which stops the run on a broken invariant so that the fuzzer
 * writes the input out as a reproducer, and the comparisons of values
 * the targets' invariants are stated in.
 */
#ifndef RS_FUZZ_H
#define RS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stops the run: the fuzzer reports the input and this stack. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-%s: %s:%d: %s\n", FUZZ_NAME,	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* data[0..size) as a new NUL-terminated string (up to its first NUL). */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
	size_t	 len = strnlen((const char *)data, size);
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/*
 * 1 when a and b are the same JSON value: objects with the same members
 * (in any order), arrays element by element, strings byte for byte
 * (with their length), numbers by value: an int64 and a double (or
 * json-c's uint64) are the same when they are the same number. With
 * clamped set, b is json-c tokener's reading: it clamps an integer past
 * the 64-bit range to INT64_MIN or UINT64_MAX where we (a) keep the
 * number as a double; those are the same too.
 */
static inline int
fuzz_json_same_ex(struct json_object *a, struct json_object *b, int clamped)
{
	enum json_type	 ta = json_object_get_type(a);
	enum json_type	 tb = json_object_get_type(b);
	size_t		 i, n;
	struct json_object *v;

	if ((ta == json_type_int || ta == json_type_double) &&
	    (tb == json_type_int || tb == json_type_double)) {
		if (ta == json_type_int && tb == json_type_int)
			return json_object_get_int64(a) ==
			    json_object_get_int64(b) &&
			    json_object_get_uint64(a) ==
			    json_object_get_uint64(b);
		/*
		 * json-c clamps an integer past 64 bits; one just inside
		 * (18446744073709551545) it keeps whole, where our double
		 * rounds it to 2^64: the comparison of doubles below judges
		 * that one, so a clamp is only an extra way to agree.
		 */
		if (clamped && ta == json_type_double && tb == json_type_int) {
			if (json_object_get_double(a) < -9223372036854775808.0 &&
			    json_object_get_int64(b) == INT64_MIN)
				return 1;
			if (json_object_get_double(a) >= 18446744073709551616.0 &&
			    json_object_get_uint64(b) == UINT64_MAX)
				return 1;
		}
		return json_object_get_double(a) == json_object_get_double(b);
	}
	if (ta != tb)
		return 0;
	switch (ta) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) ==
		    json_object_get_string_len(b) &&
		    memcmp(json_object_get_string(a), json_object_get_string(b),
		    (size_t)json_object_get_string_len(a)) == 0;
	case json_type_array:
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!fuzz_json_same_ex(json_object_array_get_idx(a, i),
			    json_object_array_get_idx(b, i), clamped))
				return 0;
		return 1;
	case json_type_object:
		if (json_object_object_length(a) !=
		    json_object_object_length(b))
			return 0;
		{
			json_object_object_foreach(a, k, av) {
				if (!json_object_object_get_ex(b, k, &v) ||
				    !fuzz_json_same_ex(av, v, clamped))
					return 0;
			}
		}
		return 1;
	default:
		return 0;
	}
}

/* fuzz_json_same_ex() of two values we made. */
static inline int
fuzz_json_same(struct json_object *a, struct json_object *b)
{
	return fuzz_json_same_ex(a, b, 0);
}

#endif /* RS_FUZZ_H */
