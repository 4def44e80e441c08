/*
 * relaysync-admin: the operator's command line. It parses arguments,
 * calls librelaysync and prints; errors go to stderr with exit 1 (2 for
 * usage). Settings come from RELAYSYNC_DB and RELAYSYNC_SECRET_FILE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "relaysync.h"

#define EXIT_USAGE	2

static const struct {
	const char	*cmd;
	const char	*usage;
} helps[] = {
	{ "init", "init\n"
	    "  Create the secret file (mode 0600) if missing, create the\n"
	    "  database if missing, and migrate it. Safe to run again." },
	{ "migrate", "migrate\n  Apply pending schema migrations." },
	{ "org", "org create NAME [--rate-limit N]\n"
	    "  Create an org; prints its id (org_...)." },
	{ "key", "key create --org ORG --email EMAIL --role admin|operator|viewer\n"
	    "  Create an API key (and the user when new); prints only the key.\n"
	    "key revoke KEY_ID\n"
	    "  Revoke a key; its tokens stop working at once." },
	{ "stats", "stats\n  Print counts of orgs, users and keys, and the schema version." },
};

static void
usage(FILE *f, const char *cmd)
{
	size_t	 i;

	fprintf(f, "usage: relaysync-admin COMMAND [ARGS]\n");
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (cmd == NULL || strcmp(cmd, helps[i].cmd) == 0)
			fprintf(f, "\nrelaysync-admin %s\n", helps[i].usage);
	if (cmd == NULL)
		fprintf(f, "\nEnvironment: RELAYSYNC_DB (the SQLite file), "
		    "RELAYSYNC_SECRET_FILE (the server secret).\n");
}

static int
wants_help(int argc, char *argv[])
{
	int	 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int
fail(const char *what, enum rs_err rc)
{
	fprintf(stderr, "relaysync-admin: %s: %s\n", what, rs_strerror(rc));
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
		fail(cfg->db_path, rc);
		return NULL;
	}
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
		fprintf(stderr, "relaysync-admin: %s: %s\n", cfg->db_path,
		    rc == RS_ERR_INVAL ? "schema out of date: run "
		    "relaysync-admin migrate" : rs_strerror(rc));
		rs_db_close(db);
		return NULL;
	}
	return db;
}

static int
cmd_migrate(const struct rs_config *cfg, int create)
{
	struct rs_db	*db;
	enum rs_err	 rc;

	if ((db = open_db(cfg, create)) == NULL)
		return 1;
	rc = rs_migrate_run(db);
	if (rc == RS_OK)
		fprintf(stderr, "%s: schema version %d\n", cfg->db_path,
		    rs_db_user_version(db));
	rs_db_close(db);
	return rc == RS_OK ? 0 : fail("migrate", rc);
}

static int
cmd_init(const struct rs_config *cfg)
{
	enum rs_err	 rc;
	unsigned char	 key[RS_SECRET_BYTES];

	rc = rs_secret_create(cfg->secret_path);
	if (rc == RS_OK)
		fprintf(stderr, "%s: new server secret\n", cfg->secret_path);
	else if (rc != RS_ERR_EXISTS)
		return fail(cfg->secret_path, rc);
	if ((rc = rs_secret_load(cfg->secret_path, key)) != RS_OK)
		return fail(cfg->secret_path, rc);
	sodium_memzero(key, sizeof(key));
	return cmd_migrate(cfg, 1);
}

static int
cmd_org(const struct rs_config *cfg, int argc, char *argv[])
{
	struct rs_db	*db;
	char		 id[RS_ID_MAX];
	long long	 limit = RS_RATE_LIMIT_DEFAULT;
	const char	*errstr;
	enum rs_err	 rc;

	if (argc == 4 && strcmp(argv[2], "--rate-limit") == 0) {
		limit = rs_num_parse(argv[3], 1, RS_RATE_LIMIT_MAX, &errstr);
		if (errstr != NULL) {
			fprintf(stderr, "relaysync-admin: --rate-limit must be "
			    "a number from 1 to %d\n", RS_RATE_LIMIT_MAX);
			return EXIT_USAGE;
		}
	} else if (argc != 2) {
		usage(stderr, "org");
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "create") != 0) {
		usage(stderr, "org");
		return EXIT_USAGE;
	}
	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_org_create(db, argv[1], (int)limit, id);
	rs_db_close(db);
	if (rc != RS_OK)
		return fail(rc == RS_ERR_INVAL ?
		    "org name must be 1 to 200 bytes" : "org create", rc);
	printf("%s\n", id);
	return 0;
}

static int
cmd_key_create(const struct rs_config *cfg, int argc, char *argv[])
{
	const char	*org = NULL, *email = NULL, *rolename = NULL;
	unsigned char	 master[RS_SECRET_BYTES], sub[RS_SECRET_BYTES];
	char		 key[RS_APIKEY_LEN + 1], key_id[RS_ID_MAX];
	struct rs_db	*db;
	enum rs_role	 role;
	enum rs_err	 rc;
	int		 i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--org") == 0)
			org = argv[i + 1];
		else if (strcmp(argv[i], "--email") == 0)
			email = argv[i + 1];
		else if (strcmp(argv[i], "--role") == 0)
			rolename = argv[i + 1];
		else
			break;
	}
	if (i != argc || org == NULL || email == NULL || rolename == NULL) {
		usage(stderr, "key");
		return EXIT_USAGE;
	}
	if ((role = rs_role_parse(rolename)) == 0) {
		fprintf(stderr, "relaysync-admin: --role must be admin, "
		    "operator or viewer\n");
		return EXIT_USAGE;
	}
	if ((rc = rs_secret_load(cfg->secret_path, master)) != RS_OK)
		return fail(cfg->secret_path, rc);
	rs_secret_derive(master, RS_SECRET_APIKEY, sub);
	sodium_memzero(master, sizeof(master));
	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_key_create(db, sub, org, email, role, key, key_id);
	rs_db_close(db);
	sodium_memzero(sub, sizeof(sub));
	switch (rc) {
	case RS_OK:
		printf("%s\n", key);
		fprintf(stderr, "%s created for %s\n", key_id, email);
		sodium_memzero(key, sizeof(key));
		return 0;
	case RS_ERR_NOTFOUND:
		return fail(org, rc);
	case RS_ERR_EXISTS:
		fprintf(stderr, "relaysync-admin: %s already exists in %s "
		    "with another role\n", email, org);
		return 1;
	case RS_ERR_INVAL:
		fprintf(stderr, "relaysync-admin: %s: not a valid email "
		    "address\n", email);
		return 1;
	default:
		return fail("key create", rc);
	}
}

static int
cmd_key(const struct rs_config *cfg, int argc, char *argv[])
{
	struct rs_db	*db;
	enum rs_err	 rc;

	if (argc >= 1 && strcmp(argv[0], "create") == 0)
		return cmd_key_create(cfg, argc, argv);
	if (argc != 2 || strcmp(argv[0], "revoke") != 0) {
		usage(stderr, "key");
		return EXIT_USAGE;
	}
	if ((db = open_current(cfg)) == NULL)
		return 1;
	rc = rs_admin_key_revoke(db, argv[1]);
	rs_db_close(db);
	if (rc != RS_OK)
		return fail(argv[1], rc);
	fprintf(stderr, "%s revoked\n", argv[1]);
	return 0;
}

static int
cmd_stats(const struct rs_config *cfg)
{
	struct rs_admin_stats	 s;
	struct rs_db		*db;
	enum rs_err		 rc;

	if ((db = open_db(cfg, 0)) == NULL)
		return 1;
	rc = rs_admin_stats(db, &s);
	rs_db_close(db);
	if (rc != RS_OK)
		return fail("stats", rc);
	printf("schema %d (this program knows %d)\norgs %lld\nusers %lld\n"
	    "keys %lld live, %lld revoked\n", s.schema, rs_migrate_latest(),
	    (long long)s.orgs, (long long)s.users, (long long)s.keys,
	    (long long)s.keys_revoked);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rs_config	 cfg;
	char			 err[256];
	const char		*cmd = argc > 1 ? argv[1] : NULL;

	rs_log_set_name("relaysync-admin");
	if (cmd == NULL) {
		usage(stderr, NULL);
		return EXIT_USAGE;
	}
	if (wants_help(argc, argv)) {
		usage(stdout, strcmp(cmd, "--help") == 0 ||
		    strcmp(cmd, "-h") == 0 ? NULL : cmd);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "relaysync-admin: libsodium failed\n");
		return 1;
	}
	if (rs_config_load(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "relaysync-admin: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "init") == 0 && argc == 2)
		return cmd_init(&cfg);
	if (strcmp(cmd, "migrate") == 0 && argc == 2)
		return cmd_migrate(&cfg, 0);
	if (strcmp(cmd, "org") == 0 && argc >= 3)
		return cmd_org(&cfg, argc - 2, argv + 2);
	if (strcmp(cmd, "key") == 0 && argc >= 3)
		return cmd_key(&cfg, argc - 2, argv + 2);
	if (strcmp(cmd, "stats") == 0 && argc == 2)
		return cmd_stats(&cfg);
	fprintf(stderr, "relaysync-admin: unknown command or arguments: %s\n"
	    "Try relaysync-admin --help\n", cmd);
	return EXIT_USAGE;
}
