// Unit tests of the contract check (check.mjs) on a small document of its
// own and on the real one: a documented exchange passes, and each kind of
// undocumented answer is caught.
//   cd tests/contract && node --test test/

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { apiPathOf, checkExchanges, report } from "../check.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REAL = JSON.parse(fs.readFileSync(path.join(HERE, "..", "..", "..", "openapi", "openapi.json"), "utf-8"));

const problem = (codes) => ({
  allOf: [{ $ref: "#/components/schemas/Problem" }],
  properties: { code: { enum: codes } },
  unevaluatedProperties: false,
});

// A document with one path, in the shape of the real one.
function smallDoc() {
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    info: { title: "t", version: "1" },
    paths: {
      "/v1/things/{id}": {
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        get: {
          parameters: [{ name: "x", in: "query", schema: { type: "string" } }],
          responses: {
            200: {
              description: "ok",
              headers: {
                "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
                ETag: { schema: { type: "string", pattern: "^\"[0-9A-Z]+\"$" } },
              },
              content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } },
            },
            404: {
              description: "no such thing",
              headers: { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } },
              content: { "application/problem+json": { schema: problem(["not_found"]) } },
            },
          },
        },
      },
      "/v1/things": {
        post: {
          requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
          responses: { 204: { description: "taken", headers: { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } } } },
        },
      },
      "/v1/things/special": {
        get: { responses: { 204: { description: "nothing", headers: { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } } } } },
      },
    },
    components: {
      headers: {
        "X-Request-Id": { required: true, schema: { type: "string", minLength: 1 } },
      },
      schemas: {
        Thing: {
          type: "object",
          required: ["id", "n"],
          properties: { id: { type: "string" }, n: { type: "integer" }, data: { type: "object", additionalProperties: true } },
          additionalProperties: false,
        },
        Problem: {
          type: "object",
          required: ["type", "title", "status", "code"],
          properties: {
            type: { type: "string" }, title: { type: "string" }, status: { type: "integer" },
            code: { type: "string" }, detail: { type: "string" },
          },
        },
      },
      responses: {
        NotFound: {
          description: "unlisted path",
          headers: { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } },
          content: { "application/problem+json": { schema: problem(["not_found"]) } },
        },
        MethodNotAllowed: {
          description: "unlisted method",
          headers: {
            "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
            Allow: { required: true, schema: { type: "string" } },
          },
          content: { "application/problem+json": { schema: problem(["method_not_allowed"]) } },
        },
      },
    },
  };
}

function ex(over = {}) {
  return {
    test: "unit", kind: "http", method: "GET", path: "/v1/things/t1",
    request_headers: [], status: 200,
    response_headers: [["Date", "x"], ["Content-Type", "application/json"], ["X-Request-Id", "r1"], ["ETag", "\"AB12\""]],
    body: JSON.stringify({ id: "t1", n: 3, data: { free: ["form"] } }),
    ...over,
  };
}

const notFound = (code, extra = {}) => ex({
  status: 404,
  response_headers: [["Content-Type", "application/problem+json"], ["X-Request-Id", "r2"]],
  body: JSON.stringify({ type: "https://x/" + code, title: "T", status: 404, code, ...extra }),
});

function run(doc, exchanges, minimum = 1) {
  const result = checkExchanges(doc, exchanges);
  return { result, ...report(result, minimum) };
}

test("a documented exchange passes (mount prefix, query, framing headers)", () => {
  const r = run(smallDoc(), [
    ex(),
    ex({ path: "/~crew/relaysync/v1/things/t1?x=1" }),
    ex({ path: "/v1/things/special", status: 204, response_headers: [["X-Request-Id", "r"]], body: "" }),
    ex({ method: "HEAD", body: "" }),
    notFound("not_found"),
    ex({ path: "/console/index.html", status: 500, body: "not ours" }),
  ]);
  assert.deepEqual(r.result.docViolations, []);
  assert.deepEqual(r.result.violations.map((v) => v.line), []);
  assert.equal(r.result.checked, 5);
  assert.equal(r.result.skipped, 1);
  assert.equal(r.ok, true);
  assert.equal(r.lines.at(-1), "5 exchanges checked, 0 violations");
});

test("an undocumented status fails", () => {
  const r = run(smallDoc(), [ex({ status: 201 })]);
  assert.equal(r.ok, false);
  assert.match(r.result.violations[0].line, /status 201 is not documented for GET \/v1\/things\/\{id\}/);
  assert.match(r.result.violations[0].line, /\[test: unit\]/);
});

