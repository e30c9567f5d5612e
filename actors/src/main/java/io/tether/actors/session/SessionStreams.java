package io.tether.actors.session;

import io.tether.actors.session.Session.AcquireFork;
import io.tether.actors.session.Session.Append;
import io.tether.actors.session.Session.AppendReply;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Create;
import io.tether.actors.session.Session.CreateReply;
import io.tether.actors.session.Session.CreateSpec;
import io.tether.actors.session.Session.Created;
import io.tether.actors.session.Session.Delete;
import io.tether.actors.session.Session.Deleted;
import io.tether.actors.session.Session.Describe;
import io.tether.actors.session.Session.Described;
import io.tether.actors.session.Session.ForkFailed;
import io.tether.actors.session.Session.ForkFailure;
import io.tether.actors.session.Session.ForkGranted;
import io.tether.actors.session.Session.ForkRefused;
import io.tether.actors.session.Session.ForkReply;
import io.tether.actors.session.Session.ForkSourceNeeded;
import io.tether.actors.session.Session.Read;
import io.tether.actors.session.Session.ReadFromSource;
import io.tether.actors.session.Session.ReadReply;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.Session.ReadSpec;
import io.tether.actors.session.Session.ReleaseFork;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The client side of stream entities: asks them through sharding with a configured timeout and
 * composes the operations that span several streams. Forks are created by asking the source for
 * a grant (it counts the fork) and then creating the fork; reads of a fork are stitched from the
 * source's range up to the fork point and the fork's own items, recursively along fork chains.
 */
public final class SessionStreams {

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final int maxReadBytes;

  /** A client on {@code system}, asking with {@code askTimeout}. */
  public SessionStreams(ActorSystem<?> system, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.maxReadBytes = system.settings().config().getBytes("tether.session.max-read-bytes")
        .intValue();
  }

