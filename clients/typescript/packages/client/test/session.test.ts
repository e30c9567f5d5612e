import { afterEach, describe, expect, it } from 'vitest';
import { TetherAgent, TetherError, TetherHttp, TetherSession, defaultWebSocketFactory, type Delivered, type WebSocketFactory } from '../src/node.js';
import { killNode, mintToken, startNode, tetherToken, tetherUrl, uniqueSession, until } from '../../../test/support.js';

const open: Array<{ close(): void }> = [];
function track<T extends { close(): void }>(x: T): T {
  open.push(x);
  return x;
}
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

function collect(session: TetherSession): Delivered[] {
  const seen: Delivered[] = [];
  session.on('event', (d) => seen.push(d));
  return seen;
}

const ticks = (seen: Delivered[]) => seen.filter((d) => d.event.type === 'test.tick').map((d) => (d.event.data as { n: number }).n);

function increasing(seen: Delivered[]): boolean {
  return seen.every((d, i) => i === 0 || d.offset > seen[i - 1]!.offset);
}

async function publishTicks(agent: TetherAgent, from: number, to: number, perFrame = 5): Promise<void> {
  for (let n = from; n < to; n += perFrame) {
    const events = [];
    for (let k = n; k < Math.min(to, n + perFrame); k++) events.push({ type: 'test.tick', data: { n: k } });
    await agent.session.publish(events);
  }
}

