/**
 * The mapping between AI SDK `UIMessageChunk`s and session events, both ways.
 *
 * An answer is one assistant message of a run. Its chunks are written as the session's own event
 * types wherever one exists, so any Tether client (the console, a Java client) reads the answer
 * as text, and everything else travels verbatim in `message.part`:
 *
 * | chunk                                  | event                                                      |
 * |----------------------------------------|------------------------------------------------------------|
 * | `start`                                | `message.start` `{id, role: "assistant"}`                  |
 * | `text-delta`                           | `message.delta` `{id, text, part}`                         |
 * | `tool-input-available`                 | `tool.call` `{id: toolCallId, name, input, message}`       |
 * | `tool-output-available` / `-error`     | `tool.result` `{id: toolCallId, output` / `error, message}`|
 * | `finish`                               | `message.end` `{id, status: "complete"}`                   |
 * | `abort`                                | `message.end` `{id, status: "cancelled"}`                  |
 * | anything else (`text-start`, reasoning, sources, data, `error`, steps) | `message.part` `{id, chunk}` |
 *
 * Fields a chunk has beyond those columns travel in `extra`, so the round trip is exact. Events
 * written by agents that do not speak chunks (plain `message.start` / `message.delta` /
 * `message.end`) read back as a well-formed chunk stream: missing `text-start` / `text-end` are
 * added around the text.
 */
import type { Delivered, Offset, SessionEvent } from '@tether/client';
import type { UIMessageChunk } from 'ai';

type Chunk = UIMessageChunk;
type EventSpec = { type: string; data: Record<string, unknown> };

function rest<T extends object>(chunk: T, keys: string[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [k, v] of Object.entries(chunk)) {
    if (k === 'type' || keys.includes(k) || v === undefined) continue;
    out[k] = v;
    any = true;
  }
  return any ? out : undefined;
}

/** The events that carry one chunk of the answer `messageId`. */
export function chunkToEvents(chunk: Chunk, messageId: string): EventSpec[] {
  switch (chunk.type) {
    case 'start': {
      const extra = rest(chunk, ['messageId']);
      return [{ type: 'message.start', data: { id: messageId, role: 'assistant', ...(extra ? { extra } : {}) } }];
    }
    case 'text-delta': {
      const extra = rest(chunk, ['id', 'delta']);
      return [{ type: 'message.delta', data: { id: messageId, text: chunk.delta, part: chunk.id, ...(extra ? { extra } : {}) } }];
    }
    case 'tool-input-available': {
      const extra = rest(chunk, ['toolCallId', 'toolName', 'input']);
      return [{ type: 'tool.call', data: { id: chunk.toolCallId, name: chunk.toolName, input: chunk.input, message: messageId, ...(extra ? { extra } : {}) } }];
    }
    case 'tool-output-available': {
      const extra = rest(chunk, ['toolCallId', 'output']);
      return [{ type: 'tool.result', data: { id: chunk.toolCallId, output: chunk.output, message: messageId, ...(extra ? { extra } : {}) } }];
    }
    case 'tool-output-error': {
      const extra = rest(chunk, ['toolCallId', 'errorText']);
      return [{ type: 'tool.result', data: { id: chunk.toolCallId, error: chunk.errorText, message: messageId, ...(extra ? { extra } : {}) } }];
    }
    case 'finish': {
      const extra = rest(chunk, []);
      return [{ type: 'message.end', data: { id: messageId, status: 'complete', ...(extra ? { extra } : {}) } }];
    }
    case 'abort': {
      const extra = rest(chunk, []);
      return [{ type: 'message.end', data: { id: messageId, status: 'cancelled', ...(extra ? { extra } : {}) } }];
    }
    default:
      return [{ type: 'message.part', data: { id: messageId, chunk } }];
  }
}

/** The abort chunk's reason for a fence: `fence:<offset>`. */
export function fenceReason(fence: Offset): string {
  return `fence:${fence}`;
}

/** The fence named by an abort chunk's reason, if it names one. */
export function fenceOf(reason: string | undefined): Offset | undefined {
  return reason?.startsWith('fence:') ? reason.slice('fence:'.length) : undefined;
}

/**
 * Turns the events of one run back into the chunks of its answer. Feed it every delivered event
 * of the session (events of other runs are ignored); `done` turns true at `run.end` or at the
 * fence of a cancel.
 */
export class RunChunks {
  readonly run: string;
  done = false;
  /** The fence, once the run was cancelled. */
  fence?: Offset;
  private messageId?: string;
  private readonly openText = new Set<string>();
  private readonly synthesized = new Set<string>();
  private started = false;
  private finished = false;
  private readonly input?: string;

  constructor(run: string, input?: string) {
    this.run = run;
    this.input = input;
  }

