package io.tether.actors.harness.output;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Appends events to a durable session. The session assigns each event its offset; the stage
 * completes once the events are durable, with the offset of the last one. Appends of one
 * producer must be issued one after the other (see {@link ProducerStream}) to keep their order.
 */
public interface SessionWriter {

  /**
   * Appends {@code events} (envelopes without offset, see {@link SessionEvents}) for
   * {@code producer}.
   */
  CompletionStage<String> append(String sessionId, String producer, List<ObjectNode> events);
}
