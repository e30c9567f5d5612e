/**
 * The example's model: the AI SDK's own mock language model (MockLanguageModelV4 from `ai/test`)
 * with a script. No model can be reached from here, so every answer says that it is scripted
 * and offline. It streams word by word with a pause, so Stop, a reload and a second tab have an
 * answer in flight to act on; it records whether the SDK aborted its call.
 */
import { MockLanguageModelV4 } from 'ai/test';

export interface ScriptedModelOptions {
  /** Pause between words in ms. */
  delayMs: number;
  /** Called when the SDK aborts a model call (a cancel in the session). */
  onAbort?: (call: number) => void;
  /** The step of the generation being served (0 first; later steps follow a steer). */
  step?: () => number;
}

function lastUserText(prompt: ReadonlyArray<{ role: string; content: unknown }>): string {
  const user = [...prompt].reverse().find((m) => m.role === 'user');
  if (!user || !Array.isArray(user.content)) return typeof user?.content === 'string' ? user.content : '';
  return user.content.map((p: { type?: string; text?: string }) => (p.type === 'text' ? p.text ?? '' : '')).join('');
}

function script(said: string, steered: boolean): string[] {
  if (steered) {
    return `(scripted, offline model) Steer received: "${said}". Adjusting the scripted plan accordingly.`.split(/(?<= )/);
  }
  const words = [
    `This answer comes from a scripted, offline model (the AI SDK's MockLanguageModelV4); no LLM was called.`,
    `You said: "${said}".`,
    'Here is a deliberately long scripted answer, streamed one word at a time, so that you can press Stop,',
    'reload the page in the middle of it, or open the same chat in a second tab and watch both follow the same',
    'session: every word you see is an event in a durable Tether session, and a reload resumes it from the start of',
    'the answer without a gap or a repeated word. Day one: walk the old town. Day two: the coast. Day three: the',
    'hills. Day four: a museum. Day five: the market. That is the end of the scripted answer.',
  ].join(' ');
  return words.split(/(?<= )/);
}

export function scriptedModel(options: ScriptedModelOptions): MockLanguageModelV4 {
  let calls = 0;
  return new MockLanguageModelV4({
    doStream: async ({ prompt, abortSignal }) => {
      const call = ++calls;
      const words = script(lastUserText(prompt), (options.step?.() ?? 0) > 0);
      let timer: ReturnType<typeof setTimeout> | undefined;
      abortSignal?.addEventListener('abort', () => options.onAbort?.(call), { once: true });
      const stream = new ReadableStream({
        async start(controller) {
          controller.enqueue({ type: 'stream-start', warnings: [] });
          controller.enqueue({ type: 'text-start', id: `t${call}` });
          for (const word of words) {
            if (abortSignal?.aborted) return;
            await new Promise<void>((r) => (timer = setTimeout(r, options.delayMs)));
            controller.enqueue({ type: 'text-delta', id: `t${call}`, delta: word });
          }
          controller.enqueue({ type: 'text-end', id: `t${call}` });
          controller.enqueue({
            type: 'finish',
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: words.length, text: words.length, reasoning: 0 } },
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
}
