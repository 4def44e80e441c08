/*
 * test-install: which installation a process serves (lib/install.h):
 * settings taken from the first request's parameters without replacing
 * the environment's, a later request with other settings refused, the
 * database or secret under the document root refused; the mount point
 * (http.h, rs_http_mount); and a process whose environment names no
 * database, configured by its first request (app.h).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "fixture.h"
#include "install.h"
#include "tap.h"

/* A request whose environment is the NULL-terminated list kv. */
static void
req_of(struct rs_req *req, char **kv)
{
	memset(req, 0, sizeof(*req));
	req->env = kv;
	for (req->nenv = 0; kv[req->nenv] != NULL; req->nenv++)
		continue;
}

static void
test_take_same(void)
{
	struct rs_install	 in;
	struct rs_req		 r;
	char	*first[] = { "RELAYSYNC_DB=/srv/a.db", "RELAYSYNC_TOKEN_TTL=60",
		    "RELAYSYNC_STREAM=live", "REQUEST_URI=/v1/health", NULL };
	char	*same[] = { "REQUEST_URI=/v1/me", "RELAYSYNC_STREAM=buffered",
		    "RELAYSYNC_TOKEN_TTL=60", "RELAYSYNC_DB=/srv/a.db", NULL };
	char	*other[] = { "RELAYSYNC_DB=/srv/b.db", "RELAYSYNC_TOKEN_TTL=60",
		    NULL };
	char	*fewer[] = { "RELAYSYNC_DB=/srv/a.db", NULL };
	char	*more[] = { "RELAYSYNC_DB=/srv/a.db", "RELAYSYNC_TOKEN_TTL=60",
		    "RELAYSYNC_STREAMS=9", NULL };
	char	*envs[] = { "RELAYSYNC_DB=/srv/a.db", "RELAYSYNC_TOKEN_TTL=60",
		    "RELAYSYNC_SECRET_FILE=/elsewhere", NULL };

	memset(&in, 0, sizeof(in));
	TAP_SETUP(unsetenv("RELAYSYNC_DB") == 0 &&
	    unsetenv("RELAYSYNC_TOKEN_TTL") == 0 &&
	    unsetenv("RELAYSYNC_STREAM") == 0 &&
	    unsetenv("RELAYSYNC_STREAMS") == 0);
	TAP_SETUP(setenv("RELAYSYNC_SECRET_FILE", "/env/secret", 1) == 0);
	TAP_OK(rs_install_pending(), "pending: no RELAYSYNC_DB in the "
	    "environment");
	req_of(&r, first);
	TAP_IS_INT(rs_install_take(&in, &r), RS_OK, "take: the first request");
	TAP_OK(getenv("RELAYSYNC_DB") != NULL &&
	    strcmp(getenv("RELAYSYNC_DB"), "/srv/a.db") == 0 &&
	    strcmp(getenv("RELAYSYNC_TOKEN_TTL"), "60") == 0 &&
	    in.ntaken == 2, "take: its settings join the environment");
	TAP_OK(getenv("RELAYSYNC_STREAM") == NULL, "take: RELAYSYNC_STREAM "
	    "is the request's, not a setting");
	TAP_OK(!rs_install_pending(), "pending no more");
	req_of(&r, same);
	TAP_IS_INT(rs_install_same(&in, &r), RS_OK, "same: the same settings "
	    "in another order, another stream mode");
	req_of(&r, other);
	TAP_IS_INT(rs_install_same(&in, &r), RS_ERR_STATE, "same: another "
	    "database is refused");
	req_of(&r, fewer);
	TAP_IS_INT(rs_install_same(&in, &r), RS_ERR_STATE, "same: a setting "
	    "missing is refused");
	req_of(&r, more);
	TAP_IS_INT(rs_install_same(&in, &r), RS_ERR_STATE, "same: a setting "
	    "the first request did not have is refused");
	req_of(&r, envs);
	TAP_IS_INT(rs_install_same(&in, &r), RS_OK, "same: a setting the "
	    "environment has (which wins) may differ");
	TAP_OK(strcmp(getenv("RELAYSYNC_SECRET_FILE"), "/env/secret") == 0,
	    "take: the environment's setting was kept");
	rs_install_free(&in);
	unsetenv("RELAYSYNC_TOKEN_TTL");
	req_of(&r, same);
	TAP_IS_INT(rs_install_same(&in, &r), RS_ERR_STATE, "same: with "
	    "nothing taken (the first request had none), a request with a "
	    "setting the environment lacks is refused");
	unsetenv("RELAYSYNC_DB");
	unsetenv("RELAYSYNC_SECRET_FILE");
	rs_install_free(&in);
}

/* rs_install_docroot() with the one root r. */
static enum rs_err
docroot(struct rs_install *in, const struct rs_config *cfg, const char *r)
{
	const char	*roots[2] = { NULL, r };

	return rs_install_docroot(in, cfg, roots, 2);
}

