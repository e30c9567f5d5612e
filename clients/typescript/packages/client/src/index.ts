/**
 * @tether/client: typed client for Tether sessions, for browsers and Node.js.
 *
 * - {@link TetherSession}: subscribe, resume, reconnect, publish, cancel / steer / interrupt,
 *   presence, read cursors and unread counts.
 * - {@link TetherAgent} / {@link AgentRun}: the agent side (runs, messages, tool calls,
 *   control callbacks with an AbortSignal per run).
 * - {@link TetherHttp}: the session REST API and Durable Streams HTTP reads and appends.
 */
export * from './protocol.js';
export { TetherError } from './errors.js';
export { Emitter } from './emitter.js';
export { TetherHttp, type HttpClientOptions, type StreamRead, type TokenSource } from './http.js';
export {
  TetherSession,
  nextId,
  type CancelResult,
  type ConnectionState,
  type ControlResult,
  type PublishResult,
  type ReconnectOptions,
  type SessionEvents,
  type StateChange,
  type TetherSessionOptions,
} from './session.js';
export { AgentRun, MessageWriter, RunCancelled, TetherAgent, type AgentOptions, type ControlRequest } from './agent.js';
export { setDefaultWebSocketFactory, defaultWebSocketFactory, type WebSocketFactory, type WebSocketLike } from './socket.js';