  accept({ offset, event }: Delivered): Chunk[] {
    if (this.done) return [];
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.type === 'control.cancel' && (event.run === this.run || (!event.run && this.input !== undefined && data.message === this.input))) {
      this.fence ??= offset;
      return [];
    }
    if (event.run !== this.run) return [];
    switch (event.type) {
      case 'message.start': {
        if (data.role !== undefined && data.role !== 'assistant') return [];
        this.messageId = String(data.id);
        this.started = true;
        const extra = (data.extra ?? {}) as Record<string, unknown>;
        const chunks: Chunk[] = [{ type: 'start', messageId: this.messageId, ...extra } as Chunk];
        if (typeof data.text === 'string' && data.text !== '') chunks.push(...this.text('text', data.text));
        return chunks;
      }
      case 'message.delta':
        return [...this.ensureStart(), ...this.text(String(data.part ?? `${data.id}-text`), String(data.text ?? ''), data.extra as Record<string, unknown> | undefined)];
      case 'message.part': {
        const chunk = data.chunk as Chunk | undefined;
        if (!chunk || typeof chunk.type !== 'string') return [];
        if (chunk.type === 'text-start') this.openText.add(chunk.id);
        if (chunk.type === 'text-end') this.openText.delete(chunk.id);
        return [...this.ensureStart(), chunk];
      }
      case 'tool.call':
        return [...this.ensureStart(), {
          type: 'tool-input-available',
          toolCallId: String(data.id),
          toolName: String(data.name),
          input: data.input ?? data.arguments,
          ...((data.extra ?? {}) as object),
        } as Chunk];
      case 'tool.result':
        return [...this.ensureStart(), (data.error !== undefined
          ? { type: 'tool-output-error', toolCallId: String(data.id), errorText: String(data.error), ...((data.extra ?? {}) as object) }
          : { type: 'tool-output-available', toolCallId: String(data.id), output: data.output ?? data.result, ...((data.extra ?? {}) as object) }) as Chunk];
      case 'message.end': {
        if (this.messageId !== undefined && data.id !== this.messageId) return [];
        const extra = (data.extra ?? {}) as Record<string, unknown>;
        const chunks = [...this.ensureStart(), ...this.closeText()];
        if (data.status === 'cancelled') {
          chunks.push({ type: 'abort', ...extra, ...(this.fence ? { reason: fenceReason(this.fence) } : {}) } as Chunk);
        } else if (data.status === 'error') {
          chunks.push({ type: 'error', errorText: String(data.error ?? extra.errorText ?? 'the agent reported an error') });
        } else {
          chunks.push({ type: 'finish', ...extra } as Chunk);
        }
        this.finished = true;
        return chunks;
      }
      case 'run.end': {
        const status = data.status ?? 'complete';
        this.done = true;
        if (this.finished) return [];
        if (status === 'cancelled' || (status === 'lost' && this.fence)) {
          this.fence ??= offset;
          return [...this.closeText(), { type: 'abort', reason: fenceReason(this.fence) }];
        }
        if (status === 'lost' || status === 'error') {
          const why = status === 'lost' ? `the agent was lost (${String(data.reason ?? 'no heartbeat')})` : String(data.error ?? 'the run failed');
          return [...this.ensureStart(), ...this.closeText(), { type: 'error', errorText: why }];
        }
        return [...this.ensureStart(), ...this.closeText(), { type: 'finish' }];
      }
      default:
        return [];
    }
  }

  /** After a message ended as cancelled the run is over for the reader, even before `run.end`. */
  get answered(): boolean {
    return this.finished;
  }

  private ensureStart(): Chunk[] {
    if (this.started) return [];
    this.started = true;
    return [{ type: 'start', ...(this.messageId ? { messageId: this.messageId } : {}) }];
  }

  private text(part: string, delta: string, extra?: Record<string, unknown>): Chunk[] {
    const chunks: Chunk[] = [];
    if (!this.openText.has(part)) {
      this.openText.add(part);
      this.synthesized.add(part);
      chunks.push({ type: 'text-start', id: part });
    }
    chunks.push({ type: 'text-delta', id: part, delta, ...(extra ?? {}) });
    return chunks;
  }

  private closeText(): Chunk[] {
    const chunks: Chunk[] = [];
    for (const part of this.openText) {
      if (this.synthesized.has(part)) chunks.push({ type: 'text-end', id: part });
    }
    this.openText.clear();
    return chunks;
  }
}

/** The events of a user message as published by the transport (`message`, newer servers). */
export function userMessageEvent(id: string, text: string, parts: unknown[]): SessionEvent {
  return { type: 'message', data: { id, role: 'user', text, parts, status: 'complete' } };
}
