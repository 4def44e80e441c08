/*
 * relaysync-admin: the operator's command line. It parses arguments,
 * calls librelaysync (admin.h) and prints: results on stdout, messages
 * on stderr; exit 0, 1 on failure, 2 on a usage error (with the usage on
 * stderr). Every command is one row of the command table below, which
 * also holds its help and the options it admits. Settings come from
 * RELAYSYNC_DB and RELAYSYNC_SECRET_FILE.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <pwd.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "relaysync.h"
#include "backup.h"
#include "copy.h"
#include "clock.h"
#include "json.h"

#define EXIT_USAGE	2
#define MAX_POS		2	/* positional arguments of any command */
#define PATH_BUF	4096

/* Every option of every command; a command admits some of them. */
enum opt {
	OPT_ORG,
	OPT_EMAIL,
	OPT_ROLE,
	OPT_RATE,
	OPT_JSON,
	OPT_FORCE,
	OPT_PAUSE,
	OPT_FROM,
	OPT_TO,
	OPT__MAX
};

static const struct {
	const char	*name;
	int		 has_arg;
} opts[OPT__MAX] = {
	{ "--org", 1 },		/* OPT_ORG */
	{ "--email", 1 },	/* OPT_EMAIL */
	{ "--role", 1 },	/* OPT_ROLE */
	{ "--rate-limit", 1 },	/* OPT_RATE */
	{ "--json", 0 },	/* OPT_JSON */
	{ "--force", 0 },	/* OPT_FORCE */
	{ "--pause", 1 },	/* OPT_PAUSE */
	{ "--from", 1 },	/* OPT_FROM */
	{ "--to", 1 },		/* OPT_TO */
};

#define O(x)	(1u << (x))

/* A command line, parsed against its command's row. */
struct args {
	const char	*opt[OPT__MAX];	/* value; "" for a flag; NULL: absent */
	const char	*pos[MAX_POS];
	int		 npos;
};

struct cmd {
	const char	*name;		/* "key create" */
	const char	*synopsis;	/* what follows the name in usage */
	const char	*help;		/* what it does, prints, and admits */
	unsigned	 allowed;	/* O(OPT_...) */
	unsigned	 required;
	int		 minpos;
	int		 maxpos;
	const char	*posname;	/* "NAME", for "missing NAME" */
	int		(*run)(const struct rs_config *, const struct args *);
};

static int	run_init(const struct rs_config *, const struct args *);
static int	run_migrate(const struct rs_config *, const struct args *);
static int	run_org_create(const struct rs_config *, const struct args *);
static int	run_org_list(const struct rs_config *, const struct args *);
static int	run_org_rate(const struct rs_config *, const struct args *);
static int	run_key_create(const struct rs_config *, const struct args *);
static int	run_key_list(const struct rs_config *, const struct args *);
static int	run_key_revoke(const struct rs_config *, const struct args *);
static int	run_user_list(const struct rs_config *, const struct args *);
static int	run_stats(const struct rs_config *, const struct args *);
static int	run_audit_verify(const struct rs_config *,
		    const struct args *);
static int	run_backup(const struct rs_config *, const struct args *);
static int	run_restore(const struct rs_config *, const struct args *);
static int	run_check(const struct rs_config *, const struct args *);
static int	run_copy(const struct rs_config *, const struct args *);

