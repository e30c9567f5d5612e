// End-to-end tests of the web console in headless Chromium (Debian's /usr/bin/chromium driven
// by playwright-core). The "agent" is this script: it appends token events to a session over
// the Durable Streams HTTP API, as an idempotent producer, while real pages watch.
//
//   node console.e2e.mjs <base-url> <screenshot-dir>
//
// To restart the node mid-stream it prints "@@restart-node" and waits for "@@node-ready" on its
// standard input (ConsoleBrowserIT does the restart); without a parent that answers, that
// scenario is skipped and said so. Exit code 0 when every scenario passed. The last line is
// "N passed, N failed".

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const [base, shots = join(tmpdir(), 'tether-console-shots')] = process.argv.slice(2);
if (!base) {
  console.error('usage: node console.e2e.mjs <base-url> [screenshot-dir]');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const canRestart = process.env.TETHER_CONSOLE_RESTART === '1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);
const check = (ok, what) => { if (!ok) throw new Error(`expected ${what}`); };

// ---------------------------------------------------------------------------- the agent

/** Appends envelopes to a JSON session as one idempotent producer; retries until acked. */
class Agent {
  constructor(session, { run, producer = 'agent' } = {}) {
    this.session = session;
    this.run = run;
    this.producer = producer;
    this.id = `${producer}-${Math.random().toString(36).slice(2, 8)}`;
    this.seq = 0;
  }

  event(type, data = {}) {
    return { type, run: this.run, producer: this.producer, time: new Date().toISOString(), data };
  }

  /** Returns the HTTP status: 2xx acked, 409 fenced (or another refusal). Retries lost calls. */
  async append(events, { retryFor = 180_000 } = {}) {
    const seq = this.seq++;
    const deadline = Date.now() + retryFor;
    for (;;) {
      try {
        const r = await fetch(`${base}/v1/stream/${this.session}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Producer-Id': this.id,
            'Producer-Epoch': '0', 'Producer-Seq': String(seq) },
          body: JSON.stringify(events),
          signal: AbortSignal.timeout(10_000),
        });
        if (r.status >= 500 && Date.now() < deadline) { await sleep(300); continue; }
        return r.status;
      } catch (lost) {
        if (Date.now() > deadline) throw lost;
        await sleep(300); // the node is down or restarting: same seq again, deduplicated
      }
    }
  }
}

async function createSession(id) {
  const r = await fetch(`${base}/v1/stream/${id}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' } });
  check(r.status === 201 || r.status === 200, `session ${id} created, got ${r.status}`);
}

async function readAll(id, from = '-1') {
  const items = [];
  let offset = from;
  for (;;) {
    const r = await fetch(`${base}/v1/stream/${id}?offset=${offset}`);
    check(r.status === 200, `a catch-up read of ${id}, got ${r.status}`);
    items.push(...await r.json());
    offset = r.headers.get('Stream-Next-Offset');
    if (r.headers.get('Stream-Up-To-Date') === 'true') return items;
  }
}

const tokens = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}${i} `);

// ---------------------------------------------------------------------------- the browser

const profile = mkdtempSync(join(tmpdir(), 'tether-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 820 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(60_000);

async function openSession(id, query = '') {
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`page error (${id}):`, e.message));
  await page.goto(`${base}/${query}#/session/${encodeURIComponent(id)}`);
  await page.waitForSelector('#connection[data-state="live"]');
  return page;
}
const text = (page, id) => page.evaluate((m) =>
  document.querySelector(`[data-message-id="${m}"] .text`)?.textContent ?? null, id);
const countMessages = (page, id) => page.evaluate((m) =>
  document.querySelectorAll(`[data-message-id="${m}"]`).length, id);
const waitStatus = (page, id, status) => page.waitForSelector(
  `[data-message-id="${id}"] .status:text-is("${status}")`, { timeout: 120_000 });
const transport = (page) => page.evaluate(() => window.tetherConsole.feed.transport);

/** Streams one message as the agent: run.start, message.start, deltas, message.end, run.end. */
async function streamMessage(agent, id, parts, { batch = 3, pause = 15, onProgress } = {}) {
  await agent.append([agent.event('run.start', { prompt: `write ${id}` }), agent.event('message.start', { id, role: 'assistant' })]);
  for (let i = 0; i < parts.length; i += batch) {
    const status = await agent.append(parts.slice(i, i + batch).map((t) => agent.event('message.delta', { id, text: t })));
    check(status < 300, `delta append acked, got ${status}`);
    await onProgress?.(i + batch);
    if (pause) await sleep(pause);
  }
  await agent.append([agent.event('message.end', { id, status: 'complete' }), agent.event('run.end', { status: 'complete' })]);
}

// ---------------------------------------------------------------------------- scenarios

async function twoPagesShowTheSameText() {
  const session = `console-two-${Date.now()}`;
  await createSession(session);
  const [a, b] = [await openSession(session), await openSession(session)];
  const parts = tokens('two', 240);
  await streamMessage(new Agent(session, { run: 'r-two' }), 'm-two', parts, { pause: 10 });
  await Promise.all([waitStatus(a, 'm-two', 'complete'), waitStatus(b, 'm-two', 'complete')]);
  const expected = parts.join('');
  check(await text(a, 'm-two') === expected, 'page A to show the whole message once');
  check(await text(b, 'm-two') === expected, 'page B to show the same text as page A');
  if (await transport(a) === 'websocket') {
    await a.waitForFunction(() => document.querySelectorAll('#presence li[data-device]').length >= 2);
  }
  // A late page loads history as whole messages; a reload resumes without duplicates.
  const late = await openSession(session);
  await waitStatus(late, 'm-two', 'complete');
  check(await text(late, 'm-two') === expected, 'a late page to load the whole message from history');
  await a.reload();
  await a.waitForSelector('#connection[data-state="live"]');
  await waitStatus(a, 'm-two', 'complete');
  check(await text(a, 'm-two') === expected && await countMessages(a, 'm-two') === 1,
    'a reloaded page to show the message exactly once');
  const via = await transport(a);
  await Promise.all([a.close(), b.close(), late.close()]);
  return `two pages, a late page and a reload show the same ${expected.length} characters once (via ${via})`;
}

const socketDropResumesWithoutGapOrDuplicate = () => dropAndResume('');

/** The same over the Durable Streams long-poll fallback (servers without the WebSocket). */
async function longPollFallbackResumesWithoutGapOrDuplicate() {
  return dropAndResume('?transport=long-poll');
}

async function dropAndResume(query) {
  const session = `console-drop-${Date.now()}`;
  await createSession(session);
  const page = await openSession(session, query);
  check(await transport(page) === (query ? 'long-poll' : 'websocket'), `the page to read via ${query || 'the WebSocket'}`);
  const parts = tokens('drop', 300);
  let drops = 0;
  await streamMessage(new Agent(session, { run: 'r-drop' }), 'm-drop', parts, {
    pause: 10,
    onProgress: async (sent) => {
      if (sent === 90 || sent === 180) {
        drops += 1;
        await page.evaluate(() => window.tetherConsole.feed.drop());
        await page.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 10_000 }).catch(() => {});
      }
    },
  });
  await waitStatus(page, 'm-drop', 'complete');
  const states = await page.evaluate(() => window.tetherConsole.states);
  check(states.filter((s) => s.startsWith('live@')).length >= 2,
    `the page to resume twice at an offset; states ${states.join(' ')}`);
  const shown = await text(page, 'm-drop');
  check(shown === parts.join(''), `the full text after ${drops} dropped connections, no duplicate; got ${shown.length} of ${parts.join('').length} chars`);
  check((await page.getAttribute('#connection', 'data-resumed-at')) !== '', 'the page to say where it resumed');
  const detail = await page.textContent('#connection-detail');
  await page.close();
  return `${drops} dropped connections, resumed from the last offset each time, text exact (${detail})`;
}

async function nodeRestartResumesWithoutGapOrDuplicate() {
  if (!canRestart) return 'SKIPPED: no parent process to restart the node';
  const session = `console-restart-${Date.now()}`;
  await createSession(session);
  const page = await openSession(session);
  const parts = tokens('kill', 120);
  const agent = new Agent(session, { run: 'r-kill' });
  let restarted = false;
  await streamMessage(agent, 'm-kill', parts, {
    pause: 20,
    onProgress: async (sent) => {
      if (sent === 60 && !restarted) {
        restarted = true;
        await waitUntilShown(page, 'm-kill', parts.slice(0, 60).join(''));
        console.log('@@restart-node');
        await awaitNodeReady();
        log('node back; the agent continues');
      }
    },
  });
  await waitStatus(page, 'm-kill', 'complete');
  const states = await page.evaluate(() => window.tetherConsole.states);
  check(states.includes('reconnecting') && states.some((s) => s.startsWith('live@')),
    `the page to lose the node and resume at an offset; states ${states.join(' ')}`);
  const shown = await text(page, 'm-kill');
  check(shown === parts.join(''), `the full text after the node was killed and restarted; got ${shown?.length} chars`);
  check(await countMessages(page, 'm-kill') === 1, 'one message, not two');
  await page.close();
  return 'node killed mid-stream and restarted; the page resumed with the full text, no duplicate';
}

async function waitUntilShown(page, id, prefix) {
  await page.waitForFunction(([m, p]) =>
    (document.querySelector(`[data-message-id="${m}"] .text`)?.textContent ?? '').startsWith(p), [id, prefix]);
}

let stdinLines = null;
function awaitNodeReady() {
  stdinLines ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  return (async () => {
    for (;;) {
      const { value, done } = await stdinLines.next();
      if (done) throw new Error('stdin closed before @@node-ready');
      if (value.trim() === '@@node-ready') return;
    }
  })();
}

async function stopCancelsAtTheFence() {
  const session = `console-stop-${Date.now()}`;
  await createSession(session);
  const page = await openSession(session);
  check(await transport(page) === 'websocket', 'the session view to use the WebSocket (cancel is a WebSocket control)');
  const watcher = await openSession(session);
  const user = new Agent(session, { producer: 'ada' });
  await user.append([user.event('message.start', { id: 'u-stop', role: 'user' }),
    user.event('message.delta', { id: 'u-stop', text: 'What is a durable session, in one paragraph?' }),
    user.event('message.end', { id: 'u-stop', status: 'complete' })]);
  const agent = new Agent(session, { run: 'r-stop' });
  await agent.append([agent.event('run.start', { prompt: 'explain durable sessions', input: 'u-stop' }),
    agent.event('tool.call', { toolCallId: 't1', name: 'search', arguments: { query: 'durable streams' } }),
    agent.event('tool.result', { toolCallId: 't1', status: 'ok', output: '3 documents found' }),
    agent.event('message.start', { id: 'm-stop', role: 'assistant' })]);
  const words = 'A durable session is a stream that outlives every connection: each event has an offset, a client that comes back resumes after the last offset it saw, and a Stop button means stop. '.split(/(?<= )/);
  const acked = [];
  let refused = null;
  const producing = (async () => {
    for (let i = 0; i < 2000 && refused === null; i++) {
      const t = words[i % words.length];
      const status = await agent.append([agent.event('message.delta', { id: 'm-stop', text: t })]);
      if (status < 300) acked.push(t); else refused = status;
      await sleep(40);
    }
  })();
  await waitUntilShown(page, 'm-stop', words.slice(0, 6).join(''));
  await page.fill('#steer-text', 'mention the fence');
  await page.click('#steer');
  await page.waitForSelector('#control-feedback:has-text("steer accepted")');
  await watcher.waitForSelector('.note.control:has-text("mention the fence")');
  await waitUntilShown(page, 'm-stop', words.slice(0, 14).join(''));
  await page.click('#stop');
  await page.waitForSelector('#fence:not([hidden])');
  const fence = await page.getAttribute('#fence', 'data-fence');
  await producing;
  check(refused === 409, `the agent's next output to be refused with 409, got ${refused}`);
  const expected = acked.join('');
  await page.waitForFunction(([e]) => document.querySelector('[data-message-id="m-stop"] .text')?.textContent === e, [expected], { timeout: 15_000 })
    .catch(() => {});
  const shown = await text(page, 'm-stop');
  check(shown === expected, `the page to show exactly the output acknowledged before the fence (${expected.length} chars), got ${shown.length}`);
  await watcher.waitForFunction(([e]) => document.querySelector('[data-message-id="m-stop"] .text')?.textContent === e, [expected], { timeout: 15_000 })
    .catch(() => {});
  check(await text(watcher, 'm-stop') === expected, 'the second page to show the same stopped text');
  await page.waitForSelector('[data-message-id="m-stop"] .status:text-is("cancelled at the fence")');
  const afterFence = (await readAll(session, fence)).filter((e) => e.run === 'r-stop' && e.type === 'message.delta');
  check(afterFence.length === 0, `no output of the run after the fence ${fence}, found ${afterFence.length}`);
  await watcher.waitForSelector('.note.cancel');
  await page.waitForSelector('#runs li[data-run="r-stop"] .pill.cancelled');
  await page.screenshot({ path: join(shots, 'console-session.png') });
  await Promise.all([page.close(), watcher.close()]);
  return `steer accepted and seen by the second page; Stop fenced run r-stop at ${fence}; both pages show the ${expected.length} acknowledged chars, the agent was refused after it`;
}

async function scriptedRunShowsSprintsAndScores() {
  const run = await startScriptedRun('A command-line tool that turns titles into URL slugs.');
  const page = await context.newPage();
  page.on('pageerror', (e) => log('page error (run):', e.message));
  await page.goto(`${base}/#/run/${run.runId}`);
  await page.waitForSelector('#run-phase');
  await page.screenshot({ path: join(shots, 'console-run-live.png') });
  await page.waitForSelector('#run-phase:text-is("completed")', { timeout: 240_000 });
  await page.waitForSelector('[data-sprint="2"] tr.attempt[data-passed="true"]');
  await page.waitForSelector('#files li[data-path="slug.sh"]');
  check(await page.locator('[data-sprint]').count() === 2, 'two sprint cards');
  check(await page.locator('[data-sprint="1"] tr.attempt[data-attempt="1"][data-passed="false"]').count() === 1,
    'sprint 1 attempt 1 failed by the evaluator');
  check(await page.locator('[data-sprint="1"] tr.attempt[data-attempt="2"][data-passed="true"]').count() === 1,
    'sprint 1 attempt 2 passed after the fix');
  check(await page.locator('[data-sprint="1"] td.miss[data-criterion]').count() >= 1, 'a score under its threshold marked as a miss');
  check((await page.textContent('[data-sprint="1"] thead')).includes('≥'), 'thresholds shown beside the criteria');
  check((await page.textContent('#spec')).includes('Sprint 1'), 'the spec shown');
  for (const f of ['spec.md', 'contracts/sprint-1.md', 'report.md', 'tests/test_slug.sh']) {
    // The page reads the files again every 1.5 s until one read after the run's end.
    await page.waitForSelector(`#files li[data-path="${f}"]`, { timeout: 10_000 })
      .catch(() => { throw new Error(`expected workspace file ${f} listed`); });
    check(await page.locator(`#files li[data-path="${f}"]`).count() === 1, `workspace file ${f} listed once`);
  }
  check((await page.textContent('#budget')).includes('tokens'), 'the budget shown');
  for (const role of ['planner', 'generator', 'evaluator']) {
    check(await page.locator(`#spend-by-role tr[data-key="${role}"]`).count() === 1, `the ${role}'s spend shown`);
  }
  check(await page.locator('#spend-by-sprint tr[data-key="2"]').count() === 1, "sprint 2's spend shown");
  await page.click('#files li[data-path="slug.sh"] a');
  await page.waitForSelector('#file-content');
  await page.screenshot({ path: join(shots, 'console-run.png'), fullPage: true });
  await page.close();
  return `scripted run ${run.runId.slice(0, 8)} shown: 2 sprints, sprint 1 failed then passed, scores against thresholds, files, budget`;
}

/**
 * Started before the first scenario (see the runner): most of a minute of the harness's own work,
 * the Evaluator's browser included, goes on while the other scenarios play, and this one then
 * finds the run done or nearly.
 */
async function startBrowserRun() {
  const created = await fetch(`${base}/runs`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'A web page with a counter button.', model: 'scripted:browser-demo',
      policy: { contractRounds: 0, attemptsPerSprint: 2, toolServers: [{ server: 'browser', roles: { evaluator: ['*'] } }] } }) });
  check(created.status === 201, `browser run created (${created.status}: ${await created.clone().text()})`);
  return created.json();
}

