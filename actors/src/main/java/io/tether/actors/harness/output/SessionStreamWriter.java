package io.tether.actors.harness.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionStreams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A {@link SessionWriter} that appends to the durable {@link Session} entity through {@link
 * SessionStreams}: each event is one JSON item of the session's stream (content type
 * {@code application/json}), and the session assigns its offset. A session is created on the
 * first append this node makes to it (an existing one is used as it is). An append completes
 * once the session has made it durable, with the offset after its last item. An append the
 * session refuses as overloaded (its group-commit buffer is full) is sent again with a backoff,
 * a few times; any other refusal (closed, deleted...) fails the stage.
 *
 * <p>Appends carry no idempotent-producer headers: {@link ProducerStream} never retries a
 * failed append, so no append can be written twice.
 */
public final class SessionStreamWriter implements SessionWriter {

  private static final Session.CreateSpec JSON_SESSION = new Session.CreateSpec(
      "application/json", null, null, null, false, List.of(), null, null, List.of());

  // A refused batch is sent again after 50 ms, doubling to at most 1 s, 12 times: about 8.5 s
  // in all, which covers a session's first restarts after a journal failure (it refuses appends
  // at once while it backs off, 1 s and then longer).
  private static final int OVERLOAD_RETRIES = 12;
  private static final long OVERLOAD_BACKOFF_MILLIS = 50;
  private static final long OVERLOAD_BACKOFF_MAX_MILLIS = 1000;

  private final SessionStreams streams;
  private final Set<String> known = ConcurrentHashMap.newKeySet();

  public SessionStreamWriter(SessionStreams streams) {
    this.streams = streams;
  }

  @Override
  public CompletionStage<String> append(String sessionId, String producer,
      List<ObjectNode> events) {
    List<byte[]> items = new ArrayList<>(events.size());
    try {
      for (ObjectNode e : events) {
        items.add(SessionEvents.JSON.writeValueAsBytes(e));
      }
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
    return ensure(sessionId).thenCompose(ok -> send(sessionId, producer, items, 0));
  }

  private CompletionStage<String> send(String sessionId, String producer, List<byte[]> items,
      int attempt) {
    return streams.append(sessionId,
            new Session.AppendSpec("application/json", items, null, null, false))
        .thenCompose(reply -> {
          if (reply instanceof Session.Appended appended) {
            return CompletableFuture.completedFuture(appended.next().encode());
          }
          Session.AppendRejected rejected = (Session.AppendRejected) reply;
          if ((rejected.failure() == Session.AppendFailure.OVERLOADED
              || rejected.failure() == Session.AppendFailure.JOURNAL_UNAVAILABLE)
              && attempt < OVERLOAD_RETRIES) {
            // A refused batch was not acknowledged. Only a journal write that timed out and
            // landed all the same (a Cassandra write timeout) can make this repeat a duplicate.
            return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(
                    Math.min(OVERLOAD_BACKOFF_MILLIS << attempt, OVERLOAD_BACKOFF_MAX_MILLIS),
                    TimeUnit.MILLISECONDS))
                .thenCompose(x -> send(sessionId, producer, items, attempt + 1));
          }
          if (rejected.failure() == Session.AppendFailure.NOT_FOUND) {
            known.remove(sessionId);
          }
          return CompletableFuture.failedFuture(new IllegalStateException(
              "session " + sessionId + " refused " + producer + "'s append: "
                  + rejected.failure()));
        });
  }

  private CompletionStage<Void> ensure(String sessionId) {
    if (known.contains(sessionId)) {
      return CompletableFuture.completedFuture(null);
    }
    return streams.create(sessionId, JSON_SESSION).thenCompose(reply -> {
      // A session its client created with other settings (a TTL, say) is still the run's; if
      // it cannot take JSON items, the append says so.
      if (reply instanceof Session.Created || reply instanceof Session.AlreadyExists
          || reply instanceof Session.CreateConflict) {
        known.add(sessionId);
        return CompletableFuture.completedFuture(null);
      }
      return CompletableFuture.failedFuture(new IllegalStateException(
          "cannot create session " + sessionId + ": " + reply));
    });
  }
}
