/*
 * pipeline.c: the whole request pipeline in-process (pipeline.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>
#include <sqlite3.h>

#include "limits.h"
#include "admin.h"
#include "app.h"
#include "clock.h"
#include "db.h"
#include "json.h"
#include "migrate.h"
#include "role.h"
#include "secret.h"
#include "pipeline.h"

#define FUZZ_NAME	"pipeline"
#include "fuzz.h"

#define MAXENV	16
#define VALSZ	(RS_MAX_BODY + 1)

static struct rs_app	 app;
static char		 dir[256];
static char		 bearer[RS_MAX_TOKEN + 16];
/* The fixtures' current values, for ${name} in a request. */
static struct {
	const char	*name;
	char		 value[RS_MAX_TOKEN + 1];
} vars[] = {
	{ "rec", "" }, { "causal", "" }, { "usr", "" }, { "wh", "" },
	{ "cfl", "" }, { "invite", "" },
};

static char *
fz_var(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(vars[i].name, name) == 0)
			return vars[i].value;
	abort();
}

/* s[0..len) with each ${name} replaced; malloc'd, its length in *outlen. */
static char *
fz_expand(const char *s, size_t len, size_t *outlen)
{
	size_t	 cap = len + 1, n = 0, i, j, k;
	char	*o;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		cap += (len / 4 + 1) * strlen(vars[i].value);
	if ((o = malloc(cap)) == NULL)
		abort();
	for (i = 0; i < len; ) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			for (j = 0; j < sizeof(vars) / sizeof(vars[0]); j++) {
				k = strlen(vars[j].name);
				if (i + 3 + k <= len &&
				    memcmp(s + i + 2, vars[j].name, k) == 0 &&
				    s[i + 2 + k] == '}')
					break;
			}
			if (j < sizeof(vars) / sizeof(vars[0])) {
				k = strlen(vars[j].value);
				memcpy(o + n, vars[j].value, k);
				n += k;
				i += 3 + strlen(vars[j].name);
				continue;
			}
		}
		o[n++] = s[i++];
	}
	o[n] = '\0';
	*outlen = n;
	return o;
}

struct fz_body {
	const char	*data;
	size_t		 len, pos;
};

static int
fz_read(void *ctx, char *buf, int n)
{
	struct fz_body	*b = ctx;
	size_t		 k = (size_t)n;

	if (k > b->len - b->pos)
		k = b->len - b->pos;
	memcpy(buf, b->data + b->pos, k);
	b->pos += k;
	return (int)k;
}

static int
fz_write(void *ctx, const char *buf, size_t n)
{
	struct fz_answer	*a = ctx;
	size_t			 cap;
	char			*p;

	if (buf == NULL)
		return 0;
	if (a->len + n + 1 > a->cap) {
		cap = a->cap ? a->cap : 4096;
		while (cap < a->len + n + 1)
			cap *= 2;
		if ((p = realloc(a->raw, cap)) == NULL)
			abort();
		a->raw = p;
		a->cap = cap;
	}
	memcpy(a->raw + a->len, buf, n);
	a->len += n;
	a->raw[a->len] = '\0';
	return 0;
}

/* The status, ETag and body of the CGI answer in a->raw. */
static void
fz_parse(struct fz_answer *a)
{
	char	*end, *p, *line, *colon;
	char	 err[128];

	CHECK(a->raw != NULL && (end = strstr(a->raw, "\r\n\r\n")) != NULL);
	*end = '\0';
	a->body = end + 4;
	a->bodylen = a->len - (size_t)(a->body - a->raw);
	for (p = a->raw; p != NULL; p = line) {
		if ((line = strstr(p, "\r\n")) != NULL) {
			*line = '\0';
			line += 2;
		}
		CHECK((colon = strstr(p, ": ")) != NULL);
		if (strncmp(p, "Status: ", 8) == 0)
			a->status = atoi(colon + 2);
		else if (strncasecmp(p, "ETag: \"", 7) == 0 &&
		    strlen(colon + 3) < sizeof(a->etag)) {
			snprintf(a->etag, sizeof(a->etag), "%s", colon + 3);
			a->etag[strcspn(a->etag, "\"")] = '\0';
		}
	}
	CHECK(a->status >= 200 && a->status <= 599);
	if (a->bodylen > 0 && getenv("FUZZ_SHOW") != NULL)
		fprintf(stderr, "fuzz: answer %d %.*s\n", a->status,
		    (int)a->bodylen, a->body);
	if (a->bodylen > 0) {
		/* Every answer with a body is a JSON object. */
		CHECK(rs_json_parse(a->body, a->bodylen, &a->json, err,
		    sizeof(err)) == 0);
		CHECK(json_object_is_type(a->json, json_type_object));
	}
}

