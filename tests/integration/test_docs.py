"""The API docs page (docs/build.mjs, issue 17) as the run's server serves
it through the shipped includes: GET /docs/ and /docs/docs.css answer 200
with their types, the pages' Content-Security-Policy and nosniff; the page
lists every endpoint of the product page and every operation of the
installed OpenAPI document; and the quick-start's commands, run as the
page shows them, work against this server.

The browser test loads the page in Debian's chromium (RELAYSYNC_IT_CHROMIUM,
default /usr/bin/chromium) with playwright-core (`npm ci` in clients/js),
through docs/browser/check-page.mjs, and fails, saying which, when either
is missing (scripts/test installs both). Its screenshots and printout go
to RELAYSYNC_IT_OUTPUT (default tests/integration/output)/docs-<server>/;
their paths are printed as # lines.

Every test name starts with "docs: " (`run.py -k docs`). What the page
holds is also checked offline by docs/test (node --test)."""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import expect, expect_equal, media_type, test
from web_checks import expect_headers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHECK_PAGE = os.path.join(ROOT, "docs", "browser", "check-page.mjs")
PLAYWRIGHT = os.path.join(ROOT, "clients", "js", "node_modules",
                          "playwright-core")
CHROMIUM = os.environ.get("RELAYSYNC_IT_CHROMIUM", "/usr/bin/chromium")
OUTPUT = os.environ.get("RELAYSYNC_IT_OUTPUT",
                        os.path.join(HERE, "output"))
NODE = shutil.which("node") or "node"
BROWSER_TIMEOUT = 180     # s

