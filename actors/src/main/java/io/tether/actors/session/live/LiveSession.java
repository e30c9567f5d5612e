package io.tether.actors.session.live;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.Session.ControlAccepted;
import io.tether.actors.session.Session.ControlRejected;
import io.tether.actors.session.Session.ControlReply;
import io.tether.actors.session.Session.ControlSpec;
import io.tether.actors.session.SessionEnvelope;
import io.tether.actors.session.SessionEvent;
import io.tether.actors.session.SessionLedger;
import io.tether.actors.session.SessionPush;
import io.tether.actors.session.StreamState;
import io.tether.actors.session.TailBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The live layer of a JSON session, on top of the stream entity: live subscribers and the
 * pushes they get after each write, presence (from subscriptions and their heartbeats), controls
 * (cancel with its fence, steer, interrupt), agent loss, and coalesced read cursors. What it
 * knows durably is in the {@link SessionLedger} folded from the stream's own items; what it
 * writes (presence, controls, {@code run.end}) goes through the entity's group commit via
 * {@link Writer}, so it is ordered and fenced with every other append.
 *
 * <p>One instance per entity, used only from the entity's thread. The entity checks that the
 * stream is active, JSON and open before it calls a handler here.
 */
public final class LiveSession {

  /** What the live layer needs of the stream entity's group commit. */
  public interface Writer {
    /** The ledger as it will be once the buffered appends are persisted. */
    SessionLedger projected(StreamState state);

    /** Enqueues events the session writes itself into the next group commit. */
    void appendServer(StreamState state, List<byte[]> items);

    /**
     * Enqueues a control event, acknowledged to {@code replyTo} with its offset once durable,
     * and the events it implies after it in the same write.
     */
    void appendControl(StreamState state, byte[] control, List<byte[]> implied,
        ActorRef<ControlReply> replyTo);
  }

  private static final String SWEEP_TIMER = "presence-sweep";
  private static final String CURSOR_TIMER = "cursors";

  private final ActorContext<Session.Command> ctx;
  private final TimerScheduler<Session.Command> timers;
  private final SessionLiveSettings settings;
  private final Writer writer;
  private final SubscriberRegistry subscribers = new SubscriberRegistry();
  /** Allocated on the first ack (an idle entity has none). */
  private Map<String, Offset> pendingCursors = Map.of();
  private long recoveredAtMillis = System.currentTimeMillis();

  public LiveSession(ActorContext<Session.Command> ctx, TimerScheduler<Session.Command> timers,
      SessionLiveSettings settings, Writer writer) {
    this.ctx = ctx;
    this.timers = timers;
    this.settings = settings;
    this.writer = writer;
  }

  /** After recovery: sweep presence, and re-arm the loss checks of runs whose producer left. */
  public void recovered(StreamState state) {
    recoveredAtMillis = System.currentTimeMillis();
    if (!state.ledger().present().isEmpty()) {
      armSweep();
    }
    for (String run : state.ledger().orphaned()) {
      timers.startSingleTimer(lossTimer(run), new Session.LossCheck(run), settings.lossGrace());
    }
  }

  /** How many live subscribers are registered. */
  public int size() {
    return subscribers.size();
  }

  // --- subscribers and pushes -----------------------------------------------------------------

  /** Registers (or refreshes, as a heartbeat) a subscriber; its device joins if it was away. */
  public void subscribe(StreamState state, Session.Subscribe cmd) {
    if (subscribers.attach(cmd.subscriber(), cmd.device(), cmd.kind(),
        System.currentTimeMillis())) {
      ctx.watchWith(cmd.subscriber(), new Session.SubscriberTerminated(cmd.subscriber()));
    }
    cmd.subscriber().tell(new SessionPush.Subscribed(ctx.getSelf(), state.tail()));
    armSweep();
    if (!writer.projected(state).present().containsKey(cmd.device())) {
      ObjectNode data = SessionEnvelope.JSON.createObjectNode();
      data.put("device", cmd.device());
      data.put("kind", cmd.kind());
      writer.appendServer(state, List.of(SessionEnvelope.mint("presence.joined", null,
          SessionEnvelope.SERVER_PRODUCER, data)));
    }
  }

  /** A subscriber unsubscribed or stopped; its device leaves if it has no connection left. */
  public void detach(StreamState state, ActorRef<SessionPush> ref) {
    ctx.unwatch(ref);
    String device = subscribers.detach(ref);
    if (device != null) {
      leave(state, device);
    }
  }

