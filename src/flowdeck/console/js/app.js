// The console shell: sign-in, navigation and a hash router (`/#/runs`): console paths live in
// the fragment, so none can shadow an API route such as the control dialect's `/flows`.

import { api, getTenant, getToken, setTenant, setToken } from "/console/js/api.js";
import { fill, h, toast } from "/console/js/dom.js";

const SIGNED_OUT = "flowdeck.signedOut";

const ROUTES = [
  [/^\/flows\/([^/]+)\/play$/, () => import("/console/js/pages/playground.js")],
  [/^\/flows\/([^/]+)$/, () => import("/console/js/pages/flow.js")],
  [/^\/flows$/, () => import("/console/js/pages/flows.js")],
  [/^\/runs\/([^/]+)$/, () => import("/console/js/pages/run.js")],
  [/^\/runs$/, () => import("/console/js/pages/runs.js")],
  [/^\/keys$/, () => import("/console/js/pages/keys.js")],
];

const app = document.getElementById("app");
let config = {};
let me = null;
let tenants = []; // the tenants the person may act in, when more than one
let current = null; // {controller, destroy}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/flows";
  const [path, qs = ""] = raw.split("?");
  return { path: path || "/flows", query: new URLSearchParams(qs) };
}

function leave() {
  if (!current) return;
  current.controller.abort();
  if (current.destroy) current.destroy();
  current = null;
}

function nav(path) {
  const links = [
    ["#/flows", "Flows", "/flows"],
    ["#/runs", "Runs", "/runs"],
    ["#/keys", "API keys", "/keys"],
  ];
  return h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: "#/flows" }, "flowdeck"),
    h(
      "nav",
      { "aria-label": "main" },
      links.map(([href, label, prefix]) =>
        h("a", { href, "aria-current": path.startsWith(prefix) ? "page" : null }, label),
      ),
    ),
    h(
      "div",
      { class: "who" },
      tenants.length > 1 ? tenantPicker() : null,
      h("span", { class: "muted", id: "whoami" }, me ? me.username : ""),
      h("a", { href: "/docs", class: "muted" }, "API docs"),
      h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
    ),
  );
}

function tenantPicker() {
  const current = getTenant() || (me && me.tenant_id);
  const select = h(
    "select",
    { id: "tenant", "aria-label": "tenant to act in" },
    tenants.map((t) => h("option", { value: t.tenant_id, selected: t.tenant_id === current }, t.tenant_name)),
  );
  select.value = current;
  select.addEventListener("change", async () => {
    // The default tenant is named too: the choice is remembered either way.
    setTenant(select.value);
    toast(`Acting in ${select.selectedOptions[0].textContent}`);
    await route();
  });
  return h("label", { class: "tenant" }, h("span", { class: "muted" }, "Tenant"), select);
}

/** The tenants to pick from: those the person holds a role in, and their default one. */
async function loadTenants() {
  try {
    tenants = (await api("GET", "/api/v1/users/whoami/tenants")) || [];
  } catch {
    tenants = []; // the person acts in their default tenant
  }
  const picked = getTenant();
  if (picked && !tenants.some((t) => t.tenant_id === picked)) {
    // A tenant this person cannot act in (gone, or another person's choice): the default.
    setTenant(null);
    await loadTenants();
  }
}

async function route() {
  leave();
  if (!getToken()) {
    renderSignIn();
    return;
  }
  const { path, query } = parseHash();
  const main = h("main", { id: "main", tabindex: "-1" });
  fill(app, nav(path), main);
  const found = ROUTES.map(([re, load]) => [path.match(re), load]).find(([m]) => m);
  if (!found) {
    fill(main, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/flows" }, "Go to flows")));
    return;
  }
  const [match, load] = found;
  const controller = new AbortController();
  current = { controller, destroy: null };
  try {
    const page = await load();
    if (controller.signal.aborted) return;
    const view = await page.render(main, {
      params: match.slice(1).map(decodeURIComponent),
      query,
      signal: controller.signal,
      config,
    });
    if (current && current.controller === controller) current.destroy = view && view.destroy;
  } catch (err) {
    if (err.name === "AbortError" || controller.signal.aborted) return;
    fill(main, h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, err.message));
  }
}

async function afterSignIn(tokens) {
  setToken(tokens.access_token, tokens.refresh_token);
  sessionStorage.removeItem(SIGNED_OUT);
  [me] = await Promise.all([api("GET", "/api/v1/users/whoami"), loadTenants()]);
  if (!location.hash || location.hash === "#/login") location.hash = "#/flows";
  await route();
}

function renderSignIn(message) {
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to flowdeck"),
    h("label", {}, "Username", username),
    h("label", {}, "Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    error,
    h(
      "p",
      { class: "muted" },
      "API docs: ",
      h("a", { href: "/docs" }, "/docs"),
      ". Once signed in, create API keys under API keys; clients send them as x-api-key.",
    ),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const body = new URLSearchParams({ username: username.value, password: password.value });
    try {
      const tokens = await api("POST", "/api/v1/login", { form: body });
      await afterSignIn(tokens);
    } catch (err) {
      error.textContent = err.message;
    }
  });
  if (config.auto_login) {
    form.append(
      h("p", { class: "muted" }, "Auto-login is on for this server."),
      h("button", { type: "button", onclick: autoLogin }, "Continue without a password"),
    );
  }
  fill(app, h("main", { id: "main", class: "center" }, form));
  username.focus();
}

async function autoLogin() {
  try {
    const tokens = await api("GET", "/api/v1/auto_login");
    await afterSignIn(tokens);
  } catch (err) {
    renderSignIn(err.message);
  }
}

async function signOut() {
  leave();
  try {
    await api("POST", "/api/v1/logout");
  } catch {
    // The token is dropped either way; logout only clears the server's cookies.
  }
  setToken(null);
  me = null;
  tenants = [];
  sessionStorage.setItem(SIGNED_OUT, "1");
  renderSignIn();
}

async function start() {
  try {
    config = (await api("GET", "/api/v1/config")) || {};
  } catch {
    config = {};
  }
  if (getToken()) {
    try {
      [me] = await Promise.all([api("GET", "/api/v1/users/whoami"), loadTenants()]);
    } catch {
      setToken(null);
    }
  }
  if (!getToken() && config.auto_login && !sessionStorage.getItem(SIGNED_OUT)) {
    await autoLogin();
    return;
  }
  await route();
}

window.addEventListener("hashchange", route);
window.addEventListener("flowdeck:signed-out", () => {
  toast("Your session ended; sign in again.", "error");
  leave();
  renderSignIn();
});
start();