void
fz_answer_free(struct fz_answer *a)
{
	json_object_put(a->json);
	free(a->raw);
	memset(a, 0, sizeof(*a));
}

static void
fz_env(char **envp, size_t *n, const char *name, const char *value)
{
	size_t	 len = strlen(name) + strlen(value) + 2;

	CHECK(*n < MAXENV);
	if ((envp[*n] = malloc(len)) == NULL)
		abort();
	snprintf(envp[*n], len, "%s=%s", name, value);
	envp[++*n] = NULL;
}

void
fz_pipe_call(const char *method, const char *uri, const char *hdrs,
    const char *body, size_t bodylen, int public, struct fz_answer *a)
{
	char		*envp[MAXENV + 1], *u, *h = NULL, *b = NULL, *p, *e, *c;
	char		 var[128], len[32];
	struct fz_body	 rb = { NULL, 0, 0 };
	size_t		 n = 0, ulen, hlen, i, k;

	memset(a, 0, sizeof(*a));
	envp[0] = NULL;
	u = fz_expand(uri, strlen(uri), &ulen);
	fz_env(envp, &n, "GATEWAY_INTERFACE", "CGI/1.1");
	fz_env(envp, &n, "REQUEST_METHOD", method);
	fz_env(envp, &n, "REQUEST_URI", u);
	fz_env(envp, &n, "QUERY_STRING", strchr(u, '?') ? strchr(u, '?') + 1 :
	    "");
	fz_env(envp, &n, "REMOTE_ADDR", "192.0.2.10");
	if (!public)
		fz_env(envp, &n, "HTTP_AUTHORIZATION", bearer);
	if (body != NULL) {
		b = fz_expand(body, bodylen, &rb.len);
		rb.data = b;
		snprintf(len, sizeof(len), "%zu", rb.len);
		fz_env(envp, &n, "CONTENT_LENGTH", len);
		fz_env(envp, &n, "CONTENT_TYPE", "application/json");
	}
	if (hdrs != NULL) {
		h = fz_expand(hdrs, strlen(hdrs), &hlen);
		for (p = h; *p != '\0'; p = *e ? e + 1 : e) {
			e = p + strcspn(p, "\n");
			*e = '\0';
			if ((c = strstr(p, ": ")) == NULL ||
			    (size_t)(c - p) + 6 > sizeof(var))
				abort();
			memcpy(var, "HTTP_", 5);
			for (i = 0, k = 5; p + i < c; i++)
				var[k++] = p[i] == '-' ? '_' :
				    (char)toupper((unsigned char)p[i]);
			var[k] = '\0';
			fz_env(envp, &n, var, c + 2);
			*e = '\n';
		}
	}
	rs_app_handle(&app, envp, fz_read, &rb, fz_write, a);
	for (i = 0; i < n; i++)
		free(envp[i]);
	fz_parse(a);
	if (a->status >= 500) {
		fprintf(stderr, "fuzz: %s %s answered %d: %.*s\n", method, uri,
		    a->status, (int)(a->bodylen < 600 ? a->bodylen : 600),
		    a->body);
		CHECK(!"no request is answered 5xx");
	}
	free(h);
	free(b);
	free(u);
}

/* One query per table: its largest rowid, or its row count (WITHOUT
 * ROWID tables, all small). */
#define MAXTABLES	64
static sqlite3_stmt	*marks[MAXTABLES];
static size_t		 nmarks;

static void
fz_marks_open(void)
{
	sqlite3_stmt	*st;
	char		 sql[256];
	const char	*t;

	CHECK(sqlite3_prepare_v2(app.db->h, "SELECT name FROM sqlite_master "
	    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", -1, &st,
	    NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		CHECK(nmarks < MAXTABLES);
		t = (const char *)sqlite3_column_text(st, 0);
		snprintf(sql, sizeof(sql), "SELECT coalesce(max(rowid), 0) "
		    "FROM \"%s\"", t);
		if (sqlite3_prepare_v2(app.db->h, sql, -1, &marks[nmarks],
		    NULL) != SQLITE_OK) {
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
			    "\"%s\"", t);
			CHECK(sqlite3_prepare_v2(app.db->h, sql, -1,
			    &marks[nmarks], NULL) == SQLITE_OK);
		}
		nmarks++;
	}
	sqlite3_finalize(st);
	CHECK(nmarks > 10);
}

