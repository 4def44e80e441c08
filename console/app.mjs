// The RelaySync operator console: sign in, then one view per area, shown by
// role. Every API call goes through the JavaScript client (./client/).
import { RelaySync, RelaySyncError } from "./client/relaysync.mjs";
import { h, clear, field, errorBox, showError, guarded } from "./ui.mjs";
import records from "./views/records.mjs";
import queue from "./views/queue.mjs";
import webhooks from "./views/webhooks.mjs";
import policies from "./views/policies.mjs";
import users from "./views/users.mjs";
import audit from "./views/audit.mjs";

const VIEWS = [records, queue, webhooks, policies, users, audit];

// The API is on the same origin, one level up: /console/ -> /, and
// /mount/console/ -> /mount/ (the console works under a mount).
export const API_BASE = new URL("../", location.href).href.replace(/\/+$/, "");

function sessionStore() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

const client = new RelaySync({ url: API_BASE, tokenStorage: sessionStore() });
const state = { client, me: null, cleanup: null };

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signoutBtn = document.getElementById("signout");

signoutBtn.addEventListener("click", () => {
  client.signOut();
  state.me = null;
  if (location.hash) history.replaceState(null, "", location.pathname);
  showSignIn();
});

function allowed(view) {
  return state.me && view.roles.includes(state.me.role);
}

function renderNav() {
  clear(nav);
  for (const v of VIEWS) {
    if (!allowed(v)) continue;
    nav.append(h("a", { href: `#/${v.id}`, "data-view": v.id }, v.title));
  }
  nav.hidden = false;
  signoutBtn.hidden = false;
  who.textContent = `${state.me.email} (${state.me.role})`;
}

function showSignIn(err) {
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  nav.hidden = true;
  signoutBtn.hidden = true;
  who.textContent = "";
  clear(main);
  const key = h("input", { type: "password", name: "api_key", autocomplete: "off", required: true, spellcheck: "false" });
  const errSlot = h("div");
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card signin", id: "signin" },
    h("h1", {}, "Sign in"),
    field("API key", key, "Kept in this page's memory only; the access token it is exchanged for lasts for this tab's session."),
    submit, errSlot);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await guarded(errSlot, async () => {
      await client.signIn(key.value.trim());
      key.value = "";
      await start();
    }, submit);
  });
  main.append(form);
  if (err) showError(errSlot, err);
  key.focus();
}

async function start() {
  try {
    state.me = await client.request("GET", "/v1/me");
  } catch (e) {
    if (e instanceof RelaySyncError && e.status === 401) {
      client.signOut();
      return showSignIn(e.code === "no_api_key" ? null : e);
    }
    clear(main).append(errorBox(e));
    return;
  }
  renderNav();
  route();
}

function route() {
  if (!state.me) return;
  const parts = (location.hash.replace(/^#\/?/, "") || "").split("/").map(decodeURIComponent);
  let view = VIEWS.find((v) => v.id === parts[0]);
  if (!view || !allowed(view)) {
    view = VIEWS.find(allowed);
    if (parts[0] && !VIEWS.some((v) => v.id === parts[0])) history.replaceState(null, "", `#/${view.id}`);
  }
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.view === view.id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  clear(main);
  const section = h("section", { class: "view", "data-view": view.id });
  main.append(section);
  document.title = `${view.title} · RelaySync console`;
  try {
    state.cleanup = view.render({ client, me: state.me, can: (what) => can(state.me.role, what) }, section, parts.slice(1)) || null;
  } catch (e) {
    section.append(errorBox(e));
  }
  main.focus({ preventScroll: true });
}

// What each role may do (the OpenAPI document's "Roles" table); used to
// hide what a role cannot do. The server decides: a 403 still shows.
export function can(role, what) {
  const admin = role === "admin";
  const op = admin || role === "operator";
  switch (what) {
    case "records.write":
    case "conflicts.resolve":
    case "queue.read":
    case "queue.retry":
      return op;
    case "policies.write":
    case "webhooks":
    case "users":
    case "audit":
      return admin;
    default:
      return true; // records, conflicts and policies read, evaluate
  }
}

window.addEventListener("hashchange", route);

if (client.signedIn) start();
else showSignIn();
