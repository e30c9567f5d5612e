package io.tether.actors.harness.run;

import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionEnvelope;
import io.tether.actors.session.SessionPush;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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

/**
 * The Run's ear on its session: clients cancel and steer a run through the session too (its
 * WebSocket control frames), so a child of the Run subscribes to the Session entity as the
 * device {@code harness/<run id>} and turns each {@code control.cancel} and {@code control.steer}
 * naming the run into a {@link RunCommand.Cancel} or {@link RunCommand.SteerRun} carrying the
 * control's id, which the acknowledgements name. The subscription is renewed as its heartbeat,
 * retried while the session does not exist yet, and renewed when the session's entity stops; on
 * subscribing it replays what it has not seen (the whole session the first time), so no control
 * is missed, and the Run applies each control id once. (A cancel made through the REST API
 * reaches the session as the Run's {@code run.end} with status {@code cancelled}, which fences
 * the run's later output there.)
 */
final class SessionControls extends AbstractBehavior<SessionControls.Command> {

  /** Messages of the follower (local only). */
  interface Command {}

  /** The session pushed something. */
  record Pushed(SessionPush push) implements Command {}

  /** Time to (re)subscribe. */
  enum Renew implements Command { INSTANCE }

  /** The run ended: stop following, after anything already asked of the follower. */
  enum Stop implements Command { INSTANCE }

  private static final Duration RETRY = Duration.ofSeconds(1);
  private static final int REPLAY_BYTES = 1 << 20;

  private final String runId;
  private final ActorRef<RunCommand> run;
  private final EntityRef<Session.Command> session;
  private final ActorRef<SessionPush> self;
  private final TimerScheduler<Command> timers;
  private final String device;
  private Offset lastSeen;

  private SessionControls(ActorContext<Command> context, TimerScheduler<Command> timers,
      String runId, String sessionId, ActorRef<RunCommand> run, Duration heartbeat) {
    super(context);
    this.runId = runId;
    this.run = run;
    this.timers = timers;
    this.device = "harness/" + runId;
    this.session = ClusterSharding.get(context.getSystem())
        .entityRefFor(Session.ENTITY_TYPE_KEY, sessionId);
    this.self = context.messageAdapter(SessionPush.class, Pushed::new);
    subscribe();
    timers.startTimerWithFixedDelay("heartbeat", Renew.INSTANCE, heartbeat);
  }

  /** Follows {@code sessionId} for controls of {@code runId} and tells them to {@code run}. */
  static Behavior<Command> create(String runId, String sessionId, ActorRef<RunCommand> run,
      Duration heartbeat) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SessionControls(ctx, timers, runId, sessionId, run, heartbeat)));
  }

  private void subscribe() {
    session.tell(new Session.Subscribe(device, "agent", self));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Renew.class, m -> {
          subscribe();
          return this;
        })
        .onMessage(Pushed.class, m -> onPush(m.push()))
        .onMessage(Stop.class, m -> Behaviors.stopped())
        .onSignal(PostStop.class, s -> {
          session.tell(new Session.Unsubscribe(self));
          return this;
        })
        .build();
  }

  private Behavior<Command> onPush(SessionPush push) {
    if (push instanceof SessionPush.Subscribed subscribed) {
      getContext().unwatch(subscribed.session());
      getContext().watchWith(subscribed.session(), Renew.INSTANCE);
      // The first time, read the session from its start: a control may have landed between
      // the run's start and this subscription, or while this follower was down. The Run applies
      // a control once, however often it is told.
      Offset from = lastSeen == null ? Offset.ZERO : lastSeen;
      if (subscribed.tail().isAfter(from)) {
        session.tell(new Session.Replay(from, REPLAY_BYTES, self));
      }
    } else if (push instanceof SessionPush.Items items) {
      follow(items.offsets(), items.items());
    } else if (push instanceof SessionPush.Replayed replayed) {
      follow(replayed.offsets(), replayed.items());
      if (!replayed.upToDate() && !replayed.offsets().isEmpty()) {
        session.tell(new Session.Replay(
            replayed.offsets().get(replayed.offsets().size() - 1), REPLAY_BYTES, self));
      }
    } else if (push instanceof SessionPush.Ended) {
      // Not created yet (the run's first append creates it), or deleted: ask again shortly.
      timers.startSingleTimer("retry", Renew.INSTANCE, RETRY);
    }
    return this;
  }

  private void follow(List<Offset> offsets, List<byte[]> items) {
    for (int i = 0; i < items.size(); i++) {
      // Live pushes and replays overlap; the Run applies each control once, so both are read.
      if (lastSeen == null || offsets.get(i).isAfter(lastSeen)) {
        lastSeen = offsets.get(i);
      }
      Optional<SessionEnvelope> e = SessionEnvelope.of(items.get(i));
      if (e.isEmpty() || !runId.equals(e.get().run())) {
        continue;
      }
      String type = e.get().type();
      String id = e.get().dataText("id");
      if (type.equals("control.cancel")) {
        run.tell(new RunCommand.Cancel("cancelled through the session by " + e.get().producer(),
            id != null ? id : "session-cancel", getContext().getSystem().ignoreRef()));
      } else if (type.equals("control.steer") && e.get().dataText("text") != null) {
        run.tell(new RunCommand.SteerRun(e.get().dataText("text"), id,
            getContext().getSystem().ignoreRef()));
      }
    }
  }
}
