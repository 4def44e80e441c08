// The sync queue: counts by state over the last hour (a chart of samples
// the console takes of GET /v1/sync/queue's `counts` while this view is
// open, every 15 s, kept in sessionStorage for this tab), jobs with
// filters, and a forced retry.
import { h, clear, field, select, showError, time, code, moreButton, guarded, toast } from "../ui.mjs";

export const STATES = ["pending", "running", "succeeded", "failed", "dead"];
export const EVENT_TYPES = ["record.created", "record.updated", "record.deleted", "record.synced", "record.conflict",
  "user.invited", "user.activated", "policy.updated", "policy.deleted"];
const SAMPLE_MS = 15000;
const WINDOW_MS = 3600 * 1000;
const SAMPLES_KEY = "relaysync.console.queue-samples";

export default {
  id: "queue",
  title: "Queue",
  roles: ["admin", "operator"],
  render(ctx, root) {
    const chartBox = h("figure", { class: "chart", id: "queue-chart" });
    const countsBox = h("p", { id: "queue-counts", class: "counts" });
    const f = {
      state: select("state", ["", ...STATES], ""),
      queue: h("input", { name: "queue", type: "text" }),
      event_type: select("event_type", ["", ...EVENT_TYPES], ""),
    };
    const errSlot = h("div");
    const jobsBox = h("div", { id: "jobs" });
    const form = h("form", { class: "filters", id: "job-filters" },
      field("State", f.state), field("Queue", f.queue), field("Event type", f.event_type),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply"), " ",
        h("button", { type: "button", id: "queue-refresh", onclick: () => load() }, "Refresh")));
    root.append(h("h1", {}, "Queue"), countsBox, chartBox, h("h2", {}, "Jobs"), form, errSlot, jobsBox);

    const load = async () => {
      const query = { state: f.state.value, queue: f.queue.value.trim(), event_type: f.event_type.value };
      const pager = ctx.client.pager("/v1/sync/queue", { query, limit: 50 });
      await guarded(errSlot, async () => {
        const page = await pager.next();
        addSample(page.counts);
        showCounts(countsBox, page.counts);
        drawChart(chartBox, samples());
        clear(jobsBox).append(jobTable(ctx, page, pager, errSlot, load));
      });
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    const sample = async () => {
      try {
        const page = await ctx.client.request("GET", "/v1/sync/queue", { query: { limit: 1 } });
        addSample(page.counts);
        showCounts(countsBox, page.counts);
        drawChart(chartBox, samples());
      } catch (e) {
        showError(errSlot, e);
      }
    };
    drawChart(chartBox, samples());
    load();
    const timer = setInterval(sample, SAMPLE_MS);
    return () => clearInterval(timer);
  },
};

function showCounts(box, counts) {
  clear(box);
  for (const s of STATES) box.append(h("span", { class: `badge st-${s}`, "data-state": s }, `${s} ${counts[s]}`), " ");
}

/** The jobs of a page as a table with a Retry button where allowed; "More" pages on. */
export function jobTable(ctx, page, pager, errSlot, reload, filter = () => true) {
  const body = h("tbody");
  const rows = (items) => {
    for (const j of items.filter(filter)) {
      const retryable = ["pending", "failed", "dead"].includes(j.state);
      body.append(h("tr", { "data-id": j.id, "data-state": j.state },
        h("td", {}, code(j.id)),
        h("td", {}, h("span", { class: `badge st-${j.state}` }, j.state)),
        h("td", {}, j.event_type), h("td", {}, code(j.webhook_id)), h("td", {}, j.queue),
        h("td", { class: "num" }, `${j.attempts}/${j.max_attempts}`),
        h("td", { class: "num" }, j.last_status ?? "—"), h("td", { class: "wrap" }, j.last_error ?? "—"),
        h("td", {}, time(j.next_attempt_at)),
        h("td", {}, retryable && ctx.can("queue.retry")
          ? h("button", { type: "button", class: "retry", onclick: (ev) => retry(ctx, j, errSlot, reload, ev.currentTarget) }, "Retry")
          : null)));
    }
  };
  rows(page.data);
  if (!body.children.length && pager.done) body.append(h("tr", {}, h("td", { colspan: 10, class: "muted" }, "No jobs.")));
  return h("div", {},
    h("div", { class: "scroll" }, h("table", { class: "jobs" },
      h("thead", {}, h("tr", {}, ["Job", "State", "Event", "Webhook", "Queue", "Attempts", "Last status", "Last error", "Next / settled", ""].map((x) => h("th", { scope: "col" }, x)))),
      body)),
    moreButton(pager, rows, errSlot));
}

