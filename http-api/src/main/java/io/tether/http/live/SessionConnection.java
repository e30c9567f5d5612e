package io.tether.http.live;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionPush;
import io.tether.actors.session.SessionStreams;
import io.tether.http.auth.Capability;
import io.tether.http.auth.Principal;
import io.tether.http.auth.TokenQuotas;
import io.tether.http.live.SessionFrames.Ack;
import io.tether.http.live.SessionFrames.BadFrame;
import io.tether.http.live.SessionFrames.Cancel;
import io.tether.http.live.SessionFrames.ClientFrame;
import io.tether.http.live.SessionFrames.Interrupt;
import io.tether.http.live.SessionFrames.Ping;
import io.tether.http.live.SessionFrames.Publish;
import io.tether.http.live.SessionFrames.Resume;
import io.tether.http.live.SessionFrames.Steer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * One WebSocket connection to one session, on the node holding the socket: the session's live
 * subscriber and the client's voice.
 *
 * <p>Delivery contract: events leave strictly in offset order and never at or below the last
 * offset delivered. After {@code resume}, the connection replays what the client missed (the
 * entity serves it from its memory tail or the journal) while buffering the entity's live pushes,
 * then drains the pushes that continue the sequence and sends {@code up-to-date}. Every push
 * names the offset just before it; one that does not continue the sequence (a push missed while
 * the entity moved, or dropped while catching up) sends the connection back to replay, so there
 * is never a gap. The connection watches the entity and re-registers through sharding when it
 * stops, and re-registers every heartbeat (presence). A registration the session does not answer
 * (sent while its node is dead but not yet removed, so sharding still routes there and it is
 * lost) is sent again, backing off, until it is answered; so is a replay lost with it.
 *
 * <p>Back-pressure: frames go into a bounded queue. When it is full the connection stops queuing
 * (nothing is lost: the client's offset stays at the last frame queued), waits until half of
 * the queue's room for events has drained, and continues by replay, so a slow client costs
 * neither memory nor events.
 *
 * <p>Longer than the usual 600 lines, for a reason: resume, replay, live pushes, the bounded
 * outbound queue and the replies held behind their events share one piece of state (the last
 * offset delivered and the mode), and splitting them would spread that state's invariants over
 * several classes; the frames, the rollup and the envelope rules live in their own classes.
 *
 * <p>Every operation is checked against the connection's capability token (and its expiry; the
 * connection closes when the token expires, so a client reconnects with a fresh one); a
 * malformed frame is answered with an error frame and the connection stays usable. Closing
 * the socket detaches the device and never cancels anything.
 */
final class SessionConnection extends AbstractBehavior<SessionConnection.Command> {

  /** What the connection handles; local messages only, except the entity's pushes. */
  interface Command {}

  /** One frame from the client as the socket read it. */
  sealed interface InFrame {
    /** A text frame (the protocol's frames are JSON text). */
    record Text(String text) implements InFrame {}

    /** A binary frame, drained and refused with an error frame. */
    record Binary() implements InFrame {}

    /** A text frame over {@code tether.sessions.ws.max-frame-bytes}: dropped and refused. */
    record TooLarge(long limit) implements InFrame {}
  }

  /**
   * Frames from the client, in order, batched while the connection is busy; acknowledged at
   * once (inbound back-pressure).
   */
  record Inbound(List<InFrame> frames, ActorRef<Done> ack) implements Command {}

  /** The client's side of the socket ended. */
  enum InboundClosed implements Command { INSTANCE }

  /** A push or replay from the session entity. */
  record Pushed(SessionPush push) implements Command {}

  /** The watched session entity stopped (passivation, hand-off, node loss). */
  enum EntityStopped implements Command { INSTANCE }

  /** Timer ticks. */
  enum Tick implements Command {
    HEARTBEAT, DRAIN, IDLE, RESUBSCRIBE, REPLAY_TIMEOUT, TOKEN_EXPIRED
  }

  /** A publish completed. */
  record Published(String id, Session.AppendReply reply, Throwable error) implements Command {}

  /** A control completed. */
  record Controlled(String id, String kind, Session.ControlReply reply, Throwable error)
      implements Command {}

  private enum Mode { WAITING_RESUME, CATCHING_UP, LIVE }

