// Records: filters and cursor paging; one record with its history and open
// conflicts; resolving a conflict.
import { h, clear, field, select, showError, table, time, code, pre, moreButton, guarded, localToIso, toast } from "../ui.mjs";

const STATUSES = ["", "queued", "synced", "conflict", "failed"];

export default {
  id: "records",
  title: "Records",
  roles: ["admin", "operator", "viewer"],
  render(ctx, root, params) {
    if (params[0]) return detail(ctx, root, params[0]);
    return list(ctx, root);
  },
};

function list(ctx, root) {
  const f = {
    status: select("status", STATUSES, ""),
    type: h("input", { name: "type", type: "text" }),
    site: h("input", { name: "site", type: "text" }),
    created_by: h("input", { name: "created_by", type: "text", placeholder: "usr_…" }),
    updated_after: h("input", { name: "updated_after", type: "datetime-local", step: "1" }),
    include_deleted: h("input", { name: "include_deleted", type: "checkbox" }),
  };
  const errSlot = h("div");
  const body = h("tbody");
  const more = h("div");
  const form = h("form", { class: "filters", id: "record-filters" },
    field("Status", f.status), field("Type", f.type), field("Site", f.site),
    field("Created by", f.created_by), field("Updated after", f.updated_after),
    h("div", { class: "field check" }, f.include_deleted, h("label", { for: (f.include_deleted.id = "inc-del") }, "Include deleted")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply")));
  root.append(h("h1", {}, "Records"), form, errSlot,
    h("div", { class: "scroll" }, h("table", { id: "records-table" },
      h("thead", {}, h("tr", {}, ["Title", "Type", "Site", "Status", "Version", "Updated", "Id"].map((x) => h("th", { scope: "col" }, x)))),
      body)),
    more);

  const rows = (items) => {
    for (const r of items) {
      body.append(h("tr", { class: r.deleted ? "deleted" : null, "data-id": r.id },
        h("td", {}, h("a", { href: `#/records/${encodeURIComponent(r.id)}` }, r.title)),
        h("td", {}, r.type), h("td", {}, r.site ?? "—"),
        h("td", {}, h("span", { class: `badge st-${r.status}` }, r.deleted ? "deleted" : r.status)),
        h("td", { class: "num" }, r.version), h("td", {}, time(r.updated_at)), h("td", {}, code(r.id))));
    }
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No records.")));
  };

  const load = async () => {
    clear(body);
    clear(more);
    const query = {
      status: f.status.value, type: f.type.value.trim(), site: f.site.value.trim(),
      created_by: f.created_by.value.trim(), updated_after: localToIso(f.updated_after.value),
      include_deleted: f.include_deleted.checked ? "true" : undefined,
    };
    const pager = ctx.client.pager("/v1/records", { query, limit: 50 });
    await guarded(errSlot, async () => {
      const page = await pager.next();
      rows(page.data);
      more.append(moreButton(pager, rows, errSlot));
    });
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load();
  });
  load();
}

function detail(ctx, root, id) {
  const errSlot = h("div");
  const recBox = h("div", { id: "record-detail" }, h("p", { class: "muted" }, "Loading…"));
  const histBody = h("tbody");
  const histMore = h("div");
  const histErr = h("div");
  const conflicts = h("div", { id: "conflicts" });
  root.append(
    h("p", {}, h("a", { href: "#/records" }, "← Records")),
    h("h1", {}, "Record ", code(id)), errSlot, recBox,
    h("h2", {}, "Open conflicts"), conflicts,
    h("h2", {}, "History"), histErr,
    h("div", { class: "scroll" }, h("table", { id: "history-table" },
      h("thead", {}, h("tr", {}, ["Version", "At", "Actor", "Changed", "Title", "Status"].map((x) => h("th", { scope: "col" }, x)))),
      histBody)),
    histMore);

  const loadRecord = () => guarded(errSlot, async () => {
    const r = await ctx.client.request("GET", `/v1/records/${encodeURIComponent(id)}`);
    const dl = h("dl", { class: "props" });
    for (const [k, v] of [["Title", r.title], ["Type", r.type], ["Site", r.site ?? "—"], ["Status", r.status],
      ["Version", String(r.version)], ["Causal", code(r.causal)], ["Queue", r.queue],
      ["Created", time(r.created_at)], ["Updated", time(r.updated_at)], ["Created by", code(r.created_by)],
      ["Deleted", r.deleted ? time(r.deleted_at) : "no"], ["Size", `${r.size} bytes`]]) {
      dl.append(h("dt", {}, k), h("dd", {}, v));
    }
    clear(recBox).append(dl, h("h3", {}, "Data"), pre(r.data));
  });

  const histRows = (items) => {
    for (const e of items) {
      histBody.append(h("tr", {},
        h("td", { class: "num" }, e.version), h("td", {}, time(e.at)), h("td", {}, code(e.actor)),
        h("td", {}, e.changed ? e.changed.join(", ") : "—"), h("td", {}, e.record.title),
        h("td", {}, e.record.deleted ? "deleted" : e.record.status)));
    }
    if (!histBody.children.length) histBody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No prior versions.")));
  };
  const loadHistory = () => {
    clear(histBody);
    clear(histMore);
    const pager = ctx.client.pager(`/v1/records/${encodeURIComponent(id)}/history`, { limit: 50 });
    return guarded(histErr, async () => {
      histRows((await pager.next()).data);
      histMore.append(moreButton(pager, histRows, histErr));
    });
  };

  const loadConflicts = async () => {
    clear(conflicts);
    const cErr = h("div");
    conflicts.append(cErr);
    const pager = ctx.client.pager("/v1/conflicts", { query: { record_id: id, status: "open" }, limit: 50 });
    const render = (items) => {
      for (const c of items) conflicts.insertBefore(conflictCard(ctx, c, refresh), cErr);
    };
    await guarded(cErr, async () => {
      const page = await pager.next();
      if (!page.data.length) conflicts.prepend(h("p", { class: "muted" }, "None."));
      render(page.data);
      conflicts.append(moreButton(pager, render, cErr));
    });
  };
  const refresh = () => Promise.all([loadRecord(), loadHistory(), loadConflicts()]);
  refresh();
}

function conflictCard(ctx, c, refresh) {
  const errSlot = h("div");
  const card = h("article", { class: "card conflict", "data-id": c.id },
    h("h3", {}, "Conflict ", code(c.id)),
    h("p", {}, "Lost by ", code(c.created_by), " at ", time(c.created_at), "; based on ", code(c.base_causal)),
    h("div", { class: "cols" },
      h("div", {}, h("h4", {}, "Attempted"), pre(c.attempted)),
      h("div", {}, h("h4", {}, "Current (when it conflicted)"), pre({ title: c.current.title, status: c.current.status, site: c.current.site, data: c.current.data, version: c.current.version }))),
    errSlot);
  if (ctx.can("conflicts.resolve")) {
    const resolve = (take) => async (ev) => {
      await guarded(errSlot, async () => {
        await ctx.client.request("POST", `/v1/conflicts/${encodeURIComponent(c.id)}/resolve`, {
          body: { take },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        });
        toast(`Conflict ${c.id} resolved (${take}).`);
        await refresh();
      }, ev.currentTarget);
    };
    card.append(h("div", { class: "actions" },
      h("button", { type: "button", onclick: resolve("current") }, "Keep current"),
      h("button", { type: "button", onclick: resolve("attempted") }, "Take attempted")));
  }
  return card;
}
