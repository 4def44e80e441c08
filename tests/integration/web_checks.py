"""Checks of the operator console and API docs page as the shipped
includes serve them (<mount>/console/, <mount>/docs/): what each test
module that runs a server form calls with that server's plain-HTTP call,
its mount and the directory the pages are served from (WEB: it holds
console/ and docs/; share/relaysync under an install prefix, or a
shared-hosting site's directory). Not a test module (no test_ prefix).

Every file under WEB is compared byte for byte with what is served, so
the checks follow whatever the console and the docs page hold.
"""

import gzip
import os

from harness import expect, expect_equal, media_type

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
TYPES = {".html": "text/html", ".css": "text/css", ".mjs": "text/javascript",
         ".js": "text/javascript", ".svg": "image/svg+xml",
         ".png": "image/png", ".json": "application/json"}


def web_dir(prefix):
    """Where `make install` under PREFIX puts console/ and docs/."""
    return os.path.join(prefix, "share", "relaysync")


def installed(web, part):
    """(URL path under PART/, file path) of every file of WEB/PART
    (console or docs), sorted."""
    top = os.path.join(web, part)
    out = []
    for d, _, files in os.walk(top):
        for name in files:
            path = os.path.join(d, name)
            out.append((os.path.relpath(path, top).replace(os.sep, "/"), path))
    return sorted(out)


def expect_headers(resp, what):
    """The page headers every answer under /console/ and /docs/ has."""
    expect_equal(resp.headers.get("Content-Security-Policy"), CSP,
                 "Content-Security-Policy of %s" % what, resp)
    expect_equal(resp.headers.get("X-Content-Type-Options"), "nosniff",
                 "X-Content-Type-Options of %s" % what, resp)
    expect_equal(resp.headers.get("Referrer-Policy"), "no-referrer",
                 "Referrer-Policy of %s" % what, resp)


def expect_file(resp, path, url):
    """RESP is 200 with PATH's bytes, the type its extension says and the
    page headers."""
    expect_equal(resp.status, 200, "status of GET %s" % url, resp)
    with open(path, "rb") as f:
        want = f.read()
    expect(resp.body == want, "GET %s is not the installed %s" % (url, path),
           resp)
    ext = os.path.splitext(path)[1]
    if ext in TYPES:
        expect_equal(media_type(resp), TYPES[ext],
                     "Content-Type of %s" % url, resp)
    expect_headers(resp, url)


def check_part(call, mount, web, part, must_have):
    """Every file of WEB/PART is served at MOUNT/PART/..., its index at
    MOUNT/PART/ and MOUNT/PART redirects there."""
    files = installed(web, part)
    names = [rel for rel, _ in files]
    for rel in must_have:
        expect(rel in names, "%s/%s is not installed (installed: %s)"
               % (part, rel, ", ".join(names) or "nothing"))
    for rel, path in files:
        url = "%s/%s/%s" % (mount, part, rel)
        expect_file(call("GET", url), path, url)
    url = "%s/%s/" % (mount, part)
    expect_file(call("GET", url), os.path.join(web, part, "index.html"), url)
    resp = call("GET", "%s/%s" % (mount, part))
    expect_equal(resp.status, 301, "status of GET %s/%s" % (mount, part), resp)
    location = resp.headers.get("Location") or ""
    expect(location.endswith("%s/%s/" % (mount, part)),
           "GET %s/%s redirects to %r, not to %s/%s/"
           % (mount, part, location, mount, part), resp)


def check_refusals(call, mount, web, hidden):
    """A missing file is 404, a directory is not listed, and HIDDEN (a
    file under WEB that is not a page) is not reachable through the two
    paths (no traversal) nor by its own path."""
    for url in (mount + "/console/no-such-file.mjs", mount + "/docs/nope.html"):
        resp = call("GET", url)
        expect_equal(resp.status, 404, "status of GET %s" % url, resp)
    resp = call("GET", mount + "/console/client/")
    expect(resp.status in (403, 404),
           "GET %s/console/client/ answered %s (a listing?)"
           % (mount, resp.status), resp)
    with open(os.path.join(web, hidden), "rb") as f:
        secret = f.read()
    quoted = hidden.replace("/", "%2f")
    for url in (mount + "/console/../" + hidden,
                mount + "/console/%2e%2e/" + hidden,
                mount + "/console/..%2f" + hidden,
                mount + "/console/%2e%2e%2f" + quoted,
                mount + "/docs/../../" + os.path.basename(web) + "/" + hidden,
                mount + "/" + hidden,
                mount + "/consolex/index.html"):
        resp = call("GET", url)
        expect(resp.status != 200 and secret[:64] not in resp.body,
               "GET %s reached a file outside /console/ and /docs/ "
               "(status %s)" % (url, resp.status), resp)


def check_compressed(call, mount, web):
    """The docs page goes out gzip-compressed to a client that asks, and
    as is to one that does not."""
    url = mount + "/docs/"
    with open(os.path.join(web, "docs", "index.html"), "rb") as f:
        want = f.read()
    resp = call("GET", url, {"Accept-Encoding": "gzip"})
    expect_equal(resp.status, 200, "status of GET %s (gzip)" % url, resp)
    expect_equal(resp.headers.get("Content-Encoding"), "gzip",
                 "Content-Encoding of GET %s with Accept-Encoding: gzip"
                 % url, resp)
    expect(gzip.decompress(resp.body) == want,
           "GET %s (gzip) does not unpack to the installed page" % url, resp)
    expect_headers(resp, url + " (gzip)")
    resp = call("GET", url, {"Accept-Encoding": "identity"})
    expect(resp.headers.get("Content-Encoding") is None and resp.body == want,
           "GET %s without gzip is not the page as is" % url, resp)


def check_web(call, mount, web, hidden, compressed=False):
    """Everything above, for one server form (COMPRESSED: the includes'
    forms, which compress the pages)."""
    check_part(call, mount, web, "console",
               ("index.html", "client/relaysync.mjs", "client/sse.mjs",
                "client/storage.mjs"))
    check_part(call, mount, web, "docs", ("index.html", "docs.css"))
    check_refusals(call, mount, web, hidden)
    if compressed:
        check_compressed(call, mount, web)
