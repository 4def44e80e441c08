/*
 * test-config: settings files (lib/config.h, rs_config_file): lines set
 * what the environment lacks and never replace what it has; comments,
 * blank lines and CRLF; a bad line, a foreign name, a file too long or
 * missing sets nothing and says which file and line; and the bounds of
 * RELAYSYNC_HISTORY_DAYS (rs_config_load); which RELAYSYNC_DB names a
 * PostgreSQL database, where a host keeps its own files then, and what
 * never goes to the log (a conninfo's password); RELAYSYNC_HOSTS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char	 dir[64];

/* Writes text to dir/name; the path into path. */
static void
put(const char *name, const char *text, size_t len, char *path,
    size_t pathsz)
{
	FILE	*f;

	snprintf(path, pathsz, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(text, 1, len, f) != len || fclose(f) != 0)
		tap_bail("cannot write %s", path);
}

static int
is(const char *name, const char *want)
{
	const char	*v = getenv(name);

	return want == NULL ? v == NULL : v != NULL && strcmp(v, want) == 0;
}

/*
 * RELAYSYNC_HISTORY_DAYS loads as n (want >= 0), or is refused naming
 * itself (want -1). Returns 1 when it does.
 */
static int
days_are(const char *value, int want)
{
	struct rs_config	 cfg;
	char			 err[256];
	int			 rc;

	if (value == NULL)
		unsetenv("RELAYSYNC_HISTORY_DAYS");
	else
		TAP_SETUP(setenv("RELAYSYNC_HISTORY_DAYS", value, 1) == 0);
	err[0] = '\0';
	rc = rs_config_load(&cfg, err, sizeof(err));
	if (want < 0)
		return rc == -1 && strstr(err, "RELAYSYNC_HISTORY_DAYS must be "
		    "a number from 0 to 3650") != NULL;
	return rc == 0 && cfg.history_days == want;
}

/* The history setting's default and bounds (rs_config_load). */
static void
history_days(void)
{
	TAP_OK(days_are(NULL, 30) && days_are("", 30),
	    "history days: unset or empty is 30");
	TAP_OK(days_are("0", 0), "history days: 0 (keep none) is taken");
	TAP_OK(days_are("3650", 3650), "history days: 3650 is taken");
	TAP_OK(days_are("3651", -1), "history days: 3651 is refused, named");
	TAP_OK(days_are("-1", -1), "history days: -1 is refused");
	TAP_OK(days_are("30d", -1), "history days: not a number is refused");
	unsetenv("RELAYSYNC_HISTORY_DAYS");
}

/* RELAYSYNC_DB: a file or a conninfo; RELAYSYNC_STATE; RELAYSYNC_HOSTS. */
static void
database(void)
{
	struct rs_config	 cfg;
	char			 err[256];

	TAP_OK(rs_config_conninfo("postgresql://u:pw@db.example/rs") &&
	    rs_config_conninfo("postgres://db/rs") &&
	    rs_config_conninfo("host=/run/postgresql dbname=rs") &&
	    rs_config_conninfo("dbname = rs"),
	    "database: URIs and key=value conninfos are PostgreSQL's");
	TAP_OK(!rs_config_conninfo("/var/lib/relaysync/relaysync.db") &&
	    !rs_config_conninfo("relaysync.db") &&
	    !rs_config_conninfo("./host=1.db") &&
	    !rs_config_conninfo("Host=x") && !rs_config_conninfo(""),
	    "database: paths (even with an =) are files");
	unsetenv("RELAYSYNC_STATE");
	unsetenv("RELAYSYNC_HOSTS");
	TAP_SETUP(setenv("RELAYSYNC_DB", "/srv/r.db", 1) == 0);
	TAP_OK(rs_config_load(&cfg, err, sizeof(err)) == 0 &&
	    strcmp(cfg.state_path, "/srv/r.db") == 0 &&
	    strcmp(cfg.db_label, "/srv/r.db") == 0 && cfg.hosts == 1,
	    "database: a file is its own place and name; one host");
	TAP_SETUP(setenv("RELAYSYNC_DB",
	    "postgresql://rs:s3cret@db.example/rs", 1) == 0);
	TAP_SETUP(setenv("RELAYSYNC_STATE", "/srv/relaysync", 1) == 0);
	TAP_SETUP(setenv("RELAYSYNC_HOSTS", "3", 1) == 0);
	TAP_OK(rs_config_load(&cfg, err, sizeof(err)) == 0 &&
	    strcmp(cfg.state_path, "/srv/relaysync") == 0 &&
	    cfg.hosts == 3, "database: PostgreSQL: RELAYSYNC_STATE places "
	    "this host's files; RELAYSYNC_HOSTS is taken");
	TAP_OK(strstr(cfg.db_label, "s3cret") == NULL &&
	    strstr(cfg.db_label, "PostgreSQL") != NULL,
	    "database: its name for the log holds no password");
	TAP_SETUP(setenv("RELAYSYNC_HOSTS", "0", 1) == 0);
	TAP_OK(rs_config_load(&cfg, err, sizeof(err)) == -1 &&
	    strstr(err, "RELAYSYNC_HOSTS") != NULL,
	    "database: RELAYSYNC_HOSTS 0 is refused, named");
	unsetenv("RELAYSYNC_HOSTS");
	unsetenv("RELAYSYNC_STATE");
	unsetenv("RELAYSYNC_DB");
}

