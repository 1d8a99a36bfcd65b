// The playground: chat with a flow; the answer builds up token by token while each step
// lights up on the graph (build events, read as a stream).

import { api, followRun } from "/console/js/api.js";
import { actionButton, fill, h, stateBadge, toast } from "/console/js/dom.js";
import { drawGraph, readGraph } from "/console/js/graph.js";

export async function render(main, { params: [flowId], signal }) {
  const flow = await api("GET", `/api/v1/flows/${flowId}`, { signal });
  const graphBox = h("div", { class: "graph-box" });
  const view = drawGraph(graphBox, readGraph(flow.data));
  const chat = h("div", { class: "chat", "aria-live": "polite", "aria-label": "conversation" });
  const input = h("input", { placeholder: "Type a message", "aria-label": "message", autocomplete: "off" });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const status = h("p", { class: "muted", id: "run-status" }, "Ready.");
  const askBox = h("div");
  const form = h("form", { class: "chat-form" }, input, send);
  let session = null;
  let running = null; // AbortController of the run being followed

  const bubble = (kind, text) => {
    const el = h("div", { class: `msg ${kind}` }, text);
    chat.append(el);
    chat.scrollTop = chat.scrollHeight;
    return el;
  };

  async function runOnce(text) {
    bubble("user", text);
    view.resetStates();
    const { job_id: jobId } = await api("POST", `/api/v1/build/${flowId}/flow`, {
      json: { inputs: { input_value: text, session: session || undefined } },
    });
    const controller = new AbortController();
    running = controller;
    signal.addEventListener("abort", () => controller.abort());
    const streams = new Map(); // message id -> bubble being streamed
    fill(status, "Run ", h("a", { href: `#/runs/${jobId}` }, jobId.slice(0, 8)), " ", stateBadge("queued"));
    const setState = (state) => fill(status, "Run ", h("a", { href: `#/runs/${jobId}` }, jobId.slice(0, 8)), " ", stateBadge(state));
    try {
      await followRun(jobId, {
        signal: controller.signal,
        onEvent(name, data) {
          if (name === "build_start") view.setState(data.id, "running");
          else if (name === "end_vertex") {
            const b = data.build_data || {};
            view.setState(b.id, b.valid === false ? "failed" : "completed");
            for (const skipped of b.inactivated_vertices || []) view.setState(skipped, "inactive");
          } else if (name === "token") {
            let el = streams.get(data.id);
            if (!el) {
              el = bubble("ai streaming", "");
              el.dataset.messageId = data.id;
              streams.set(data.id, el);
            }
            el.textContent += data.chunk;
            chat.scrollTop = chat.scrollHeight;
          } else if (name === "add_message") {
            if (data.sender === "User") return;
            session = data.session_id || session;
            // The streamed answer comes again as the output's message: show it once.
            const el = streams.get(data.id) || [...streams.values()].find((b) => b.textContent === data.text);
            if (el) {
              el.classList.remove("streaming");
              el.textContent = data.text;
            } else bubble("ai", data.text);
          } else if (name === "waiting") {
            view.setState(data.id, "waiting");
            showAsk(jobId, data);
          } else if (name === "state") {
            setState(data.state);
            if (data.state !== "waiting") askBox.replaceChildren();
          } else if (name === "end") {
            setState("completed"); // the terminal event says so itself, whatever came before
          } else if (name === "error") {
            setState(data.status || "failed");
            bubble("system", `Error: ${data.error || data.text || data.message || "the run failed"}`);
          }
        },
      });
    } finally {
      for (const el of streams.values()) el.classList.remove("streaming");
      running = null;
    }
  }

  function showAsk(jobId, data) {
    const answer = h("input", { "aria-label": "answer", placeholder: "Your answer" });
    const reply = (value) => async () => {
      await api("POST", `/api/v1/runs/${jobId}/answer`, { json: { value, vertex_id: data.id } });
      askBox.replaceChildren();
    };
    fill(
      askBox,
      h("div", { class: "ask", role: "group", "aria-label": "the run is waiting" },
        h("strong", {}, data.kind === "approval" ? "Approval needed" : "The flow asks"),
        h("span", {}, data.prompt || ""),
        data.kind === "approval"
          ? h("div", { class: "row" }, actionButton("Approve", reply(true), { class: "primary" }), actionButton("Reject", reply(false), { class: "danger" }))
          : h("div", { class: "row" }, answer, actionButton("Answer", () => reply(answer.value)(), { class: "primary" })),
      ),
    );
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || running) return;
    input.value = "";
    send.disabled = true;
    try {
      await runOnce(text);
    } catch (err) {
      if (err.name !== "AbortError") toast(err.message, "error");
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  fill(
    main,
    h("div", { class: "toolbar" },
      h("div", { class: "grow" }, h("h1", {}, `Playground: ${flow.name}`)),
      h("a", { class: "button", href: `#/flows/${flowId}` }, "Flow"),
      h("a", { class: "button", href: `#/runs?flow=${flowId}` }, "Runs"),
    ),
    h("div", { class: "layout" },
      h("section", { "aria-label": "graph" }, graphBox),
      h("section", { class: "card panel", "aria-label": "chat" }, chat, askBox, form, status),
    ),
  );
  input.focus();
  return { destroy: () => running && running.abort() };
}
