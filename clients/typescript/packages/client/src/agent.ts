/**
 * The agent side of a session: runs with their lifecycle (`run.start`, messages, tool calls,
 * `run.end`), one producer id for everything the agent writes, and control callbacks. A cancel
 * aborts the run's `AbortSignal` (its reason carries the fence); steer and interrupt arrive as
 * events the agent consumes and answers with `control.ack`.
 *
 * Writes are group-committed on the client: everything a run writes while a publish is in flight
 * goes out in the next one, in order, so token deltas cost a frame per round trip, not per token.
 */
import { Emitter } from './emitter.js';
import { TetherError } from './errors.js';
import type { Delivered, MessageRole, Offset, RunStatus, SessionEvent } from './protocol.js';
import { nextId, TetherSession, type TetherSessionOptions } from './session.js';

export type AgentOptions = Omit<TetherSessionOptions, 'kind'>;

/** Why a run's signal aborted. */
export class RunCancelled extends TetherError {
  /** The offset of the `control.cancel` (or of the `run.end` that fenced the run). */
  readonly fence: Offset;
  readonly by?: string;
  constructor(fence: Offset, by?: string, status: RunStatus = 'cancelled') {
    super(status === 'lost' ? 'lost' : 'cancelled', `run ${status} at fence ${fence}${by ? ` by ${by}` : ''}`);
    this.name = 'RunCancelled';
    this.fence = fence;
    this.by = by;
  }
}

/** A steer or interrupt addressed to a run; answer it with {@link ack}. */
export interface ControlRequest {
  /** The control's id (what `control.ack` names). */
  id: string;
  kind: 'steer' | 'interrupt';
  /** The injected text (steer). */
  text?: string;
  device?: string;
  offset: Offset;
  /** Writes `control.ack` with `consumed` (true: acted on it; false: declined). */
  ack(consumed: boolean, data?: Record<string, unknown>): Promise<void>;
}

export class TetherAgent {
  readonly session: TetherSession;
  private readonly runs = new Map<string, AgentRun>();
  private readonly offEvent: () => void;

  constructor(options: AgentOptions) {
    this.session = new TetherSession({ ...options, kind: 'agent' });
    this.offEvent = this.session.on('event', (d) => this.route(d));
  }

  /** Connects as an agent and waits until live. */
  static async connect(options: AgentOptions): Promise<TetherAgent> {
    const agent = new TetherAgent(options);
    try {
      await agent.session.ready();
    } catch (error) {
      agent.close();
      throw error;
    }
    return agent;
  }

  /** The producer id every event of this agent carries (its device). */
  get producer(): string {
    return this.session.device;
  }

  /**
   * Starts a run (`run.start`, answering `input` when given). Rejects with `fenced` when the
   * input was cancelled before the run could start.
   */
  async startRun(options: { input?: string; run?: string; data?: Record<string, unknown> } = {}): Promise<AgentRun> {
    const id = options.run ?? nextId('run-');
    const run = new AgentRun(this, id, options.input);
    this.runs.set(id, run);
    try {
      const published = await this.session.publish({
        type: 'run.start',
        run: id,
        data: { ...(options.input ? { input: options.input } : {}), ...options.data },
      });
      run.startOffset = published.offset;
      return run;
    } catch (error) {
      this.runs.delete(id);
      run.dispose();
      throw error;
    }
  }

  /** Closes the connection; runs still open are left to the session's agent-loss rule. */
  close(): void {
    this.offEvent();
    for (const run of this.runs.values()) run.dispose();
    this.runs.clear();
    this.session.close();
  }

  /** @internal */
  forget(run: AgentRun): void {
    this.runs.delete(run.id);
  }

  private route(delivered: Delivered): void {
    const { event } = delivered;
    if (!event.type.startsWith('control.') && event.type !== 'run.end') return;
    const data = (event.data ?? {}) as { message?: string };
    for (const run of this.runs.values()) {
      if (event.run === run.id || (event.type === 'control.cancel' && !event.run && data.message && data.message === run.input)) {
        run.onControl(delivered);
      }
    }
  }
}

