// Webhooks: list, create (the secret shown once, with Copy), one endpoint's
// deliveries (its jobs in the queue), replay a window, rotate the secret,
// enable/disable.
import { h, clear, field, select, showError, time, code, moreButton, guarded, secretBox, localToIso, toast } from "../ui.mjs";
import { jobTable, STATES, EVENT_TYPES } from "./queue.mjs";

export default {
  id: "webhooks",
  title: "Webhooks",
  roles: ["admin"],
  render(ctx, root, params) {
    if (params[0]) return endpoint(ctx, root, params[0]);
    return list(ctx, root);
  },
};

function list(ctx, root) {
  const errSlot = h("div");
  const body = h("tbody");
  const more = h("div");
  const url = h("input", { name: "url", type: "url", required: true, placeholder: "https://…" });
  const desc = h("input", { name: "description", type: "text", maxlength: 500 });
  const boxes = ["*", ...EVENT_TYPES].map((t) => h("input", { type: "checkbox", name: "events", value: t, checked: t === "*" }));
  const createErr = h("div");
  const created = h("div", { id: "webhook-created" });
  const submit = h("button", { type: "submit" }, "Create");
  const form = h("form", { class: "card", id: "webhook-create" },
    h("h2", {}, "New endpoint"),
    field("URL", url), field("Description", desc),
    h("fieldset", { class: "events" }, h("legend", {}, "Events"),
      boxes.map((b, i) => h("span", { class: "check" }, b, h("label", { for: (b.id = `ev-${i}`) }, b.value === "*" ? "all (*)" : b.value)))),
    submit, createErr, created);
  root.append(h("h1", {}, "Webhooks"), errSlot,
    h("div", { class: "scroll" }, h("table", { id: "webhooks-table" },
      h("thead", {}, h("tr", {}, ["URL", "Events", "Status", "Created", "Id"].map((x) => h("th", { scope: "col" }, x)))),
      body)), more, form);

  const rows = (items) => {
    for (const w of items) {
      body.append(h("tr", { "data-id": w.id },
        h("td", { class: "wrap" }, h("a", { href: `#/webhooks/${encodeURIComponent(w.id)}` }, w.url)),
        h("td", {}, w.events.join(", ")),
        h("td", {}, h("span", { class: `badge wh-${w.status}` }, w.status), w.disabled_reason ? ` (${w.disabled_reason})` : ""),
        h("td", {}, time(w.created_at)), h("td", {}, code(w.id))));
    }
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No endpoints.")));
  };
  const load = () => {
    clear(body);
    clear(more);
    const pager = ctx.client.pager("/v1/webhooks", { limit: 50 });
    return guarded(errSlot, async () => {
      rows((await pager.next()).data);
      more.append(moreButton(pager, rows, errSlot));
    });
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(created);
    await guarded(createErr, async () => {
      let events = boxes.filter((b) => b.checked).map((b) => b.value);
      if (events.includes("*")) events = ["*"];
      const w = await ctx.client.request("POST", "/v1/webhooks", {
        body: { url: url.value.trim(), events, description: desc.value.trim() || null },
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
      created.append(h("p", {}, "Created ", h("a", { href: `#/webhooks/${encodeURIComponent(w.id)}` }, code(w.id)), "."),
        secretBox("Signing secret", w.secret, "shown once, here only: copy it now."));
      url.value = "";
      desc.value = "";
      await load();
    }, submit);
  });
  load();
}

function endpoint(ctx, root, id) {
  const path = `/v1/webhooks/${encodeURIComponent(id)}`;
  const errSlot = h("div");
  const info = h("div", { id: "webhook-detail" });
  const actionsErr = h("div");
  const secret = h("div", { id: "webhook-secret" });
  const since = h("input", { type: "datetime-local", name: "since", required: true, step: "1" });
  const until = h("input", { type: "datetime-local", name: "until", step: "1" });
  const replayOut = h("p", { id: "replay-result", "aria-live": "polite" });
  const replayBtn = h("button", { type: "submit" }, "Replay");
  const replay = h("form", { class: "card", id: "webhook-replay" },
    h("h2", {}, "Replay a window"),
    h("p", { class: "muted" }, "Every event of the org in [since, until) that this endpoint subscribes to is queued again (same webhook-id)."),
    field("Since", since), field("Until (default: now)", until), replayBtn, replayOut);
  const stateSel = select("state", ["", ...STATES], "");
  const jobsErr = h("div");
  const jobs = h("div", { id: "deliveries" });
  const jobsForm = h("form", { class: "filters", id: "delivery-filters" }, field("State", stateSel),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply")));
  root.append(h("p", {}, h("a", { href: "#/webhooks" }, "← Webhooks")),
    h("h1", {}, "Endpoint ", code(id)), errSlot, info, actionsErr, secret,
    h("h2", {}, "Deliveries"),
    h("p", { class: "muted" }, "This endpoint's jobs in the sync queue (the queue is read page by page and filtered here)."),
    jobsForm, jobsErr, jobs, replay);

  const loadInfo = () => guarded(errSlot, async () => {
    const w = await ctx.client.request("GET", path);
    const dl = h("dl", { class: "props" });
    for (const [k, v] of [["URL", w.url], ["Events", w.events.join(", ")], ["Description", w.description ?? "—"],
      ["Status", w.status + (w.disabled_reason ? ` (${w.disabled_reason})` : "")],
      ["Created", time(w.created_at)], ["Updated", time(w.updated_at)]]) dl.append(h("dt", {}, k), h("dd", {}, v));
    const toggle = w.status === "enabled" ? "disabled" : "enabled";
    clear(info).append(dl, h("div", { class: "actions" },
      h("button", { type: "button", id: "rotate", onclick: (ev) => rotate(ev.currentTarget) }, "Rotate secret"), " ",
      h("button", { type: "button", onclick: (ev) => setStatus(toggle, ev.currentTarget) }, toggle === "enabled" ? "Enable" : "Disable")));
  });
  const rotate = (btn) => guarded(actionsErr, async () => {
    if (!confirm("Rotate the signing secret? The old secret stops at once.")) return;
    const w = await ctx.client.request("POST", `${path}/rotate-secret`);
    clear(secret).append(secretBox("New signing secret", w.secret, "shown once, here only: copy it now. The old secret no longer signs."));
    await loadInfo();
  }, btn);
  const setStatus = (status, btn) => guarded(actionsErr, async () => {
    await ctx.client.request("PATCH", path, { body: { status } });
    toast(`Endpoint ${status}.`);
    await loadInfo();
  }, btn);

  // The queue has no webhook filter: walk it (with the state filter) and keep
  // this endpoint's jobs; "More" reads on.
  const loadJobs = () => guarded(jobsErr, async () => {
    const base = ctx.client.pager("/v1/sync/queue", { query: { state: stateSel.value }, limit: 200 });
    const mine = {
      get done() { return base.done; },
      async next() {
        const page = await base.next();
        return page && { ...page, data: page.data.filter((j) => j.webhook_id === id) };
      },
    };
    const first = await mine.next();
    clear(jobs).append(jobTable(ctx, first, mine, jobsErr, loadJobs));
  });
  jobsForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    loadJobs();
  });
  replay.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    replayOut.textContent = "";
    await guarded(replayOut, async () => {
      const body = { since: localToIso(since.value) };
      if (until.value) body.until = localToIso(until.value);
      const r = await ctx.client.request("POST", `${path}/replay`, { body, headers: { "Idempotency-Key": crypto.randomUUID() } });
      replayOut.textContent = `${r.jobs} job(s) queued.`;
      await loadJobs();
    }, replayBtn);
  });
  loadInfo();
  loadJobs();
}
