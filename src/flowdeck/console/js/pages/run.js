// One run, live: the graph coloured by step state, a timeline of the steps, logs, messages,
// streamed tokens, outputs, errors, the plan (the inspector's view) and the controls.

import { ApiError, api, followRun } from "/console/js/api.js";
import {
  TERMINAL, actionButton, debounce, elapsed, fill, formatDuration, formatTime, h, jsonBlock,
  parseDate, progressBar, stateBadge, toast,
} from "/console/js/dom.js";
import { drawGraph, readGraph } from "/console/js/graph.js";

const TABS = ["Timeline", "Logs", "Messages", "Tokens", "Outputs", "Errors", "Plan"];

function timeline(steps) {
  const starts = steps.map((s) => parseDate(s.start)).filter(Boolean);
  if (!starts.length) return h("p", { class: "muted" }, "No step has started yet.");
  const t0 = Math.min(...starts);
  const t1 = Math.max(...steps.map((s) => (parseDate(s.end) || (s.start ? new Date() : null) || 0).valueOf()), t0 + 1);
  return h("div", { class: "timeline" }, steps.map((s) => {
    const a = parseDate(s.start);
    const bar = h("div", { class: `tl-bar state-${s.state}` });
    if (a) {
      const b = parseDate(s.end) || new Date();
      bar.style.left = `${((a - t0) / (t1 - t0)) * 100}%`;
      bar.style.width = `${Math.max(((b - a) / (t1 - t0)) * 100, 0.5)}%`;
    }
    return h("div", { class: "tl-row", dataset: { step: s.id } },
      h("span", { class: "mono", title: s.component }, s.id),
      h("div", { class: "tl-track", title: `${s.state}: ${formatTime(s.start)} – ${s.end ? formatTime(s.end) : "…"}` }, a ? bar : null),
      h("span", {}, s.start ? formatDuration(elapsed(s.start, s.end)) : s.state));
  }));
}

