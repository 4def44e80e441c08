#!/usr/bin/env node
// The contract check: every recorded HTTP exchange must be one that
// openapi/openapi.json documents.
//
//   node tests/contract/check.mjs --openapi openapi/openapi.json \
//        --log exchanges.jsonl [--min N]
//
// The log is what tests/integration/harness.py records (one JSON object a
// line: test, kind "http"|"sse", method, path with query, request_headers,
// status, response_headers as [name, value] pairs, body text or
// body_base64, complete). This file shares no code with the server or the
// harness: it reads the document and the log, nothing else.
//
// For each exchange on an API path (the first path segment `v<n>`, after
// any mount prefix such as /~crew/relaysync):
//  - the path and method resolve to an operation (templated paths; a
//    literal segment wins over a template). A path the document does not
//    list must be answered as components/responses/NotFound says, a
//    method a listed path does not serve as MethodNotAllowed says. HEAD
//    is checked against the path's GET with no body (the document's rule
//    "Every GET also answers HEAD").
//  - the status is one the operation (or that component) documents;
//  - every response header is documented for that status, except the
//    HTTP framing headers of FRAMING below; documented required headers
//    are there; values match their schemas;
//  - Content-Type is one of the response's `content` types (none when it
//    has none) and the body validates against that type's schema with Ajv
//    (JSON Schema 2020-12, the document's jsonSchemaDialect);
//  - a problem (application/problem+json) has a `code` the response lists
//    (its schema's `code` enum);
//  - an event stream (text/event-stream) is made of well-formed blocks,
//    and each event's data validates against the schema its media type's
//    `x-sse-events` names for that event.
// Checks of the document itself, made once: every problem response lists
// its codes; no response schema leaves an object open by accident: each
// object schema says `additionalProperties` (false, a schema, or true for
// a member that is free-form by design, e.g. a record's `data`) or
// `unevaluatedProperties`, or sits in an allOf/anyOf/oneOf of a schema
// that has `unevaluatedProperties: false`; no `default` responses.
//
// Prints one line per violation (repeats of the same fault on the same
// route are cut after REPEATS_SHOWN, counted all the same) and
// "N exchanges checked, M violations". Exit 1 on any violation, or when
// the log holds fewer than --min exchanges on API paths (default 1).

import fs from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

// Response headers the web server (lighttpd, Apache) or HTTP itself adds
// to any answer; the document describes the API's own headers, not these.
export const FRAMING = new Set([
  "date",              // RFC 9110 8.6.7: origin servers send it on every answer
  "server",            // the web server's product token
  "connection",        // hop-by-hop (keep-alive / close of this connection)
  "keep-alive",        // hop-by-hop parameters of a persistent connection
  "transfer-encoding", // message framing (chunked)
  "content-length",    // message framing
  "content-type",      // checked against the response's `content` instead
  "vary",              // caching metadata the server's compression adds
  "content-encoding",  // gzip/br applied by the web server (mod_deflate)
  "accept-ranges",     // a server's note on range support for static answers
]);

export const REPEATS_SHOWN = 3;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DEFS_ID = "urn:relaysync:openapi";
const SSE_FIELDS = new Set(["id", "event", "data", "retry"]);

// -------------------------------------------------------------------------
// The document

function pointer(doc, ref) {
  if (!ref.startsWith("#/")) throw new Error("only local $refs: " + ref);
  let node = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === undefined || node === null) break;
    node = node[key];
  }
  if (node === undefined) throw new Error("unresolved $ref " + ref);
  return node;
}

// An OpenAPI object (response, header, parameter) with its $refs followed.
function deref(doc, obj) {
  let seen = 0;
  while (obj && typeof obj === "object" && typeof obj.$ref === "string") {
    if (++seen > 20) throw new Error("$ref loop at " + obj.$ref);
    obj = pointer(doc, obj.$ref);
  }
  return obj;
}

// A schema with its references rewritten into the Ajv registry's $defs.
function rewrite(schema) {
  if (Array.isArray(schema)) return schema.map(rewrite);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) {
      out.$ref = DEFS_ID + "#/$defs/" + v.slice("#/components/schemas/".length);
    } else if (k === "example" || k === "examples") {
      out[k] = v;   // values, not schemas: keep as they are
    } else {
      out[k] = rewrite(v);
    }
  }
  return out;
}

