package io.tether.actors.harness.output;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionStreams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * A {@link SessionWriter} that appends to the durable {@link Session} entity through {@link
 * SessionStreams}: each event is one JSON item of the session's stream (content type
 * {@code application/json}), and the session assigns its offset. A session is created on the
 * first append this node makes to it (an existing one is used as it is). An append completes
 * once the session has made it durable, with the offset after its last item. An append the
 * session refuses as overloaded or for a journal failure is sent again with a backoff, a few
 * times; any other refusal (closed, deleted...) fails the stage.
 *
 * <p>Every append is an idempotent producer's ({@code Producer-Id/Epoch/Seq} of the Durable
 * Streams protocol), so a batch sent again after a journal write that timed out but landed all
 * the same is acknowledged as a duplicate, never written twice. The producer id names the
 * harness producer and this writer ({@code tether-harness:generator:<writer>}): a role that
 * moves to another node writes there as another producer, so two writers never take each
 * other's batches for duplicates (a wall-clock epoch could not promise that: two writers may
 * start in the same millisecond, or on clocks that disagree). After an append that failed for
 * good, whose batch may or may not be stored, the producer starts a new epoch, so the next
 * batch is not taken for that one.
 */
public final class SessionStreamWriter implements SessionWriter {

  private static final Session.CreateSpec JSON_SESSION = new Session.CreateSpec(
      "application/json", null, null, null, false, List.of(), null, null, List.of());

  /** How often a refused batch is sent again, and how long the waits in between are. */
  record Retries(int times, long firstBackoffMillis, long maxBackoffMillis) {
    // A refused batch is sent again after 50 ms, doubling to at most 1 s, 12 times: about 8.5 s
    // in all, which covers a session's first restarts after a journal failure (it refuses
    // appends at once while it backs off, 1 s and then longer).
    static final Retries DEFAULT = new Retries(12, 50, 1000);

    long backoffMillis(int attempt) {
      return Math.min(firstBackoffMillis << Math.min(attempt, 20), maxBackoffMillis);
    }
  }

  private final BiFunction<String, Session.CreateSpec, CompletionStage<Session.CreateReply>>
      create;
  private final BiFunction<String, Session.AppendSpec, CompletionStage<Session.AppendReply>>
      append;
  private final Retries retries;
  private final Set<String> known = ConcurrentHashMap.newKeySet();
  private final Map<ProducerKey, Sequence> sequences = new ConcurrentHashMap<>();
  private final String writerId = java.util.UUID.randomUUID().toString().substring(0, 8);

  public SessionStreamWriter(SessionStreams streams) {
    this(streams::create, streams::append, Retries.DEFAULT);
  }

  /** Over these calls of the session protocol (tests put a fault between it and a session). */
  SessionStreamWriter(
      BiFunction<String, Session.CreateSpec, CompletionStage<Session.CreateReply>> create,
      BiFunction<String, Session.AppendSpec, CompletionStage<Session.AppendReply>> append,
      Retries retries) {
    this.create = create;
    this.append = append;
    this.retries = retries;
  }

  private record ProducerKey(String sessionId, String producer) {}

  /** The epoch and next sequence number of one producer into one session, from this writer. */
  private static final class Sequence {
    private long epoch;
    private long next;

    synchronized ProducerTuple claim(String producerId) {
      return new ProducerTuple(producerId, epoch, next++);
    }

    /**
     * A new epoch, above this one and at least {@code atLeast}; its first claim is sequence 0.
     */
    synchronized void newEpoch(long atLeast) {
      epoch = Math.max(epoch + 1, atLeast);
      next = 0;
    }
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
    Sequence sequence = sequences.computeIfAbsent(new ProducerKey(sessionId, producer),
        key -> new Sequence());
    // Claimed now, so a producer's batches take sequence numbers in the order they are given.
    ProducerTuple tuple = sequence.claim("tether-harness:" + producer + ":" + writerId);
    return ensure(sessionId).thenCompose(ok ->
        send(sessionId, producer, items, sequence, tuple, 0));
  }

  private CompletionStage<String> send(String sessionId, String producer, List<byte[]> items,
      Sequence sequence, ProducerTuple tuple, int attempt) {
    return append.apply(sessionId,
            new Session.AppendSpec("application/json", items, tuple, null, false))
        .thenCompose(reply -> {
          if (reply instanceof Session.Appended appended) {
            // Written now, or found written by an earlier attempt (a duplicate): either way once.
            return CompletableFuture.completedFuture(appended.next().encode());
          }
          Session.AppendRejected rejected = (Session.AppendRejected) reply;
          boolean again = attempt < retries.times();
          if (again && (rejected.failure() == Session.AppendFailure.OVERLOADED
              || rejected.failure() == Session.AppendFailure.JOURNAL_UNAVAILABLE)) {
            // Not acknowledged, but perhaps stored (a journal write that timed out and landed):
            // the same producer sequence again, so the session takes it at most once.
            return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(
                    retries.backoffMillis(attempt), TimeUnit.MILLISECONDS))
                .thenCompose(x -> send(sessionId, producer, items, sequence, tuple, attempt + 1));
          }
          if (again && (rejected.failure() == Session.AppendFailure.STALE_EPOCH
              || rejected.failure() == Session.AppendFailure.INVALID_EPOCH_SEQ
              || rejected.failure() == Session.AppendFailure.SEQUENCE_GAP)) {
            // This writer's sequence no longer matches the session's (two streams of one
            // producer on this node at once, a role restarting): a new epoch, above the
            // session's.
            sequence.newEpoch(rejected.producerEpoch() == null ? 0
                : rejected.producerEpoch() + 1);
            return send(sessionId, producer, items, sequence,
                sequence.claim(tuple.producerId()), attempt + 1);
          }
          // Failed for good; the batch may be stored or not, so the next one starts afresh.
          sequence.newEpoch(0);
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
    return create.apply(sessionId, JSON_SESSION).thenCompose(reply -> {
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
