/**
 * The chat example in a real browser: Debian's headless Chromium driven by playwright-core, the
 * page as built by Vite (served by `vite preview` with its proxy to the shared Tether node), and
 * the example's own agent process (AI SDK, scripted offline model). Needs `npm run build` first
 * (the test command does it) and /usr/bin/chromium (installed by install-chromium.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TetherSession, type Delivered } from '@tether/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, tetherToken, tetherUrl, uniqueSession } from '../../../clients/typescript/test/support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let server: PreviewServer;
let agent: ChildProcess;
let browser: Browser;
let userToken: string;
const agentLines: Array<Record<string, unknown>> = [];
const agentWaiters = new Set<() => void>();

function agentSaid(predicate: (line: Record<string, unknown>) => boolean, ms = 20_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hit = agentLines.find(predicate);
      if (hit) {
        agentWaiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      }
    };
    const timer = setTimeout(() => {
      agentWaiters.delete(check);
      reject(new Error(`the agent did not log the expected line within ${ms} ms; it logged:\n${agentLines.map((l) => JSON.stringify(l)).join('\n')}`));
    }, ms);
    agentWaiters.add(check);
    check();
  });
}

beforeAll(async () => {
  process.env.TETHER_URL = tetherUrl();
  // The node has authentication on: the page and the agent share one user's chats. The agent
  // finds them by listing the sessions of the token's subject.
  userToken = await mintToken('e2e-user', [{ capabilities: ['subscribe', 'publish', 'control'], sessions: ['chat-e2e-*'] }]);
  server = await preview({ root, configFile: join(root, 'vite.config.ts'), preview: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'warn' });
  agent = spawn(process.execPath, ['--import', 'tsx', join(root, 'agent', 'main.ts')], {
    cwd: root,
    env: { ...process.env, TETHER_URL: tetherUrl(), TETHER_TOKEN: userToken, CHAT_PREFIX: 'chat-e2e-', SCRIPTED_DELAY_MS: '40' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  agent.stdout!.on('data', (data: Buffer) => {
    buffer += data.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        agentLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        agentLines.push({ raw: line });
      }
      for (const w of [...agentWaiters]) w();
    }
  });
  await agentSaid((l) => l.event === 'started');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  agent?.kill('SIGTERM');
  await server?.close();
});

function pageUrl(chat: string): string {
  return `${server.resolvedUrls!.local[0]!.replace(/\/$/, '')}/?chat=${chat}&token=${encodeURIComponent(userToken)}`;
}

async function assistantTexts(page: Page): Promise<string[]> {
  return page.locator('li[data-role=assistant] [data-testid=text]').allTextContents();
}

async function sessionEvents(session: string): Promise<Delivered[]> {
  const reader = new TetherSession({ url: tetherUrl(), token: tetherToken(), session, device: 'auditor', syncCursor: false });
  const seen: Delivered[] = [];
  reader.on('event', (d) => seen.push(d));
  await reader.ready();
  reader.close();
  return seen;
}

const END = 'That is the end of the scripted answer.';

describe('chat example in Chromium', () => {
  it('two tabs see the same answer once; a reload mid-answer continues it; Stop in one tab stops both at the fence', async () => {
    const chat = uniqueSession('chat-e2e');
    const context = await browser.newContext();
    const a = await context.newPage();
    const b = await context.newPage();
    await a.goto(pageUrl(chat));
    await b.goto(pageUrl(chat));
    await a.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
    await b.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
    await agentSaid((l) => l.event === 'joined' && l.session === chat);

    // 1. Tab A asks; both tabs show the one answer, once.
    const stopAtStart = await a.getByTestId('stop').boundingBox();
    await a.getByTestId('input').fill('Plan a trip');
    await a.getByTestId('send').click();
    await b.locator('li[data-role=assistant]').first().waitFor();
    // 2. Reload tab B in the middle of the answer: it picks the answer up again.
    await b.locator('li[data-role=assistant] [data-testid=text]', { hasText: 'deliberately long' }).waitFor();
    const beforeReload = (await assistantTexts(b))[0]!;
    expect(beforeReload).not.toContain(END);
    await b.reload();
    await b.locator('li[data-role=assistant] [data-testid=text]', { hasText: END }).waitFor({ timeout: 30_000 });
    await a.locator('li[data-role=assistant] [data-testid=text]', { hasText: END }).waitFor({ timeout: 30_000 });
    const [textA, textB] = [await assistantTexts(a), await assistantTexts(b)];
    expect(textA).toHaveLength(1);
    expect(textB).toEqual(textA);
    expect(textA[0]).toContain('scripted, offline model');
    expect(textA[0]!.split(END)).toHaveLength(2);
    expect(await b.locator('li[data-role=user]').count()).toBe(1);
    // The answer filled the page; Stop stayed where it was (a page that pushed it down as the
    // text grew made a click on it miss until the answer had ended).
    expect(await a.getByTestId('stop').boundingBox()).toEqual(stopAtStart);

    // 3. A second question; Stop in tab A mid-answer stops it in both tabs, at the fence.
    await b.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
    await a.getByTestId('status').filter({ hasText: 'ready' }).waitFor();
    await a.getByTestId('input').fill('Another trip');
    await a.getByTestId('send').click();
    await a.locator('li[data-role=assistant] [data-testid=text]', { hasText: 'Another trip' }).waitFor();
    await b.locator('li[data-role=assistant] [data-testid=text]', { hasText: 'deliberately' }).nth(1).waitFor();
    await a.getByTestId('stop').click();
    const notice = b.getByTestId('notice');
    await notice.waitFor({ timeout: 15_000 });
    const fence = await notice.getAttribute('data-fence');
    expect(fence).toMatch(/^\d+_\d+$/);
    await a.getByTestId('notice').waitFor();
    expect(await a.getByTestId('notice').getAttribute('data-fence')).toBe(fence);
    await agentSaid((l) => l.event === 'model-call-aborted' && l.session === chat);
    const answered = await agentSaid((l) => l.event === 'answered' && l.session === chat && l.status === 'cancelled');
    expect(answered.fence).toBe(fence);

    // Both tabs end exactly at the fence: the text of the session's deltas before it.
    const events = await sessionEvents(chat);
    const run = events.find((d) => d.event.type === 'control.cancel')!.event.run!;
    const stoppedText = events
      .filter((d) => d.event.run === run && d.event.type === 'message.delta' && d.offset < fence!)
      .map((d) => (d.event.data as { text: string }).text)
      .join('');
    expect(events.filter((d) => d.event.run === run && d.event.type === 'message.delta' && d.offset > fence!)).toEqual([]);
    expect(stoppedText.length).toBeGreaterThan(0);
    expect(stoppedText).not.toContain(END);
    const settled = async (page: Page) => {
      await page.waitForFunction((expected) => {
        const items = document.querySelectorAll('li[data-role=assistant] [data-testid=text]');
        return items.length === 2 && items[1]!.textContent === expected;
      }, stoppedText, { timeout: 15_000 });
    };
    await settled(a);
    await settled(b);
    await a.screenshot({ path: join(root, 'dist', 'e2e-tab-a.png') });
    await context.close();
  });
});