function collectKeywords(node, found) {
  if (Array.isArray(node)) node.forEach((n) => collectKeywords(n, found));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith("x-")) found.add(k);
      if (k !== "example" && k !== "examples" && k !== "enum" && k !== "const") collectKeywords(v, found);
    }
  }
  return found;
}

export class Contract {
  constructor(doc) {
    this.doc = doc;
    this.docViolations = [];
    const dialect = doc.jsonSchemaDialect || "https://spec.openapis.org/oas/3.1/dialect/base";
    if (dialect !== "https://spec.openapis.org/oas/3.1/dialect/base" &&
        dialect !== "https://json-schema.org/draft/2020-12/schema") {
      this.docViolations.push("document: jsonSchemaDialect " + dialect + " is not JSON Schema 2020-12");
    }
    this.ajv = new Ajv2020({
      allErrors: true, strictSchema: true, strictNumbers: true,
      strictTypes: false, strictTuples: false, strictRequired: false,
      allowUnionTypes: true, validateFormats: true,
    });
    addFormats(this.ajv);
    // OpenAPI's own schema keywords, and the document's extensions:
    // annotations, nothing to check.
    for (const kw of ["example", "discriminator", "xml", "externalDocs",
      ...collectKeywords(doc, new Set())]) {
      if (!this.ajv.getKeyword(kw)) this.ajv.addKeyword({ keyword: kw });
    }
    this.ajv.addSchema({ $id: DEFS_ID, $defs: rewrite(doc.components?.schemas || {}) });
    this.compiled = new Map();
    this.routes = [];
    for (const [template, item] of Object.entries(doc.paths || {})) {
      const segs = template.split("/").slice(1);
      this.routes.push({
        template, item, segs,
        literals: segs.filter((s) => !/^\{[^}]+\}$/.test(s)).length,
      });
    }
    this.checkDocument();
  }

  schemaValidator(key, schema) {
    if (!this.compiled.has(key)) {
      try {
        this.compiled.set(key, this.ajv.compile(rewrite(schema)));
      } catch (e) {
        this.docViolations.push("document: " + key + ": schema does not compile: " + e.message);
        this.compiled.set(key, null);
      }
    }
    return this.compiled.get(key);
  }

  // -- checks of the document ------------------------------------------
  checkDocument() {
    const seen = new Set();
    const visitResponses = (where, responses) => {
      for (const [status, r0] of Object.entries(responses || {})) {
        if (status === "default") this.docViolations.push(`document: ${where}: a catch-all "default" response`);
        const r = deref(this.doc, r0);
        for (const [type, media] of Object.entries(r.content || {})) {
          const at = `${where} ${status} ${type}`;
          if (media.schema) {
            this.openObjects(media.schema, at, false, seen);
            this.schemaValidator(at, media.schema);   // compile errors now
          }
          if (type === "application/problem+json" && this.problemCodes(media.schema) === null) {
            this.docViolations.push(`document: ${at}: the problem's codes are not listed (a \`code\` enum)`);
          }
          for (const [ev, s] of Object.entries(media["x-sse-events"] || {})) {
            this.openObjects(s, `${at} event ${ev}`, false, seen);
            this.schemaValidator(`${at} event ${ev}`, s);
          }
        }
      }
    };
    for (const { template, item } of this.routes) {
      for (const m of METHODS) if (item[m]) visitResponses(`${m.toUpperCase()} ${template}`, item[m].responses);
    }
    for (const name of ["NotFound", "MethodNotAllowed"]) {
      const r = this.doc.components?.responses?.[name];
      if (!r) this.docViolations.push(`document: components/responses/${name} is missing (what unlisted paths and methods answer)`);
      else visitResponses("components/responses/" + name, { [name]: r });
    }
  }

  // Object schemas reachable from SCHEMA that are open by accident.
  openObjects(schema, where, covered, seen) {
    if (Array.isArray(schema) || !schema || typeof schema !== "object") return;
    if (typeof schema.$ref === "string") {
      const key = schema.$ref + "|" + covered;
      if (!seen.has(key)) {
        seen.add(key);
        this.openObjects(pointer(this.doc, schema.$ref), schema.$ref, covered, seen);
      }
    }
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const isObject = types.includes("object") || "properties" in schema || "patternProperties" in schema;
    const closed = "additionalProperties" in schema || "unevaluatedProperties" in schema;
    if (isObject && !closed && !covered) {
      const msg = `document: ${where}: object schema is open (no additionalProperties/unevaluatedProperties)`;
      if (!this.docViolations.includes(msg)) this.docViolations.push(msg);
    }
    const inPlace = covered || schema.unevaluatedProperties === false;
    for (const k of ["allOf", "anyOf", "oneOf"]) {
      (schema[k] || []).forEach((s, i) => this.openObjects(s, `${where}/${k}/${i}`, inPlace, seen));
    }
    for (const k of ["if", "then", "else"]) if (schema[k]) this.openObjects(schema[k], `${where}/${k}`, inPlace, seen);
    for (const [name, s] of Object.entries(schema.properties || {})) this.openObjects(s, `${where}/properties/${name}`, false, seen);
    for (const [name, s] of Object.entries(schema.patternProperties || {})) this.openObjects(s, `${where}/patternProperties/${name}`, false, seen);
    for (const k of ["additionalProperties", "unevaluatedProperties", "items", "contains", "not", "unevaluatedItems"]) {
      if (schema[k] && typeof schema[k] === "object") this.openObjects(schema[k], `${where}/${k}`, false, seen);
    }
    (schema.prefixItems || []).forEach((s, i) => this.openObjects(s, `${where}/prefixItems/${i}`, false, seen));
  }

  // The codes a problem schema allows (its `code` member's enum or const,
  // intersected over allOf), or null when it lists none.
  problemCodes(schema, depth = 0) {
    if (!schema || typeof schema !== "object" || depth > 20) return null;
    let codes = null;
    const meet = (more) => {
      if (more === null) return;
      codes = codes === null ? more : codes.filter((c) => more.includes(c));
    };
    if (schema.$ref) meet(this.problemCodes(pointer(this.doc, schema.$ref), depth + 1));
    const code = schema.properties?.code;
    if (code) {
      if (Array.isArray(code.enum)) meet(code.enum);
      if (code.const !== undefined) meet([code.const]);
    }
    for (const s of schema.allOf || []) meet(this.problemCodes(s, depth + 1));
    for (const k of ["anyOf", "oneOf"]) {
      if (!schema[k]) continue;
      const each = schema[k].map((s) => this.problemCodes(s, depth + 1));
      if (each.every((c) => c !== null)) meet([...new Set(each.flat())]);
    }
    return codes;
  }

  // -- routing -----------------------------------------------------------
  // -> {route, op, opName} | {unknownPath} | {noMethod, route}
  resolve(method, apiPath) {
    const segs = apiPath.split("/").slice(1);
    const matches = this.routes.filter((r) => r.segs.length === segs.length &&
      r.segs.every((t, i) => (/^\{[^}]+\}$/.test(t) ? segs[i] !== "" : t === segs[i])));
    if (matches.length === 0) return { unknownPath: true };
    matches.sort((a, b) => b.literals - a.literals);
    const route = matches[0];
    const m = method.toLowerCase();
    const op = route.item[m] || (m === "head" ? route.item.get : undefined);
    if (!op) return { noMethod: true, route };
    return { route, op, opName: `${method} ${route.template}` };
  }

  // -- one exchange ------------------------------------------------------
  // -> list of violation messages (empty: it matches)
  check(ex) {
    const out = [];
    const apiPath = apiPathOf(ex.path);
    if (apiPath === null) return null;          // not an API path: not ours
    if (notRelaySync(ex)) return null;
    const r = this.resolve(ex.method, apiPath);
    let responses, where;
    if (r.unknownPath) {
      responses = { "404": this.doc.components?.responses?.NotFound };
      where = "unlisted path (components/responses/NotFound)";
    } else if (r.noMethod) {
      responses = { "405": this.doc.components?.responses?.MethodNotAllowed };
      where = `${ex.method} not served on ${r.route.template} (components/responses/MethodNotAllowed)`;
    } else {
      responses = r.op.responses || {};
      where = r.opName;
    }
    const status = String(ex.status);
    const resp0 = responses[status];
    if (!resp0) {
      out.push(`status ${status} is not documented for ${where} (documented: ${Object.keys(responses).join(", ")})`);
      return { where, problems: out };
    }
    const resp = deref(this.doc, resp0);
    const key = `${where} ${status}`;
    this.checkHeaders(ex, resp, key, out);
    this.checkBody(ex, resp, key, out);
    if (r.op && /^2/.test(status)) this.checkRequest(ex, r, out);
    return { where, problems: out };
  }

  // A request the server took (2xx) must be one the document describes:
  // its query parameters are the operation's, its body (when it has one)
  // is of a documented type and valid against that type's schema. (A
  // refused request is not checked: tests send bad ones on purpose.)
  checkRequest(ex, r, out) {
    const params = [...(r.route.item.parameters || []), ...(r.op.parameters || [])].map((p) => deref(this.doc, p));
    const query = new Set(params.filter((p) => p.in === "query").map((p) => p.name));
    const q = String(ex.path).split("?")[1];
    if (q !== undefined) {
      for (const name of new URLSearchParams(q).keys()) {
        if (!query.has(name)) out.push(`request: query parameter ${JSON.stringify(name)} was taken but is not documented for ${r.opName}`);
      }
    }
    const text = ex.request_body_base64 ? null : ex.request_body;
    if (ex.request_body_base64 || (text !== null && text !== undefined && text !== "")) {
      const content = r.op.requestBody ? deref(this.doc, r.op.requestBody).content || {} : null;
      if (!content) {
        out.push(`request: a body was taken but ${r.opName} documents none`);
        return;
      }
      let ctype = null;
      for (const [k, v] of ex.request_headers || []) if (k.toLowerCase() === "content-type") ctype = v;
      const media = ctype ? ctype.split(";")[0].trim().toLowerCase() : null;
      const mt = media && content[media];
      if (!mt) {
        out.push(`request: Content-Type ${media} was taken but ${r.opName} documents ${Object.keys(content).join(", ")}`);
        return;
      }
      if (text === null) return;
      const schema = mt.schema?.contentSchema && mt.schema?.contentMediaType === "application/json" ? mt.schema.contentSchema : mt.schema;
      const json = media === "application/json" || media.endsWith("+json") || schema !== mt.schema;
      if (!json || !schema) return;
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        out.push(`request: a body that is not JSON was taken by ${r.opName}`);
        return;
      }
      const v = this.schemaValidator(`request of ${r.opName} ${media}`, schema);
      if (v && !v(body)) out.push(`request: a body the request schema refuses was taken by ${r.opName}: ${ajvErrors(v.errors)}`);
    }
  }

  checkHeaders(ex, resp, key, out) {
    const documented = new Map();
    for (const [name, h] of Object.entries(resp.headers || {})) documented.set(name.toLowerCase(), { name, h: deref(this.doc, h) });
    const sent = new Map();
    for (const [name, value] of ex.response_headers || []) {
      const lower = name.toLowerCase();
      if (!sent.has(lower)) sent.set(lower, []);
      sent.get(lower).push(value);
    }
    for (const [lower, values] of sent) {
      if (FRAMING.has(lower)) continue;
      const doc = documented.get(lower);
      if (!doc) {
        out.push(`header ${lower} is not documented for ${key} (documented: ${[...documented.values()].map((d) => d.name).join(", ") || "none"})`);
        continue;
      }
      const schema = doc.h.schema;
      if (!schema) continue;
      const v = this.schemaValidator(`header ${doc.name} of ${key}`, schema);
      if (!v) continue;
      for (const value of values) {
        const typed = headerValue(value, schema);
        if (!v(typed)) out.push(`header ${doc.name}: ${JSON.stringify(value)} does not match its schema: ${ajvErrors(v.errors)}`);
      }
    }
    for (const [lower, { name, h }] of documented) {
      if (h.required && !sent.has(lower)) out.push(`required header ${name} is missing (${key})`);
    }
  }

  checkBody(ex, resp, key, out) {
    const ctype = headerOf(ex, "content-type");
    const media = ctype ? ctype.split(";")[0].trim().toLowerCase() : null;
    const content = resp.content || {};
    const types = Object.keys(content);
    const text = ex.body_base64 ? null : ex.body || "";
    const empty = ex.body_base64 ? false : text === "";
    const isHead = ex.method.toUpperCase() === "HEAD";
    if (types.length === 0) {
      if (!empty && !isHead) out.push(`a body is sent but ${key} documents none`);
      return;
    }
    if (!media) {
      if (!empty || !isHead) out.push(`no Content-Type; ${key} documents ${types.join(", ")}`);
      return;
    }
    const mt = content[media];
    if (!mt) {
      out.push(`Content-Type ${media} is not documented for ${key} (documented: ${types.join(", ")})`);
      return;
    }
    if (isHead) {
      if (!empty) out.push("HEAD answered with a body");
      return;
    }
    if (ex.body_base64) {
      out.push(`body of ${media} is not UTF-8 text`);
      return;
    }
    if (media === "text/event-stream") {
      this.checkEvents(text, mt, `${key} ${media}`, ex.complete !== false, out);
      return;
    }
    if (media === "application/json" || media.endsWith("+json")) {
      let body;
      try {
        body = JSON.parse(text);
      } catch (e) {
        out.push(`body is not JSON (${e.message})`);
        return;
      }
      if (!mt.schema) return;
      const v = this.schemaValidator(`${key} ${media}`, mt.schema);
      if (v && !v(body)) {
        // a problem's code is reported by the check below, more clearly
        const errs = media === "application/problem+json"
          ? v.errors.filter((e) => !(e.instancePath === "/code" && e.keyword === "enum")) : v.errors;
        if (errs.length) out.push(`body does not match the schema of ${key} ${media}: ${ajvErrors(errs)}`);
      }
      if (media === "application/problem+json") {
        const codes = this.problemCodes(mt.schema);
        const code = body && typeof body === "object" ? body.code : undefined;
        if (codes !== null && !codes.includes(code)) {
          out.push(`problem code ${JSON.stringify(code)} is not one ${key} documents (${codes.join(", ")})`);
        }
      }
      return;
    }
    if (mt.schema) {
      const v = this.schemaValidator(`${key} ${media}`, mt.schema);
      if (v && !v(text)) out.push(`body does not match the schema of ${key} ${media}: ${ajvErrors(v.errors)}`);
    }
  }

  // An event stream: blocks of `field: value` lines (or `:` comments) up
  // to a blank line; the data of each named event validates against the
  // schema x-sse-events gives it. A cut-off stream's last block is left.
  checkEvents(text, mt, key, complete, out) {
    const events = mt["x-sse-events"] || null;
    const lines = text.split(/\r\n|\r|\n/);
    let block = [];
    const blocks = [];
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === "") {
        if (block.length) blocks.push(block);
        block = [];
      } else {
        block.push(lines[i]);
      }
    }
    if (block.length && complete) out.push(`${key}: the stream ends inside a block: ${JSON.stringify(block.join("\n")).slice(0, 200)}`);
    for (const b of blocks) {
      let ev = null;
      const data = [];
      for (const line of b) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? "" : line.slice(i + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (!SSE_FIELDS.has(field)) {
          out.push(`${key}: unknown event-stream field ${JSON.stringify(field)}`);
          continue;
        }
        if (field === "event") ev = value;
        if (field === "data") data.push(value);
        if (field === "retry" && !/^[0-9]+$/.test(value)) out.push(`${key}: retry ${JSON.stringify(value)} is not digits`);
      }
      if (!data.length) continue;
      const name = ev || "message";
      if (!events) continue;
      const schema = events[name];
      if (!schema) {
        out.push(`${key}: event ${JSON.stringify(name)} is not documented (x-sse-events: ${Object.keys(events).join(", ")})`);
        continue;
      }
      let value;
      try {
        value = JSON.parse(data.join("\n"));
      } catch (e) {
        out.push(`${key}: event ${name}: data is not JSON (${e.message})`);
        continue;
      }
      const v = this.schemaValidator(`${key} event ${name}`, schema);
      if (v && !v(value)) out.push(`${key}: event ${name}: data does not match its schema: ${ajvErrors(v.errors)}`);
    }
  }
}

