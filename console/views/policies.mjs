// Policies: the list in evaluation order; an editor (admin) with a live dry
// run: as you type, a sample record is evaluated (debounced) against the
// saved policies with POST /v1/policies/evaluate.
import { h, clear, field, select, showError, time, code, moreButton, guarded, debounce, pre, toast } from "../ui.mjs";

export default {
  id: "policies",
  title: "Policies",
  roles: ["admin", "operator", "viewer"],
  render(ctx, root) {
    const errSlot = h("div");
    const body = h("tbody");
    const more = h("div");
    const admin = ctx.can("policies.write");
    root.append(h("h1", {}, "Policies"), errSlot,
      h("div", { class: "scroll" }, h("table", { id: "policies-table" },
        h("thead", {}, h("tr", {}, ["Order", "Name", "When", "Then", "Enabled", "Updated", ""].map((x) => h("th", { scope: "col" }, x)))),
        body)), more);

    // -- editor (admin) and dry run (everyone)
    const p = {
      name: h("input", { name: "name", type: "text", pattern: "[a-z0-9_]{1,64}", required: true }),
      when: h("textarea", { name: "when", rows: 2, required: true, spellcheck: "false" }),
      then: h("input", { name: "then", type: "text", required: true, spellcheck: "false", placeholder: "queue=wifi; priority=3; delay=10m" }),
      order: h("input", { name: "order", type: "number", min: 0, max: 1000000, value: "100" }),
      enabled: h("input", { name: "enabled", type: "checkbox", checked: true }),
    };
    const r = {
      title: h("input", { name: "title", type: "text", value: "Sample" }),
      type: h("input", { name: "type", type: "text", value: "inspection" }),
      site: h("input", { name: "site", type: "text" }),
      status: select("status", ["queued", "synced", "conflict", "failed"], "queued"),
      data: h("textarea", { name: "data", rows: 3, spellcheck: "false" }, "{}"),
    };
    const editErr = h("div");
    const dryOut = h("div", { id: "dry-run", "aria-live": "polite" });
    const save = h("button", { type: "submit" }, "Save policy");
    const del = h("button", { type: "button", class: "danger" }, "Delete");
    const editor = h("form", { class: "card", id: "policy-editor" },
      h("h2", {}, "Edit a policy"),
      field("Name", p.name), field("When", p.when, "e.g. size>5k and type==photo"), field("Then", p.then),
      field("Order", p.order),
      h("div", { class: "field check" }, p.enabled, h("label", { for: (p.enabled.id = "pol-enabled") }, "Enabled")),
      h("div", { class: "actions" }, save, " ", del), editErr);
    const sample = h("form", { class: "card", id: "policy-dry-run" },
      h("h2", {}, "Dry run"),
      h("p", { class: "muted" }, "Which saved policy a record like this would match, evaluated as you type."),
      field("Title", r.title), field("Type", r.type), field("Site", r.site), field("Status", r.status),
      field("Data (JSON object)", r.data), dryOut);
    root.append(h("div", { class: "cols" }, admin ? editor : null, sample));

    const rows = (items) => {
      for (const x of items) {
        body.append(h("tr", { "data-name": x.name, class: x.enabled ? null : "disabled" },
          h("td", { class: "num" }, x.order), h("td", {}, code(x.name)), h("td", { class: "wrap" }, code(x.when)),
          h("td", {}, code(x.then)), h("td", {}, x.enabled ? "yes" : "no"), h("td", {}, time(x.updated_at)),
          h("td", {}, admin ? h("button", { type: "button", onclick: () => edit(x) }, "Edit") : null)));
      }
      if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No policies.")));
    };
    const load = () => {
      clear(body);
      clear(more);
      const pager = ctx.client.pager("/v1/policies", { limit: 50 });
      return guarded(errSlot, async () => {
        rows((await pager.next()).data);
        more.append(moreButton(pager, rows, errSlot));
      });
    };
    const edit = (x) => {
      p.name.value = x.name;
      p.when.value = x.when;
      p.then.value = x.then;
      p.order.value = String(x.order);
      p.enabled.checked = x.enabled;
      p.when.focus();
    };
    editor.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await guarded(editErr, async () => {
        const saved = await ctx.client.request("POST", "/v1/policies", {
          body: { name: p.name.value.trim(), when: p.when.value, then: p.then.value, order: Number(p.order.value || 100), enabled: p.enabled.checked },
        });
        toast(`Policy ${saved.name} saved.`);
        await load();
        dryRun();
      }, save);
    });
    del.addEventListener("click", async () => {
      const name = p.name.value.trim();
      if (!name || !confirm(`Delete policy ${name}?`)) return;
      await guarded(editErr, async () => {
        await ctx.client.request("DELETE", `/v1/policies/${encodeURIComponent(name)}`);
        toast(`Policy ${name} deleted.`);
        await load();
        dryRun();
      }, del);
    });

    let seq = 0;
    const dryRun = async () => {
      const mine = ++seq;
      let data;
      try {
        data = JSON.parse(r.data.value || "{}");
      } catch (e) {
        clear(dryOut).append(h("p", { class: "error" }, "Data is not valid JSON: ", e.message));
        return;
      }
      const record = { title: r.title.value, type: r.type.value, status: r.status.value, data };
      if (r.site.value) record.site = r.site.value;
      try {
        const ev = await ctx.client.request("POST", "/v1/policies/evaluate", { body: { record } });
        if (mine !== seq) return; // a later keystroke's answer wins
        clear(dryOut).append(
          h("p", { class: "result" }, ev.policy ? ["Matches ", code(ev.policy.name)] : "No policy matches",
            ` → queue ${ev.queue}, priority ${ev.priority}, delay ${ev.delay} s`),
          h("p", { class: "muted" }, "Tried: ", ev.tried.length ? ev.tried.join(", ") : "none"));
      } catch (e) {
        if (mine === seq) showError(dryOut, e);
      }
    };
    const later = debounce(dryRun, 300);
    sample.addEventListener("input", later);
    sample.addEventListener("submit", (ev) => ev.preventDefault());
    load();
    dryRun();
  },
};
