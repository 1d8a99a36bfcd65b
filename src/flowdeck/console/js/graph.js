// A flow's graph: read from either document layout, laid out left to right by dagre, drawn as SVG.

import dagre from "/console/vendor/dagre.esm.js";
import { h, svg } from "/console/js/dom.js";

const NODE_W = 190;
const NODE_H = 58;
const CANVAS_ONLY = new Set(["noteNode", "note"]);

/** Nodes and edges of a flow document, in Langflow's JSON layout or the native form. */
export function readGraph(data) {
  const graph = data && !Array.isArray(data.nodes) && data.data ? data.data : data || {};
  const nodes = [];
  for (const raw of graph.nodes || []) {
    if (!raw || CANVAS_ONLY.has(raw.type)) continue;
    const d = raw.data;
    if (d && typeof d === "object" && d.type) {
      const node = d.node || {};
      const params = {};
      for (const [key, field] of Object.entries(node.template || {})) {
        if (key.startsWith("_")) continue;
        if (field && typeof field === "object") {
          if ("value" in field) params[key] = field.value;
        } else params[key] = field;
      }
      const id = d.id || raw.id;
      nodes.push({ id, type: d.type, name: node.display_name || d.type, params, langflow: true });
    } else if (raw.id && raw.type) {
      nodes.push({
        id: raw.id,
        type: raw.type,
        name: raw.display_name || raw.id,
        params: { ...(raw.params || {}) },
        langflow: false,
      });
    }
  }
  const edges = [];
  for (const raw of graph.edges || []) {
    const d = raw && raw.data;
    if (d && d.sourceHandle && d.targetHandle) {
      edges.push({
        source: d.sourceHandle.id || raw.source,
        output: d.sourceHandle.name,
        target: d.targetHandle.id || raw.target,
        field: d.targetHandle.fieldName,
      });
    } else if (raw && raw.from && raw.to) {
      const [source, ...o] = String(raw.from).split(".");
      const [target, ...f] = String(raw.to).split(".");
      edges.push({ source, output: o.join("."), target, field: f.join(".") });
    } else if (raw && raw.source && raw.target) {
      edges.push({ source: raw.source, output: raw.source_output, target: raw.target, field: raw.target_field });
    }
  }
  return { nodes, edges };
}

/**
 * A copy of `data` with field values changed: changes = {nodeId: {field: value}}.
 * Writes where each layout keeps values (native `params`, Langflow template `value`).
 */
export function applyChanges(data, changes) {
  const copy = structuredClone(data);
  const graph = Array.isArray(copy.nodes) ? copy : copy.data;
  for (const raw of graph.nodes || []) {
    const d = raw.data;
    const isLangflow = d && typeof d === "object" && d.type;
    const id = isLangflow ? d.id || raw.id : raw.id;
    const fields = changes[id];
    if (!fields) continue;
    for (const [field, value] of Object.entries(fields)) {
      if (isLangflow) {
        d.node = d.node || {};
        d.node.template = d.node.template || {};
        const slot = d.node.template[field];
        if (slot && typeof slot === "object") slot.value = value;
        else d.node.template[field] = { name: field, value, show: true };
      } else {
        raw.params = raw.params || {};
        if (value === undefined) delete raw.params[field];
        else raw.params[field] = value;
      }
    }
  }
  return copy;
}

