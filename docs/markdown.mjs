// A small, safe Markdown renderer for the API docs page (docs/build.mjs).
//
// The subset: ATX headings, paragraphs, fenced code blocks, unordered and
// ordered lists (nested by indentation), block quotes, pipe tables,
// thematic breaks; inline `code`, **bold**, *italic* / _italic_, [links](url),
// <https://autolinks>, backslash escapes and hard breaks (two spaces or a
// backslash at the end of a line). Raw HTML is never passed through: every
// character of the input reaches the output escaped, and link targets are
// limited to http(s), mailto, fragment and relative URLs.
//
// renderMarkdown(text, {headingOffset, idPrefix, ids}) -> HTML string.
//   headingOffset: added to a heading's level (capped at 6), so that "## X"
//   in an API description can sit below the page's own headings;
//   idPrefix: headings get id = idPrefix + slug (none when idPrefix is
//   undefined); ids: a Set of ids already taken on the page (a repeated slug
//   gets -2, -3, ...).
// renderInline(text) -> HTML string (one paragraph's worth, no blocks).

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s) {
	return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

export function slugify(s) {
	const slug = String(s).toLowerCase()
		.replace(/`/g, "")
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "");
	return slug || "section";
}

// Link targets that may appear in href: absolute http(s) and mailto, a
// fragment, or a relative reference without a scheme. Anything else
// (javascript:, data:, vbscript:, ...) is refused and the text is kept.
export function safeUrl(url) {
	const u = String(url).trim();
	if (/[\u0000-\u001f\u007f\s]/.test(u)) return null;
	const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(u);
	if (scheme) return /^(https?|mailto)$/i.test(scheme[1]) ? u : null;
	return u;
}

// ---------------------------------------------------------------- inline

// Placeholders for already-rendered pieces: \u0000 cannot survive input
// (it is replaced first), so the markers cannot be forged.
function inlineRenderer() {
	const stash = [];
	const put = (html) => "\u0000" + (stash.push(html) - 1) + "\u0000";
	const restore = (s) => s.replace(/\u0000(\d+)\u0000/g, (_, i) => restore(stash[+i]));
	return { put, restore };
}

export function renderInline(text, opts = {}) {
	const { put, restore } = inlineRenderer();
	let s = String(text).replace(/\u0000/g, "\ufffd");

	// In one pass from the left: backslash escapes of ASCII punctuation
	// (an escaped backtick opens no code span), and code spans (a run of n
	// backticks up to the next run of exactly n; no escapes inside).
	s = s.replace(/\\([!-/:-@[-`{-~])|(`+)([\s\S]*?[^`])\2(?!`)/g, (m, c, ticks, body) => {
		if (c !== undefined) return put(escapeHtml(c));
		let code = body.replace(/\n/g, " ");
		if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
		return put("<code>" + escapeHtml(code) + "</code>");
	});
	// Hard line breaks.
	s = s.replace(/(?: {2,}|\\)\n/g, () => put("<br>\n"));
	// Autolinks <https://...>, <mailto:...>.
	s = s.replace(/<((?:https?|mailto):[^\s<>]+)>/gi, (m, url) => {
		const safe = safeUrl(url);
		return safe ? put(`<a href="${escapeHtml(safe)}">${escapeHtml(url)}</a>`) : m;
	});
	// Links [text](url "title"); the text may hold code and emphasis.
	if (!opts.noLinks) {
		s = s.replace(/\[([^\[\]]*)\]\(\s*<?([^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)>?(?:\s+"([^"]*)")?\s*\)/g,
			(m, label, url, title) => {
				const inner = emphasize(label);
				const safe = safeUrl(restore(url));
				if (safe === null) return put(inner);
				const t = title ? ` title="${escapeHtml(restore(title))}"` : "";
				return put(`<a href="${escapeHtml(safe)}"${t}>${inner}</a>`);
			});
	}
	s = emphasize(s);
	return restore(s);
}

// Escapes the text, then marks strong and emphasis. Underscores count only
// at word boundaries, so that snake_case names outside code spans stay.
function emphasize(text) {
	let s = escapeHtml(text);
	s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
	s = s.replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>");
	s = s.replace(/(^|[^*\w])\*(?=[^\s*])([\s\S]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>");
	s = s.replace(/(^|[^\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>");
	return s;
}

// ---------------------------------------------------------------- blocks

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BULLET = /^( {0,3})([-*+])([ \t]+)(.*)$/;
const ORDERED = /^( {0,3})(\d{1,9})([.)])([ \t]+)(.*)$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const TABLE_SEP = /^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function isBlank(line) { return /^\s*$/.test(line); }

function splitRow(line) {
	let s = line.trim();
	if (s.startsWith("|")) s = s.slice(1);
	if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
	const cells = [];
	let cur = "", inCode = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (c === "\\" && s[i + 1] === "|") { cur += "|"; i++; continue; }
		if (c === "`") inCode ^= 1;
		if (c === "|" && !inCode) { cells.push(cur.trim()); cur = ""; continue; }
		cur += c;
	}
	cells.push(cur.trim());
	return cells;
}

