// The API client: every call carries `Authorization: Bearer <token>` and never a cookie,
// so the console uses the public API exactly as any other client does. Once a tenant is
// picked, every call also names it (`Tenant-Id`).

const TOKEN_KEY = "flowdeck.token";
const REFRESH_KEY = "flowdeck.refresh";
// The tenant outlives the tab (localStorage): a person keeps acting where they chose.
const TENANT_KEY = "flowdeck.tenant";
// Refreshed this long before the access token expires (or at 80% of a shorter lifetime).
const REFRESH_AHEAD_MS = 60_000;
let token = sessionStorage.getItem(TOKEN_KEY);
let refreshToken = sessionStorage.getItem(REFRESH_KEY);
let tenant = localStorage.getItem(TENANT_KEY);
let refreshTimer = null;

export function getToken() {
  return token;
}

function remember(storage, key, value) {
  if (value) storage.setItem(key, value);
  else storage.removeItem(key);
}

/** Keep the tokens of a sign-in or refresh (`{access_token, refresh_token}`), or forget them. */
export function setToken(value, refresh) {
  token = value;
  remember(sessionStorage, TOKEN_KEY, value);
  if (refresh !== undefined || !value) {
    refreshToken = value ? refresh || null : null;
    remember(sessionStorage, REFRESH_KEY, refreshToken);
  }
  scheduleRefresh();
}

export function getTenant() {
  return tenant;
}

export function setTenant(value) {
  tenant = value || null;
  remember(localStorage, TENANT_KEY, tenant);
}

/** When the access token expires (ms since the epoch), from its `exp` claim. */
function expiresAt(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload));
    return typeof claims.exp === "number" ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
  const until = token && refreshToken ? expiresAt(token) : null;
  if (!until) return;
  const left = until - Date.now();
  const wait = Math.max(Math.min(left - REFRESH_AHEAD_MS, left * 0.8), 0);
  refreshTimer = setTimeout(() => refreshSession().catch(() => {}), wait);
}

let refreshing = null;

/** Trade the refresh token for new tokens (POST /api/v1/refresh), once at a time. */
export function refreshSession() {
  if (!refreshToken) return Promise.resolve(false);
  refreshing ||= (async () => {
    try {
      const response = await fetch("/api/v1/refresh", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refreshToken }),
        credentials: "omit",
      });
      if (!response.ok) return false;
      const tokens = await response.json();
      setToken(tokens.access_token, tokens.refresh_token);
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
scheduleRefresh();

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
    this.field = body && body.field;
    // A flow that failed validation lists every problem: [{node_id, field, message}].
    this.problems = body && Array.isArray(body.errors) ? body.errors : [];
  }
}

function messageOf(status, body) {
  if (body && typeof body.message === "string") return body.message;
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return `request failed (${status})`;
}

function url(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** fetch() with the bearer token; returns the Response (throws ApiError when not ok). */
export async function request(method, path, { json, form, body, query, signal } = {}, retried = false) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (tenant) headers["Tenant-Id"] = tenant;
  let payload = body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  } else if (form) {
    payload = form;
  }
  const response = await fetch(url(path, query), {
    method,
    headers,
    body: payload,
    signal,
    credentials: "omit",
  });
  // An access token that expired while the tab slept: refresh once and try again.
  if (response.status === 401 && token && !retried && refreshToken && (await refreshSession())) {
    return request(method, path, { json, form, body, query, signal }, true);
  }
  if (!response.ok) {
    let detail = null;
    try {
      detail = await response.json();
    } catch {
      detail = null;
    }
    if (response.status === 401 && token) {
      setToken(null);
      window.dispatchEvent(new CustomEvent("flowdeck:signed-out"));
    }
    throw new ApiError(response.status, detail);
  }
  return response;
}

/** A JSON call: the parsed answer (null for an empty one). */
export async function api(method, path, options) {
  const response = await request(method, path, options);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/**
 * The events of a stream of NDJSON lines, read with fetch() + ReadableStream (EventSource
 * cannot send the Authorization header). Calls onEvent(name, data) for each line.
 */
export async function readEvents(method, path, { json, query, signal, onEvent }) {
  const response = await request(method, path, { json, query, signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) dispatch(line, onEvent);
      newline = buffer.indexOf("\n");
    }
  }
  if (buffer.trim()) dispatch(buffer.trim(), onEvent);
}

/**
 * Follow a server-sent event stream with fetch() (EventSource cannot send the Authorization
 * header): onEvent(name, data) for each event; keep-alive comments are skipped.
 */
export async function readServerEvents(path, { query, signal, onEvent }) {
  const response = await request("GET", path, { query, signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      end = buffer.indexOf("\n\n");
    }
  }
}

function dispatch(line, onEvent) {
  let parsed;
  try {
    parsed = JSON.parse(line);
  } catch {
    return; // a keep-alive or a partial line from a dropped connection
  }
  if (parsed && typeof parsed.event === "string") onEvent(parsed.event, parsed.data || {});
}

const RECONNECT_MS = 1000;

/**
 * Follow a run's events from the start until its `end` or `error` event, or until `signal`
 * aborts. A dropped connection is resumed from the last event seen (event n has cursor n in
 * every API process), as EventSource would.
 */
export async function followRun(runId, { signal, onEvent }) {
  let cursor = 0;
  let ended = false;
  const counted = (name, data) => {
    cursor += 1;
    if (name === "end" || name === "error") ended = true;
    onEvent(name, data);
  };
  while (!ended) {
    try {
      await readEvents("GET", `/api/v1/build/${encodeURIComponent(runId)}/events`, {
        // flowdeck_events: the run page and the playground show states and questions too.
        query: { event_delivery: "streaming", cursor: cursor || undefined, flowdeck_events: true },
        signal,
        onEvent: counted,
      });
      if (!ended) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    } catch (err) {
      if (signal && signal.aborted) throw err;
      if (err instanceof ApiError && err.status < 500) throw err;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }
}
