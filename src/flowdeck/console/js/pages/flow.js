// One flow: its graph, a node's field values (edited and saved, problems marked on the nodes),
// its versions (create, publish) and its deployment status and commands.

import { ApiError, api } from "/console/js/api.js";
import { actionButton, debounce, fill, formatTime, h, stateBadge, toast } from "/console/js/dom.js";
import { applyChanges, drawGraph, readGraph } from "/console/js/graph.js";
import { problemList } from "/console/js/pages/flows.js";

function fieldInput(field, value) {
  if (typeof value === "boolean") {
    return h("input", { type: "checkbox", checked: value, name: field, dataset: { kind: "boolean" } });
  }
  if (typeof value === "number") {
    return h("input", { type: "number", step: "any", value: String(value), name: field, dataset: { kind: "number" } });
  }
  if (typeof value === "string") {
    return value.length > 60 || value.includes("\n")
      ? h("textarea", { rows: "4", name: field, value, dataset: { kind: "string" } })
      : h("input", { value, name: field, dataset: { kind: "string" } });
  }
  return h("textarea", { rows: "3", name: field, value: JSON.stringify(value ?? null, null, 2), dataset: { kind: "json" } });
}

function readInput(input) {
  const kind = input.dataset.kind;
  if (kind === "boolean") return input.checked;
  if (kind === "number") return input.value === "" ? null : Number(input.value);
  if (kind === "json") {
    try {
      return JSON.parse(input.value);
    } catch {
      throw new Error(`${input.name}: not valid JSON`);
    }
  }
  return input.value;
}