function clip(text, max) {
  const s = String(text);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function edgePath(points) {
  const [first, ...rest] = points;
  let d = `M${first.x},${first.y}`;
  if (rest.length === 1) return `${d} L${rest[0].x},${rest[0].y}`;
  // Smooth through dagre's bend points with quadratic segments between midpoints.
  for (let i = 0; i < rest.length - 1; i += 1) {
    const p = rest[i];
    const n = rest[i + 1];
    d += ` Q${p.x},${p.y} ${(p.x + n.x) / 2},${(p.y + n.y) / 2}`;
  }
  const last = rest[rest.length - 1];
  return `${d} L${last.x},${last.y}`;
}

/**
 * Draw `model` into `container`. Returns a view with setState(id, state),
 * setProblems([{node_id, field, message}]), select(id).
 */
export function drawGraph(container, model, { onSelect } = {}) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 70, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(model.nodes.map((n) => n.id));
  for (const node of model.nodes) g.setNode(node.id, { width: NODE_W, height: NODE_H });
  model.edges.forEach((e, i) => {
    if (known.has(e.source) && known.has(e.target)) g.setEdge(e.source, e.target, {}, `e${i}`);
  });
  dagre.layout(g);
  const { width = 200, height = 100 } = g.graph();

  const root = svg("svg", {
    class: "graph",
    viewBox: `0 0 ${Math.max(width, 200)} ${Math.max(height, 80)}`,
    // Drawn at its natural size; a wide graph scrolls inside its box instead of shrinking.
    width: Math.max(width, 200),
    height: Math.max(height, 80),
    role: "group",
    "aria-label": `flow graph, ${model.nodes.length} steps`,
  });
  const defs = svg(
    "defs",
    {},
    svg(
      "marker",
      { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }),
    ),
  );
  root.append(defs);
  const edgeLayer = svg("g", { class: "edges" });
  for (const e of g.edges()) {
    const points = g.edge(e).points;
    const edgeEl = svg("path", { d: edgePath(points), class: "edge", "marker-end": "url(#arrow)" });
    edgeEl.dataset.source = e.v;
    edgeEl.dataset.target = e.w;
    edgeLayer.append(edgeEl);
  }
  root.append(edgeLayer);

  const elements = new Map();
  const nodeLayer = svg("g", { class: "nodes" });
  for (const node of model.nodes) {
    const pos = g.node(node.id);
    const x = pos.x - NODE_W / 2;
    const y = pos.y - NODE_H / 2;
    const title = svg("title", {}, `${node.type} ${node.id}`);
    const el = svg(
      "g",
      {
        class: "node state-idle",
        transform: `translate(${x},${y})`,
        tabindex: "0",
        role: "button",
        "aria-label": `${node.type} ${node.name}`,
      },
      title,
      svg("rect", { width: NODE_W, height: NODE_H, rx: "8", class: "node-box" }),
      svg("rect", { width: "6", height: NODE_H, rx: "3", class: "node-stripe" }),
      svg("text", { x: "16", y: "21", class: "node-type" }, clip(node.type, 26)),
      svg("text", { x: "16", y: "42", class: "node-name" }, clip(node.name, 22)),
      svg("circle", { cx: NODE_W - 14, cy: "14", r: "5", class: "node-dot" }),
    );
    el.dataset.nodeId = node.id;
    el.dataset.state = "idle";
    const choose = () => onSelect && onSelect(node);
    el.addEventListener("click", choose);
    el.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        choose();
      }
    });
    elements.set(node.id, { el, title, node });
    nodeLayer.append(el);
  }
  root.append(nodeLayer);
  container.replaceChildren(h("div", { class: "graph-scroll" }, root));

  return {
    root,
    setState(id, state) {
      const item = elements.get(id);
      if (!item) return;
      item.el.classList.remove(`state-${item.el.dataset.state}`);
      item.el.dataset.state = state;
      item.el.classList.add(`state-${state}`);
      item.el.setAttribute("aria-label", `${item.node.type} ${item.node.name}: ${state}`);
    },
    resetStates() {
      for (const id of elements.keys()) this.setState(id, "idle");
    },
    setProblems(problems) {
      for (const item of elements.values()) {
        item.el.classList.remove("has-problem");
        item.el.querySelector(".node-problem")?.remove();
        item.title.textContent = `${item.node.type} ${item.node.id}`;
      }
      const byNode = new Map();
      for (const p of problems) {
        if (!p.node_id || !elements.has(p.node_id)) continue;
        if (!byNode.has(p.node_id)) byNode.set(p.node_id, []);
        byNode.get(p.node_id).push(p);
      }
      for (const [id, list] of byNode) {
        const item = elements.get(id);
        item.el.classList.add("has-problem");
        const text = list.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("\n");
        item.title.textContent = `${item.node.type} ${item.node.id}\n${text}`;
        item.el.append(
          svg(
            "g",
            { class: "node-problem", transform: `translate(${NODE_W - 30},${NODE_H - 24})` },
            svg("rect", { width: "24", height: "18", rx: "9" }),
            svg("text", { x: "12", y: "13" }, `!${list.length}`),
          ),
        );
      }
    },
    select(id) {
      for (const [nodeId, item] of elements) item.el.classList.toggle("selected", nodeId === id);
    },
  };
}
