/**
 * createTetherChatTransport: an AI SDK `ChatTransport<UIMessage>` over a Tether session. One
 * session per chat (the chat id by default), nothing for the app to keep: the user's message is
 * published into the session, the agent's answer (the run answering it) streams back as
 * `UIMessageChunk`s, Stop is a fenced cancel that every device sees, and a reload or a second
 * device resumes the answer in flight from its start.
 */
import {
  TetherError,
  TetherHttp,
  TetherSession,
  offsetAfter,
  type CancelResult,
  type ControlResult,
  type Delivered,
  type Offset,
  type RunView,
  type StartAt,
  type TokenSource,
  type WebSocketFactory,
} from '@tether/client';
import { readUIMessageStream, type ChatTransport, type UIMessage, type UIMessageChunk } from 'ai';
import { RunChunks, fenceReason, userMessageEvent } from './chunks.js';

export interface TetherChatTransportOptions {
  /** The Tether node's base URL (`http://localhost:8080`, or the page's origin behind a proxy). */
  url: string;
  /** Capability token (`subscribe`, `publish`, `control` on the chat's session), or a function returning a fresh one. */
  token?: TokenSource;
  /** This device (presence, read cursor); one per browser tab or app install. */
  device?: string;
  /** Maps a chat id to its session id; by default they are the same. */
  session?: (chatId: string) => string;
  /** Create each chat's session on first use (default true; needs `publish`). */
  createSessions?: boolean;
  webSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  /** Resume's AbortSignal (Stop pressed while showing a resumed answer) cancels the run too (default true). */
  cancelOnResumeAbort?: boolean;
}

/** What {@link TetherChatTransport.watch} reports: things other devices did in the chat. */
export type ChatChange =
  | { type: 'user-message'; message: UIMessage; offset: Offset }
  | { type: 'answer-started'; run: string; input?: string; offset: Offset }
  | { type: 'answer-ended'; run: string; status: string; fence?: Offset; offset: Offset };

interface ChatLink {
  session: TetherSession;
  ready: Promise<void>;
  running: Map<string, string | undefined>;
  published: Set<string>;
}

export class TetherChatTransport implements ChatTransport<UIMessage> {
  /** A resumed answer is replayed from its start, so `Chat` rebuilds it from empty. */
  readonly resumeStreamIsReplay = true;
  readonly device: string;
  private readonly options: TetherChatTransportOptions;
  private readonly http: TetherHttp;
  private readonly chats = new Map<string, ChatLink>();
  private readonly created = new Map<string, Promise<unknown>>();
  private readonly streams = new Set<() => void>();
  private messageTypeSupported = true;
  private closed = false;

  constructor(options: TetherChatTransportOptions) {
    this.options = options;
    this.device = options.device ?? `web-${Math.random().toString(36).slice(2, 10)}`;
    this.http = new TetherHttp({ url: options.url, token: options.token, fetch: options.fetch });
  }

  /** The session id of a chat. */
  sessionOf(chatId: string): string {
    return this.options.session ? this.options.session(chatId) : chatId;
  }

  async sendMessages(options: Parameters<ChatTransport<UIMessage>['sendMessages']>[0]): Promise<ReadableStream<UIMessageChunk>> {
    const { chatId, messages, abortSignal, trigger } = options;
    const link = await this.link(chatId);
    await link.ready;
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    if (!lastUser) throw new TetherError('bad-request', 'sendMessages needs a user message');
    const inputId = trigger === 'regenerate-message' ? `${lastUser.id}-r${Date.now().toString(36)}` : lastUser.id;
    link.published.add(inputId);
    const stream = this.answerStream(link, { input: inputId, abortSignal, cancelOnAbort: true });
    try {
      await this.publishUser(link.session, inputId, lastUser);
    } catch (error) {
      link.published.delete(inputId);
      throw error;
    }
    return stream;
  }

