/*
 * cursor.h: list cursors and sync tokens, sealed with the RS_SECRET_CURSOR
 * subkey (seal.h) so a forged, altered or foreign one is refused.
 *
 * A cursor is tied to its list, its org, the list's other query parameters
 * (their signature), and holds the keyset position (no OFFSET: rows added
 * meanwhile cannot shift a page) plus the change sequence at which the
 * walk began, so every page of one walk hands out the same sync token.
 * A sync token holds an org's change sequence and when it was issued.
 */
#ifndef RS_CURSOR_H
#define RS_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "id.h"

struct rs_query;

struct rs_cursor {
	char		 list[16];	/* which list: "records", "users" */
	char		 org_id[RS_ID_MAX];
	uint64_t	 sig;		/* of the other query parameters */
	int64_t		 pos;		/* last row handed out */
	int64_t		 walk;		/* change sequence at the walk's start */
};

struct rs_synctok {
	char		 org_id[RS_ID_MAX];
	int64_t		 change_seq;
	int64_t		 issued_ms;
};

#define RS_CURSOR_MAX	200	/* sealed form, with the NUL */

enum rs_err	rs_cursor_make(const unsigned char key[32],
		    const struct rs_cursor *c, char *out, size_t outsz);
/* RS_ERR_CRYPTO for anything not made by rs_cursor_make under key. */
enum rs_err	rs_cursor_read(const unsigned char key[32], const char *s,
		    struct rs_cursor *c);
enum rs_err	rs_synctok_make(const unsigned char key[32],
		    const struct rs_synctok *t, char *out, size_t outsz);
enum rs_err	rs_synctok_read(const unsigned char key[32], const char *s,
		    struct rs_synctok *t);
/*
 * A signature of q's parameters other than those named in skip
 * (NULL-terminated): any change to a filter changes it.
 */
uint64_t	rs_cursor_sig(const struct rs_query *q,
		    const char *const *skip);

#endif /* RS_CURSOR_H */
