package io.tether.persistence.cassandra;

/**
 * A local Cassandra could not be started, reached or stopped. The message says why in terms an
 * operator can act on (which port is taken, which folder is missing) and, when the process got as
 * far as logging, ends with the tail of its logs.
 */
public class LocalCassandraException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LocalCassandraException(String message) {
    super(message);
  }

  public LocalCassandraException(String message, Throwable cause) {
    super(message, cause);
  }
}