int
main(void)
{
	char		 path[128], err[256], *big;
	const char	*good = "# RelaySync settings\n\nRELAYSYNC_DB=/srv/a b.db\n"
	    "RELAYSYNC_TOKEN_TTL=600\r\nRELAYSYNC_SECRET_FILE=/srv/k=1\n"
	    "RELAYSYNC_BASE_PATH=";
	size_t		 i;

	tap_plan(12 + 6 + 6);
	snprintf(dir, sizeof(dir), "/tmp/test-config-XXXXXX");
	TAP_SETUP(mkdtemp(dir) != NULL);
	unsetenv("RELAYSYNC_DB");
	unsetenv("RELAYSYNC_SECRET_FILE");
	unsetenv("RELAYSYNC_BASE_PATH");
	TAP_SETUP(setenv("RELAYSYNC_TOKEN_TTL", "900", 1) == 0);

	put("good.env", good, strlen(good), path, sizeof(path));
	TAP_IS_INT(rs_config_file(path, err, sizeof(err)), 0, "file: read");
	TAP_OK(is("RELAYSYNC_DB", "/srv/a b.db") &&
	    is("RELAYSYNC_SECRET_FILE", "/srv/k=1"), "file: values verbatim "
	    "to the end of the line, after the first =");
	TAP_OK(is("RELAYSYNC_TOKEN_TTL", "900"), "file: the environment wins "
	    "(and a CRLF line is read)");
	TAP_OK(is("RELAYSYNC_BASE_PATH", ""), "file: an empty value, last "
	    "line without a newline");

	unsetenv("RELAYSYNC_DB");
	put("bad.env", "RELAYSYNC_DB=/x\nnot a setting\n", 31, path,
	    sizeof(path));
	TAP_IS_INT(rs_config_file(path, err, sizeof(err)), -1, "file: a "
	    "line without =");
	TAP_OK(strstr(err, "bad.env: line 2") != NULL && is("RELAYSYNC_DB",
	    NULL), "file: ... names file and line, sets nothing");
	put("foreign.env", "PATH=/tmp\n", 10, path, sizeof(path));
	TAP_OK(rs_config_file(path, err, sizeof(err)) == -1 &&
	    strstr(err, "not a RELAYSYNC_ setting") != NULL, "file: only "
	    "RELAYSYNC_ settings");
	put("lower.env", "RELAYSYNC_db=/x\n", 16, path, sizeof(path));
	TAP_IS_INT(rs_config_file(path, err, sizeof(err)), -1, "file: names "
	    "are upper case");
	put("nul.env", "RELAYSYNC_DB=/x\0y\n", 18, path, sizeof(path));
	TAP_OK(rs_config_file(path, err, sizeof(err)) == -1 &&
	    is("RELAYSYNC_DB", NULL), "file: a NUL in a value");
	snprintf(path, sizeof(path), "%s/missing.env", dir);
	TAP_OK(rs_config_file(path, err, sizeof(err)) == -1 &&
	    strstr(err, "missing.env") != NULL, "file: a missing file says "
	    "which");
	TAP_SETUP((big = malloc(RS_CONFIG_FILE_MAX + 2)) != NULL);
	for (i = 0; i < RS_CONFIG_FILE_MAX + 1; i++)
		big[i] = i % 40 == 39 ? '\n' : '#';
	put("big.env", big, RS_CONFIG_FILE_MAX + 1, path, sizeof(path));
	TAP_OK(rs_config_file(path, err, sizeof(err)) == -1 &&
	    strstr(err, "64 KiB") != NULL, "file: over 64 KiB");
	for (i = 0; i < 65; i++)
		snprintf(big + i * 21, 22, "RELAYSYNC_X%07zu=1\n", i);
	put("many.env", big, 65 * 21, path, sizeof(path));
	TAP_OK(rs_config_file(path, err, sizeof(err)) == -1 &&
	    is("RELAYSYNC_X0000000", NULL), "file: at most 64 settings");
	free(big);
	database();
	history_days();
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		tap_diag("cannot remove %s", dir);
	return tap_done();
}
