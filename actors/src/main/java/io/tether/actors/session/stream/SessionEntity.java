package io.tether.actors.session.stream;

import io.tether.actors.logging.EntityMdc;
import io.tether.actors.metrics.TetherMetrics;
import io.tether.actors.session.ForkOrigin;
import io.tether.actors.session.MediaTypes;
import io.tether.actors.session.Offset;
import io.tether.actors.session.ProducerState;
import io.tether.actors.session.ProducerTuple;
import io.tether.actors.session.Session;
import io.tether.actors.session.Session.AlreadyExists;
import io.tether.actors.session.Session.AppendFailure;
import io.tether.actors.session.Session.AppendRejected;
import io.tether.actors.session.Session.AppendReply;
import io.tether.actors.session.Session.AppendSpec;
import io.tether.actors.session.Session.Appended;
import io.tether.actors.session.Session.Command;
import io.tether.actors.session.Session.ControlAccepted;
import io.tether.actors.session.Session.ControlRejected;
import io.tether.actors.session.Session.ControlReply;
import io.tether.actors.session.Session.CreateConflict;
import io.tether.actors.session.Session.CreateSpec;
import io.tether.actors.session.Session.Created;
import io.tether.actors.session.Session.Deleted;
import io.tether.actors.session.Session.Described;
import io.tether.actors.session.Session.ForkFailure;
import io.tether.actors.session.Session.ForkGranted;
import io.tether.actors.session.Session.ForkRefused;
import io.tether.actors.session.Session.ForkSourceNeeded;
import io.tether.actors.session.Session.Lookup;
import io.tether.actors.session.Session.ReadFailure;
import io.tether.actors.session.Session.ReadFromSource;
import io.tether.actors.session.Session.ReadRejected;
import io.tether.actors.session.Session.ReadResult;
import io.tether.actors.session.Session.ReadSpec;
import io.tether.actors.session.Session.SessionSummary;
import io.tether.actors.session.SessionEnvelope;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.SessionEvent.AccessRecorded;
import io.tether.actors.session.SessionEvent.CursorsMoved;
import io.tether.actors.session.SessionEvent.ForkAcquired;
import io.tether.actors.session.SessionEvent.ForkReleased;
import io.tether.actors.session.SessionEvent.ItemsAppended;
import io.tether.actors.session.SessionEvent.StreamClosed;
import io.tether.actors.session.SessionEvent.StreamCreated;
import io.tether.actors.session.SessionEvent.StreamDeleted;
import io.tether.actors.session.SessionLedger;
import io.tether.actors.session.SessionPush;
import io.tether.actors.session.StreamState;
import io.tether.actors.session.StreamState.Lifecycle;
import io.tether.actors.session.live.LiveSession;
import io.tether.actors.session.live.SessionLiveSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The stream entity (protocol in {@link Session}, events in {@link SessionEvent}, state in
 * {@link StreamState}): the stream core, its lifecycle (create, delete, forks,
 * expiry) and the dispatch of each command. The group commit lives in {@link GroupCommit}, reads in {@link StreamReads}, expiry in
 * {@link StreamExpiry}, batching in {@link Chunking}, producer rules in
 * {@link IdempotentProducers}, and the JSON-session layer in {@link LiveSession}.
 *
 * <p>Longer than the usual 600 lines, for a reason: every command's handler must return an
 * effect built by this behavior ({@code Effect()} is reachable only here), so each command keeps
 * a short handler in this class while the work it does lives in the classes above.
 *
 * <p>One handler style: a single command method and a single event method rather than built
 * handlers, which allocate a case object and two lambdas per type for every entity (2.7 KB of an
 * idle session's 7.6 KB, measured with a class histogram of 5,000 sessions).
 */
public final class SessionEntity
    extends EventSourcedBehaviorWithEnforcedReplies<Command, SessionEvent, StreamState> {

  /** Registers the entity type with sharding on this node. */
  public static void init(ActorSystem<?> system) {
    SessionSetup setup = SessionSetup.fromSystem(system);
    ClusterSharding.get(system).init(Entity.of(Session.ENTITY_TYPE_KEY,
        ctx -> create(ctx.getEntityId(), setup)).withStopMessage(new Session.Stop()));
  }

  /**
   * The behavior of the stream {@code streamId}: its logs carry {@code sessionId} in the MDC
   * (those of a failed write and of the restart too), and while it backs off after a journal
   * failure it still answers reads from its last durable tail and refuses appends at once
   * ({@link OutageAnswers}).
   */
  public static Behavior<Command> create(String streamId, SessionSetup setup) {
    return EntityMdc.withMdc(Map.of("sessionId", streamId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
          SessionEntity session = new SessionEntity(streamId, ctx, timers, setup);
          return Behaviors.intercept(() -> new OutageAnswers(session::answeredWhileDown), session);
        })));
  }

  private static final Duration LONGEST_WAKE = Duration.ofDays(1);

  private final String streamId;
  private final ActorContext<Command> ctx;
  private final SessionSettings settings;
  private final StreamPurger purger;
  private final SessionSetup.Peers peers;
  private final StreamReads reads;
  private final StreamExpiry expiry;
  private final LiveSession live;
  private final TetherMetrics metrics;

  private final GroupCommit groupCommit;

  // These outlive a restart of the event-sourced behavior after a journal failure (OutageAnswers).
  /** Whether the behavior is recovered and has not failed since. */
  private boolean ready;
  /** Whether the behavior failed and has not recovered since (backing off or recovering). */
  private boolean restarting;
  /** The last state known to be durable (what the command handler last saw). */
  private StreamState lastDurable;
  private boolean countedInMemory;
  private int reportedReaders;

  private SessionEntity(String streamId, ActorContext<Command> ctx,
      TimerScheduler<Command> timers, SessionSetup setup) {
    super(Session.persistenceIdOf(streamId), setup.resilience().strategy());
    this.streamId = streamId;
    this.ctx = ctx;
    this.settings = setup.settings();
    this.purger = setup.purger();
    this.peers = setup.peers();
    this.metrics = TetherMetrics.get(ctx.getSystem());
    this.reads = new StreamReads(streamId, persistenceId().id(), setup.reader(), metrics, timers,
        ctx.getLog());
    this.expiry = new StreamExpiry(ctx.getSelf(), timers, settings.expiryCheckInterval());
    this.groupCommit = new GroupCommit(ctx, settings, metrics);
    this.live = new LiveSession(ctx, timers, setup.live(), groupCommit);
  }

  @Override
  public StreamState emptyState() {
    return StreamState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), settings.keepSnapshots());
  }

  /** Snapshots leave the in-memory tail out ({@link StreamState#withoutRecent()}). */
  @Override
  public SnapshotAdapter<StreamState> snapshotAdapter() {
    return WITHOUT_TAIL;
  }

  private static final SnapshotAdapter<StreamState> WITHOUT_TAIL = new SnapshotAdapter<>() {
    @Override
    public Object toJournal(StreamState state) {
      return state.withoutRecent();
    }

    @Override
    public StreamState fromJournal(Object from) {
      return (StreamState) from;
    }
  };

  @Override
  public SignalHandler<StreamState> signalHandler() {
    // Only the signals the session handles: Pekko's own (internal) signals must stay unhandled.
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.class, this::onSignal)
        .onSignal(PreRestart.class, this::onSignal)
        .onSignal(PostStop.class, this::onSignal)
        .build();
  }

  private void onSignal(StreamState state, Signal signal) {
    if (signal instanceof RecoveryCompleted) {
      expiry.recovered(state);
      live.recovered(state);
      ready = true;
      restarting = false;
      lastDurable = state;
      if (!countedInMemory) {
        countedInMemory = true;
        metrics.sessionStarted();
      }
    } else if (signal instanceof PreRestart) {
      restarting = true;
      ctx.getLog().warn("Session {} restarts after a journal failure; {} appends refused",
          streamId, groupCommit.inFlight());
      metrics.journalWriteFailed();
      abandonUnpersisted();
    } else if (signal instanceof PostStop) {
      abandonUnpersisted();
      if (countedInMemory) {
        countedInMemory = false;
        metrics.sessionStopped();
      }
      reportReaders(0);
    }
  }

  @Override
  public EventHandler<StreamState, SessionEvent> eventHandler() {
    return this::applyEvent;
  }

  private StreamState applyEvent(StreamState state, SessionEvent event) {
    StreamState next = state.next();
    if (event instanceof ItemsAppended e) {
      return next.appended(e, settings.tailMaxBytes(), settings.tailMaxBatches());
    } else if (event instanceof CursorsMoved e) {
      return next.withCursors(e.cursors());
    } else if (event instanceof AccessRecorded e) {
      return next.withRecordedAccess(e.lastAccessMillis());
    } else if (event instanceof StreamCreated e) {
      return next.created(e);
    } else if (event instanceof StreamClosed e) {
      return next.closedNow(e);
    } else if (event instanceof ForkAcquired) {
      return next.withForkRefs(1);
    } else if (event instanceof ForkReleased) {
      return next.withForkRefs(-1);
    } else if (event instanceof StreamDeleted e) {
      return next.deleted(e);
    }
    throw new IllegalStateException("unknown session event " + event.getClass().getName());
  }

  @Override
  public CommandHandlerWithReply<Command, SessionEvent, StreamState> commandHandler() {
    return this::handle;
  }

  private ReplyEffect<SessionEvent, StreamState> handle(StreamState state, Command cmd) {
    // Commands only run between writes, so the state they see is durable.
    lastDurable = state;
    ReplyEffect<SessionEvent, StreamState> effect = dispatch(state, cmd);
    reportReaders(reads.waiting() + live.size());
    return effect;
  }

  /** The handler of each command, the most frequent first. */
  private ReplyEffect<SessionEvent, StreamState> dispatch(StreamState state, Command cmd) {
    if (cmd instanceof Session.Append c) {
      return onAppend(state, c);
    } else if (cmd instanceof Session.Flush) {
      return onFlush(state);
    } else if (cmd instanceof Session.Read c) {
      return onRead(state, c);
    } else if (cmd instanceof Session.WaiterExpired c) {
      reads.expire(state, c.waiterId());
      return Effect().noReply();
    } else if (cmd instanceof Session.Replay c) {
      return onReplay(state, c);
    } else if (cmd instanceof Session.Rewind c) {
      if (!liveable(state)) {
        c.replyTo().tell(new SessionPush.Ended(endReason(state)));
      } else {
        c.replyTo().tell(new SessionPush.Rewound(c.after(),
            c.after().isAfter(state.tail()) ? c.after() : state.ledger().messageRewind(c.after())));
      }
      return Effect().noReply();
    } else if (cmd instanceof Session.Subscribe c) {
      return onSubscribe(state, c);
    } else if (cmd instanceof Session.AckCursor c) {
      live.ackCursor(state, c.device(), c.offset());
      return Effect().noReply();
    } else if (cmd instanceof Session.FlushCursors) {
      Optional<CursorsMoved> moved = live.flushCursors(state);
      return moved.isPresent()
          ? Effect().persist((SessionEvent) moved.get()).thenNoReply() : Effect().noReply();
    } else if (cmd instanceof Session.Unsubscribe c) {
      live.detach(state, c.subscriber());
      return Effect().noReply();
    } else if (cmd instanceof Session.SubscriberTerminated c) {
      live.detach(state, c.subscriber());
      return Effect().noReply();
    } else if (cmd instanceof Session.Control c) {
      return onControl(state, c);
    } else if (cmd instanceof Session.Describe c) {
      return onDescribe(state, c);
    } else if (cmd instanceof Session.DescribeSession c) {
      return onDescribeSession(state, c);
    } else if (cmd instanceof Session.PresenceSweep) {
      live.presenceSweep(state);
      return Effect().noReply();
    } else if (cmd instanceof Session.LossCheck c) {
      live.lossCheck(state, c.run());
      return Effect().noReply();
    } else if (cmd instanceof Session.Create c) {
      return onCreate(state, c);
    } else if (cmd instanceof Session.Delete c) {
      return onDelete(state, c);
    } else if (cmd instanceof Session.AcquireFork c) {
      return onAcquireFork(state, c);
    } else if (cmd instanceof Session.ReleaseFork c) {
      return onReleaseFork(state, c);
    } else if (cmd instanceof Session.ExpiryTick) {
      return onExpiryTick(state);
    } else if (cmd instanceof Session.Stop) {
      return onStop(state);
    } else if (cmd instanceof Session.ForgetRecordedAccess) {
      return onForgetRecordedAccess(state);
    }
    return Effect().unhandled().thenNoReply();
  }

  // --- create ----------------------------------------------------------------------------------

  private ReplyEffect<SessionEvent, StreamState> onCreate(StreamState state, Session.Create cmd) {
    if (!groupCommit.isEmpty()) {
      return Effect().stash();
    }
    CreateSpec spec = cmd.spec();
    List<SessionEvent> events = new ArrayList<>();
    Lifecycle lifecycle = state.lifecycle();
    if (expiry.expired(state)) {
      events.add(StreamExpiry.expiryEvent(state));
      lifecycle = state.forkRefs() > 0 ? Lifecycle.SOFT_DELETED : Lifecycle.ABSENT;
    }
    if (lifecycle == Lifecycle.SOFT_DELETED) {
      return persistThenReply(state, events, cmd.replyTo(),
          s -> new CreateConflict("A deleted stream still read by forks holds this path"));
    }
    if (lifecycle == Lifecycle.ACTIVE) {
      expiry.touchAndArm(state);
      String conflict = configConflict(state, spec);
      return Effect().reply(cmd.replyTo(), conflict == null
          ? new AlreadyExists(state.info()) : new CreateConflict(conflict));
    }
    if (spec.fork() != null && spec.forkOffset() == null) {
      return persistThenReply(state, events, cmd.replyTo(), s -> new ForkSourceNeeded());
    }
    ForkOrigin origin = spec.fork() == null ? null : new ForkOrigin(spec.fork().sourceId(),
        spec.fork().requestedOffset(), spec.fork().subOffset(), spec.forkOffset());
    long base = origin == null ? 0 : origin.forkOffset().position();
    events.add(new StreamCreated(spec.contentType(), spec.ttlSeconds(), spec.expiresAt(),
        spec.expiresAtMillis(), origin, base));
    List<byte[]> initial = new ArrayList<>();
    if (spec.forkPrefix() != null) {
      initial.addAll(spec.forkPrefix());
    }
    initial.addAll(spec.items());
    for (List<byte[]> chunk : Chunking.chunk(initial, !MediaTypes.isJson(spec.contentType()),
        settings.chunkBytes())) {
      events.add(new ItemsAppended(chunk, Map.of(), null));
    }
    if (spec.closed()) {
      events.add(new StreamClosed(null, Map.of()));
    }
    StreamState before = state;
    return Effect().persist(events)
        .thenRun(after -> {
          afterPossibleDeletion(before, events);
          expiry.touchAndArm(after);
        })
        .thenReply(cmd.replyTo(), after -> new Created(after.info()));
  }

  private static String configConflict(StreamState state, CreateSpec spec) {
    if (spec.contentType() != null
        && !MediaTypes.sameEssence(spec.contentType(), state.contentType())) {
      return "The stream exists with content type " + state.contentType();
    }
    boolean inheritsExpiry = spec.fork() != null && spec.ttlSeconds() == null
        && spec.expiresAt() == null;
    if (!inheritsExpiry) {
      if (!Objects.equals(spec.ttlSeconds(), state.ttlSeconds())) {
        return "The stream exists with another Stream-TTL";
      }
      if (!Objects.equals(spec.expiresAtMillis(), state.expiresAtMillis())) {
        return "The stream exists with another Stream-Expires-At";
      }
    }
    if (spec.closed() != state.closed()) {
      return state.closed() ? "The stream exists and is closed" : "The stream exists and is open";
    }
    ForkOrigin fork = state.fork();
    if ((spec.fork() == null) != (fork == null)) {
      return "The stream exists with another fork configuration";
    }
    if (fork != null && (!fork.sourceId().equals(spec.fork().sourceId())
        || !Objects.equals(fork.requestedOffset(), spec.fork().requestedOffset())
        || fork.subOffset() != spec.fork().subOffset())) {
      return "The stream exists as a fork of another source or offset";
    }
    return null;
  }

  // --- append and group commit ----------------------------------------------------------------

  private ReplyEffect<SessionEvent, StreamState> onAppend(StreamState state, Session.Append cmd) {
    AppendSpec spec = cmd.spec();
    if (expiry.expired(state)) {
      AppendRejected gone = groupCommit.refused(AppendRejected.of(state.forkRefs() > 0
          ? AppendFailure.GONE : AppendFailure.NOT_FOUND)).get();
      if (groupCommit.isEmpty()) {
        return persistThenReply(state, List.of(StreamExpiry.expiryEvent(state)), cmd.replyTo(),
            s -> gone);
      }
      return Effect().reply(cmd.replyTo(), gone);
    }
    if (state.lifecycle() != Lifecycle.ACTIVE) {
      return Effect().reply(cmd.replyTo(), groupCommit.refused(AppendRejected.of(
          state.lifecycle() == Lifecycle.SOFT_DELETED
              ? AppendFailure.GONE : AppendFailure.NOT_FOUND)).get());
    }
    expiry.touchAndArm(state);
    Optional<AppendRejected> refused = groupCommit.accept(state, spec, cmd.replyTo());
    return refused.isPresent() ? Effect().reply(cmd.replyTo(), refused.get()) : Effect().noReply();
  }

  private ReplyEffect<SessionEvent, StreamState> onFlush(StreamState state) {
    if (groupCommit.isEmpty()) {
      return Effect().noReply();
    }
    GroupCommit.Taken taken = groupCommit.take(state);
    Chunking.Batch batch = taken.batch();
    if (batch.events().isEmpty()) {
      taken.acknowledge(state);
      return Effect().none().thenNoReply().thenUnstashAll();
    }
    long started = System.nanoTime();
    return Effect().persist(batch.events())
        .thenRun(after -> {
          groupCommit.written();
          lastDurable = after;
          metrics.journalWrite(batch.items(), batch.bytes(),
              Duration.ofNanos(System.nanoTime() - started));
          taken.acknowledge(after);
          reads.notifyWaiters(after);
          reportReaders(reads.waiting() + live.size());
          live.push(state, after);
        })
        .thenNoReply()
        .thenUnstashAll();
  }

  // --- read ------------------------------------------------------------------------------------

  private ReplyEffect<SessionEvent, StreamState> onRead(StreamState state, Session.Read cmd) {
    ReadSpec spec = cmd.spec();
    if (expiry.expired(state) && !(spec.internal() && state.forkRefs() > 0)) {
      ReadRejected gone = new ReadRejected(state.forkRefs() > 0
          ? ReadFailure.GONE : ReadFailure.NOT_FOUND);
      if (groupCommit.isEmpty()) {
        return persistThenReply(state, List.of(StreamExpiry.expiryEvent(state)), cmd.replyTo(),
            s -> gone);
      }
      return Effect().reply(cmd.replyTo(), gone);
    }
    if (state.lifecycle() == Lifecycle.ABSENT) {
      return Effect().reply(cmd.replyTo(), new ReadRejected(ReadFailure.NOT_FOUND));
    }
    if (state.lifecycle() == Lifecycle.SOFT_DELETED && !spec.internal()) {
      return Effect().reply(cmd.replyTo(), new ReadRejected(ReadFailure.GONE));
    }
    if (!spec.internal()) {
      expiry.touchAndArm(state);
    }
    Offset from = startOf(state, spec);
    if (state.fork() != null && from.isBefore(state.fork().forkOffset())) {
      return Effect().reply(cmd.replyTo(),
          new ReadFromSource(state.fork().sourceId(), state.fork().forkOffset(), state.info()));
    }
    if (from.isAfter(state.tail())) {
      return Effect().reply(cmd.replyTo(), new ReadRejected(ReadFailure.OFFSET_BEYOND_TAIL));
    }
    Offset upper = spec.upTo() != null && spec.upTo().isBefore(state.tail())
        ? spec.upTo() : state.tail();
    if (!from.isBefore(upper)) {
      if (spec.waitMillis() > 0 && !state.closed() && spec.upTo() == null) {
        reads.await(cmd.replyTo(), from, spec.maxBytes(), spec.waitMillis());
        return Effect().noReply();
      }
      return Effect().reply(cmd.replyTo(),
          StreamReads.result(state, List.of(), upper, spec.upTo(), false));
    }
    ReadResult now = reads.read(state, from, upper, spec.upTo(), spec.maxBytes(), cmd.replyTo());
    return now != null ? Effect().reply(cmd.replyTo(), now) : Effect().noReply();
  }

  private static Offset startOf(StreamState state, ReadSpec spec) {
    return spec.fromTail() ? state.tail() : spec.from() == null ? Offset.ZERO : spec.from();
  }

  // --- metadata, delete, forks, stop ----------------------------------------------------------

  private ReplyEffect<SessionEvent, StreamState> onDescribe(StreamState state,
      Session.Describe cmd) {
    if (expiry.expired(state)) {
      Described gone = new Described(state.forkRefs() > 0 ? Lookup.GONE : Lookup.NOT_FOUND, null);
      if (groupCommit.isEmpty()) {
        return persistThenReply(state, List.of(StreamExpiry.expiryEvent(state)), cmd.replyTo(),
            s -> gone);
      }
      return Effect().reply(cmd.replyTo(), gone);
    }
    return Effect().reply(cmd.replyTo(), switch (state.lifecycle()) {
      case ACTIVE -> new Described(Lookup.FOUND, state.info());
      case SOFT_DELETED -> new Described(Lookup.GONE, null);
      case ABSENT -> new Described(Lookup.NOT_FOUND, null);
    });
  }

  private ReplyEffect<SessionEvent, StreamState> onDelete(StreamState state, Session.Delete cmd) {
    if (!groupCommit.isEmpty()) {
      return Effect().stash();
    }
    if (expiry.expired(state)) {
      Deleted gone = new Deleted(state.forkRefs() > 0 ? Lookup.GONE : Lookup.NOT_FOUND);
      return persistThenReply(state, List.of(StreamExpiry.expiryEvent(state)), cmd.replyTo(),
          s -> gone);
    }
    if (state.lifecycle() == Lifecycle.ABSENT) {
      return Effect().reply(cmd.replyTo(), new Deleted(Lookup.NOT_FOUND));
    }
    if (state.lifecycle() == Lifecycle.SOFT_DELETED) {
      return Effect().reply(cmd.replyTo(), new Deleted(Lookup.GONE));
    }
    return persistThenReply(state, List.of(new StreamDeleted(state.forkRefs() > 0, "deleted")),
        cmd.replyTo(), s -> new Deleted(Lookup.FOUND));
  }

  private ReplyEffect<SessionEvent, StreamState> onAcquireFork(StreamState state,
      Session.AcquireFork cmd) {
    if (!groupCommit.isEmpty()) {
      return Effect().stash();
    }
    if (expiry.expired(state)) {
      ForkRefused refused = new ForkRefused(state.forkRefs() > 0
          ? ForkFailure.SOFT_DELETED : ForkFailure.NOT_FOUND);
      return persistThenReply(state, List.of(StreamExpiry.expiryEvent(state)), cmd.replyTo(),
          s -> refused);
    }
    if (state.lifecycle() == Lifecycle.ABSENT) {
      return Effect().reply(cmd.replyTo(), new ForkRefused(ForkFailure.NOT_FOUND));
    }
    if (state.lifecycle() == Lifecycle.SOFT_DELETED) {
      return Effect().reply(cmd.replyTo(), new ForkRefused(ForkFailure.SOFT_DELETED));
    }
    if (cmd.contentType() != null
        && !MediaTypes.sameEssence(cmd.contentType(), state.contentType())) {
      return Effect().reply(cmd.replyTo(), new ForkRefused(ForkFailure.CONTENT_TYPE_MISMATCH));
    }
    Offset at = cmd.offset() == null ? state.tail() : cmd.offset();
    if (at.isAfter(state.tail())) {
      return Effect().reply(cmd.replyTo(), new ForkRefused(ForkFailure.OFFSET_BEYOND_TAIL));
    }
    return Effect().persist((SessionEvent) new ForkAcquired(cmd.forkId()))
        .thenReply(cmd.replyTo(), after -> new ForkGranted(at, after.contentType(),
            after.ttlSeconds(), after.expiresAt(), after.expiresAtMillis()));
  }

  private ReplyEffect<SessionEvent, StreamState> onReleaseFork(StreamState state,
      Session.ReleaseFork cmd) {
    if (!groupCommit.isEmpty()) {
      return Effect().stash();
    }
    if (state.lifecycle() == Lifecycle.ABSENT || state.forkRefs() == 0) {
      return Effect().noReply();
    }
    List<SessionEvent> events = new ArrayList<>();
    events.add(new ForkReleased(cmd.forkId()));
    if (state.lifecycle() == Lifecycle.SOFT_DELETED && state.forkRefs() <= 1) {
      events.add(new StreamDeleted(false, "last fork released"));
    }
    StreamState before = state;
    return Effect().persist(events)
        .thenRun(after -> afterPossibleDeletion(before, events))
        .thenNoReply();
  }

  private ReplyEffect<SessionEvent, StreamState> onStop(StreamState state) {
    if (!groupCommit.isEmpty()) {
      return Effect().stash();
    }
    reads.releaseWaiters(state);
    if (state.lifecycle() != Lifecycle.ACTIVE) {
      return Effect().stop().thenNoReply();
    }
    long deadline = expiry.deadline(state);
    if (deadline != Long.MAX_VALUE) {
      long delay = Math.max(0, deadline - System.currentTimeMillis()) + 50;
      peers.checkExpiryAfter(streamId,
          Duration.ofMillis(Math.min(delay, LONGEST_WAKE.toMillis())));
    }
    if (state.ttlSeconds() == null) {
      return Effect().stop().thenNoReply();
    }
    return Effect().persist((SessionEvent) new AccessRecorded(expiry.lastAccessMillis()))
        .thenStop().thenNoReply();
  }

  // --- expiry ----------------------------------------------------------------------------------

  private ReplyEffect<SessionEvent, StreamState> onExpiryTick(StreamState state) {
    if (expiry.expired(state) && groupCommit.isEmpty()) {
      List<SessionEvent> events = List.of(StreamExpiry.expiryEvent(state));
      StreamState before = state;
      return Effect().persist(events)
          .thenRun(after -> afterPossibleDeletion(before, events))
          .thenNoReply();
    }
    expiry.arm(state);
    return Effect().noReply();
  }

  private ReplyEffect<SessionEvent, StreamState> onForgetRecordedAccess(StreamState state) {
    expiry.forgotten();
    if (state.recordedAccess() == null) {
      return Effect().noReply();
    }
    return Effect().persist((SessionEvent) new AccessRecorded(null)).thenNoReply();
  }

  // --- the JSON-session layer: what the entity checks before it hands over to LiveSession ------

  /** Whether the JSON-session layer may serve this command; otherwise it ended. */
  private boolean liveable(StreamState state) {
    return state.lifecycle() == Lifecycle.ACTIVE && !expiry.expired(state);
  }

  private static String endReason(StreamState state) {
    return state.lifecycle() == Lifecycle.SOFT_DELETED ? "gone" : "not-found";
  }

  private ReplyEffect<SessionEvent, StreamState> onSubscribe(StreamState state,
      Session.Subscribe cmd) {
    if (!liveable(state)) {
      cmd.subscriber().tell(new SessionPush.Ended(endReason(state)));
      return Effect().noReply();
    }
    expiry.touchAndArm(state);
    live.subscribe(state, cmd);
    return Effect().noReply();
  }

  private ReplyEffect<SessionEvent, StreamState> onControl(StreamState state,
      Session.Control cmd) {
    if (!liveable(state)) {
      return Effect().reply(cmd.replyTo(), new ControlRejected("not-found", "no such session"));
    }
    if (!MediaTypes.isJson(state.contentType())) {
      return Effect().reply(cmd.replyTo(),
          new ControlRejected("invalid", "control needs a JSON session"));
    }
    if (groupCommit.closed(state)) {
      return Effect().reply(cmd.replyTo(), new ControlRejected("closed", "the session is closed"));
    }
    expiry.touch(state);
    Optional<ControlReply> now = live.control(state, cmd.spec(), cmd.replyTo());
    return now.isPresent() ? Effect().reply(cmd.replyTo(), now.get()) : Effect().noReply();
  }

  private ReplyEffect<SessionEvent, StreamState> onReplay(StreamState state, Session.Replay cmd) {
    if (!liveable(state)) {
      cmd.replyTo().tell(new SessionPush.Ended(endReason(state)));
      return Effect().noReply();
    }
    Offset from = cmd.from();
    if (from.isAfter(state.tail())) {
      cmd.replyTo().tell(new SessionPush.Ended("offset-beyond-tail"));
      return Effect().noReply();
    }
    if (state.fork() != null && from.isBefore(state.fork().forkOffset())) {
      cmd.replyTo().tell(new SessionPush.Ended("fork-history-unsupported"));
      return Effect().noReply();
    }
    reads.replay(state, from, cmd.maxBytes(), cmd.replyTo());
    return Effect().noReply();
  }

  private ReplyEffect<SessionEvent, StreamState> onDescribeSession(StreamState state,
      Session.DescribeSession cmd) {
    if (!liveable(state)) {
      return Effect().reply(cmd.replyTo(), new SessionSummary(
          state.lifecycle() == Lifecycle.SOFT_DELETED ? Lookup.GONE : Lookup.NOT_FOUND,
          null, null));
    }
    return Effect().reply(cmd.replyTo(), new SessionSummary(Lookup.FOUND, state.info(),
        live.ledgerWithPendingCursors(state)));
  }

  // --- operations: metrics, journal failures, reads during an outage ---------------------------

  /** The behavior failed (journal failure) or stopped: nothing unpersisted is kept. */
  private void abandonUnpersisted() {
    ready = false;
    groupCommit.abandon();
  }

  /** Moves the node's live-reader gauge by this entity's change in long-poll and live readers. */
  private void reportReaders(int now) {
    for (; reportedReaders < now; reportedReaders++) {
      metrics.subscriberAdded();
    }
    for (; reportedReaders > now; reportedReaders--) {
      metrics.subscriberRemoved();
    }
  }

  /**
   * Answers for the event-sourced behavior while it is not running (backing off or recovering
   * after a journal failure); true when answered. An append is refused at once: stashed, it would
   * wait out its asker's timeout (a 503 all the same) and could then still be written, which a
   * client that retried without producer headers would see twice. A plain read is answered from
   * the last durable state; live waits at the tail and ranges older than the in-memory tail are
   * left to the behavior.
   */
  boolean answeredWhileDown(Command cmd) {
    if (restarting && cmd instanceof Session.Append append) {
      append.replyTo().tell(AppendRejected.of(AppendFailure.JOURNAL_UNAVAILABLE));
      return true;
    }
    if (ready || lastDurable == null || !(cmd instanceof Session.Read read)) {
      return false;
    }
    StreamState state = lastDurable;
    ReadSpec spec = read.spec();
    if (spec.internal() || spec.upTo() != null
        || state.lifecycle() != Lifecycle.ACTIVE || expiry.expired(state)) {
      return false;
    }
    Offset from = startOf(state, spec);
    if ((state.fork() != null && from.isBefore(state.fork().forkOffset()))
        || from.isAfter(state.tail())) {
      return false;
    }
    if (!from.isBefore(state.tail())) {
      if (spec.waitMillis() > 0) {
        return false;
      }
      read.replyTo().tell(StreamReads.result(state, List.of(), state.tail(), null, false));
      return true;
    }
    if (!state.recentCovers(from)) {
      return false;
    }
    read.replyTo().tell(StreamReads.readRecent(state, from, state.tail(), null, spec.maxBytes()));
    return true;
  }

  // --- helpers ---------------------------------------------------------------------------------

  private <R> ReplyEffect<SessionEvent, StreamState> persistThenReply(StreamState state,
      List<SessionEvent> events, ActorRef<R> replyTo, Function<StreamState, R> reply) {
    if (events.isEmpty()) {
      return Effect().reply(replyTo, reply.apply(state));
    }
    StreamState before = state;
    return Effect().persist(events)
        .thenRun(after -> afterPossibleDeletion(before, events))
        .thenReply(replyTo, reply::apply);
  }

  /** Side effects of a persisted deletion: answer waiters, purge data, release the source. */
  private void afterPossibleDeletion(StreamState before, List<SessionEvent> events) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i) instanceof StreamDeleted deleted) {
        expiry.cancel();
        reads.failWaiters(deleted.soft() ? ReadFailure.GONE : ReadFailure.NOT_FOUND);
        reportReaders(reads.waiting() + live.size());
        live.endAll(deleted.soft() ? "gone" : "not-found");
        if (!deleted.soft()) {
          long deletedAt = before.seqNr() + i + 1;
          purger.purge(persistenceId().id(), deletedAt - 1);
          if (before.fork() != null) {
            peers.releaseFork(before.fork().sourceId(), streamId);
          }
        }
        return;
      }
    }
  }
}
