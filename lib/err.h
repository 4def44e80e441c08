/*
 * err.h: the error codes every librelaysync function returns.
 * A constraint violation, a busy database and a bug are different errors
 * so that callers can map them to 409, 503 and 500.
 */
#ifndef RS_ERR_H
#define RS_ERR_H

enum rs_err {
	RS_OK = 0,
	RS_ERR_NOMEM,		/* allocation failed */
	RS_ERR_INVAL,		/* bad argument or input */
	RS_ERR_RANGE,		/* a value or size out of bounds */
	RS_ERR_NOTFOUND,	/* no such row or thing */
	RS_ERR_EXISTS,		/* unique constraint */
	RS_ERR_BUSY,		/* database locked past the timeout */
	RS_ERR_DB,		/* any other SQLite failure */
	RS_ERR_IO,		/* file or stream I/O */
	RS_ERR_CRYPTO,		/* libsodium failure or bad MAC */
	RS_ERR_SCHEMA,		/* database newer than this program */
	RS_ERR_STATE,		/* the thing's state forbids it */
	RS_ERR_RETRY,		/* deadlock or serialization failure:
				 * run the whole transaction again */
	RS_ERR__MAX
};

/* A static, human-readable name for err (never NULL). */
const char	*rs_strerror(enum rs_err err);

#endif /* RS_ERR_H */