// -------------------------------------------------------------------------
// helpers

// The API part of a request path ("/v1/records/x"), or null when no
// segment is a version ("v" and digits). The query is not part of it.
export function apiPathOf(path) {
  const bare = String(path).split("?")[0].split("#")[0];
  const segs = bare.split("/");
  const i = segs.findIndex((s, n) => n > 0 && /^v[0-9]+$/.test(s));
  if (i < 0) return null;
  return "/" + segs.slice(i).join("/");
}

// A 404 the web server answered itself, for a path it does not route to
// RelaySync at all (the API is mounted elsewhere on that server, e.g.
// /v1/health on a host that serves it under /~crew/relaysync): no
// X-Request-Id (every answer of the program has one) and no JSON. The
// contract is not about such a path; the tests that make these requests
// check the 404 themselves. Counted as skipped. Never on the run's own
// server (`main`), whose API is at the root: there every /v<n> path is
// the API's.
function notRelaySync(ex) {
  if (ex.main === true) return false;
  if (ex.status !== 404 || headerOf(ex, "x-request-id") !== null) return false;
  const ctype = (headerOf(ex, "content-type") || "").toLowerCase();
  return !ctype.includes("json");
}

function headerOf(ex, name) {
  for (const [k, v] of ex.response_headers || []) if (k.toLowerCase() === name) return v;
  return null;
}

