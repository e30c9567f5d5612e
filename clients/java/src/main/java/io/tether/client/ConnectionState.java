package io.tether.client;

/** Where a {@link TetherSession}'s connection is. */
public enum ConnectionState {
  /** Opening its first socket. */
  CONNECTING,
  /** The socket is open and resumed; the server is replaying what this session missed. */
  CATCHING_UP,
  /** Caught up: events arrive as they are appended. */
  LIVE,
  /** The socket dropped (or never opened); the session waits out its backoff and tries again. */
  RECONNECTING,
  /** Closed by {@link TetherSession#close()}, or for good by a refusal that a retry cannot fix. */
  CLOSED
}
