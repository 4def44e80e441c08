/*
 * json.h: strict JSON in, compact JSON out, on json-c's object model.
 *
 * Requests are parsed here rather than by json-c's tokener, which can
 * bound depth (json_tokener_new_ex) and be strict, but silently keeps
 * the last of two members with one name: {"status":"synced",
 * "status":"queued"} would mean what the last proxy to touch it says,
 * and two bodies that differ would hash alike for Idempotency-Key. So:
 * RFC 8259 exactly, UTF-8 validated, nesting bounded by
 * RS_MAX_JSON_DEPTH, a member name given twice refused, and errors that
 * name the byte offset where parsing stopped.
 */
#ifndef RS_JSON_H
#define RS_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * Parses buf[0..len) into *out (caller owns it: json_object_put).
 * Returns 0, or -1 with a message such as "at byte 12: expected ':'"
 * in err (always NUL-terminated) and *out NULL. The body "null" parses
 * (it is json-c's NULL object): callers check the type they expect.
 */
int	 rs_json_parse(const char *buf, size_t len, struct json_object **out,
	    char *err, size_t errsz);

/*
 * Canonical form for hashing and comparing bodies: compact, object
 * members sorted by name (bytewise), recursively; every scalar printed
 * as json-c prints it (a string made by rs_json_raw() as its text).
 * Returns a malloc'd string the caller frees, or NULL on allocation
 * failure.
 */
char	*rs_json_canonical(struct json_object *obj);

/* Compact serialisation that stays valid until obj is released. */
const char *rs_json_compact(struct json_object *obj);

/*
 * A string object that serialises as the JSON text it holds (already
 * valid, compact JSON, e.g. a stored record's data), so stored JSON is
 * never parsed just to be printed again. Caller owns it.
 */
struct json_object *rs_json_raw(const char *text, size_t len);
/* 1 when o was made by rs_json_raw(), else 0. */
int	 rs_json_is_raw(struct json_object *o);

/*
 * Applies patch (an object) to target (an object) in place by JSON Merge
 * Patch, RFC 7396: null removes a member, objects merge recursively,
 * anything else replaces. Returns 0, or -1 on allocation failure.
 */
int	 rs_json_merge_patch(struct json_object *target,
	    struct json_object *patch);

struct printbuf;

/*
 * Appends s as a JSON string (quoted, escaped as json-c escapes it with
 * JSON_C_TO_STRING_NOSLASHESCAPE) to pb; s must be valid UTF-8.
 */
void	 rs_json_append_string(struct printbuf *pb, const char *s);
/* The same for the len bytes at s, NUL among them (printed \u0000). */
void	 rs_json_append_strn(struct printbuf *pb, const char *s,
	    size_t len);
/* Appends v in decimal to pb (no printf: a list prints many). */
void	 rs_json_append_int(struct printbuf *pb, int64_t v);
/* Appends the RFC 3339 time for ms, or null for 0, to pb. */
void	 rs_json_append_time(struct printbuf *pb, int64_t ms);

/* An RFC 3339 time string for ms, or NULL (JSON null) for 0: "never". */
struct json_object *rs_json_time(int64_t ms);

/*
 * Builders that never lose a failure: each adds member name to object
 * o and returns 0, or -1 when the value could not be made or added (a
 * value given is then released). Chain them with ||.
 */
int	 rs_json_add(struct json_object *o, const char *name,
	    struct json_object *v);		/* v taken; NULL fails */
int	 rs_json_add_str(struct json_object *o, const char *name,
	    const char *s);			/* s copied; NULL fails */
int	 rs_json_add_int(struct json_object *o, const char *name, int64_t v);
int	 rs_json_add_bool(struct json_object *o, const char *name, int v);
/* The RFC 3339 time for ms, or JSON null for 0 ("never"). */
int	 rs_json_add_time(struct json_object *o, const char *name,
	    int64_t ms);
/* JSON null. */
int	 rs_json_add_null(struct json_object *o, const char *name);

#endif /* RS_JSON_H */