async function retry(ctx, job, errSlot, reload, button) {
  await guarded(errSlot, async () => {
    const j = await ctx.client.request("POST", `/v1/sync/retry/${encodeURIComponent(job.id)}`);
    toast(`Job ${j.id} is ${j.state}: the next worker run sends it.`);
    await reload();
  }, button);
}

// ------------------------------------------------------------------ samples

function samples() {
  try {
    const list = JSON.parse(sessionStorage.getItem(SAMPLES_KEY) || "[]");
    const since = Date.now() - WINDOW_MS;
    return list.filter((s) => s.t >= since);
  } catch {
    return [];
  }
}

function addSample(counts) {
  if (!counts) return;
  const list = samples();
  list.push({ t: Date.now(), counts });
  try {
    sessionStorage.setItem(SAMPLES_KEY, JSON.stringify(list));
  } catch {}
}

const SVG = (tag, attrs = {}, ...kids) => h("svg:" + tag, attrs, ...kids);

/** A line per state over the last hour: x = time (now at the right), y = jobs. */
export function drawChart(fig, list) {
  clear(fig);
  const W = 600, H = 180, L = 40, R = 10, T = 10, B = 24;
  const now = Date.now();
  const max = Math.max(1, ...list.flatMap((s) => STATES.map((k) => s.counts[k] || 0)));
  const x = (t) => L + ((t - (now - WINDOW_MS)) / WINDOW_MS) * (W - L - R);
  const y = (n) => T + (1 - n / max) * (H - T - B);
  const svg = SVG("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "queue-chart-title", class: "chart-svg" },
    SVG("title", { id: "queue-chart-title" }, `Jobs by state over the last hour (${list.length} samples)`),
    SVG("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), class: "axis" }),
    SVG("line", { x1: L, y1: T, x2: L, y2: y(0), class: "axis" }),
    SVG("text", { x: L - 4, y: y(max) + 4, class: "tick end" }, String(max)),
    SVG("text", { x: L - 4, y: y(0) + 4, class: "tick end" }, "0"),
    SVG("text", { x: L, y: H - 6, class: "tick" }, "−60 min"),
    SVG("text", { x: L + (W - L - R) / 2, y: H - 6, class: "tick mid" }, "−30 min"),
    SVG("text", { x: W - R, y: H - 6, class: "tick end" }, "now"));
  for (const st of STATES) {
    const pts = list.map((s) => `${x(s.t).toFixed(1)},${y(s.counts[st] || 0).toFixed(1)}`);
    if (pts.length > 1) svg.append(SVG("polyline", { points: pts.join(" "), class: `line st-${st}` }));
    for (const s of list.slice(-1)) svg.append(SVG("circle", { cx: x(s.t).toFixed(1), cy: y(s.counts[st] || 0).toFixed(1), r: 3, class: `dot st-${st}` }));
  }
  fig.append(svg, h("figcaption", {},
    h("span", { class: "legend" }, STATES.map((s) => h("span", { class: `key st-${s}` }, s))),
    h("small", { class: "muted" }, " Counts sampled from GET /v1/sync/queue every 15 s while this view is open (kept for this tab's session).")));
}
