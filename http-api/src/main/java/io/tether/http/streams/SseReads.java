package io.tether.http.streams;

import io.tether.actors.session.Offset;
import io.tether.actors.session.Session.ReadRejected;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.Session.ReadSpec;
import io.tether.actors.session.SessionStreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Live reads over Server-Sent Events (protocol section 5.8). The first read is a catch-up from
 * the requested offset; after it the response is a chain of waits on the stream entity, each a
 * fresh ask through sharding that the entity answers right after the write that brings data
 * (never by polling the journal). A wait that ends without data sends a keep-alive comment, a
 * failed ask (the entity moving to another node) is retried from the last delivered offset, so
 * a reader sees no gap and no duplicate. The connection ends when the stream is closed (after
 * the final control event), deleted, or after {@code tether.streams.sse-max-duration}, and
 * when the node starts to shut down: then every response ends at once (in the first phase of
 * coordinated shutdown, before the port is unbound), so its readers reconnect to another node
 * from their last offset, and no response, not even one to a reader that stopped reading, keeps
 * asking for a session while sharding hands it over.
 */
final class SseReads {
  private record Position(Offset from, boolean upToDate, boolean done) {}

  private final SessionStreams streams;
  private final Duration wait;
  private final Duration maxDuration;
  private final Function<ReadRejected, HttpResponse> rejected;
  private final Supplier<HttpResponse> unavailable;
  private final SharedKillSwitch shutdown = KillSwitches.shared("sse-reads");
  /** The responses still streaming: each completes when its response has ended. */
  private final Set<CompletableFuture<Done>> streaming = ConcurrentHashMap.newKeySet();

  SseReads(ActorSystem<?> system, SessionStreams streams, Duration wait, Duration maxDuration,
      Function<ReadRejected, HttpResponse> rejected, Supplier<HttpResponse> unavailable) {
    this.streams = streams;
    this.wait = wait;
    this.maxDuration = maxDuration;
    this.rejected = rejected;
    this.unavailable = unavailable;
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "tether-end-sse-reads", () -> {
          shutdown.shutdown();
          // Done once every response has ended (their last chunks are then on their way), so
          // that unbinding and terminating the connections come after them; the phase's own
          // timeout bounds the wait.
          return CompletableFuture.allOf(streaming.toArray(CompletableFuture[]::new))
              .handle((ended, failed) -> Done.getInstance());
        });
  }

  /** The SSE response for stream {@code id} from {@code from} (or the tail). */
  CompletionStage<HttpResponse> open(String id, Offset from, boolean fromTail, String cursor) {
    ReadSpec first = new ReadSpec(from, fromTail, null, streams.maxReadBytes(), 0, false);
    return streams.read(id, first).thenApply(reply -> {
      if (reply instanceof ReadRejected refusal) {
        return rejected.apply(refusal);
      }
      if (!(reply instanceof ReadResult result)) {
        return unavailable.get();
      }
      String contentType = result.info().contentType();
      List<ByteString> opening = frames(contentType, result, cursor, true);
      Position start = new Position(result.next(), result.upToDate(), result.closed());
      Source<List<ByteString>, NotUsed> live = Source.unfoldAsync(start,
          position -> position.done()
              ? CompletableFuture.completedFuture(Optional.empty())
              : next(id, contentType, position, cursor));
      Source<ByteString, NotUsed> events = Source.from(opening)
          .concat(live.mapConcat(frames -> frames))
          .takeWithin(maxDuration)
          .via(shutdown.flow())
          .watchTermination((notUsed, ended) -> {
            CompletableFuture<Done> response = ended.toCompletableFuture();
            streaming.add(response);
            response.whenComplete((done, failed) -> streaming.remove(response));
            return notUsed;
          });
      HttpResponse response = HttpResponse.create().withStatus(StatusCodes.OK)
          .addHeader(RawHeader.create("Cache-Control", "no-cache"))
          .withEntity(HttpEntities.createChunked(
              ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM), events));
      if (SseFrames.isBinary(contentType)) {
        response = response.addHeader(RawHeader.create(StreamHeaders.SSE_ENCODING, "base64"));
      }
      return response;
    });
  }

  private CompletionStage<Optional<Pair<Position, List<ByteString>>>> next(String id,
      String contentType, Position position, String cursor) {
    long waitMillis = position.upToDate() ? wait.toMillis() : 0;
    ReadSpec spec = new ReadSpec(position.from(), false, null, streams.maxReadBytes(), waitMillis,
        false);
    return streams.read(id, spec).handle((reply, error) -> {
      if (error != null) {
        return Optional.of(Pair.create(position, List.of(SseFrames.keepAlive())));
      }
      if (!(reply instanceof ReadResult result)) {
        return Optional.empty();
      }
      Position after = new Position(result.next(), result.upToDate(), result.closed());
      List<ByteString> frames = result.items().isEmpty() && !result.closed()
          ? List.of(SseFrames.keepAlive())
          : frames(contentType, result, cursor, false);
      return Optional.of(Pair.create(after, frames));
    });
  }

  /** A data event for the items (if any) and the control event that must follow it. */
  private static List<ByteString> frames(String contentType, ReadResult result, String cursor,
      boolean first) {
    List<ByteString> frames = new ArrayList<>(2);
    if (!result.items().isEmpty()) {
      frames.add(SseFrames.data(contentType, result.items()));
    }
    if (first || !result.items().isEmpty() || result.closed()) {
      frames.add(SseFrames.control(result.next().encode(), cursor, result.upToDate(),
          result.closed()));
    }
    return frames;
  }
}
