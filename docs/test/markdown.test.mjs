// The docs page's Markdown subset (docs/markdown.mjs): every construct the
// API descriptions use, and that no HTML of the input ever gets through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderMarkdown, renderInline, escapeHtml, safeUrl } from "../markdown.mjs";

// Every tag in the output, with its attributes: only these tags and these
// attributes may appear, whatever the input.
const TAGS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "ul", "ol", "li",
	"blockquote", "hr", "br", "strong", "em", "a", "div", "table", "thead", "tbody", "tr", "th", "td"]);
const ATTRS = new Set(["href", "title", "class", "id", "start"]);
function assertSafe(html) {
	for (const m of html.matchAll(/<\/?([a-zA-Z0-9]+)([^>]*)>/g)) {
		assert.ok(TAGS.has(m[1].toLowerCase()), `tag <${m[1]}> in ${html}`);
		const attrs = m[2].replace(/\s([a-z]+)="[^"<>]*"/g, (a, name) => {
			assert.ok(ATTRS.has(name), `attribute ${name} in ${m[0]}`);
			return "";
		});
		assert.equal(attrs.trim(), "", `stray attribute text in ${m[0]}`);
	}
	assert.doesNotMatch(html, /<script|<style|<img|<iframe|javascript:/i);
}

test("escapeHtml escapes the five characters", () => {
	assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`),
		"&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
});

test("raw HTML in text, headings, lists, tables and code is escaped", () => {
	const src = [
		"# <script>alert(1)</script>",
		"",
		"A <b>bold</b> claim & <img src=x onerror=alert(1)>.",
		"",
		"- item <iframe src=//evil>",
		"",
		"| a | <style>b</style> |",
		"|---|---|",
		"| <script>c</script> | `<d>` |",
		"",
		"```html",
		"<script>alert(2)</script>",
		"```",
		"",
		"`<script>` and <!-- comment -->",
	].join("\n");
	const html = renderMarkdown(src);
	assertSafe(html);
	assert.match(html, /<h1>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/h1>/);
	assert.match(html, /A &lt;b&gt;bold&lt;\/b&gt; claim &amp; &lt;img src=x onerror=alert\(1\)&gt;\./);
	assert.match(html, /<li>item &lt;iframe src=\/\/evil&gt;<\/li>/);
	assert.match(html, /<th>&lt;style&gt;b&lt;\/style&gt;<\/th>/);
	assert.match(html, /<td><code>&lt;d&gt;<\/code><\/td>/);
	assert.match(html, /<pre><code class="language-html">&lt;script&gt;alert\(2\)&lt;\/script&gt;\n<\/code><\/pre>/);
	assert.match(html, /<code>&lt;script&gt;<\/code> and &lt;!-- comment --&gt;/);
});

