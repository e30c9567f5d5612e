package io.tether.actors.harness.output;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ordered output of one producer (a role of a run) into its session. At most one append is
 * in flight; events offered meanwhile are buffered and sent together as the next append, and
 * consecutive {@code message.delta} events of one message are merged into one, so a fast token
 * stream costs a few appends rather than one per token. Thread-safe: offered from the actor and
 * from provider threads. A failed append is logged and the stream goes on: the journal of the
 * role entity, not the session, is the record of what happened.
 */
public final class ProducerStream {

  private static final Logger log = LoggerFactory.getLogger(ProducerStream.class);

  private final SessionWriter writer;
  private final String sessionId;
  private final String producer;
  private final List<ObjectNode> buffer = new ArrayList<>();
  private boolean inFlight;
  private CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);

  public ProducerStream(SessionWriter writer, String sessionId, String producer) {
    this.writer = writer;
    this.sessionId = sessionId;
    this.producer = producer;
  }

  /** The producer name, e.g. {@code planner}. */
  public String producer() {
    return producer;
  }

  /** Queues one event for the session. */
  public void offer(ObjectNode event) {
    synchronized (this) {
      ObjectNode last = buffer.isEmpty() ? null : buffer.get(buffer.size() - 1);
      if (last != null && "message.delta".equals(event.path("type").asText())
          && "message.delta".equals(last.path("type").asText())
          && last.path("step").asText().equals(event.path("step").asText())) {
        ObjectNode data = (ObjectNode) last.get("data");
        data.put("text", data.path("text").asText() + event.path("data").path("text").asText());
        return;
      }
      buffer.add(event);
      if (inFlight) {
        return;
      }
      inFlight = true;
      idle = new CompletableFuture<>();
    }
    flush();
  }

  /** Completes when everything offered so far has been appended (or has failed). */
  public synchronized CompletionStage<Void> drained() {
    return idle;
  }

  private void flush() {
    List<ObjectNode> batch;
    synchronized (this) {
      if (buffer.isEmpty()) {
        inFlight = false;
        idle.complete(null);
        return;
      }
      batch = new ArrayList<>(buffer);
      buffer.clear();
    }
    CompletionStage<String> sent;
    try {
      sent = writer.append(sessionId, producer, batch);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((offset, error) -> {
      if (error != null) {
        log.warn("session {}: {} events of {} not appended: {}", sessionId, batch.size(),
            producer, error.toString());
      }
      flush();
    });
  }
}