  async reconnectToStream(options: Parameters<ChatTransport<UIMessage>['reconnectToStream']>[0]): Promise<ReadableStream<UIMessageChunk> | null> {
    const { chatId, abortSignal } = options;
    const sessionId = this.sessionOf(chatId);
    let running: RunView | undefined;
    try {
      const view = await this.http.describe(sessionId, abortSignal);
      running = [...view.runs].reverse().find((r) => r.status === 'running');
    } catch (error) {
      if (error instanceof TetherError && error.code === 'not-found') return null;
      throw error;
    }
    if (!running) return null;
    // A reader of its own, from the run's start: Chat rebuilds a resumed message from empty.
    const after: StartAt = running.startOffset ?? '-1';
    const session = new TetherSession({
      ...this.sessionOptions(sessionId),
      after,
      syncCursor: false,
    });
    const link: ChatLink = { session, ready: session.ready(), running: new Map(), published: new Set() };
    return this.answerStream(link, {
      run: running.run,
      input: running.input,
      abortSignal,
      cancelOnAbort: this.options.cancelOnResumeAbort ?? true,
      own: true,
    });
  }

  /** Steers the answer in flight in a chat: answers the offset of the `control.steer`. */
  async steer({ chatId, text }: { chatId: string; text: string }): Promise<ControlResult> {
    const link = await this.link(chatId);
    await link.ready;
    const run = [...link.running.keys()].pop() ?? (await this.runningRun(chatId))?.run;
    if (!run) throw new TetherError('not-running', `no answer is running in chat ${chatId}`);
    return link.session.steer(run, text);
  }

  /** Stops the answer in flight in a chat (as Stop does): answers the fence. */
  async cancel({ chatId }: { chatId: string }): Promise<CancelResult | undefined> {
    const link = await this.link(chatId);
    await link.ready;
    const run = [...link.running.keys()].pop() ?? (await this.runningRun(chatId))?.run;
    return run ? link.session.cancel({ run }) : undefined;
  }

  /**
   * The chat's messages as the session holds them: user messages and finished answers (a
   * cancelled answer up to its fence). The answer in flight is left out; `resume: true` (or
   * `resumeStream()`) brings it in, replayed from its start.
   */
  async loadMessages(chatId: string, signal?: AbortSignal): Promise<UIMessage[]> {
    const sessionId = this.sessionOf(chatId);
    await this.ensureSession(sessionId);
    const session = new TetherSession({ ...this.sessionOptions(sessionId), after: '-1', syncCursor: false });
    const events: Delivered[] = [];
    session.on('event', (d) => events.push(d));
    try {
      await session.ready();
    } finally {
      session.close();
    }
    if (signal?.aborted) return [];
    return foldMessages(events);
  }

  /**
   * Reports what other devices do in the chat (user messages, answers starting and ending), so a
   * page can show a message sent from another tab and resume its answer. Returns the function
   * that stops watching.
   */
  watch(chatId: string, listener: (change: ChatChange) => void): () => void {
    let off: (() => void) | undefined;
    let stopped = false;
    void this.link(chatId).then((l) => {
      if (stopped) return;
      const fences = new Map<string, Offset>();
      off = l.session.on('event', ({ offset, event }) => {
        const data = (event.data ?? {}) as Record<string, unknown>;
        if (event.type === 'control.cancel' && event.run && !fences.has(event.run)) fences.set(event.run, offset);
        if ((event.type === 'message' || event.type === 'message.start') && data.role === 'user' && !l.published.has(String(data.id))) {
          listener({ type: 'user-message', message: toUserMessage(data), offset });
        } else if (event.type === 'run.start' && event.run && !l.published.has(String(data.input))) {
          listener({ type: 'answer-started', run: event.run, input: data.input as string | undefined, offset });
        } else if (event.type === 'run.end' && event.run) {
          const status = String(data.status ?? 'complete');
          const fence = status === 'cancelled' || status === 'lost' ? fences.get(event.run) ?? offset : undefined;
          fences.delete(event.run);
          listener({ type: 'answer-ended', run: event.run, status, offset, ...(fence ? { fence } : {}) });
        }
      });
    }, () => {});
    return () => {
      stopped = true;
      off?.();
    };
  }

  /** Closes every session and stream of this transport. */
  close(): void {
    this.closed = true;
    for (const stop of [...this.streams]) stop();
    for (const link of this.chats.values()) link.session.close();
    this.chats.clear();
  }

