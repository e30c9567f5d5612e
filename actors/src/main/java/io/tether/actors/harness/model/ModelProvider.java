package io.tether.actors.harness.model;

import java.util.concurrent.CompletionStage;

/**
 * One streaming, tool-calling interface over every model provider.
 *
 * <p>{@link #stream} starts a call and returns at once: text deltas go to the listener as they
 * arrive and the stage completes with the whole answer, or fails with a {@link
 * ModelProviderException} when the provider answers with an error, the stream breaks off, or the
 * connection drops. Implementations never block the caller and never log credentials.
 */
public interface ModelProvider {

  /** The provider's name as used in model references ({@code anthropic}, {@code scripted}...). */
  String name();

  /** Whether the output is replayed from a script rather than produced by a model. */
  boolean scripted();

  /** Starts one model call. */
  CompletionStage<ModelResponse> stream(
      ModelRequest request, ModelStreamListener listener);

  /** A failure of a model call. */
  final class ModelProviderException extends RuntimeException {
    public ModelProviderException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
