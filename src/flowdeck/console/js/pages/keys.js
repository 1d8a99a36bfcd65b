// API keys: create (the whole key is shown this once, with a copy button), list, delete.

import { api } from "/console/js/api.js";
import { actionButton, fill, formatTime, h, toast } from "/console/js/dom.js";

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (e.g. an embedded browser): select the text for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("new-key"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    toast("Press Ctrl+C to copy the selected key.");
    return;
  }
  toast("Copied to the clipboard");
}

export async function render(main, { signal }) {
  const name = h("input", { placeholder: "name, e.g. cli", "aria-label": "key name", required: true });
  const created = h("div", { role: "status" });
  const body = h("tbody");

  async function load() {
    const page = await api("GET", "/api/v1/api_key/", { signal });
    fill(body, page.api_keys.length
      ? page.api_keys.map((k) => h("tr", { dataset: { keyId: k.id } },
          h("td", {}, k.name || "–"),
          h("td", { class: "mono" }, k.api_key),
          h("td", {}, formatTime(k.created_at)),
          h("td", {}, formatTime(k.last_used_at)),
          h("td", {}, String(k.total_uses)),
          h("td", {}, actionButton("Delete", async () => {
            if (!window.confirm(`Delete the key ${k.name || k.api_key}? Clients using it stop working.`)) return;
            await api("DELETE", `/api/v1/api_key/${k.id}`);
            toast("Key deleted");
            await load();
          }, { class: "danger", "aria-label": `Delete key ${k.name || k.api_key}` }))))
      : h("tr", {}, h("td", { colspan: "6", class: "muted" }, "No API keys.")));
  }

  const form = h("form", { class: "toolbar" }, h("label", { class: "grow" }, "New key", name), h("button", { type: "submit", class: "primary" }, "Create key"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const key = await api("POST", "/api/v1/api_key/", { json: { name: name.value.trim() } });
      name.value = "";
      fill(created, h("div", { class: "card ask" },
        h("strong", {}, "Your new key. It is shown only this once: copy it now."),
        h("div", { class: "secret" }, h("code", { id: "new-key" }, key.api_key),
          h("button", { type: "button", onclick: () => copy(key.api_key) }, "Copy"))));
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  });

  fill(main, h("h1", {}, "API keys"),
    h("p", { class: "muted" }, "Send a key in the x-api-key header (or the x-api-key query parameter)."),
    form, created,
    h("table", { class: "responsive" },
      h("thead", {}, h("tr", {}, ["Name", "Key", "Created", "Last used", "Uses", ""].map((t) => h("th", {}, t)))),
      body));
  await load();
}
