#!/usr/bin/env python3
"""Turn bench/run's raw wrk outputs into the Markdown results table.

  report.py RAWDIR     RAWDIR holds KEY.rN.txt (wrk --latency output of
                       round N), KEY.pending (why a workload did not run)
                       and meta; pg-post2, two wrk runs at once, is
                       pg-post2a.rN.txt and pg-post2b.rN.txt.

With several rounds, req/s, p50 and p99 are each the median over the rounds
and the error and request counts are their sums.

Checks each RelaySync workload against the targets of issue 3 and says when
a run is not valid (most answers errors, or a ceiling that is itself invalid).
With the PostgreSQL workloads (bench/run --backend postgresql) it adds a
section "PostgreSQL vs SQLite" against issue 19's targets.
"""
import glob, os, re, statistics, sys

# key: (label, ceiling key, peer key, minimum ratio to ceiling or None)
# A batch's rate is counted in records: req/s times its size (PER).
WORKLOADS = [
    ("fixed", "baseline: fixed JSON answer (FastCGI)", None, None, None),
    ("fixed-list", "baseline: fixed answer of a list page's bytes (FastCGI)", None, None, None),
    ("insert", "baseline: one SQLite INSERT (FastCGI, WAL, NORMAL)", None, None, None),
    ("health", "RelaySync `GET /v1/health` (smoke: no auth)", "fixed", None, None),
    ("me", "RelaySync `GET /v1/me` (auth only)", "fixed", None, None),
    ("get", "RelaySync `GET /v1/records/<id>`", "fixed", "pouch-get", 0.75),
    ("list", "RelaySync `GET /v1/records?limit=50` (~300-byte `data`)", "fixed-list", "pouch-list", 0.50),
    ("post", "RelaySync `POST /v1/records` + fresh Idempotency-Key", "insert", "pouch-post", 0.50),
    ("post-pol", "RelaySync `POST /v1/records`, org with 20 enabled policies (none matches)", "post", None, 0.95),
    ("batch", "RelaySync `POST /v1/batch`, 100 creates with fresh keys (records/s)", "post", None, 10.0),
    # --backend postgresql (issue 19): the "ceiling" is the same workload
    # on SQLite, in the same run.
    ("pg-get", "RelaySync on PostgreSQL `GET /v1/records/<id>`", "get", None, 0.70),
    ("pg-list", "RelaySync on PostgreSQL `GET /v1/records?limit=50`", "list", None, 0.70),
    ("pg-post", "RelaySync on PostgreSQL `POST /v1/records` + fresh Idempotency-Key", "post", None, 0.50),
    ("pg-post2", "RelaySync on PostgreSQL, two hosts at once: `POST /v1/records` (combined req/s; p50/p99 the slower host's)", "pg-post", None, None),
    ("pouch-get", "PouchDB `GET /db/<id>`", None, None, None),
    ("pouch-list", "PouchDB `GET /db/_all_docs?limit=50&include_docs=true`", None, None, None),
    ("pouch-post", "PouchDB `POST /db`", None, None, None),
]
P99_MAX_MS = 20.0
PER = {"batch": 100}        # records per request
P99_MAX = {"post": 15.0}    # issue 15's create target; 20 ms elsewhere
NO_P99 = {"batch"}          # one answer holds 100 writes: no p99 target
ISSUE19 = ("pg-get", "pg-list", "pg-post")  # own verdicts, own section
TWO = {"pg-post2"}          # two wrk runs at once: KEYa.rN.txt + KEYb.rN.txt
ERROR_SHARE_MAX = 0.001     # a target run passes only below 0.1% errors
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse(path):
    """Return a dict of the numbers in one wrk --latency output, or None."""
    text = open(path).read()
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not m:
        return {"broken": text.strip().splitlines()[-1:] or ["no output"]}
    r["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        r["p" + pct] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", text)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["sockerr"] = sum(map(int, m.groups())) if m else 0
    r["timeouts"] = int(m.group(4)) if m else 0
    r["errors"] = r["non2xx"] + r["sockerr"]
    r["invalid"] = r["requests"] == 0 or 2 * r["errors"] > r["requests"]
    return r


