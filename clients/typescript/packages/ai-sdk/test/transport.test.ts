import { TetherAgent, TetherSession, type Delivered } from '@tether/client';
import { stepCountIs, streamText, type UIMessage, type UIMessageChunk } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterEach, describe, expect, it } from 'vitest';
import { tetherToken, tetherUrl, uniqueSession, until } from '../../../test/support.js';
import { serveChat, type AnswerResult } from '../src/agent.js';
import { RunChunks, createTetherChatTransport, fenceOf, type TetherChatTransport } from '../src/index.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

interface Call { prompt: unknown; abortSignal?: AbortSignal }

/** The AI SDK's own mock model, streaming `words` per step with a pause between chunks; records its calls. */
function scriptedModel(words: (step: number) => string[], delayMs: number) {
  const calls: Call[] = [];
  const model = new MockLanguageModelV4({
    doStream: async (options) => {
      const step = calls.length;
      calls.push({ prompt: options.prompt, abortSignal: options.abortSignal });
      const list = words(step);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stream = new ReadableStream({
        async start(controller) {
          const pause = () => new Promise<void>((r) => (timer = setTimeout(r, delayMs)));
          controller.enqueue({ type: 'stream-start', warnings: [] });
          controller.enqueue({ type: 'reasoning-start', id: `r${step}` });
          controller.enqueue({ type: 'reasoning-delta', id: `r${step}`, delta: 'scripted, offline' });
          controller.enqueue({ type: 'reasoning-end', id: `r${step}` });
          controller.enqueue({ type: 'text-start', id: `t${step}` });
          for (const word of list) {
            if (options.abortSignal?.aborted) return;
            await pause();
            controller.enqueue({ type: 'text-delta', id: `t${step}`, delta: word });
          }
          controller.enqueue({ type: 'text-end', id: `t${step}` });
          controller.enqueue({
            type: 'finish',
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: list.length, text: list.length, reasoning: 0 } },
          });
          controller.close();
        },
        cancel() {
          clearTimeout(timer);
        },
      });
      return { stream };
    },
  });
  return { model, calls };
}

async function startAgent(session: string, words: (step: number) => string[], delayMs: number) {
  const { model, calls } = scriptedModel(words, delayMs);
  const agent = await TetherAgent.connect({ url: tetherUrl(), token: tetherToken(), session, device: 'agent-ts', create: true });
  const written = new Map<string, UIMessageChunk[]>();
  const results = new Map<string, AnswerResult>();
  let current = '';
  const stop = serveChat(agent, ({ messages, abortSignal, steering, input }) => {
    current = input.id;
    written.set(input.id, []);
    return streamText({ model, messages, abortSignal, experimental_steering: steering, stopWhen: stepCountIs(3) });
  }, {
    // serveChat answers one message at a time: the chunks written belong to the current input.
    onChunk: (chunk) => written.get(current)!.push(chunk),
    onAnswered: (result, input) => results.set(input, result),
  });
  closers.push(() => {
    stop();
    agent.close();
  });
  return { agent, calls, written, results };
}

function userMessage(id: string, text: string): UIMessage {
  return { id, role: 'user', parts: [{ type: 'text', text }] };
}

async function readAllChunks(stream: ReadableStream<UIMessageChunk>, onChunk?: (c: UIMessageChunk, all: UIMessageChunk[]) => void): Promise<UIMessageChunk[]> {
  const all: UIMessageChunk[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<UIMessageChunk>) {
    all.push(chunk);
    onChunk?.(chunk, all);
  }
  return all;
}

function transport(device: string): TetherChatTransport {
  const t = createTetherChatTransport({ url: tetherUrl(), token: tetherToken(), device });
  closers.push(() => t.close());
  return t;
}

async function sessionEvents(session: string): Promise<Delivered[]> {
  const reader = new TetherSession({ url: tetherUrl(), token: tetherToken(), session, device: 'auditor', syncCursor: false });
  const seen: Delivered[] = [];
  reader.on('event', (d) => seen.push(d));
  await reader.ready();
  reader.close();
  return seen;
}

const textOf = (chunks: UIMessageChunk[]) => chunks.filter((c) => c.type === 'text-delta').map((c) => (c as { delta: string }).delta).join('');