test("an undocumented header fails; a missing required one too", () => {
  let r = run(smallDoc(), [ex({ response_headers: [...ex().response_headers, ["X-Debug", "1"]] })]);
  assert.equal(r.ok, false);
  assert.match(r.result.violations[0].line, /header x-debug is not documented/);
  r = run(smallDoc(), [ex({ response_headers: [["Content-Type", "application/json"]] })]);
  assert.match(r.result.violations[0].line, /required header X-Request-Id is missing/);
  r = run(smallDoc(), [ex({ response_headers: [["Content-Type", "application/json"], ["X-Request-Id", "r"], ["ETag", "weak"]] })]);
  assert.match(r.result.violations[0].line, /header ETag: "weak" does not match its schema/);
});

test("an extra member fails (closed schemas)", () => {
  const r = run(smallDoc(), [ex({ body: JSON.stringify({ id: "t1", n: 1, surprise: true }) })]);
  assert.equal(r.ok, false);
  assert.match(r.result.violations[0].line, /must NOT have additional properties \(surprise\)/);
  // an extra member of a problem (allOf + unevaluatedProperties)
  const p = run(smallDoc(), [notFound("not_found", { extra: 1 })]);
  assert.match(p.result.violations[0].line, /unevaluated properties \(extra\)/);
});

test("a missing required member fails", () => {
  const r = run(smallDoc(), [ex({ body: JSON.stringify({ id: "t1" }) })]);
  assert.equal(r.ok, false);
  assert.match(r.result.violations[0].line, /must have required property 'n'/);
});

test("a problem code the route does not list fails", () => {
  const r = run(smallDoc(), [notFound("gone_away")]);
  assert.equal(r.ok, false);
  assert.ok(r.result.violations.some((v) => /problem code "gone_away" is not one GET \/v1\/things\/\{id\} 404 documents \(not_found\)/.test(v.line)));
});

test("an unlisted path must answer as NotFound, an unlisted method as MethodNotAllowed", () => {
  let r = run(smallDoc(), [{ ...notFound("not_found"), path: "/v2/things" }]);
  assert.deepEqual(r.result.violations, []);
  r = run(smallDoc(), [{ ...ex(), path: "/v1/nothing" }]);
  assert.match(r.result.violations[0].line, /status 200 is not documented for unlisted path/);
  r = run(smallDoc(), [{ ...notFound("not_found"), method: "DELETE" }]);
  assert.match(r.result.violations[0].line, /status 404 is not documented for DELETE not served/);
});

test("a wrong Content-Type or a body where none is documented fails", () => {
  let r = run(smallDoc(), [ex({ response_headers: [["Content-Type", "text/html"], ["X-Request-Id", "r"]] })]);
  assert.match(r.result.violations[0].line, /Content-Type text\/html is not documented/);
  r = run(smallDoc(), [ex({ path: "/v1/things/special", status: 204, response_headers: [["X-Request-Id", "r"]], body: "x" })]);
  assert.match(r.result.violations[0].line, /a body is sent but .* documents none/);
});

