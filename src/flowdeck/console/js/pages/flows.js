// Flows: search, paginate, import (Langflow JSON through the upload route, native YAML parsed
// here and created as a flow).

import { ApiError, api } from "/console/js/api.js";
import { debounce, fill, formatTime, h, toast } from "/console/js/dom.js";

const SIZE = 25;

/** Import a flow file; a refused one's error carries the parsed document (`err.doc`). */
export async function importFlowFile(file) {
  try {
    return await importFile(file);
  } catch (err) {
    if (err instanceof ApiError && err.problems.length && !err.doc && !/\.zip$/i.test(file.name)) {
      try {
        err.doc = JSON.parse(await file.text());
      } catch {
        err.doc = null;
      }
    }
    throw err;
  }
}

async function importFile(file) {
  const name = file.name || "flow";
  if (/\.ya?ml$/i.test(name)) {
    const { load } = await import("/console/vendor/js-yaml.esm.js");
    let doc;
    try {
      doc = load(await file.text());
    } catch (err) {
      throw new Error(`${name} is not valid YAML: ${err.message}`);
    }
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.nodes)) {
      throw new Error(`${name} has no 'nodes' list`);
    }
    const { name: flowName, description, ...graph } = doc;
    try {
      const flow = await api("POST", "/api/v1/flows/", {
        json: { name: flowName || name.replace(/\.ya?ml$/i, ""), description, data: graph },
      });
      return [flow];
    } catch (err) {
      err.doc = graph;
      throw err;
    }
  }
  const form = new FormData();
  form.append("file", file, name);
  return api("POST", "/api/v1/flows/upload/", { form });
}

/** The problems of a flow ([{node_id, field, message}]) as a list, or null for none. */
export function problemList(problems) {
  if (!problems || !problems.length) return null;
  return h(
    "ul",
    { class: "problems" },
    problems.map((p) => h("li", {}, [p.node_id, p.field].filter(Boolean).join(".") || "flow", ": ", p.message)),
  );
}

export async function render(main, { query, signal }) {
  let page = Number(query.get("page") || 1);
  const search = h("input", {
    type: "search",
    placeholder: "Search flows by name or description",
    "aria-label": "Search flows",
    value: query.get("q") || "",
  });
  const fileInput = h("input", { type: "file", accept: ".json,.yaml,.yml,.zip", id: "import-file", class: "visually-hidden" });
  const importError = h("div", { class: "error", role: "alert" });
  const body = h("tbody");
  const pager = h("div", { class: "pager" });

  const load = () => show().catch((err) => err.name !== "AbortError" && toast(err.message, "error"));
  const show = async () => {
    const result = await api("GET", "/api/v1/flows/", {
      query: { get_all: false, page, size: SIZE, keyword: search.value.trim(), header_flows: true },
      signal,
    });
    fill(
      body,
      result.items.length
        ? result.items.map((f) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: `#/flows/${f.id}` }, f.name)),
              h("td", { class: "muted" }, f.description || ""),
              h("td", {}, f.is_online ? h("span", { class: "pill" }, "online") : ""),
              h("td", {}, formatTime(f.updated_at)),
              h("td", {}, h("a", { href: `#/flows/${f.id}/play` }, "Playground"), " · ", h("a", { href: `#/runs?flow=${f.id}` }, "Runs")),
            ),
          )
        : h("tr", {}, h("td", { colspan: "5", class: "muted" }, search.value ? "No flow matches." : "No flows yet: import one.")),
    );
    fill(
      pager,
      h("button", { type: "button", disabled: page <= 1, onclick: () => { page -= 1; load(); } }, "Previous"),
      h("span", { class: "muted" }, `Page ${result.page} of ${Math.max(result.pages, 1)} · ${result.total} flows`),
      h("button", { type: "button", disabled: page >= result.pages, onclick: () => { page += 1; load(); } }, "Next"),
    );
  };

  search.addEventListener("input", debounce(() => { page = 1; load(); }, 250));
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    if (!file) return;
    importError.replaceChildren();
    try {
      const created = await importFlowFile(file);
      toast(`Imported ${created.map((f) => f.name).join(", ")}`);
      location.hash = created.length === 1 ? `#/flows/${created[0].id}` : "#/flows";
      if (created.length !== 1) await show();
    } catch (err) {
      fill(importError, err.message, problemList(err instanceof ApiError ? err.problems : []));
      if (err.doc && err.problems.length) {
        // Show where the problems are: the refused file's graph, its faulty nodes marked.
        const { drawGraph, readGraph } = await import("/console/js/graph.js");
        const box = h("div", { class: "graph-box", "aria-label": "the refused flow" });
        importError.append(box);
        drawGraph(box, readGraph(err.doc)).setProblems(err.problems);
      }
    } finally {
      fileInput.value = "";
    }
  });

  fill(
    main,
    h("h1", {}, "Flows"),
    h(
      "div",
      { class: "toolbar" },
      h("div", { class: "grow" }, search),
      h("label", { class: "button primary", for: "import-file", tabindex: "0", role: "button",
        onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); fileInput.click(); } } },
        "Import a flow (JSON or YAML)"),
      fileInput,
    ),
    importError,
    h(
      "table",
      { class: "responsive" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Description"), h("th", {}, "Online"), h("th", {}, "Updated"), h("th", {}, ""))),
      body,
    ),
    pager,
  );
  await show();
}
