package io.tether.http.live;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.tether.actors.session.SessionStreams;
import io.tether.http.Problem;
import io.tether.http.auth.Authenticator;
import io.tether.http.auth.Capability;
import io.tether.http.auth.Principal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code GET /v1/sessions/{id}/ws}: upgrades to the session WebSocket after checking the token
 * ({@code Authorization: Bearer} or {@code access_token}) for {@code subscribe} on the session,
 * and wires the socket to a {@link SessionConnection} actor on this node: inbound frames are
 * handed over one at a time (back-pressured), outbound frames leave through a bounded queue.
 */
public final class SessionSocketRoute {
  private static final Duration FRAME_READ_TIMEOUT = Duration.ofSeconds(10);
  private static final int MAX_BATCH = 256;

  private final ActorSystem<?> system;
  private final Authenticator auth;
  private final SessionStreams streams;
  private final SocketSettings settings;
  private final ClusterSharding sharding;
  private final long maxFrameChars;

  public SessionSocketRoute(ActorSystem<?> system, Authenticator auth, SessionStreams streams) {
    this.system = system;
    this.auth = auth;
    this.settings = SocketSettings.fromConfig(system.settings().config());
    this.streams = streams;
    this.sharding = ClusterSharding.get(system);
    this.maxFrameChars = system.settings().config().getBytes("tether.sessions.ws.max-frame-bytes");
  }

  /** The WebSocket route. */
  public Route route() {
    return path(segment("v1").slash("sessions").slash(segment()).slash("ws"), id -> get(() ->
        auth.authenticated(principal -> principal.may(Capability.SUBSCRIBE, id)
            ? auth.quotas().socket(principal, () -> connect(id, principal))
            : complete(Problem.response(StatusCodes.FORBIDDEN,
                "the token does not grant subscribe on session '" + id + "'")))));
  }

  /**
   * The socket's flow. The outbound queue is materialized inside the connection's own stream
   * (its materialized value spawns the connection actor), not pre-materialized as a stream of
   * its own: that cost every idle socket a second stream actor, a publisher/subscriber bridge
   * and an asynchronous hop per frame.
   */
  private Flow<Message, Message, NotUsed> connect(String sessionId, Principal principal) {
    Materializer mat = Materializer.matFromSystem(system);
    CompletableFuture<ActorRef<SessionConnection.Command>> connection = new CompletableFuture<>();
    Duration handOff = settings.askTimeout();
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> toText(message, maxFrameChars, mat))
        // One hand-over per frame while the connection keeps up, batches while it is busy.
        .batch(MAX_BATCH, first -> {
          List<SessionConnection.InFrame> batch = new ArrayList<>();
          batch.add(first);
          return batch;
        }, (batch, next) -> {
          batch.add(next);
          return batch;
        })
        .mapAsync(1, batch -> connection.thenCompose(ref ->
            AskPattern.<SessionConnection.Command, Done>ask(ref,
                ack -> new SessionConnection.Inbound(batch, ack), handOff, system.scheduler())))
        .watchTermination((notUsed, done) -> {
          done.whenComplete((d, error) -> connection.thenAccept(ref ->
              ref.tell(SessionConnection.InboundClosed.INSTANCE)));
          return NotUsed.getInstance();
        })
        .to(Sink.ignore());
    Source<Message, NotUsed> out = Source.<Message>queue(settings.outboundBuffer())
        .mapMaterializedValue(queue -> {
          connection.complete(system.systemActorOf(
              SessionConnection.create(sessionId, principal, settings, streams, sharding, queue,
                  auth.quotas()),
              "session-ws-" + UUID.randomUUID(), Props.empty()));
          return NotUsed.getInstance();
        });
    return Flow.fromSinkAndSourceCoupled(in, out);
  }

  /**
   * A frame as the connection takes it: its text, a binary frame (drained, refused by the
   * connection), or a text frame over the limit (read to its end and discarded, never buffered
   * past the limit, and refused with {@code too-large}; the socket stays usable: closing while
   * the client is still sending its frame would reset the connection and lose the error frame).
   */
  private static CompletionStage<SessionConnection.InFrame> toText(Message message, long maxChars,
      Materializer mat) {
    if (message.isText() && message.asTextMessage().isStrict()) {
      // Most frames arrive whole: no stream to run for them.
      String text = message.asTextMessage().getStrictText();
      return CompletableFuture.completedFuture(text.length() > maxChars
          ? new SessionConnection.InFrame.TooLarge(maxChars)
          : new SessionConnection.InFrame.Text(text));
    }
    if (message.isText()) {
      // Collected up to a bound, never more: a larger frame is refused, not buffered.
      CompletableFuture<SessionConnection.InFrame> frame = new CompletableFuture<>();
      StringBuilder text = new StringBuilder();
      java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
      message.asTextMessage().getStreamedText()
          .completionTimeout(FRAME_READ_TIMEOUT)
          .runForeach(part -> {
            if (over.get()) {
              return; // the rest of an oversized frame is read and dropped
            }
            if (text.length() + part.length() <= maxChars) {
              text.append(part);
            } else {
              over.set(true);
              text.setLength(0);
              text.trimToSize();
            }
          }, mat)
          .whenComplete((done, error) -> {
            if (over.get()) {
              frame.complete(new SessionConnection.InFrame.TooLarge(maxChars));
            } else if (error != null) {
              frame.completeExceptionally(error); // a frame that never finishes fails the socket
            } else {
              frame.complete(new SessionConnection.InFrame.Text(text.toString()));
            }
          });
      return frame;
    }
    CompletableFuture<SessionConnection.InFrame> binary = new CompletableFuture<>();
    message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), mat)
        .whenComplete((d, e) -> binary.complete(new SessionConnection.InFrame.Binary()));
    return binary;
  }
}