static const struct cmd cmds[] = {
	{ "init", "",
	  "  Creates the server secret (mode 0600) and the database when they\n"
	  "  are missing, and migrates the database. Safe to run again. Their\n"
	  "  directories must exist and be writable: run it as the web\n"
	  "  server's user (sudo -u www-data env RELAYSYNC_DB=... \\\n"
	  "  RELAYSYNC_SECRET_FILE=... relaysync-admin init).\n",
	  0, 0, 0, 0, NULL, run_init },
	{ "migrate", "",
	  "  Applies pending schema migrations. Run it as the database's\n"
	  "  owner, then restart the web server.\n",
	  0, 0, 0, 0, NULL, run_migrate },
	{ "org create", "NAME [--rate-limit N] [--json]",
	  "  Creates an org and prints its id (org_...).\n"
	  "  --rate-limit N  requests per second (1 to 1000000; default 120)\n"
	  "  --json          print {\"org_id\",\"name\",\"rate_limit\"}\n"
	  "                  instead\n",
	  O(OPT_RATE) | O(OPT_JSON), 0, 1, 1, "NAME", run_org_create },
	{ "org set-rate-limit", "ORG N [--json]",
	  "  Sets ORG's rate limit to N requests per second (1 to 1000000;\n"
	  "  the bucket holds N, refilled over one second). Every process\n"
	  "  applies it to the org's next request.\n"
	  "  --json  print {\"org_id\",\"rate_limit\"}\n",
	  O(OPT_JSON), 0, 2, 2, "ORG N", run_org_rate },
	{ "org list", "[--json]",
	  "  Lists the orgs, oldest first: a table with a header row (ID,\n"
	  "  CREATED, RATE, USERS, KEYS (live), NAME).\n"
	  "  --json  print a JSON array of {\"id\",\"name\",\"rate_limit\",\n"
	  "          \"users\",\"keys\",\"created_at\"} instead\n",
	  O(OPT_JSON), 0, 0, 0, NULL, run_org_list },
	{ "key create", "--org ORG --email EMAIL --role ROLE [--json]",
	  "  Creates an API key for EMAIL in ORG, and the user (active, with\n"
	  "  ROLE) when EMAIL is new there. Prints the key, shown only this\n"
	  "  once, and its id (for key revoke) as \"name value\" lines:\n"
	  "    key_id   key_...\n"
	  "    api_key  rs_live_...\n"
	  "    org_id   org_...\n"
	  "    user_id  usr_...\n"
	  "    email    EMAIL\n"
	  "    role     ROLE\n"
	  "  (a script takes the key with: awk '$1 == \"api_key\" "
	  "{ print $2 }').\n"
	  "  --org ORG      the org's id (org_..., see org list)\n"
	  "  --email EMAIL  the user's address\n"
	  "  --role ROLE    admin, operator or viewer\n"
	  "  --json         print one JSON object with the same members\n",
	  O(OPT_ORG) | O(OPT_EMAIL) | O(OPT_ROLE) | O(OPT_JSON),
	  O(OPT_ORG) | O(OPT_EMAIL) | O(OPT_ROLE), 0, 0, NULL,
	  run_key_create },
	{ "key list", "[--org ORG] [--json]",
	  "  Lists API keys, oldest first: a table with a header row (ID,\n"
	  "  ORG, ROLE, CREATED, REVOKED, EMAIL). Never shows a key or its\n"
	  "  hash.\n"
	  "  --org ORG  only the keys of this org\n"
	  "  --json     print a JSON array of {\"id\",\"org_id\",\"user_id\",\n"
	  "             \"email\",\"role\",\"created_at\",\"revoked_at\"} "
	  "instead\n",
	  O(OPT_ORG) | O(OPT_JSON), 0, 0, 0, NULL, run_key_list },
	{ "key revoke", "KEY_ID",
	  "  Revokes a key (key_..., as key create and key list print it);\n"
	  "  its tokens stop working at once. Revoking it again is no error.\n",
	  0, 0, 1, 1, "KEY_ID", run_key_revoke },
	{ "user list", "--org ORG [--json]",
	  "  Lists the users of ORG, oldest first: a table with a header row\n"
	  "  (ID, ROLE, STATUS, LAST_SYNC, CREATED, EMAIL).\n"
	  "  --org ORG  the org's id (org_...)\n"
	  "  --json     print a JSON array of {\"id\",\"email\",\"role\",\n"
	  "             \"status\",\"last_sync_at\",\"created_at\"} instead\n",
	  O(OPT_ORG) | O(OPT_JSON), O(OPT_ORG), 0, 0, NULL, run_user_list },
	{ "stats", "",
	  "  Prints counts of orgs, users and keys, and the schema version.\n",
	  0, 0, 0, 0, NULL, run_stats },
	{ "audit verify", "[--org ORG]",
	  "  Recomputes each org's audit chain from the stored entries: every\n"
	  "  hash from the entry's facts, every prev_hash link, seq 1, 2, 3 ...\n"
	  "  Prints one line per org:\n"
	  "    org_...: N entries, intact\n"
	  "    org_...: entry SEQ is broken (why)\n"
	  "  and exits 1 when any chain is broken.\n"
	  "  --org ORG  only this org's chain\n",
	  O(OPT_ORG), 0, 0, 0, NULL, run_audit_verify },
	{ "backup", "FILE [--force] [--pause MS]",
	  "  Copies the database into FILE while the server runs (SQLite's\n"
	  "  online backup, from one read snapshot, in steps of 256 pages:\n"
	  "  writers go on meanwhile). FILE is one self-contained database\n"
	  "  (rollback journal mode: no FILE-wal), written as FILE.tmp-PID,\n"
	  "  synced, then renamed: never a half file under FILE. Prints\n"
	  "  \"name value\" lines: backup, pages, bytes, seconds, schema and\n"
	  "  the copy's row counts (orgs, users, keys, records, events,\n"
	  "  audit, webhooks, jobs). Refuses a FILE that exists (or has a\n"
	  "  -wal or -journal beside it), and the database's own files.\n"
	  "  --force  replace FILE (and remove its -wal, -shm, -journal)\n"
	  "  --pause MS  milliseconds between steps, 0 to 1000 (default 2):\n"
	  "           slower, and gentler on a busy server\n",
	  O(OPT_FORCE) | O(OPT_PAUSE), 0, 1, 1, "FILE", run_backup },
	{ "restore", "FILE",
	  "  Replaces the database with the backup FILE. Only while no\n"
	  "  process has the database open: stop the web server (and let a\n"
	  "  worker run end) first; it refuses otherwise, changing nothing\n"
	  "  (it cannot stop the server's pool safely: the server would\n"
	  "  start another). FILE must pass its integrity check and be a\n"
	  "  RelaySync database no newer than this program; an older one is\n"
	  "  migrated on the copy. The copy, beside the database, must pass\n"
	  "  check in full; then the previous database is kept whole as\n"
	  "  DB.before-restore-YYYYMMDDTHHMMSSZ and the copy renamed into\n"
	  "  place, with the previous one's owner and mode. Prints \"name\n"
	  "  value\" lines: restored, kept, migrated_from (when it was),\n"
	  "  pages, bytes, seconds, schema and the row counts.\n",
	  0, 0, 1, 1, "FILE", run_restore },
	{ "check", "[FILE]",
	  "  Checks the database (RELAYSYNC_DB, while the server runs: each\n"
	  "  part reads one snapshot, writers go on), or the database file\n"
	  "  FILE (a backup; opened read only, changed in nothing):\n"
	  "  PRAGMA integrity_check, PRAGMA foreign_key_check, the schema\n"
	  "  version against this program's, and every org's audit chain\n"
	  "  (as audit verify). Prints \"name value\" lines, a FAILED\n"
	  "  line for each failure, and the row counts; exits 1 naming\n"
	  "  what failed.\n",
	  0, 0, 0, 1, "FILE", run_check },
	{ "copy", "--from FILE --to CONNINFO",
	  "  Moves an SQLite deployment to PostgreSQL: copies every row of\n"
	  "  the database file FILE (opened read only; it must be at this\n"
	  "  program's schema: migrate it first) into the PostgreSQL\n"
	  "  database CONNINFO (postgresql://... or a libpq conninfo), which\n"
	  "  is brought to its schema and must hold no org. One transaction:\n"
	  "  a copy that fails leaves the target empty. Then checks the\n"
	  "  target: every table's row count, and every org's audit chain\n"
	  "  (as audit verify). Stop the web server and the worker's cron\n"
	  "  first: what is written meanwhile stays behind. Prints \"name\n"
	  "  value\" lines: each table's rows, orgs and audit entries\n"
	  "  verified, seconds. Needs a build with --with-postgresql.\n",
	  O(OPT_FROM) | O(OPT_TO), O(OPT_FROM) | O(OPT_TO), 0, 0, NULL,
	  run_copy },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/*
 * Whether command c is chosen by words (a command, "key", or a command
 * and its subcommand, "key create"; NULL: every command).
 */
static int
cmd_chosen(const struct cmd *c, const char *word, const char *sub)
{
	size_t	 len;

	if (word == NULL)
		return 1;
	len = strlen(word);
	if (strncmp(c->name, word, len) != 0 ||
	    (c->name[len] != '\0' && c->name[len] != ' '))
		return 0;
	return sub == NULL || (c->name[len] == ' ' &&
	    strcmp(c->name + len + 1, sub) == 0);
}

/* The usage lines of the commands chosen by word and sub; how many. */
static int
print_usage(FILE *f, const char *word, const char *sub)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < NCMDS; i++) {
		if (!cmd_chosen(&cmds[i], word, sub))
			continue;
		fprintf(f, "%s relaysync-admin %s%s%s\n",
		    n++ == 0 ? "usage:" : "      ", cmds[i].name,
		    *cmds[i].synopsis ? " " : "", cmds[i].synopsis);
	}
	return n;
}