export async function render(main, { params: [flowId], signal }) {
  let flow = await api("GET", `/api/v1/flows/${flowId}`, { signal });
  let model = readGraph(flow.data);
  let view = null;
  let problems = [];
  const changes = {};
  const graphBox = h("div", { class: "graph-box" });
  const side = h("aside", { class: "card panel", "aria-label": "step details" });
  const problemBox = h("div", { class: "error", role: "alert" });
  const saveButton = actionButton("Save changes", save, { class: "primary", disabled: true });
  const versionsBox = h("div");
  const deployBox = h("div");

  function redraw() {
    view = drawGraph(graphBox, model, { onSelect: select });
    view.setProblems(problems);
  }

  function select(node) {
    view.select(node.id);
    const edits = changes[node.id] || {};
    const values = { ...node.params, ...edits };
    const inputs = Object.entries(values).map(([field, value]) => {
      const input = fieldInput(field, value);
      input.addEventListener("change", () => {
        try {
          (changes[node.id] ||= {})[field] = readInput(input);
          saveButton.disabled = false;
          check(node);
        } catch (err) {
          toast(err.message, "error");
        }
      });
      const mine = problems.filter((p) => p.node_id === node.id && p.field === field);
      return h("label", {}, field, input, mine.map((p) => h("span", { class: "error" }, p.message)));
    });
    const newName = h("input", { placeholder: "field", "aria-label": "new field name" });
    const newValue = h("input", { placeholder: "value", "aria-label": "new field value" });
    const nodeProblems = problems.filter((p) => p.node_id === node.id && !(p.field in values));
    fill(
      side,
      h("h2", {}, node.name),
      h("dl", { class: "facts" }, h("dt", {}, "id"), h("dd", { class: "mono" }, node.id), h("dt", {}, "type"), h("dd", {}, node.type)),
      nodeProblems.length ? h("ul", { class: "problems" }, nodeProblems.map((p) => h("li", {}, p.field ? `${p.field}: ` : "", p.message))) : null,
      h("div", { class: "fields" }, inputs.length ? inputs : h("p", { class: "muted" }, "No field values set.")),
      h(
        "div",
        { class: "row" },
        newName,
        newValue,
        h("button", {
          type: "button",
          onclick: () => {
            if (!newName.value.trim()) return;
            (changes[node.id] ||= {})[newName.value.trim()] = newValue.value;
            saveButton.disabled = false;
            select(node);
            check(node);
          },
        }, "Set field"),
      ),
      saveButton,
    );
  }

  // Edits are checked as they are made (POST /api/v1/validate/flow saves nothing), so the
  // nodes at fault are marked before the person saves.
  const check = debounce(async (node) => {
    try {
      const found = await api("POST", "/api/v1/validate/flow", { json: { data: applyChanges(flow.data, changes) }, signal });
      problems = found.errors;
      view.setProblems(problems);
      problemBox.replaceChildren(...(problems.length ? ["These changes make the flow invalid.", problemList(problems)] : []));
      if (node && side.contains(document.activeElement) === false) select(node);
    } catch (err) {
      if (err.name !== "AbortError") toast(err.message, "error");
    }
  }, 250);

  async function save() {
    problemBox.replaceChildren();
    try {
      flow = await api("PATCH", `/api/v1/flows/${flowId}`, {
        json: { data: applyChanges(flow.data, changes), last_known_updated_at: flow.updated_at },
      });
    } catch (err) {
      if (err instanceof ApiError && err.problems.length) {
        problems = err.problems;
        view.setProblems(problems);
        fill(problemBox, "Not saved: the flow is invalid.", problemList(err.problems));
        return;
      }
      throw err;
    }
    for (const key of Object.keys(changes)) delete changes[key];
    problems = [];
    model = readGraph(flow.data);
    redraw();
    saveButton.disabled = true;
    fill(side, h("p", { class: "muted" }, "Saved. Select a step to see or edit its fields."));
    toast("Flow saved");
  }

  async function loadVersions() {
    const versions = await api("GET", `/api/v1/flows/${flowId}/versions/`, { signal });
    const label = h("input", { placeholder: "version, e.g. 1.0", "aria-label": "version" });
    const note = h("input", { placeholder: "note (optional)", "aria-label": "version note" });
    fill(
      versionsBox,
      h("div", { class: "row" }, label, note, actionButton("Save as version", async () => {
        await api("POST", `/api/v1/flows/${flowId}/versions/`, { json: { version: label.value.trim(), note: note.value || null } });
        toast("Version saved");
        await loadVersions();
      })),
      versions.length
        ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "Note"), h("th", {}, "Created"), h("th", {}, ""))),
            h("tbody", {}, versions.map((v) => h("tr", {},
              h("td", {}, v.version, flow.online_version_id === v.id ? h("span", { class: "pill" }, " online") : ""),
              h("td", {}, v.note || ""),
              h("td", {}, formatTime(v.create_at || v.created_at)), // Langflow spells it create_at
              h("td", {}, actionButton("Publish", async () => {
                flow = await api("POST", `/api/v1/flows/${flowId}/versions/${v.id}/publish`);
                toast(`Version ${v.version} is online`);
                await loadVersions();
              }, { "aria-label": `Publish version ${v.version}` })),
            ))))
        : h("p", { class: "muted" }, "No versions yet."),
    );
  }

  async function loadDeployment() {
    const status = await api("GET", `/flows/status/${flowId}`, { signal });
    const command = (name, type) =>
      actionButton(
        type === 1 ? "Hard stop" : type === 0 ? "Soft stop" : name[0].toUpperCase() + name.slice(1),
        async () => {
          const result = await api("PATCH", "/flows/commands", { json: { command: name, flow_ids: [flowId], type: type ?? 0 } });
          const detail = (result.details || [])[0];
          if (detail && detail.error) throw new Error(detail.error);
          toast(`${name}: ${detail ? detail.status : result.status}`);
          await loadDeployment();
        },
        { class: type === 1 ? "danger" : "" },
      );
    const runs = status.runs || {};
    fill(
      deployBox,
      h("p", {}, "Status: ", h("span", { class: `badge deploy state-${status.status}`, id: "deploy-status" }, status.status),
        h("span", { class: "muted" }, ` · queued ${runs.queued ?? 0}, running ${runs.running ?? 0}, paused ${runs.paused ?? 0}, waiting ${runs.waiting ?? 0}`)),
      h("div", { class: "row" }, command("start"), command("pause"), command("resume"), command("stop", 0), command("stop", 1)),
    );
  }

  fill(
    main,
    h("div", { class: "toolbar" },
      h("div", { class: "grow" }, h("h1", {}, flow.name), flow.description ? h("p", { class: "muted" }, flow.description) : null),
      h("a", { class: "button primary", href: `#/flows/${flowId}/play` }, "Open playground"),
      h("a", { class: "button", href: `#/runs?flow=${flowId}` }, "Runs"),
    ),
    h("div", { class: "layout" },
      h("section", { "aria-label": "graph" }, graphBox, problemBox,
        h("p", { class: "muted" }, "Select a step (click, or Tab and Enter) to see and edit its field values.")),
      side,
    ),
    h("section", {}, h("h2", {}, "Deployment"), deployBox),
    h("section", {}, h("h2", {}, "Versions"), versionsBox),
  );
  fill(side, h("p", { class: "muted" }, "Select a step to see or edit its fields."));
  redraw();
  await Promise.all([loadVersions(), loadDeployment()]);
}
