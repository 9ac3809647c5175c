// The API client: same-origin fetch with the session cookie, the CSRF header on writes,
// and errors returned as data ({ok:false, error:{code,message,field}}) so that views show the
// server's own sentence instead of a generic failure.

let csrfToken = null;
let onSignedOut = () => {};

export function setCsrfToken(token) { csrfToken = token; }
export function whenSignedOut(fn) { onSignedOut = fn; }

/** The request's headers: JSON unless told otherwise, plus the CSRF token on writes. */
export function headersFor(method, contentType = "application/json") {
  const headers = { Accept: "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  return headers;
}

export async function request(method, path, body, { contentType = "application/json", quiet401 = false } = {}) {
  const init = { method, credentials: "same-origin", headers: headersFor(method, body === undefined ? null : contentType) };
  if (body !== undefined) init.body = contentType === "application/json" ? JSON.stringify(body) : body;
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, error: { code: "network", message: "Parley cannot be reached. Check your connection and try again." } };
  }
  const data = await readBody(response);
  if (response.ok) return { ok: true, status: response.status, data };
  const error = data?.error ?? { code: `http_${response.status}`, message: `The server answered ${response.status}.` };
  if (response.status === 401 && !quiet401) onSignedOut();
  return { ok: false, status: response.status, error, retryAfter: response.headers.get("Retry-After") };
}

async function readBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { return await response.json(); } catch { return null; }
  }
  return response.text();
}

export const get = (path, opts) => request("GET", path, undefined, opts);
export const post = (path, body, opts) => request("POST", path, body ?? {}, opts);
export const put = (path, body) => request("PUT", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const del = (path) => request("DELETE", path);

/** Builds a query string, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Follows nextCursor until the list ends (for small lists loaded once: users, channels). */
export async function all(path) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 50; page += 1) {
    const result = await get(path + query({ limit: 200, cursor }));
    if (!result.ok) return result;
    items.push(...result.data.items);
    cursor = result.data.nextCursor;
    if (!cursor) break;
  }
  return { ok: true, data: items };
}