/*
 * Full help for word and sub (NULL: an overview): the usage lines, then
 * each command's text. 0, or -1 when no command is so named.
 */
static int
print_help(FILE *f, const char *word, const char *sub)
{
	size_t	 i;

	if (print_usage(f, word, sub) == 0)
		return -1;
	if (word == NULL) {
		fprintf(f, "\nHelp on one command: relaysync-admin help "
		    "COMMAND (or COMMAND --help).\n"
		    "Environment: RELAYSYNC_DB (the SQLite file),\n"
		    "RELAYSYNC_SECRET_FILE (the server secret). Before any "
		    "command,\n"
		    "--env-file FILE reads settings (RELAYSYNC_NAME=value "
		    "lines) the\n"
		    "environment lacks from FILE.\n"
		    "Exit status: 0 done, 1 failed, 2 usage error.\n");
		return 0;
	}
	for (i = 0; i < NCMDS; i++)
		if (cmd_chosen(&cmds[i], word, sub))
			fprintf(f, "\nrelaysync-admin %s\n%s", cmds[i].name,
			    cmds[i].help);
	fprintf(f, "\n  -h, --help  print this help\n");
	return 0;
}

/* Says why the command line of c is wrong, with its usage; EXIT_USAGE. */
static int
usage_error(const struct cmd *c, const char *fmt, ...)
{
	va_list	 ap;
	char	 word[32];

	fprintf(stderr, "relaysync-admin: %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(c->name, " "),
	    c->name);
	print_usage(stderr, word, c->name[strlen(word)] == ' ' ?
	    c->name + strlen(word) + 1 : NULL);
	fprintf(stderr, "Try relaysync-admin help %s\n", c->name);
	return EXIT_USAGE;
}

/* Parses argv (what follows the command's name) into a; 0 or EXIT_USAGE. */
static int
parse_args(const struct cmd *c, int argc, char *argv[], struct args *a)
{
	int	 i, o, dashes = 0;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		if (!dashes && strcmp(argv[i], "--") == 0) {
			dashes = 1;	/* what follows is no option */
			continue;
		}
		if (dashes || argv[i][0] != '-' || argv[i][1] == '\0') {
			if (a->npos == c->maxpos)
				return usage_error(c, "unexpected argument %s",
				    argv[i]);
			a->pos[a->npos++] = argv[i];
			continue;
		}
		for (o = 0; o < OPT__MAX; o++)
			if ((c->allowed & O(o)) &&
			    strcmp(argv[i], opts[o].name) == 0)
				break;
		if (o == OPT__MAX)
			return usage_error(c, "unknown option %s", argv[i]);
		if (a->opt[o] != NULL)
			return usage_error(c, "%s given twice", argv[i]);
		if (opts[o].has_arg && i + 1 == argc)
			return usage_error(c, "%s needs a value", argv[i]);
		a->opt[o] = opts[o].has_arg ? argv[++i] : "";
	}
	if (a->npos < c->minpos)
		return usage_error(c, "missing %s", c->posname);
	for (o = 0; o < OPT__MAX; o++)
		if ((c->required & O(o)) && a->opt[o] == NULL)
			return usage_error(c, "%s is required", opts[o].name);
	return 0;
}

static int
fail(const char *what, enum rs_err rc)
{
	fprintf(stderr, "relaysync-admin: %s: %s\n", what, rs_strerror(rc));
	return 1;
}

/* "NAME (uid N)" of this process's effective user, in buf. */
static const char *
whoami(char *buf, size_t bufsz)
{
	struct passwd	*pw = getpwuid(geteuid());

	snprintf(buf, bufsz, "%s (uid %ld)", pw ? pw->pw_name : "?",
	    (long)geteuid());
	return buf;
}

/* The name of user uid, or its number, in buf. */
static const char *
username(uid_t uid, char *buf, size_t bufsz)
{
	struct passwd	*pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, bufsz, "%s", pw->pw_name);
	else
		snprintf(buf, bufsz, "uid %ld", (long)uid);
	return buf;
}

/*
 * Says why the database at path cannot be opened for writing, when the
 * file system tells (a missing directory, a file or directory this user
 * may not write); otherwise prints rc.
 */
static int
fail_db(const char *path, enum rs_err rc)
{
	char	 bad[PATH_BUF], me[128];

	switch (rs_admin_db_writable(path, bad, sizeof(bad))) {
	case RS_ERR_NOTFOUND:
		fprintf(stderr, "relaysync-admin: %s: no such database "
		    "(relaysync-admin init makes it)\n", path);
		return 1;
	case RS_ERR_IO:
		fprintf(stderr, "relaysync-admin: %s: not writable by user %s; "
		    "run relaysync-admin as the database's owner (the web "
		    "server's user, e.g. sudo -u www-data)\n", bad,
		    whoami(me, sizeof(me)));
		return 1;
	default:
		return fail(path, rc);
	}
}

/* Says why the secret at path could not be read; returns 1. */
static int
fail_secret(const char *path, enum rs_err rc)
{
	char	 me[128];

	if (rc != RS_ERR_IO)
		return fail(path, rc);
	if (access(path, F_OK) != 0)
		fprintf(stderr, "relaysync-admin: %s: no such file "
		    "(relaysync-admin init makes it)\n", path);
	else
		fprintf(stderr, "relaysync-admin: %s: not readable by user %s; "
		    "run relaysync-admin as its owner (the web server's "
		    "user)\n", path, whoami(me, sizeof(me)));
	return 1;
}

/* Opens the database; on failure prints why and returns NULL. */
static struct rs_db *
open_db(const struct rs_config *cfg, int create)
{
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((rc = rs_db_open(cfg->db_path, create, cfg->sync_full,
	    &db)) != RS_OK) {
		/* A server's database is made by its owner (createdb), never
		 * by init; libpq's reason is logged above. */
		if (rs_config_conninfo(cfg->db_path))
			fprintf(stderr, "relaysync-admin: %s: cannot use it "
			    "(%s)\n", cfg->db_label, rs_strerror(rc));
		else
			fail_db(cfg->db_path, rc);
		return NULL;
	}
	rs_admin_share(db, cfg->state_path);
	return db;
}

