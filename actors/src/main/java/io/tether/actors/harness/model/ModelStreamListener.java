package io.tether.actors.harness.model;

/**
 * Receives a model call's output while it streams. Called from the provider's threads, never
 * concurrently for one call; implementations must not block.
 */
public interface ModelStreamListener {

  /** A piece of the assistant's text. */
  void onTextDelta(String text);

  /**
   * Whether the caller no longer wants this call (its task was cancelled); a provider that can,
   * stops the stream at the next piece and fails the call.
   */
  default boolean cancelled() {
    return false;
  }

  /** A listener that ignores everything. */
  ModelStreamListener IGNORE = text -> {};
}