test("the document's own faults: an open object schema, a problem without codes, a default response", () => {
  const doc = smallDoc();
  delete doc.components.schemas.Thing.additionalProperties;
  doc.paths["/v1/things/{id}"].get.responses["404"].content["application/problem+json"].schema = { $ref: "#/components/schemas/Problem" };
  doc.paths["/v1/things/{id}"].get.responses.default = { description: "anything" };
  const r = run(doc, [ex({ body: JSON.stringify({ id: "t1", n: 1 }) })]);
  assert.equal(r.ok, false);
  const all = r.result.docViolations.join("\n");
  assert.match(all, /#\/components\/schemas\/Thing: object schema is open/);
  assert.match(all, /the problem's codes are not listed/);
  assert.match(all, /a catch-all "default" response/);
});

test("an empty log, or one under the minimum, fails", () => {
  let r = run(smallDoc(), []);
  assert.equal(r.ok, false);
  assert.equal(r.lines.at(-1), "0 exchanges checked, 1 violations");
  r = run(smallDoc(), [ex(), ex()], 3);
  assert.equal(r.ok, false);
});

test("event streams: blocks are checked, each event's data against x-sse-events", () => {
  const doc = smallDoc();
  doc.paths["/v1/stream"] = {
    get: {
      responses: {
        200: {
          description: "stream",
          headers: { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } },
          content: {
            "text/event-stream": {
              schema: { type: "string" },
              "x-sse-events": { thing: { $ref: "#/components/schemas/Thing" } },
            },
          },
        },
      },
    },
  };
  const sse = (body, complete = true) => ({
    kind: "sse", method: "GET", path: "/v1/stream", status: 200, complete, body,
    response_headers: [["Content-Type", "text/event-stream"], ["X-Request-Id", "r"]],
  });
  let r = run(doc, [sse("retry: 1000\n\n: heartbeat\n\nid: 1\nevent: thing\ndata: {\"id\":\"a\",\"n\":1}\n\nid: 2\nevent: th", false)]);
  assert.deepEqual(r.result.violations, []);
  r = run(doc, [sse("id: 1\nevent: thing\ndata: {\"id\":\"a\"}\n\n")]);
  assert.match(r.result.violations[0].line, /event thing: data does not match its schema/);
  r = run(doc, [sse("event: other\ndata: {}\n\n")]);
  assert.match(r.result.violations[0].line, /event "other" is not documented/);
  r = run(doc, [sse("bogus: 1\n\n")]);
  assert.match(r.result.violations[0].line, /unknown event-stream field "bogus"/);
});

test("apiPathOf finds the version segment under a mount", () => {
  assert.equal(apiPathOf("/v1/records?limit=2"), "/v1/records");
  assert.equal(apiPathOf("/~crew/relaysync/v1/health"), "/v1/health");
  assert.equal(apiPathOf("/v2"), "/v2");
  assert.equal(apiPathOf("/console/"), null);
  assert.equal(apiPathOf("/"), null);
});

test("the real openapi.json: no document faults, and a real answer checks", () => {
  const r = run(REAL, [{
    method: "GET", path: "/v1/health", status: 200,
    response_headers: [["Content-Type", "application/json"], ["X-Request-Id", "01JDF4B7C8D9E0F1G2H3J4K5MN"]],
    body: JSON.stringify(REAL.paths["/v1/health"].get.responses["200"].content["application/json"].example ??
      Object.values(REAL.paths["/v1/health"].get.responses["200"].content["application/json"].examples)[0].value),
  }, {
    method: "GET", path: "/v1/records", status: 401,
    response_headers: [["Content-Type", "application/problem+json"], ["X-Request-Id", "r"], ["WWW-Authenticate", "Bearer"]],
    body: JSON.stringify({ type: "https://relaysync.io/problems/forbidden", title: "Forbidden", status: 401, code: "forbidden", instance: "/v1/records", request_id: "r", detail: "x" }),
  }]);
  assert.deepEqual(r.result.docViolations, []);
  assert.equal(r.result.violations.length >= 1, true);
  assert.ok(r.result.violations.every((v) => v.line.startsWith("GET /v1/records -> 401")), r.lines.join("\n"));
  assert.ok(r.result.violations.some((v) => /problem code "forbidden" is not one/.test(v.line)));
});

test("a request the server took must be documented: its query parameters and its body", () => {
  const taken = (over) => ({
    method: "POST", path: "/v1/things", status: 204, body: "",
    response_headers: [["X-Request-Id", "r"]],
    request_headers: [["Content-Type", "application/json"]],
    request_body: JSON.stringify({ id: "a", n: 1 }), ...over,
  });
  let r = run(smallDoc(), [taken({})]);
  assert.deepEqual(r.result.violations, []);
  r = run(smallDoc(), [taken({ request_body: JSON.stringify({ id: "a", n: 1, more: 2 }) })]);
  assert.match(r.result.violations[0].line, /request: a body the request schema refuses was taken/);
  r = run(smallDoc(), [taken({ request_headers: [["Content-Type", "text/plain"]] })]);
  assert.match(r.result.violations[0].line, /request: Content-Type text\/plain was taken/);
  r = run(smallDoc(), [ex({ path: "/v1/things/t1?y=2" })]);
  assert.match(r.result.violations[0].line, /request: query parameter "y" was taken but is not documented/);
  // a refused request is not held against the document
  r = run(smallDoc(), [{ ...notFound("not_found"), path: "/v1/things/t1?y=2" }]);
  assert.deepEqual(r.result.violations, []);
});

test("a web server's own 404 (no X-Request-Id, not JSON) is skipped on a side server only", () => {
  const html404 = (main) => ({
    method: "GET", path: "/v1/health", status: 404, main, body: "<html></html>",
    response_headers: [["Content-Type", "text/html"]],
  });
  let r = run(smallDoc(), [ex(), html404(false)]);
  assert.deepEqual(r.result.violations, []);
  assert.equal(r.result.skipped, 1);
  r = run(smallDoc(), [html404(true)]);
  assert.equal(r.ok, false);
  assert.match(r.result.violations.map((v) => v.line).join("\n"), /required header X-Request-Id is missing/);
});