/* Opens a database that must be at the current schema. */
static struct rs_db *
open_current(const struct rs_config *cfg)
{
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_db(cfg, 0)) == NULL)
		return NULL;
	if ((rc = rs_migrate_check(db)) != RS_OK) {
		fprintf(stderr, "relaysync-admin: %s: %s\n", cfg->db_label,
		    rc == RS_ERR_INVAL ? "schema out of date: run "
		    "relaysync-admin migrate" : rs_strerror(rc));
		rs_db_close(db);
		return NULL;
	}
	return db;
}

/* Flushes stdout: 0, or 1 after saying it could not be written. */
static int
flush_out(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "relaysync-admin: stdout: write error\n");
	return 1;
}

static int
migrate(const struct rs_config *cfg, int create)
{
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_db(cfg, create)) == NULL)
		return 1;
	rc = rs_migrate_run(db);
	if (rc == RS_OK)
		fprintf(stderr, "%s: schema version %d\n", cfg->db_label,
		    rs_db_user_version(db));
	rs_db_close(db);
	return rc == RS_OK ? 0 : fail("migrate", rc);
}

static int
run_migrate(const struct rs_config *cfg, const struct args *a)
{
	(void)a;
	return migrate(cfg, 0);
}

/*
 * Checks that the directory of the state file path exists and that this
 * user can make files in it; 0, or 1 after naming what is wrong and
 * what to do. Run as root in a directory another user owns, warns that
 * the files made will be root's.
 */
static int
check_dir(const char *path)
{
	char	 dir[PATH_BUF], me[128], who[64];
	uid_t	 owner;

	switch (rs_admin_dir_check(path, dir, sizeof(dir), &owner)) {
	case RS_OK:
		if (geteuid() == 0 && owner != 0 && access(path, F_OK) != 0)
			fprintf(stderr, "relaysync-admin: warning: %s will "
			    "belong to root, but %s belongs to %s: run init "
			    "as %s, or chown the files made\n", path, dir,
			    username(owner, who, sizeof(who)), who);
		return 0;
	case RS_ERR_NOTFOUND:
		fprintf(stderr, "relaysync-admin: %s: no such directory (for "
		    "%s); create it, owned by the web server's user, e.g. "
		    "install -d -o www-data -g www-data -m 0750 %s\n", dir,
		    path, dir);
		return 1;
	case RS_ERR_INVAL:
		fprintf(stderr, "relaysync-admin: %s: not a directory (for "
		    "%s)\n", dir, path);
		return 1;
	case RS_ERR_IO:
		fprintf(stderr, "relaysync-admin: %s: not writable by user %s "
		    "(for %s); run init as the directory's owner%s%s\n", dir,
		    whoami(me, sizeof(me)), path,
		    owner != (uid_t)-1 ? ", " : "",
		    owner != (uid_t)-1 ? username(owner, who, sizeof(who)) :
		    "");
		return 1;
	default:
		fprintf(stderr, "relaysync-admin: %s: path too long\n", path);
		return 1;
	}
}

static int
run_init(const struct rs_config *cfg, const struct args *a)
{
	enum rs_err	 rc;
	unsigned char	 key[RS_SECRET_BYTES];

	(void)a;
	if (check_dir(cfg->secret_path) != 0 || check_dir(cfg->state_path) != 0)
		return 1;
	rc = rs_secret_create(cfg->secret_path);
	if (rc == RS_OK)
		fprintf(stderr, "%s: new server secret\n", cfg->secret_path);
	else if (rc != RS_ERR_EXISTS)
		return fail(cfg->secret_path, rc);
	if ((rc = rs_secret_load(cfg->secret_path, key)) != RS_OK)
		return fail_secret(cfg->secret_path, rc);
	sodium_memzero(key, sizeof(key));
	return migrate(cfg, 1);
}

/* Prints s as a JSON string. */
static void
put_json_str(const char *s)
{
	struct json_object	*o;

	if ((o = json_object_new_string(s)) == NULL) {
		fputs("null", stdout);	/* ferror() is not set: say so */
		fprintf(stderr, "relaysync-admin: out of memory\n");
		return;
	}
	fputs(rs_json_compact(o), stdout);
	json_object_put(o);
}

static int
run_org_create(const struct rs_config *cfg, const struct args *a)
{
	struct rs_db	*db;
	char		 id[RS_ID_MAX];
	long long	 limit = RS_RATE_LIMIT_DEFAULT;
	const char	*errstr;
	enum rs_err	 rc;

	if (a->opt[OPT_RATE] != NULL) {
		limit = rs_num_parse(a->opt[OPT_RATE], 1, RS_RATE_LIMIT_MAX,
		    &errstr);
		if (errstr != NULL) {
			fprintf(stderr, "relaysync-admin: --rate-limit must be "
			    "a number from 1 to %d\n", RS_RATE_LIMIT_MAX);
			return EXIT_USAGE;
		}
	}
	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_org_create(db, a->pos[0], (int)limit, id);
	rs_db_close(db);
	if (rc != RS_OK)
		return fail(rc == RS_ERR_INVAL ?
		    "org name must be 1 to 200 bytes" : "org create", rc);
	if (a->opt[OPT_JSON] == NULL)
		printf("%s\n", id);
	else {
		printf("{\"org_id\":\"%s\",\"name\":", id);
		put_json_str(a->pos[0]);
		printf(",\"rate_limit\":%lld}\n", limit);
	}
	return flush_out();
}

static int
run_org_rate(const struct rs_config *cfg, const struct args *a)
{
	struct rs_db	*db;
	long long	 limit;
	const char	*errstr;
	enum rs_err	 rc;

	limit = rs_num_parse(a->pos[1], 1, RS_RATE_LIMIT_MAX, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "relaysync-admin: N must be a number from 1 to "
		    "%d\n", RS_RATE_LIMIT_MAX);
		return EXIT_USAGE;
	}
	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_org_set_rate(db, a->pos[0], (int)limit);
	rs_db_close(db);
	if (rc == RS_ERR_NOTFOUND || rc == RS_ERR_INVAL) {
		fprintf(stderr, "relaysync-admin: no org %s (see org list)\n",
		    a->pos[0]);
		return 1;
	}
	if (rc != RS_OK)
		return fail("org set-rate-limit", rc);
	if (a->opt[OPT_JSON] != NULL) {
		printf("{\"org_id\":");
		put_json_str(a->pos[0]);
		printf(",\"rate_limit\":%lld}\n", limit);
	}
	return flush_out();
}

