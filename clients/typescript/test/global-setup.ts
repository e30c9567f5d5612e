/**
 * One real Tether node for every suite of the run: `tether dev` started from the packaged jar
 * (runtime/target/tether.jar) as a separate process, the way a user runs it, on its own local
 * Cassandra or on the lane's (TETHER_TEST_CASSANDRA). Tests that kill it (SIGKILL) and start it again on the same home ask this process
 * through a small control endpoint, because test files run in workers that do not own it.
 *
 * TETHER_TEST_WORK: where the node's home and log go (Maven passes its target folder).
 * TETHER_TEST_CASSANDRA: host:port of a Cassandra to run the node on (Maven passes the lane's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    tetherUrl: string;
    tetherControl: string;
    tetherLog: string;
    /** A token granting everything on every session (subject `test-user`). */
    tetherToken: string;
    /** The operator secret, to mint narrower tokens. */
    tetherAdminSecret: string;
  }
}

/** The node runs with authentication on, as outside dev mode: every client here uses tokens. */
const TOKEN_SECRET = `ts-clients-test-signing-key-${Math.random().toString(36).slice(2)}-0123456789`;
const ADMIN_SECRET = `ts-clients-admin-${Math.random().toString(36).slice(2)}`;

async function mint(url: string, subject: string, grants: unknown[]): Promise<string> {
  const res = await fetch(`${url}/admin/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_SECRET}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ subject, grants, ttlSeconds: 6 * 3600 }),
  });
  if (!res.ok) throw new Error(`minting a token failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');

function bindable(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const server = createTcpServer();
    server.once('error', () => ok(false));
    server.listen(port, '127.0.0.1', () => server.close(() => ok(true)));
  });
}

/** The first port of the kernel's ephemeral range (32768 where it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * An HTTP port whose derived ports (`tether dev` derives CQL 9042, Cassandra's internode port
 * 17000 and Pekko Management 8558, each plus `port - 8080`) are free, all below the kernel's
 * ephemeral range. The node-kill test starts the node again on the same ports; a port in that
 * range can meanwhile be handed out as the local port of any outgoing connection on the
 * machine, and the restarted Cassandra then fails to bind it.
 */
async function freeNodePort(): Promise<number> {
  const ceiling = ephemeralLow();
  for (let i = 0; i < 200; i++) {
    const port = 10000 + Math.floor(Math.random() * Math.max(1, ceiling - 8920 - 10000));
    const offset = port - 8080;
    if (
      17000 + offset < ceiling &&
      (await bindable(port)) &&
      (await bindable(9042 + offset)) &&
      (await bindable(17000 + offset)) &&
      (await bindable(8558 + offset))
    ) {
      return port;
    }
  }
  throw new Error('no free port set for a test node');
}

/**
 * The test command's Cassandra of this lane (TETHER_TEST_CASSANDRA, host:port), when it names
 * one: the node uses it with a keyspace of its own (kept across the node-kill test's restart)
 * instead of starting a local Cassandra of its own.
 */
const sharedCassandra = (process.env.TETHER_TEST_CASSANDRA ?? '').trim();
const sharedKeyspace = `t_ts_client_${Date.now().toString(36)}`;
const sharedCassandraEnv: Record<string, string> = sharedCassandra === ''
  ? {}
  : {
      TETHER_CASSANDRA_CONTACT_POINTS: sharedCassandra,
      TETHER_CASSANDRA_KEYSPACE: sharedKeyspace,
      TETHER_CASSANDRA_SNAPSHOT_KEYSPACE: `${sharedKeyspace}_snap`,
    };

class DevNode {
  private process?: ChildProcess;
  private readonly log: WriteStream;
  readonly url: string;

  constructor(readonly home: string, readonly port: number, readonly logPath: string) {
    this.url = `http://127.0.0.1:${port}`;
    this.log = createWriteStream(logPath, { flags: 'a' });
  }

