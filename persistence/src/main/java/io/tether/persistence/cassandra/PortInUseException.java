package io.tether.persistence.cassandra;

/**
 * A port that a local Cassandra was configured to bind is already taken; nothing was launched.
 * The message names the port and its config key.
 */
public final class PortInUseException extends LocalCassandraException {
  private static final long serialVersionUID = 1L;

  private final int port;

  public PortInUseException(int port, String message, Throwable cause) {
    super(message, cause);
    this.port = port;
  }

  /** The port that is taken. */
  public int port() {
    return port;
  }
}