# The endpoints of the product page (the original RelaySync API page): a
# product fact, kept in one file for these tests and docs/test's.
with open(os.path.join(ROOT, "docs", "test", "product-endpoints.json"),
          encoding="utf-8") as _f:
    PRODUCT_ENDPOINTS = json.load(_f)["endpoints"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")
OP_TITLE = re.compile(
    r'<h3 class="op-title"><span class="method method-[a-z]+">([A-Z]+)'
    r'</span> <code class="path">([^<]*)</code>')


def dtest(name, last=False):
    return test("docs: " + name, last)


def expect_page_headers(resp, url, mtype):
    expect_equal(resp.status, 200, "status of GET %s" % url, resp)
    expect_equal(media_type(resp), mtype, "Content-Type of %s" % url, resp)
    expect_headers(resp, url)


def get_page(ctx):
    resp = ctx.call("GET", "/docs/")
    expect_page_headers(resp, "/docs/", "text/html")
    return resp, resp.body.decode("utf-8")


def shown_operations(page):
    """{"METHOD path"} of every operation heading on the page."""
    return {"%s %s" % (m, html.unescape(p)) for m, p in OP_TITLE.findall(page)}


@dtest("GET /docs/ is the page: 200 text/html, the strict CSP, nosniff, "
       "no script or inline style; it lists every endpoint of the product "
       "page")
def docs_page(ctx):
    resp, page = get_page(ctx)
    expect(page.startswith("<!DOCTYPE html>"), "not an HTML page", resp)
    for bad in ("<script", "<style", " style="):
        expect(bad not in page.lower(), "the page holds %r" % bad, resp)
    shown = shown_operations(page)
    missing = [e for e in PRODUCT_ENDPOINTS if e not in shown]
    expect(not missing, "the served page does not show %s (it shows %d "
           "operations)" % (", ".join(missing), len(shown)), resp)


@dtest("GET /docs/ shows every operation of the installed OpenAPI document, "
       "and the document's own GET /v1/openapi.json agrees")
def docs_page_matches_document(ctx):
    resp, page = get_page(ctx)
    path = os.path.join(ctx.prefix, "share", "relaysync", "openapi.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    want = set()
    for p, item in doc.get("paths", {}).items():
        for m in METHODS:
            if m in item:
                want.add("%s %s" % (m.upper(), p))
    expect(len(want) >= len(PRODUCT_ENDPOINTS),
           "the installed document has %d operations" % len(want))
    shown = shown_operations(page)
    expect_equal(sorted(want - shown), [], "operations of %s missing from "
                 "the page" % path, resp)
    served = ctx.call("GET", "/v1/openapi.json")
    expect_equal(served.status, 200, "status of GET /v1/openapi.json", served)
    expect_equal(json.loads(served.body.decode("utf-8")).get("paths", {}).keys(),
                 doc.get("paths", {}).keys(),
                 "paths of the served document", served)


@dtest("GET /docs/docs.css: 200 text/css, the strict CSP, nosniff; the page "
       "links it by a relative URL that resolves there")
def docs_css(ctx):
    _, page = get_page(ctx)
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
    expect_equal(links, ["docs.css"], "stylesheets of /docs/")
    resp = ctx.call("GET", "/docs/docs.css")
    expect_page_headers(resp, "/docs/docs.css", "text/css")
    css = resp.body.decode("utf-8")
    expect(".method-get" in css and "@media print" in css,
           "/docs/docs.css is not the page's stylesheet", resp)
    expect("url(" not in css and "@import" not in css,
           "the stylesheet loads something", resp)


@dtest("the quick-start's commands, as the page shows them, exchange a key, "
       "create a record and list it on this server")
def docs_quickstart_runs(ctx):
    _, page = get_page(ctx)
    start = page.find('<section class="quickstart" id="quick-start">')
    expect(start >= 0, "the page has no quick-start section")
    section = page[start:page.find("</section>", start)]
    blocks = [html.unescape(b) for b in re.findall(
        r'<pre><code class="language-sh">(.*?)</code></pre>', section, re.S)]
    script = [b for b in blocks if "BASE=http://127.0.0.1:" in b]
    expect_equal(len(script), 1, "quick-start blocks that set BASE")
    script = re.sub(r"BASE=http://127\.0\.0\.1:\d+", "BASE=" + ctx.base_url,
                    script[0], count=1)
    # An org of its own, its admin key where scripts/serve keeps the demo
    # key (var/demo-admin.key, relative to the checkout).
    rc, org, err = ctx.cli(["org", "create", "docs-quickstart"])
    expect_equal(rc, 0, "relaysync-admin org create: %s" % err)
    rc, out, err = ctx.cli(["key", "create", "--org", org.strip(), "--email",
                            "admin@quickstart.example", "--role", "admin",
                            "--json"])
    expect_equal(rc, 0, "relaysync-admin key create: %s" % err)
    key = json.loads(out)["api_key"]
    work = tempfile.mkdtemp(prefix="docs-quickstart-")
    try:
        os.mkdir(os.path.join(work, "var"))
        with open(os.path.join(work, "var", "demo-admin.key"), "w") as f:
            f.write(key + "\n")
        expect(shutil.which("curl") is not None, "curl is not installed")
        proc = subprocess.run(["bash", "-c", script], cwd=work,
                              capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    what = "the quick-start script:\n%s\nstdout: %s\nstderr: %s" % (
        script, proc.stdout, proc.stderr)
    expect_equal(proc.returncode, 0, "exit status of " + what)
    # Its three curl calls print three JSON documents back to back.
    docs, text, at = [], proc.stdout.strip(), 0
    dec = json.JSONDecoder()
    while at < len(text):
        try:
            value, at = dec.raw_decode(text, at)
        except ValueError:
            expect(False, "not JSON at offset %d of %s" % (at, what))
        docs.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    expect_equal(len(docs), 3, "JSON answers of " + what)
    me, record, listing = docs
    expect_equal(me.get("role"), "admin", "GET /v1/me's role in " + what)
    expect_equal(me.get("org_id"), org.strip(), "GET /v1/me's org in " + what)
    expect_equal((record.get("title"), record.get("version")),
                 ("Pressure check", 1), "the created record in " + what)
    ids = [r.get("id") for r in listing.get("data", [])]
    expect_equal(ids, [record.get("id")], "the listed records in " + what)


@dtest("in Chromium, at 1280 and 360 px: no console error or CSP "
       "violation, the stylesheet applied, nothing loaded but the page and "
       "docs.css, every product-page endpoint visible, no sideways "
       "scrolling; screenshots and a printout saved")
def docs_in_browser(ctx):
    expect(os.path.exists(CHROMIUM),
           "%s is missing (apt-get install chromium)" % CHROMIUM)
    expect(os.path.isdir(PLAYWRIGHT), "%s is missing (npm ci in clients/js)"
           % PLAYWRIGHT)
    out = os.path.join(OUTPUT, "docs-" + ctx.server_name)
    env = dict(os.environ, RS_CHROMIUM=CHROMIUM)
    try:
        proc = subprocess.run(
            [NODE, CHECK_PAGE, ctx.base_url + "/docs/", out]
            + PRODUCT_ENDPOINTS, capture_output=True, text=True, env=env,
            timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        expect(False, "the browser check took over %d s" % BROWSER_TIMEOUT)
    for line in proc.stdout.splitlines():
        if line.startswith(("screenshot ", "printout ")):
            print("# " + line)
    expect(proc.returncode == 0 and proc.stdout.rstrip().endswith("ok"),
           "docs/browser/check-page.mjs exited %s:\n%s%s"
           % (proc.returncode, proc.stdout, proc.stderr))
