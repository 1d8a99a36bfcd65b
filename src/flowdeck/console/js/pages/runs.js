// The runs list: server-paginated, filtered by flow and state, refreshed in place every second
// (the API has per-run event streams but no stream of the list, so the page re-reads its one
// page of rows; rows are updated in place so focus and scrolling stay put).

import { api } from "/console/js/api.js";
import { elapsed, fill, formatDuration, formatTime, h, progressBar, stateBadge, toast } from "/console/js/dom.js";

const SIZE = 25;
const REFRESH_MS = 1000;
const STATES = ["queued", "running", "paused", "waiting", "completed", "failed", "cancelled"];

export async function render(main, { query, signal }) {
  const filters = { flow: query.get("flow") || "", state: query.get("state") || "", page: Number(query.get("page") || 1) };
  const names = new Map();
  const flowSelect = h("select", { "aria-label": "filter by flow", id: "filter-flow" }, h("option", { value: "" }, "All flows"));
  const stateSelect = h("select", { "aria-label": "filter by state", id: "filter-state" },
    h("option", { value: "" }, "All states"), STATES.map((s) => h("option", { value: s }, s)));
  flowSelect.value = filters.flow;
  stateSelect.value = filters.state;
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const live = h("span", { class: "muted", "aria-live": "off" });
  const rows = new Map();
  let timer = null;
  let inFlight = false;

  const go = () => {
    const qs = new URLSearchParams();
    if (filters.flow) qs.set("flow", filters.flow);
    if (filters.state) qs.set("state", filters.state);
    if (filters.page > 1) qs.set("page", String(filters.page));
    const hash = `#/runs${qs.toString() ? `?${qs}` : ""}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    refresh(true);
  };
  flowSelect.addEventListener("change", () => { filters.flow = flowSelect.value; filters.page = 1; go(); });
  stateSelect.addEventListener("change", () => { filters.state = stateSelect.value; filters.page = 1; go(); });

  function row(run) {
    let tr = rows.get(run.id);
    if (!tr) {
      tr = h("tr", { dataset: { runId: run.id } });
      rows.set(run.id, tr);
    }
    const key = `${run.state}|${run.progress}|${run.started_at}|${run.finished_at}`;
    const running = !run.finished_at;
    if (tr.dataset.key !== key || running) {
      tr.dataset.key = key;
      tr.dataset.state = run.state;
      fill(
        tr,
        h("td", {}, h("a", { href: `#/runs/${run.id}` }, names.get(run.flow_id) || (run.flow_id || "").slice(0, 8) || "–"),
          h("div", { class: "muted mono" }, run.id.slice(0, 8))),
        h("td", {}, run.trigger),
        h("td", { class: "run-state" }, stateBadge(run.state)),
        h("td", {}, progressBar(run.progress, `progress of run ${run.id.slice(0, 8)}`)),
        h("td", {}, formatTime(run.started_at || run.created_at)),
        h("td", {}, formatDuration(elapsed(run.started_at || run.created_at, run.finished_at))),
      );
    }
    return tr;
  }

  async function refresh(reset, before) {
    if (inFlight || signal.aborted) return;
    inFlight = true;
    try {
      const list = await api("GET", "/api/v1/runs/", {
        query: { flow_id: filters.flow, state: filters.state, limit: SIZE + 1, offset: (filters.page - 1) * SIZE },
        signal,
      });
      if (before) await before; // the flow names, for the first page
      const more = list.length > SIZE;
      const shown = list.slice(0, SIZE);
      if (reset) rows.clear();
      const keep = new Set(shown.map((r) => r.id));
      for (const id of [...rows.keys()]) if (!keep.has(id)) rows.delete(id);
      if (shown.length) body.replaceChildren(...shown.map(row));
      else fill(body, h("tr", {}, h("td", { colspan: "6", class: "muted" }, "No runs.")));
      fill(
        pager,
        h("button", { type: "button", disabled: filters.page <= 1, onclick: () => { filters.page -= 1; go(); } }, "Previous"),
        h("span", { class: "muted" }, `Page ${filters.page}`),
        h("button", { type: "button", disabled: !more, onclick: () => { filters.page += 1; go(); } }, "Next"),
      );
      live.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (err.name !== "AbortError") toast(err.message, "error");
    } finally {
      inFlight = false;
    }
  }

  fill(
    main,
    h("h1", {}, "Runs"),
    h("div", { class: "toolbar" }, h("label", {}, "Flow", flowSelect), h("label", {}, "State", stateSelect), live),
    h("table", { class: "responsive", id: "runs-table" },
      h("thead", {}, h("tr", {}, ["Flow", "Trigger", "State", "Progress", "Started", "Duration"].map((t) => h("th", {}, t)))),
      body),
    pager,
  );
  // The flow names and the first page of runs are read at once.
  const flowsRead = api("GET", "/api/v1/flows/", { query: { header_flows: true }, signal }).then((flows) => {
    for (const f of flows) {
      names.set(f.id, f.name);
      flowSelect.append(h("option", { value: f.id }, f.name));
    }
    flowSelect.value = filters.flow;
  });
  await Promise.all([flowsRead, refresh(true, flowsRead)]);
  const tick = () => {
    if (document.visibilityState === "visible") refresh(false);
    timer = setTimeout(tick, REFRESH_MS);
  };
  timer = setTimeout(tick, REFRESH_MS);
  return { destroy: () => clearTimeout(timer) };
}