static void
test_docroot(const char *dir)
{
	struct rs_install	 in;
	struct rs_config	 cfg;
	char			 www[160], data[160], db[256], sec[256];
	char			 link[160], inside[200];

	snprintf(www, sizeof(www), "%s/www", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(link, sizeof(link), "%s/www-link", dir);
	TAP_SETUP(mkdir(www, 0700) == 0 && mkdir(data, 0700) == 0 &&
	    symlink(www, link) == 0);
	snprintf(inside, sizeof(inside), "%s/app", www);
	TAP_SETUP(mkdir(inside, 0700) == 0);
	memset(&in, 0, sizeof(in));
	memset(&cfg, 0, sizeof(cfg));
	snprintf(db, sizeof(db), "%s/r.db", data);
	snprintf(sec, sizeof(sec), "%s/r.key", data);
	cfg.db_path = db;
	cfg.state_path = db;	/* a file database: its own place */
	cfg.secret_path = sec;
	TAP_IS_INT(docroot(&in, &cfg, www), RS_OK, "docroot: "
	    "files outside it");
	TAP_IS_INT(docroot(&in, &cfg, NULL), RS_OK, "docroot: "
	    "none");
	TAP_IS_INT(docroot(&in, &cfg, dir), RS_ERR_STATE,
	    "docroot: the files' parent directory is refused");
	snprintf(db, sizeof(db), "%s/r.db", inside);
	TAP_IS_INT(docroot(&in, &cfg, link), RS_ERR_STATE,
	    "docroot: a database under it (reached by a symbolic link) is "
	    "refused");
	snprintf(db, sizeof(db), "%s/r.db", www);
	TAP_IS_INT(docroot(&in, &cfg, "/nonexistent/www"), RS_OK,
	    "docroot: one that does not exist holds nothing");
	TAP_IS_INT(docroot(&in, &cfg, www), RS_ERR_STATE,
	    "docroot: a database in it is refused");
	snprintf(db, sizeof(db), "%s/r.db", data);
	snprintf(sec, sizeof(sec), "%s/r.key", inside);
	rs_install_free(&in);
	TAP_IS_INT(docroot(&in, &cfg, www), RS_ERR_STATE,
	    "docroot: the secret under it is refused too");
	snprintf(link, sizeof(link), "%s/wwwx", dir);
	TAP_IS_INT(docroot(&in, &cfg, link), RS_OK,
	    "docroot: a name that only begins like it is another directory");
	{
		const char	*two[2] = { link, www };

		TAP_IS_INT(rs_install_docroot(&in, &cfg, two, 2),
		    RS_ERR_STATE, "docroot: the second root (Apache's "
		    "CONTEXT_DOCUMENT_ROOT) counts too");
	}
	rs_install_free(&in);
}

/* Parses envp and takes the mount base off it: 0, or -1. */
static int
mount(struct rs_arena *a, struct rs_req *r, char **envp, const char *base)
{
	struct rs_http_fail	 fail;

	rs_arena_reset(a);
	if (rs_http_parse(r, a, envp, &fail) != 0)
		return -1;
	rs_http_mount(r, base);
	return 0;
}

static void
test_mount(void)
{
	struct rs_arena	 a;
	struct rs_req	 r;
	char	*sub[] = { "REQUEST_URI=/~crew/rs/v1/records/x?limit=1",
		    "SCRIPT_NAME=/~crew/rs/relaysync.cgi", NULL };
	char	*root[] = { "REQUEST_URI=/v1/records",
		    "SCRIPT_NAME=/v1/records", NULL };
	char	*plain[] = { "REQUEST_URI=/app/v1/health", NULL };
	char	*out[] = { "REQUEST_URI=/v1/health", NULL };
	char	*alias[] = { "REQUEST_URI=/~crew/rs/v1/health",
		    "SCRIPT_NAME=/~crew/rs", "PATH_INFO=/v1/health", NULL };
	char	*deep[] = { "REQUEST_URI=/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r",
		    "SCRIPT_NAME=/a/b/x.cgi", NULL };

	rs_arena_init(&a);
	TAP_OK(mount(&a, &r, sub, NULL) == 0 && strcmp(r.mount, "/~crew/rs")
	    == 0 && r.nseg == 3 && strcmp(r.seg[0], "v1") == 0 &&
	    strcmp(r.seg[2], "x") == 0 && !r.outside, "mount: SCRIPT_NAME's "
	    "directory, then the route's segments");
	TAP_OK(mount(&a, &r, alias, NULL) == 0 && strcmp(r.mount,
	    "/~crew/rs") == 0 && r.nseg == 2 && strcmp(r.seg[1], "health") ==
	    0, "mount: SCRIPT_NAME itself (a program mapped at the mount)");
	TAP_OK(mount(&a, &r, root, NULL) == 0 && strcmp(r.mount, "") == 0 &&
	    r.nseg == 2, "mount: at the root, none");
	TAP_OK(mount(&a, &r, plain, "/app") == 0 && strcmp(r.mount, "/app") ==
	    0 && r.nseg == 2 && !r.outside, "mount: RELAYSYNC_BASE_PATH");
	TAP_OK(mount(&a, &r, out, "/app") == 0 && r.outside, "mount: a path "
	    "outside RELAYSYNC_BASE_PATH is outside");
	TAP_OK(mount(&a, &r, deep, NULL) == 0 &&
	    r.nseg > RS_MAX_PATH_SEGMENTS, "mount: a path too long before "
	    "stays too long after");
	rs_arena_free(&a);
}

/* Serves one GET of uri with envp's extra parameters; the status. */
struct out {
	char	 buf[4096];
	size_t	 len;
};

static int
out_write(void *ctx, const char *buf, size_t n)
{
	struct out	*o = ctx;

	if (buf == NULL)
		return 0;
	if (n > sizeof(o->buf) - 1 - o->len)
		n = sizeof(o->buf) - 1 - o->len;
	memcpy(o->buf + o->len, buf, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

static int
no_body(void *ctx, char *buf, int n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

static int
get(struct rs_app *app, char **envp, struct out *o)
{
	memset(o, 0, sizeof(*o));
	rs_app_handle(app, envp, no_body, NULL, out_write, o);
	return strncmp(o->buf, "Status: ", 8) == 0 ? atoi(o->buf + 8) : -1;
}

static void
test_app_pending(const char *dir, const char *dbpath, const char *secret)
{
	struct rs_app	 app;
	struct out	 o;
	char		 dbkv[200], seckv[200], otherkv[200], rootkv[200];
	char	*first[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v1/health",
		    dbkv, seckv, NULL };
	char	*again[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v1/health",
		    seckv, dbkv, NULL };
	char	*other[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v1/health",
		    otherkv, seckv, NULL };
	char	*unsafe[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v1/health",
		    dbkv, seckv, rootkv, NULL };

	snprintf(dbkv, sizeof(dbkv), "RELAYSYNC_DB=%s", dbpath);
	snprintf(seckv, sizeof(seckv), "RELAYSYNC_SECRET_FILE=%s", secret);
	snprintf(otherkv, sizeof(otherkv), "RELAYSYNC_DB=%s/other.db", dir);
	snprintf(rootkv, sizeof(rootkv), "DOCUMENT_ROOT=%s", dir);
	unsetenv("RELAYSYNC_DB");
	unsetenv("RELAYSYNC_SECRET_FILE");
	rs_app_open(&app);
	TAP_OK(app.pending && app.db == NULL, "app: no RELAYSYNC_DB in the "
	    "environment: the settings wait for a request");
	TAP_IS_INT(get(&app, first, &o), 200, "app: the first request's "
	    "RELAYSYNC_DB and RELAYSYNC_SECRET_FILE serve it");
	TAP_IS_INT(get(&app, again, &o), 200, "app: the same settings again");
	TAP_IS_INT(get(&app, other, &o), 503, "app: another RELAYSYNC_DB: "
	    "503, never the first one's data");
	TAP_OK(strstr(o.buf, "another installation") != NULL, "app: ... "
	    "saying so");
	TAP_IS_INT(get(&app, unsafe, &o), 503, "app: the database under "
	    "the document root: 503");
	TAP_OK(strstr(o.buf, "document root") != NULL, "app: ... saying so");
	rs_app_close(&app);
	unsetenv("RELAYSYNC_DB");
	unsetenv("RELAYSYNC_SECRET_FILE");
}

int
main(void)
{
	char		 dir[64], secret[128], dbpath[128];
	struct rs_db	*db;
	int		 ndb = 0;

	tap_plan(11 + 10 + 6 + 7);
	fixture_start(dir, sizeof(dir), "test-install");
	test_take_same();
	test_docroot(dir);
	test_mount();
	snprintf(secret, sizeof(secret), "%s/secret.key", dir);
	TAP_SETUP(rs_secret_create(secret) == RS_OK);
	db = fixture_db_open(dir, &ndb, 1);
	fixture_db_path(dbpath, sizeof(dbpath), dir, ndb, "");
	rs_db_close(db);
	test_app_pending(dir, dbpath, secret);
	unlink(secret);
	{
		char	 cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/www' '%s/data' "
		    "'%s/www-link'", dir, dir, dir);
		if (system(cmd) != 0)
			tap_diag("cannot clean %s", dir);
	}
	fixture_db_cleanup(dir, ndb);
	return tap_done();
}
