"""Support for test_hosting_apache.py: a private Apache that serves
RelaySync the way a shared host does, from directories the user controls
only through `.htaccess` (the shipped apache/htaccess.example, its
placeholders filled).

The host's part (HostedApache.write_config) is what any host has and
nothing RelaySync-specific: modules, a <VirtualHost> on 127.0.0.1 with a
DocumentRoot, `Alias /~crew/<name> <dir>` per directory, and `Options None`,
`AllowOverride All`, `Require all granted` on the user's web space. No
Define, no Fcgid* directive but the two paths of mod_fcgid's own files
(FcgidIPCDir, FcgidProcessTableFile: a host sets them once for everyone),
no FcgidInitialEnv: the program's settings come only from the .htaccess
(`SetEnv`). mod_fcgid runs under mpm_event, plain CGI under mpm_prefork
with mod_cgi, or under mpm_event with mod_cgid (the pairings Debian's
a2enmod makes).

The programs and the example come from the install prefix and the source
tree, or (HostedApache(..., bundle=DIR), test_hosting_bundle.py) from an
unpacked upload bundle (`make bundle`): DIR/relaysync.fcgi,
DIR/relaysync-admin, DIR/relaysync-worker, DIR/htaccess.example and
DIR/relaysync.env.example (without a bundle: PREFIX/bin's programs,
PREFIX/etc/relaysync/relaysync.env.example). A site made with a settings
file (add_site(..., env_example=PATH and/or env_settings={...})) gets it as
home/crew/data/<name>/relaysync.env, and its relaysync-admin runs with
`--env-file` it and no RELAYSYNC_* in its environment.

Layout of the temp dir (a harness.Workspace):
    www/                          the vhost's DocumentRoot
    home/crew/public_html/<name>  a directory reached as /~crew/<name>
    home/crew/data/<name>/        its database and secret (and relaysync.env)
"""

import json
import os
import re
import shutil
import subprocess
import time

import harness
from harness import Failure, expect, free_port, http_call

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "apache",
                                        "htaccess.example"))
USER_URL = "/~crew"
# What the example says, which the tests replace.
EXAMPLE_DATA_DIR = "/home/crew/relaysync-data"
EXAMPLE_DB_LINE = "SetEnv RELAYSYNC_DB %s/relaysync.db" % EXAMPLE_DATA_DIR
EXAMPLE_SECRET_LINE = ("SetEnv RELAYSYNC_SECRET_FILE %s/relaysync.key"
                       % EXAMPLE_DATA_DIR)
EXAMPLE_BASE_LINE = "#RewriteBase /~crew/relaysync/"
EXAMPLE_PASSAUTH_LINE = "CGIPassAuth On"
PROGRAM = "relaysync.fcgi"
ADMIN = "relaysync-admin"
WORKER = "relaysync-worker"
# What an upload bundle holds besides the programs.
BUNDLE_EXAMPLE = "htaccess.example"
BUNDLE_ENV_EXAMPLE = "relaysync.env.example"
ENV_FILE = "relaysync.env"
MODULES = {
    # The modules a host would have loaded, per way of running programs.
    "fcgid": ("mpm_event", "fcgid"),
    "cgi": ("mpm_prefork", "cgi"),
    "cgid": ("mpm_event", "cgid"),
}
COMMON_MODULES = ("authz_core", "authz_host", "alias", "dir", "mime", "env",
                  "rewrite", "headers")


def find_program(prefix):
    """The installed relaysync.fcgi under PREFIX (libexec/relaysync/ as
    `make install` puts it, else the first one found)."""
    usual = os.path.join(prefix, "libexec", "relaysync", PROGRAM)
    if os.path.isfile(usual):
        return usual
    for root, dirs, files in os.walk(prefix):
        if PROGRAM in files:
            return os.path.join(root, PROGRAM)
    raise Failure("no %s under the prefix %s (looked in libexec/relaysync "
                  "first)" % (PROGRAM, prefix))


def example_text(example=EXAMPLE):
    with open(example, encoding="utf-8") as f:
        return f.read()


