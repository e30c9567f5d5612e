// A live, resumable read of one session. It tracks the offset after the last event it handed
// out and, whenever the connection drops, resumes from exactly there: the page never sees an
// event twice and never misses one.
//
// Two transports, same contract:
//  - the session WebSocket (per-event offsets, controls, presence), preferred;
//  - Durable Streams long-poll over HTTP (read only), used when the WebSocket is not served.
//
// Handlers: onEvents([{offset, event}]), onUpToDate(offset), onState({state, offset, transport,
// attempt, error}) with state one of connecting | live | reconnecting | closed.

import { authHeaders, streamUrl, token } from './api.js';

/** Offsets are fixed-width and sort as strings; '-1' is before everything. */
export const after = (a, b) => b === null || b === undefined || b === '-1' || a > b;

export const wsUrl = (id) => {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const t = token();
  return `${scheme}://${location.host}/v1/sessions/${encodeURIComponent(id)}/ws`
    + (t ? `?access_token=${encodeURIComponent(t)}` : '');
};

const backoff = (attempt) => Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function openFeed(sessionId, handlers, { device, preferWebSocket = true } = {}) {
  const feed = {
    offset: '-1', transport: null, closed: false, device,
    close() { this.closed = true; this.impl?.close(); handlers.onState?.({ state: 'closed' }); },
    control(frame) { return this.impl?.control ? this.impl.control(frame) : Promise.reject(
      new Error('controls need the session WebSocket, which this server does not offer')); },
    /** Forces the current connection down, as a network loss would (for the tests and demos). */
    drop() { this.impl?.drop(); },
  };
  const deliver = (list) => {
    const fresh = list.filter((e) => e.offset === null || after(e.offset, feed.offset));
    if (fresh.length) handlers.onEvents(fresh);
  };
  const start = (kind) => {
    feed.transport = kind;
    feed.impl = kind === 'websocket'
      ? webSocketTransport(sessionId, feed, handlers, deliver, () => start('long-poll'))
      : longPollTransport(sessionId, feed, handlers);
  };
  start(preferWebSocket && 'WebSocket' in window ? 'websocket' : 'long-poll');
  return feed;
}

function webSocketTransport(sessionId, feed, handlers, deliver, fallBack) {
  let socket = null;
  let everOpened = false;
  // The first replay asks for whole messages; the server may then flush a message still open
  // at the tail at its last delta's offset, below events already sent, so no offset filter
  // applies until the first up-to-date.
  let rollup = feed.offset === '-1';
  let attempt = 0;
  let nextId = 1;
  let ping = null;
  let ackTimer = null;
  let ended = null; // the session cannot be followed (deleted, never created): no reconnect
  const pending = new Map();
  // The read cursor of this device follows what it has shown, at most one ack a second.
  const ackSoon = () => {
    if (ackTimer || !feed.device) return;
    ackTimer = setTimeout(() => {
      ackTimer = null;
      if (socket?.readyState === 1 && feed.offset !== '-1') {
        socket.send(JSON.stringify({ type: 'ack', device: feed.device, offset: feed.offset }));
      }
    }, 1000);
  };

  const connect = () => {
    if (feed.closed) return;
    const resumedFrom = feed.offset;
    handlers.onState?.({ state: attempt ? 'reconnecting' : 'connecting', offset: resumedFrom,
      transport: 'websocket', attempt });
    socket = new WebSocket(wsUrl(sessionId));
    socket.onopen = () => {
      everOpened = true;
      socket.send(JSON.stringify({ type: 'resume', after: feed.offset, device: feed.device,
        kind: 'client', granularity: rollup ? 'message' : 'delta' }));
      ping = setInterval(() => socket.readyState === 1 && socket.send('{"type":"ping"}'), 15000);
    };
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === 'event') {
        if (rollup) handlers.onEvents([{ offset: frame.offset, event: frame.event }]);
        else deliver([{ offset: frame.offset, event: frame.event }]);
        if (after(frame.offset, feed.offset)) feed.offset = frame.offset;
        if (!rollup) ackSoon();
      } else if (frame.type === 'up-to-date') {
        if (frame.offset && after(frame.offset, feed.offset)) feed.offset = frame.offset;
        rollup = false;
        ackSoon();
        handlers.onUpToDate?.(feed.offset);
        handlers.onState?.({ state: 'live', offset: feed.offset, transport: 'websocket',
          resumedAt: attempt ? resumedFrom : null });
        attempt = 0;
      } else if (frame.id !== undefined && pending.has(String(frame.id))) {
        const { resolve, reject } = pending.get(String(frame.id));
        pending.delete(String(frame.id));
        (frame.type === 'error' ? reject : resolve)(frame);
      } else if (frame.type === 'error') {
        if (frame.code === 'not-found' || frame.code === 'gone') ended = frame.detail;
        handlers.onState?.({ state: ended ? 'closed' : 'live', offset: feed.offset,
          transport: 'websocket', error: `${frame.code}: ${frame.detail}` });
      }
    };
    socket.onclose = () => {
      clearInterval(ping);
      for (const { reject } of pending.values()) {
        reject({ code: 'disconnected', detail: 'the connection dropped before the answer' });
      }
      pending.clear();
      if (feed.closed) return;
      if (ended) {
        handlers.onState?.({ state: 'closed', offset: feed.offset, transport: 'websocket', error: ended });
        return;
      }
      if (!everOpened) { fallBack(); return; }
      if (rollup) {
        // Dropped inside the roll-up: messages still open were never sent, so start over.
        feed.offset = '-1';
        handlers.onReset?.();
      }
      attempt += 1;
      handlers.onState?.({ state: 'reconnecting', offset: feed.offset, transport: 'websocket',
        attempt });
      setTimeout(connect, backoff(attempt));
    };
  };
  connect();
  return {
    close() { socket?.close(1000); },
    drop() { socket?.close(4000, 'dropped by the page'); },
    control(frame) {
      const id = `c${Date.now().toString(36)}${nextId++}`;
      return new Promise((resolve, reject) => {
        if (!socket || socket.readyState !== 1) {
          reject({ code: 'disconnected', detail: 'not connected; try again when live' });
          return;
        }
        pending.set(id, { resolve, reject });
        socket.send(JSON.stringify({ ...frame, id }));
      });
    },
  };
}