// A header's text as the JSON value its schema describes.
function headerValue(value, schema) {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if ((types.includes("integer") || types.includes("number")) && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) return Number(value);
  if (types.includes("boolean") && (value === "true" || value === "false")) return value === "true";
  return value;
}

function ajvErrors(errors) {
  return (errors || []).slice(0, 4).map((e) => {
    let extra = "";
    if (e.keyword === "additionalProperties") extra = ` (${e.params.additionalProperty})`;
    if (e.keyword === "unevaluatedProperties") extra = ` (${e.params.unevaluatedProperty})`;
    if (e.keyword === "enum") extra = ` (${JSON.stringify(e.params.allowedValues).slice(0, 120)})`;
    return `${e.instancePath || "/"} ${e.message}${extra}`;
  }).join("; ");
}

// -> { checked, violations: [{line, group}], docViolations, skipped }
export function checkExchanges(doc, exchanges) {
  const c = new Contract(doc);
  const violations = [];
  let checked = 0, skipped = 0;
  for (const ex of exchanges) {
    let got;
    try {
      got = c.check(ex);
    } catch (e) {
      got = { where: "?", problems: ["check failed: " + e.message] };
    }
    if (got === null) {
      skipped++;
      continue;
    }
    checked++;
    const who = ex.test ? ` [test: ${ex.test}]` : "";
    for (const p of got.problems) {
      violations.push({
        line: `${ex.method} ${ex.path} -> ${ex.status}: ${p}${who}`,
        group: `${got.where}|${p.replace(/"[^"]*"/g, "\"…\"")}`,
      });
    }
  }
  return { checked, skipped, violations, docViolations: c.docViolations };
}

