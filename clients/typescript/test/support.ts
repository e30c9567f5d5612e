import { inject } from 'vitest';

/** The shared node's base URL. */
export const tetherUrl = (): string => inject('tetherUrl');

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