describe('TetherSession', () => {
  it('resumes after forced drops with no gap and no duplicate', async () => {
    const session = uniqueSession('drops');
    const url = tetherUrl();
    const token = tetherToken();
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1', create: true }));
    const reader = track(await TetherSession.connect({ url, token, session, device: 'phone' }));
    const seen = collect(reader);
    const reconnects: number[] = [];
    let droppedAt = 0;
    reader.on('state', (s) => {
      if (s.state === 'live' && droppedAt) {
        reconnects.push(performance.now() - droppedAt);
        droppedAt = 0;
      }
    });
    const writing = publishTicks(agent, 0, 600, 3);
    for (let drop = 0; drop < 5; drop++) {
      await until((f) => reader.on('event', f), () => ticks(seen).length >= (drop + 1) * 80, 30_000, `tick ${(drop + 1) * 80}`);
      droppedAt = performance.now();
      reader.dropConnection();
      await reader.ready();
    }
    await writing;
    await until((f) => reader.on('event', f), () => ticks(seen).length >= 600, 30_000, 'all 600 ticks');
    expect(ticks(seen)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(increasing(seen)).toBe(true);
    expect(reconnects).toHaveLength(5);
    console.log(`reconnect after a dropped socket (to live again), ms: ${reconnects.map((m) => m.toFixed(0)).join(', ')}`);
  });

  it('a publish or steer in flight when the connection drops is applied once and answered', async () => {
    const session = uniqueSession('inflight');
    const url = tetherUrl();
    const token = tetherToken();
    const writer = track(await TetherSession.connect({ url, token, session, device: 'writer', create: true }));
    const offsets: string[] = [];
    for (let i = 0; i < 8; i++) {
      await writer.ready();
      // The frame leaves before the close frame, so the server usually applies it; the reply
      // is lost with the socket either way. Reconciliation must neither lose nor repeat it.
      const published = writer.publish([{ type: 'test.tick', data: { n: 2 * i } }, { type: 'test.tick', data: { n: 2 * i + 1 } }]);
      writer.dropConnection();
      offsets.push((await published).offset);
    }
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1' }));
    const run = await agent.startRun();
    const steers: string[] = [];
    run.on('steer', (s) => void s.ack(true).then(() => steers.push(s.id)));
    await writer.ready();
    const steer = writer.steer(run.id, 'once');
    writer.dropConnection();
    const accepted = await steer;

    const all = await readAll(url, session);
    expect(ticks(all)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const tickEvents = all.filter((d) => d.event.type === 'test.tick');
    expect(offsets).toEqual(tickEvents.filter((_, i) => i % 2 === 1).map((d) => d.offset));
    const steerEvents = all.filter((d) => d.event.type === 'control.steer');
    expect(steerEvents).toHaveLength(1);
    expect(steerEvents[0]!.offset).toBe(accepted.offset);
  });

  it('sends its token as a header in Node.js and as access_token where headers are impossible; refusals are final', async () => {
    const session = uniqueSession('auth');
    const url = tetherUrl();
    const token = tetherToken();
    const base = defaultWebSocketFactory()!;
    const opened: Array<{ url: string; headers?: Record<string, string> }> = [];
    const node: WebSocketFactory = { supportsHeaders: true, open: (u, h) => (opened.push({ url: u, headers: h }), base.open(u, h)) };
    const browserLike: WebSocketFactory = { supportsHeaders: false, open: (u) => (opened.push({ url: u }), base.open(u)) };
    track(await TetherSession.connect({ url, token, session, device: 'laptop', create: true, webSocket: node }));
    expect(base.supportsHeaders).toBe(true);
    expect(opened[0]!.url).not.toContain('access_token');
    expect(opened[0]!.headers).toEqual({ Authorization: `Bearer ${token}` });
    track(await TetherSession.connect({ url, token, session, device: 'tab', webSocket: browserLike }));
    expect(new URL(opened[1]!.url).searchParams.get('access_token')).toBe(token);
    expect(opened[1]!.headers).toBeUndefined();

    // A token for other sessions: the upgrade is refused, and the client says why, once.
    const elsewhere = await mintToken('someone', [{ capabilities: ['subscribe'], sessions: ['other-*'] }]);
    await expect(TetherSession.connect({ url, token: elsewhere, session, device: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(TetherSession.connect({ url, session, device: 'y' })).rejects.toMatchObject({ code: 'unauthorized' });
    // A read-only token: publishing is refused per frame and the connection stays usable.
    const readOnly = await mintToken('reader', [{ capabilities: ['subscribe'], sessions: [session] }]);
    const reader = track(await TetherSession.connect({ url, token: readOnly, session, device: 'reader' }));
    await expect(reader.publish({ type: 'test.tick', data: { n: 0 } })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(reader.cancel({ run: 'r-1' })).rejects.toMatchObject({ code: 'forbidden' });
    await reader.ping();
    expect(reader.state).toBe('live');
  });

  it('cancel answers the fence, and the agent run aborts with that fence', async () => {
    const session = uniqueSession('cancel');
    const url = tetherUrl();
    const token = tetherToken();
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1', create: true }));
    const phone = track(await TetherSession.connect({ url, token, session, device: 'phone' }));
    const seen = collect(phone);
    const run = await agent.startRun({ input: 'u-1' });
    const message = run.message();
    await message.delta('partial ');
    const aborted = new Promise<unknown>((resolve) => run.signal.addEventListener('abort', () => resolve(run.signal.reason)));

    const { fence } = await phone.cancel({ run: run.id });
    const reason = (await aborted) as { fence: string; code: string };
    expect(reason.fence).toBe(fence);
    expect(reason.code).toBe('cancelled');
    await until((f) => phone.on('event', f), () => seen.some((d) => d.event.type === 'run.end' && d.event.run === run.id), 10_000, 'run.end');
    const cancelEvent = seen.find((d) => d.event.type === 'control.cancel');
    expect(cancelEvent?.offset).toBe(fence);
    expect(seen.find((d) => d.event.type === 'run.end')?.event.data).toMatchObject({ status: 'cancelled' });
    await expect(message.delta('after the fence')).rejects.toMatchObject({ code: 'fenced' });
    expect(await phone.cancel({ run: run.id })).toMatchObject({ fence });

    // An input cancelled before any run answers it: the run cannot start.
    const early = await phone.cancel({ message: 'u-2' });
    expect(early.fence > fence).toBe(true);
    await expect(agent.startRun({ input: 'u-2' })).rejects.toBeInstanceOf(TetherError);
  });

  it('steer and interrupt reach the agent, which acknowledges them with control.ack', async () => {
    const session = uniqueSession('steer');
    const url = tetherUrl();
    const token = tetherToken();
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1', create: true }));
    const phone = track(await TetherSession.connect({ url, token, session, device: 'phone' }));
    const seen = collect(phone);
    const run = await agent.startRun();
    const steered = new Promise<string>((resolve) => run.on('steer', (s) => {
      void s.ack(true);
      resolve(s.text ?? '');
    }));
    const steer = await phone.steer(run.id, 'only two days');
    expect(await steered).toBe('only two days');
    await until((f) => phone.on('event', f), () => seen.some((d) => d.event.type === 'control.ack'), 10_000, 'control.ack');
    const ack = seen.find((d) => d.event.type === 'control.ack')!;
    expect(ack.event).toMatchObject({ run: run.id, producer: 'agent-1', data: { control: steer.id, consumed: true } });
    expect(seen.find((d) => d.event.type === 'control.steer')?.offset).toBe(steer.offset);

    const interrupt = await phone.interrupt(run.id);
    const controls = run.controls();
    const next = await controls.next();
    expect(next.value).toMatchObject({ kind: 'interrupt', id: interrupt.id, offset: interrupt.offset });
    await next.value!.ack(false);
    await until((f) => phone.on('event', f), () => seen.filter((d) => d.event.type === 'control.ack').length === 2, 10_000, 'second ack');
    await run.end();
    await expect(phone.steer(run.id, 'too late')).rejects.toMatchObject({ code: 'not-running' });
  });

  it('tracks presence and read cursors with unread counts', async () => {
    const session = uniqueSession('presence');
    const url = tetherUrl();
    const token = tetherToken();
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1', create: true }));
    const phone = track(await TetherSession.connect({ url, token, session, device: 'phone' }));
    await until((f) => phone.on('presence', f), () => phone.presence.get('agent-1') === 'agent' && phone.presence.get('phone') === 'client', 10_000, 'both present');

    const run = await agent.startRun();
    for (const text of ['one', 'two', 'three']) {
      const m = run.message();
      await m.delta(text);
      await m.end();
    }
    await run.end();
    await until((f) => phone.on('unread', f), () => phone.unread === 3, 10_000, '3 unread');
    const ends = [] as string[];
    phone.on('event', () => {});
    const view0 = await phone.describe();
    expect(view0.present.map((p) => p.device).sort()).toEqual(['agent-1', 'phone']);

    // Read up to the end of the second message: one unread left, here and on the server.
    const events = await readAll(url, session);
    for (const d of events) if (d.event.type === 'message.end') ends.push(d.offset);
    await phone.ack(ends[1]);
    expect(phone.unread).toBe(1);
    let cursor: { offset: string; unread: number } | undefined;
    await until((f) => {
      const t = setInterval(f, 200);
      return () => clearInterval(t);
    }, () => {
      void phone.describe().then((v) => (cursor = v.cursors.find((c) => c.device === 'phone')));
      return cursor !== undefined;
    }, 10_000, 'server cursor');
    expect(cursor).toEqual({ device: 'phone', offset: ends[1], unread: 1 });

    // A new connection of the same device starts from the server's cursor.
    const again = track(await TetherSession.connect({ url, token, session, device: 'phone' }));
    await until((f) => again.on('unread', f), () => again.cursor === ends[1], 10_000, 'cursor synced');
    expect(again.unread).toBe(1);

    agent.close();
    await until((f) => phone.on('presence', f), () => !phone.presence.has('agent-1'), 15_000, 'agent left');
  });

  it('reads, publishes and cancels over Durable Streams HTTP when WebSockets are not allowed', async () => {
    const session = uniqueSession('http');
    const url = tetherUrl();
    const token = tetherToken();
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1', create: true }));
    const refused: WebSocketFactory = {
      supportsHeaders: true,
      open: () => {
        throw new Error('WebSockets are blocked here');
      },
    };
    const fallback = track(new TetherSession({ url, token, session, device: 'kiosk', webSocket: refused, transport: 'auto' }));
    const http = track(new TetherSession({ url, token, session, device: 'laptop', transport: 'http' }));
    await Promise.all([fallback.ready(), http.ready()]);
    expect(http.overHttp).toBe(true);
    const seenHttp = collect(http);
    const seenFallback = collect(fallback);
    await publishTicks(agent, 0, 40, 4);
    await http.publish({ type: 'test.tick', data: { n: 40 } });
    await until((f) => http.on('event', f), () => ticks(seenHttp).length === 41, 20_000, 'http ticks');
    await until((f) => fallback.on('event', f), () => ticks(seenFallback).length === 41, 20_000, 'fallback ticks');
    expect(ticks(seenHttp)).toEqual(Array.from({ length: 41 }, (_, i) => i));
    expect(ticks(seenFallback)).toEqual(ticks(seenHttp));
    expect(fallback.overHttp).toBe(true);

    const run = await agent.startRun();
    const { fence } = await http.cancel({ run: run.id });
    await until((f) => run.on('cancel', f), () => run.signal.aborted, 10_000, 'abort');
    expect(run.fence).toBe(fence);
  });

  it('leaves no socket, timer or listener behind after close', async () => {
    const session = uniqueSession('leak');
    const url = tetherUrl();
    const token = tetherToken();
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    const reader = await TetherSession.connect({ url, token, session, device: 'phone', create: true, pingIntervalMs: 50 });
    const agent = await TetherAgent.connect({ url, token, session, device: 'agent-1' });
    reader.on('event', () => {});
    const run = await agent.startRun();
    await run.message().delta('x');
    reader.dropConnection();
    await reader.ready();
    await new Promise((r) => setTimeout(r, 120));
    reader.close();
    agent.close();
    await Promise.all([reader.closed(), agent.session.closed()]);
    expect(reader.listenerCount()).toBe(0);
    expect(agent.session.listenerCount()).toBe(0);
    // Sockets finish their closing handshake asynchronously: probe until they are gone.
    let now = Infinity;
    for (let i = 0; i < 250 && now > before; i++) {
      await new Promise((r) => setTimeout(r, 20));
      now = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length - 1;
    }
    expect(now).toBeLessThanOrEqual(before);
  });

  // Last: it takes the shared node away for a while (its Cassandra restarts with it).
  it('reconnects by itself after the node is killed (SIGKILL) and restarted, and continues exactly', async () => {
    const session = uniqueSession('kill');
    const url = tetherUrl();
    const token = tetherToken();
    const agent = track(await TetherAgent.connect({ url, token, session, device: 'agent-1', create: true, reconnect: { maxDelayMs: 1000 } }));
    const reader = track(await TetherSession.connect({ url, token, session, device: 'phone', reconnect: { maxDelayMs: 1000 } }));
    const seen = collect(reader);
    const states: string[] = [];
    reader.on('state', (s) => states.push(s.state));
    await publishTicks(agent, 0, 100);
    await until((f) => reader.on('event', f), () => ticks(seen).length >= 100, 20_000, '100 ticks');

    await killNode();
    await until((f) => reader.on('state', f), () => reader.state === 'reconnecting', 20_000, 'reconnecting');
    const readyMs = await startNode();
    const nodeReadyAt = performance.now();
    await reader.ready();
    const resumedMs = performance.now() - nodeReadyAt;
    await agent.session.ready();
    await publishTicks(agent, 100, 200);
    await until((f) => reader.on('event', f), () => ticks(seen).length >= 200, 30_000, '200 ticks');

    expect(ticks(seen)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(increasing(seen)).toBe(true);
    expect(states).toContain('reconnecting');
    console.log(`node restart took ${readyMs} ms; the session was live again ${resumedMs.toFixed(0)} ms after the node answered /ready`);
  }, 420_000);
});

async function readAll(url: string, session: string): Promise<Delivered[]> {
  const reader = new TetherSession({ url, token: tetherToken(), session, device: 'auditor', syncCursor: false });
  const seen = collect(reader);
  await reader.ready();
  reader.close();
  void TetherHttp;
  return seen;
}
