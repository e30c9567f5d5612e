package io.tether.persistence.cassandra;

/**
 * The home folder of a local Cassandra is in use: a Cassandra started from it is still running, or
 * another launcher holds it. Nothing was launched; the message says which, and how to proceed.
 */
public final class HomeInUseException extends LocalCassandraException {
  private static final long serialVersionUID = 1L;

  public HomeInUseException(String message) {
    super(message);
  }
}