export async function render(main, { params: [runId], signal }) {
  let run = await api("GET", `/api/v1/runs/${runId}`, { signal });
  let flow = null;
  try {
    flow = run.flow_id ? await api("GET", `/api/v1/flows/${run.flow_id}`, { signal }) : null;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  // The graph that ran (the run's own snapshot, its flow version, or its flow's draft).
  let ran = null;
  try {
    ran = await api("GET", `/api/v1/runs/${runId}/graph`, { signal });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  const model = ran ? readGraph(ran.data) : { nodes: run.steps.map((s) => ({ id: s.id, type: s.component, name: s.id, params: {} })), edges: [] };
  const graphNote = !ran
    ? "The graph of this run is gone; its steps are shown."
    : ran.source === "version"
      ? `The graph of version ${ran.version}, which this run executed.`
      : ran.changed_since
        ? "The flow was edited after this run; the graph shown is its current draft."
        : ran.source === "run" ? "The graph sent with this run." : "The flow's draft, which this run executed.";
  const graphBox = h("div", { class: "graph-box", dataset: { source: ran ? ran.source : "steps" } });
  const view = drawGraph(graphBox, model);
  const header = h("div", { class: "card" });
  const controls = h("div", { class: "row", "aria-label": "run controls" });
  const askBox = h("div");
  const tabBar = h("div", { class: "tabs", role: "tablist" });
  const panel = h("div", { class: "tabpanel", role: "tabpanel" });
  const messages = [];
  const tokens = [];
  const logs = [];
  let waiting = null;
  let tab = "Timeline";

  const steps = () => run.steps || [];

  // The event stream is ahead of the stored record (written a few times a second), so what
  // the events said wins over a record read just before it caught up.
  const live = { run: null, steps: new Map() };

  function applyLive() {
    if (live.run && !TERMINAL.has(run.state)) Object.assign(run, live.run);
    for (const s of steps()) if (live.steps.has(s.id)) s.state = live.steps.get(s.id);
  }

  function paintSteps() {
    for (const s of steps()) view.setState(s.id, s.state === "pending" ? "idle" : s.state);
  }

  function paintHeader() {
    fill(header,
      h("div", { class: "row" }, h("h1", {}, flow ? flow.name : "Run"), h("span", { id: "run-state" }, stateBadge(run.state))),
      progressBar(run.progress, "run progress"),
      h("dl", { class: "facts" },
        h("dt", {}, "run"), h("dd", { class: "mono" }, run.id),
        h("dt", {}, "trigger"), h("dd", {}, run.trigger),
        h("dt", {}, "created"), h("dd", {}, formatTime(run.created_at)),
        h("dt", {}, "started"), h("dd", {}, formatTime(run.started_at)),
        h("dt", {}, "finished"), h("dd", {}, formatTime(run.finished_at)),
        h("dt", {}, "duration"), h("dd", {}, formatDuration(elapsed(run.started_at || run.created_at, run.finished_at))),
        run.reviewed_at ? [h("dt", {}, "reviewed"), h("dd", {}, `${formatTime(run.reviewed_at)} by user ${run.reviewed_by}`)] : null,
        run.error ? [h("dt", {}, "error"), h("dd", { class: "error" }, run.error)] : null));
    const control = (label, command, enabled, cls) =>
      actionButton(label, async () => {
        run = await api("POST", `/api/v1/runs/${runId}/${command}`);
        repaint();
      }, { disabled: !enabled, class: cls || "" });
    const s = run.state;
    fill(controls,
      control("Cancel", "cancel", !TERMINAL.has(s), "danger"),
      control("Pause", "pause", s === "running" || s === "waiting" || s === "queued"),
      control("Resume", "resume", s === "paused"),
      flow ? h("a", { class: "button", href: `#/flows/${flow.id}` }, "Flow") : null,
      h("a", { class: "button", href: `#/runs?flow=${run.flow_id || ""}` }, "All runs of this flow"));
    if (s === "waiting" && run.waiting_on) showAsk();
    else {
      askBox.replaceChildren();
      askBox.dataset.for = "";
    }
  }

  function showAsk() {
    const step = steps().find((x) => x.id === run.waiting_on);
    const kind = waiting && waiting.id === run.waiting_on ? waiting.kind : step && step.component === "Approval" ? "approval" : "input";
    if (askBox.dataset.for === run.waiting_on) return; // keep what the person is typing
    askBox.dataset.for = run.waiting_on;
    const answer = h("input", { "aria-label": "answer", placeholder: "Your answer" });
    const send = (value) => async () => {
      run = await api("POST", `/api/v1/runs/${runId}/answer`, { json: { value, vertex_id: run.waiting_on } });
      askBox.dataset.for = "";
      repaint();
    };
    fill(askBox, h("div", { class: "ask", role: "group", "aria-label": "waiting step" },
      h("strong", {}, `Step ${run.waiting_on} is waiting for ${kind === "approval" ? "approval" : "an answer"}`),
      waiting && waiting.prompt ? h("span", {}, waiting.prompt) : null,
      kind === "approval"
        ? h("div", { class: "row" }, actionButton("Approve", send(true), { class: "primary" }), actionButton("Reject", send(false), { class: "danger" }))
        : h("div", { class: "row" }, answer, actionButton("Send answer", () => send(answer.value)(), { class: "primary" }))));
  }

  async function paintPanel() {
    let content;
    if (tab === "Timeline") content = timeline(steps());
    else if (tab === "Logs") {
      const all = logs.length ? logs : run.logs || [];
      content = all.length ? h("pre", { class: "log" }, all.map((l) => `${l.timestamp || ""} ${l.level || ""} ${l.step ? `[${l.step}] ` : ""}${l.message}\n`)) : h("p", { class: "muted" }, "No logs.");
    } else if (tab === "Messages") {
      content = messages.length ? h("div", { class: "chat" }, messages.map((m) => h("div", { class: `msg ${m.sender === "User" ? "user" : "ai"}` }, `${m.sender_name || m.sender}: ${m.text}`))) : h("p", { class: "muted" }, "No messages.");
    } else if (tab === "Tokens") {
      content = tokens.length ? h("pre", { class: "log", id: "tokens" }, tokens.join("")) : h("p", { class: "muted" }, "No tokens streamed.");
    } else if (tab === "Outputs") {
      const perStep = steps().filter((s) => s.outputs).map((s) => h("div", {}, h("h3", { class: "mono" }, s.id), jsonBlock(s.outputs)));
      content = h("div", {}, perStep.length ? perStep : h("p", { class: "muted" }, "No outputs yet."), run.outputs ? [h("h3", {}, "Result"), jsonBlock(run.outputs)] : null);
    } else if (tab === "Errors") {
      const errs = [run.error ? h("li", {}, run.error) : null, ...steps().filter((s) => s.error).map((s) => h("li", {}, `${s.id}: ${s.error}`))].filter(Boolean);
      content = errs.length ? h("ul", { class: "problems" }, errs) : h("p", { class: "muted" }, "No errors.");
    } else {
      fill(panel, h("p", { class: "muted" }, "Loading the plan…"));
      content = await plan();
      if (tab !== "Plan") return; // another tab was chosen while the plan loaded
    }
    fill(panel, content);
  }

  async function plan() {
    if (!flow || !flow.slug) return h("p", { class: "muted" }, "The flow of this run is gone; no plan.");
    try {
      const found = await api("GET", `/api/v3/flows/inspector/${encodeURIComponent(flow.slug)}/`, { query: { session_id: run.session_id }, signal });
      const mine = (found.plans || []).find((p) => JSON.stringify(p.plan_context || {}).includes(run.id)) || found.current_plan || (found.plans || [])[0];
      if (!mine) return h("p", { class: "muted" }, "No plan.");
      const stage = (s) => (s && s.stage_obj ? `${s.stage_obj.name} (${s.stage_obj.component})` : "–");
      return h("div", {},
        h("dl", { class: "facts" },
          h("dt", {}, "current stage"), h("dd", {}, stage(mine.current_stage)),
          h("dt", {}, "next planned"), h("dd", {}, stage(mine.next_planned_stage)),
          h("dt", {}, "completed"), h("dd", {}, String(found.is_completed))),
        h("h3", {}, "Plan context"), jsonBlock(mine.plan_context));
    } catch (err) {
      return h("p", { class: "muted" }, err.message);
    }
  }

  function paintTabs() {
    fill(tabBar, TABS.map((name) => h("button", {
      type: "button", role: "tab", "aria-selected": String(name === tab), id: `tab-${name.toLowerCase()}`,
      onclick: () => { tab = name; paintTabs(); paintPanel(); },
    }, name)));
  }

  function repaint() {
    paintSteps();
    paintHeader();
    if (tab !== "Plan") paintPanel();
  }

  const reload = debounce(async () => {
    try {
      run = await api("GET", `/api/v1/runs/${runId}`, { signal });
      applyLive();
      repaint();
    } catch (err) {
      if (err.name !== "AbortError") toast(err.message, "error");
    }
  }, 150);

  fill(main,
    h("div", { class: "layout" },
      h("section", { "aria-label": "graph" }, graphBox, h("p", { class: "muted", id: "graph-source" }, graphNote),
        h("div", { class: "legend" }, ["idle", "running", "waiting", "completed", "failed"].map((s) => h("span", {}, stateBadge(s))))),
      h("section", { class: "panel" }, header, controls, askBox)),
    tabBar, panel);
  paintTabs();
  repaint();

  const controller = new AbortController();
  signal.addEventListener("abort", () => controller.abort());
  // Step changes are painted from the event itself, at once; the record is re-read after.
  followRun(runId, {
    signal: controller.signal,
    onEvent(name, data) {
      if (name === "build_start") {
        const step = steps().find((s) => s.id === data.id);
        if (step) step.start = step.start || new Date().toISOString();
        live.steps.set(data.id, "running");
        view.setState(data.id, "running");
      } else if (name === "end_vertex") {
        const b = data.build_data || {};
        live.steps.set(b.id, b.valid === false ? "failed" : "completed");
        view.setState(b.id, live.steps.get(b.id));
        for (const skipped of b.inactivated_vertices || []) {
          live.steps.set(skipped, "inactive");
          view.setState(skipped, "inactive");
        }
        reload();
      } else if (name === "token") {
        tokens.push(data.chunk);
        if (tab === "Tokens") paintPanel();
      } else if (name === "add_message") {
        messages.push(data);
        if (tab === "Messages") paintPanel();
      } else if (name === "log") {
        logs.push(data);
        if (tab === "Logs") paintPanel();
      } else if (name === "waiting") {
        waiting = data;
        live.steps.set(data.id, "waiting");
        view.setState(data.id, "waiting");
        reload();
      } else if (name === "state") {
        live.run = { state: data.state, progress: data.progress, waiting_on: data.waiting_on };
        applyLive();
        paintHeader();
        reload();
      } else if (name === "end" || name === "error") {
        reload();
      }
    },
  }).catch((err) => {
    if (err.name !== "AbortError") toast(`event stream: ${err.message}`, "error");
  });
  return { destroy: () => controller.abort() };
}