uint64_t
fz_pipe_version(void)
{
	uint64_t	 v = 0;
	size_t		 i;

	/*
	 * Every change the API commits appends an audit entry (txn.h), and
	 * every row added or removed moves its table's mark; SQLite's data
	 * version is no measure: it moves on an empty commit too (a batch
	 * whose every item rolled back to its savepoint).
	 */
	for (i = 0; i < nmarks; i++) {
		CHECK(sqlite3_step(marks[i]) == SQLITE_ROW);
		v = v * 1000003u + (uint64_t)sqlite3_column_int64(marks[i], 0);
		sqlite3_reset(marks[i]);
	}
	return v;
}

/* The string at member path ("a" or "a.b") of a's body into out. */
static void
fz_take(struct fz_answer *a, const char *m1, const char *m2, char *out,
    size_t outsz)
{
	struct json_object	*o = a->json;

	CHECK(json_object_object_get_ex(o, m1, &o));
	if (m2 != NULL)
		CHECK(json_object_object_get_ex(o, m2, &o));
	CHECK(json_object_is_type(o, json_type_string));
	snprintf(out, outsz, "%s", json_object_get_string(o));
}

/* A setup call that must answer status: its answer stays in a. */
static void
fz_setup(const char *method, const char *uri, const char *body, int status,
    int public, struct fz_answer *a)
{
	fz_pipe_call(method, uri, NULL, body, body ? strlen(body) : 0, public,
	    a);
	if (a->status != status) {
		fprintf(stderr, "fuzz: setup %s %s: %d, not %d: %s\n", method,
		    uri, a->status, status, a->body);
		abort();
	}
}

void
fz_pipe_set_causal(const char *causal)
{
	snprintf(fz_var("causal"), RS_MAX_TOKEN + 1, "%s", causal);
}

void
fz_pipe_new_conflict(void)
{
	struct fz_answer	 a;
	char			 id[64], c1[128], uri[128], body[256];

	/* A record, changed, then changed again from its first version. */
	fz_setup("POST", "/v1/records", "{\"title\":\"Fought\",\"type\":"
	    "\"cfl\"}", 201, 0, &a);
	fz_take(&a, "id", NULL, id, sizeof(id));
	fz_take(&a, "causal", NULL, c1, sizeof(c1));
	fz_answer_free(&a);
	snprintf(uri, sizeof(uri), "/v1/records/%s", id);
	snprintf(body, sizeof(body), "{\"title\":\"first\",\"causal\":"
	    "\"%s\"}", c1);
	fz_setup("PATCH", uri, body, 200, 0, &a);
	fz_answer_free(&a);
	snprintf(body, sizeof(body), "{\"title\":\"second\",\"causal\":"
	    "\"%s\"}", c1);
	fz_setup("PATCH", uri, body, 409, 0, &a);
	fz_take(&a, "conflict_id", NULL, fz_var("cfl"), RS_MAX_TOKEN + 1);
	fz_answer_free(&a);
}

void
fz_pipe_new_invite(void)
{
	struct fz_answer	 a;
	static unsigned		 n;
	char			 body[128];

	snprintf(body, sizeof(body), "{\"email\":\"invitee%u@example.com\","
	    "\"role\":\"viewer\"}", n++);
	fz_setup("POST", "/v1/users/invite", body, 201, 0, &a);
	fz_take(&a, "invite_token", NULL, fz_var("invite"), RS_MAX_TOKEN + 1);
	fz_answer_free(&a);
}

/* FUZZ_SHOW: every row a request writes, to see what a change was. */
static void
fz_show_row(void *arg, int op, const char *db, const char *table,
    sqlite3_int64 rowid)
{
	(void)arg;
	(void)db;
	fprintf(stderr, "fuzz: %s %s row %lld\n", op == SQLITE_INSERT ?
	    "insert into" : op == SQLITE_DELETE ? "delete from" : "update",
	    table, (long long)rowid);
}