let browserRun;

async function browserRunShowsScreenshotsBesideScores() {
  const run = await browserRun;
  const page = await context.newPage();
  page.on('pageerror', (e) => log('page error (browser run):', e.message));
  await page.goto(`${base}/#/run/${run.runId}`);
  await page.waitForSelector('#run-phase:text-is("completed")', { timeout: 240_000 });
  await page.waitForSelector('[data-sprint="1"] tr.screenshots img.screenshot');
  check(await page.locator('[data-sprint="1"] tr.attempt[data-attempt="1"][data-passed="false"]').count() === 1,
    'the broken button failed attempt 1');
  check(await page.locator('[data-sprint="1"] tr.attempt[data-attempt="2"][data-passed="true"]').count() === 1,
    'the fix passed attempt 2');
  await page.waitForFunction(() => [...document.querySelectorAll('img.screenshot')].length === 2
    && [...document.querySelectorAll('img.screenshot')].every((i) => i.complete && i.naturalWidth > 100), null, { timeout: 30_000 });
  await page.screenshot({ path: join(shots, 'console-browser-run.png'), fullPage: true });
  await page.close();
  return `browser-graded run ${run.runId.slice(0, 8)}: attempt 1 failed, attempt 2 passed, both screenshots shown beside the scores`;
}

