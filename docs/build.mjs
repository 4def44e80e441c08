#!/usr/bin/env node
// docs/build.mjs: the API docs page, built from an OpenAPI 3.x document.
//
//   node docs/build.mjs path/to/openapi.json OUTDIR
//
// writes OUTDIR/index.html and copies docs/docs.css to OUTDIR/docs.css.
// No dependencies (Node >= 18). The page is static: no script, no inline
// style and no style attribute (it is served under
// "default-src 'none'; style-src 'self'; ..."), and it loads nothing but
// docs.css. The quick-start comes from docs/quickstart.md.
//
// Every $ref of the document must resolve (local "#/..." pointers only):
// otherwise nothing is written and the exit status is 1, naming the $ref
// and where it is. The output depends only on the inputs (two builds of one
// document are byte-identical).

import { readFileSync, writeFileSync, mkdirSync, copyFileSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { escapeHtml, renderInline, renderMarkdown, slugify } from "./markdown.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const MAX_DEPTH = 12;

export class DocsError extends Error {}

const esc = escapeHtml;
const md = (text, opts) => (text ? renderMarkdown(String(text), opts) : "");

// ------------------------------------------------------------ $ref

function unescapePointer(token) {
	return decodeURIComponent(token).replace(/~1/g, "/").replace(/~0/g, "~");
}

function pointerGet(doc, ref) {
	if (typeof ref !== "string" || !ref.startsWith("#")) return undefined;
	if (ref === "#" || ref === "#/") return doc;
	if (!ref.startsWith("#/")) return undefined;
	let cur = doc;
	for (const raw of ref.slice(2).split("/")) {
		let token;
		try { token = unescapePointer(raw); } catch { return undefined; }
		if (cur === null || typeof cur !== "object" || !Object.prototype.hasOwnProperty.call(cur, token)) return undefined;
		cur = cur[token];
	}
	return cur;
}

// Every $ref in the document, checked before anything is rendered. Example
// values are data, not OpenAPI: a "$ref" member inside one is not a
// reference and is not followed.
export function checkRefs(doc) {
	const bad = [];
	const walk = (node, where) => {
		if (Array.isArray(node)) { node.forEach((v, k) => walk(v, `${where}/${k}`)); return; }
		if (node === null || typeof node !== "object") return;
		for (const [key, val] of Object.entries(node)) {
			const here = `${where}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
			if (key === "$ref") {
				if (typeof val !== "string") bad.push(`${here}: $ref is not a string`);
				else if (!val.startsWith("#")) bad.push(`${here}: $ref "${val}" points outside this document (only "#/..." references are supported)`);
				else if (pointerGet(doc, val) === undefined) bad.push(`${here}: $ref "${val}" does not resolve`);
				continue;
			}
			if (key === "example" || key === "const" || key === "default" || key === "enum") continue;
			if (key === "examples") {
				if (Array.isArray(val)) continue; // a schema's examples: data
				if (val && typeof val === "object") {
					for (const [name, ex] of Object.entries(val)) {
						if (ex && typeof ex === "object" && typeof ex.$ref === "string") walk({ $ref: ex.$ref }, `${here}/${name}`);
					}
				}
				continue;
			}
			walk(val, here);
		}
	};
	walk(doc, "#");
	if (bad.length) throw new DocsError("unresolvable $ref:\n  " + bad.join("\n  "));
}

// Follows $ref chains; sibling keywords of a $ref (OpenAPI 3.1) are laid
// over the target. Returns {node, name} where name is the last
// components/schemas name passed through, if any.
function deref(doc, node, seen = new Set()) {
	let name;
	while (node && typeof node === "object" && typeof node.$ref === "string") {
		if (seen.has(node.$ref)) throw new DocsError(`$ref cycle through "${node.$ref}"`);
		seen.add(node.$ref);
		const m = /^#\/components\/schemas\/([^/]+)$/.exec(node.$ref);
		if (m) name = unescapePointer(m[1]);
		const target = pointerGet(doc, node.$ref);
		if (target === undefined) throw new DocsError(`$ref "${node.$ref}" does not resolve`);
		const { $ref, ...siblings } = node;
		node = Object.keys(siblings).length && target && typeof target === "object" && !Array.isArray(target)
			? { ...target, ...siblings } : target;
		if (Object.keys(siblings).length && typeof node.$ref === "string" && node.$ref === $ref) break;
	}
	return { node, name };
}

// ------------------------------------------------------------ schemas

// Anchor ids: the name itself when it is a plain token, else its slug and
// a short hash of it (so that two names with one slug stay apart).
function idPart(name) {
	const s = String(name);
	return /^[A-Za-z0-9_.-]+$/.test(s) ? s : slugify(s) + "-" + hashName(s);
}
const schemaAnchor = (name) => "schema-" + idPart(name);

// A short stable suffix so that two names with one slug stay apart.
function hashName(s) {
	let h = 2166136261;
	for (const c of String(s)) { h ^= c.codePointAt(0); h = Math.imul(h, 16777619) >>> 0; }
	return (h % 46656).toString(36).padStart(3, "0");
}

function typeList(s) {
	if (!s || typeof s !== "object") return [];
	const t = Array.isArray(s.type) ? s.type.slice() : s.type ? [s.type] : [];
	if (s.nullable === true && !t.includes("null")) t.push("null");
	return t;
}

function jsonInline(v) {
	return JSON.stringify(v);
}

// A one-line type for tables: "string", "integer | null", "array of Record".
function typeLabel(doc, schema, depth = 0) {
	if (schema === true || schema === undefined) return "any";
	if (schema === false) return "nothing";
	const { node: s, name } = deref(doc, schema);
	if (!s || typeof s !== "object") return "any";
	if (name && depth > 0) return name;
	let types = typeList(s);
	const parts = [];
	if (!types.length) {
		const jt = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
		if (s.const !== undefined) return jt(s.const);
		if (Array.isArray(s.enum)) return [...new Set(s.enum.map(jt))].join(" | ") || "any";
		if (s.properties) types = ["object"];
		else if (s.items) types = ["array"];
	}
	for (const t of types) {
		if (t === "array" && s.items && depth < 3) parts.push("array of " + typeLabel(doc, s.items, depth + 1));
		else if (t === "string" && s.format) parts.push(`string (${s.format})`);
		else parts.push(t);
	}
	for (const k of ["oneOf", "anyOf"]) {
		if (Array.isArray(s[k]) && !parts.length) parts.push(s[k].map((x) => typeLabel(doc, x, depth + 1)).join(" | "));
	}
	if (Array.isArray(s.allOf) && !parts.length) {
		const m = mergeAllOf(doc, s, []);
		const mt = m ? typeList(m) : [];
		if (m && (mt.length || m.properties)) parts.push(mt.length ? mt.join(" | ") : "object");
		else parts.push(s.allOf.map((x) => typeLabel(doc, x, depth + 1)).join(" & "));
	}
	if (name && depth === 0) return parts.length ? `${name} (${parts.join(" | ")})` : name;
	return parts.join(" | ") || "any";
}

// The facts of one schema node that fit on a line.
function constraints(doc, s, { rawStrings = false } = {}) {
	const c = [];
	const show = (v) => (rawStrings && typeof v === "string" ? v : jsonInline(v));
	if (s.const !== undefined) c.push(`always <code>${esc(jsonInline(s.const))}</code>`);
	if (Array.isArray(s.enum)) c.push("one of " + s.enum.map((v) => `<code>${esc(jsonInline(v))}</code>`).join(", "));
	if (s.format) c.push(`format ${esc(s.format)}`);
	if (s.contentMediaType) c.push(`contains ${esc(s.contentMediaType)}`);
	if (s.minLength !== undefined && s.maxLength !== undefined) c.push(esc(`${s.minLength}–${s.maxLength} characters`));
	else if (s.minLength !== undefined) c.push(esc(`at least ${s.minLength} characters`));
	else if (s.maxLength !== undefined) c.push(esc(`at most ${s.maxLength} characters`));
	const lo = s.exclusiveMinimum !== undefined && typeof s.exclusiveMinimum === "number" ? `> ${s.exclusiveMinimum}`
		: s.minimum !== undefined ? (s.exclusiveMinimum === true ? `> ${s.minimum}` : `≥ ${s.minimum}`) : null;
	const hi = s.exclusiveMaximum !== undefined && typeof s.exclusiveMaximum === "number" ? `< ${s.exclusiveMaximum}`
		: s.maximum !== undefined ? (s.exclusiveMaximum === true ? `< ${s.maximum}` : `≤ ${s.maximum}`) : null;
	if (lo || hi) c.push(esc([lo, hi].filter(Boolean).join(", ")));
	if (s.multipleOf !== undefined) c.push(`multiple of ${esc(s.multipleOf)}`);
	if (s.minItems !== undefined && s.maxItems !== undefined) c.push(esc(`${s.minItems}–${s.maxItems} items`));
	else if (s.minItems !== undefined) c.push(esc(`at least ${s.minItems} items`));
	else if (s.maxItems !== undefined) c.push(esc(`at most ${s.maxItems} items`));
	if (s.uniqueItems) c.push("unique items");
	if (s.minProperties !== undefined) c.push(esc(`at least ${s.minProperties} members`));
	if (s.maxProperties !== undefined) c.push(esc(`at most ${s.maxProperties} members`));
	if (s.pattern) c.push(`pattern <code>${esc(s.pattern)}</code>`);
	if (s.default !== undefined) c.push(`default <code>${esc(show(s.default))}</code>`);
	if (s.readOnly) c.push("read-only");
	if (s.writeOnly) c.push("write-only");
	if (s.deprecated) c.push("deprecated");
	// A short example fits on the line; a long one (a whole object) would
	// drown it, and the operation's own examples show such values in full.
	const ex = Array.isArray(s.examples) ? s.examples[0] : s.example;
	if (ex !== undefined && show(ex).length <= 120) c.push(`example <code>${esc(show(ex))}</code>`);
	return c;
}

// allOf parts that are objects are merged into one member list; the names
// of the $ref'd parts are kept ("includes Problem").
function mergeAllOf(doc, s, stack) {
	const merged = { ...s };
	delete merged.allOf;
	const includes = [];
	const props = {}, required = new Set(Array.isArray(s.required) ? s.required : []);
	let mergeable = true;
	const parts = [];
	for (const part of s.allOf) {
		const { node, name } = deref(doc, part);
		if (name && stack.includes(name)) { mergeable = false; break; }
		let p = node;
		if (p && typeof p === "object" && Array.isArray(p.allOf)) p = mergeAllOf(doc, p, name ? [...stack, name] : stack);
		if (!p || typeof p !== "object" || p.oneOf || p.anyOf || p.not) { mergeable = false; break; }
		parts.push({ p, name });
	}
	if (!mergeable) return null;
	for (const { p, name } of parts) {
		if (name) includes.push(name);
		if (p._includes) includes.push(...p._includes);
		Object.assign(props, p.properties || {});
		for (const r of p.required || []) required.add(r);
		for (const [k, v] of Object.entries(p)) {
			if (k === "properties" || k === "required" || k === "_includes") continue;
			if (k === "description" && merged.description !== undefined) continue;
			if (merged[k] === undefined) merged[k] = v;
		}
	}
	Object.assign(props, s.properties || {});
	if (Object.keys(props).length) merged.properties = props;
	if (required.size) merged.required = [...required];
	merged._includes = includes;
	return merged;
}

// A member tree: <ul class="tree"> of members, each with its type, whether
// it is required, its constraints and description, and its own members.
function schemaBody(doc, schema, stack, depth, { hideIncludes = [] } = {}) {
	if (schema === true || schema === undefined) return '<p class="schema-note">Any JSON value.</p>';
	if (schema === false) return '<p class="schema-note">No value is allowed.</p>';
	if (depth > MAX_DEPTH) return '<p class="schema-note">(nested too deep to show)</p>';
	let { node: s, name } = deref(doc, schema);
	if (!s || typeof s !== "object") return "";
	if (name && stack.includes(name)) {
		return `<p class="schema-note">Recursive: <a href="#${schemaAnchor(name)}">${esc(name)}</a>.</p>`;
	}
	if (name) stack = [...stack, name];
	if (Array.isArray(s.allOf)) {
		const m = mergeAllOf(doc, s, stack);
		if (m) s = m;
	}
	const out = [];
	const includes = (s._includes || []).filter((n) => !hideIncludes.includes(n));
	if (includes.length) {
		out.push(`<p class="schema-note">Includes ${includes.map((n) => `<a href="#${schemaAnchor(n)}">${esc(n)}</a>`).join(", ")}.</p>`);
	}
	const types = typeList(s);
	const isObject = types.includes("object") || (!types.length && (s.properties || s.additionalProperties !== undefined));
	if (s.properties && typeof s.properties === "object") {
		const req = new Set(Array.isArray(s.required) ? s.required : []);
		const items = Object.entries(s.properties).map(([prop, ps]) => member(doc, prop, ps, req.has(prop), stack, depth));
		out.push(`<ul class="tree">\n${items.join("\n")}\n</ul>`);
	}
	if (Array.isArray(s.required)) {
		const missing = s.required.filter((r) => !s.properties || !(r in s.properties));
		if (missing.length) out.push(`<p class="schema-note">Required: ${missing.map((r) => `<code>${esc(r)}</code>`).join(", ")}.</p>`);
	}
	if (s.patternProperties && typeof s.patternProperties === "object") {
		const items = Object.entries(s.patternProperties).map(([pat, ps]) =>
			member(doc, `/${pat}/`, ps, false, stack, depth, "members whose name matches"));
		out.push(`<ul class="tree">\n${items.join("\n")}\n</ul>`);
	}
	if (s.additionalProperties === false || (s.unevaluatedProperties === false && s.additionalProperties === undefined)) {
		if (isObject || s.unevaluatedProperties === false) out.push('<p class="schema-note">No other members are allowed.</p>');
	} else if (s.additionalProperties && typeof s.additionalProperties === "object") {
		out.push(`<ul class="tree">\n${member(doc, "*", s.additionalProperties, false, stack, depth, "any other member")}\n</ul>`);
	} else if (s.additionalProperties === true && s.properties) {
		out.push('<p class="schema-note">Other members may appear.</p>');
	}
	if (s.items !== undefined && !Array.isArray(s.items) && itemsNeedTree(doc, s.items)) {
		out.push(`<ul class="tree">\n${member(doc, "[ ]", s.items, false, stack, depth, "each item")}\n</ul>`);
	}
	const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : null;
	if (tuple) {
		out.push(`<ul class="tree">\n${tuple.map((it, k) => member(doc, `[${k}]`, it, true, stack, depth, `item ${k}`)).join("\n")}\n</ul>`);
	}
	for (const [k, word] of [["oneOf", "Exactly one of"], ["anyOf", "At least one of"], ["allOf", "All of"]]) {
		if (!Array.isArray(s[k])) continue;
		const opts = s[k].map((alt, n) => {
			const { node: a, name: an } = deref(doc, alt);
			const title = an ? `<a href="#${schemaAnchor(an)}">${esc(an)}</a>` : esc((a && a.title) || `option ${n + 1}`);
			return `<li class="alt"><span class="alt-name">${title}</span> <span class="type">${esc(typeLabel(doc, a))}</span>` +
				`${a && a.description && !an ? `<div class="desc">${md(a.description)}</div>` : ""}` +
				`${schemaBody(doc, alt, stack, depth + 1)}</li>`;
		});
		out.push(`<p class="schema-note">${word}:</p>\n<ul class="tree alts">\n${opts.join("\n")}\n</ul>`);
	}
	if (s.not !== undefined) out.push(`<p class="schema-note">Must not match:</p>${schemaBody(doc, s.not, stack, depth + 1)}`);
	if (s.contentSchema !== undefined) {
		out.push(`<p class="schema-note">The string holds ${esc(s.contentMediaType || "a document")} of this shape:</p>${schemaBody(doc, s.contentSchema, stack, depth + 1)}`);
	}
	if (s.discriminator && s.discriminator.propertyName) {
		out.push(`<p class="schema-note">Told apart by member <code>${esc(s.discriminator.propertyName)}</code>.</p>`);
	}
	return out.join("\n");
}

function member(doc, prop, ps, required, stack, depth, label) {
	const { node: s, name } = deref(doc, ps);
	const raw = ps && typeof ps === "object" ? ps : {};
	let shown = s && typeof s === "object" ? s : {};
	let link = name;
	// A member that is allOf one named schema plus its own keywords (a
	// default, a description) reads as that schema.
	if (Array.isArray(shown.allOf) && !(name && stack.includes(name))) {
		const m = mergeAllOf(doc, shown, name ? [...stack, name] : stack);
		if (m) {
			if (!link && m._includes.length === 1) link = m._includes[0];
			shown = m;
		}
	}
	const desc = raw.description !== undefined ? raw.description : shown.description;
	const types = typeList(shown);
	const facts = constraints(doc, shown);
	const head = [
		label ? `<span class="member-label">${esc(label)}</span>` : `<code class="name">${esc(prop)}</code>`,
		`<span class="type">${link ? `<a href="#${schemaAnchor(link)}">${esc(link)}</a>${name ? "" : typeList(shown).length ? " " + esc(typeList(shown).join(" | ")) : ""}` : esc(typeLabel(doc, shown))}</span>`,
		required ? '<span class="flag req">required</span>' : "",
		types.includes("null") ? '<span class="flag null">nullable</span>' : "",
	].filter(Boolean).join(" ");
	const body = [];
	if (facts.length) body.push(`<div class="facts">${facts.join("; ")}</div>`);
	if (desc) body.push(`<div class="desc">${md(desc)}</div>`);
	// Nested structure (an object's members, an array's items, alternatives).
	const nested = (shown.properties || (shown.items !== undefined && itemsNeedTree(doc, shown.items)) || shown.prefixItems || shown.allOf || shown.oneOf ||
		shown.anyOf || shown.not !== undefined || shown.contentSchema !== undefined || shown.patternProperties ||
		(shown.additionalProperties && typeof shown.additionalProperties === "object"))
		? schemaBody(doc, ps, stack, depth + 1, { hideIncludes: link && !name ? [link] : [] }) : "";
	if (nested) body.push(nested);
	return `<li><div class="member-head">${head}</div>${body.join("\n")}</li>`;
}

// An array's items get their own line unless they are a plain type
// already said by "array of ...".
function itemsNeedTree(doc, items) {
	if (items === true || items === false || Array.isArray(items)) return true;
	const { node: it, name } = deref(doc, items);
	if (!it || typeof it !== "object") return false;
	if (name) return true;
	return Boolean(it.properties || it.items || it.allOf || it.oneOf || it.anyOf || it.description ||
		constraints(doc, it).length || (it.additionalProperties && typeof it.additionalProperties === "object"));
}

// A schema in full: its type line, facts, description and members.
function schemaBlock(doc, schema, { withDescription = true } = {}) {
	const { node: s, name } = deref(doc, schema);
	const shown = s && typeof s === "object" ? s : {};
	const parts = [];
	const label = name ? `<a href="#${schemaAnchor(name)}">${esc(name)}</a>` : "";
	const tl = typeLabel(doc, shown);
	parts.push(`<div class="schema-head">${label ? `Schema ${label}: ` : ""}<span class="type">${esc(tl)}</span>` +
		`${typeList(shown).includes("null") ? ' <span class="flag null">nullable</span>' : ""}</div>`);
	const facts = constraints(doc, shown);
	if (facts.length) parts.push(`<div class="facts">${facts.join("; ")}</div>`);
	if (withDescription && shown.description && !name) parts.push(`<div class="desc">${md(shown.description)}</div>`);
	parts.push(schemaBody(doc, schema, [], 0));
	return `<div class="schema">${parts.join("\n")}</div>`;
}

// ------------------------------------------------------------ examples

function isJsonMedia(mt) {
	return /^application\/(.+\+)?json\b/i.test(mt) || /\+json\b/i.test(mt);
}

function exampleText(value, mediaType) {
	if (typeof value === "string") {
		if (mediaType && (isJsonMedia(mediaType) || /x-www-form-urlencoded/.test(mediaType))) {
			try { return JSON.stringify(JSON.parse(value), null, 2); } catch { /* not JSON: as is */ }
		}
		return value;
	}
	return JSON.stringify(value, null, 2);
}

function examplesHtml(doc, holder, mediaType) {
	if (!holder || typeof holder !== "object") return "";
	const list = [];
	if (holder.example !== undefined) list.push({ title: "Example", value: holder.example });
	if (holder.examples && typeof holder.examples === "object" && !Array.isArray(holder.examples)) {
		for (const [key, ex0] of Object.entries(holder.examples)) {
			const { node: ex } = deref(doc, ex0);
			if (!ex || typeof ex !== "object") continue;
			if (ex.value === undefined && !ex.externalValue) continue;
			list.push({ title: ex.summary || key, description: ex.description, value: ex.value, external: ex.externalValue });
		}
	}
	if (!list.length) return "";
	const lang = mediaType && isJsonMedia(mediaType) ? "json" : mediaType === "text/event-stream" ? "sse" : "text";
	return list.map((ex) => {
		const body = ex.external !== undefined && ex.value === undefined
			? `<p>At <code>${esc(ex.external)}</code>.</p>`
			: `<pre><code class="language-${lang}">${esc(exampleText(ex.value, mediaType))}</code></pre>`;
		return `<div class="example"><div class="example-title">${renderInline(ex.title)}</div>` +
			`${ex.description ? md(ex.description) : ""}${body}</div>`;
	}).join("\n");
}

// ------------------------------------------------------------ problem codes

// The problem codes a response names: a `code` member's const or enum in
// its schema (through allOf/oneOf/anyOf and $ref), each example's `code`,
// and an x-problem-codes list (or map of code to description) on the
// response or media type.
function problemCodes(doc, response) {
	const codes = new Map();
	const add = (c, d) => { if (typeof c === "string" && !codes.has(c)) codes.set(c, d || ""); else if (d && typeof c === "string" && !codes.get(c)) codes.set(c, d); };
	const ext = (x) => {
		if (Array.isArray(x)) x.forEach((c) => (typeof c === "object" && c ? add(c.code, c.description) : add(c)));
		else if (x && typeof x === "object") for (const [c, d] of Object.entries(x)) add(c, typeof d === "string" ? d : d && d.description);
	};
	ext(response["x-problem-codes"]);
	const seen = new Set();
	const fromSchema = (sch, depth) => {
		if (depth > 8 || sch === undefined || sch === null || typeof sch !== "object") return;
		const { node: s, name } = deref(doc, sch);
		if (!s || typeof s !== "object") return;
		if (name) { if (seen.has(name)) return; seen.add(name); }
		const code = s.properties && s.properties.code;
		if (code) {
			const { node: c } = deref(doc, code);
			if (c && c.const !== undefined) add(c.const);
			if (c && Array.isArray(c.enum)) c.enum.forEach((v) => add(v));
		}
		for (const k of ["allOf", "oneOf", "anyOf"]) if (Array.isArray(s[k])) s[k].forEach((x) => fromSchema(x, depth + 1));
	};
	for (const [mt, media0] of Object.entries(response.content || {})) {
		const { node: media } = deref(doc, media0);
		if (!media || typeof media !== "object") continue;
		ext(media["x-problem-codes"]);
		if (!/problem\+json/i.test(mt)) continue;
		fromSchema(media.schema, 0);
		const values = [];
		if (media.example !== undefined) values.push(media.example);
		for (const ex0 of Object.values(media.examples || {})) {
			const { node: ex } = deref(doc, ex0);
			if (ex && ex.value !== undefined) values.push(ex.value);
		}
		for (const v of values) if (v && typeof v === "object" && !Array.isArray(v)) add(v.code);
	}
	return codes;
}

// ------------------------------------------------------------ page parts

function methodBadge(method) {
	return `<span class="method method-${esc(method)}">${esc(method.toUpperCase())}</span>`;
}

function statusClass(code) {
	const c = String(code);
	if (/^[1-5]/.test(c)) return `status-${c[0]}xx`;
	return "status-default";
}

function isStream(doc, op) {
	for (const r0 of Object.values(op.responses || {})) {
		const { node: r } = deref(doc, r0);
		if (r && r.content && r.content["text/event-stream"] !== undefined) return true;
	}
	return false;
}

function paramsHtml(doc, params) {
	const groups = { path: [], query: [], header: [], cookie: [] };
	for (const p of params) (groups[p.in] || (groups[p.in] = [])).push(p);
	const titles = { path: "Path parameters", query: "Query parameters", header: "Request headers", cookie: "Cookies" };
	const out = [];
	for (const [where, list] of Object.entries(groups)) {
		if (!list.length) continue;
		const rows = list.map((p) => {
			const schema = p.schema !== undefined ? p.schema
				: p.content ? Object.values(p.content)[0] && Object.values(p.content)[0].schema : undefined;
			const { node: s } = schema !== undefined ? deref(doc, schema) : { node: undefined };
			const facts = s && typeof s === "object" ? constraints(doc, s, { rawStrings: true }) : [];
			const ex = p.example !== undefined ? p.example
				: p.examples && typeof p.examples === "object"
					? (() => { const first = Object.values(p.examples)[0]; const { node } = deref(doc, first); return node && node.value; })()
					: undefined;
			const exHtml = ex !== undefined && !(s && (s.example !== undefined || s.examples))
				? `<div class="facts">example <code>${esc(typeof ex === "string" ? ex : jsonInline(ex))}</code></div>` : "";
			const flags = [p.required ? '<span class="flag req">required</span>' : '<span class="flag opt">optional</span>'];
			if (p.deprecated) flags.push('<span class="flag dep">deprecated</span>');
			return `<tr><td><code class="name">${esc(p.name)}</code></td>` +
				`<td><span class="type">${schema !== undefined ? esc(typeLabel(doc, schema)) : "any"}</span></td>` +
				`<td>${flags.join(" ")}</td>` +
				`<td>${md(p.description)}${facts.length ? `<div class="facts">${facts.join("; ")}</div>` : ""}${exHtml}</td></tr>`;
		});
		out.push(`<h4>${titles[where] || esc(where)}</h4>\n<div class="table-wrap"><table class="params">\n` +
			`<thead><tr><th>Name</th><th>Type</th><th></th><th>Description</th></tr></thead>\n<tbody>\n${rows.join("\n")}\n</tbody></table></div>`);
	}
	return out.join("\n");
}

// An error answer's schema in one line, when it is made of named schemas:
// "Problem", or "CausalConflictProblem or Problem" (an anyOf/oneOf), with
// links; null when it has members of its own beyond a narrowed `code`
// (then it is shown in full).
function schemaBrief(doc, schema) {
	const { node: s, name } = deref(doc, schema);
	if (name) return `<a href="#${schemaAnchor(name)}">${esc(name)}</a>`;
	if (!s || typeof s !== "object") return null;
	const own = Object.keys(s.properties || {}).filter((k) => k !== "code");
	if (own.length || s.items !== undefined) return null;
	const parts = [];
	for (const k of ["allOf", "anyOf", "oneOf"]) {
		if (!Array.isArray(s[k])) continue;
		// allOf parts that only narrow `code` add nothing to say here.
		const list = k !== "allOf" ? s[k] : s[k].filter((x) => {
			const { node: sub, name: n } = deref(doc, x);
			return n || !sub || typeof sub !== "object" ||
				Object.keys(sub).some((key) => !["type", "properties", "required", "description"].includes(key)) ||
				Object.keys(sub.properties || {}).some((m) => m !== "code");
		});
		const names = list.map((x) => schemaBrief(doc, x));
		if (names.some((x) => x === null)) return null;
		parts.push(names.length > 1 ? names.join(k === "allOf" ? " and " : " or ") : names[0]);
	}
	return parts.length ? parts.join(" and ") : null;
}

function contentHtml(doc, content, { expand }) {
	const out = [];
	for (const [mt, media0] of Object.entries(content || {})) {
		const { node: media } = deref(doc, media0);
		if (!media || typeof media !== "object") continue;
		const parts = [`<div class="media-type">${esc(mt)}${mt === "text/event-stream" ? ' <span class="flag sse">Server-Sent Events</span>' : ""}</div>`];
		if (media.schema !== undefined) {
			const brief = expand ? null : schemaBrief(doc, media.schema);
			parts.push(brief !== null ? `<div class="schema"><div class="schema-head">Schema ${brief}</div></div>` : schemaBlock(doc, media.schema));
		}
		const events = media["x-sse-events"];
		if (events && typeof events === "object" && !Array.isArray(events) && Object.keys(events).length) {
			const rows = Object.entries(events).map(([ev, sch]) => {
				const { node: es, name } = deref(doc, sch);
				const type = name ? `<a href="#${schemaAnchor(name)}">${esc(name)}</a>` : esc(typeLabel(doc, es));
				return `<tr><td><code class="name">${esc(ev)}</code></td><td><span class="type">${type}</span></td>` +
					`<td>${es && es.description && !name ? md(es.description) : ""}</td></tr>`;
			});
			parts.push(`<div class="subhead">Events (<code>event:</code> name and the JSON of its <code>data:</code> line)</div>\n` +
				`<div class="table-wrap"><table class="events">\n<thead><tr><th>Event</th><th>Data</th><th>Description</th></tr></thead>\n` +
				`<tbody>\n${rows.join("\n")}\n</tbody></table></div>`);
		}
		if (media.encoding && typeof media.encoding === "object") {
			parts.push(`<div class="facts">Encoding: ${Object.entries(media.encoding).map(([k, e]) =>
				`<code>${esc(k)}</code>${e && e.contentType ? " as " + esc(e.contentType) : ""}`).join(", ")}</div>`);
		}
		parts.push(examplesHtml(doc, media, mt));
		out.push(`<div class="media">${parts.filter(Boolean).join("\n")}</div>`);
	}
	return out.join("\n");
}

function headersHtml(doc, headers) {
	const rows = Object.entries(headers || {}).map(([hname, h0]) => {
		const { node: h } = deref(doc, h0);
		const hh = h && typeof h === "object" ? h : {};
		const schema = hh.schema !== undefined ? hh.schema
			: hh.content ? (Object.values(hh.content)[0] || {}).schema : undefined;
		const { node: s } = schema !== undefined ? deref(doc, schema) : { node: undefined };
		const facts = s && typeof s === "object" ? constraints(doc, s, { rawStrings: true }) : [];
		return `<tr><td><code class="name">${esc(hname)}</code></td>` +
			`<td><span class="type">${schema !== undefined ? esc(typeLabel(doc, schema)) : "string"}</span></td>` +
			`<td>${hh.required ? '<span class="flag req">always</span>' : ""}</td>` +
			`<td>${md(hh.description)}${facts.length ? `<div class="facts">${facts.join("; ")}</div>` : ""}</td></tr>`;
	});
	if (!rows.length) return "";
	return `<div class="table-wrap"><table class="headers">\n<thead><tr><th>Header</th><th>Type</th><th></th><th>Description</th></tr></thead>\n` +
		`<tbody>\n${rows.join("\n")}\n</tbody></table></div>`;
}

function responsesHtml(doc, responses) {
	const out = [];
	for (const [code, r0] of Object.entries(responses || {})) {
		const { node: r } = deref(doc, r0);
		if (!r || typeof r !== "object") continue;
		const codes = problemCodes(doc, r);
		const success = /^[123]/.test(code);
		const parts = [`<div class="response-head"><span class="status ${statusClass(code)}">${esc(code)}</span></div>`];
		if (r.description) parts.push(`<div class="desc">${md(r.description)}</div>`);
		if (codes.size) {
			parts.push(`<div class="problem-codes">Problem codes: ${[...codes].map(([c, d]) =>
				`<code>${esc(c)}</code>${d ? ` (${renderInline(d)})` : ""}`).join(", ")}</div>`);
		}
		const hdr = headersHtml(doc, r.headers);
		if (hdr) parts.push(`<div class="subhead">Response headers</div>\n${hdr}`);
		parts.push(contentHtml(doc, r.content, { expand: success }));
		if (r.links && typeof r.links === "object" && Object.keys(r.links).length) {
			parts.push(`<div class="facts">Links: ${Object.keys(r.links).map((k) => `<code>${esc(k)}</code>`).join(", ")}</div>`);
		}
		out.push(`<div class="response">${parts.filter(Boolean).join("\n")}</div>`);
	}
	return out.join("\n");
}

function securityHtml(doc, op, isWebhook) {
	// The document's security applies to its paths, not to the requests
	// it sends (webhooks), which say their own if they have any.
	const req = op.security !== undefined ? op.security : isWebhook ? undefined : doc.security;
	const parts = [];
	if (Array.isArray(req)) {
		const alts = req.map((r) => Object.entries(r || {}).map(([n, scopes]) =>
			`<code>${esc(n)}</code>${Array.isArray(scopes) && scopes.length ? ` (${scopes.map(esc).join(", ")})` : ""}`).join(" and "));
		if (!req.length || alts.some((a) => a === "")) {
			parts.push(alts.filter(Boolean).length
				? `Authentication: optional (${alts.filter(Boolean).join(" or ")})` : "Authentication: none");
		} else {
			parts.push(`Authentication: ${alts.join(" or ")}`);
		}
	}
	if (Array.isArray(op["x-roles"])) {
		parts.push(`Roles: ${op["x-roles"].length ? op["x-roles"].map((r) => `<span class="role">${esc(r)}</span>`).join(" ") : "any"}`);
	}
	if (op.deprecated) parts.push('<span class="flag dep">deprecated</span>');
	return parts.length ? `<ul class="op-meta">${parts.map((p) => `<li>${p}</li>`).join("")}</ul>` : "";
}

function mergeParams(doc, pathItem, op) {
	const list = [];
	const key = (p) => `${p.in}\u0000${p.name}`;
	const idx = new Map();
	for (const p0 of [...(pathItem.parameters || []), ...(op.parameters || [])]) {
		const { node: p } = deref(doc, p0);
		if (!p || typeof p !== "object") continue;
		if (idx.has(key(p))) list[idx.get(key(p))] = p;
		else { idx.set(key(p), list.length); list.push(p); }
	}
	return list;
}

function operationHtml(doc, o) {
	const { op, method, path, anchor, pathItem } = o;
	const parts = [];
	const stream = isStream(doc, op);
	parts.push(`<h3 class="op-title">${methodBadge(method)} <code class="path">${esc(path)}</code>` +
		`${stream ? ' <span class="flag sse">stream</span>' : ""}</h3>`);
	if (op.summary) parts.push(`<p class="op-summary">${renderInline(op.summary)}</p>`);
	if (op.operationId) parts.push(`<p class="op-id">operationId <code>${esc(op.operationId)}</code></p>`);
	parts.push(securityHtml(doc, op, o.webhook));
	if (pathItem.description && pathItem.description !== op.description) parts.push(`<div class="desc">${md(pathItem.description)}</div>`);
	if (op.description) parts.push(`<div class="desc">${md(op.description)}</div>`);
	const params = mergeParams(doc, pathItem, op);
	if (params.length) parts.push(paramsHtml(doc, params));
	if (op.requestBody !== undefined) {
		const { node: rb } = deref(doc, op.requestBody);
		if (rb && typeof rb === "object") {
			parts.push(`<h4>Request body${rb.required ? ' <span class="flag req">required</span>' : ' <span class="flag opt">optional</span>'}</h4>`);
			if (rb.description) parts.push(`<div class="desc">${md(rb.description)}</div>`);
			parts.push(contentHtml(doc, rb.content, { expand: true }));
		}
	}
	if (op.responses) parts.push(`<h4>Responses</h4>\n${responsesHtml(doc, op.responses)}`);
	if (op.callbacks && typeof op.callbacks === "object") {
		for (const [cname, cb0] of Object.entries(op.callbacks)) {
			const { node: cb } = deref(doc, cb0);
			parts.push(`<h4>Callback <code>${esc(cname)}</code></h4>`);
			for (const [expr, item0] of Object.entries(cb || {})) {
				const { node: item } = deref(doc, item0);
				for (const m of METHODS) {
					if (!item || !item[m]) continue;
					parts.push(`<div class="callback">${methodBadge(m)} <code class="path">${esc(expr)}</code>` +
						`${item[m].summary ? ` ${renderInline(item[m].summary)}` : ""}</div>`);
				}
			}
		}
	}
	if (Array.isArray(op.servers) && op.servers.length) {
		parts.push(`<div class="facts">Served at ${op.servers.map((s) => `<code>${esc(s.url)}</code>`).join(", ")}</div>`);
	}
	return `<section class="op" id="${esc(anchor)}">\n${parts.filter(Boolean).join("\n")}\n</section>`;
}

// ------------------------------------------------------------ the page

function collectOperations(doc, items, prefix, ids) {
	const ops = [];
	for (const [path, item0] of Object.entries(items || {})) {
		const { node: item } = deref(doc, item0);
		if (!item || typeof item !== "object") continue;
		for (const method of Object.keys(item)) {
			if (!METHODS.includes(method)) continue;
			const op = item[method];
			if (!op || typeof op !== "object") continue;
			const base = prefix + (typeof op.operationId === "string" && op.operationId
				? idPart(op.operationId) : slugify(`${method}-${path}`));
			let anchor = base, n = 1;
			while (ids.has(anchor)) anchor = `${base}-${++n}`;
			ids.add(anchor);
			ops.push({ path, method, op, anchor, pathItem: item });
		}
	}
	return ops;
}

export function buildPage(doc, { quickstart = "" } = {}) {
	if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new DocsError("the document is not a JSON object");
	if (typeof doc.openapi !== "string" || !/^3\./.test(doc.openapi)) {
		throw new DocsError(`not an OpenAPI 3.x document (openapi: ${JSON.stringify(doc.openapi)})`);
	}
	if (!doc.info || typeof doc.info !== "object" || typeof doc.info.title !== "string") throw new DocsError("info.title is missing");
	if (doc.paths !== undefined && (typeof doc.paths !== "object" || doc.paths === null)) throw new DocsError("paths is not an object");
	checkRefs(doc);

	const ids = new Set(["top", "intro", "quick-start", "endpoints", "streams", "webhooks", "schemas"]);
	const ops = collectOperations(doc, doc.paths, "op-", ids);
	const hooks = collectOperations(doc, doc.webhooks, "webhook-", ids).map((o) => ({ ...o, webhook: true }));

	// Tags in the document's order, then any used but not declared.
	const tagInfo = new Map();
	for (const t of Array.isArray(doc.tags) ? doc.tags : []) if (t && typeof t.name === "string") tagInfo.set(t.name, t);
	const byTag = new Map([...tagInfo.keys()].map((k) => [k, []]));
	const untagged = [];
	for (const o of ops) {
		const tags = Array.isArray(o.op.tags) && o.op.tags.length ? o.op.tags : null;
		if (!tags) { untagged.push(o); continue; }
		for (const t of tags) {
			if (!byTag.has(t)) byTag.set(t, []);
			byTag.get(t).push(o);
		}
	}
	if (untagged.length) byTag.set("", untagged);
	const tagAnchor = (t) => (t === "" ? "tag-other" : "tag-" + idPart(t));
	const tagTitle = (t) => (t === "" ? "Other" : (tagInfo.get(t) && tagInfo.get(t)["x-displayName"]) || t);
	const home = new Map(); // an operation is shown under its first tag
	for (const [t, list] of byTag) for (const o of list) if (!home.has(o)) home.set(o, t);

	const info = doc.info;
	const title = info.title;
	const version = info.version !== undefined ? String(info.version) : "";
	const body = [];

	// Header
	body.push(`<header class="page-head" id="top">\n<h1>${esc(title)}${version ? ` <span class="version">${esc(version)}</span>` : ""}</h1>` +
		`${info.summary ? `\n<p class="lead">${renderInline(info.summary)}</p>` : ""}` +
		`\n<p class="doc-meta">OpenAPI ${esc(doc.openapi)}${doc.servers && doc.servers.length
			? ` · server ${doc.servers.map((s) => `<code>${esc(s.url)}</code>`).join(", ")}` : ""}` +
		`${info.license && info.license.name ? ` · license ${esc(info.license.name)}` : ""}` +
		`${info.contact && (info.contact.name || info.contact.email) ? ` · contact ${esc(info.contact.name || info.contact.email)}` : ""}</p>\n</header>`);

	// Navigation
	const nav = [];
	nav.push('<nav class="toc" aria-label="Contents">\n<h2 class="toc-title">Contents</h2>\n<ul>');
	nav.push('<li><a href="#intro">Introduction</a></li>');
	if (quickstart) nav.push('<li><a href="#quick-start">Quick start</a></li>');
	nav.push('<li><a href="#endpoints">Endpoints</a>\n<ul>');
	for (const [t, list] of byTag) {
		if (!list.length) continue;
		nav.push(`<li class="toc-tag"><a href="#${tagAnchor(t)}">${esc(tagTitle(t))}</a>\n<ul class="toc-ops">`);
		for (const o of list) {
			nav.push(`<li><a href="#${o.anchor}">${methodBadge(o.method)} <code class="path">${esc(o.path)}</code></a></li>`);
		}
		nav.push("</ul></li>");
	}
	nav.push("</ul></li>");
	const streams = ops.filter((o) => isStream(doc, o.op));
	if (streams.length) nav.push('<li><a href="#streams">Event streams</a></li>');
	if (hooks.length) nav.push('<li><a href="#webhooks">Webhooks</a></li>');
	const schemas = doc.components && doc.components.schemas && typeof doc.components.schemas === "object" ? doc.components.schemas : {};
	if (Object.keys(schemas).length) nav.push('<li><a href="#schemas">Schemas</a></li>');
	nav.push("</ul>\n</nav>");

	const main = [];
	// Introduction
	main.push(`<section class="intro" id="intro">\n<h2>Introduction</h2>\n${md(info.description, { headingOffset: 1, idPrefix: "intro-", ids })}`);
	const schemes = doc.components && doc.components.securitySchemes;
	if (schemes && typeof schemes === "object" && Object.keys(schemes).length) {
		main.push('<h3 id="auth-schemes">Authentication schemes</h3>\n<dl class="schemes">');
		for (const [n, s0] of Object.entries(schemes)) {
			const { node: s } = deref(doc, s0);
			const kind = s ? [s.type, s.scheme, s.bearerFormat, s.in && s.name ? `${s.name} in ${s.in}` : ""].filter(Boolean).join(", ") : "";
			main.push(`<dt><code>${esc(n)}</code> <span class="type">${esc(kind)}</span></dt><dd>${md(s && s.description)}</dd>`);
		}
		main.push("</dl>");
	}
	main.push("</section>");

	if (quickstart) {
		main.push(`<section class="quickstart" id="quick-start">\n${md(quickstart, { headingOffset: 1, idPrefix: "qs-", ids })}\n</section>`);
	}

	// Endpoint overview
	main.push('<section class="endpoints" id="endpoints">\n<h2>Endpoints</h2>');
	main.push('<div class="table-wrap"><table class="overview">\n<thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead>\n<tbody>');
	for (const o of ops) {
		main.push(`<tr><td>${methodBadge(o.method)}</td><td><a href="#${o.anchor}"><code class="path">${esc(o.path)}</code></a></td>` +
			`<td>${o.op.summary ? renderInline(o.op.summary) : ""}</td></tr>`);
	}
	main.push("</tbody></table></div>\n</section>");

	// Operations by tag
	for (const [t, list] of byTag) {
		if (!list.length) continue;
		const ti = tagInfo.get(t);
		main.push(`<section class="tag" id="${tagAnchor(t)}">\n<h2>${esc(tagTitle(t))}</h2>${ti && ti.description ? `\n<div class="desc">${md(ti.description)}</div>` : ""}`);
		for (const o of list) {
			if (home.get(o) === t) main.push(operationHtml(doc, o));
			else main.push(`<p class="see-also">${methodBadge(o.method)} <a href="#${o.anchor}"><code class="path">${esc(o.path)}</code></a>: under ${esc(tagTitle(home.get(o)))}.</p>`);
		}
		main.push("</section>");
	}

	if (streams.length) {
		main.push('<section class="streams" id="streams">\n<h2>Event streams</h2>\n<p>These endpoints answer <code>text/event-stream</code> (Server-Sent Events): see each one for its frames, resume header and limits.</p>\n<ul>');
		for (const o of streams) {
			main.push(`<li>${methodBadge(o.method)} <a href="#${o.anchor}"><code class="path">${esc(o.path)}</code></a>${o.op.summary ? `: ${renderInline(o.op.summary)}` : ""}</li>`);
		}
		main.push("</ul>\n</section>");
	}

	if (hooks.length) {
		main.push('<section class="webhooks" id="webhooks">\n<h2>Webhooks</h2>\n<p>Requests this API sends to the endpoints you register: the method, the headers and the event payload your receiver gets.</p>');
		for (const o of hooks) {
			main.push(operationHtml(doc, o));
		}
		main.push("</section>");
	}

	if (Object.keys(schemas).length) {
		main.push('<section class="schemas" id="schemas">\n<h2>Schemas</h2>');
		for (const [name, s0] of Object.entries(schemas)) {
			const { node: s } = deref(doc, s0);
			const shown = s && typeof s === "object" ? s : {};
			const facts = constraints(doc, shown);
			main.push(`<section class="schema-def" id="${schemaAnchor(name)}">\n<h3><code>${esc(name)}</code> <span class="type">${esc(typeLabel(doc, shown))}</span>` +
				`${typeList(shown).includes("null") ? ' <span class="flag null">nullable</span>' : ""}</h3>` +
				`${shown.description ? `\n<div class="desc">${md(shown.description)}</div>` : ""}` +
				`${facts.length ? `\n<div class="facts">${facts.join("; ")}</div>` : ""}` +
				`\n${schemaBody(doc, { $ref: "#/components/schemas/" + name.replace(/~/g, "~0").replace(/\//g, "~1") }, [], 0)}\n</section>`);
		}
		main.push("</section>");
	}

	const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}${version ? " " + esc(version) : ""}: API reference</title>
<link rel="stylesheet" href="docs.css">
<link rel="icon" href="data:,">
</head>
<body>
<a class="skip" href="#endpoints">Skip to the endpoints</a>
${body.join("\n")}
<div class="layout">
${nav.join("\n")}
<main>
${main.join("\n")}
</main>
</div>
<footer class="page-foot"><p>Built from the OpenAPI document (${esc(title)}${version ? " " + esc(version) : ""}). <a href="#top">Back to top</a></p></footer>
</body>
</html>
`;
	// The page is served under a CSP without 'unsafe-inline': nothing of
	// the kind may have slipped in.
	// (Text is escaped, so every "<" left starts a tag of ours.)
	if (/<script|<style|<[^>]*\s(?:style|on[a-z]+)\s*=/i.test(html)) {
		throw new DocsError("internal error: the page would carry a script, an inline style or an event handler");
	}
	return html;
}

export function build(src, outdir) {
	let text;
	try { text = readFileSync(src, "utf8"); } catch (e) { throw new DocsError(`cannot read ${src}: ${e.message}`); }
	let doc;
	try { doc = JSON.parse(text); } catch (e) { throw new DocsError(`${src} is not valid JSON: ${e.message}`); }
	const quickstart = readFileSync(join(HERE, "quickstart.md"), "utf8");
	let html;
	try { html = buildPage(doc, { quickstart }); } catch (e) {
		if (e instanceof DocsError) throw new DocsError(`${src}: ${e.message}`);
		throw e;
	}
	mkdirSync(outdir, { recursive: true });
	// Written under a temporary name and renamed, so that a failed build
	// never leaves half a page behind.
	const tmp = join(outdir, ".index.html.tmp");
	writeFileSync(tmp, html);
	renameSync(tmp, join(outdir, "index.html"));
	// (An in-tree build, "./configure && make" in the checkout, writes into
	// docs/ itself: copyFileSync onto the same file leaves it as it is.)
	copyFileSync(join(HERE, "docs.css"), join(outdir, "docs.css"));
	return html;
}

const invoked = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
	const [src, outdir] = process.argv.slice(2);
	if (!src || !outdir || process.argv.length > 4) {
		process.stderr.write("usage: node docs/build.mjs OPENAPI_JSON OUTDIR\n");
		process.exit(2);
	}
	try {
		build(src, outdir);
	} catch (e) {
		process.stderr.write(`docs/build.mjs: ${e instanceof DocsError ? e.message : e.stack || e}\n`);
		process.exit(1);
	}
}
