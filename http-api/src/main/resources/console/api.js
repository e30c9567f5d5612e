// The console's only door to the server: the public HTTP APIs, with the user's capability
// token when there is one (a `?token=` in the page's address is kept in localStorage).

const TOKEN_KEY = 'tether.token';

export function token() {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) localStorage.setItem(TOKEN_KEY, fromUrl);
  return fromUrl || localStorage.getItem(TOKEN_KEY) || '';
}

export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** An error with the server's problem detail when it sent one. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

export async function request(method, path, body, { headers = {}, signal } = {}) {
  const init = { method, headers: { ...authHeaders(), ...headers }, signal };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail ?? detail; } catch { /* not a problem body */ }
    throw new ApiError(response.status, detail);
  }
  return response;
}

async function json(method, path, body) {
  const response = await request(method, path, body);
  return response.status === 204 ? null : response.json();
}

export const streamUrl = (id) => `/v1/stream/${encodeURIComponent(id)}`;

export const streams = {
  /** Creates a JSON session (idempotent: an existing one with the same type is fine). */
  create: (id) => request('PUT', streamUrl(id), undefined,
    { headers: { 'Content-Type': 'application/json' } }),
  /** Appends events; a list is appended as one batch. */
  append: (id, events) => request('POST', streamUrl(id), events),
};

export const sessions = {
  /** Creates a JSON session and lists it among the caller's (idempotent). */
  create: (id) => json('POST', '/v1/sessions', { id }),
  list: () => json('GET', '/v1/sessions'),
};

export const runs = {
  list: (limit = 20) => json('GET', `/runs?limit=${limit}`),
  get: (id) => json('GET', `/runs/${encodeURIComponent(id)}`),
  files: (id) => json('GET', `/runs/${encodeURIComponent(id)}/files`),
  create: (body) => json('POST', '/runs', body),
  control: (id, action, body) => json('POST', `/runs/${encodeURIComponent(id)}/${action}`, body),
};
