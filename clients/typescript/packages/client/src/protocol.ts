/**
 * The Tether session protocol, typed: event envelopes, the frames of the session WebSocket
 * (`GET /v1/sessions/{id}/ws`) in both directions, and the REST views. The repository README
 * ("Sessions over WebSocket") is the reference; these types follow it field by field.
 */

/** An opaque, fixed-width stream offset. Compare with `<` / `>` (they sort lexicographically); never parse. */
export type Offset = string;

/** Where a subscription starts: the beginning (`-1`), the tail (`now`), or after an offset. */
export type StartAt = '-1' | 'now' | Offset;

/** `delta`: raw events; `message`: the history rolled up into whole messages (live events stay raw). */
export type Granularity = 'delta' | 'message';

/** What a connection speaks for. */
export type DeviceKind = 'client' | 'agent';

// --- event envelopes -----------------------------------------------------------------------------

/** The envelope every session item has. `producer` and `time` are filled by the server when missing. */
export interface Envelope<TType extends string = string, TData = Record<string, unknown>> {
  type: TType;
  run?: string;
  step?: string;
  producer?: string;
  time?: string;
  data: TData;
}

export type MessageRole = 'user' | 'assistant' | 'system' | (string & {});
export type MessageStatus = 'complete' | 'cancelled' | 'error';
export type RunStatus = 'complete' | 'cancelled' | 'error' | 'lost';

export interface MessageStartData { id: string; role?: MessageRole; text?: string; [k: string]: unknown }
export interface MessageDeltaData { id: string; text: string; [k: string]: unknown }
export interface MessageEndData { id: string; status?: MessageStatus; [k: string]: unknown }
/** A whole message: the rolled-up form of start + deltas + end, or a message published whole. */
export interface MessageData { id: string; role?: MessageRole; text: string; status?: MessageStatus; [k: string]: unknown }
export interface ToolCallData { id: string; name: string; input?: unknown; [k: string]: unknown }
export interface ToolResultData { id: string; output?: unknown; error?: string; [k: string]: unknown }
export interface RunStartData { input?: string; [k: string]: unknown }
export interface RunEndData { status?: RunStatus; by?: string; reason?: string; [k: string]: unknown }
export interface ControlCancelData { id?: string; device?: string; message?: string; [k: string]: unknown }
export interface ControlSteerData { id?: string; device?: string; text: string; [k: string]: unknown }
export interface ControlInterruptData { id?: string; device?: string; [k: string]: unknown }
export interface ControlAckData { control: string; consumed: boolean; [k: string]: unknown }
export interface PresenceData { device: string; kind: DeviceKind; [k: string]: unknown }

/** The event types the protocol defines, with their data. Other dotted types pass through as {@link Envelope}. */
export type KnownEvent =
  | Envelope<'message.start', MessageStartData>
  | Envelope<'message.delta', MessageDeltaData>
  | Envelope<'message.end', MessageEndData>
  | Envelope<'message', MessageData>
  | Envelope<'tool.call', ToolCallData>
  | Envelope<'tool.result', ToolResultData>
  | Envelope<'run.start', RunStartData>
  | Envelope<'run.end', RunEndData>
  | Envelope<'control.cancel', ControlCancelData>
  | Envelope<'control.steer', ControlSteerData>
  | Envelope<'control.interrupt', ControlInterruptData>
  | Envelope<'control.ack', ControlAckData>
  | Envelope<'presence.joined', PresenceData>
  | Envelope<'presence.left', PresenceData>;

/** Any session event: a known one, or an extension type such as `run.phase`. */
export type SessionEvent = KnownEvent | Envelope;

/** The data of a known event type. */
export type DataOf<T extends KnownEvent['type']> = Extract<KnownEvent, { type: T }>['data'];

/** An event as delivered: with the offset it has in the session. */
export interface Delivered<E extends SessionEvent = SessionEvent> {
  offset: Offset;
  event: E;
}

/** Narrows a delivered event to a known type. */
export function isEvent<T extends KnownEvent['type']>(
  delivered: Delivered | SessionEvent,
  type: T,
): delivered is Delivered<Extract<KnownEvent, { type: T }>> {
  const event = 'event' in delivered && 'offset' in delivered ? delivered.event : (delivered as SessionEvent);
  return event.type === type;
}

