/**
 * Reconciliation after a drop: whether a request that was on the wire when the connection
 * dropped took effect, judged from the events replayed since it was sent. A publish took effect
 * when its events (complete, as sent) appear consecutively; a control when its control event
 * (`control.cancel` / `steer` / `interrupt` carrying the request's id) appears.
 */
import type { ClientFrame, Delivered } from './protocol.js';

/** The offset at which a request sent before a drop took effect, if it did. */
export function findEffect(p: { id: string; frame: ClientFrame }, since: Delivered[]): unknown {
  const frame = p.frame;
  if (frame.type === 'publish') {
    const batch = frame.events;
    for (let i = 0; i + batch.length <= since.length; i++) {
      let all = true;
      for (let j = 0; j < batch.length && all; j++) all = deepEqual(batch[j], since[i + j]!.event);
      if (all) return { id: p.id, offset: since[i + batch.length - 1]!.offset };
    }
    return undefined;
  }
  if (frame.type === 'cancel' || frame.type === 'steer' || frame.type === 'interrupt') {
    const type = `control.${frame.type}`;
    const hit = since.find((d) => d.event.type === type && (d.event.data as { id?: string }).id === p.id);
    if (!hit) return undefined;
    return frame.type === 'cancel' ? { id: p.id, fence: hit.offset } : { id: p.id, offset: hit.offset };
  }
  return undefined;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