export function readLog(path) {
  const text = fs.readFileSync(path, "utf-8");
  const out = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON: ${e.message}`);
    }
  });
  return out;
}

// The report's lines and whether it passed.
export function report(result, minimum) {
  const lines = [];
  for (const d of result.docViolations) lines.push(d);
  const perGroup = new Map();
  for (const v of result.violations) {
    const n = (perGroup.get(v.group) || 0) + 1;
    perGroup.set(v.group, n);
    if (n <= REPEATS_SHOWN) lines.push(v.line);
  }
  for (const [g, n] of perGroup) {
    if (n > REPEATS_SHOWN) lines.push(`(${n - REPEATS_SHOWN} more like: ${g.replace("|", ": ")})`);
  }
  let count = result.docViolations.length + result.violations.length;
  if (result.checked < minimum) {
    lines.push(`only ${result.checked} exchanges on API paths in the log; at least ${minimum} expected`);
    count++;
  }
  if (result.skipped) lines.push(`(${result.skipped} exchanges skipped: not on an API path, or a 404 the web server answered for a path it does not route to RelaySync)`);
  lines.push(`${result.checked} exchanges checked, ${count} violations`);
  return { lines, ok: count === 0 };
}

function main(argv) {
  const args = { openapi: null, log: null, min: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--openapi") args.openapi = argv[++i];
    else if (a === "--log") args.log = argv[++i];
    else if (a === "--min") args.min = Number(argv[++i]);
    else {
      console.error("usage: check.mjs --openapi FILE --log FILE [--min N]");
      return 2;
    }
  }
  if (!args.openapi || !args.log || !Number.isInteger(args.min)) {
    console.error("usage: check.mjs --openapi FILE --log FILE [--min N]");
    return 2;
  }
  const doc = JSON.parse(fs.readFileSync(args.openapi, "utf-8"));
  const result = checkExchanges(doc, readLog(args.log));
  const { lines, ok } = report(result, args.min);
  for (const l of lines) console.log(l);
  return ok ? 0 : 1;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.log("check.mjs: " + e.message);
    console.log("0 exchanges checked, 1 violations");
    process.exitCode = 1;
  }
}
