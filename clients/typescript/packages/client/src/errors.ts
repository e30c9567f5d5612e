import type { ErrorCode } from './protocol.js';

/**
 * An error the server answered (an error frame or a problem body), or one of the client's own:
 * `disconnected` (the session was closed, or the connection dropped while a request that must
 * not be repeated was in flight), `timeout`, `http-<status>` for other HTTP failures.
 */
export class TetherError extends Error {
  readonly code: ErrorCode;
  readonly detail?: string;
  /** For `disconnected`: whether the request may have been applied before the drop. */
  readonly maybeApplied: boolean;

  constructor(code: ErrorCode, detail?: string, options?: { maybeApplied?: boolean; cause?: unknown }) {
    super(detail ? `${code}: ${detail}` : code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TetherError';
    this.code = code;
    this.detail = detail;
    this.maybeApplied = options?.maybeApplied ?? false;
  }
}