describe('createTetherChatTransport', () => {
  it('streams the answer as the same chunks the agent wrote, and as the session holds them', async () => {
    const chatId = uniqueSession('chat');
    const words = ['This ', 'answer ', 'is ', 'scripted ', 'and ', 'offline.'];
    const { written } = await startAgent(chatId, () => words, 5);
    const t = transport('laptop');
    const stream = await t.sendMessages({ chatId, trigger: 'submit-message', messageId: undefined, messages: [userMessage('u-1', 'hello')], abortSignal: undefined });
    const chunks = await readAllChunks(stream);

    expect(chunks[0]).toMatchObject({ type: 'start' });
    expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'stop' });
    expect(textOf(chunks)).toBe(words.join(''));
    expect(chunks.some((c) => c.type === 'reasoning-delta')).toBe(true);
    expect(chunks).toEqual(written.get('u-1'));

    // The same chunks, rebuilt by any reader from the session's own events.
    const events = await sessionEvents(chatId);
    const runStart = events.find((d) => d.event.type === 'run.start' && (d.event.data as { input?: string }).input === 'u-1')!;
    const rebuilt = new RunChunks(runStart.event.run!, 'u-1');
    const fromSession = events.flatMap((d) => rebuilt.accept(d));
    expect(fromSession).toEqual(chunks);
    // And the text is plain session text: message.delta events any client reads.
    const deltas = events.filter((d) => d.event.type === 'message.delta').map((d) => (d.event.data as { text: string }).text).join('');
    expect(deltas).toBe(words.join(''));
  });

  it('an aborted sendMessages cancels the run at a fence, and the model call is aborted', async () => {
    const chatId = uniqueSession('abort');
    const words = Array.from({ length: 200 }, (_, i) => `w${i} `);
    const { calls, results } = await startAgent(chatId, () => words, 30);
    const t = transport('laptop');
    const abort = new AbortController();
    const stream = await t.sendMessages({ chatId, trigger: 'submit-message', messageId: undefined, messages: [userMessage('u-1', 'go')], abortSignal: abort.signal });
    const chunks = await readAllChunks(stream, (chunk, all) => {
      if (chunk.type === 'text-delta' && all.filter((c) => c.type === 'text-delta').length === 5) abort.abort();
    });
    const last = chunks.at(-1)!;
    expect(last.type).toBe('abort');
    const fence = fenceOf((last as { reason?: string }).reason);
    expect(fence).toMatch(/^\d+_\d+$/);

    await until((f) => {
      const timer = setInterval(f, 50);
      return () => clearInterval(timer);
    }, () => results.has('u-1'), 10_000, 'the agent to finish');
    expect(results.get('u-1')).toMatchObject({ status: 'cancelled', fence });
    expect(calls[0]!.abortSignal?.aborted).toBe(true);

    // The stream stopped exactly at the fence: its text is the session's text before the fence.
    const events = await sessionEvents(chatId);
    const before = events.filter((d) => d.offset < fence! && d.event.type === 'message.delta').map((d) => (d.event.data as { text: string }).text).join('');
    expect(textOf(chunks)).toBe(before);
    expect(events.filter((d) => d.offset > fence! && d.event.type === 'message.delta')).toEqual([]);
    expect(textOf(chunks).length).toBeLessThan(words.join('').length);
  });

  it('reconnectToStream resumes an answer in flight on another device, replayed from its start', async () => {
    const chatId = uniqueSession('resume');
    const words = Array.from({ length: 40 }, (_, i) => `r${i} `);
    await startAgent(chatId, () => words, 20);
    const laptop = transport('laptop');
    const stream = await laptop.sendMessages({ chatId, trigger: 'submit-message', messageId: undefined, messages: [userMessage('u-1', 'go')], abortSignal: undefined });
    let resumed: Promise<UIMessageChunk[]> | undefined;
    const phone = transport('phone');
    const original = await readAllChunks(stream, (chunk, all) => {
      if (!resumed && chunk.type === 'text-delta' && all.filter((c) => c.type === 'text-delta').length === 10) {
        resumed = phone.reconnectToStream({ chatId }).then((s) => {
          expect(s).not.toBeNull();
          return readAllChunks(s!);
        });
      }
    });
    const replay = await resumed!;
    expect(phone.resumeStreamIsReplay).toBe(true);
    expect(replay).toEqual(original);
    expect(textOf(replay)).toBe(words.join(''));
    // Nothing in flight any more.
    expect(await phone.reconnectToStream({ chatId })).toBeNull();
  });

  it('steer reaches the model in the next step and is acknowledged as consumed', async () => {
    const chatId = uniqueSession('steer');
    const { calls } = await startAgent(chatId, (step) => (step === 0 ? Array.from({ length: 30 }, (_, i) => `s${i} `) : ['steered.']), 20);
    const t = transport('laptop');
    const stream = await t.sendMessages({ chatId, trigger: 'submit-message', messageId: undefined, messages: [userMessage('u-1', 'plan a trip')], abortSignal: undefined });
    let steer: Promise<{ id: string; offset: string }> | undefined;
    const chunks = await readAllChunks(stream, (chunk, all) => {
      if (!steer && chunk.type === 'text-delta' && all.filter((c) => c.type === 'text-delta').length === 3) {
        steer = t.steer({ chatId, text: 'only two days' });
      }
    });
    const accepted = await steer!;
    expect(textOf(chunks).endsWith('steered.')).toBe(true);
    expect(calls).toHaveLength(2);
    expect(JSON.stringify(calls[1]!.prompt)).toContain('only two days');
    const events = await sessionEvents(chatId);
    const ack = events.find((d) => d.event.type === 'control.ack');
    expect(ack?.event.data).toMatchObject({ control: accepted.id, consumed: true });
    expect(events.find((d) => d.event.type === 'control.steer')?.offset).toBe(accepted.offset);
  });

  it('loads the chat history (user messages and finished answers) from the session', async () => {
    const chatId = uniqueSession('history');
    await startAgent(chatId, () => ['Scripted ', 'offline ', 'answer.'], 5);
    const t = transport('laptop');
    const stream = await t.sendMessages({ chatId, trigger: 'submit-message', messageId: undefined, messages: [userMessage('u-1', 'first')], abortSignal: undefined });
    await readAllChunks(stream);
    const history = await transport('tablet').loadMessages(chatId);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(history[0]!.parts).toEqual([{ type: 'text', text: 'first' }]);
    const text = history[1]!.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('');
    expect(text).toBe('Scripted offline answer.');
  });
});