  /** Pushes the items persisted between {@code before} and {@code after} to every subscriber. */
  public void push(StreamState before, StreamState after) {
    if (subscribers.isEmpty()) {
      return;
    }
    long firstNew = before.base() + before.seqNr() + 1;
    Offset prev = null;
    List<Offset> offsets = new ArrayList<>();
    List<byte[]> items = new ArrayList<>();
    for (TailBatch batch : after.recent()) {
      if (batch.position() < firstNew) {
        continue;
      }
      if (prev == null) {
        prev = batch.position() == firstNew ? before.tail() : new Offset(batch.position(), 0);
      }
      for (int i = 0; i < batch.items().size(); i++) {
        offsets.add(new Offset(batch.position(), i + 1));
        items.add(batch.items().get(i));
      }
    }
    SessionPush.Items push = new SessionPush.Items(prev == null ? before.tail() : prev,
        List.copyOf(offsets), List.copyOf(items), after.closed());
    for (ActorRef<SessionPush> ref : subscribers.refs()) {
      ref.tell(push);
    }
  }

  /** Ends every subscription (the stream was deleted or expired). */
  public void endAll(String reason) {
    for (ActorRef<SessionPush> ref : subscribers.refs()) {
      ctx.unwatch(ref);
      ref.tell(new SessionPush.Ended(reason));
    }
    subscribers.clear();
  }

  // --- presence and agent loss ----------------------------------------------------------------

  /** Detaches subscribers that missed their heartbeats, and devices that never came back. */
  public void presenceSweep(StreamState state) {
    long now = System.currentTimeMillis();
    long timeout = settings.presenceTimeout().toMillis();
    for (ActorRef<SessionPush> silent : subscribers.silentSince(now - timeout)) {
      ctx.unwatch(silent);
      String device = subscribers.detach(silent);
      if (device != null) {
        leave(state, device);
      }
    }
    if (now - recoveredAtMillis >= timeout) {
      for (String device : List.copyOf(writer.projected(state).present().keySet())) {
        if (!subscribers.attached(device)) {
          leave(state, device);
        }
      }
    }
    if (!subscribers.isEmpty() || !writer.projected(state).present().isEmpty()) {
      armSweep();
    }
  }

  /** Ends {@code run} as lost if its producer is still away after the grace period. */
  public void lossCheck(StreamState state, String runId) {
    SessionLedger ledger = writer.projected(state);
    SessionLedger.RunEntry run = ledger.runs().get(runId);
    if (ledger.running(runId) && !subscribers.attached(run.producer())) {
      ObjectNode data = SessionEnvelope.JSON.createObjectNode();
      data.put("status", "lost");
      data.put("reason", "producer " + run.producer() + " did not come back within "
          + settings.lossGrace().toSeconds() + "s");
      List<byte[]> ends = closeMessages(ledger, runId, "lost");
      ends.add(SessionEnvelope.mint("run.end", runId, SessionEnvelope.SERVER_PRODUCER, data));
      writer.appendServer(state, ends);
    }
  }

  /** Records that {@code device} left; its running runs end as lost unless it returns. */
  private void leave(StreamState state, String device) {
    SessionLedger ledger = writer.projected(state);
    if (!ledger.present().containsKey(device)) {
      return;
    }
    ObjectNode data = SessionEnvelope.JSON.createObjectNode();
    data.put("device", device);
    data.put("kind", ledger.present().get(device));
    writer.appendServer(state, List.of(SessionEnvelope.mint("presence.left", null,
        SessionEnvelope.SERVER_PRODUCER, data)));
    for (String run : ledger.runningOf(device)) {
      timers.startSingleTimer(lossTimer(run), new Session.LossCheck(run), settings.lossGrace());
    }
  }

  private void armSweep() {
    if (!timers.isTimerActive(SWEEP_TIMER)) {
      timers.startSingleTimer(SWEEP_TIMER, new Session.PresenceSweep(),
          settings.sweepInterval());
    }
  }

  private static String lossTimer(String run) {
    return "loss-" + run;
  }

  // --- controls -------------------------------------------------------------------------------

  /**
   * Cancels, steers or interrupts a run. Answers at once when there is nothing to write (a
   * refusal, or the fence of an earlier cancel); otherwise enqueues the control, which is
   * answered with its offset once durable, and returns empty.
   */
  public Optional<ControlReply> control(StreamState state, ControlSpec spec,
      ActorRef<ControlReply> replyTo) {
    SessionLedger ledger = writer.projected(state);
    ObjectNode data = SessionEnvelope.JSON.createObjectNode();
    if (spec.id() != null) {
      data.put("id", spec.id());
    }
    if (spec.device() != null) {
      data.put("device", spec.device());
    }
    if (spec.kind().equals("cancel")) {
      return cancel(state, ledger, spec, data, replyTo);
    }
    if (!spec.kind().equals("steer") && !spec.kind().equals("interrupt")) {
      return Optional.of(new ControlRejected("invalid", "unknown control " + spec.kind()));
    }
    Offset earlier = spec.id() == null ? null : ledger.controls().get(spec.id());
    if (earlier != null && earlier.index() > 0) {
      return Optional.of(new ControlAccepted(earlier)); // the same request, sent again
    }
    if (earlier != null) {
      // The same request is in the write being made: ask again once it is durable, when its
      // offset is known (the entity stashes commands while a write is in flight).
      ctx.getSelf().tell(new Session.Control(spec, replyTo));
      return Optional.empty();
    }
    if (spec.run() == null || (spec.kind().equals("steer") && spec.text() == null)) {
      return Optional.of(new ControlRejected("invalid",
          spec.kind() + " needs a run" + (spec.kind().equals("steer") ? " and a text" : "")));
    }
    if (!ledger.running(spec.run())) {
      return Optional.of(
          new ControlRejected("not-running", "run " + spec.run() + " is not running"));
    }
    if (spec.text() != null) {
      data.put("text", spec.text());
    }
    writer.appendControl(state, SessionEnvelope.mint("control." + spec.kind(), spec.run(),
        spec.by(), data), List.of(), replyTo);
    return Optional.empty();
  }