def combine(runs):
    """One result from the rounds of a workload (see the module comment)."""
    ok = [r for r in runs if "broken" not in r]
    if not ok:
        return runs[0]
    r = {k: statistics.median([x[k] for x in ok if x.get(k) is not None] or [0])
         for k in ("rps", "p50", "p99")}
    for k in ("requests", "non2xx", "sockerr", "timeouts", "errors"):
        r[k] = sum(x[k] for x in ok)
    r["invalid"] = r["requests"] == 0 or 2 * r["errors"] > r["requests"]
    r["rounds"] = len(ok)
    r["spread"] = (min(x["rps"] for x in ok), max(x["rps"] for x in ok))
    return r


def parse_two(d, key):
    """The rounds of a TWO workload: per round, the two runs' req/s,
    requests and errors added up, their p50 and p99 the larger of the
    two (the slower host's); a round with a missing or broken half is
    broken."""
    rounds = sorted({int(m.group(1)) for f in glob.glob(f"{d}/{key}[ab].r*.txt")
                     if (m := re.search(r"[ab]\.r(\d+)\.txt$", f))})
    runs = []
    for n in rounds:
        half = []
        for side in "ab":
            f = f"{d}/{key}{side}.r{n}.txt"
            half.append(parse(f) if os.path.exists(f) else {"broken": [f"no {key}{side}.r{n}.txt"]})
        broken = [h for h in half if "broken" in h]
        if broken:
            runs.append(broken[0])
            continue
        a, b = half
        r = {"rps": a["rps"] + b["rps"]}
        for k in ("p50", "p99"):
            v = [x[k] for x in half if x[k] is not None]
            r[k] = max(v) if len(v) == 2 else None
        for k in ("requests", "non2xx", "sockerr", "timeouts", "errors"):
            r[k] = a[k] + b[k]
        r["invalid"] = r["requests"] == 0 or 2 * r["errors"] > r["requests"]
        runs.append(r)
    return runs


def fmt_ms(v):
    if v is None:
        return "?"
    return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"


def fmt_rps(r):
    rps = f"{r['rps']:,.0f}"
    if r.get("rounds", 1) > 1:
        rps += f" ({r['spread'][0]:,.0f}–{r['spread'][1]:,.0f})"
    return rps


def target_text(key, ceil, minratio):
    if key in NO_P99:
        return f"≥ {minratio:g}× {ceil}'s req/s"
    return f"≥ {minratio:.0%} of {ceil}, p99 ≤ {P99_MAX.get(key, P99_MAX_MS):g} ms"