/* Prints a key just made, in the form key create --help documents. */
static void
print_newkey(const struct args *a, const struct rs_admin_newkey *nk,
    const char *role)
{
	if (a->opt[OPT_JSON] == NULL) {
		printf("key_id   %s\napi_key  %s\norg_id   %s\nuser_id  %s\n"
		    "email    %s\nrole     %s\n", nk->key_id, nk->key,
		    a->opt[OPT_ORG], nk->user_id, a->opt[OPT_EMAIL], role);
		return;
	}
	/* Ids and the key are of our own alphabets: no escaping. */
	printf("{\"key_id\":\"%s\",\"api_key\":\"%s\",\"org_id\":",
	    nk->key_id, nk->key);
	put_json_str(a->opt[OPT_ORG]);
	printf(",\"user_id\":\"%s\",\"email\":", nk->user_id);
	put_json_str(a->opt[OPT_EMAIL]);
	printf(",\"role\":\"%s\"}\n", role);
}

static int
run_key_create(const struct rs_config *cfg, const struct args *a)
{
	unsigned char		 master[RS_SECRET_BYTES], sub[RS_SECRET_BYTES];
	struct rs_admin_newkey	 nk;
	struct rs_db		*db;
	enum rs_role		 role;
	enum rs_err		 rc;
	int			 ret;

	if ((role = rs_role_parse(a->opt[OPT_ROLE])) == 0) {
		fprintf(stderr, "relaysync-admin: --role must be admin, "
		    "operator or viewer\n");
		return EXIT_USAGE;
	}
	if ((rc = rs_secret_load(cfg->secret_path, master)) != RS_OK)
		return fail_secret(cfg->secret_path, rc);
	rs_secret_derive(master, RS_SECRET_APIKEY, sub);
	sodium_memzero(master, sizeof(master));
	if ((db = open_current(cfg)) == NULL) {
		sodium_memzero(sub, sizeof(sub));
		return 1;
	}
	rc = rs_admin_key_issue(db, sub, a->opt[OPT_ORG], a->opt[OPT_EMAIL],
	    role, &nk);
	rs_db_close(db);
	sodium_memzero(sub, sizeof(sub));
	switch (rc) {
	case RS_OK:
		print_newkey(a, &nk, rs_role_name(role));
		sodium_memzero(nk.key, sizeof(nk.key));
		ret = flush_out();
		if (ret != 0)
			fprintf(stderr, "relaysync-admin: %s was made but not "
			    "printed: revoke it\n", nk.key_id);
		return ret;
	case RS_ERR_NOTFOUND:
		fprintf(stderr, "relaysync-admin: %s: no such org\n",
		    a->opt[OPT_ORG]);
		return 1;
	case RS_ERR_EXISTS:
		fprintf(stderr, "relaysync-admin: %s already exists in %s "
		    "with another role\n", a->opt[OPT_EMAIL], a->opt[OPT_ORG]);
		return 1;
	case RS_ERR_INVAL:
		fprintf(stderr, "relaysync-admin: %s: not a valid email "
		    "address\n", a->opt[OPT_EMAIL]);
		return 1;
	default:
		return fail("key create", rc);
	}
}

static int
run_key_revoke(const struct rs_config *cfg, const struct args *a)
{
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_key_revoke(db, a->pos[0]);
	rs_db_close(db);
	if (rc == RS_ERR_NOTFOUND) {
		fprintf(stderr, "relaysync-admin: %s: no such key\n",
		    a->pos[0]);
		return 1;
	}
	if (rc != RS_OK)
		return fail(a->pos[0], rc);
	fprintf(stderr, "%s revoked\n", a->pos[0]);
	return 0;
}

/*
 * Listings: a table (header row, fixed-width columns, the one column of
 * free text last) or a JSON array, one element a line.
 */
struct listing {
	int	 json;
	int	 rows;
	void	(*header)(void);	/* prints the table's header row */
};

/* A table cell for time ms: RFC 3339 to the second, or "-" for never. */
static const char *
cell_time(char *buf, size_t bufsz, int64_t ms)
{
	char	 full[RS_CLOCK_RFC3339_LEN + 1];

	if (ms == 0)
		snprintf(buf, bufsz, "-");
	else
		snprintf(buf, bufsz, "%.19sZ",
		    rs_clock_format(full, sizeof(full), ms));
	return buf;
}

/* Starts a row: the table's header before the first, or the comma. */
static void
list_row(struct listing *l)
{
	if (l->json)
		fputs(l->rows == 0 ? "[\n" : ",\n", stdout);
	else if (l->rows == 0)
		l->header();
	l->rows++;
}

/* Prints o as one array element and releases it; 0, or -1. */
static int
list_json(struct json_object *o, int built)
{
	int	 rc = -1;

	if (built == 0) {
		fputs(rs_json_compact(o), stdout);
		rc = 0;
	}
	json_object_put(o);
	return rc == 0 && !ferror(stdout) ? 0 : -1;
}

/* Ends a listing run by rs_admin_*_list with rc; the exit status. */
static int
list_end(struct listing *l, enum rs_err rc, const char *org)
{
	if (rc == RS_OK && l->json)
		fputs(l->rows == 0 ? "[]\n" : "\n]\n", stdout);
	else if (rc == RS_OK && l->rows == 0)
		l->header();	/* a table without rows is its header */
	if (rc == RS_ERR_NOTFOUND && org != NULL) {
		fprintf(stderr, "relaysync-admin: %s: no such org\n", org);
		return 1;
	}
	if (rc != RS_OK)
		return ferror(stdout) ? flush_out() : fail("list", rc);
	return flush_out();
}

#define ID_W	30	/* org_, usr_, key_ and a ULID */
#define TIME_W	20	/* 2026-11-26T17:45:21Z */

static void
org_header(void)
{
	printf("%-*s  %-*s  %8s  %6s  %6s  %s\n", ID_W, "ID", TIME_W,
	    "CREATED", "RATE", "USERS", "KEYS", "NAME");
}

static int
org_row(const struct rs_store_org *o, void *arg)
{
	struct listing		*l = arg;
	struct json_object	*j;
	char			 t[32];

	list_row(l);
	if (!l->json) {
		printf("%-*s  %-*s  %8d  %6lld  %6lld  %s\n", ID_W, o->id,
		    TIME_W, cell_time(t, sizeof(t), o->created_at),
		    o->rate_limit, (long long)o->users, (long long)o->keys,
		    o->name);
		return ferror(stdout) ? -1 : 0;
	}
	if ((j = json_object_new_object()) == NULL)
		return -1;
	return list_json(j, rs_json_add_str(j, "id", o->id) ||
	    rs_json_add_str(j, "name", o->name) ||
	    rs_json_add_int(j, "rate_limit", o->rate_limit) ||
	    rs_json_add_int(j, "users", o->users) ||
	    rs_json_add_int(j, "keys", o->keys) ||
	    rs_json_add_time(j, "created_at", o->created_at));
}