function longPollTransport(sessionId, feed, handlers) {
  let controller = new AbortController();
  let attempt = 0;
  let upToDate = false;
  const run = async () => {
    handlers.onState?.({ state: 'connecting', offset: feed.offset, transport: 'long-poll' });
    while (!feed.closed) {
      const resumedFrom = feed.offset;
      try {
        const live = upToDate ? '&live=long-poll' : '';
        const response = await fetch(`${streamUrl(sessionId)}?offset=${feed.offset}${live}`,
          { headers: authHeaders(), signal: controller.signal, cache: 'no-store' });
        if (response.status === 404 || response.status === 410) {
          handlers.onState?.({ state: 'closed', offset: feed.offset, transport: 'long-poll',
            error: response.status === 404 ? 'no such session' : 'the session was deleted' });
          return;
        }
        if (response.status !== 200 && response.status !== 204) {
          throw new Error(`HTTP ${response.status}`);
        }
        const next = response.headers.get('Stream-Next-Offset') ?? feed.offset;
        const items = response.status === 200 ? await response.json() : [];
        if (items.length) handlers.onEvents(items.map((event) => ({ offset: null, event, batch: next })));
        feed.offset = next;
        if (response.headers.get('Stream-Up-To-Date') === 'true' || response.status === 204) {
          if (!upToDate || attempt) {
            handlers.onUpToDate?.(feed.offset);
            handlers.onState?.({ state: 'live', offset: feed.offset, transport: 'long-poll',
              resumedAt: attempt ? resumedFrom : null });
          }
          upToDate = true;
          attempt = 0;
        }
        if (response.headers.get('Stream-Closed') === 'true' && !items.length) {
          handlers.onState?.({ state: 'closed', offset: feed.offset, transport: 'long-poll' });
          return;
        }
      } catch (error) {
        if (feed.closed) return;
        attempt += 1;
        handlers.onState?.({ state: 'reconnecting', offset: feed.offset, transport: 'long-poll',
          attempt, error: String(error.message ?? error) });
        controller = new AbortController();
        await sleep(backoff(attempt));
      }
    }
  };
  run();
  return {
    close() { controller.abort(); },
    drop() { controller.abort(); },
  };
}