test("links: http(s), mailto, fragments and relative URLs only; nothing breaks out of href", () => {
	assert.equal(renderInline("[spec](https://www.standardwebhooks.com/)"),
		'<a href="https://www.standardwebhooks.com/">spec</a>');
	assert.equal(renderInline("[below](#endpoints)"), '<a href="#endpoints">below</a>');
	assert.equal(renderInline("[mail](mailto:ops@example.com)"), '<a href="mailto:ops@example.com">mail</a>');
	assert.equal(renderInline("[q](https://x.example/?a=1&b=2)"), '<a href="https://x.example/?a=1&amp;b=2">q</a>');
	for (const bad of ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", "vbscript:msgbox"]) {
		const html = renderInline(`[click](${bad})`);
		assert.doesNotMatch(html, /<a /, bad);
		assert.match(html, /click/);
		assertSafe(html);
	}
	const quote = renderInline('[x](https://a.example/" onmouseover="alert(1))');
	assertSafe(quote);
	assert.doesNotMatch(quote, /<a /);
	assert.doesNotMatch(quote, /"/);
	assert.equal(safeUrl("java\nscript:x"), null);
	assert.equal(renderInline("<https://example.com/a?b=1>"), '<a href="https://example.com/a?b=1">https://example.com/a?b=1</a>');
	assert.equal(renderInline("<javascript:alert(1)>"), "&lt;javascript:alert(1)&gt;");
	assert.equal(renderInline("[**bold** `code`](https://e.example)"),
		'<a href="https://e.example"><strong>bold</strong> <code>code</code></a>');
});

test("inline: code spans, strong, emphasis, snake_case, escapes, hard breaks", () => {
	assert.equal(renderInline("**Roles:** `admin`"), "<strong>Roles:</strong> <code>admin</code>");
	assert.equal(renderInline("*one* and _two_"), "<em>one</em> and <em>two</em>");
	assert.equal(renderInline("__strong__"), "<strong>strong</strong>");
	assert.equal(renderInline("rate_limited and idempotency_key_reused stay"), "rate_limited and idempotency_key_reused stay");
	assert.equal(renderInline("2 * 3 * 4"), "2 * 3 * 4");
	assert.equal(renderInline("\\*not em\\* and \\`not code\\`"), "*not em* and `not code`");
	assert.equal(renderInline("``a `tick` b``"), "<code>a `tick` b</code>");
	assert.equal(renderInline("`**not bold**`"), "<code>**not bold**</code>");
	assert.equal(renderInline("line one  \nline two"), "line one<br>\nline two");
	assert.equal(renderInline("an `unclosed tick"), "an `unclosed tick");
	assert.equal(renderInline("`C:\\dir\\` stays"), "<code>C:\\dir\\</code> stays");
	assert.equal(renderInline("nul\u0000byte"), "nul\ufffdbyte");
});

test("blocks: headings with an offset and unique ids, paragraphs, rules, quotes", () => {
	const ids = new Set();
	const html = renderMarkdown("## Roles\n\ntext\non two lines\n\n## Roles\n\n---\n\n> quoted *text*", { headingOffset: 1, idPrefix: "intro-", ids });
	assert.equal(html, [
		'<h3 id="intro-roles">Roles</h3>',
		"<p>text\non two lines</p>",
		'<h3 id="intro-roles-2">Roles</h3>',
		"<hr>",
		"<blockquote>\n<p>quoted <em>text</em></p>\n</blockquote>",
	].join("\n"));
	assert.deepEqual([...ids], ["intro-roles", "intro-roles-2"]);
	assert.equal(renderMarkdown("###### deep", { headingOffset: 3 }), "<h6>deep</h6>");
	assert.equal(renderMarkdown("# no ids"), "<h1>no ids</h1>");
});

test("fenced code blocks keep their text verbatim, with or without a language", () => {
	const src = "Verifying:\n\n```python\ndef f(x):\n    return x * 2  # **not bold**\n```\n\n~~~\nplain\n\n  indented\n~~~";
	assert.equal(renderMarkdown(src), [
		"<p>Verifying:</p>",
		'<pre><code class="language-python">def f(x):\n    return x * 2  # **not bold**\n</code></pre>',
		"<pre><code>plain\n\n  indented\n</code></pre>",
	].join("\n"));
	// An unclosed fence runs to the end of the text.
	assert.equal(renderMarkdown("```\nopen"), "<pre><code>open\n</code></pre>");
});

test("lists: bullets, numbered with a start, continuation lines, nesting, loose items", () => {
	assert.equal(renderMarkdown("- **Idempotency.** one\n  continued\n- two `x`"),
		"<ul>\n<li><strong>Idempotency.</strong> one\ncontinued</li>\n<li>two <code>x</code></li>\n</ul>");
	assert.equal(renderMarkdown("1. first\n2. second"), "<ol>\n<li>first</li>\n<li>second</li>\n</ol>");
	assert.equal(renderMarkdown("3. third\n4. fourth"), '<ol start="3">\n<li>third</li>\n<li>fourth</li>\n</ol>');
	assert.equal(renderMarkdown("- a\n  - a1\n  - a2\n- b"),
		"<ul>\n<li>a\n<ul>\n<li>a1</li>\n<li>a2</li>\n</ul></li>\n<li>b</li>\n</ul>");
	assert.equal(renderMarkdown("- a\n\n- b"), "<ul>\n<li><p>a</p></li>\n<li><p>b</p></li>\n</ul>");
	assert.equal(renderMarkdown("Intro:\n- x\n- y\n\nAfter."),
		"<p>Intro:</p>\n<ul>\n<li>x</li>\n<li>y</li>\n</ul>\n<p>After.</p>");
	assert.equal(renderMarkdown("- item\n\n  ```sh\n  curl -s x\n  ```\n- next"),
		'<ul>\n<li><p>item</p>\n<pre><code class="language-sh">curl -s x\n</code></pre></li>\n<li><p>next</p></li>\n</ul>');
});

test("tables: header, alignment, inline content, escaped pipes, short rows", () => {
	const html = renderMarkdown("| Role | May use |\n|:---|---:|\n| `admin` | everything \\| all |\n| `viewer` |");
	assert.equal(html, '<div class="table-wrap"><table class="md-table">\n' +
		'<thead><tr><th class="align-left">Role</th><th class="align-right">May use</th></tr></thead>\n<tbody>\n' +
		'<tr><td class="align-left"><code>admin</code></td><td class="align-right">everything | all</td></tr>\n' +
		'<tr><td class="align-left"><code>viewer</code></td><td class="align-right"></td></tr>\n' +
		"</tbody></table></div>");
	// A pipe inside a code span does not split the cell.
	assert.match(renderMarkdown("| a | b |\n|---|---|\n| `x|y` | z |"), /<td><code>x\|y<\/code><\/td><td>z<\/td>/);
	// Without the separator line it is a paragraph.
	assert.equal(renderMarkdown("a | b"), "<p>a | b</p>");
});

test("CRLF input and tabs are normalised", () => {
	assert.equal(renderMarkdown("# T\r\n\r\n-\titem\r\n"), "<h1>T</h1>\n<ul>\n<li>item</li>\n</ul>");
});