  private SessionStreams(ClusterSharding sharding, Duration askTimeout, int maxReadBytes) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.maxReadBytes = maxReadBytes;
  }

  /** The same client asking with another timeout (the harness has its own). */
  public SessionStreams withAskTimeout(Duration timeout) {
    return new SessionStreams(sharding, timeout, maxReadBytes);
  }

  /** How long each ask waits for the entity. */
  public Duration askTimeout() {
    return askTimeout;
  }

  /** The payload budget of one read, from {@code tether.session.max-read-bytes}. */
  public int maxReadBytes() {
    return maxReadBytes;
  }

  private EntityRef<Session.Command> ref(String streamId) {
    return sharding.entityRefFor(Session.ENTITY_TYPE_KEY, streamId);
  }

  /** Creates a stream or a fork; idempotent for the same configuration. */
  public CompletionStage<CreateReply> create(String streamId, CreateSpec spec) {
    CompletionStage<CreateReply> first =
        ref(streamId).ask(replyTo -> new Create(spec, replyTo), askTimeout);
    return first.thenCompose(reply -> reply instanceof ForkSourceNeeded
        ? createFork(streamId, spec) : CompletableFuture.completedFuture(reply));
  }

  private CompletionStage<CreateReply> createFork(String streamId, CreateSpec spec) {
    Session.ForkRequest fork = spec.fork();
    Offset requested = fork.requestedOffset() == null
        ? null : Offset.parse(fork.requestedOffset()).orElseThrow();
    CompletionStage<ForkReply> grant = ref(fork.sourceId()).ask(
        replyTo -> new AcquireFork(streamId, requested, spec.contentType(), replyTo), askTimeout);
    return grant.thenCompose(reply -> {
      if (reply instanceof ForkRefused refused) {
        return CompletableFuture.completedFuture(new ForkFailed(refused.failure()));
      }
      ForkGranted granted = (ForkGranted) reply;
      return prefix(fork, granted).thenCompose(prefix -> {
        if (prefix == null) {
          release(fork.sourceId(), streamId);
          return CompletableFuture.completedFuture(
              (CreateReply) new ForkFailed(ForkFailure.SUB_OFFSET_OVERSHOOT));
        }
        boolean ownExpiry = spec.ttlSeconds() != null || spec.expiresAt() != null;
        CreateSpec resolved = spec.resolved(
            spec.contentType() != null ? spec.contentType() : granted.contentType(),
            ownExpiry ? spec.ttlSeconds() : granted.ttlSeconds(),
            ownExpiry ? spec.expiresAt() : granted.expiresAt(),
            ownExpiry ? spec.expiresAtMillis() : granted.expiresAtMillis(),
            granted.forkOffset(), prefix);
        CompletionStage<CreateReply> created =
            ref(streamId).ask(replyTo -> new Create(resolved, replyTo), askTimeout);
        return created.whenComplete((r, error) -> {
          if (!(r instanceof Created)) {
            release(fork.sourceId(), streamId);
          }
        });
      });
    });
  }

  private void release(String sourceId, String forkId) {
    ref(sourceId).tell(new ReleaseFork(forkId));
  }

  /**
   * The items a sub-offset fork materializes past its fork point, empty without a sub-offset, or
   * null when the sub-offset overshoots the next data boundary: the next item for byte streams
   * (a byte count), the rest of the next persisted batch for JSON streams (a message count).
   */
  private CompletionStage<List<byte[]>> prefix(Session.ForkRequest fork, ForkGranted granted) {
    long wanted = fork.subOffset();
    if (wanted == 0) {
      return CompletableFuture.completedFuture(List.of());
    }
    boolean json = MediaTypes.isJson(granted.contentType());
    return nextItems(fork.sourceId(), granted.forkOffset(), json ? wanted : 1, new ArrayList<>(),
        null).thenApply(items -> {
          if (json) {
            return items.size() < wanted ? null : items;
          }
          if (items.isEmpty() || items.get(0).length < wanted) {
            return null;
          }
          return List.of(Arrays.copyOf(items.get(0), (int) wanted));
        });
  }

  private CompletionStage<List<byte[]>> nextItems(String sourceId, Offset from, long count,
      List<byte[]> acc, Long position) {
    if (acc.size() >= count) {
      return CompletableFuture.completedFuture(acc);
    }
    return read(sourceId, new ReadSpec(from, false, null, 1, 0, true)).thenCompose(reply -> {
      if (!(reply instanceof ReadResult result) || result.items().isEmpty()) {
        return CompletableFuture.completedFuture(acc);
      }
      Offset at = result.next();
      if (position != null && at.position() != position) {
        return CompletableFuture.completedFuture(acc);
      }
      acc.add(result.items().get(0));
      return nextItems(sourceId, at, count, acc, at.position());
    });
  }

  /** Appends to (and/or closes) a stream. */
  public CompletionStage<AppendReply> append(String streamId, AppendSpec spec) {
    return ref(streamId).ask(replyTo -> new Append(spec, replyTo), askTimeout);
  }

  /** A stream's metadata. */
  public CompletionStage<Described> describe(String streamId) {
    return ref(streamId).ask(Describe::new, askTimeout);
  }

  /** Deletes a stream. */
  public CompletionStage<Deleted> delete(String streamId) {
    return ref(streamId).ask(Delete::new, askTimeout);
  }

  /** Reads a stream, stitching inherited data of forks; may wait for new data. */
  public CompletionStage<ReadReply> read(String streamId, ReadSpec spec) {
    Duration timeout = askTimeout.plusMillis(spec.waitMillis());
    CompletionStage<ReadReply> reply =
        ref(streamId).ask(replyTo -> new Read(spec, replyTo), timeout);
    return reply.thenCompose(r -> r instanceof ReadFromSource redirect
        ? stitch(streamId, spec, redirect) : CompletableFuture.completedFuture(r));
  }

  private CompletionStage<ReadReply> stitch(String streamId, ReadSpec spec,
      ReadFromSource redirect) {
    Offset from = spec.from() == null ? Offset.ZERO : spec.from();
    Offset cap = spec.upTo() != null && spec.upTo().isBefore(redirect.forkOffset())
        ? spec.upTo() : redirect.forkOffset();
    ReadSpec inherited = new ReadSpec(from, false, cap, spec.maxBytes(), 0, true);
    return read(redirect.sourceId(), inherited).thenCompose(sourceReply -> {
      ReadResult part = sourceReply instanceof ReadResult r
          ? r : new ReadResult(List.of(), cap, true, false, false, redirect.info());
      if (!part.next().equals(cap)) {
        return done(new ReadResult(part.items(), part.next(), false, false, false,
            redirect.info()));
      }
      long used = bytes(part.items());
      boolean budgetLeft = part.items().isEmpty() || used < spec.maxBytes();
      if ((spec.upTo() != null && cap.equals(spec.upTo())) || !budgetLeft) {
        boolean atTail = cap.equals(redirect.info().tail());
        return done(new ReadResult(part.items(), cap, atTail || spec.upTo() != null,
            atTail && redirect.info().closed(), false, redirect.info()));
      }
      ReadSpec own = new ReadSpec(cap, false, spec.upTo(),
          (int) Math.max(1, spec.maxBytes() - used),
          part.items().isEmpty() ? spec.waitMillis() : 0, spec.internal());
      return read(streamId, own).thenApply(ownReply -> {
        if (!(ownReply instanceof ReadResult rest)) {
          return part.items().isEmpty() ? ownReply : part;
        }
        List<byte[]> items = new ArrayList<>(part.items().size() + rest.items().size());
        items.addAll(part.items());
        items.addAll(rest.items());
        return new ReadResult(items, rest.next(), rest.upToDate(), rest.closed(),
            rest.timedOut() && part.items().isEmpty(), rest.info());
      });
    });
  }

  private static CompletionStage<ReadReply> done(ReadReply reply) {
    return CompletableFuture.completedFuture(reply);
  }

  private static long bytes(List<byte[]> items) {
    long total = 0;
    for (byte[] item : items) {
      total += item.length;
    }
    return total;
  }
}
