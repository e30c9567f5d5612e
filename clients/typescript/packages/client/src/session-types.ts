/** The options, results and events of {@link TetherSession}. */
import type { TetherError } from './errors.js';
import type { TokenSource } from './http.js';
import type { Delivered, DeviceKind, Granularity, Offset, StartAt } from './protocol.js';
import type { WebSocketFactory } from './socket.js';

export type ConnectionState = 'connecting' | 'catching-up' | 'live' | 'reconnecting' | 'closed';

export interface ReconnectOptions {
  /** First retry delay bound in ms (default 100). */
  initialDelayMs?: number;
  /** Largest retry delay bound in ms (default 5000). */
  maxDelayMs?: number;
  /** Growth of the bound per failed attempt (default 2). */
  factor?: number;
}

export interface TetherSessionOptions {
  /** The node's base URL (`http://host:8080`); the WebSocket URL is derived from it. */
  url: string;
  /** The session id. */
  session: string;
  /** Capability token: sent as `Authorization: Bearer` where headers are possible (Node.js), else as `access_token`. */
  token?: TokenSource;
  /** The device this connection speaks for (presence, read cursor, default producer). */
  device?: string;
  kind?: DeviceKind;
  /** Where delivery starts the first time (default `-1`, the beginning); later resumes continue after the last delivered event. */
  after?: StartAt;
  granularity?: Granularity;
  /** `websocket`, `http` (Durable Streams long-poll reads; publishing and control over HTTP), or `auto` (default): WebSocket, falling back to HTTP when sockets cannot be opened. */
  transport?: 'websocket' | 'http' | 'auto';
  /** Opens sockets; defaults to the platform's (the `ws` package in Node.js, `WebSocket` in browsers). */
  webSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  reconnect?: ReconnectOptions;
  /** Interval of application pings (default 20 s; the server closes a socket idle for 90 s). */
  pingIntervalMs?: number;
  /** A socket with no frame for this long after a ping is considered dead and replaced (default 10 s). */
  pongTimeoutMs?: number;
  /** How long a request waits for its answer (default 30 s). */
  requestTimeoutMs?: number;
  /** Read the device's cursor and the presence list over REST once live, for unread counts (default true). */
  syncCursor?: boolean;
  /** The largest publish frame sent (default 1 MiB, the server's `max-frame-bytes`); larger publishes reject with `too-large`. */
  maxFrameBytes?: number;
  /** Create the session (idempotently) before connecting (default false). */
  create?: boolean;
}

export interface PublishResult { id: string; offset: Offset }
export interface CancelResult { id: string; fence: Offset }
export interface ControlResult { id: string; offset: Offset }

export interface StateChange { state: ConnectionState; attempt: number; error?: unknown }

export type SessionEvents = {
  event: Delivered;
  state: StateChange;
  'up-to-date': { offset: Offset };
  presence: ReadonlyMap<string, DeviceKind>;
  unread: number;
  /** Errors not tied to a request: refused resumes, a closed session, listener-level problems. */
  error: TetherError;
};