static int
run_org_list(const struct rs_config *cfg, const struct args *a)
{
	struct listing	 l = { a->opt[OPT_JSON] != NULL, 0,
			    org_header };
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_org_list(db, org_row, &l);
	rs_db_close(db);
	return list_end(&l, rc, NULL);
}

static void
key_header(void)
{
	printf("%-*s  %-*s  %-8s  %-*s  %-*s  %s\n", ID_W, "ID", ID_W, "ORG",
	    "ROLE", TIME_W, "CREATED", TIME_W, "REVOKED", "EMAIL");
}

static int
key_row(const struct rs_store_keyinfo *k, void *arg)
{
	struct listing		*l = arg;
	struct json_object	*j;
	char			 t1[32], t2[32];

	list_row(l);
	if (!l->json) {
		printf("%-*s  %-*s  %-8s  %-*s  %-*s  %s\n", ID_W, k->id,
		    ID_W, k->org_id, rs_role_name(k->role), TIME_W,
		    cell_time(t1, sizeof(t1), k->created_at), TIME_W,
		    cell_time(t2, sizeof(t2), k->revoked_at), k->email);
		return ferror(stdout) ? -1 : 0;
	}
	if ((j = json_object_new_object()) == NULL)
		return -1;
	return list_json(j, rs_json_add_str(j, "id", k->id) ||
	    rs_json_add_str(j, "org_id", k->org_id) ||
	    rs_json_add_str(j, "user_id", k->user_id) ||
	    rs_json_add_str(j, "email", k->email) ||
	    rs_json_add_str(j, "role", rs_role_name(k->role)) ||
	    rs_json_add_time(j, "created_at", k->created_at) ||
	    rs_json_add_time(j, "revoked_at", k->revoked_at));
}

static int
run_key_list(const struct rs_config *cfg, const struct args *a)
{
	struct listing	 l = { a->opt[OPT_JSON] != NULL, 0,
			    key_header };
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_key_list(db, a->opt[OPT_ORG], key_row, &l);
	rs_db_close(db);
	return list_end(&l, rc, a->opt[OPT_ORG]);
}

static void
user_header(void)
{
	printf("%-*s  %-8s  %-8s  %-*s  %-*s  %s\n", ID_W, "ID", "ROLE",
	    "STATUS", TIME_W, "LAST_SYNC", TIME_W, "CREATED", "EMAIL");
}

static int
user_row(const struct rs_user *u, void *arg)
{
	struct listing		*l = arg;
	struct json_object	*j;
	char			 t1[32], t2[32];

	list_row(l);
	if (!l->json) {
		printf("%-*s  %-8s  %-8s  %-*s  %-*s  %s\n", ID_W, u->id,
		    u->role, u->status, TIME_W,
		    cell_time(t1, sizeof(t1), u->last_sync_at), TIME_W,
		    cell_time(t2, sizeof(t2), u->created_at), u->email);
		return ferror(stdout) ? -1 : 0;
	}
	if ((j = json_object_new_object()) == NULL)
		return -1;
	return list_json(j, rs_json_add_str(j, "id", u->id) ||
	    rs_json_add_str(j, "email", u->email) ||
	    rs_json_add_str(j, "role", u->role) ||
	    rs_json_add_str(j, "status", u->status) ||
	    rs_json_add_time(j, "last_sync_at", u->last_sync_at) ||
	    rs_json_add_time(j, "created_at", u->created_at));
}

static int
run_user_list(const struct rs_config *cfg, const struct args *a)
{
	struct listing	 l = { a->opt[OPT_JSON] != NULL, 0,
			    user_header };
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_user_list(db, a->opt[OPT_ORG], user_row, &l);
	rs_db_close(db);
	return list_end(&l, rc, a->opt[OPT_ORG]);
}

static int
run_stats(const struct rs_config *cfg, const struct args *a)
{
	struct rs_admin_stats	 s;
	struct rs_db		*db;
	int			 latest;
	enum rs_err		 rc;

	(void)a;
	if ((db = open_db(cfg, 0)) == NULL)
		return 1;
	rc = rs_admin_stats(db, &s);
	latest = rs_migrate_latest_of(db);
	rs_db_close(db);
	if (rc != RS_OK)
		return fail("stats", rc);
	printf("schema %d (this program knows %d)\norgs %lld\nusers %lld\n"
	    "keys %lld live, %lld revoked\n", s.schema, latest,
	    (long long)s.orgs, (long long)s.users, (long long)s.keys,
	    (long long)s.keys_revoked);
	return flush_out();
}

/* The command named by argv[1] (and argv[2]), and how many words it took. */
static const struct cmd *
find_cmd(int argc, char *argv[], int *words)
{
	size_t	 i;

	for (i = 0; i < NCMDS; i++)
		if (strchr(cmds[i].name, ' ') == NULL &&
		    strcmp(cmds[i].name, argv[1]) == 0) {
			*words = 1;
			return &cmds[i];
		}
	for (i = 0; argc > 2 && i < NCMDS; i++)
		if (cmd_chosen(&cmds[i], argv[1], argv[2])) {
			*words = 2;
			return &cmds[i];
		}
	return NULL;
}

/* Whether --help or -h is among argv[from..argc). */
static int
wants_help(int argc, char *argv[], int from)
{
	int	 i;

	for (i = from; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* How many commands word and sub choose. */
static int
count_chosen(const char *word, const char *sub)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < NCMDS; i++)
		n += cmd_chosen(&cmds[i], word, sub);
	return n;
}

static int
is_help(const char *s)
{
	return s != NULL && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0);
}

/* relaysync-admin help [COMMAND [SUBCOMMAND]], and --help anywhere. */
static int
help(int argc, char *argv[], int from)
{
	const char	*word = argc > from ? argv[from] : NULL;
	const char	*sub = argc > from + 1 ? argv[from + 1] : NULL;

	if (is_help(word))
		word = sub = NULL;
	if (is_help(sub))
		sub = NULL;
	if (count_chosen(word, sub) == 0) {
		fprintf(stderr, "relaysync-admin: no command %s%s%s\n", word,
		    sub ? " " : "", sub ? sub : "");
		print_usage(stderr, NULL, NULL);
		return EXIT_USAGE;
	}
	print_help(stdout, word, sub);
	return flush_out();
}

