// DOM helpers for the console. No innerHTML and no style attributes (the
// Content-Security-Policy allows neither inline script nor inline style):
// everything is built with createElement and text nodes, styled by classes.

/**
 * h("button", {class: "x", type: "button", onclick: fn, hidden: true}, "text", child...)
 * Attributes: `class`, `on<event>` (listeners), booleans set/omitted,
 * everything else setAttribute. Children: strings, nodes, arrays, null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "style") throw new Error("no style attributes (CSP)");
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value" && "value" in el && !tag.startsWith("svg:")) el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let uid = 0;
/** A labelled form field: label + control (input, select or textarea). */
export function field(label, control, hint) {
  if (!control.id) control.id = "f" + ++uid;
  return h("div", { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("small", { class: "muted" }, hint) : null);
}

export function select(name, options, value) {
  return h("select", { name },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o === "" ? "any" : o];
      return h("option", { value: v, selected: v === value ? true : undefined }, text);
    }));
}

/** An error box: the problem's status, code and detail, field errors, the request id. */
export function errorBox(err) {
  const status = err && err.status !== undefined ? err.status : null;
  const detail = (err && (err.detail || err.message)) || String(err);
  const box = h("div", { class: "error", role: "alert" },
    h("strong", {}, status ? `${status} ${err.code || ""}`.trim() : err.code || "Error"),
    ": ", h("span", { class: "detail" }, detail));
  if (err && Array.isArray(err.errors) && err.errors.length) {
    box.append(h("ul", {}, err.errors.map((e) => h("li", {}, h("code", {}, e.field), ": ", e.message))));
  }
  if (err && err.requestId) box.append(h("small", { class: "muted" }, ` (request ${err.requestId})`));
  return box;
}

/** Replaces the content of a slot with an error box (or clears it for null). */
export function showError(slot, err) {
  clear(slot);
  if (err) slot.append(errorBox(err));
}

/** A table whose container scrolls sideways on narrow screens. */
export function table(headers, rows, caption) {
  return h("div", { class: "scroll" },
    h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows)));
}

export function time(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso, title: iso }, iso.replace("T", " ").replace(/\.\d+Z$/, "Z"));
}

export function code(text) {
  return h("code", {}, text);
}

export function pre(value) {
  return h("pre", { class: "json" }, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

/** Shows a secret once, with a Copy button. */
export function secretBox(label, secret, note) {
  const out = h("output", { class: "secret", "aria-label": label }, secret);
  const msg = h("span", { class: "muted", "aria-live": "polite" });
  const btn = h("button", {
    type: "button",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        msg.textContent = " Copied.";
      } catch {
        const r = document.createRange();
        r.selectNodeContents(out);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
        msg.textContent = " Selected: press Ctrl+C to copy.";
      }
    },
  }, "Copy");
  return h("div", { class: "once" },
    h("p", {}, h("strong", {}, label), " — ", note || "shown once: copy it now."),
    h("div", { class: "row" }, out, btn, msg));
}

/** A "more" button under a paged list: loads the pager's next page into render(). */
export function moreButton(pager, render, errSlot) {
  const btn = h("button", { type: "button", class: "more" }, "More");
  btn.hidden = pager.done;
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      const page = await pager.next();
      if (page) render(page.data || []);
      showError(errSlot, null);
    } catch (e) {
      showError(errSlot, e);
    } finally {
      btn.disabled = false;
      btn.hidden = pager.done;
    }
  });
  return btn;
}

export function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  clearTimeout(toast._t);
  toast._t = setTimeout(() => (t.textContent = ""), 5000);
}

/** Runs fn; shows its error in slot; disables button while it runs. */
export async function guarded(slot, fn, button) {
  if (button) button.disabled = true;
  try {
    showError(slot, null);
    return await fn();
  } catch (e) {
    showError(slot, e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** "2026-11-26T17:45" (datetime-local, local time) -> RFC 3339 UTC with ms. */
export function localToIso(v) {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