function startsBlock(line, next) {
	return FENCE.test(line) || HEADING.test(line) || HR.test(line) ||
		BULLET.test(line) || ORDERED.test(line) || QUOTE.test(line) ||
		(line.includes("|") && next !== undefined && TABLE_SEP.test(next) && next.includes("-"));
}

function dedent(lines, n) {
	return lines.map((l) => {
		let i = 0;
		while (i < n && i < l.length && l[i] === " ") i++;
		return l.slice(i);
	});
}

export function renderMarkdown(text, opts = {}) {
	const ctx = {
		headingOffset: opts.headingOffset || 0,
		idPrefix: opts.idPrefix,
		ids: opts.ids || new Set(),
	};
	const lines = String(text).replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n");
	return renderBlocks(lines, ctx).join("\n");
}

function headingId(ctx, title) {
	if (ctx.idPrefix === undefined) return "";
	const base = ctx.idPrefix + slugify(title);
	let id = base, n = 1;
	while (ctx.ids.has(id)) id = `${base}-${++n}`;
	ctx.ids.add(id);
	return ` id="${escapeHtml(id)}"`;
}

function renderBlocks(lines, ctx) {
	const out = [];
	let i = 0;
	while (i < lines.length) {
		const line = lines[i];
		if (isBlank(line)) { i++; continue; }

		let m;
		if ((m = FENCE.exec(line))) {
			const fence = m[1], lang = m[2];
			const indent = line.length - line.trimStart().length;
			const body = [];
			i++;
			while (i < lines.length) {
				const close = new RegExp("^ {0,3}" + fence[0] + "{" + fence.length + ",}\\s*$");
				if (close.test(lines[i])) { i++; break; }
				body.push(dedent([lines[i]], indent)[0]);
				i++;
			}
			const cls = lang ? ` class="language-${escapeHtml(lang.replace(/[^\w+-]/g, ""))}"` : "";
			out.push(`<pre><code${cls}>${escapeHtml(body.join("\n"))}${body.length ? "\n" : ""}</code></pre>`);
			continue;
		}
		if ((m = HEADING.exec(line))) {
			const level = Math.min(6, m[1].length + ctx.headingOffset);
			const title = m[2] || "";
			out.push(`<h${level}${headingId(ctx, title)}>${renderInline(title)}</h${level}>`);
			i++;
			continue;
		}
		if (HR.test(line)) { out.push("<hr>"); i++; continue; }
		if (QUOTE.test(line)) {
			const body = [];
			while (i < lines.length && !isBlank(lines[i])) {
				const q = QUOTE.exec(lines[i]);
				body.push(q ? q[1] : lines[i]);
				i++;
			}
			out.push("<blockquote>\n" + renderBlocks(body, ctx).join("\n") + "\n</blockquote>");
			continue;
		}
		if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-")) {
			const head = splitRow(line);
			const align = splitRow(lines[i + 1]).map((c) =>
				c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : "");
			i += 2;
			const rows = [];
			while (i < lines.length && !isBlank(lines[i]) && lines[i].includes("|")) {
				rows.push(splitRow(lines[i]));
				i++;
			}
			const cell = (tag, c, k) => {
				const a = align[k] ? ` class="align-${align[k]}"` : "";
				return `<${tag}${a}>${renderInline(c)}</${tag}>`;
			};
			let html = '<div class="table-wrap"><table class="md-table">\n<thead><tr>' +
				head.map((c, k) => cell("th", c, k)).join("") + "</tr></thead>\n<tbody>\n";
			for (const r of rows) {
				const cells = head.map((_, k) => r[k] ?? "");
				html += "<tr>" + cells.map((c, k) => cell("td", c, k)).join("") + "</tr>\n";
			}
			out.push(html + "</tbody></table></div>");
			continue;
		}
		const bullet = BULLET.exec(line), ordered = ORDERED.exec(line);
		if (bullet || ordered) {
			i = renderList(lines, i, ctx, out);
			continue;
		}
		// Paragraph: up to a blank line or the start of another block.
		const para = [line.trim()];
		i++;
		while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines[i], lines[i + 1])) {
			para.push(lines[i].trim());
			i++;
		}
		out.push(`<p>${renderInline(para.join("\n"))}</p>`);
	}
	return out;
}