type RunEvents = {
  steer: ControlRequest;
  interrupt: ControlRequest;
  cancel: RunCancelled;
};

/** One run of an agent. */
export class AgentRun extends Emitter<RunEvents> {
  readonly id: string;
  readonly input?: string;
  startOffset?: Offset;
  private readonly agent: TetherAgent;
  private readonly abort = new AbortController();
  private buffer: Array<{ event: SessionEvent; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing = false;
  private scheduled = false;
  private ended = false;
  private readonly unconsumed: ControlRequest[] = [];
  private wake?: () => void;

  /** @internal */
  constructor(agent: TetherAgent, id: string, input?: string) {
    super();
    this.agent = agent;
    this.id = id;
    this.input = input;
  }

  /** Aborts when the run is cancelled (its reason is a {@link RunCancelled} with the fence) or lost. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The fence, once cancelled. */
  get fence(): Offset | undefined {
    return this.abort.signal.aborted ? (this.abort.signal.reason as RunCancelled).fence : undefined;
  }

  /** Writes an event of this run (run and producer filled in); resolves when it is durable. */
  write(type: string, data: Record<string, unknown> = {}): Promise<void> {
    if (this.abort.signal.aborted) return Promise.reject(this.fencedError());
    return new Promise((resolve, reject) => {
      this.buffer.push({ event: { type, run: this.id, producer: this.agent.producer, data }, resolve, reject });
      this.schedule();
    });
  }

  /** Starts a message of this run; its deltas are batched with everything else the run writes. */
  message(options: { id?: string; role?: MessageRole; data?: Record<string, unknown> } = {}): MessageWriter {
    return new MessageWriter(this, options.id ?? nextId('m-'), options.role ?? 'assistant', options.data);
  }

  /** `tool.call` */
  toolCall(call: { id: string; name: string; input?: unknown; [k: string]: unknown }): Promise<void> {
    return this.write('tool.call', call);
  }

  /** `tool.result` */
  toolResult(result: { id: string; output?: unknown; error?: string; [k: string]: unknown }): Promise<void> {
    return this.write('tool.result', result);
  }

  /** Answers a steer or interrupt with `control.ack`. */
  ack(control: string, consumed: boolean, data: Record<string, unknown> = {}): Promise<void> {
    return this.write('control.ack', { ...data, control, consumed });
  }

  /** The steers and interrupts not yet handled by a listener, in order; ends when the run ends. */
  async *controls(): AsyncGenerator<ControlRequest> {
    while (true) {
      if (this.unconsumed.length > 0) {
        yield this.unconsumed.shift()!;
        continue;
      }
      if (this.ended || this.abort.signal.aborted) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Ends the run (`run.end`); a cancelled run is already ended by the session, so this resolves quietly. */
  async end(status: Exclude<RunStatus, 'lost'> = 'complete', data: Record<string, unknown> = {}): Promise<void> {
    if (this.ended) return;
    if (this.abort.signal.aborted) {
      this.finish();
      return;
    }
    try {
      await this.write('run.end', { ...data, status });
    } catch (error) {
      if (!(error instanceof TetherError && error.code === 'fenced')) throw error;
    } finally {
      this.finish();
    }
  }

  /** Waits until everything written so far is durable. */
  async flushed(): Promise<void> {
    if (this.buffer.length === 0 && !this.flushing) return;
    await new Promise<void>((resolve, reject) => {
      this.buffer.push({ event: undefined as never, resolve, reject });
      this.schedule();
    });
  }

  /** @internal */
  onControl({ offset, event }: Delivered): void {
    const data = (event.data ?? {}) as { id?: string; text?: string; device?: string; status?: RunStatus; by?: string };
    if (event.type === 'control.cancel' || (event.type === 'run.end' && (data.status === 'cancelled' || data.status === 'lost'))) {
      if (event.type === 'run.end' && event.producer === this.agent.producer) return;
      this.cancelled(new RunCancelled(offset, event.type === 'control.cancel' ? event.producer : data.by, data.status ?? 'cancelled'));
      return;
    }
    if (event.type === 'control.steer' || event.type === 'control.interrupt') {
      const id = data.id ?? `${event.type}@${offset}`;
      const request: ControlRequest = {
        id,
        kind: event.type === 'control.steer' ? 'steer' : 'interrupt',
        text: data.text,
        device: data.device,
        offset,
        ack: (consumed, extra) => this.ack(id, consumed, extra),
      };
      const name = request.kind;
      if (this.countNamed(name) > 0) this.emit(name, request);
      else {
        this.unconsumed.push(request);
        this.wake?.();
      }
    }
  }

  /** @internal */
  dispose(): void {
    this.finish();
  }

  private readonly named = new Map<keyof RunEvents, number>();

  override on<K extends keyof RunEvents>(name: K, listener: (value: RunEvents[K]) => void): () => void {
    this.named.set(name, (this.named.get(name) ?? 0) + 1);
    const off = super.on(name, listener);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.named.set(name, (this.named.get(name) ?? 1) - 1);
      off();
    };
  }

  private countNamed(name: keyof RunEvents): number {
    return this.named.get(name) ?? 0;
  }

  private cancelled(reason: RunCancelled): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort(reason);
    this.emit('cancel', reason);
    for (const pending of this.buffer.splice(0)) pending.reject(this.fencedError());
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake?.();
    this.agent.forget(this);
    this.removeAllListeners();
  }

  private fencedError(): TetherError {
    const reason = this.abort.signal.reason as RunCancelled | undefined;
    return new TetherError('fenced', `run ${this.id} was cancelled${reason ? ` at ${reason.fence}` : ''}; its output is refused`);
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer.splice(0);
        const events = batch.filter((b) => b.event !== undefined).map((b) => b.event);
        try {
          if (events.length > 0) await this.agent.session.publish(events);
          for (const b of batch) b.resolve();
        } catch (error) {
          if (error instanceof TetherError && error.code === 'fenced' && !this.abort.signal.aborted) {
            // The fence was written before its event reached this agent: read it from the session.
            void this.agent.session.describe().then(
              (view) => this.cancelled(new RunCancelled(view.runs.find((r) => r.run === this.id)?.fence ?? '', undefined)),
              () => this.cancelled(new RunCancelled('', undefined)),
            );
          }
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** Writes one message: `message.start`, deltas, `message.end`. */
export class MessageWriter {
  readonly id: string;
  private readonly run: AgentRun;
  private readonly role: MessageRole;
  private readonly data?: Record<string, unknown>;
  private started?: Promise<void>;

  constructor(run: AgentRun, id: string, role: MessageRole, data?: Record<string, unknown>) {
    this.run = run;
    this.id = id;
    this.role = role;
    this.data = data;
  }

  /** `message.start` (written by the first delta when not called). */
  start(text = ''): Promise<void> {
    this.started ??= this.track(this.run.write('message.start', { ...this.data, id: this.id, role: this.role, ...(text ? { text } : {}) }));
    return this.started;
  }

  /** `message.delta`; resolves when durable (awaiting it is optional: deltas are batched). */
  delta(text: string, extra: Record<string, unknown> = {}): Promise<void> {
    void this.start();
    return this.track(this.run.write('message.delta', { ...extra, id: this.id, text }));
  }

  /** `message.end` with a status. */
  async end(status: 'complete' | 'cancelled' | 'error' = 'complete', extra: Record<string, unknown> = {}): Promise<void> {
    void this.start();
    await this.track(this.run.write('message.end', { ...extra, id: this.id, status }));
  }

  private track(p: Promise<void>): Promise<void> {
    // Callers that do not await a delta must not see an unhandled rejection; end() reports it.
    p.catch(() => {});
    return p;
  }
}