async function startScriptedRun(prompt) {
  const created = await fetch(`${base}/runs`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, model: 'scripted:demo' }) });
  check(created.status === 201, `the scripted run to be created, got ${created.status}`);
  return created.json();
}

/** Pause, resume, steer and cancel from the dashboard, on runs held paused so no race decides. */
async function dashboardControlsPauseResumeSteerCancel() {
  const first = await startScriptedRun('A slugifier, to be paused, steered and cancelled.');
  const paused = await fetch(`${base}/runs/${first.runId}/pause`, { method: 'POST' });
  check(paused.status === 200, `the run to pause, got ${paused.status}`);
  const page = await context.newPage();
  page.on('pageerror', (e) => log('page error (controls):', e.message));
  await page.goto(`${base}/#/run/${first.runId}`);
  await page.waitForSelector('.run-head .pill.paused');
  check(await page.isDisabled('#run-pause') && !(await page.isDisabled('#run-resume')),
    'Pause disabled and Resume enabled on a paused run');
  await page.fill('#run-steer-text', 'keep the tests short');
  await page.click('#run-steer');
  await page.waitForSelector('#run-control-feedback:text-is("steer: accepted")');
  await page.click('#run-cancel');
  await page.waitForSelector('#run-phase:text-is("cancelled")');
  check(await page.isDisabled('#run-cancel'), 'Cancel disabled once the run has ended');

  const second = await startScriptedRun('A slugifier, paused then resumed from the console.');
  await fetch(`${base}/runs/${second.runId}/pause`, { method: 'POST' });
  await page.goto(`${base}/#/run/${second.runId}`);
  await page.waitForSelector('.run-head .pill.paused');
  await page.click('#run-resume');
  await page.waitForSelector('#run-control-feedback:text-is("resume: accepted")');
  await page.waitForSelector('#run-phase:text-is("completed")', { timeout: 240_000 });
  await page.close();
  return 'a paused run steered and cancelled from the dashboard; another resumed and completed';
}

