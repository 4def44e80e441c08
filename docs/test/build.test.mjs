// docs/build.mjs: the page built from the real openapi/openapi.json lists
// every operation of the document and every endpoint of the product page,
// carries nothing the Content-Security-Policy would block, and is the same
// bytes on every build; a $ref that does not resolve fails the build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPage, DocsError } from "../build.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const DOCS = join(HERE, "..");
const ROOT = join(DOCS, "..");
const BUILD = join(DOCS, "build.mjs");
const OPENAPI = join(ROOT, "openapi", "openapi.json");

// The endpoints of the product page (a product fact: product-endpoints.json,
// which tests/integration/test_docs.py reads too).
export const PRODUCT_ENDPOINTS = JSON.parse(readFileSync(
	new URL("product-endpoints.json", import.meta.url), "utf8")).endpoints;

const tmp = mkdtempSync(join(tmpdir(), "docs-build-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(tmp, `out${++n}`);

function run(src, out) {
	return spawnSync(process.execPath, [BUILD, src, out], { encoding: "utf8" });
}

function unescape(s) {
	return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

// "METHOD path" of every operation heading on the page.
function headings(html) {
	const found = [];
	for (const m of html.matchAll(/<h3 class="op-title"><span class="method method-[a-z]+">([A-Z]+)<\/span> <code class="path">([^<]*)<\/code>/g)) {
		found.push(`${m[1]} ${unescape(m[2])}`);
	}
	return found;
}

function operations(items) {
	const ops = [];
	for (const [path, item] of Object.entries(items || {})) {
		for (const m of ["get", "put", "post", "delete", "options", "head", "patch", "trace"]) {
			if (item[m]) ops.push(`${m.toUpperCase()} ${path}`);
		}
	}
	return ops;
}

const realDoc = JSON.parse(readFileSync(OPENAPI, "utf8"));
const first = freshDir();
const built = run(OPENAPI, first);
const page = existsSync(join(first, "index.html")) ? readFileSync(join(first, "index.html"), "utf8") : "";

test("the build of openapi/openapi.json exits 0 and writes index.html and docs.css", () => {
	assert.equal(built.status, 0, built.stderr);
	assert.equal(built.stderr, "");
	assert.match(page, /^<!DOCTYPE html>\n<html lang="en">/);
	assert.deepEqual(readFileSync(join(first, "docs.css")), readFileSync(join(DOCS, "docs.css")));
});

test("the page shows every path and method of the document, each once, and every webhook", () => {
	const shown = headings(page);
	const want = [...operations(realDoc.paths), ...operations(realDoc.webhooks)];
	assert.ok(want.length >= 30, `only ${want.length} operations in the document?`);
	assert.deepEqual([...shown].sort(), [...want].sort());
	// And each is in the overview table and the contents, linked to its section.
	for (const op of operations(realDoc.paths)) {
		const [method, path] = op.split(" ");
		const escPath = path.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
		const link = new RegExp(`<span class="method method-${method.toLowerCase()}">${method}</span></td><td><a href="#([^"]+)"><code class="path">${escPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}</code></a>`);
		const m = link.exec(page);
		assert.ok(m, `${op} is not in the endpoint table`);
		assert.ok(page.includes(`<section class="op" id="${m[1]}">\n<h3 class="op-title"><span class="method method-${method.toLowerCase()}">${method}</span>`), `${op}: its link goes nowhere`);
	}
});

test("the page shows every endpoint of the product page", () => {
	const shown = new Set(headings(page));
	const missing = PRODUCT_ENDPOINTS.filter((e) => !shown.has(e));
	assert.deepEqual(missing, []);
});

test("operation anchors come from operationId", () => {
	for (const item of Object.values(realDoc.paths)) {
		for (const op of Object.values(item)) {
			if (op && typeof op === "object" && typeof op.operationId === "string" && /^[A-Za-z0-9_.-]+$/.test(op.operationId)) {
				assert.ok(page.includes(`<section class="op" id="op-${op.operationId}">`), op.operationId);
			}
		}
	}
});

test("nothing the CSP blocks: no script, no inline style, no style attribute, no handler, nothing external", () => {
	assert.doesNotMatch(page, /<script/i);
	assert.doesNotMatch(page, /<style/i);
	assert.doesNotMatch(page, /\sstyle\s*=/i);
	assert.doesNotMatch(page, /<[^>]*\son[a-z]+\s*=/i);
	assert.doesNotMatch(page, /\ssrc\s*=/i);
	const links = [...page.matchAll(/<link [^>]*>/g)].map((m) => m[0]);
	// The stylesheet, and an empty icon so that browsers ask for no favicon.
	assert.deepEqual(links, ['<link rel="stylesheet" href="docs.css">', '<link rel="icon" href="data:,">']);
	const css = readFileSync(join(DOCS, "docs.css"), "utf8");
	assert.doesNotMatch(css, /@import|url\(|@font-face/i);
});

// Only these tags and attributes: text of the document never becomes markup.
const TAGS = new Set(["html", "head", "meta", "title", "link", "body", "header", "nav", "main", "footer", "section",
	"div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody",
	"tr", "th", "td", "a", "code", "pre", "span", "strong", "em", "br", "hr", "blockquote"]);
const ATTRS = new Set(["lang", "charset", "name", "content", "rel", "href", "class", "id", "aria-label", "title", "start"]);
function assertMarkup(html) {
	const rest = html.replace(/^<!DOCTYPE html>\n/, "").replace(/<\/?([a-z][a-z0-9]*)((?:\s[a-z-]+="[^"<>]*")*)>/g, (m, tag, attrs) => {
		assert.ok(TAGS.has(tag), `tag <${tag}>`);
		for (const a of attrs.matchAll(/\s([a-z-]+)="[^"]*"/g)) assert.ok(ATTRS.has(a[1]), `attribute ${a[1]} in ${m}`);
		return "";
	});
	const stray = /[<>]/.exec(rest);
	assert.equal(stray, null, stray && `unescaped "${stray[0]}" near: ${rest.slice(Math.max(0, stray.index - 80), stray.index + 80)}`);
}

test("all text is escaped: only known tags and attributes, no raw < or > outside them", () => {
	assertMarkup(page);
	assertMarkup(buildPage(small, { quickstart: "# Q\n\n<b>x</b> `<y>` 1 > 0" }));
});

test("every in-page link has a target, and ids are unique", () => {
	const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
	const dup = ids.filter((id, k) => ids.indexOf(id) !== k);
	assert.deepEqual(dup, []);
	const have = new Set(ids);
	const broken = [...page.matchAll(/href="#([^"]*)"/g)].map((m) => m[1]).filter((id) => !have.has(id));
	assert.deepEqual([...new Set(broken)], []);
});

test("the page carries the description, the quick-start, the schemas, the streams and the webhooks", () => {
	assert.match(page, new RegExp(`<h1>${realDoc.info.title} <span class="version">${realDoc.info.version.replace(/\./g, "\\.")}</span></h1>`));
	assert.match(page, /<section class="intro" id="intro">/);
	assert.match(page, /<h3 id="intro-roles">Roles<\/h3>/, "the description's headings");
	assert.match(page, /<table class="md-table">/, "the description's table");
	assert.match(page, /<section class="quickstart" id="quick-start">/);
	for (const name of Object.keys(realDoc.components.schemas)) {
		assert.ok(page.includes(`<section class="schema-def" id="schema-${name}">`), `schema ${name}`);
	}
	assert.match(page, /<section class="streams" id="streams">[\s\S]*href="#op-streamAudit"[\s\S]*<\/section>/);
	assert.match(page, /<section class="webhooks" id="webhooks">/);
	assert.match(page, /text\/event-stream <span class="flag sse">Server-Sent Events<\/span>/);
});

test("the quick-start matches scripts/serve: its port, its key file, its demo org", () => {
	const serve = readFileSync(join(ROOT, "scripts", "serve"), "utf8");
	const port = /port=\$\{RELAYSYNC_PORT:-(\d+)\}/.exec(serve);
	assert.ok(port, "scripts/serve's default port");
	assert.match(serve, /org create demo\b/);
	assert.match(serve, /"\$var\/demo-admin\.key"/);
	assert.match(serve, /var=\$\{RELAYSYNC_VAR:-\$root\/var\}/);
	const qs = readFileSync(join(DOCS, "quickstart.md"), "utf8");
	assert.ok(qs.includes(`BASE=http://127.0.0.1:${port[1]}`), "the quick-start's base URL");
	assert.ok(qs.includes("$(cat var/demo-admin.key)"), "the quick-start reads the key file");
	assert.match(qs, /"\$BASE\/v1\/auth\/token"/);
	assert.match(qs, /-X POST "\$BASE\/v1\/records"/);
	assert.match(qs, /curl -s "\$BASE\/v1\/records\?limit=50"/);
	assert.ok(page.includes("BASE=http://127.0.0.1:" + port[1]), "the page carries the quick-start");
});

test("two builds of one document are byte-identical", () => {
	const second = freshDir();
	const again = run(OPENAPI, second);
	assert.equal(again.status, 0, again.stderr);
	assert.ok(readFileSync(join(second, "index.html")).equals(readFileSync(join(first, "index.html"))));
	assert.ok(readFileSync(join(second, "docs.css")).equals(readFileSync(join(first, "docs.css"))));
});

test("an in-tree build (OUTDIR is docs/ itself) keeps docs.css whole", () => {
	const copy = join(tmp, "intree");
	mkdirSync(copy);
	for (const f of ["build.mjs", "markdown.mjs", "docs.css", "quickstart.md"]) copyFileSync(join(DOCS, f), join(copy, f));
	const r = spawnSync(process.execPath, [join(copy, "build.mjs"), OPENAPI, copy], { encoding: "utf8" });
	assert.equal(r.status, 0, r.stderr);
	assert.ok(readFileSync(join(copy, "docs.css")).equals(readFileSync(join(DOCS, "docs.css"))));
	assert.ok(readFileSync(join(copy, "index.html")).equals(readFileSync(join(first, "index.html"))));
});

function brokenBuild(mutate) {
	const doc = structuredClone(realDoc);
	mutate(doc);
	const src = join(tmp, `broken${++n}.json`);
	writeFileSync(src, JSON.stringify(doc));
	const out = freshDir();
	const r = run(src, out);
	return { r, out };
}

test("a $ref that does not resolve fails the build, naming it and where it is, and writes nothing", () => {
	const { r, out } = brokenBuild((doc) => {
		doc.paths["/v1/records"].post.requestBody.content["application/json"].schema = { $ref: "#/components/schemas/NoSuchSchema" };
	});
	assert.equal(r.status, 1);
	assert.match(r.stderr, /unresolvable \$ref/);
	assert.match(r.stderr, /#\/paths\/~1v1~1records\/post\/requestBody\/content\/application~1json\/schema\/\$ref: \$ref "#\/components\/schemas\/NoSuchSchema" does not resolve/);
	assert.equal(existsSync(join(out, "index.html")), false);
});

test("an unresolvable $ref fails the build even where the page would not follow it", () => {
	const { r: unused } = brokenBuild((doc) => {
		doc.components.schemas.Unused = { type: "object", properties: { x: { $ref: "#/components/schemas/Gone" } } };
	});
	assert.equal(unused.status, 1);
	assert.match(unused.stderr, /#\/components\/schemas\/Unused\/properties\/x\/\$ref: \$ref "#\/components\/schemas\/Gone" does not resolve/);
	const { r: external } = brokenBuild((doc) => {
		doc.paths["/v1/health"].get.responses["200"] = { $ref: "common.json#/responses/Ok" };
	});
	assert.equal(external.status, 1);
	assert.match(external.stderr, /points outside this document/);
	const { r: header } = brokenBuild((doc) => {
		doc.paths["/v1/health"].get.parameters = [{ $ref: "#/components/parameters/Nope" }];
	});
	assert.equal(header.status, 1);
	assert.match(header.stderr, /#\/components\/parameters\/Nope/);
});

test("a \"$ref\" member inside an example is data, not a reference", () => {
	const { r } = brokenBuild((doc) => {
		doc.paths["/v1/records"].post.requestBody.content["application/json"].examples.seed.value.data = { $ref: "#/nowhere" };
	});
	assert.equal(r.status, 0, r.stderr);
});

test("bad input: usage, unreadable file, invalid JSON, not OpenAPI 3", () => {
	const usage = spawnSync(process.execPath, [BUILD, OPENAPI], { encoding: "utf8" });
	assert.equal(usage.status, 2);
	assert.match(usage.stderr, /usage: node docs\/build\.mjs OPENAPI_JSON OUTDIR/);
	const missing = run(join(tmp, "nope.json"), freshDir());
	assert.equal(missing.status, 1);
	assert.match(missing.stderr, /cannot read/);
	const bad = join(tmp, "bad.json");
	writeFileSync(bad, "{\"openapi\": ");
	const invalid = run(bad, freshDir());
	assert.equal(invalid.status, 1);
	assert.match(invalid.stderr, /is not valid JSON/);
	const swagger = join(tmp, "swagger.json");
	writeFileSync(swagger, JSON.stringify({ swagger: "2.0", info: { title: "x", version: "1" }, paths: {} }));
	const old = run(swagger, freshDir());
	assert.equal(old.status, 1);
	assert.match(old.stderr, /not an OpenAPI 3\.x document/);
});

// ------------------------------------------------------------ a small document

const small = {
	openapi: "3.1.0",
	info: { title: "T <i>", version: "2.0", summary: "S & co", description: "Hello <script>alert(1)</script> **there**.\n\n## Part" },
	security: [{ bearer: [] }],
	tags: [{ name: "things", description: "The *things*." }],
	paths: {
		"/v1/things/{id}": {
			parameters: [{ name: "id", in: "path", required: true, description: "Path-level id.", schema: { type: "string" } }],
			patch: {
				operationId: "patchThing",
				tags: ["things"],
				summary: "Change a <thing>",
				"x-roles": ["admin"],
				parameters: [
					{ name: "If-Match", in: "header", required: false, description: "Causal token.", schema: { type: "string" }, example: '"01ABC"' },
					{ name: "verbose", in: "query", schema: { type: "boolean", default: false } },
				],
				requestBody: {
					required: true,
					content: {
						"application/json": {
							schema: { $ref: "#/components/schemas/ThingPatch" },
							example: { name: "n", tags: ["a"] },
						},
					},
				},
				responses: {
					200: { description: "The thing.", headers: { ETag: { description: "Its tag.", schema: { type: "string" } } },
						content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
					409: { description: "Lost.", "x-problem-codes": { causal_conflict: "stale token" },
						content: { "application/problem+json": {
							schema: { allOf: [{ $ref: "#/components/schemas/Problem" }, { properties: { code: { enum: ["causal_conflict", "thing_locked"] } } }] },
							examples: { a: { summary: "Stale", value: { code: "from_example", status: 409 } } } } } },
				},
			},
		},
		"/v1/stream": {
			get: {
				summary: "Follow",
				security: [],
				responses: { 200: { description: "Frames.", content: { "text/event-stream": { schema: { type: "string" }, example: "id: 1\ndata: {}\n\n",
					"x-sse-events": { tick: { $ref: "#/components/schemas/Circle" } } } } } },
			},
		},
	},
	webhooks: {
		"thing.changed": { post: { operationId: "hookThing", requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
			responses: { 200: { description: "OK" } } } },
	},
	components: {
		securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A token." } },
		schemas: {
			Problem: { type: "object", required: ["code"], properties: { code: { type: "string" }, status: { type: "integer" } } },
			Thing: {
				type: "object",
				required: ["id", "kind"],
				additionalProperties: false,
				properties: {
					id: { type: "string", pattern: "^thg_", maxLength: 64 },
					kind: { type: "string", enum: ["a", "b"] },
					note: { type: ["string", "null"], description: "A <note> or null." },
					parent: { $ref: "#/components/schemas/Thing" },
					extra: { type: "object", additionalProperties: { type: "integer", minimum: 0 } },
					shape: { oneOf: [{ $ref: "#/components/schemas/Circle" }, { type: "object", title: "Square", properties: { side: { type: "number" } } }] },
				},
			},
			Circle: { type: "object", properties: { r: { type: "number", exclusiveMinimum: 0 } }, unevaluatedProperties: false },
			ThingPatch: {
				allOf: [
					{ $ref: "#/components/schemas/Base" },
					{ type: "object", required: ["name"], properties: { name: { type: "string", minLength: 1, maxLength: 10 }, tags: { type: "array", items: { type: "string" }, uniqueItems: true } } },
				],
			},
			Base: { type: "object", properties: { causal: { type: "string", description: "Base member." } } },
		},
	},
};

test("a small document: structure, escaping, schemas, problem codes, streams, webhooks", () => {
	const html = buildPage(small, { quickstart: "# Quick start\n\nRun `it`." });
	assert.doesNotMatch(html, /<script|<style|\sstyle=|<i>/i);
	assert.match(html, /<title>T &lt;i&gt; 2\.0: API reference<\/title>/);
	assert.match(html, /Hello &lt;script&gt;alert\(1\)&lt;\/script&gt; <strong>there<\/strong>\./);
	assert.match(html, /<h3 id="intro-part">Part<\/h3>/);
	assert.match(html, /<section class="quickstart" id="quick-start">\n<h2 id="qs-quick-start">Quick start<\/h2>\n<p>Run <code>it<\/code>\.<\/p>/);
	// The operation: badge, path, summary escaped, roles, auth, merged parameters.
	assert.match(html, /<section class="op" id="op-patchThing">\n<h3 class="op-title"><span class="method method-patch">PATCH<\/span> <code class="path">\/v1\/things\/\{id\}<\/code><\/h3>\n<p class="op-summary">Change a &lt;thing&gt;<\/p>/);
	assert.match(html, /Authentication: <code>bearer<\/code><\/li><li>Roles: <span class="role">admin<\/span>/);
	assert.match(html, /<h4>Path parameters<\/h4>[\s\S]*<code class="name">id<\/code>[\s\S]*Path-level id\./);
	assert.match(html, /<h4>Query parameters<\/h4>[\s\S]*<code class="name">verbose<\/code><\/td><td><span class="type">boolean<\/span><\/td><td><span class="flag opt">optional<\/span><\/td><td><div class="facts">default <code>false<\/code>/);
	assert.match(html, /<h4>Request headers<\/h4>[\s\S]*<code class="name">If-Match<\/code>[\s\S]*example <code>&quot;01ABC&quot;<\/code>/);
	// The request body: allOf merged into one member list, with its origin.
	const body = html.slice(html.indexOf("<h4>Request body"), html.indexOf("<h4>Responses"));
	assert.match(body, /<span class="flag req">required<\/span><\/h4>/);
	assert.match(body, /Schema <a href="#schema-ThingPatch">ThingPatch<\/a>: <span class="type">object<\/span>/);
	assert.match(body, /Includes <a href="#schema-Base">Base<\/a>\./);
	assert.match(body, /<code class="name">causal<\/code> <span class="type">string<\/span><\/div><div class="desc"><p>Base member\.<\/p><\/div>/);
	assert.match(body, /<code class="name">name<\/code> <span class="type">string<\/span> <span class="flag req">required<\/span><\/div><div class="facts">1–10 characters<\/div>/);
	assert.match(body, /<code class="name">tags<\/code> <span class="type">array of string<\/span><\/div><div class="facts">unique items<\/div>/);
	assert.match(body, /<pre><code class="language-json">\{\n  &quot;name&quot;: &quot;n&quot;,\n  &quot;tags&quot;: \[\n    &quot;a&quot;\n  \]\n\}<\/code><\/pre>/);
	// The 200: a recursive schema stops, enum, nullable, additionalProperties, oneOf.
	const ok = html.slice(html.indexOf('<span class="status status-2xx">200'), html.indexOf('<span class="status status-4xx">409'));
	assert.match(ok, /<code class="name">ETag<\/code>/);
	assert.match(ok, /<code class="name">kind<\/code> <span class="type">string<\/span> <span class="flag req">required<\/span><\/div><div class="facts">one of <code>&quot;a&quot;<\/code>, <code>&quot;b&quot;<\/code><\/div>/);
	assert.match(ok, /<code class="name">note<\/code> <span class="type">string \| null<\/span> <span class="flag null">nullable<\/span><\/div><div class="desc"><p>A &lt;note&gt; or null\.<\/p>/);
	assert.match(ok, /<code class="name">parent<\/code> <span class="type"><a href="#schema-Thing">Thing<\/a><\/span><\/div><p class="schema-note">Recursive: <a href="#schema-Thing">Thing<\/a>\.<\/p>/);
	assert.match(ok, /<span class="member-label">any other member<\/span> <span class="type">integer<\/span><\/div><div class="facts">≥ 0<\/div>/);
	assert.match(ok, /Exactly one of:[\s\S]*<a href="#schema-Circle">Circle<\/a>[\s\S]*<code class="name">r<\/code> <span class="type">number<\/span><\/div><div class="facts">&gt; 0<\/div>[\s\S]*<span class="alt-name">Square<\/span>/);
	assert.match(ok, /No other members are allowed\./);
	// The 409: codes from the extension, the schema's enum and the examples.
	assert.match(html, /Problem codes: <code>causal_conflict<\/code> \(stale token\), <code>thing_locked<\/code>, <code>from_example<\/code><\/div>/);
	// The stream: no authentication, badge, the example as text.
	assert.match(html, /<h3 class="op-title"><span class="method method-get">GET<\/span> <code class="path">\/v1\/stream<\/code> <span class="flag sse">stream<\/span><\/h3>/);
	assert.match(html, /<li>Authentication: none<\/li>/);
	assert.match(html, /<pre><code class="language-sse">id: 1\ndata: \{\}\n\n<\/code><\/pre>/);
	assert.match(html, /<tr><td><code class="name">tick<\/code><\/td><td><span class="type"><a href="#schema-Circle">Circle<\/a><\/span><\/td>/);
	// An error answer made of named schemas is one line, not the whole tree again.
	const lost = html.slice(html.indexOf('<span class="status status-4xx">409'), html.indexOf("</section>", html.indexOf('<span class="status status-4xx">409')));
	assert.match(lost, /<div class="schema"><div class="schema-head">Schema <a href="#schema-Problem">Problem<\/a><\/div><\/div>/);
	assert.doesNotMatch(lost, /<ul class="tree">/);
	const circle = html.slice(html.indexOf('<section class="schema-def" id="schema-Circle">'));
	assert.match(circle.slice(0, circle.indexOf("</section>")), /No other members are allowed\./);
	assert.match(html, /<section class="tag" id="tag-other">\n<h2>Other<\/h2>/);
	assert.match(html, /<section class="streams" id="streams">/);
	// The webhook and the schemas section.
	assert.match(html, /<section class="webhooks" id="webhooks">[\s\S]*<section class="op" id="webhook-hookThing">\n<h3 class="op-title"><span class="method method-post">POST<\/span> <code class="path">thing\.changed<\/code>/);
	// The document's bearer security is the API's, not the webhook's.
	const hook = html.slice(html.indexOf('<section class="op" id="webhook-hookThing">'));
	assert.doesNotMatch(hook.slice(0, hook.indexOf("</section>")), /Authentication/);
	for (const name of ["Problem", "Thing", "Circle", "ThingPatch", "Base"]) assert.match(html, new RegExp(`<section class="schema-def" id="schema-${name}">`));
	assert.match(html, /<dt><code>bearer<\/code> <span class="type">http, bearer<\/span><\/dt><dd><p>A token\.<\/p><\/dd>/);
});

test("buildPage refuses an unresolvable $ref with a DocsError", () => {
	const doc = structuredClone(small);
	doc.components.schemas.Thing.properties.parent.$ref = "#/components/schemas/Thingy";
	assert.throws(() => buildPage(doc), (e) => e instanceof DocsError && /Thingy/.test(e.message));
	const cyc = structuredClone(small);
	cyc.components.schemas.A = { $ref: "#/components/schemas/B" };
	cyc.components.schemas.B = { $ref: "#/components/schemas/A" };
	assert.throws(() => buildPage(cyc), (e) => e instanceof DocsError && /cycle/.test(e.message));
});
