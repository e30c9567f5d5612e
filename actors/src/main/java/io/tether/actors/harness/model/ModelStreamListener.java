package io.tether.actors.harness.model;

/**
 * Receives a model call's output while it streams. Called from the provider's threads, never
 * concurrently for one call; implementations must not block.
 */
public interface ModelStreamListener {

  /** A piece of the assistant's text. */
  void onTextDelta(String text);

  /** A listener that ignores everything. */
  ModelStreamListener IGNORE = text -> {};
}
