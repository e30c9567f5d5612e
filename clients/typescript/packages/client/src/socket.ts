/** The part of the WHATWG WebSocket interface the session uses (the `ws` package has it too). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens sockets. `supportsHeaders`: the token can go in a header; otherwise it goes in `access_token`. */
export interface WebSocketFactory {
  open(url: string, headers?: Record<string, string>): WebSocketLike;
  readonly supportsHeaders: boolean;
}

let platformDefault: WebSocketFactory | undefined;

/** Sets the factory used when a session is given none (the Node.js entry point installs `ws`). */
export function setDefaultWebSocketFactory(factory: WebSocketFactory | undefined): void {
  platformDefault = factory;
}

/** The platform's factory: the installed default, else the global `WebSocket` (token as `access_token`). */
export function defaultWebSocketFactory(): WebSocketFactory | undefined {
  if (platformDefault) return platformDefault;
  const Global = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Global) return undefined;
  return { supportsHeaders: false, open: (url) => new Global(url) };
}
