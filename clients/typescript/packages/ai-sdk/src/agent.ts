/**
 * The agent side: writes any AI SDK `streamText` result (its UI message stream) into a Tether
 * session as a run. A cancel from any device aborts the model call (the `abortSignal` handed to
 * `streamText`); a steer is fed into the next step through the AI SDK's steering object and
 * acknowledged with `control.ack` (`consumed` tells whether the model received it).
 *
 * ```ts
 * import { TetherAgent } from '@tether/client';
 * import { answer } from '@tether/ai-sdk/agent';
 *
 * const agent = await TetherAgent.connect({ url, session: chatId, device: 'agent-1' });
 * await answer(agent, { input: userMessageId }, ({ abortSignal, steering }) =>
 *   streamText({ model, messages, abortSignal, experimental_steering: steering, stopWhen: stepCountIs(5) }));
 * ```
 */
import { TetherError, type AgentRun, type ControlRequest, type Offset, type TetherAgent } from '@tether/client';
import { experimental_createSteering, type Experimental_Steering, type UIMessageChunk } from 'ai';
import { chunkToEvents } from './chunks.js';

/** Anything with a UI message stream: a `streamText` result, an `Agent.stream` result. */
export interface HasUIMessageStream {
  toUIMessageStream(options?: { sendReasoning?: boolean; sendSources?: boolean }): ReadableStream<UIMessageChunk> | AsyncIterable<UIMessageChunk>;
}

export type UIMessageSource = HasUIMessageStream | ReadableStream<UIMessageChunk> | AsyncIterable<UIMessageChunk>;

export interface WriteOptions {
  /** The answer's message id (default: the `start` chunk's, else a new one). */
  messageId?: string;
  /** Sees every chunk as it is written (with the message id filled in). */
  onChunk?: (chunk: UIMessageChunk) => void;
}

export interface AnswerResult {
  run: string;
  status: 'complete' | 'cancelled' | 'error';
  /** The fence, when cancelled. */
  fence?: Offset;
  messageId?: string;
  error?: unknown;
}

export interface GenerateContext {
  /** Aborts when the session cancels the run: hand it to `streamText`. */
  abortSignal: AbortSignal;
  /** Steers from the session arrive here: hand it to `streamText` as `experimental_steering`. */
  steering: Experimental_Steering;
  run: AgentRun;
}

export interface AnswerOptions extends WriteOptions {
  /** The id of the user message this run answers (`run.start` `data.input`). */
  input?: string;
  /** An interrupt: the default declines it (`control.ack` consumed false). */
  onInterrupt?: (request: ControlRequest, run: AgentRun) => void | Promise<void>;
}

/**
 * Starts a run answering `input`, calls `generate` with the run's abort signal and a steering
 * object, and writes the result's UI message stream into the run. Resolves when the run ended:
 * complete, cancelled (with the fence; the model call was aborted), or error.
 */
export async function answer(
  agent: TetherAgent,
  options: AnswerOptions,
  generate: (context: GenerateContext) => UIMessageSource | Promise<UIMessageSource>,
): Promise<AnswerResult> {
  let run: AgentRun;
  try {
    run = await agent.startRun({ input: options.input });
  } catch (error) {
    if (error instanceof TetherError && error.code === 'fenced') {
      return { run: '', status: 'cancelled' };
    }
    throw error;
  }
  const steering = experimental_createSteering();
  const offSteer = run.on('steer', (request) => {
    void steering.steer(request.text ?? '', { id: request.id }).then((outcome) =>
      request.ack(outcome.type === 'delivered', outcome.type === 'delivered' ? { step: outcome.stepNumber } : { reason: outcome.reason }).catch(() => {}),
    );
  });
  const offInterrupt = run.on('interrupt', (request) => {
    if (options.onInterrupt) void Promise.resolve(options.onInterrupt(request, run)).catch(() => {});
    else void request.ack(false, { reason: 'this agent does not take interrupts' }).catch(() => {});
  });
  try {
    const source = await generate({ abortSignal: run.signal, steering, run });
    return await writeUIMessageStream(run, source, options);
  } catch (error) {
    if (run.signal.aborted) return { run: run.id, status: 'cancelled', fence: run.fence };
    await run.end('error', { error: error instanceof Error ? error.message : String(error) }).catch(() => {});
    return { run: run.id, status: 'error', error };
  } finally {
    offSteer();
    offInterrupt();
  }
}

/**
 * Writes a UI message stream into a run as its answer, then ends the run. Stops reading (which
 * ends the model call) as soon as the run is cancelled.
 */
