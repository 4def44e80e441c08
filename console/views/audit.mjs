// Audit (admin): the live stream of entries (GET /v1/audit/stream over
// fetch with the bearer token; it resumes with Last-Event-ID after a
// reconnect, and after a reload from the last id seen in this tab), the
// log with filters and paging, and "Verify chain": every hash recomputed
// here (BLAKE2b-256 over prev_hash + canonical JSON, ../client/audit-chain.mjs).
import { h, clear, field, showError, time, code, moreButton, guarded } from "../ui.mjs";
import { ChainVerifier } from "../client/audit-chain.mjs";

const LAST_KEY = "relaysync.console.audit-last-id.";
const LIVE_MAX = 200;

export default {
  id: "audit",
  title: "Audit",
  roles: ["admin"],
  render(ctx, root) {
    const liveState = h("span", { id: "live-state", class: "badge", "aria-live": "polite" }, "connecting");
    const liveErr = h("div");
    const liveBody = h("tbody");
    const verifyBtn = h("button", { type: "button", id: "verify" }, "Verify chain");
    const verifyOut = h("p", { id: "verify-result", "aria-live": "polite" });
    const verifyErr = h("div");
    const fAction = h("input", { name: "action", type: "text", placeholder: "record.create" });
    const fActor = h("input", { name: "actor", type: "text", placeholder: "usr_…" });
    const fTarget = h("input", { name: "target", type: "text", placeholder: "rec_…" });
    const logErr = h("div");
    const logBody = h("tbody");
    const logMore = h("div");
    const filters = h("form", { class: "filters", id: "audit-filters" },
      field("Action", fAction), field("Actor", fActor), field("Target", fTarget),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply")));
    const head = () => h("thead", {}, h("tr", {}, ["Seq", "At", "Actor", "Action", "Target", "Detail"].map((x) => h("th", { scope: "col" }, x))));
    root.append(h("h1", {}, "Audit"),
      h("section", { class: "card" }, h("h2", {}, "Chain"),
        h("p", { class: "muted" }, "Recomputes every entry's BLAKE2b-256 hash in this browser and checks the links."),
        verifyBtn, verifyOut, verifyErr),
      h("h2", {}, "Live ", liveState), liveErr,
      h("div", { class: "scroll" }, h("table", { id: "audit-live" }, head(), liveBody)),
      h("h2", {}, "Log"), filters, logErr,
      h("div", { class: "scroll" }, h("table", { id: "audit-log" }, head(), logBody)), logMore);

    const row = (e) => h("tr", { "data-seq": e.seq },
      h("td", { class: "num" }, e.seq), h("td", {}, time(e.at)),
      h("td", {}, e.actor ? `${e.actor.type} ${e.actor.id}` : "—"), h("td", {}, code(e.action)),
      h("td", {}, e.target ? code(e.target) : "—"), h("td", { class: "wrap" }, code(JSON.stringify(e.detail))));

    // -- live
    let stored = null;
    try {
      stored = sessionStorage.getItem(LAST_KEY + ctx.me.org_id);
    } catch {}
    const live = ctx.client.stream("/v1/audit/stream", {
      lastEventId: stored || undefined,
      onOpen: () => {
        liveState.textContent = "live";
        liveState.className = "badge live";
        showError(liveErr, null);
      },
      onEvent: (ev) => {
        if (ev.event !== "audit") return;
        let e;
        try {
          e = JSON.parse(ev.data);
        } catch {
          return;
        }
        liveState.textContent = "live";
        liveState.className = "badge live";
        liveBody.prepend(row(e));
        while (liveBody.children.length > LIVE_MAX) liveBody.lastChild.remove();
        try {
          sessionStorage.setItem(LAST_KEY + ctx.me.org_id, ev.id);
        } catch {}
      },
      onError: (ev) => {
        liveState.textContent = "reconnecting";
        liveState.className = "badge reconnecting";
        const p = ev.problem || {};
        showError(liveErr, { status: ev.status, code: p.code, detail: p.detail || "the stream failed; retrying" });
      },
    });
    // -- verify
    verifyBtn.addEventListener("click", () => guarded(verifyErr, async () => {
      verifyOut.className = "";
      verifyOut.textContent = "Verifying…";
      const v = new ChainVerifier();
      for await (const entry of ctx.client.pager("/v1/audit", { limit: 200 })) {
        if (v.add(entry) !== null) break;
        if (v.count % 1000 === 0) verifyOut.textContent = `Verifying… ${v.count} entries`;
      }
      if (v.broken) {
        verifyOut.className = "bad";
        verifyOut.textContent = `Broken: entry ${v.broken.seq}: ${v.broken.why}`;
      } else {
        verifyOut.className = "ok";
        verifyOut.textContent = `${v.count} entries, intact.`;
      }
    }, verifyBtn));

    // -- log
    const rows = (items) => {
      for (const e of items) logBody.append(row(e));
      if (!logBody.children.length) logBody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No entries.")));
    };
    const load = () => {
      clear(logBody);
      clear(logMore);
      const pager = ctx.client.pager("/v1/audit", {
        query: { action: fAction.value.trim(), actor: fActor.value.trim(), target: fTarget.value.trim() }, limit: 50,
      });
      return guarded(logErr, async () => {
        rows((await pager.next()).data);
        logMore.append(moreButton(pager, rows, logErr));
      });
    };
    filters.addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    load();

    return () => live.stop();
  },
};
