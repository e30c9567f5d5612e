/**
 * The example's agent, written with the AI SDK: it finds the chats (sessions whose id starts
 * with CHAT_PREFIX, listed by GET /v1/sessions), joins each as an agent, and answers every user
 * message with `streamText` on the scripted offline model, written into the session by
 * `serveChat` from @tether/ai-sdk/agent: a Stop on any device aborts the model call, a steer
 * reaches the next step.
 *
 *   TETHER_URL=http://localhost:8080 npx tsx agent/main.ts
 *
 * It prints one JSON line per thing it does (joined, answered, model-call-aborted).
 */
import { TetherAgent, TetherHttp } from '@tether/client';
import { serveChat } from '@tether/ai-sdk/agent';
import { stepCountIs, streamText } from 'ai';
import { scriptedModel } from './scripted-model.js';

const url = process.env.TETHER_URL ?? `http://localhost:${process.env.TETHER_HTTP_PORT ?? '8080'}`;
const token = process.env.TETHER_TOKEN;
const prefix = process.env.CHAT_PREFIX ?? 'chat-';
const delayMs = Number(process.env.SCRIPTED_DELAY_MS ?? '60');
const device = process.env.AGENT_DEVICE ?? 'agent-ts';

const log = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

const http = new TetherHttp({ url, token });
const agents = new Map<string, TetherAgent>();
let stopping = false;

async function join(session: string): Promise<void> {
  const agent = new TetherAgent({ url, token, session, device, after: '-1' });
  agents.set(session, agent);
  let currentRun = '';
  let step = 0;
  const model = scriptedModel({ delayMs, step: () => step, onAbort: (call) => log('model-call-aborted', { session, run: currentRun, call }) });
  serveChat(agent, ({ messages, abortSignal, steering, run }) => {
    currentRun = run.id;
    step = 0;
    log('answering', { session, run: run.id });
    return streamText({
      model, messages, abortSignal, experimental_steering: steering, stopWhen: stepCountIs(3),
      prepareStep: ({ stepNumber }) => {
        step = stepNumber;
        return undefined;
      },
    });
  }, {
    onAnswered: (result, input) => log('answered', { session, input, ...result, error: result.error ? String(result.error) : undefined }),
  });
  agent.session.on('state', (s) => log('connection', { session, state: s.state }));
  await agent.session.ready();
  log('joined', { session });
}

async function discover(): Promise<void> {
  while (!stopping) {
    try {
      const res = await fetch(`${url}/v1/sessions`, { headers: await http.headers(false) });
      if (res.ok) {
        const body = (await res.json()) as { sessions: Array<{ id: string; closed: boolean }> };
        for (const s of body.sessions) {
          if (s.id.startsWith(prefix) && !s.closed && !agents.has(s.id)) void join(s.id).catch((e) => log('join-failed', { session: s.id, error: String(e) }));
        }
      }
    } catch (error) {
      log('discovery-failed', { error: String(error) });
    }
    // New chats appear as sessions; the list is read again every half second.
    await new Promise((r) => setTimeout(r, 500));
  }
}

const shutdown = () => {
  stopping = true;
  for (const agent of agents.values()) agent.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
log('started', { url, prefix, device, model: 'scripted offline MockLanguageModelV4' });
void discover();