function listMarker(line) {
	let m = BULLET.exec(line);
	if (m) return { ordered: false, char: m[2], indent: m[1].length, width: m[1].length + 1 + m[3].length, rest: m[4] };
	m = ORDERED.exec(line);
	if (m) return { ordered: true, char: m[3], start: +m[2], indent: m[1].length, width: m[1].length + m[2].length + 1 + m[4].length, rest: m[5] };
	return null;
}

function renderList(lines, i, ctx, out) {
	const first = listMarker(lines[i]);
	const items = [];
	let loose = false;
	while (i < lines.length) {
		const mk = listMarker(lines[i]);
		if (!mk || mk.ordered !== first.ordered || mk.char !== first.char) break;
		const body = [mk.rest];
		i++;
		let sawBlank = false;
		while (i < lines.length) {
			const l = lines[i];
			if (isBlank(l)) { sawBlank = true; body.push(""); i++; continue; }
			const ind = l.length - l.trimStart().length;
			if (ind >= mk.width || (ind > mk.indent && !sawBlank)) {
				body.push(dedent([l], Math.min(ind, mk.width))[0]);
				i++;
				continue;
			}
			// A lazy continuation line of the item's paragraph.
			if (!sawBlank && !startsBlock(l, lines[i + 1])) { body.push(l.trim()); i++; continue; }
			break;
		}
		while (body.length && isBlank(body[body.length - 1])) body.pop();
		if (sawBlank && i < lines.length && listMarker(lines[i])) loose = true;
		if (body.some((l, k) => isBlank(l) && k > 0 && k < body.length - 1 && !isBlank(body[k + 1]) && !listMarker(body[k + 1]))) loose = true;
		items.push(body);
	}
	const tag = first.ordered ? "ol" : "ul";
	const start = first.ordered && first.start !== 1 ? ` start="${first.start}"` : "";
	const parts = items.map((body) => {
		let blocks = renderBlocks(body, ctx);
		if (!loose) blocks = blocks.map((b) => b.replace(/^<p>([\s\S]*)<\/p>$/, "$1"));
		return "<li>" + blocks.join("\n") + "</li>";
	});
	out.push(`<${tag}${start}>\n${parts.join("\n")}\n</${tag}>`);
	return i;
}
