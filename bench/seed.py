#!/usr/bin/env python3
"""Helpers for bench/run: get a token, create the records the reads use.

  seed.py token BASE KEY                   print a bearer token for KEY
  seed.py probe METHOD URL [HEADER...]     print the status of one request
  seed.py relaysync BASE TOKEN N PATHS     POST N records, write their paths
  seed.py pouchdb BASE N PATHS             create /db and N docs, write paths
  seed.py policies BASE TOKEN N            POST N enabled policies that no
                                           bench record matches

PATHS gets one request path per line (/v1/records/rec_..., /db/<id>), which
paths.lua picks from at random.  Exits non-zero, saying why, when the server
does not answer as expected.
"""
import http.client, json, sys, urllib.parse


def conn(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def call(c, method, path, body=None, headers=None):
    h = dict(headers or {})
    if body is not None:
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, data


def die(what, status, data):
    sys.exit(f"seed.py: {what}: HTTP {status}: {data[:300].decode(errors='replace')}")


def token(base, key):
    status, data = call(conn(base), "POST", "/v1/auth/token", {"api_key": key})
    if status != 200:
        die("token", status, data)
    print(json.loads(data)["access_token"])


def probe(method, url, headers):
    u = urllib.parse.urlsplit(url)
    h = dict(x.split(": ", 1) for x in headers)
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = {"title": "probe", "type": "bench", "site": "alpha", "data": {"n": 0}}
    path = u.path + ("?" + u.query if u.query else "")
    status, _ = call(conn(url), method, path, body, h)
    print(status)


def data_of(i):
    """A field inspection's data: about 300 bytes as compact JSON (the
    size issue 15's list target names), the same for both servers."""
    return {"n": i, "gauge": "G-114", "unit": "psi",
            "readings": [87.5, 88.1, 90.4, 91.0, 89.7, 88.8, 90.2, 91.3],
            "inspector": "crew-7", "weather": "overcast, 4 C",
            "notes": "Valve housing dry; slight corrosion on the flange "
                     "bolts, photographed. Recheck in 30 days. Pressure "
                     "steady under load.",
            "site_ref": "alpha/north/3", "ok": True}


def relaysync(base, tok, n, out):
    c = conn(base)
    auth = {"Authorization": f"Bearer {tok}"}
    paths = []
    for i in range(n):
        rec = {"title": f"bench record {i}", "type": "bench", "site": "alpha",
               "data": data_of(i)}
        status, data = call(c, "POST", "/v1/records", rec, auth)
        if status != 201:
            die("POST /v1/records", status, data)
        paths.append("/v1/records/" + json.loads(data)["id"])
    status, data = call(c, "GET", paths[0], None, auth)
    if status != 200:
        die("GET " + paths[0], status, data)
    write(out, paths)


def pouchdb(base, n, out):
    c = conn(base)
    status, data = call(c, "PUT", "/db")
    if status not in (201, 412):
        die("PUT /db", status, data)
    paths = []
    for i in range(n):
        doc = {"title": f"bench record {i}", "type": "bench", "site": "alpha",
               "data": data_of(i)}
        status, data = call(c, "POST", "/db", doc)
        if status != 201:
            die("POST /db", status, data)
        paths.append("/db/" + json.loads(data)["id"])
    write(out, paths)


def policies(base, tok, n):
    # None matches a bench record, so a create tries every one of them;
    # each reads data.<key>, so the record's data is parsed too.
    c = conn(base)
    for i in range(n):
        body = {"name": "bench_%02d" % i, "order": i,
                "when": 'type == "never_%d" or (size > 1m and '
                        'data.zone == "nowhere")' % i,
                "then": "queue=q%d;priority=%d;delay=%dm" % (i, i % 10, i)}
        status, data = call(c, "POST", "/v1/policies", body,
                            {"Authorization": "Bearer " + tok})
        if status != 201:
            die("POST /v1/policies", status, data)


def write(out, paths):
    with open(out, "w") as f:
        f.write("\n".join(paths) + "\n")


def main(a):
    if a[:1] == ["token"] and len(a) == 3:
        token(a[1], a[2])
    elif a[:1] == ["probe"] and len(a) >= 3:
        probe(a[1], a[2], a[3:])
    elif a[:1] == ["relaysync"] and len(a) == 5:
        relaysync(a[1], a[2], int(a[3]), a[4])
    elif a[:1] == ["policies"] and len(a) == 4:
        policies(a[1], a[2], int(a[3]))
    elif a[:1] == ["pouchdb"] and len(a) == 4:
        pouchdb(a[1], int(a[2]), a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
