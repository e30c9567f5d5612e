package io.tether.actors.harness.model;

import io.tether.persistence.TetherSerializable;

/**
 * Tokens one model call consumed, as the provider reported them.
 *
 * @param inputTokens prompt tokens
 * @param outputTokens completion tokens
 */
public record TokenUsage(long inputTokens, long outputTokens) implements TetherSerializable {

  /** No usage. */
  public static final TokenUsage NONE = new TokenUsage(0, 0);

  /** Input plus output tokens. */
  public long total() {
    return inputTokens + outputTokens;
  }
}