  async start(timeoutMs = 300_000): Promise<number> {
    const began = Date.now();
    const jar = join(repo, 'runtime', 'target', 'tether.jar');
    const lib = join(repo, 'persistence', 'cassandra-server', 'target', 'lib');
    if (!existsSync(jar)) throw new Error(`${jar} is missing: build it first (./tether build)`);
    mkdirSync(this.home, { recursive: true });
    // The build's test JVM options (C1 only, the serial collector: see the root pom's
    // tether.test.jvm-options), then the node-only ones (the test command's class-data archive).
    const testJvmOptions = [process.env.TETHER_TEST_JVM_OPTIONS, process.env.TETHER_TEST_NODE_JVM_OPTIONS]
      .flatMap((options) => (options ?? '').split(/\s+/)).filter((o) => o !== '');
    const child = spawn('java', ['-Xms128m', '-Xmx768m', ...testJvmOptions, `-Dtether.cassandra.local.lib-dir=${lib}`, '-Dtether.auth.enabled=on', '-jar', jar, 'dev'], {
      env: {
        ...process.env,
        TETHER_HOME: this.home,
        TETHER_HTTP_PORT: String(this.port),
        TETHER_AUTH_TOKEN_SECRET: TOKEN_SECRET,
        TETHER_AUTH_ADMIN_SECRET: ADMIN_SECRET,
        ...sharedCassandraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.process = child;
    while (Date.now() - began < timeoutMs) {
      if (child.exitCode !== null) throw new Error(`tether dev exited with ${child.exitCode}; log: ${this.logPath}\n${this.tail()}`);
      try {
        const ready = await fetch(`${this.url}/ready`, { signal: AbortSignal.timeout(3000) });
        if (ready.status === 200) return Date.now() - began;
      } catch {
        // not listening yet: probe again
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`tether dev not ready within ${timeoutMs} ms; log: ${this.logPath}\n${this.tail()}`);
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }

  tail(): string {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-40).join('\n');
    } catch {
      return '';
    }
  }
}

let node: DevNode | undefined;
let control: Server | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TETHER_TEST_URL) {
    // A node someone else runs (a developer's `./tether dev`): suites that kill the node fail.
    project.provide('tetherUrl', process.env.TETHER_TEST_URL);
    project.provide('tetherControl', 'http://127.0.0.1:9');
    project.provide('tetherLog', '');
    project.provide('tetherToken', process.env.TETHER_TEST_TOKEN ?? '');
    project.provide('tetherAdminSecret', process.env.TETHER_TEST_ADMIN_SECRET ?? '');
    return async () => {};
  }
  const work = process.env.TETHER_TEST_WORK ?? join(repo, 'clients', 'typescript', 'target', 'test-work');
  mkdirSync(work, { recursive: true });
  const port = await freeNodePort();
  node = new DevNode(join(work, `node-${Date.now()}`), port, join(work, `node-${port}.log`));
  const ms = await node.start();
  console.log(`tether dev ready at ${node.url} in ${ms} ms (log ${node.logPath})`);

  control = createHttpServer((req, res) => {
    const n = node!;
    const answer = (body: unknown, status = 200) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url === '/kill') {
      n.kill().then(() => answer({ killed: true }), (e) => answer({ error: String(e) }, 500));
    } else if (req.method === 'POST' && req.url === '/start') {
      n.start().then((readyMs) => answer({ readyMs }), (e) => answer({ error: String(e) }, 500));
    } else {
      answer({ error: 'unknown' }, 404);
    }
  });
  await new Promise<void>((r) => control!.listen(0, '127.0.0.1', () => r()));
  const address = control.address();
  const controlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  project.provide('tetherUrl', node.url);
  project.provide('tetherControl', controlUrl);
  project.provide('tetherLog', node.logPath);
  project.provide('tetherToken', await mint(node.url, 'test-user', [{ capabilities: ['subscribe', 'publish', 'control'], sessions: ['*'] }]));
  project.provide('tetherAdminSecret', ADMIN_SECRET);

  return async () => {
    await new Promise<void>((r) => (control ? control.close(() => r()) : r()));
    await node?.stop();
  };
}
