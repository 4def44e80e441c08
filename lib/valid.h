/*
 * valid.h: field validators. Each checks one member of a request body
 * and either returns the typed value or records a field error; handlers
 * collect all errors and answer once with every field named.
 * Error strings live in the arena given to rs_valid_init().
 */
#ifndef RS_VALID_H
#define RS_VALID_H

#include <stddef.h>

#include "limits.h"

struct json_object;
struct rs_arena;


struct rs_valid {
	struct rs_arena	*arena;
	size_t		 n;
	struct {
		const char	*field;
		const char	*message;
	}		 e[RS_VALID_MAX_ERRORS];
};

void	 rs_valid_init(struct rs_valid *v, struct rs_arena *a);
void	 rs_valid_add(struct rs_valid *v, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records every member of obj not in the NULL-terminated list. */
void	 rs_valid_known(struct rs_valid *v, struct json_object *obj,
	    const char *const *names);
/*
 * The string member name of obj, of minlen..maxlen bytes; NULL (and an
 * error when required or present but wrong) otherwise.
 */
const char *rs_valid_string(struct rs_valid *v, struct json_object *obj,
	    const char *name, int required, size_t minlen, size_t maxlen);
/* The characters of UTF-8 text s (bytes that do not continue one). */
size_t	 rs_valid_chars(const char *s);
/* 1 when s is a plausible address: local@domain.tld, <= RS_MAX_EMAIL. */
int	 rs_valid_email(const char *s);

#endif /* RS_VALID_H */
