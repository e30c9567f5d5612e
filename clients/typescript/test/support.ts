import { inject } from 'vitest';

/** The shared node's base URL. */
export const tetherUrl = (): string => inject('tetherUrl');

/** A token for everything on every session (the node runs with authentication on). */
export const tetherToken = (): string => inject('tetherToken');

/** Mints a token with the given grants through the operator endpoint. */
export async function mintToken(subject: string, grants: Array<{ capabilities: string[]; sessions: string[] }>, ttlSeconds = 3600): Promise<string> {
  const res = await fetch(`${tetherUrl()}/admin/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${inject('tetherAdminSecret')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ subject, grants, ttlSeconds }),
  });
  if (!res.ok) throw new Error(`minting a token failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** SIGKILLs the shared node (its Cassandra drains by itself) and starts it again on the same home. */
export async function killNode(): Promise<void> {
  const res = await fetch(`${inject('tetherControl')}/kill`, { method: 'POST' });
  if (!res.ok) throw new Error(`kill failed: ${await res.text()}`);
}

export async function startNode(): Promise<number> {
  const res = await fetch(`${inject('tetherControl')}/start`, { method: 'POST' });
  const body = (await res.json()) as { readyMs?: number; error?: string };
  if (!res.ok || body.readyMs === undefined) throw new Error(`start failed: ${body.error}`);
  return body.readyMs;
}

let counter = 0;
/** A session id no other test uses. */
export function uniqueSession(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Resolves when `predicate` holds, checked whenever `subscribe` reports a change; rejects after `ms`. */
export function until(subscribe: (changed: () => void) => () => void, predicate: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) {
      resolve();
      return;
    }
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    off = subscribe(() => {
      if (predicate()) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}