def main(d):
    meta = {}
    if os.path.exists(f"{d}/meta"):
        for line in open(f"{d}/meta"):
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    res, why = {}, {}
    for key, *_ in WORKLOADS:
        files = sorted(glob.glob(f"{d}/{key}.r*.txt"))
        two = parse_two(d, key) if key in TWO else []
        if two:
            res[key] = combine(two)
        elif files:
            res[key] = combine([parse(f) for f in files])
        elif os.path.exists(f"{d}/{key}.pending"):
            why[key] = open(f"{d}/{key}.pending").read().strip()
    for key, per in PER.items():
        r = res.get(key)
        if r and "rps" in r:
            r["rps"] *= per
            if "spread" in r:
                r["spread"] = tuple(x * per for x in r["spread"])

    out = ["# RelaySync benchmark", ""]
    if meta:
        out += [f"- date: {meta.get('date')}; machine: {meta.get('machine')}",
                f"- front end: {meta.get('server')}; wrk {meta.get('wrk')}",
                f"- {meta.get('versions')}",
                f"- RelaySync: {meta.get('relaysync')}; {meta.get('records')} records/docs seeded",
                *([f"- {meta['postgresql']} (RelaySync `pg-*` rows; the others on SQLite, WAL, synchronous=NORMAL)"]
                  if meta.get("postgresql") else []),
                f"- {meta.get('load')}", ""]
    out += ["| workload | req/s | p50 | p99 | errors | vs ceiling | vs PouchDB | target | result |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    verdicts, verdicts19, notes = [], [], []
    checked = {}    # key: its misses (empty: pass), for the section below
    for key, label, ceil, peer, minratio in WORKLOADS:
        r = res.get(key)
        vlist = verdicts19 if key in ISSUE19 else verdicts
        if r is None:
            if key in why:
                tgt = target_text(key, ceil, minratio) if minratio else "—"
                out.append(f"| {label} | pending | | | | | | {tgt} | pending |")
                if minratio is not None:
                    vlist.append(None)
                if why[key] not in notes:
                    notes.append(why[key])
            continue
        if "broken" in r:
            out.append(f"| {label} | wrk failed | | | | | | | INVALID: {r['broken'][0]} |")
            if minratio is not None:
                vlist.append(False)
                checked[key] = [f"wrk failed: {r['broken'][0]}"]
            continue
        err = str(r["errors"])
        if r["timeouts"]:
            err += f" ({r['timeouts']} timeouts)"
        vs_ceil = vs_peer = "—"
        c = res.get(ceil) if ceil else None
        ratio = None
        if c and "rps" in c and not c["invalid"]:
            ratio = r["rps"] / c["rps"]
            vs_ceil = (f"{ratio:.1f}× {ceil}" if key in PER else
                       f"{ratio:.0%} of {ceil}")
        elif c:
            vs_ceil = f"({ceil} invalid)"
        elif ceil:
            vs_ceil = f"({ceil} not run)"
        p = res.get(peer) if peer else None
        if p and "rps" in p and not p["invalid"]:
            vs_peer = f"{r['rps'] / p['rps']:.1f}×"
        target, result = "—", ""
        if minratio is not None:
            target = target_text(key, ceil, minratio)
            fails = []
            if r["invalid"]:
                fails.append("INVALID: most answers were errors")
            else:
                if ratio is None:
                    fails.append(f"no valid {ceil} run to compare with")
                elif ratio < minratio:
                    fails.append(f"{ratio:.1f}× < {minratio:g}×" if key in PER
                                 else f"{ratio:.0%} < {minratio:.0%}")
                p99max = P99_MAX.get(key, P99_MAX_MS)
                if key not in NO_P99 and (r["p99"] is None or r["p99"] > p99max):
                    fails.append(f"p99 {fmt_ms(r['p99'])} > {p99max:g} ms")
                if r["errors"] > ERROR_SHARE_MAX * r["requests"]:
                    fails.append(f"{r['errors']} errors")
            result = "**pass**" if not fails else "**FAIL**: " + "; ".join(fails)
            vlist.append(not fails)
            checked[key] = fails
        elif r["invalid"]:
            result = f"INVALID: {r['errors']} of {r['requests']} answers were errors"
        elif r["errors"]:
            result = f"{r['errors']} errors"
        rps = fmt_rps(r)
        out.append(f"| {label} | {rps} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} "
                   f"| {err} | {vs_ceil} | {vs_peer} | {target} | {result} |")
    out.append("")
    invalid = [k for k, *_ in WORKLOADS if k in res and res[k].get("invalid", True)]
    if invalid:
        out.append(f"**This run is not valid for: {', '.join(invalid)}** — most of "
                   "their answers were errors (see bench/results/raw/<key>.r<round>.txt).")
    done = [v for v in verdicts if v is not None]
    if verdicts:
        out.append(f"Targets (issues 3 and 15): {sum(done)} of {len(verdicts)} met"
                   + (f", {len(verdicts) - len(done)} pending" if len(done) < len(verdicts) else "") + ".")
    for n in notes:
        out.append(f"Pending: {n}.")
    out.append("")
    out.append("req/s, p50, p99: medians over the rounds (req/s range in brackets); "
               "for a batch, req/s counts records (requests × 100) and p50/p99 are "
               "per batch. "
               "errors = non-2xx answers + socket errors (wrk), all rounds. vs ceiling = "
               "req/s ÷ the baseline's req/s in the same run; vs PouchDB = req/s ÷ the "
               "PouchDB equivalent's.")
    out += pg_section(res, why, meta, checked, verdicts19)
    print("\n".join(out))


# bench/run's default PG_SETTINGS, SQLite's synchronous=NORMAL counterpart.
BENCH_PG_SETTINGS = ("synchronous_commit=off", "fsync=on", "full_page_writes=on")
# The issue 19 workloads: what each is, in the section below.
PG_WHAT = {"pg-get": "`GET /v1/records/<id>`", "pg-list": "`GET /v1/records?limit=50`",
           "pg-post": "`POST /v1/records`"}


def pg_section(res, why, meta, checked, verdicts):
    """PostgreSQL vs SQLite (issue 19): each pg-* workload next to its
    SQLite twin of the same run, the ratios against the targets, and the
    two hosts' combined rate; empty when no pg-* workload was asked for."""
    if not any(k in res or k in why for k in (*ISSUE19, *TWO)):
        return []
    ceil = {k: (c, m) for k, _, c, _, m in WORKLOADS}
    out = ["", "### PostgreSQL vs SQLite (issue 19)", ""]
    pg = meta.get("postgresql")
    if pg:
        line = f"PostgreSQL: {pg}. SQLite: WAL, synchronous=NORMAL. "
        if all(f"{x}," in f"{pg}," for x in BENCH_PG_SETTINGS):
            line += ("Neither syncs a commit to disk; see bench/README.md, "
                     "\"PostgreSQL backend\", for what each risks.")
        else:
            line += ("**These are not the bench's durability settings** ("
                     + ", ".join(BENCH_PG_SETTINGS) + "): the two backends do not make "
                     "the same promise about a commit (bench/README.md, \"PostgreSQL "
                     "backend\").")
        out += [line, ""]
    out += ["| workload | SQLite req/s | PostgreSQL req/s | PostgreSQL ÷ SQLite | SQLite p99 "
            "| PostgreSQL p99 | target | result |",
            "|---|---:|---:|---:|---:|---:|---|---|"]
    missed = []

    def cell(k):
        r = res.get(k)
        if r is None:
            return ("pending" if k in why else "not run"), "", None
        if "broken" in r:
            return "wrk failed", "", None
        return fmt_rps(r), fmt_ms(r["p99"]), r

    for k in ISSUE19:
        sq, minratio = ceil[k]
        if k not in res and k not in why:
            continue
        s_rps, s_p99, s = cell(sq)
        p_rps, p_p99, p = cell(k)
        ratio = "—"
        if s and p and not s["invalid"] and not p["invalid"]:
            ratio = f"{p['rps'] / s['rps']:.0%}"
        target = f"≥ {minratio:.0%} of SQLite's, p99 ≤ {P99_MAX.get(k, P99_MAX_MS):g} ms"
        if k in checked:
            fails = checked[k]
            result = "**pass**" if not fails else "**MISSED**: " + "; ".join(fails)
            if fails:
                missed.append(f"{PG_WHAT[k]} ({k}): " + "; ".join(
                    f.replace(f"of {sq}", "of SQLite's") for f in fails))
        else:
            result = "pending"
        result = result.replace(f"of {sq}", "of SQLite's")
        out.append(f"| {PG_WHAT[k]} (`{sq}`, `{k}`) | {s_rps} | {p_rps} | {ratio} | {s_p99} "
                   f"| {p_p99} | {target} | {result} |")
    out.append("")
    done = [v for v in verdicts if v is not None]
    if verdicts:
        m = re.search(r"-c(\d+)", meta.get("wrk", ""))
        conns = int(m.group(1)) if m else None
        line = (f"Targets (issue 19: reads ≥ 70% and creates ≥ 50% of the SQLite "
                f"backend's req/s at 32 connections, p99 ≤ 20 ms): {sum(done)} of "
                f"{len(verdicts)} met")
        if len(done) < len(verdicts):
            line += f", {len(verdicts) - len(done)} pending"
        out.append(line + ".")
        if conns is not None and conns != 32:
            out.append(f"This run used {conns} connections, not the 32 the targets "
                       "are stated at: an indication only.")
        for m_ in missed:
            out.append(f"**Target missed:** {m_}.")
        if done and not missed and len(done) == len(verdicts):
            out.append("All three targets met.")
    r = res.get("pg-post2")
    if r is not None or "pg-post2" in why:
        m = re.match(r"(\d+) cores?", meta.get("machine", ""))
        cores = f"{m.group(1)}-core" if m else "this"
        if r is None:
            text = f"pending: {why['pg-post2']}"
        elif "broken" in r:
            text = f"wrk failed: {r['broken'][0]}"
        elif r["invalid"]:
            text = f"not valid: {r['errors']} of {r['requests']} answers were errors"
        else:
            one = res.get("pg-post")
            vs = (f", {r['rps'] / one['rps']:.0%} of one host's (`pg-post`)"
                  if one and "rps" in one and not one["invalid"] else "")
            text = (f"{fmt_rps(r)} req/s combined{vs}; p50 {fmt_ms(r['p50'])}, "
                    f"p99 {fmt_ms(r['p99'])} (the slower host's); {r['errors']} errors")
        out += ["", f"Two hosts (`pg-post2`: two RelaySync pools, each with its own "
                f"RELAYSYNC_STATE, on the same database and secret, each loaded by its "
                f"own wrk with half the connections, at the same time): {text}. "
                f"**On this {cores} machine this measures contention, not scale:** both "
                "hosts' pools, PostgreSQL and wrk share the same cores, so this shows "
                "how the database takes the writes of two hosts at once, not what a "
                "second machine would add."]
    return out


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/raw")