/* An unknown command (or a group without its subcommand); EXIT_USAGE. */
static int
unknown(int argc, char *argv[])
{
	int	 group = count_chosen(argv[1], NULL) > 0;

	if (group && argc == 2)
		fprintf(stderr, "relaysync-admin: %s: missing subcommand\n",
		    argv[1]);
	else
		fprintf(stderr, "relaysync-admin: unknown command: %s%s%s\n",
		    argv[1], group ? " " : "", group ? argv[2] : "");
	print_usage(stderr, group ? argv[1] : NULL, NULL);
	fprintf(stderr, "Try relaysync-admin help%s%s\n", group ? " " : "",
	    group ? argv[1] : "");
	return EXIT_USAGE;
}

int
main(int argc, char *argv[])
{
	const struct cmd	*c;
	struct rs_config	 cfg;
	struct args		 a;
	const char		*file;
	char			 err[256];
	int			 words, rc, shift;

	rs_log_set_name("relaysync-admin");
	/* --env-file FILE before the command: settings where the
	 * environment has none (config.h). */
	if (argc >= 2 && (strcmp(argv[1], "--env-file") == 0 ||
	    strncmp(argv[1], "--env-file=", 11) == 0)) {
		file = argv[1][10] == '=' ? argv[1] + 11 : argc >= 3 ?
		    argv[2] : NULL;
		if (file == NULL || *file == '\0') {
			fprintf(stderr, "relaysync-admin: --env-file needs a "
			    "file\n");
			return EXIT_USAGE;
		}
		if (rs_config_file(file, err, sizeof(err)) != 0) {
			fprintf(stderr, "relaysync-admin: %s\n", err);
			return EXIT_USAGE;
		}
		shift = argv[1][10] == '=' ? 1 : 2;
		argv[shift] = argv[0];
		argv += shift;
		argc -= shift;
	}
	if (argc < 2) {
		print_usage(stderr, NULL, NULL);
		fprintf(stderr, "Try relaysync-admin --help\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0)
		return help(argc, argv, 2);
	if ((c = find_cmd(argc, argv, &words)) == NULL)
		return wants_help(argc, argv, 1) ? help(argc, argv, 1) :
		    unknown(argc, argv);
	if (wants_help(argc, argv, 1 + words)) {
		print_help(stdout, argv[1], words == 2 ? argv[2] : NULL);
		return flush_out();
	}
	if ((rc = parse_args(c, argc - 1 - words, argv + 1 + words, &a)) != 0)
		return rc;
	if (sodium_init() < 0) {
		fprintf(stderr, "relaysync-admin: libsodium failed\n");
		return 1;
	}
	if (rs_config_load(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "relaysync-admin: %s\n", err);
		return 1;
	}
	return c->run(&cfg, &a);
}

/* Prints one org's verification; counts the broken ones in *arg. */
static int
audit_row(const struct rs_admin_audit_result *r, void *arg)
{
	int	*broken = arg;

	if (r->broken != 0) {
		(*broken)++;
		printf("%s: entry %lld is broken (%s)\n", r->org,
		    (long long)r->broken, r->why);
	} else
		printf("%s: %lld entries, intact\n", r->org,
		    (long long)r->entries);
	return ferror(stdout) ? -1 : 0;
}

static int
run_audit_verify(const struct rs_config *cfg, const struct args *a)
{
	struct rs_db	*db;
	enum rs_err	 rc;
	int		 broken = 0, out;

	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_audit_verify(db, a->opt[OPT_ORG], audit_row, &broken);
	rs_db_close(db);
	if (rc == RS_ERR_NOTFOUND && a->opt[OPT_ORG] != NULL) {
		fprintf(stderr, "relaysync-admin: %s: no such org\n",
		    a->opt[OPT_ORG]);
		return 1;
	}
	if (rc != RS_OK)
		return ferror(stdout) ? flush_out() : fail("audit verify", rc);
	out = flush_out();
	return broken > 0 ? 1 : out;
}

/* ---- backup, restore, check -------------------------------------------- */

/* A "name value" line of the backup commands. */
#define KV	"%-13s"

/* The row counts of a copy or a database. */
static void
print_census(const struct rs_store_backup_census *c)
{
	printf(KV "%lld\n" KV "%lld\n" KV "%lld\n" KV "%lld\n" KV "%lld\n"
	    KV "%lld\n" KV "%lld\n" KV "%lld\n",
	    "orgs", (long long)c->orgs, "users", (long long)c->users,
	    "keys", (long long)c->keys, "records", (long long)c->records,
	    "events", (long long)c->events, "audit", (long long)c->audit,
	    "webhooks", (long long)c->webhooks, "jobs", (long long)c->jobs);
}

/* What a backup or a restore copied. */
static void
print_copied(const struct rs_backup_report *r)
{
	printf(KV "%lld\n" KV "%lld\n" KV "%lld.%03lld\n" KV "%d\n",
	    "pages", (long long)r->pages, "bytes", (long long)r->bytes,
	    "seconds", (long long)(r->ms / 1000), (long long)(r->ms % 1000),
	    "schema", r->schema);
	if (r->census_ok)
		print_census(&r->census);
}

static void
on_stop(int sig)
{
	(void)sig;
	rs_backup_interrupt();
}

/*
 * backup and restore copy a database file; a PostgreSQL database is
 * backed up by PostgreSQL's own tools. 1 (said why) when cfg names one.
 */
static int
file_only(const struct rs_config *cfg, const char *what)
{
	if (!rs_config_conninfo(cfg->db_path))
		return 0;
	fprintf(stderr, "relaysync-admin: %s: RELAYSYNC_DB names a "
	    "PostgreSQL database; back it up with pg_dump (or the "
	    "platform's base backups) and restore it with pg_restore: see "
	    "the README, \"Outgrowing one host\"\n", what);
	return 1;
}

static int
run_backup(const struct rs_config *cfg, const struct args *a)
{
	struct rs_backup_report	*r;
	struct sigaction	 sa;
	long long		 pause = RS_BACKUP_PAUSE_MS;
	const char		*errstr;
	enum rs_err		 rc;
	int			 ret;

	if (file_only(cfg, "backup"))
		return 1;
	if (a->opt[OPT_PAUSE] != NULL) {
		pause = rs_num_parse(a->opt[OPT_PAUSE], 0,
		    RS_BACKUP_PAUSE_MAX_MS, &errstr);
		if (errstr != NULL) {
			fprintf(stderr, "relaysync-admin: --pause must be a "
			    "number from 0 to %d\n", RS_BACKUP_PAUSE_MAX_MS);
			return EXIT_USAGE;
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return fail("backup", RS_ERR_NOMEM);
	/* Stopped by a signal, it stops at its next step and cleans up. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	rc = rs_backup_make_paced(cfg->db_path, a->pos[0],
	    a->opt[OPT_FORCE] != NULL, cfg->sync_full, (int)pause, r);
	if (rc != RS_OK) {
		fprintf(stderr, "relaysync-admin: backup: %s\n", r->why);
		free(r);
		return 1;
	}
	printf(KV "%s\n", "backup", a->pos[0]);
	print_copied(r);
	free(r);
	ret = flush_out();
	return ret;
}

static int
run_restore(const struct rs_config *cfg, const struct args *a)
{
	struct rs_backup_report	*r;
	sigset_t		 block, old;
	enum rs_err		 rc;

	if (file_only(cfg, "restore"))
		return 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return fail("restore", RS_ERR_NOMEM);
	/* Bounded, and cleaned up on every failure: not cut short. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	rc = rs_backup_restore(cfg->db_path, a->pos[0], cfg->sync_full, r);
	if (rc != RS_OK) {
		fprintf(stderr, "relaysync-admin: restore: %s\n", r->why);
		free(r);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	printf(KV "%s\n" KV "%s\n", "restored", cfg->db_path, "kept",
	    r->kept[0] != '\0' ? r->kept : "-");
	if (r->migrated_from != 0)
		printf(KV "%d\n", "migrated_from", r->migrated_from);
	print_copied(r);
	free(r);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return flush_out();
}

/* Prints a broken chain as check finds it. */
static int
check_chain(const struct rs_admin_audit_result *r, void *arg)
{
	(void)arg;
	if (r->broken != 0)
		printf(KV "%s: entry %lld is broken (%s)\n", "audit_broken",
		    r->org, (long long)r->broken, r->why);
	return ferror(stdout) ? -1 : 0;
}

/* The schema line of check. */
static void
check_schema(const struct rs_backup_check *c, int live)
{
	if (c->skipped & RS_BACKUP_BAD_SCHEMA)
		printf(KV "not checked\n", "schema");
	else if (c->schema == c->latest)
		printf(KV "%d (this program's %d)\n", "schema", c->schema,
		    c->latest);
	else if (c->schema > c->latest)
		printf(KV "FAILED: %d, newer than this program's %d\n",
		    "schema", c->schema, c->latest);
	else
		printf(KV "FAILED: %d, older than this program's %d: %s\n",
		    "schema", c->schema, c->latest, live ? "run relaysync-admin "
		    "migrate" : "restore migrates it");
}

/* The lines of SQLite's checks of a file. */
static void
check_file(const struct rs_backup_check *c)
{
	if (c->problems != 0)
		printf(KV "FAILED: %s (%lld problem%s)\n", "integrity",
		    c->integrity, (long long)c->problems,
		    c->problems == 1 ? "" : "s");
	else
		printf(KV "ok\n", "integrity");
	if (c->skipped & RS_BACKUP_BAD_FKEYS)
		printf(KV "not checked\n", "foreign_keys");
	else if (c->violations != 0)
		printf(KV "FAILED: %lld violations, the first: %s\n",
		    "foreign_keys", (long long)c->violations, c->fkey);
	else
		printf(KV "ok\n", "foreign_keys");
}

static int
run_check(const struct rs_config *cfg, const struct args *a)
{
	struct rs_backup_check	 c;
	const char		*path = a->npos > 0 ? a->pos[0] : cfg->db_path;
	char			 why[RS_BACKUP_PATH + 512];
	enum rs_err		 rc;

	rc = rs_backup_check(path, a->npos == 0, cfg->sync_full, check_chain,
	    NULL, &c, why, sizeof(why));
	if (rc != RS_OK) {
		if (ferror(stdout))
			return flush_out();
		fprintf(stderr, "relaysync-admin: check: %s\n", why);
		return 1;
	}
	printf(KV "%s\n", "database", a->npos > 0 ? path : cfg->db_label);
	if (c.server)
		/* The server's own: data checksums, pg_amcheck. */
		printf(KV "the server's\n" KV "the server's\n", "integrity",
		    "foreign_keys");
	else
		check_file(&c);
	check_schema(&c, a->npos == 0);
	if (c.skipped & RS_BACKUP_BAD_AUDIT)
		printf(KV "not checked\n", "audit_chains");
	else if (c.broken != 0)
		printf(KV "FAILED: %lld of %lld broken, the first: %s\n",
		    "audit_chains", (long long)c.broken, (long long)c.chains,
		    c.audit);
	else
		printf(KV "%lld intact, %lld entries\n", "audit_chains",
		    (long long)c.chains, (long long)c.entries);
	if (!(c.failed & RS_BACKUP_BAD_INTEGRITY) && !c.server)
		printf(KV "%lld\n" KV "%lld\n", "pages", (long long)c.pages,
		    "bytes", (long long)(c.pages * c.page_size));
	if (c.census_ok)
		print_census(&c.census);
	if (flush_out() != 0)
		return 1;
	if (c.failed == 0)
		return 0;
	fprintf(stderr, "relaysync-admin: check: %s: FAILED:%s%s%s%s\n",
	    a->npos > 0 ? path : cfg->db_label,
	    c.failed & RS_BACKUP_BAD_INTEGRITY ? " integrity" : "",
	    c.failed & RS_BACKUP_BAD_FKEYS ? " foreign_keys" : "",
	    c.failed & RS_BACKUP_BAD_SCHEMA ? " schema" : "",
	    c.failed & RS_BACKUP_BAD_AUDIT ? " audit_chains" : "");
	return 1;
}

static int
run_copy(const struct rs_config *cfg, const struct args *a)
{
	struct rs_copy_report	*r;
	enum rs_err		 rc;
	size_t			 i;

	(void)cfg;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return fail("copy", RS_ERR_NOMEM);
	rc = rs_copy_run(a->opt[OPT_FROM], a->opt[OPT_TO], r);
	if (rc != RS_OK) {
		fprintf(stderr, "relaysync-admin: copy: %s\n", r->why[0] !=
		    '\0' ? r->why : rs_strerror(rc));
		free(r);
		return 1;
	}
	/* Wider than KV: table names run to 16 characters. */
	printf("%-17s %s\n", "copied", a->opt[OPT_FROM]);
	for (i = 0; i < r->ntables; i++)
		printf("%-17s %lld\n", r->table[i], (long long)r->rows[i]);
	printf("%-17s %lld intact, %lld entries\n%-17s %.1f\n",
	    "audit_chains", (long long)r->orgs, (long long)r->entries,
	    "seconds", (double)r->ms / 1000.0);
	free(r);
	return flush_out();
}