  /** Frames kept free in the queue for replies, so a slow reader still gets them. */
  private static final int RESERVED_FRAMES = SocketSettings.RESERVED_FRAMES;

  static Behavior<Command> create(String sessionId, Principal principal, SocketSettings settings,
      SessionStreams streams, ClusterSharding sharding, BoundedSourceQueue<Message> out,
      TokenQuotas quotas) {
    return create(sessionId, principal, settings, streams,
        sharding.entityRefFor(Session.ENTITY_TYPE_KEY, sessionId), out, quotas);
  }

  /** With the session reached through {@code session} (tests give a probe's). */
  static Behavior<Command> create(String sessionId, Principal principal, SocketSettings settings,
      SessionStreams streams, EntityRef<Session.Command> session, BoundedSourceQueue<Message> out,
      TokenQuotas quotas) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SessionConnection(ctx, timers, sessionId, principal, settings, streams, session,
            out, quotas)));
  }

  private final TimerScheduler<Command> timers;
  private final String sessionId;
  private final Principal principal;
  private final SocketSettings settings;
  private final SessionStreams streams;
  private final EntityRef<Session.Command> session;
  private final BoundedSourceQueue<Message> out;
  private final ActorRef<SessionPush> pushRef;
  private final TokenQuotas quotas;

  private Mode mode = Mode.WAITING_RESUME;
  private String device;
  private String kind = "client";
  /** The last offset consumed: delivered, or folded into a message being rolled up. */
  private Offset last;
  /** A resume at message granularity waits for where its replay must start. */
  private boolean rewinding;
  private Offset resumedAfter;
  /**
   * Frames built but not queued yet (what a rollup released at once, batches, and the replies
   * behind them): they leave before anything else, so order holds.
   */
  private final java.util.ArrayDeque<String> overflow = new java.util.ArrayDeque<>();
  /** Whether the client takes several events to a frame ({@code resume} with batch). */
  private boolean batching;
  private final SessionFrames.Batch batch = new SessionFrames.Batch();
  /** Replies waiting until the events they answer for have been delivered (offset order). */
  private final List<HeldReply> heldReplies = new ArrayList<>();
  private boolean replayInFlight;
  private boolean throttled;
  private final List<SessionPush.Items> pending = new ArrayList<>();
  private long pendingBytes;
  private MessageRollup rollup;
  private ActorRef<Session.Command> watched;
  /**
   * Whether the session has answered a subscription since the resume or since its entity
   * stopped. Until it has, the connection asks again with a growing interval: a subscription
   * sent while its session's node is dead but not yet removed from the cluster is lost, and
   * the next heartbeat would only come a third of the presence timeout later.
   */
  private boolean subscribed;
  /** Whether a subscription went unanswered (or the entity stopped): replays may be lost too. */
  private boolean resubscribing;
  private Duration resubscribeDelay;
  private long lastInbound = System.currentTimeMillis();

  private SessionConnection(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      String sessionId, Principal principal, SocketSettings settings, SessionStreams streams,
      EntityRef<Session.Command> session, BoundedSourceQueue<Message> out, TokenQuotas quotas) {
    super(ctx);
    this.quotas = quotas;
    this.timers = timers;
    this.sessionId = sessionId;
    this.principal = principal;
    this.settings = settings;
    this.streams = streams;
    this.session = session;
    this.out = out;
    this.pushRef = ctx.messageAdapter(SessionPush.class, Pushed::new);
    this.device = principal.subject();
    if (!principal.expiresAt().equals(Instant.MAX)) {
      Duration left = Duration.between(Instant.now(), principal.expiresAt());
      timers.startSingleTimer(Tick.TOKEN_EXPIRED, Tick.TOKEN_EXPIRED,
          left.isNegative() ? Duration.ZERO : left);
    }
    if (!settings.idleTimeout().isZero()) {
      timers.startTimerWithFixedDelay(Tick.IDLE, Tick.IDLE, settings.idleTimeout().dividedBy(4));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Inbound.class, this::onInbound)
        .onMessageEquals(InboundClosed.INSTANCE, this::close)
        .onMessage(Pushed.class, this::onPushed)
        .onMessageEquals(EntityStopped.INSTANCE, this::onEntityStopped)
        .onMessage(Tick.class, this::onTick)
        .onMessage(Published.class, this::onPublished)
        .onMessage(Controlled.class, this::onControlled)
        .onSignal(PostStop.class, signal -> {
          if (mode != Mode.WAITING_RESUME) {
            session.tell(new Session.Unsubscribe(pushRef));
          }
          if (!out.isCompleted()) {
            out.complete();
          }
          return this;
        })
        .build();
  }

  // --- client frames ---------------------------------------------------------------------------

  private Behavior<Command> onInbound(Inbound in) {
    in.ack().tell(Done.getInstance());
    lastInbound = System.currentTimeMillis();
    for (InFrame frame : in.frames()) {
      Behavior<Command> next;
      if (frame instanceof InFrame.Text text) {
        next = onFrame(text.text());
      } else if (frame instanceof InFrame.TooLarge tooLarge) {
        reply(SessionFrames.error(null, "too-large", "a frame may have at most "
            + tooLarge.limit() + " characters (tether.sessions.ws.max-frame-bytes); it was "
            + "dropped, nothing of it was applied, and the connection stays usable"));
        next = this;
      } else {
        next = onBinary();
      }
      if (next != this) {
        return next;
      }
    }
    return this;
  }

  private Behavior<Command> onFrame(String text) {
    ClientFrame frame;
    try {
      frame = SessionFrames.parse(text);
    } catch (BadFrame e) {
      reply(SessionFrames.error(e.id, "bad-frame", e.getMessage()));
      return this;
    }
    if (principal.expiresAt().isBefore(Instant.now())) {
      reply(SessionFrames.error(null, "token-expired", "the capability token has expired"));
      return close();
    }
    if (frame instanceof Resume r) {
      return onResume(r);
    } else if (frame instanceof Publish p) {
      return onPublish(p);
    } else if (frame instanceof Cancel c) {
      return control(c.id(), new Session.ControlSpec("cancel", c.id(), c.run(), c.message(),
          null, principal.subject(), device));
    } else if (frame instanceof Steer s) {
      return control(s.id(), new Session.ControlSpec("steer", s.id(), s.run(), null, s.text(),
          principal.subject(), device));
    } else if (frame instanceof Interrupt i) {
      return control(i.id(), new Session.ControlSpec("interrupt", i.id(), i.run(), null, null,
          principal.subject(), device));
    } else if (frame instanceof Ack a) {
      return onAck(a);
    } else if (frame instanceof Ping p) {
      reply(SessionFrames.pong(p.id()));
    }
    return this;
  }

  private Behavior<Command> onBinary() {
    reply(SessionFrames.error(null, "bad-frame", "frames are JSON text, not binary"));
    return this;
  }

  private Behavior<Command> onResume(Resume r) {
    Offset after;
    if (r.after().equals("-1")) {
      after = Offset.ZERO;
    } else if (r.after().equals("now")) {
      after = null;
    } else {
      Optional<Offset> parsed = Offset.parse(r.after());
      if (parsed.isEmpty()) {
        reply(SessionFrames.error(null, "bad-frame", "'after' is -1, now, or an offset"));
        return this;
      }
      after = parsed.get();
    }
    if (r.device() != null && !r.device().isBlank()) {
      device = r.device();
    }
    kind = r.kind();
    last = after;
    boolean messages = r.granularity().equals("message");
    rollup = messages ? new MessageRollup(after == null ? Offset.ZERO : after) : null;
    batching = r.batch();
    clearPending();
    overflow.clear();
    batch.clear();
    replayInFlight = false;
    mode = Mode.CATCHING_UP;
    subscribeUntilAnswered(false);
    timers.startTimerWithFixedDelay(Tick.HEARTBEAT, Tick.HEARTBEAT, settings.heartbeat());
    // Resuming inside a message at message granularity: the replay starts at that message's
    // start so it arrives whole (the rollup sends nothing at or below 'after').
    rewinding = messages && after != null && after.isAfter(Offset.ZERO);
    resumedAfter = after;
    if (rewinding) {
      rewind();
    } else {
      startReplay();
    }
    return this;
  }

  private Behavior<Command> onPublish(Publish p) {
    if (!allowed(Capability.PUBLISH, p.id())) {
      return this;
    }
    OptionalLong wait = quotas.tryAppend(principal);
    if (wait.isPresent()) {
      reply(SessionFrames.rateLimited(p.id(), quotas.appendDetail(principal), wait.getAsLong()));
      return this;
    }
    List<byte[]> items = new ArrayList<>(p.events().size());
    for (int i = 0; i < p.events().size(); i++) {
      JsonNode event = p.events().get(i);
      EnvelopeRules.Problem problem = EnvelopeRules.check(event);
      if (problem != null) {
        reply(SessionFrames.error(p.id(), problem.code(),
            "events[" + i + "]: " + problem.detail()));
        return this;
      }
      try {
        items.add(SessionFrames.JSON.writeValueAsBytes(EnvelopeRules.complete(event, device)));
      } catch (JsonProcessingException e) {
        reply(SessionFrames.error(p.id(), "invalid-event", "events[" + i + "] does not serialize"));
        return this;
      }
    }
    getContext().pipeToSelf(streams.append(sessionId,
        new Session.AppendSpec("application/json", items, p.producer(), null, false, true)),
        (reply, error) -> new Published(p.id(), reply, error));
    return this;
  }

  private Behavior<Command> control(String id, Session.ControlSpec spec) {
    if (!allowed(Capability.CONTROL, id)) {
      return this;
    }
    getContext().pipeToSelf(
        session.<Session.ControlReply>ask(replyTo -> new Session.Control(spec, replyTo),
            settings.askTimeout()),
        (reply, error) -> new Controlled(id, spec.kind(), reply, error));
    return this;
  }

  private Behavior<Command> onAck(Ack a) {
    if (!allowed(Capability.SUBSCRIBE, null)) {
      return this;
    }
    Optional<Offset> offset = Offset.parse(a.offset());
    if (offset.isEmpty()) {
      reply(SessionFrames.error(null, "bad-frame", "'offset' is not an offset"));
      return this;
    }
    session.tell(new Session.AckCursor(a.device() != null ? a.device() : device, offset.get()));
    reply(SessionFrames.acked(a.id(), offset.get()));
    return this;
  }

  private boolean allowed(Capability capability, String id) {
    if (principal.may(capability, sessionId)) {
      return true;
    }
    reply(SessionFrames.error(id, "forbidden", "the token does not grant "
        + capability.wireName() + " on session '" + sessionId + "'"));
    return false;
  }

  private Behavior<Command> onPublished(Published p) {
    if (p.error() != null) {
      reply(SessionFrames.error(p.id(), "unavailable", "the session did not answer in time; "
          + "the events may or may not have been appended"));
    } else if (p.reply() instanceof Session.Appended appended) {
      replyAfter(appended.next(), appended.duplicate()
          ? SessionFrames.publishedDuplicate(p.id(), appended.next())
          : SessionFrames.published(p.id(), appended.next()));
    } else {
      reply(SessionFrames.appendRefused(p.id(), (Session.AppendRejected) p.reply()));
    }
    return this;
  }

  private Behavior<Command> onControlled(Controlled c) {
    if (c.error() != null) {
      reply(SessionFrames.error(c.id(), "unavailable", "the session did not answer in time"));
    } else if (c.reply() instanceof Session.ControlAccepted accepted) {
      replyAfter(accepted.offset(), c.kind().equals("cancel")
          ? SessionFrames.cancelled(c.id(), accepted.offset())
          : SessionFrames.controlAccepted(c.id(), accepted.offset()));
    } else {
      Session.ControlRejected rejected = (Session.ControlRejected) c.reply();
      reply(SessionFrames.error(c.id(), rejected.code(), rejected.detail()));
    }
    return this;
  }

  // --- delivery --------------------------------------------------------------------------------

  private void subscribe() {
    session.tell(new Session.Subscribe(device, kind, pushRef));
  }

  /**
   * Subscribes now ({@code lost}: the entity stopped, so after the first retry interval) and
   * again, backing off, until the session answers.
   */
  private void subscribeUntilAnswered(boolean lost) {
    subscribed = false;
    resubscribing = lost;
    resubscribeDelay = settings.resubscribeMin();
    if (!lost) {
      subscribe();
    }
    timers.startSingleTimer(Tick.RESUBSCRIBE, Tick.RESUBSCRIBE, resubscribeDelay);
  }

  private Behavior<Command> onPushed(Pushed message) {
    SessionPush push = message.push();
    if (mode == Mode.WAITING_RESUME) {
      return this;
    }
    if (push instanceof SessionPush.Subscribed s) {
      if (!subscribed) {
        subscribed = true;
        timers.cancel(Tick.RESUBSCRIBE);
        if (resubscribing && (replayInFlight || rewinding)) {
          // Sent while the session could not be reached, the replay may be lost as well: if
          // its answer does not follow the subscription's soon, it is asked for again (at once
          // would replay twice whenever a session only took a while to recover).
          timers.startSingleTimer(Tick.REPLAY_TIMEOUT, Tick.REPLAY_TIMEOUT,
              settings.resubscribeMax());
        }
        resubscribing = false;
      }
      if (!s.session().equals(watched)) {
        if (watched != null) {
          getContext().unwatch(watched);
        }
        getContext().watchWith(s.session(), EntityStopped.INSTANCE);
        watched = s.session();
      }
      if (last == null) {
        last = s.tail();
        startReplay();
      } else if (mode == Mode.LIVE && s.tail().isAfter(last)) {
        catchUp();
      }
    } else if (push instanceof SessionPush.Items items) {
      onItems(items);
    } else if (push instanceof SessionPush.Replayed replayed) {
      onReplayed(replayed);
    } else if (push instanceof SessionPush.Rewound rewound) {
      if (rewinding && rewound.after().equals(resumedAfter) && mode == Mode.CATCHING_UP) {
        rewinding = false;
        timers.cancel(Tick.REPLAY_TIMEOUT);
        last = rewound.from();
        startReplay();
      }
    } else if (push instanceof SessionPush.Ended ended) {
      if (ended.reason().equals("offset-beyond-tail")
          || ended.reason().equals("fork-history-unsupported")) {
        // The client asked for a position it cannot have: its subscription ends, the socket
        // stays usable for a resume from an offset it was given. (Closing here also raced the
        // client's next frames: a server closing while they arrive resets the connection, and
        // the reset discarded the error frame before the client read it.)
        reply(SessionFrames.error(null, ended.reason(), "the session cannot be followed from "
            + "there: " + ended.reason() + "; resume from an offset the session gave you"));
        endSubscription();
        return this;
      }
      reply(SessionFrames.error(null, ended.reason(), "the session cannot be followed: "
          + ended.reason()));
      return close();
    }
    return this;
  }

  /** Back to waiting for a resume: detached from the session, nothing pending. */
  private void endSubscription() {
    session.tell(new Session.Unsubscribe(pushRef));
    if (watched != null) {
      getContext().unwatch(watched);
      watched = null;
    }
    timers.cancel(Tick.HEARTBEAT);
    timers.cancel(Tick.REPLAY_TIMEOUT);
    timers.cancel(Tick.RESUBSCRIBE);
    timers.cancel(Tick.DRAIN);
    mode = Mode.WAITING_RESUME;
    last = null;
    replayInFlight = false;
    rewinding = false;
    throttled = false;
    rollup = null;
    overflow.clear();
    clearPending();
    releaseReplies();
  }

  private void onItems(SessionPush.Items items) {
    if (mode == Mode.LIVE && last != null && !items.prev().isAfter(last)) {
      deliver(items.offsets(), items.items());
      return;
    }
    if (throttled) {
      // The client is too slow for live pushes: the replay after the drain re-reads them, so
      // keeping them would only hold memory for a client that is not reading.
      return;
    }
    pending.add(items);
    pendingBytes += bytes(items);
    while (pendingBytes > settings.maxPendingBytes() && pending.size() > 1) {
      pendingBytes -= bytes(pending.remove(0));
    }
    if (mode == Mode.LIVE) {
      catchUp();
    }
  }

  private void onReplayed(SessionPush.Replayed replayed) {
    if (!replayed.from().equals(last) || mode != Mode.CATCHING_UP) {
      return;
    }
    replayInFlight = false;
    timers.cancel(Tick.REPLAY_TIMEOUT);
    if (!deliver(replayed.offsets(), replayed.items())) {
      return;
    }
    if (replayed.next().isAfter(last)) {
      // The range read held nothing more for this client: the next replay starts past it.
      last = replayed.next();
    }
    if (replayed.upToDate() && !last.isBefore(replayed.tail())) {
      goLive();
    } else {
      startReplay();
    }
  }

  private void catchUp() {
    mode = Mode.CATCHING_UP;
    startReplay();
  }

  private void rewind() {
    session.tell(new Session.Rewind(resumedAfter, pushRef));
    timers.startSingleTimer(Tick.REPLAY_TIMEOUT, Tick.REPLAY_TIMEOUT, settings.askTimeout());
  }

  private void startReplay() {
    if (replayInFlight || throttled || rewinding || last == null || mode != Mode.CATCHING_UP) {
      return;
    }
    replayInFlight = true;
    session.tell(new Session.Replay(last, settings.replayBytes(), pushRef));
    timers.startSingleTimer(Tick.REPLAY_TIMEOUT, Tick.REPLAY_TIMEOUT, settings.askTimeout());
  }

  /** Drains buffered pushes that continue the sequence; goes live when none is missing. */
  private void goLive() {
    pending.sort(Comparator.comparing(SessionPush.Items::prev));
    while (!pending.isEmpty()) {
      SessionPush.Items next = pending.get(0);
      if (next.prev().isAfter(last)) {
        startReplay();
        return;
      }
      pending.remove(0);
      pendingBytes -= bytes(next);
      if (!deliver(next.offsets(), next.items())) {
        return;
      }
    }
    if (rollup != null) {
      for (MessageRollup.Emitted e : rollup.flush()) {
        emit(e.offset(), e.event());
      }
      rollup = null;
    }
    endBatch();
    if (!drainOverflow()) {
      throttle();
      return;
    }
    mode = Mode.LIVE;
    reply(SessionFrames.upToDate(last));
    releaseReplies();
  }

  /**
   * Queues the events after {@code last}; false when the client is too slow (the connection is
   * then throttled and continues by replay once the queue has drained).
   */
  private boolean deliver(List<Offset> offsets, List<byte[]> items) {
    int room = room();
    for (int i = 0; i < offsets.size(); i++) {
      Offset offset = offsets.get(i);
      if (!offset.isAfter(last)) {
        continue;
      }
      if (!overflow.isEmpty() || out.size() >= room) {
        endBatch();
        throttle();
        return false;
      }
      if (rollup != null && mode != Mode.LIVE) {
        // Consumed now; what the rollup releases leaves in order.
        for (MessageRollup.Emitted e : rollup.accept(offset, items.get(i))) {
          emit(e.offset(), e.event());
        }
        last = offset;
      } else if (batching) {
        emit(offset, new String(items.get(i), java.nio.charset.StandardCharsets.UTF_8));
        last = offset;
      } else {
        // One frame per event, shared by every connection of the node that gets the same push.
        if (out.offer(TextMessage.create(SessionFrames.event(offset, items.get(i))))
            != QueueOfferResult.enqueued()) {
          throttle();
          return false;
        }
        last = offset;
      }
      if (!drainOverflow()) {
        endBatch();
        throttle();
        return false;
      }
    }
    endBatch();
    if (!drainOverflow()) {
      throttle();
      return false;
    }
    releaseReplies();
    return true;
  }

  /** The largest batch frame, in characters; a page of events becomes a few such frames. */
  private static final int BATCH_CHARS = 64 * 1024;

  /** Frames the queue may hold: batch frames are counted against the pending-bytes bound. */
  private int room() {
    int frames = settings.outboundBuffer() - RESERVED_FRAMES;
    return batching
        ? (int) Math.max(4, Math.min(frames, settings.maxPendingBytes() / BATCH_CHARS)) : frames;
  }

  /** Sends one event: into the current batch, or as a frame of its own, through the overflow. */
  private void emit(Offset offset, String event) {
    if (!batching) {
      overflow.add(SessionFrames.event(offset, event));
      return;
    }
    batch.add(offset, event);
    if (batch.length() >= BATCH_CHARS) {
      overflow.add(batch.take());
    }
  }

  /** Closes the current batch frame, if any. */
  private void endBatch() {
    if (!batch.isEmpty()) {
      overflow.add(batch.take());
    }
  }

  /** Queues the overflow while the queue has room; true when it is empty. */
  private boolean drainOverflow() {
    int room = room();
    while (!overflow.isEmpty() && out.size() < room) {
      if (out.offer(TextMessage.create(overflow.peekFirst())) != QueueOfferResult.enqueued()) {
        return false;
      }
      overflow.pollFirst();
    }
    return overflow.isEmpty();
  }

  /** A reply that waits until the connection has delivered up to {@code offset}. */
  private record HeldReply(Offset offset, String frame) {}

  /**
   * Sends a reply once this connection has delivered the reply's own events (up to
   * {@code offset}), so a client that reads {@code published} or {@code cancelled} already has
   * what it answers for; at once when the connection is not subscribed.
   */
  private void replyAfter(Offset offset, String frame) {
    if (mode == Mode.WAITING_RESUME || (last != null && !offset.isAfter(last))) {
      reply(frame);
    } else {
      heldReplies.add(new HeldReply(offset, frame));
    }
  }

  private void releaseReplies() {
    if (heldReplies.isEmpty()) {
      return;
    }
    var it = heldReplies.iterator();
    while (it.hasNext()) {
      HeldReply held = it.next();
      if (mode == Mode.WAITING_RESUME || (last != null && !held.offset().isAfter(last))) {
        reply(held.frame());
        it.remove();
      }
    }
  }

  private void clearPending() {
    pending.clear();
    pendingBytes = 0;
  }

  private static long bytes(SessionPush.Items items) {
    long sum = 0;
    for (byte[] item : items.items()) {
      sum += item.length;
    }
    return sum;
  }

  private void throttle() {
    if (!throttled) {
      getContext().getLog().info("Client {} of session {} is slow; continuing by replay after {}",
          device, sessionId, last);
    }
    mode = Mode.CATCHING_UP;
    throttled = true;
    replayInFlight = false;
    clearPending();
    timers.startTimerWithFixedDelay(Tick.DRAIN, Tick.DRAIN, Duration.ofMillis(20));
  }

  private Behavior<Command> onEntityStopped() {
    watched = null;
    if (mode != Mode.WAITING_RESUME) {
      subscribeUntilAnswered(true);
    }
    return this;
  }

  private Behavior<Command> onTick(Tick tick) {
    switch (tick) {
      case HEARTBEAT:
        if (mode != Mode.WAITING_RESUME) {
          subscribe();
        }
        return this;
      case RESUBSCRIBE:
        if (mode != Mode.WAITING_RESUME && !subscribed) {
          resubscribing = true;
          subscribe();
          resubscribeDelay = min(resubscribeDelay.multipliedBy(2), settings.resubscribeMax());
          timers.startSingleTimer(Tick.RESUBSCRIBE, Tick.RESUBSCRIBE, resubscribeDelay);
        }
        return this;
      case DRAIN:
        // Half of the room for events, not of the whole queue: with a small queue, half of it
        // can be all the room there is, and a replay would throttle again at once, in a loop.
        if (out.size() <= room() / 2 && drainOverflow()) {
          timers.cancel(Tick.DRAIN);
          throttled = false;
          startReplay();
        }
        return this;
      case REPLAY_TIMEOUT:
        if (rewinding) {
          rewind();
          return this;
        }
        replayInFlight = false;
        startReplay();
        return this;
      case TOKEN_EXPIRED:
        reply(SessionFrames.error(null, "token-expired", "the capability token has expired; "
            + "reconnect with a fresh one and resume from your last offset"));
        return close();
      case IDLE:
        if (System.currentTimeMillis() - lastInbound > settings.idleTimeout().toMillis()) {
          reply(SessionFrames.error(null, "idle-timeout", "no frame from the client for "
              + settings.idleTimeout().toSeconds() + "s; send ping frames to keep it open"));
          return close();
        }
        return this;
      default:
        return this;
    }
  }

  /**
   * Queues a reply frame; replies use the reserved part of the queue, behind any event frame
   * built before them.
   */
  private void reply(String frame) {
    if (out.isCompleted()) {
      return;
    }
    if (!overflow.isEmpty()) {
      overflow.add(frame);
      return;
    }
    out.offer(TextMessage.create(frame));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private Behavior<Command> close() {
    if (!out.isCompleted()) {
      out.complete();
    }
    return Behaviors.stopped();
  }
}