static void
fz_pipe_close(void)
{
	char	 cmd[300];

	while (nmarks > 0)
		sqlite3_finalize(marks[--nmarks]);
	rs_app_close(&app);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

void
fz_pipe_open(void)
{
	const char		*tmp = getenv("TMPDIR");
	char			 secret[300], dbpath[300], org[RS_ID_MAX];
	char			 body[256], sql[256];
	unsigned char		 master[RS_SECRET_BYTES], sub[RS_SECRET_BYTES];
	struct rs_admin_newkey	 nk;
	struct rs_db		*db;
	struct fz_answer	 a;

	if (sodium_init() < 0)
		abort();
	snprintf(dir, sizeof(dir), "%s/fuzz-pipeline.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 200 ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(secret, sizeof(secret), "%s/secret.key", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/fuzz.db", dir);
	CHECK(rs_secret_create(secret) == RS_OK);
	CHECK(rs_secret_load(secret, master) == RS_OK);
	rs_secret_derive(master, RS_SECRET_APIKEY, sub);
	sodium_memzero(master, sizeof(master));

	CHECK(rs_db_open(dbpath, 1, 0, &db) == RS_OK);
	CHECK(rs_migrate_run(db) == RS_OK);
	CHECK(rs_admin_org_create(db, "Fuzz", RS_RATE_LIMIT_MAX, org) == RS_OK);
	CHECK(rs_admin_key_issue(db, sub, org, "admin@example.com",
	    RS_ROLE_ADMIN, &nk) == RS_OK);
	/* A last sync in the future: the pipeline never records one (a
	 * write of its own, which would blur "a refusal writes nothing"). */
	snprintf(sql, sizeof(sql), "UPDATE users SET last_sync_at = %lld "
	    "WHERE id = '%s'", (long long)(rs_clock_now_ms() +
	    30LL * 86400 * 1000), nk.user_id);
	CHECK(rs_db_exec(db, sql) == RS_OK);
	rs_db_close(db);
	sodium_memzero(sub, sizeof(sub));

	CHECK(setenv("RELAYSYNC_DB", dbpath, 1) == 0);
	CHECK(setenv("RELAYSYNC_SECRET_FILE", secret, 1) == 0);
	CHECK(setenv("RELAYSYNC_TOKEN_TTL", "86400", 1) == 0);
	CHECK(setenv("RELAYSYNC_WEBHOOK_ALLOW_PRIVATE", "1", 1) == 0);
	unsetenv("RELAYSYNC_BASE_PATH");
	unsetenv("RELAYSYNC_MAX_REQUESTS");
	unsetenv("RELAYSYNC_TRUSTED_PROXIES");
	rs_app_open(&app);
	CHECK(app.state == RS_OK);
	atexit(fz_pipe_close);
	if (getenv("FUZZ_SHOW") != NULL)
		sqlite3_update_hook(app.db->h, fz_show_row, NULL);
	fz_marks_open();

	snprintf(body, sizeof(body), "{\"api_key\":\"%s\"}", nk.key);
	sodium_memzero(&nk, sizeof(nk));
	fz_setup("POST", "/v1/auth/token", body, 200, 1, &a);
	snprintf(bearer, sizeof(bearer), "Bearer ");
	fz_take(&a, "access_token", NULL, bearer + 7, sizeof(bearer) - 7);
	fz_answer_free(&a);

	fz_setup("POST", "/v1/records", "{\"title\":\"Pump 7\",\"type\":"
	    "\"inspection\",\"site\":\"north\",\"data\":{\"pressure\":7}}",
	    201, 0, &a);
	fz_take(&a, "id", NULL, fz_var("rec"), RS_MAX_TOKEN + 1);
	fz_take(&a, "causal", NULL, fz_var("causal"), RS_MAX_TOKEN + 1);
	fz_answer_free(&a);

	fz_setup("POST", "/v1/users/invite", "{\"email\":\"pending@example."
	    "com\",\"role\":\"operator\"}", 201, 0, &a);
	fz_take(&a, "user", "id", fz_var("usr"), RS_MAX_TOKEN + 1);
	fz_answer_free(&a);
	fz_pipe_new_invite();

	fz_setup("POST", "/v1/webhooks", "{\"url\":\"https://hooks.example."
	    "com/rs\",\"events\":[\"*\"]}", 201, 0, &a);
	fz_take(&a, "id", NULL, fz_var("wh"), RS_MAX_TOKEN + 1);
	fz_answer_free(&a);

	fz_pipe_new_conflict();
}