async function startPageOpensAndListsSessions() {
  const session = `console-home-${Date.now()}`;
  const page = await context.newPage();
  page.on('pageerror', (e) => log('page error (home):', e.message));
  await page.goto(`${base}/`);
  await page.fill('#open-session-id', session);
  await page.click('form:has(#open-session-id) button');
  await page.waitForSelector('#connection[data-state="live"]');
  check(page.url().endsWith(`#/session/${session}`), `the session view of ${session}, at ${page.url()}`);
  await page.goto(`${base}/#/`);
  await page.waitForSelector(`#my-sessions a[href="#/session/${session}"]`);
  await page.waitForSelector('#recent-runs');
  await page.goto(`${base}/#/session/never-created-${Date.now()}`);
  await page.waitForSelector('#connection[data-state="closed"]');
  const said = await page.textContent('#connection-detail');
  check(/not.found|no such session/i.test(said), `a session that does not exist to be reported, got "${said}"`);
  await page.close();
  return `opened ${session} from the start page; it is listed among the caller's sessions; a missing session is reported (${said})`;
}

// ---------------------------------------------------------------------------- runner

const scenarios = [startPageOpensAndListsSessions, twoPagesShowTheSameText,
  socketDropResumesWithoutGapOrDuplicate, longPollFallbackResumesWithoutGapOrDuplicate,
  stopCancelsAtTheFence, scriptedRunShowsSprintsAndScores, browserRunShowsScreenshotsBesideScores,
  dashboardControlsPauseResumeSteerCancel,
  nodeRestartResumesWithoutGapOrDuplicate];
const only = process.env.TETHER_CONSOLE_ONLY?.split(',');
if (!only || only.includes(browserRunShowsScreenshotsBesideScores.name)) {
  browserRun = startBrowserRun();
  browserRun.catch(() => {}); // its scenario reports a failure to start it
}
let passed = 0;
let failed = 0;
for (const scenario of scenarios) {
  if (only && !only.includes(scenario.name)) continue;
  const started = Date.now();
  try {
    const summary = await scenario();
    passed += 1;
    log(`PASS ${scenario.name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${summary}`);
  } catch (error) {
    failed += 1;
    log(`FAIL ${scenario.name}: ${error.stack ?? error}`);
    for (const p of context.pages()) {
      await p.screenshot({ path: join(shots, `failure-${scenario.name}-${context.pages().indexOf(p)}.png`) }).catch(() => {});
      await p.close().catch(() => {});
    }
  }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
