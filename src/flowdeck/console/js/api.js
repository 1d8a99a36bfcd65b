// The API client: every call carries `Authorization: Bearer <token>` and never a cookie,
// so the console uses the public API exactly as any other client does.

const TOKEN_KEY = "flowdeck.token";
let token = sessionStorage.getItem(TOKEN_KEY);

export function getToken() {
  return token;
}

export function setToken(value) {
  token = value;
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

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
export async function request(method, path, { json, form, body, query, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(url(path, query), {
    method,
    headers,
    body,
    signal,
    credentials: "omit",
  });
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