export async function writeUIMessageStream(run: AgentRun, source: UIMessageSource, options: WriteOptions = {}): Promise<AnswerResult> {
  const stream = 'toUIMessageStream' in source ? source.toUIMessageStream({ sendReasoning: true, sendSources: true }) : source;
  const iterator = (stream as AsyncIterable<UIMessageChunk>)[Symbol.asyncIterator]();
  let messageId = options.messageId;
  let sawEnd = false;
  let errorText: string | undefined;
  const stopReading = () => void iterator.return?.();
  run.signal.addEventListener('abort', stopReading, { once: true });
  try {
    while (!run.signal.aborted) {
      let next: IteratorResult<UIMessageChunk>;
      try {
        next = await iterator.next();
      } catch (error) {
        if (run.signal.aborted) break;
        throw error;
      }
      if (next.done || run.signal.aborted) break;
      let chunk = next.value;
      if (chunk.type === 'start') {
        messageId ??= chunk.messageId ?? `a-${run.id}`;
        chunk = { ...chunk, messageId };
      }
      messageId ??= `a-${run.id}`;
      if (chunk.type === 'finish' || chunk.type === 'abort') sawEnd = true;
      if (chunk.type === 'error') errorText = chunk.errorText;
      options.onChunk?.(chunk);
      for (const e of chunkToEvents(chunk, messageId)) void run.write(e.type, e.data).catch(() => {});
    }
    if (run.signal.aborted) return { run: run.id, status: 'cancelled', fence: run.fence, messageId };
    if (!sawEnd && messageId) {
      void run.write('message.end', { id: messageId, status: errorText ? 'error' : 'complete', ...(errorText ? { error: errorText } : {}) }).catch(() => {});
    }
    await run.end(errorText ? 'error' : 'complete', errorText ? { error: errorText } : {});
    return { run: run.id, status: errorText ? 'error' : 'complete', messageId };
  } catch (error) {
    if (run.signal.aborted || (error instanceof TetherError && error.code === 'fenced')) {
      return { run: run.id, status: 'cancelled', fence: run.fence, messageId };
    }
    throw error;
  } finally {
    run.signal.removeEventListener('abort', stopReading);
  }
}

/** A chat turn as the model sees it. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface ServeChatContext extends GenerateContext {
  /** The user message being answered. */
  input: { id: string; text: string };
  /** The conversation so far, ending with the user message (finished answers only). */
  messages: ChatTurn[];
}

export interface ServeChatOptions extends Omit<AnswerOptions, 'input' | 'messageId'> {
  /** Called when an answer ended (for logs and tests). */
  onAnswered?: (result: AnswerResult, input: string) => void;
}

/**
 * Answers every user message of the agent's session that has no run yet, one at a time, in
 * order: the ones already there when the agent connects (unless cancelled), then each new one.
 * Returns a function that stops serving (the agent's connection stays open).
 */
export function serveChat(
  agent: TetherAgent,
  generate: (context: ServeChatContext) => UIMessageSource | Promise<UIMessageSource>,
  options: ServeChatOptions = {},
): () => void {
  const answered = new Set<string>();
  const queue: Array<{ id: string; text: string }> = [];
  const turns: Array<{ id: string; role: 'user' | 'assistant'; content: string; run?: string }> = [];
  const runText = new Map<string, { content: string; ended: boolean; input?: string }>();
  let live = agent.session.state === 'live';
  let busy = false;
  let stopped = false;

  const pump = async () => {
    if (busy || stopped || !live) return;
    busy = true;
    try {
      while (queue.length > 0 && !stopped) {
        const input = queue.shift()!;
        if (answered.has(input.id)) continue;
        answered.add(input.id);
        const upTo = turns.findIndex((t) => t.id === input.id);
        const history: ChatTurn[] = turns.slice(0, upTo + 1).map((t) => ({ role: t.role, content: t.content }));
        const result = await answer(agent, { ...options, input: input.id }, (ctx) => generate({ ...ctx, input, messages: history }));
        options.onAnswered?.(result, input.id);
      }
    } finally {
      busy = false;
    }
  };

  const off = agent.session.on('event', ({ event }) => {
    const data = (event.data ?? {}) as Record<string, unknown>;
    if ((event.type === 'message' || event.type === 'message.start') && data.role === 'user') {
      const id = String(data.id);
      const text = typeof data.text === 'string' ? data.text : '';
      turns.push({ id, role: 'user', content: text });
      queue.push({ id, text });
      void pump();
    } else if (event.type === 'run.start' && event.run) {
      if (typeof data.input === 'string') answered.add(data.input);
      runText.set(event.run, { content: '', ended: false, input: data.input as string | undefined });
    } else if (event.type === 'control.cancel' && typeof data.message === 'string') {
      answered.add(data.message);
    } else if (event.type === 'message.delta' && event.run && runText.has(event.run)) {
      runText.get(event.run)!.content += String(data.text ?? '');
    } else if (event.type === 'run.end' && event.run && runText.has(event.run)) {
      const run = runText.get(event.run)!;
      run.ended = true;
      turns.push({ id: `${event.run}:answer`, role: 'assistant', content: run.content, run: event.run });
      runText.delete(event.run);
    }
  });
  const offState = agent.session.on('up-to-date', () => {
    live = true;
    void pump();
  });
  void pump();
  return () => {
    stopped = true;
    off();
    offState();
  };
}
