// The phone's calls to the server (api.md). Problems become ApiError with the server's
// words; no answer at all becomes an ApiError without a status.
export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = 0) {
    super(problem.detail || problem.title || (status ? `HTTP ${status}` : "offline"));
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get offline() {
    return this.status == null;
  }
}

export const session = { token: null, lang: "zh-CN" };

export function headers(extra = {}) {
  const out = { Accept: "application/json", "Accept-Language": session.lang, ...extra };
  if (session.token) out.Authorization = `Bearer ${session.token}`;
  return out;
}

export async function call(method, path, { body, token } = {}) {
  const init = { method, headers: headers(body ? { "Content-Type": "application/json" } : {}),
    cache: "no-store", credentials: "omit" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (error) {
    throw new ApiError(null, { detail: String(error && error.message) });
  }
  const text = await response.text().catch(() => "");
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (_) {
    json = null;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw new ApiError(response.status, json || {}, retryAfter);
  }
  return json;
}

export const login = (username, password, deviceName) =>
  call("POST", "/auth/device", { body: { username, password, device_name: deviceName } });
export const logout = (token) => call("DELETE", "/auth/device", { token });
export const push = (deviceId, mutations) =>
  call("POST", "/sync/push", { body: { device_id: deviceId, mutations } });
export const pull = (cursor, limit = 500) =>
  call("GET", `/sync/pull?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
