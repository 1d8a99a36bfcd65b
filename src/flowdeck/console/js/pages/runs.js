// The runs list: server-paginated, filtered by flow and state, live through the runs feed
// (GET /api/v1/runs/events): a change of a shown run is painted from the event at once; a
// new run, or one leaving the state filtered on, re-reads the one page. Rows are updated in
// place so focus and scrolling stay put.

import { api, readServerEvents } from "/console/js/api.js";
import { TERMINAL, debounce, elapsed, fill, formatDuration, formatTime, h, progressBar, stateBadge, toast } from "/console/js/dom.js";

const SIZE = 25;
const TICK_MS = 1000; // the running rows' durations (no request)
const RECONNECT_MS = 1000;
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
  const records = new Map();
  let timer = null;
  let inFlight = false;
  let again = false;

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
    records.set(run.id, run);
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
    if (signal.aborted) return;
    if (inFlight) {
      again = true; // a change came in while reading: read once more after
      return;
    }
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
      for (const id of [...rows.keys()]) {
        if (!keep.has(id)) {
          rows.delete(id);
          records.delete(id);
        }
      }
      if (shown.length) body.replaceChildren(...shown.map(row));
      else fill(body, h("tr", {}, h("td", { colspan: "6", class: "muted" }, "No runs.")));
      fill(
        pager,
        h("button", { type: "button", disabled: filters.page <= 1, onclick: () => { filters.page -= 1; go(); } }, "Previous"),
        h("span", { class: "muted" }, `Page ${filters.page}`),
        h("button", { type: "button", disabled: !more, onclick: () => { filters.page += 1; go(); } }, "Next"),
      );
    } catch (err) {
      if (err.name !== "AbortError") toast(err.message, "error");
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        reread();
      }
    }
  }
  const reread = debounce(() => refresh(false), 50);

  /** A change from the feed: paint a shown run at once; re-read when the page may change. */
  function apply(change) {
    const run = records.get(change.run_id);
    if (!run) {
      const wanted = (!filters.flow || change.flow_id === filters.flow) && (!filters.state || change.state === filters.state);
      if (wanted && change.state && filters.page === 1) reread();
      return;
    }
    if (change.state) {
      run.state = change.state;
      if (change.state === "running" && !run.started_at) run.started_at = change.timestamp;
      if (TERMINAL.has(change.state) && !run.finished_at) run.finished_at = change.timestamp;
    }
    if (typeof change.progress === "number") run.progress = change.progress;
    const tr = row(run);
    // When the change happened and when it was painted: the benchmark and tests read them.
    tr.dataset.eventAt = change.timestamp;
    tr.dataset.paintedAt = new Date().toISOString();
    if (change.step) tr.dataset.step = `${change.step.id}:${change.step.state}`;
    if (filters.state && change.state && change.state !== filters.state) reread();
  }

  async function follow() {
    while (!signal.aborted) {
      try {
        await readServerEvents("/api/v1/runs/events", {
          signal,
          onEvent(name, data) {
            if (name === "run") apply(data);
            else refresh(false); // `ready` (nothing missed from here) or `lost`
            live.textContent = "live";
            live.dataset.live = "true";
          },
        });
      } catch (err) {
        if (signal.aborted) return;
        if (err.status && err.status < 500) {
          toast(`runs feed: ${err.message}`, "error");
          return;
        }
      }
      live.textContent = "reconnecting…";
      live.dataset.live = "false";
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
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
  follow();
  const tick = () => {
    for (const run of records.values()) if (!run.finished_at) row(run);
    timer = setTimeout(tick, TICK_MS);
  };
  timer = setTimeout(tick, TICK_MS);
  return { destroy: () => clearTimeout(timer) };
}