  // --- internals ---------------------------------------------------------------------------------

  private sessionOptions(sessionId: string) {
    return {
      url: this.options.url,
      session: sessionId,
      token: this.options.token,
      device: this.device,
      kind: 'client' as const,
      webSocket: this.options.webSocket,
      fetch: this.options.fetch,
    };
  }

  private ensureSession(sessionId: string): Promise<unknown> {
    if (this.options.createSessions === false) return Promise.resolve();
    let created = this.created.get(sessionId);
    if (!created) {
      created = this.http.createSession(sessionId);
      created.catch(() => this.created.delete(sessionId));
      this.created.set(sessionId, created);
    }
    return created;
  }

  private async link(chatId: string): Promise<ChatLink> {
    if (this.closed) throw new TetherError('closed', 'the transport was closed');
    const sessionId = this.sessionOf(chatId);
    let link = this.chats.get(sessionId);
    if (!link) {
      await this.ensureSession(sessionId);
      link = this.chats.get(sessionId);
      if (!link) {
        const session = new TetherSession({ ...this.sessionOptions(sessionId), after: 'now' });
        const running = new Map<string, string | undefined>();
        session.on('event', ({ event }) => {
          if (event.type === 'run.start' && event.run) running.set(event.run, (event.data as { input?: string }).input);
          if (event.type === 'run.end' && event.run) running.delete(event.run);
        });
        link = { session, ready: session.ready(), running, published: new Set() };
        this.chats.set(sessionId, link);
      }
    }
    return link;
  }

  private async runningRun(chatId: string): Promise<RunView | undefined> {
    const view = await this.http.describe(this.sessionOf(chatId));
    return [...view.runs].reverse().find((r) => r.status === 'running');
  }

  private async publishUser(session: TetherSession, id: string, message: UIMessage): Promise<void> {
    const text = message.parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
    if (this.messageTypeSupported) {
      try {
        await session.publish(userMessageEvent(id, text, message.parts));
        return;
      } catch (error) {
        // Servers before whole-message publishing refuse type `message`: use start + end.
        if (!(error instanceof TetherError && error.code === 'invalid-event')) throw error;
        this.messageTypeSupported = false;
      }
    }
    await session.publish([
      { type: 'message.start', data: { id, role: 'user', text, parts: message.parts } },
      { type: 'message.end', data: { id, role: 'user', status: 'complete' } },
    ]);
  }

