/**
 * TetherSession: one resumable subscription to one session, and the client's voice in it.
 *
 * Delivery: events are delivered in offset order, each once. The session remembers the offset of
 * the last event it delivered; after a drop (socket closed, node killed, token expired) it
 * reconnects by itself with exponential backoff and full jitter and resumes after that offset, so
 * a listener sees no gap and no duplicate. Requests (publish, cancel, steer, interrupt) carry ids
 * and resolve with the server's answer; one in flight when the connection drops is sent again
 * after the reconnect, and the server applies it once: publishes carry an idempotent producer
 * sequence, steer and interrupt are known by their id, a cancel answers its run's one fence
 * (see README, "Reconnects").
 *
 * One file over the usual size: the socket, the resume, the requests, their answers and
 * the HTTP fallback share one connection state; the pure parts live in reconcile.ts and
 * session-types.ts.
 */
import { Emitter } from './emitter.js';
import { TetherError } from './errors.js';
import { TetherHttp, resolveToken } from './http.js';
import {
  offsetAfter,
  type ClientFrame,
  type Delivered,
  type DeviceKind,
  type Offset,
  type ServerFrame,
  type SessionEvent,
  type SessionView,
  type StartAt,
} from './protocol.js';
import { defaultWebSocketFactory, type WebSocketFactory, type WebSocketLike } from './socket.js';
import { findEffect } from './reconcile.js';
import type {
  CancelResult,
  ConnectionState,
  ControlResult,
  PublishResult,
  SessionEvents,
  TetherSessionOptions,
} from './session-types.js';

export type * from './session-types.js';

type RequestKind = 'publish' | 'cancel' | 'steer' | 'interrupt' | 'ping';

