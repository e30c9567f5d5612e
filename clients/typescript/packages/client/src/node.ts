/**
 * The Node.js entry point: the same API, with sockets from the `ws` package so the token travels
 * in the `Authorization` header instead of the URL.
 */
import WebSocket from 'ws';
import { setDefaultWebSocketFactory, type WebSocketLike } from './socket.js';

setDefaultWebSocketFactory({
  supportsHeaders: true,
  open: (url, headers) => new WebSocket(url, { headers, perMessageDeflate: false }) as unknown as WebSocketLike,
});

export * from './index.js';