  /**
   * The chunks of one answer: the run answering `input` (or `run`), from the link's session,
   * ending at `run.end` or at the fence of a cancel. The abort signal cancels the run and ends
   * the stream with an `abort` chunk whose reason is `fence:<offset>`, once the events before
   * the fence have been delivered.
   */
  private answerStream(
    link: ChatLink,
    options: { input?: string; run?: string; abortSignal?: AbortSignal; cancelOnAbort: boolean; own?: boolean },
  ): ReadableStream<UIMessageChunk> {
    const session = link.session;
    let chunks: RunChunks | undefined = options.run ? new RunChunks(options.run, options.input) : undefined;
    let stop = () => {};
    let cancelFence: Offset | undefined;
    return new ReadableStream<UIMessageChunk>({
      start: (controller) => {
        let finished = false;
        const end = (last?: UIMessageChunk) => {
          if (finished) return;
          finished = true;
          if (last) controller.enqueue(last);
          controller.close();
          stop();
        };
        const onEvent = (delivered: Delivered) => {
          const { event, offset } = delivered;
          const data = (event.data ?? {}) as Record<string, unknown>;
          if (!chunks) {
            if (event.type === 'run.start' && event.run && options.input !== undefined && data.input === options.input) {
              chunks = new RunChunks(event.run, options.input);
              link.running.set(event.run, options.input);
            } else if (event.type === 'control.cancel' && !event.run && options.input !== undefined && data.message === options.input) {
              // Cancelled before any run started on it.
              end({ type: 'abort', reason: fenceReason(offset) });
              return;
            } else {
              return;
            }
          }
          for (const chunk of chunks.accept(delivered)) controller.enqueue(chunk);
          if (chunks.done) end();
          else if (cancelFence && !offsetAfter(cancelFence, offset)) end({ type: 'abort', reason: fenceReason(cancelFence) });
        };
        const offEvent = session.on('event', onEvent);
        const onAbort = () => {
          if (finished) return;
          if (!options.cancelOnAbort) {
            end();
            return;
          }
          const target = chunks ? { run: chunks.run } : options.input !== undefined ? { message: options.input } : undefined;
          if (!target) {
            end();
            return;
          }
          session.cancel(target).then(
            (result: CancelResult) => {
              cancelFence = result.fence;
              const last = session.lastOffset;
              if (last !== undefined && !offsetAfter(result.fence, last)) end({ type: 'abort', reason: fenceReason(result.fence) });
            },
            (error: unknown) => {
              // The answer already ended (run-ended) or the link is gone: nothing to stop.
              if (!finished) end({ type: 'abort', reason: error instanceof TetherError ? error.code : 'cancel-failed' });
            },
          );
        };
        options.abortSignal?.addEventListener('abort', onAbort, { once: true });
        const onClose = () => {
          if (!finished) {
            finished = true;
            controller.error(new TetherError('disconnected', 'the transport was closed'));
            stop();
          }
        };
        stop = () => {
          offEvent();
          options.abortSignal?.removeEventListener('abort', onAbort);
          this.streams.delete(onClose);
          if (chunks) link.running.delete(chunks.run);
          if (options.own) session.close();
        };
        this.streams.add(onClose);
        if (options.abortSignal?.aborted) onAbort();
      },
      cancel: () => {
        // The reader went away (a page unloading, Chat letting go after Stop): that is not a
        // cancel of the answer. Stop is the abort signal.
        stop();
      },
    });
  }
}

/** `createTetherChatTransport({ url, token, device, session })`: the transport for `useChat` / `Chat`. */
export function createTetherChatTransport(options: TetherChatTransportOptions): TetherChatTransport {
  return new TetherChatTransport(options);
}

function toUserMessage(data: Record<string, unknown>): UIMessage {
  const parts = Array.isArray(data.parts) ? (data.parts as UIMessage['parts']) : [{ type: 'text' as const, text: String(data.text ?? '') }];
  return { id: String(data.id), role: 'user', parts };
}

/** Folds a session's events (delta granularity, from the start) into the chat's finished messages. */
export async function foldMessages(events: Delivered[]): Promise<UIMessage[]> {
  const out: Array<{ at: number; message: UIMessage | Promise<UIMessage | undefined> }> = [];
  const runs = new Map<string, { chunks: RunChunks; list: UIMessageChunk[]; at: number }>();
  const openUsers = new Map<string, Record<string, unknown>>();
  events.forEach((delivered, index) => {
    const { event } = delivered;
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.type === 'message' && data.role === 'user') {
      out.push({ at: index, message: toUserMessage(data) });
      return;
    }
    if (event.type === 'message.start' && data.role === 'user') {
      openUsers.set(String(data.id), data);
      out.push({ at: index, message: toUserMessage(data) });
      return;
    }
    if (event.type === 'run.start' && event.run) {
      runs.set(event.run, { chunks: new RunChunks(event.run, data.input as string | undefined), list: [], at: index });
    }
    for (const run of runs.values()) {
      if (run.chunks.done) continue;
      run.list.push(...run.chunks.accept(delivered));
    }
  });
  for (const run of runs.values()) {
    if (!run.chunks.done) continue;
    if (!run.list.some((c) => c.type === 'start')) continue;
    out.push({ at: run.at, message: lastMessage(run.list) });
  }
  out.sort((a, b) => a.at - b.at);
  const messages: UIMessage[] = [];
  for (const entry of out) {
    const m = await entry.message;
    if (m) messages.push(m);
  }
  return messages;
}

async function lastMessage(list: UIMessageChunk[]): Promise<UIMessage | undefined> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const c of list) {
        if (c.type === 'error') continue;
        controller.enqueue(c);
      }
      controller.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream })) last = m;
  return last;
}