  private Optional<ControlReply> cancel(StreamState state, SessionLedger ledger, ControlSpec spec,
      ObjectNode data, ActorRef<ControlReply> replyTo) {
    if (spec.run() == null && spec.message() == null) {
      return Optional.of(new ControlRejected("invalid", "cancel needs a run or a message"));
    }
    String run = spec.run() != null ? spec.run() : ledger.runForInput(spec.message());
    SessionLedger.RunEntry entry = run == null ? null : ledger.runs().get(run);
    if (spec.run() != null && entry == null) {
      return Optional.of(new ControlRejected("unknown-run", "run " + spec.run()
          + " never started in this session (to cancel an answer before it starts, cancel its"
          + " input message)"));
    }
    if (entry != null && entry.fence() != null && entry.fence().index() > 0) {
      return Optional.of(new ControlAccepted(entry.fence()));
    }
    if (entry != null && entry.status() != null) {
      return Optional.of(new ControlRejected("run-ended",
          "run " + run + " already ended (" + entry.status() + ")"));
    }
    Offset inputFence = spec.message() == null ? null
        : ledger.cancelledInputs().get(spec.message());
    if (run == null && inputFence != null && inputFence.index() > 0) {
      return Optional.of(new ControlAccepted(inputFence));
    }
    if (spec.message() != null) {
      data.put("message", spec.message());
    }
    List<byte[]> ends = new ArrayList<>();
    if (ledger.running(run)) {
      ends.addAll(closeMessages(ledger, run, "cancelled"));
      ObjectNode end = SessionEnvelope.JSON.createObjectNode();
      end.put("status", "cancelled");
      end.put("by", spec.by());
      ends.add(SessionEnvelope.mint("run.end", run, SessionEnvelope.SERVER_PRODUCER, end));
    }
    writer.appendControl(state, SessionEnvelope.mint("control.cancel", run, spec.by(), data),
        ends, replyTo);
    return Optional.empty();
  }

  /**
   * The {@code message.end} events that close every open message of {@code run} at its fence
   * (status {@code cancelled}; {@code reason} says whether by a cancel or a loss), so no client
   * keeps a message open after its run was stopped. Messages written without a {@code data.id}
   * cannot be named and stay as they are.
   */
  private static List<byte[]> closeMessages(SessionLedger ledger, String run, String reason) {
    List<byte[]> ends = new ArrayList<>();
    for (SessionLedger.MessageSpan message : ledger.openMessagesOf(run)) {
      if (message.id() == null) {
        continue;
      }
      ObjectNode data = SessionEnvelope.JSON.createObjectNode();
      data.put("id", message.id());
      data.put("status", "cancelled");
      data.put("reason", reason);
      ends.add(SessionEnvelope.mint("message.end", run, SessionEnvelope.SERVER_PRODUCER, data));
    }
    return ends;
  }

  // --- read cursors ---------------------------------------------------------------------------

  /** Moves {@code device}'s cursor (never backwards); persisted coalesced. */
  public void ackCursor(StreamState state, String device, Offset offset) {
    if (!state.active() || offset.isAfter(state.tail())) {
      return;
    }
    if (pendingCursors.isEmpty()) {
      pendingCursors = new HashMap<>(4);
    }
    pendingCursors.merge(device, offset, (a, b) -> a.isAfter(b) ? a : b);
    if (!timers.isTimerActive(CURSOR_TIMER)) {
      timers.startSingleTimer(CURSOR_TIMER, new Session.FlushCursors(),
          settings.cursorFlushInterval());
    }
  }

  /** The cursors moved since the last flush, as the event to persist; empty when none. */
  public Optional<SessionEvent.CursorsMoved> flushCursors(StreamState state) {
    if (pendingCursors.isEmpty() || !state.active()) {
      pendingCursors = Map.of();
      return Optional.empty();
    }
    Map<String, Offset> moved = Map.copyOf(pendingCursors);
    pendingCursors = Map.of();
    return Optional.of(new SessionEvent.CursorsMoved(moved));
  }

  /** The ledger with the cursors not yet persisted. */
  public SessionLedger ledgerWithPendingCursors(StreamState state) {
    return state.ledger().withCursors(pendingCursors);
  }
}