def replace_line(text, old, new, source=EXAMPLE):
    """TEXT with its one line OLD replaced by NEW (a Failure when the
    example (SOURCE) no longer has exactly one such line: the tests fill
    what the example says)."""
    lines = text.split("\n")
    hits = [i for i, line in enumerate(lines) if line.strip() == old]
    expect(len(hits) == 1, "%s: expected exactly one line %r, found %d"
           % (source, old, len(hits)))
    if new is None:
        del lines[hits[0]]
    else:
        lines[hits[0]] = new
    return "\n".join(lines)


def htaccess(db, secret, rewrite_base=None, pass_auth=True,
             example=EXAMPLE):
    """The shipped example (EXAMPLE: its path) with its placeholders
    filled: the database and secret paths; REWRITE_BASE (e.g.
    "/~crew/relaysync/") uncomments the RewriteBase line with that value;
    PASS_AUTH=False deletes the CGIPassAuth line (a host that refuses it),
    leaving the RewriteRule fallback alone to pass Authorization."""
    text = example_text(example)
    text = replace_line(text, EXAMPLE_DB_LINE, "SetEnv RELAYSYNC_DB " + db,
                        example)
    text = replace_line(text, EXAMPLE_SECRET_LINE,
                        "SetEnv RELAYSYNC_SECRET_FILE " + secret, example)
    if rewrite_base is not None:
        text = replace_line(text, EXAMPLE_BASE_LINE,
                            "RewriteBase " + rewrite_base, example)
    if not pass_auth:
        text = replace_line(text, EXAMPLE_PASSAUTH_LINE, None, example)
    return text


