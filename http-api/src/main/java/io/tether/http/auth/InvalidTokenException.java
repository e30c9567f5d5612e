package io.tether.http.auth;

/** A token that cannot be trusted: malformed, wrongly signed, expired, or not ours. */
public final class InvalidTokenException extends Exception {
  public InvalidTokenException(String reason) {
    super(reason);
  }
}
