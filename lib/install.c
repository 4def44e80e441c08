#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "install.h"

#define RS_INSTALL_PREFIX	"RELAYSYNC_"

/*
 * Is "NAME=VALUE" a setting? Every RELAYSYNC_* parameter is, but
 * RELAYSYNC_STREAM, which the shipped Apache include sets per request.
 */
static int
rs_install_setting(const char *kv)
{
	return strncmp(kv, RS_INSTALL_PREFIX, strlen(RS_INSTALL_PREFIX)) ==
	    0 && strncmp(kv, "RELAYSYNC_STREAM=", 17) != 0 &&
	    strchr(kv, '=') != NULL;
}

/* The taken setting of kv's name, or NULL. */
static const char *
rs_install_named(const struct rs_install *in, const char *kv)
{
	size_t	 i, len = (size_t)(strchr(kv, '=') - kv) + 1;

	for (i = 0; i < in->ntaken; i++)
		if (strncmp(in->taken[i], kv, len) == 0)
			return in->taken[i];
	return NULL;
}

/* kv's name into name[namesz]: 0, or -1 when it does not fit (no
 * setting has such a name). */
static int
rs_install_name(const char *kv, char *name, size_t namesz)
{
	size_t	 len = (size_t)(strchr(kv, '=') - kv);

	if (len >= namesz)
		return -1;
	memcpy(name, kv, len);
	name[len] = '\0';
	return 0;
}

int
rs_install_pending(void)
{
	const char	*s = getenv("RELAYSYNC_DB");

	return s == NULL || *s == '\0';
}

enum rs_err
rs_install_take(struct rs_install *in, const struct rs_req *req)
{
	char		 name[128];
	const char	*kv;
	size_t		 i;

	for (i = 0; i < req->nenv; i++) {
		kv = req->env[i];
		if (!rs_install_setting(kv))
			continue;
		if (rs_install_name(kv, name, sizeof(name)) != 0)
			continue;
		if (getenv(name) != NULL)
			continue;	/* the environment wins */
		if (in->ntaken == RS_INSTALL_MAX_TAKEN) {
			rs_log_err("more than %d RELAYSYNC_* settings in a "
			    "request; the rest are ignored",
			    RS_INSTALL_MAX_TAKEN);
			return RS_ERR_RANGE;
		}
		if ((in->taken[in->ntaken] = strdup(kv)) == NULL ||
		    setenv(name, strchr(kv, '=') + 1, 0) != 0) {
			free(in->taken[in->ntaken]);
			in->taken[in->ntaken] = NULL;
			rs_log_err("cannot take the setting %s: %s", name,
			    strerror(errno));
			return RS_ERR_NOMEM;
		}
		in->ntaken++;
	}
	return RS_OK;
}

enum rs_err
rs_install_same(struct rs_install *in, const struct rs_req *req)
{
	const char	*kv, *t = NULL;
	char		 name[128];
	size_t		 i, same = 0;

	for (i = 0; i < req->nenv; i++) {
		kv = req->env[i];
		if (!rs_install_setting(kv))
			continue;
		if ((t = rs_install_named(in, kv)) != NULL) {
			if (strcmp(t, kv) != 0)
				goto foreign;
			same++;
			continue;
		}
		/* Not taken: the environment's (which wins), or new. */
		if (rs_install_name(kv, name, sizeof(name)) != 0)
			continue;
		if (getenv(name) == NULL)
			goto foreign;
	}
	if (same == in->ntaken)
		return RS_OK;
	kv = NULL;
foreign:
	if (!in->foreign_logged)
		rs_log_err("a request with other settings (%.*s) than the "
		    "ones this process took from its first request: refused. "
		    "One process serves one installation; give each "
		    "installation its own copy of the program",
		    kv != NULL ? (int)strcspn(kv, "=") : 40, kv != NULL ? kv :
		    "a setting the first request had is missing");
	in->foreign_logged = 1;
	return RS_ERR_STATE;
}

/*
 * 1 when the directory of path (a file's) is root (resolved) or lies
 * under it, resolved too. 0 when not, or when it cannot be resolved.
 */
static int
rs_install_under(const char *root, const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*dir, *real;
	size_t		 len = strlen(root);
	int		 under;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return 0;
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL)
		return 0;
	under = strcmp(root, "/") == 0 || (strncmp(real, root, len) == 0 &&
	    (real[len] == '\0' || real[len] == '/'));
	free(real);
	return under;
}

/* The file of cfg under the document root docroot, or NULL. */
static const char *
rs_install_exposed(const struct rs_config *cfg, const char *docroot)
{
	const char	*what = NULL;
	char		*root;

	if ((root = realpath(docroot, NULL)) == NULL)
		return NULL;	/* none there: nothing it could hand out */
	/* With PostgreSQL, this host's files in its place (state_path). */
	if (rs_install_under(root, cfg->state_path))
		what = cfg->state_path;
	else if (rs_install_under(root, cfg->secret_path))
		what = cfg->secret_path;
	free(root);
	return what;
}

enum rs_err
rs_install_docroot(struct rs_install *in, const struct rs_config *cfg,
    const char *const *roots, size_t n)
{
	char		 key[2 * 4096 + 2];
	const char	*what;
	size_t		 i, len = 0, l;

	/* One key for the set: a process sees the same few every time. */
	key[0] = '\0';
	for (i = 0; i < n; i++) {
		if (roots[i] == NULL || *roots[i] == '\0')
			continue;
		if ((l = strlen(roots[i])) + len + 2 > sizeof(key))
			return RS_ERR_RANGE;
		memcpy(key + len, roots[i], l);
		len += l;
		key[len++] = '\n';
		key[len] = '\0';
	}
	if (len == 0)
		return RS_OK;
	if (in->docroot != NULL && strcmp(in->docroot, key) == 0)
		return in->docroot_rc;
	free(in->docroot);
	if ((in->docroot = strdup(key)) == NULL)
		return RS_ERR_NOMEM;
	in->docroot_rc = RS_OK;
	for (i = 0; i < n; i++) {
		if (roots[i] == NULL || *roots[i] == '\0' ||
		    (what = rs_install_exposed(cfg, roots[i])) == NULL)
			continue;
		rs_log_err("%s is under the document root %s, where the web "
		    "server could hand it out: refusing to serve. Move the "
		    "database and the secret outside the document root (and "
		    "set RELAYSYNC_DB and RELAYSYNC_SECRET_FILE)", what,
		    roots[i]);
		in->docroot_rc = RS_ERR_STATE;
		break;
	}
	return in->docroot_rc;
}

void
rs_install_free(struct rs_install *in)
{
	size_t	 i;

	for (i = 0; i < in->ntaken; i++)
		free(in->taken[i]);
	free(in->docroot);
	memset(in, 0, sizeof(*in));
}