def env_file_text(example, settings):
    """The settings file example (relaysync.env.example, at path EXAMPLE)
    filled in: each of its `RELAYSYNC_NAME=value` lines whose NAME is in
    SETTINGS (a dict) gets that value, the others are kept; a name of
    SETTINGS the example does not set is added at the end. The example
    must set RELAYSYNC_DB and RELAYSYNC_SECRET_FILE exactly once each (the
    placeholders a user fills; a Failure otherwise)."""
    try:
        with open(example, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise Failure("the settings file example: %s" % e)
    seen = {}
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        name, eq, _ = line.partition("=")
        expect(eq and re.match(r"^RELAYSYNC_[A-Z0-9_]+$", name),
               "%s line %d is neither a comment nor RELAYSYNC_NAME=value: "
               "%r" % (example, i + 1, line))
        seen[name] = seen.get(name, 0) + 1
        if name in settings:
            lines[i] = "%s=%s" % (name, settings[name])
    for name in ("RELAYSYNC_DB", "RELAYSYNC_SECRET_FILE"):
        expect(seen.get(name) == 1, "%s: expected exactly one line %s=..., "
               "found %d" % (example, name, seen.get(name, 0)))
    if lines and lines[-1] == "":
        lines.pop()
    lines += ["%s=%s" % (n, v) for n, v in settings.items() if n not in seen]
    return "\n".join(lines) + "\n"


class Site:
    """One directory of the user's web space with RelaySync in it.

    name, url ("/~crew/<name>"), dir, db, secret, program (its path),
    org, key (an admin API key of the org made at init), env_file (its
    settings file for --env-file, or None)."""

    def __init__(self, host, name, db, secret, dir=None):
        self.host = host
        self.name = name
        self.url = "%s/%s" % (USER_URL, name)
        self.dir = dir or host.ws.path("home", "crew", "public_html", name)
        self.db = db
        self.secret = secret
        self.program = os.path.join(self.dir, PROGRAM)
        self.org = self.key = None
        self.env_file = None

    def admin(self, args):
        """relaysync-admin ARGS (the prefix's or the bundle's) on this
        site's database, as the web server's user -> (rc, stdout, stderr):
        configured by `--env-file` when the site has a settings file, else
        by RELAYSYNC_DB and RELAYSYNC_SECRET_FILE in its environment."""
        return self.host.admin(self.db, self.secret, args, self.env_file)

    def admin_ok(self, args):
        rc, out, err = self.admin(args)
        expect(rc == 0, "%s: relaysync-admin %s: exit %d: %s%s"
               % (self.name, " ".join(args), rc, out, err))
        return out.strip()

    def new_org(self, name, rate=None):
        """`org create NAME [--rate-limit RATE]` and an admin key ->
        (org id, api key)."""
        args = ["org", "create", name]
        if rate is not None:
            args += ["--rate-limit", str(rate)]
        org = self.admin_ok(args)
        expect(re.match(r"^org_\S+$", org) is not None,
               "org create printed %r" % org)
        out = self.admin_ok(["key", "create", "--org", org, "--email",
                             "admin@%s.example.com" % name, "--role",
                             "admin", "--json"])
        return org, json.loads(out)["api_key"]

    def call(self, method, path, body=None, headers=None, token=None):
        """An HTTP call to this site: PATH under its URL ("/v1/health")."""
        return http_call(self.host.port, method, self.url + path, body,
                         headers, token)


class HostedApache:
    """A private Apache (MODULE "fcgid", "cgi" or "cgid") with the user's
    sites: the installed programs and the source tree's example, or with
    BUNDLE (an unpacked upload bundle's directory) the bundle's.
    add_site() before start(); stop() always (it removes the temp dir
    unless KEEP=1)."""

    def __init__(self, ctx, module, extra_modules=(), bundle=None):
        expect(module in MODULES, "unknown module %r" % module)
        self.ctx = ctx
        self.module = module
        self.extra_modules = tuple(extra_modules)
        self.prefix = ctx.prefix
        self.bundle = bundle
        if bundle is None:
            self.installed = find_program(ctx.prefix)
            self.admin_bin = os.path.join(self.prefix, "bin", ADMIN)
            self.worker_bin = os.path.join(self.prefix, "bin", WORKER)
            self.example = EXAMPLE
            # `make install` puts it in $(sysconfdir)/relaysync.
            self.env_example = os.path.join(self.prefix, "etc", "relaysync",
                                            BUNDLE_ENV_EXAMPLE)
            # console/ and docs/ as `make install` puts them.
            self.web = os.path.join(self.prefix, "share", "relaysync")
        else:
            self.installed = os.path.join(bundle, PROGRAM)
            self.admin_bin = os.path.join(bundle, ADMIN)
            self.worker_bin = os.path.join(bundle, WORKER)
            self.example = os.path.join(bundle, BUNDLE_EXAMPLE)
            self.env_example = os.path.join(bundle, BUNDLE_ENV_EXAMPLE)
            self.web = bundle
        for path in (self.installed, self.admin_bin, self.worker_bin):
            expect(os.path.isfile(path) and os.access(path, os.X_OK),
                   "%s is missing or not executable" % path)
        self.run_as = ctx.workspace.run_as
        self.ws = harness.Workspace(ctx.prefix, self.run_as)
        for d in ("home/crew/public_html", "home/crew/data", "www"):
            os.makedirs(self.ws.path(d), exist_ok=True)
        self.port = free_port()
        self.sites = []
        self.sites_by_name = {}
        self.proc = None
        self.error_log = self.ws.path("apache-error.log")
        self.output = self.ws.path("apache.out")
        self.log_files = [self.error_log, self.output]

    # -- the user's side ------------------------------------------------
    def admin(self, db, secret, args, env_file=None):
        """relaysync-admin ARGS as the web server's user, on DB and SECRET
        (RELAYSYNC_DB, RELAYSYNC_SECRET_FILE), or with ENV_FILE
        (`--env-file ENV_FILE ARGS`, no RELAYSYNC_* in the environment:
        the file alone configures it) -> (rc, stdout, stderr)."""
        argv = [self.admin_bin] + args
        env = dict(os.environ)
        for name in [n for n in env if n.startswith("RELAYSYNC_")]:
            del env[name]
        if env_file is None:
            env["RELAYSYNC_DB"] = db
            env["RELAYSYNC_SECRET_FILE"] = secret
        else:
            argv = [self.admin_bin, "--env-file", env_file] + args
        extra = {}
        if self.run_as:
            extra = {"user": self.run_as, "group": self.run_as,
                     "extra_groups": []}
        try:
            done = subprocess.run(argv, env=env, cwd=self.ws.dir,
                                  stdin=subprocess.DEVNULL,
                                  capture_output=True,
                                  timeout=harness.CLI_TIMEOUT, **extra)
        except subprocess.TimeoutExpired:
            return (-1, "", "timed out after %d s" % harness.CLI_TIMEOUT)
        return (done.returncode, done.stdout.decode("utf-8", "replace"),
                done.stderr.decode("utf-8", "replace"))

    def own(self):
        """Everything in the temp dir to the web server's user (as
        harness.Workspace does), so SQLite can write beside the database."""
        if self.run_as:
            harness.chown_tree(self.ws.dir, self.run_as)

    def add_site(self, name, data_dir=None, db=None, secret=None,
                 program_from=None, rewrite_base=None, pass_auth=True,
                 org_name=None, rate=None, init=True, more_htaccess="",
                 env_example=None, env_settings=None, web=False):
        """A directory /~crew/NAME: the installed program copied in (or,
        with PROGRAM_FROM, a hard link to another site's program: one
        inode, one mod_fcgid class), the example as .htaccess naming DB and
        SECRET (default DATA_DIR/relaysync.{db,key}, DATA_DIR default
        home/crew/data/NAME), made with `relaysync-admin init`, with an org
        (ORG_NAME, default NAME; RATE: its --rate-limit) and an admin key
        in site.org, site.key. MORE_HTACCESS: lines added at the end of
        the .htaccess. ENV_EXAMPLE (a relaysync.env.example's path) or
        ENV_SETTINGS (a dict) make the settings file DATA_DIR/relaysync.env
        (site.env_file): the example filled in with DB, SECRET and
        ENV_SETTINGS, or without an example just those lines; the site's
        relaysync-admin then runs with --env-file it. WEB: console/ and
        docs/ (the install's or the bundle's) copied in too, as the
        example's step 4 says."""
        data_dir = data_dir or self.ws.path("home", "crew", "data", name)
        os.makedirs(data_dir, exist_ok=True)
        site = Site(self, name, db or os.path.join(data_dir, "relaysync.db"),
                    secret or os.path.join(data_dir, "relaysync.key"))
        for d in (os.path.dirname(site.db), os.path.dirname(site.secret)):
            os.makedirs(d, exist_ok=True)
        os.makedirs(site.dir)
        if program_from is None:
            shutil.copy2(self.installed, site.program)
            os.chmod(site.program, 0o755)
        else:
            os.link(program_from.program, site.program)
        if web:
            for part in ("console", "docs"):
                shutil.copytree(os.path.join(self.web, part),
                                os.path.join(site.dir, part))
        harness.write_file(os.path.join(site.dir, ".htaccess"),
                           htaccess(site.db, site.secret, rewrite_base,
                                    pass_auth, self.example) + more_htaccess)
        if env_example is not None or env_settings is not None:
            settings = {"RELAYSYNC_DB": site.db,
                        "RELAYSYNC_SECRET_FILE": site.secret}
            settings.update(env_settings or {})
            if env_example is not None:
                text = env_file_text(env_example, settings)
            else:
                text = "# (test) %s's settings\n\n" % name + "".join(
                    "%s=%s\n" % kv for kv in settings.items())
            site.env_file = os.path.join(data_dir, ENV_FILE)
            harness.write_file(site.env_file, text)
        return self._init(site, init, org_name, rate)

    def add_alias(self, name, of, data_dir=None):
        """/~crew/NAME: a second Alias of site OF's directory (the same
        program path), with its own database and secret in DATA_DIR
        (default home/crew/data/NAME), made and given an org and key as
        add_site does. OF's .htaccess must name them for this URL (e.g. in
        an <If> on CONTEXT_PREFIX)."""
        data_dir = data_dir or self.ws.path("home", "crew", "data", name)
        os.makedirs(data_dir, exist_ok=True)
        site = Site(self, name, os.path.join(data_dir, "relaysync.db"),
                    os.path.join(data_dir, "relaysync.key"), dir=of.dir)
        site.program = of.program
        return self._init(site, True, None, None)

    def _init(self, site, init, org_name, rate):
        self.own()
        if init:
            site.admin_ok(["init"])
            site.org, site.key = site.new_org(org_name or site.name, rate)
        self.sites.append(site)
        self.sites_by_name[site.name] = site
        return site

    # -- the host's side ------------------------------------------------
    def config_path(self):
        return self.ws.path("apache.conf")

    def write_config(self):
        ws = self.ws
        lines = ['ServerRoot "%s"' % ws.dir,
                 'DefaultRuntimeDir "%s"' % ws.path("run"),
                 'PidFile "%s"' % ws.path("run", "apache2.pid"),
                 'ErrorLog "%s"' % self.error_log,
                 "LogLevel warn",
                 "Listen 127.0.0.1:%d" % self.port,
                 "ServerName 127.0.0.1"]
        for mod in MODULES[self.module] + COMMON_MODULES + \
                self.extra_modules:
            lines.append('LoadModule %s_module "%s/mod_%s.so"'
                         % (mod, harness.APACHE_MODULES, mod))
        if self.run_as:
            lines += ["User %s" % self.run_as, "Group %s" % self.run_as]
        lines += ["TypesConfig /etc/mime.types",
                  'LogFormat "%h %l %u %t \\"%r\\" %>s %b" common',
                  'CustomLog "%s" common' % ws.path("apache-access.log")]
        if self.module == "fcgid":
            # mod_fcgid's own files: the host sets these once, for everyone.
            lines += ['FcgidIPCDir "%s"' % ws.path("fcgid"),
                      'FcgidProcessTableFile "%s"'
                      % ws.path("fcgid", "shm")]
        public = ws.path("home", "crew", "public_html")
        lines += ["<Directory />",
                  "    AllowOverride None",
                  "    Require all denied",
                  "</Directory>",
                  "<VirtualHost 127.0.0.1:%d>" % self.port,
                  "    ServerName 127.0.0.1",
                  '    DocumentRoot "%s"' % ws.www,
                  '    <Directory "%s">' % ws.www,
                  "        Require all granted",
                  "    </Directory>"]
        for site in self.sites:
            lines.append('    Alias %s "%s"' % (site.url, site.dir))
        lines += ['    <Directory "%s">' % public,
                  "        Options None",
                  "        AllowOverride All",
                  "        Require all granted",
                  "    </Directory>",
                  "</VirtualHost>"]
        harness.write_file(self.config_path(), "\n".join(lines) + "\n")

    def start(self):
        """Start Apache in the foreground (a session of its own) and wait
        (bounded) until it answers on its port; its logs join the run's
        LogWatch, so a failing test shows them."""
        self.write_config()
        self.own()
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                [harness.APACHE_BIN, "-f", self.config_path(),
                 "-DFOREGROUND"], env=dict(os.environ),
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.ctx.logs.files = self.ctx.logs.files + self.log_files
        deadline = time.monotonic() + harness.START_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure("apache (%s) exited with %s during start: %s"
                              % (self.module, self.proc.returncode,
                                 self.log_tail()))
            try:
                # Any answer will do: Apache is up (the tests judge it).
                http_call(self.port, "GET", "/", timeout=2)
                return
            except Failure as e:
                last = str(e)
            time.sleep(0.2)
        raise Failure("apache (%s) did not answer within %d s (%s): %s"
                      % (self.module, harness.START_TIMEOUT, last,
                         self.log_tail()))

    def log_text(self):
        return "".join(harness.read_from(f, 0) for f in self.log_files)

    def log_tail(self):
        return " | ".join(harness.LogWatch(self.log_files).tail()[-10:])

    def stop(self):
        """SIGTERM, SIGKILL after harness.STOP_GRACE, then whatever is left
        of its session (mod_fcgid's processes, CGI programs); the logs
        leave the run's LogWatch; the temp dir goes unless KEEP=1."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(harness.STOP_GRACE)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(harness.STOP_GRACE)
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc = None
        self.ctx.logs.files = [f for f in self.ctx.logs.files
                               if f not in self.log_files]
        if os.environ.get("KEEP") == "1":
            print("# kept hosting (%s) temp dir %s" % (self.module,
                                                        self.ws.dir))
        else:
            self.ws.remove()