// --- client → server frames ----------------------------------------------------------------------

export interface ResumeFrame {
  type: 'resume'; after: StartAt; granularity?: Granularity; device?: string; kind?: DeviceKind;
  /** Several events to a frame (`events` frames): a long replay is a few frames, not one per event. */
  batch?: boolean;
}
export interface PublishFrame {
  type: 'publish'; id: string; events: SessionEvent[];
  /** The idempotent producer: a resend with the same three is written once. */
  producerId?: string; producerEpoch?: number; producerSeq?: number;
}
export type CancelFrame =
  | { type: 'cancel'; id: string; run: string; message?: undefined }
  | { type: 'cancel'; id: string; message: string; run?: undefined };
export interface SteerFrame { type: 'steer'; id: string; run: string; text: string }
export interface InterruptFrame { type: 'interrupt'; id: string; run: string }
export interface AckFrame { type: 'ack'; id?: string; device?: string; offset: Offset }
export interface PingFrame { type: 'ping'; id?: string }

export type ClientFrame = ResumeFrame | PublishFrame | CancelFrame | SteerFrame | InterruptFrame | AckFrame | PingFrame;

// --- server → client frames ----------------------------------------------------------------------

export interface EventFrame { type: 'event'; offset: Offset; event: SessionEvent }
/** Several events, in offset order, to a connection that resumed with `batch: true`. */
export interface EventsFrame { type: 'events'; events: Array<{ offset: Offset; event: SessionEvent }> }
export interface UpToDateFrame { type: 'up-to-date'; offset: Offset }
export interface PublishedFrame { type: 'published'; id: string; offset: Offset; duplicate?: boolean }
export interface CancelledFrame { type: 'cancelled'; id: string; fence: Offset }
export interface ControlAcceptedFrame { type: 'control-accepted'; id: string; offset: Offset }
/** The answer to an `ack` frame that carried an id (newer servers). */
export interface AckedFrame { type: 'acked'; id: string; offset: Offset }
export interface ErrorFrame { type: 'error'; id?: string; code: ErrorCode; detail?: string }
export interface PongFrame { type: 'pong'; id?: string }

export type ServerFrame =
  | EventFrame | EventsFrame | UpToDateFrame | PublishedFrame | CancelledFrame | ControlAcceptedFrame
  | AckedFrame | ErrorFrame | PongFrame;

/** The error codes of error frames (the README's list, plus the ones newer servers add). */
export type ErrorCode =
  | 'bad-frame' | 'invalid-event' | 'forbidden' | 'fenced' | 'reserved-type' | 'closed'
  | 'not-found' | 'gone' | 'run-ended' | 'not-running' | 'overloaded' | 'unavailable'
  | 'token-expired' | 'idle-timeout' | 'offset-beyond-tail' | 'fork-history-unsupported'
  | 'too-large' | 'unknown-run' | 'invalid' | 'refused'
  | (string & {});

// --- REST views (GET /v1/sessions/{id}) ----------------------------------------------------------

export interface PresenceView { device: string; kind: DeviceKind }
export interface CursorView { device: string; offset: Offset; unread: number }
export interface RunView {
  run: string;
  producer?: string;
  input?: string;
  status: 'running' | 'cancelled-before-start' | RunStatus;
  fence?: Offset;
  /** The offset of the run's `run.start` (newer servers). */
  startOffset?: Offset;
}
export interface SessionView {
  id: string;
  contentType: string;
  tail: Offset;
  closed: boolean;
  present: PresenceView[];
  cursors: CursorView[];
  runs: RunView[];
  createdAt?: number;
}
export interface ControlView { id: string; type: 'cancel' | 'steer' | 'interrupt'; offset: Offset; fence?: Offset }

/** Whether `a` comes after `b` in the session (offsets are fixed-width and sort as strings). */
export function offsetAfter(a: Offset, b: Offset | undefined): boolean {
  if (b === undefined || b === '-1') return a !== '-1';
  return a > b;
}
