// The docs page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from clients/js/node_modules), as a real server serves it
// under its Content-Security-Policy:
//
//   node docs/browser/check-page.mjs URL OUTDIR ENDPOINT...
//
// URL is the page (http://127.0.0.1:PORT/docs/), OUTDIR where the
// screenshots go, each ENDPOINT "METHOD /path" that must be on the page.
// Checks, at 1280 and at 360 px wide: no console error and no CSP
// violation, the stylesheet applied (the method badges are coloured), no
// request to anything but the page and its stylesheet, every ENDPOINT
// visible as an operation heading, no horizontal scrolling at 360 px; a
// printout (PDF) is made too. Prints one "screenshot PATH" line per file
// and "ok"; on a failure, what failed, and exits 1.
// RS_CHROMIUM names another chromium.

import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLIENT = join(HERE, "..", "..", "clients", "js");
const CHROMIUM = process.env.RS_CHROMIUM || "/usr/bin/chromium";
const [url, outdir, ...endpoints] = process.argv.slice(2);
if (!url || !outdir) {
	process.stderr.write("usage: node docs/browser/check-page.mjs URL OUTDIR [ENDPOINT...]\n");
	process.exit(2);
}

const failures = [];
const fail = (msg) => failures.push(msg);

const require = createRequire(join(CLIENT, "package.json"));
const { chromium } = require("playwright-core");
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
mkdirSync(outdir, { recursive: true });
const base = new URL(".", url).href;
try {
	for (const width of [1280, 360]) {
		const context = await browser.newContext({ viewport: { width, height: 900 } });
		const page = await context.newPage();
		const requests = [];
		page.on("request", (r) => requests.push(r.url()));
		page.on("console", (m) => {
			if (m.type() === "error" || m.type() === "warning") {
				fail(`${width}px: console ${m.type()}: ${m.text()} (${m.location().url || "?"})`);
			}
		});
		page.on("pageerror", (e) => fail(`${width}px: page error: ${e.message}`));
		// CSP violations reach the console as errors too; the event is
		// counted as well, by an init script of the test (not the page's).
		await page.addInitScript(() => {
			window.__cspViolations = [];
			document.addEventListener("securitypolicyviolation", (e) =>
				window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
		});
		const resp = await page.goto(url, { waitUntil: "load" });
		if (!resp || resp.status() !== 200) fail(`${width}px: GET ${url}: ${resp && resp.status()}`);
		const csp = resp && resp.headers()["content-security-policy"];
		if (!csp || !csp.includes("default-src 'none'")) fail(`${width}px: no strict CSP on ${url}: ${csp}`);
		const report = await page.evaluate(() => {
			const badge = document.querySelector(".op-title .method-get");
			const heads = [...document.querySelectorAll("h3.op-title")].map((h) => {
				const r = h.getBoundingClientRect();
				return { text: h.textContent.replace(/\s+/g, " ").trim(), visible: r.width > 0 && r.height > 0 };
			});
			return {
				violations: window.__cspViolations,
				badgeColor: badge ? getComputedStyle(badge).backgroundColor : null,
				scrollWidth: document.documentElement.scrollWidth,
				clientWidth: document.documentElement.clientWidth,
				heads,
			};
		});
		for (const v of report.violations) fail(`${width}px: CSP violation: ${v}`);
		if (!report.badgeColor || /rgba\(0, 0, 0, 0\)|transparent/.test(report.badgeColor)) {
			fail(`${width}px: the stylesheet is not applied (GET badge background ${report.badgeColor})`);
		}
		if (report.scrollWidth > report.clientWidth) {
			fail(`${width}px: the page scrolls sideways (${report.scrollWidth} > ${report.clientWidth})`);
		}
		const shown = new Map(report.heads.map((h) => [h.text.replace(/ stream$/, ""), h.visible]));
		for (const e of endpoints) {
			if (!shown.has(e)) fail(`${width}px: ${e} is not on the page`);
			else if (!shown.get(e)) fail(`${width}px: ${e} is on the page but not visible`);
		}
		for (const r of requests) {
			if (r !== url && r !== base + "docs.css" && r !== "data:,") {
				fail(`${width}px: the page requested ${r}`);
			}
		}
		const shots = [["top", null], ["quick-start", "#quick-start"], ["operation", "#op-createRecord"]];
		for (const [name, sel] of shots) {
			if (sel) {
				const found = await page.evaluate((s) => {
					const el = document.querySelector(s);
					if (el) el.scrollIntoView();
					return Boolean(el);
				}, sel);
				if (!found) { fail(`${width}px: no ${sel} on the page`); continue; }
			}
			const path = join(outdir, `docs-${width}-${name}.png`);
			await page.screenshot({ path });
			console.log(`screenshot ${path}`);
		}
		if (width === 1280) {
			const pdf = join(outdir, "docs-print.pdf");
			await page.emulateMedia({ media: "print" });
			const toc = await page.evaluate(() => getComputedStyle(document.querySelector(".toc")).display);
			if (toc !== "none") fail(`print: the contents are shown (display ${toc})`);
			await page.pdf({ path: pdf, format: "A4" });
			console.log(`printout ${pdf}`);
		}
		await context.close();
	}
} finally {
	await browser.close();
}
if (failures.length) {
	for (const f of failures) console.log(`not ok: ${f}`);
	process.exit(1);
}
console.log("ok");
