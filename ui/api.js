// One fetch wrapper for the JSON API: the session cookie goes along, calls that change something carry the
// session's CSRF token, a lost session goes back to sign-in, and an error comes back as one readable line.
let csrfToken = "";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export function setCsrf(token) {
  csrfToken = token || "";
}

function toLogin() {
  const here = window.location.pathname + window.location.search + window.location.hash;
  window.location.assign(here === "/" ? "/login" : "/login?" + new URLSearchParams({ next: here }));
}

// ``stream``: return the response itself once it is known to be good (a server-sent event stream).
export async function request(path, { method = "GET", body, stream = false } = {}) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "the Caretrail service did not answer");
  }
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, "your session ended: sign in again");
  }
  if (stream && response.ok) return response;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : `the request was refused (${response.status})`;
    throw new ApiError(response.status, detail);
  }
  return data;
}

export const get = (path) => request(path);
export const post = (path, body) => request(path, { method: "POST", body });

export async function session() {
  const response = await fetch("/v1/session", { credentials: "same-origin" });
  if (!response.ok) {
    toLogin();
    return null;
  }
  const me = await response.json();
  setCsrf(me.csrf_token);
  return me;
}

export async function signOut() {
  await request("/v1/session", { method: "DELETE" }).catch(() => {});
  window.location.assign("/login");
}
