package io.tether.client;

/**
 * A refusal or failure reported by the server or by the client itself. {@link #code()} is the
 * machine-readable reason: the server's error code on the WebSocket ({@code fenced},
 * {@code not-running}, {@code run-ended}, {@code invalid-event}, {@code forbidden}, ...), or one
 * of the client's own:
 *
 * <ul>
 *   <li>{@code connection-lost}: the socket dropped while the request was in flight; the server
 *       may or may not have applied it.
 *   <li>{@code timeout}: no answer within the request timeout; same uncertainty.
 *   <li>{@code closed}: the session or producer was closed first; nothing was sent.
 *   <li>{@code too-large}: the frame would exceed the configured frame limit; nothing was sent.
 *   <li>{@code http-NNN}: an HTTP status without a more precise code.
 * </ul>
 */
public class TetherException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final int status;

  /** A failure with a code and a sentence; no HTTP status. */
  public TetherException(String code, String detail) {
    this(code, detail, 0, null);
  }

  /**
   * A failure with everything known about it.
   *
   * @param status the HTTP status, or 0 when the failure did not come from an HTTP response
   */
  public TetherException(String code, String detail, int status, Throwable cause) {
    super(code + ": " + detail, cause);
    this.code = code;
    this.status = status;
  }

  /** The machine-readable reason. */
  public String code() {
    return code;
  }

  /** The HTTP status it came with, or 0. */
  public int status() {
    return status;
  }

  /**
   * Whether the request may or may not have been applied ({@code connection-lost},
   * {@code timeout}): check the session before repeating anything that is not idempotent.
   */
  public boolean outcomeUnknown() {
    return code.equals("connection-lost") || code.equals("timeout") || code.equals("unavailable");
  }
}