interface Pending {
  id: string;
  kind: RequestKind;
  frame: ClientFrame;
  sentAfter: Offset | undefined;
  sent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

const MESSAGE_ENDS = new Set(['message.end', 'message']);
const RECONCILE_WINDOW = 10_000;

let idCounter = 0;
/** A request id unique within this page or process. */
export function nextId(prefix: string): string {
  idCounter += 1;
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}${idCounter.toString(36)}`;
}

export class TetherSession extends Emitter<SessionEvents> {
  readonly id: string;
  readonly device: string;
  readonly kind: DeviceKind;
  readonly http: TetherHttp;

  private readonly options: TetherSessionOptions;
  private readonly factory?: WebSocketFactory;
  private socket?: WebSocketLike;
  private _state: ConnectionState = 'connecting';
  private attempt = 0;
  private last: Offset | undefined;
  private readonly start: StartAt;
  private readonly pending = new Map<string, Pending>();
  private journal: Delivered[] | undefined;
  /**
   * The idempotent producer of this session's publishes: the server writes a publish sent again
   * with the same producer id, epoch and sequence (after a drop) once, and answers it as a
   * duplicate. One id per session object, so two tabs never share a sequence.
   */
  private readonly producerId = `${nextId('producer')}-${Math.random().toString(36).slice(2, 10)}`;
  private producerSeq = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private pongTimer?: ReturnType<typeof setTimeout>;
  private readonly readyWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private everLive = false;
  private failedOpens = 0;
  private useHttp: boolean;
  private httpAbort?: AbortController;
  private readonly _presence = new Map<string, DeviceKind>();
  private readonly messageEnds: Offset[] = [];
  private _cursor: Offset | undefined;
  private cursorSynced = false;
  private latestAck?: Offset;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(options: TetherSessionOptions) {
    super();
    this.options = options;
    this.id = options.session;
    this.kind = options.kind ?? 'client';
    this.device = options.device ?? `${this.kind}-${Math.random().toString(36).slice(2, 10)}`;
    this.start = options.after ?? '-1';
    this.http = new TetherHttp({ url: options.url, token: options.token, fetch: options.fetch });
    this.factory = options.webSocket ?? defaultWebSocketFactory();
    const mode = options.transport ?? 'auto';
    if (mode === 'websocket' && !this.factory) {
      throw new TetherError('unsupported', 'no WebSocket implementation: pass options.webSocket');
    }
    this.useHttp = mode === 'http' || !this.factory;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    void this.begin();
  }

  /** Connects to a session and waits until the replay has caught up (`up-to-date`). */
  static async connect(options: TetherSessionOptions): Promise<TetherSession> {
    const session = new TetherSession(options);
    try {
      await session.ready();
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The offset of the last event delivered (undefined before the first). */
  get lastOffset(): Offset | undefined {
    return this.last;
  }

  /** Whether the session reads over Durable Streams HTTP instead of a WebSocket. */
  get overHttp(): boolean {
    return this.useHttp;
  }

  /** The devices present, as far as the events delivered (and the REST view read once live) tell. */
  get presence(): ReadonlyMap<string, DeviceKind> {
    return this._presence;
  }

  /** This device's read cursor (the last offset acknowledged with {@link ack}, or the server's). */
  get cursor(): Offset | undefined {
    return this._cursor;
  }

  /** Messages ended after this device's cursor, among the events delivered. */
  get unread(): number {
    let n = 0;
    for (let i = this.messageEnds.length - 1; i >= 0 && offsetAfter(this.messageEnds[i]!, this._cursor); i--) n++;
    return n;
  }

  /** Resolves once delivery is live (the replay caught up); rejects if the session closes first. */
  ready(): Promise<void> {
    if (this._state === 'live') return Promise.resolve();
    if (this._state === 'closed') return Promise.reject(new TetherError('closed', 'the session was closed'));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Resolves when the session is closed (by {@link close} or a fatal error). */
  closed(): Promise<void> {
    return this.closedPromise;
  }

  /** The delivered events as an async iterator; ends when the session closes or `signal` aborts. */
  async *events(signal?: AbortSignal): AsyncGenerator<Delivered> {
    const queue: Delivered[] = [];
    let wake: (() => void) | undefined;
    const offEvent = this.on('event', (d) => {
      queue.push(d);
      wake?.();
    });
    const done = () => wake?.();
    void this.closedPromise.then(done);
    signal?.addEventListener('abort', done, { once: true });
    try {
      while (true) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (this._state === 'closed' || signal?.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      offEvent();
      signal?.removeEventListener('abort', done);
    }
  }

  // --- requests ----------------------------------------------------------------------------------

  /**
   * Appends events atomically (one group commit). `producer` and `time` are filled in when
   * missing, so the events are fully specified before they leave (that is what makes a publish
   * in flight during a drop recognisable among the replayed events, and never applied twice).
   */
  publish(events: SessionEvent | SessionEvent[], options: { id?: string } = {}): Promise<PublishResult> {
    const list = (Array.isArray(events) ? events : [events]).map((e) => this.complete(e));
    if (list.length === 0) return Promise.reject(new TetherError('bad-frame', 'publish needs at least one event'));
    const id = options.id ?? nextId('p');
    const max = this.options.maxFrameBytes ?? 1024 * 1024;
    const size = JSON.stringify(list).length;
    if (size > max) {
      return Promise.reject(new TetherError('too-large', `the events take ${size} characters; a frame may take ${max} (split them into several publishes)`));
    }
    if (this.useHttp) {
      return this.http.append(this.id, list).then((offset) => ({ id, offset }));
    }
    return this.request<PublishResult>({
      type: 'publish', id, events: list,
      producerId: this.producerId, producerEpoch: 0, producerSeq: this.producerSeq++,
    }, 'publish');
  }

  /** Cancels a run, or the run answering an input message (even before it starts): answers the fence. */
  cancel(target: { run: string } | { message: string }, options: { id?: string } = {}): Promise<CancelResult> {
    const id = options.id ?? nextId('c');
    if (this.useHttp) {
      return this.http.control(this.id, { type: 'cancel', id, ...target }).then((v) => ({ id, fence: v.fence ?? v.offset }));
    }
    const frame = 'run' in target
      ? { type: 'cancel' as const, id, run: target.run }
      : { type: 'cancel' as const, id, message: target.message };
    return this.request<CancelResult>(frame, 'cancel');
  }

  /** Injects a message into a running run: answers the offset of its `control.steer`. */
  steer(run: string, text: string, options: { id?: string } = {}): Promise<ControlResult> {
    const id = options.id ?? nextId('s');
    if (this.useHttp) {
      return this.http.control(this.id, { type: 'steer', id, run, text }).then((v) => ({ id, offset: v.offset }));
    }
    return this.request<ControlResult>({ type: 'steer', id, run, text }, 'steer');
  }

  /** Asks a running run to stop its current step and wait for input: answers the control's offset. */
  interrupt(run: string, options: { id?: string } = {}): Promise<ControlResult> {
    const id = options.id ?? nextId('i');
    if (this.useHttp) {
      return this.http.control(this.id, { type: 'interrupt', id, run }).then((v) => ({ id, offset: v.offset }));
    }
    return this.request<ControlResult>({ type: 'interrupt', id, run }, 'interrupt');
  }

  /**
   * Moves this device's read cursor (to the last delivered event by default). The server
   * persists cursors coalesced; the promise resolves when the frame is written (or, over HTTP,
   * accepted). After a reconnect the latest cursor is sent again.
   */
  async ack(offset: Offset | undefined = this.last): Promise<void> {
    if (offset === undefined) return;
    if (!offsetAfter(offset, this._cursor) && this._cursor !== undefined) return;
    this._cursor = offset;
    this.latestAck = offset;
    this.emit('unread', this.unread);
    if (this.useHttp) {
      await this.http.cursor(this.id, this.device, offset);
      return;
    }
    if (this.isOpen()) this.send({ type: 'ack', id: nextId('a'), device: this.device, offset });
  }

  /** Round trip to the node over the socket. */
  ping(): Promise<void> {
    if (this.useHttp) return this.http.describe(this.id).then(() => undefined);
    return this.request<void>({ type: 'ping', id: nextId('x') }, 'ping');
  }

  /** The session as the node sees it: presence, cursors with unread counts, runs and fences. */
  describe(signal?: AbortSignal): Promise<SessionView> {
    return this.http.describe(this.id, signal);
  }

  /** Closes the socket, stops every timer and listener; pending requests reject with `disconnected`. */
  close(): void {
    if (this._state === 'closed') return;
    this.setState('closed');
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.httpAbort?.abort();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      detach(socket);
      try {
        socket.close(1000, 'client closed');
      } catch {
        // already closing
      }
    }
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new TetherError('disconnected', 'the session was closed', { maybeApplied: p.sent }));
    }
    this.pending.clear();
    this.journal = undefined;
    for (const w of this.readyWaiters.splice(0)) w.reject(new TetherError('closed', 'the session was closed'));
    this.removeAllListeners();
    this.resolveClosed();
  }

  /** Forces the current socket closed as a network failure would; the session reconnects by itself. For tests and diagnostics. */
  dropConnection(): void {
    const socket = this.socket;
    if (!socket) return;
    this.onSocketClosed(socket, new TetherError('disconnected', 'dropped by the client'));
    try {
      socket.close(4000, 'dropped');
    } catch {
      // already closed
    }
  }

  // --- connection --------------------------------------------------------------------------------

  private async begin(): Promise<void> {
    if (this.options.create) {
      try {
        await this.http.createSession(this.id);
      } catch (error) {
        this.fail(error instanceof TetherError ? error : new TetherError('unavailable', String(error)));
        return;
      }
    }
    this.connect();
  }

  private connect(): void {
    if (this._state === 'closed') return;
    this.setState(this.attempt === 0 && !this.everLive ? 'connecting' : 'reconnecting');
    if (this.useHttp) {
      void this.pollHttp();
      return;
    }
    void this.openSocket();
  }

  private async openSocket(): Promise<void> {
    let token: string | undefined;
    try {
      token = await resolveToken(this.options.token);
    } catch (error) {
      this.scheduleReconnect(error);
      return;
    }
    if (this._state === 'closed') return;
    const factory = this.factory!;
    const url = new URL(`${this.http.base}/v1/sessions/${encodeURIComponent(this.id)}/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
    if (token && !factory.supportsHeaders) url.searchParams.set('access_token', token);
    let socket: WebSocketLike;
    try {
      socket = factory.open(url.toString(), factory.supportsHeaders ? headers : undefined);
    } catch (error) {
      this.failedOpens += 1;
      void this.probe(error);
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.failedOpens = 0;
      this.setState('catching-up');
      this.send({
        type: 'resume',
        after: this.last ?? this.start,
        granularity: this.options.granularity ?? 'delta',
        device: this.device,
        kind: this.kind,
        batch: true,
      });
      if (this.latestAck) this.send({ type: 'ack', id: nextId('a'), device: this.device, offset: this.latestAck });
      // Every request is idempotent on the server (publishes by producer sequence, controls by
      // id), so what was in flight at the drop is simply sent again, in its original order: one
      // that took effect is answered with what it did, never applied twice.
      for (const p of this.pending.values()) if (p.kind !== 'ping') this.transmit(p);
      this.startPing();
    };
    socket.onmessage = (message) => {
      if (this.socket !== socket) return;
      this.onFrame(typeof message.data === 'string' ? message.data : String(message.data));
    };
    socket.onerror = () => {
      // The close that follows carries the outcome.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (!opened) this.failedOpens += 1;
      this.onSocketClosed(socket, new TetherError('disconnected', `socket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`), !opened);
    };
  }

  private onSocketClosed(socket: WebSocketLike, error: unknown, neverOpened = false): void {
    if (this.socket !== socket) return;
    detach(socket);
    this.socket = undefined;
    this.stopPing();
    if (this._state === 'closed') return;
    for (const p of this.pending.values()) {
      if (p.kind === 'ping') {
        clearTimeout(p.timer);
        this.pending.delete(p.id);
        p.reject(new TetherError('disconnected', 'the connection dropped'));
      } else if (p.sent) {
        // Reconciled against the replay once the resumed connection is live.
        this.journal ??= [];
      }
    }
    if (neverOpened) void this.probe(error);
    else this.scheduleReconnect(error);
  }

  /**
   * A socket that never opened says nothing about why (a browser shows no status). The REST
   * view does: a refused token or a missing session ends the session with that error instead
   * of retrying forever; a node that answers HTTP while sockets keep failing means WebSockets
   * are not allowed on the way, and delivery falls back to Durable Streams HTTP.
   */
  private async probe(error: unknown): Promise<void> {
    try {
      await this.http.describe(this.id);
    } catch (refused) {
      if (refused instanceof TetherError && ['unauthorized', 'forbidden', 'not-found', 'gone'].includes(refused.code)) {
        this.fail(refused);
        return;
      }
      this.scheduleReconnect(error);
      return;
    }
    if (this.options.transport !== 'websocket' && !this.everLive && this.failedOpens >= 2) {
      this.useHttp = true;
      this.emit('error', new TetherError('websocket-unavailable', 'WebSockets fail here; reading over Durable Streams HTTP'));
    }
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: unknown): void {
    if (this._state === 'closed') return;
    const r = this.options.reconnect ?? {};
    const initial = r.initialDelayMs ?? 100;
    const max = r.maxDelayMs ?? 5000;
    const factor = r.factor ?? 2;
    const bound = Math.min(max, initial * factor ** this.attempt);
    const delay = Math.random() * bound;
    this.attempt += 1;
    this.setState('reconnecting', error);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onFrame(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      this.emit('error', new TetherError('bad-frame', `the server sent a frame that is not JSON: ${text.slice(0, 80)}`));
      return;
    }
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    switch (frame.type) {
      case 'event':
        this.deliver(frame.offset, frame.event);
        return;
      case 'events':
        for (const e of frame.events) this.deliver(e.offset, e.event);
        return;
      case 'up-to-date':
        this.onUpToDate(frame.offset);
        return;
      case 'published': {
        // A duplicate's offset is the tail when the resend arrived; the events it wrote were
        // delivered before this answer, so their own offset is found among them.
        const p = this.pending.get(frame.id);
        const found = frame.duplicate && p ? findEffect(p, (this.journal ?? []).filter((d) => offsetAfter(d.offset, p.sentAfter))) : undefined;
        this.settle(frame.id, found ?? { id: frame.id, offset: frame.offset });
        return;
      }
      case 'cancelled':
        this.settle(frame.id, { id: frame.id, fence: frame.fence });
        return;
      case 'control-accepted':
        this.settle(frame.id, { id: frame.id, offset: frame.offset });
        return;
      case 'pong':
        if (frame.id) this.settle(frame.id, undefined);
        return;
      case 'acked':
        return;
      case 'error':
        this.onError(frame.id, new TetherError(frame.code, frame.detail));
        return;
      default:
        return;
    }
  }

  private deliver(offset: Offset, event: SessionEvent, batched = false): void {
    if (!batched) {
      if (this.last !== undefined && !offsetAfter(offset, this.last)) return;
      this.last = offset;
    }
    const delivered: Delivered = { offset, event };
    if (this.journal) {
      this.journal.push(delivered);
      if (this.journal.length > RECONCILE_WINDOW) this.journal.shift();
    }
    this.track(delivered);
    this.emit('event', delivered);
  }

  private track({ offset, event }: Delivered): void {
    if (event.type === 'presence.joined' || event.type === 'presence.left') {
      const data = event.data as { device?: string; kind?: DeviceKind };
      if (!data.device) return;
      if (event.type === 'presence.joined') this._presence.set(data.device, data.kind ?? 'client');
      else this._presence.delete(data.device);
      this.emit('presence', this._presence);
    } else if (MESSAGE_ENDS.has(event.type)) {
      this.messageEnds.push(offset);
      if (this.messageEnds.length > 1000) this.messageEnds.shift();
      this.emit('unread', this.unread);
    }
  }

  private onUpToDate(offset: Offset): void {
    if (this.last === undefined || offsetAfter(offset, this.last)) this.last = offset;
    this.attempt = 0;
    this.everLive = true;
    this.setState('live');
    this.emit('up-to-date', { offset });
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    if (this.options.syncCursor !== false && !this.cursorSynced) {
      this.cursorSynced = true;
      void this.syncFromServer();
    }
  }

  private async syncFromServer(): Promise<void> {
    try {
      const view = await this.http.describe(this.id);
      if (this._state === 'closed') return;
      const mine = view.cursors.find((c) => c.device === this.device);
      if (mine && offsetAfter(mine.offset, this._cursor)) {
        this._cursor = mine.offset;
        this.emit('unread', this.unread);
      }
      let changed = false;
      for (const p of view.present) {
        if (!this._presence.has(p.device)) {
          this._presence.set(p.device, p.kind);
          changed = true;
        }
      }
      if (changed) this.emit('presence', this._presence);
    } catch {
      // Cursor and presence stay as the events tell.
    }
  }

  private hasSentPending(): boolean {
    for (const p of this.pending.values()) if (p.sent && p.kind !== 'ping') return true;
    return false;
  }

  private onError(id: string | undefined, error: TetherError): void {
    if (id && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(error);
      if (!this.hasSentPending()) this.journal = undefined;
      return;
    }
    if (error.code === 'not-found' || error.code === 'gone') {
      this.fail(error);
      return;
    }
    if (error.code === 'too-large') {
      // The server closes the socket after it: whatever publish was on the wire must not be sent again.
      for (const p of [...this.pending.values()]) {
        if (p.kind === 'publish' && p.sent) {
          this.pending.delete(p.id);
          clearTimeout(p.timer);
          p.reject(error);
        }
      }
    }
    // token-expired and idle-timeout close the socket: the reconnect takes a fresh token.
    this.emit('error', error);
  }

  private fail(error: TetherError): void {
    for (const w of this.readyWaiters.splice(0)) w.reject(error);
    this.emit('error', error);
    this.close();
  }

  private request<T>(frame: ClientFrame & { id: string }, kind: RequestKind): Promise<T> {
    if (this._state === 'closed') return Promise.reject(new TetherError('closed', 'the session was closed'));
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = this.options.requestTimeoutMs ?? 30_000;
      const p: Pending = {
        id: frame.id,
        kind,
        frame,
        sentAfter: this.last,
        sent: false,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(frame.id);
          reject(new TetherError('timeout', `no answer to ${kind} ${frame.id} within ${timeoutMs} ms`, { maybeApplied: p.sent }));
        }, timeoutMs),
      };
      this.pending.set(frame.id, p);
      this.transmit(p);
    });
  }

  private transmit(p: Pending): void {
    if (!this.isOpen()) return;
    if (p.kind === 'publish') this.journal ??= [];
    p.sent = true;
    this.send(p.frame);
  }

  private settle(id: string, value: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(value);
    if (!this.hasSentPending()) this.journal = undefined;
  }

  private isOpen(): boolean {
    return this.socket !== undefined && this.socket.readyState === 1;
  }

  private send(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private complete(event: SessionEvent): SessionEvent {
    return {
      ...event,
      producer: event.producer ?? this.device,
      time: event.time ?? new Date().toISOString(),
      data: event.data ?? {},
    } as SessionEvent;
  }

  private setState(state: ConnectionState, error?: unknown): void {
    if (this._state === state && state !== 'reconnecting') return;
    if (this._state === 'closed') return;
    this._state = state;
    this.emit('state', { state, attempt: this.attempt, error });
  }

  private startPing(): void {
    this.stopPing();
    const interval = this.options.pingIntervalMs ?? 20_000;
    const timeout = this.options.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket || !this.isOpen()) return;
      this.send({ type: 'ping' });
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        if (this.socket === socket) this.dropConnection();
      }, timeout);
    }, interval);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }

  // --- Durable Streams HTTP fallback -------------------------------------------------------------

  private async pollHttp(): Promise<void> {
    const abort = new AbortController();
    this.httpAbort = abort;
    let offset: StartAt = this.last ?? this.start;
    if (offset === 'now') {
      try {
        offset = (await this.http.describe(this.id, abort.signal)).tail;
      } catch (error) {
        if (!abort.signal.aborted) this.scheduleReconnect(error);
        return;
      }
    }
    let live = false;
    this.setState('catching-up');
    while (!abort.signal.aborted && this._state !== 'closed') {
      try {
        const read = await this.http.read(this.id, offset, live, abort.signal);
        // A read answers its items with one offset, the one after the last: each event is
        // delivered with it, and the next read starts there.
        if (read.events.length > 0 && offsetAfter(read.next, this.last)) {
          for (const event of read.events) this.deliver(read.next, event, true);
          this.last = read.next;
        }
        offset = read.next;
        if (read.upToDate && !live) {
          this.onUpToDate(offset);
          live = true;
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        if (error instanceof TetherError && (error.code === 'not-found' || error.code === 'gone')) {
          this.fail(error);
          return;
        }
        this.scheduleReconnect(error);
        return;
      }
    }
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => {};
}
