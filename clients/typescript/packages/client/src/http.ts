import { TetherError } from './errors.js';
import type { ControlView, Offset, SessionEvent, SessionView, StartAt } from './protocol.js';

/** A capability token, or a function that returns a fresh one (called at every connect and request). */
export type TokenSource = string | (() => string | Promise<string>);

export interface HttpClientOptions {
  /** The node's base URL, e.g. `http://localhost:8080` (a path prefix is kept). */
  url: string;
  token?: TokenSource;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

export async function resolveToken(token: TokenSource | undefined): Promise<string | undefined> {
  if (token === undefined) return undefined;
  return typeof token === 'function' ? await token() : token;
}

/** One read of a session over Durable Streams HTTP. */
export interface StreamRead {
  events: SessionEvent[];
  /** The offset to read from next (`Stream-Next-Offset`). */
  next: Offset;
  upToDate: boolean;
}

/**
 * The session REST API and the Durable Streams HTTP reads and appends, with the token in the
 * `Authorization` header. Errors become {@link TetherError}s: the problem body's detail, with the
 * session's error code where the server gives one (`run-ended: ...`).
 */
export class TetherHttp {
  readonly base: string;
  private readonly token?: TokenSource;
  private readonly fetchImpl: typeof fetch;

  constructor(options: HttpClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.token = options.token;
    const f = options.fetch ?? globalThis.fetch;
    if (!f) throw new TetherError('unsupported', 'no fetch implementation: pass options.fetch');
    this.fetchImpl = f.bind(globalThis);
  }

  /** Creates the session (idempotent: an existing one is answered as it is). */
  async createSession(id: string, title?: string, signal?: AbortSignal): Promise<SessionView> {
    return this.json<SessionView>('POST', '/v1/sessions', { id, ...(title ? { title } : {}) }, signal);
  }

  /** `GET /v1/sessions/{id}`: presence, cursors with unread counts, runs and fences. */
  async describe(id: string, signal?: AbortSignal): Promise<SessionView> {
    return this.json<SessionView>('GET', `/v1/sessions/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** `POST /v1/sessions/{id}/control`: cancel, steer or interrupt over HTTP. */
  async control(
    id: string,
    body: { type: 'cancel' | 'steer' | 'interrupt'; id?: string; run?: string; message?: string; text?: string },
    signal?: AbortSignal,
  ): Promise<ControlView> {
    return this.json<ControlView>('POST', `/v1/sessions/${encodeURIComponent(id)}/control`, body, signal);
  }

  /** `POST /v1/sessions/{id}/cursors`: moves a device's read cursor. */
  async cursor(id: string, device: string, offset: Offset, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/cursors`, { device, offset }, signal);
  }

  /** Appends events through the Durable Streams protocol; answers the next offset. */
  async append(id: string, events: SessionEvent[], signal?: AbortSignal): Promise<Offset> {
    const response = await this.request('POST', `/v1/stream/${encodeURIComponent(id)}`, events, signal);
    return response.headers.get('Stream-Next-Offset') ?? '';
  }

  /**
   * Reads the session through the Durable Streams protocol after `offset`; with `live`, waits
   * (long-poll) for the next append when there is nothing to read.
   */
  async read(id: string, offset: StartAt, live: boolean, signal?: AbortSignal): Promise<StreamRead> {
    const query = `offset=${encodeURIComponent(offset)}${live ? '&live=long-poll' : ''}`;
    const response = await this.request('GET', `/v1/stream/${encodeURIComponent(id)}?${query}`, undefined, signal);
    const next = response.headers.get('Stream-Next-Offset') ?? offset;
    const upToDate = response.headers.get('Stream-Up-To-Date') === 'true';
    if (response.status === 204) return { events: [], next, upToDate: true };
    const text = await response.text();
    const events = text.trim() === '' ? [] : (JSON.parse(text) as SessionEvent[]);
    return { events, next, upToDate };
  }

  async headers(json: boolean): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    if (json) headers['Content-Type'] = 'application/json';
    const token = await resolveToken(this.token);
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  private async json<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.request(method, path, body, signal);
    return (await response.json()) as T;
  }

  private async request(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const response = await this.fetchImpl(this.base + path, {
      method,
      headers: await this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (response.ok) return response;
    throw await problem(response);
  }
}

async function problem(response: Response): Promise<TetherError> {
  let detail = response.statusText;
  try {
    const body = (await response.json()) as { detail?: string; title?: string };
    detail = body.detail ?? body.title ?? detail;
  } catch {
    // not a problem body
  }
  const coded = /^([a-z][a-z-]+): (.*)$/s.exec(detail);
  if (coded) return new TetherError(coded[1]!, coded[2]);
  const byStatus: Record<number, string> = {
    400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 409: 'conflict',
    410: 'gone', 429: 'overloaded', 503: 'unavailable',
  };
  return new TetherError(byStatus[response.status] ?? `http-${response.status}`, detail);
}
