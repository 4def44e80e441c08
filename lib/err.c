#include "err.h"

static const char *const rs_err_names[RS_ERR__MAX] = {
	"success",			/* RS_OK */
	"out of memory",		/* RS_ERR_NOMEM */
	"invalid input",		/* RS_ERR_INVAL */
	"out of range",			/* RS_ERR_RANGE */
	"not found",			/* RS_ERR_NOTFOUND */
	"already exists",		/* RS_ERR_EXISTS */
	"database busy",		/* RS_ERR_BUSY */
	"database error",		/* RS_ERR_DB */
	"i/o error",			/* RS_ERR_IO */
	"cryptographic failure",	/* RS_ERR_CRYPTO */
	"database schema is newer than this program", /* RS_ERR_SCHEMA */
	"not allowed in its present state", /* RS_ERR_STATE */
	"transaction lost a race; run it again", /* RS_ERR_RETRY */
};

const char *
rs_strerror(enum rs_err err)
{
	if ((unsigned)err >= RS_ERR__MAX)
		return "unknown error";
	return rs_err_names[err];
}
