package io.tether.client;

import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One session over the session WebSocket, kept connected until {@link #close()}.
 *
 * <p><b>Delivery.</b> Events reach the {@link SessionListener}s strictly in offset order, each
 * once. The session remembers the offset of the last event it delivered; when the socket drops
 * (a network failure, the node dying, the server closing it) it reconnects by itself after a
 * {@link Backoff} with jitter and resumes after that offset, so across any number of reconnects
 * nothing is missing and nothing is repeated. {@link #state()} says where the connection is.
 * With {@link Granularity#MESSAGE} the history is replayed rolled up into whole messages (until
 * the first catch-up; a drop during it replays it again and skips what was delivered), and live
 * events, like every reconnect after the first catch-up, are raw deltas.
 *
 * <p><b>Requests.</b> {@link #publish}, {@link #cancelRun}, {@link #cancelMessage},
 * {@link #steer}, {@link #interrupt} and {@link #markRead} return futures of the server's
 * answer; a refusal fails them with a {@link TetherException} carrying the server's code.
 * Requests made while disconnected are sent once the session has resumed. A request in flight
 * when the socket drops is sent again, in order, and the server applies it once: a publish
 * carries this session's idempotent producer sequence (a resend already written is answered
 * with the stream's tail as its offset), a steer or interrupt is known by its id, a cancel
 * answers its run's one fence, a cursor only moves forward. Futures complete on the delivery
 * sequence, after the events that arrived before their answer.
 *
 * <p>Thread-safe. Closing fails what is still pending with {@code closed}, closes the socket
 * and cancels every timer.
 *
 * <p>(Longer than the usual 600 lines: the public API and the connection's state machine share
 * one lock and one state. The socket ({@link SessionSocket}), the requests waiting for answers
 * ({@link PendingRequests}), the resume point ({@link ResumePoint}) and the presence view
 * ({@link PresenceView}) are classes of their own.)
 */
public final class TetherSession implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TetherSession.class.getName());

  /** What kind of device a connection speaks for (presence, agent loss). */
  public enum Kind {
    /** A person's device: a browser tab, a phone, a CLI. */
    CLIENT,
    /** An agent: the session records its runs as lost when it leaves and does not come back. */
    AGENT;

    String wire() {
      return this == CLIENT ? "client" : "agent";
    }
  }

  /** How the history is replayed. */
  public enum Granularity {
    /** Every event as written, token deltas included. */
    DELTA,
    /** Finished messages rolled up into one {@link Event.Message} each; the rest as written. */
    MESSAGE
  }

  /** Configures a session; {@link #open()} starts it. */
  public static final class Builder {
    private final TetherClient client;
    private final String sessionId;
    private String device = "java-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    private Kind kind = Kind.CLIENT;
    private Granularity granularity = Granularity.DELTA;
    private String after = Offsets.BEGINNING;
    private Backoff backoff = Backoff.DEFAULT;
    private Duration pingInterval = Duration.ofSeconds(20);
    private int maxFrameBytes = 1024 * 1024;
    private int maxQueuedFrames = 1024;
    private final List<SessionListener> listeners = new ArrayList<>();

    Builder(TetherClient client, String sessionId) {
      this.client = client;
      this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
    }

    /** The device this connection speaks for (presence and cursors are per device). */
    public Builder device(String device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** {@link Kind#CLIENT} (the default) or {@link Kind#AGENT}. */
    public Builder kind(Kind kind) {
      this.kind = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /** {@link Granularity#DELTA} (the default) or {@link Granularity#MESSAGE}. */
    public Builder granularity(Granularity granularity) {
      this.granularity = Objects.requireNonNull(granularity, "granularity");
      return this;
    }

    /**
     * Where delivery starts: {@link Offsets#BEGINNING} (the default), {@link Offsets#NOW} (the
     * tail when the session opens) or an offset this or another session delivered.
     */
    public Builder after(String after) {
      this.after = Objects.requireNonNull(after, "after");
      return this;
    }

    /** The wait between reconnection attempts; {@link Backoff#DEFAULT}. */
    public Builder backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /**
     * How often a {@code ping} goes out (20 s; the server closes a socket silent for 90 s). A
     * socket that delivered no frame for 2.5 intervals is taken for dead and replaced.
     */
    public Builder pingInterval(Duration interval) {
      this.pingInterval = interval;
      return this;
    }

    /** Frames larger than this are refused before sending ({@code too-large}); 1 MiB. */
    public Builder maxFrameBytes(int bytes) {
      this.maxFrameBytes = bytes;
      return this;
    }

    /** Frames waiting for a slow listener before the session stops reading the socket; 1024. */
    public Builder maxQueuedFrames(int frames) {
      this.maxQueuedFrames = Math.max(2, frames);
      return this;
    }

    /** Adds a listener (more can be added to the open session). */
    public Builder listener(SessionListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Starts connecting in the background and returns the session at once. */
    public TetherSession open() {
      TetherSession session = new TetherSession(this);
      client.track(session);
      session.connect();
      return session;
    }
  }

  private final TetherClient client;
  private final String sessionId;
  private final String device;
  private final Kind kind;
  private final Granularity granularity;
  private final String initialAfter;
  private final Backoff backoff;
  private final Duration pingInterval;
  private final int maxFrameBytes;
  private final int maxQueuedFrames;
  private final List<SessionListener> listeners;
  private final SerialExecutor delivery;
  private final PresenceView presence = new PresenceView();
  private final CompletableFuture<String> firstUpToDate = new CompletableFuture<>();
  /**
   * This session's idempotent producer: every publish carries it with the next sequence, so a
   * publish in flight when the connection drops is sent again and written once.
   */
  private final String producerId = "jvm-" + java.util.UUID.randomUUID();
  private long producerSeq;
  private final String idPrefix =
      Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36) + "-";

  private final Object lock = new Object();
  // Guarded by lock.
  private ConnectionState state = ConnectionState.CONNECTING;
  private SessionSocket current;
  private final ResumePoint resume;
  private int attempt;
  private long nextId;
  private final PendingRequests pending = new PendingRequests();
  private ScheduledFuture<?> retryTimer;
  private TetherException failure;

  private TetherSession(Builder b) {
    this.client = b.client;
    this.sessionId = b.sessionId;
    this.device = b.device;
    this.kind = b.kind;
    this.granularity = b.granularity;
    this.initialAfter = b.after;
    this.backoff = b.backoff;
    this.pingInterval = b.pingInterval;
    this.maxFrameBytes = b.maxFrameBytes;
    this.maxQueuedFrames = b.maxQueuedFrames;
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
    this.delivery = new SerialExecutor(client.executor());
    this.resume = new ResumePoint(initialAfter, granularity == Granularity.MESSAGE);
  }

  // --- public API ------------------------------------------------------------------------------

  /** The session's id. */
  public String id() {
    return sessionId;
  }

  /** The device this connection speaks for. */
  public String device() {
    return device;
  }

  /** Where the connection is now. */
  public ConnectionState state() {
    synchronized (lock) {
      return state;
    }
  }

  /** The offset of the last event delivered (or caught up to), or null before the first. */
  public String lastOffset() {
    synchronized (lock) {
      return resume.last();
    }
  }

  /** Why the session closed by itself (a refusal no retry can fix), if it did. */
  public Optional<TetherException> failure() {
    synchronized (lock) {
      return Optional.ofNullable(failure);
    }
  }

  /**
   * Completes with the offset of the first {@code up-to-date}: the history asked for has been
   * delivered. Fails if the session closes first.
   */
  public CompletableFuture<String> upToDate() {
    return firstUpToDate.copy();
  }

  /** The devices present now (device to kind); see {@link SessionListener#onPresence}. */
  public Map<String, String> presence() {
    return presence.current();
  }

  /** Adds a listener; it gets what is delivered from now on. */
  public void addListener(SessionListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Removes a listener. */
  public void removeListener(SessionListener listener) {
    listeners.remove(listener);
  }

  /**
   * Appends events atomically. Completes with the offset of the last one once durable; fails
   * with the server's code ({@code invalid-event}, {@code fenced}, {@code reserved-type},
   * {@code forbidden}, ...).
   */
  public CompletableFuture<Frames.Published> publish(Event... events) {
    return publish(Arrays.asList(events));
  }

  /** {@link #publish(Event...)} for a list. */
  public CompletableFuture<Frames.Published> publish(List<? extends Event> events) {
    if (events.isEmpty()) {
      throw new IllegalArgumentException("publish needs at least one event");
    }
    String id = nextId("p");
    long seq;
    synchronized (lock) {
      seq = producerSeq++;
    }
    return request(id, PendingRequests.Kind.PUBLISH, null,
        new Frames.Publish(id, List.copyOf(events), producerId, seq))
        .thenApply(f -> (Frames.Published) f);
  }

  /** Cancels a run: completes with its fence, the offset after which its output is refused. */
  public CompletableFuture<Frames.Cancelled> cancelRun(String run) {
    String id = nextId("c");
    return request(id, PendingRequests.Kind.CANCEL, null,
        new Frames.Cancel(id, Objects.requireNonNull(run, "run"), null))
        .thenApply(f -> (Frames.Cancelled) f);
  }

  /**
   * Cancels the run answering input message {@code messageId}, even one that has not started
   * (its {@code run.start} will be refused): completes with the fence.
   */
  public CompletableFuture<Frames.Cancelled> cancelMessage(String messageId) {
    String id = nextId("c");
    return request(id, PendingRequests.Kind.CANCEL, null,
        new Frames.Cancel(id, null, Objects.requireNonNull(messageId, "messageId")))
        .thenApply(f -> (Frames.Cancelled) f);
  }

  /**
   * Steers a running run: completes with the offset of its {@code control.steer} (whose
   * {@code data.id}, the answer's {@code id()}, the agent's {@code control.ack} names).
   * {@code not-running} when it is not running.
   */
  public CompletableFuture<Frames.ControlAccepted> steer(String run, String text) {
    String id = nextId("s");
    return request(id, PendingRequests.Kind.STEER, null, new Frames.Steer(id,
        Objects.requireNonNull(run, "run"), Objects.requireNonNull(text, "text")))
        .thenApply(f -> (Frames.ControlAccepted) f);
  }

  /** Interrupts a running run's current step; completes like {@link #steer}. */
  public CompletableFuture<Frames.ControlAccepted> interrupt(String run) {
    String id = nextId("i");
    return request(id, PendingRequests.Kind.INTERRUPT, null,
        new Frames.Interrupt(id, Objects.requireNonNull(run, "run")))
        .thenApply(f -> (Frames.ControlAccepted) f);
  }

  /**
   * Moves this device's read cursor to {@code offset}. Completes when the server has taken it:
   * on its {@code acked} answer, or, from servers that do not answer acks, on the {@code pong}
   * of a ping sent right behind it (frames are handled in order). The cursor is persisted
   * coalesced; unread counts are in {@link TetherClient#describe}.
   */
  public CompletableFuture<Frames.Acked> markRead(String offset) {
    String id = nextId("a");
    return request(id, PendingRequests.Kind.ACK, offset, new Frames.Ack(id, device, offset),
        new Frames.Ping("ack:" + id)).thenApply(f -> (Frames.Acked) f);
  }

  /**
   * Closes the socket (waiting up to 2 s for the server's close), fails what is pending with
   * {@code closed} and stops every timer. Idempotent.
   */
  @Override
  public void close() {
    SessionSocket socket;
    List<PendingRequests.Request> orphaned;
    synchronized (lock) {
      if (state == ConnectionState.CLOSED) {
        return;
      }
      transition(ConnectionState.CLOSED);
      socket = current;
      current = null;
      orphaned = pending.drain();
      if (retryTimer != null) {
        retryTimer.cancel(false);
      }
    }
    TetherException closed = new TetherException("closed", "the session was closed");
    fail(orphaned, closed);
    firstUpToDate.completeExceptionally(closed);
    if (socket != null) {
      socket.shutdown(true);
    }
    client.untrack(this);
  }

  @Override
  public String toString() {
    return "TetherSession[" + sessionId + " as " + device + ", " + state() + "]";
  }

  // --- requests --------------------------------------------------------------------------------

  private String nextId(String kind) {
    synchronized (lock) {
      return kind + "-" + idPrefix + (++nextId);
    }
  }

  private CompletableFuture<Frames.ServerFrame> request(String id, PendingRequests.Kind kind,
      String offset, Frames.ClientFrame... frames) {
    List<String> texts = new ArrayList<>(frames.length);
    for (Frames.ClientFrame f : frames) {
      String text = Frames.render(f);
      if (text.length() > maxFrameBytes / 3
          && text.getBytes(StandardCharsets.UTF_8).length > maxFrameBytes) {
        return CompletableFuture.failedFuture(new TetherException("too-large",
            "the frame has more than " + maxFrameBytes + " bytes; nothing was sent"));
      }
      texts.add(text);
    }
    PendingRequests.Request r = new PendingRequests.Request(id, kind, texts, offset);
    synchronized (lock) {
      if (state == ConnectionState.CLOSED) {
        return CompletableFuture.failedFuture(failure != null ? failure
            : new TetherException("closed", "the session is closed; nothing was sent"));
      }
      pending.add(r);
      r.timeout = client.timer().schedule(() -> timedOut(id),
          client.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
      if (current != null && current.resumed()) {
        r.sent = true;
        texts.forEach(current::send);
      }
    }
    return r.future;
  }

  private void timedOut(String id) {
    PendingRequests.Request p;
    synchronized (lock) {
      p = pending.remove(id);
    }
    if (p != null) {
      String detail = p.sent
          ? "no answer within " + client.requestTimeout().toSeconds() + " s; it may or may not have been applied"
          : "not sent within " + client.requestTimeout().toSeconds() + " s: the session was not connected";
      TetherException e = new TetherException(p.sent ? "timeout" : "not-connected", detail);
      delivery.execute(() -> p.future.completeExceptionally(e));
    }
  }

  private void fail(List<PendingRequests.Request> requests, TetherException error) {
    if (!requests.isEmpty()) {
      delivery.execute(() -> requests.forEach(p -> p.future.completeExceptionally(error)));
    }
  }

  // --- connection ------------------------------------------------------------------------------

  private void connect() {
    SessionSocket socket;
    boolean resolve;
    synchronized (lock) {
      if (state == ConnectionState.CLOSED) {
        return;
      }
      retryTimer = null;
      socket = new SessionSocket(owner, lock, client, delivery, maxQueuedFrames, pingInterval);
      current = socket;
      resolve = resume.needsTail();
    }
    if (resolve) {
      // "now" is the tail when the session opens, read once, so that a drop before the first
      // catch-up resumes from there instead of from a later "now" (which would leave a gap).
      client.describe(sessionId).whenComplete((info, error) -> {
        if (error != null) {
          failedAttempt(socket, unwrap(error));
          return;
        }
        synchronized (lock) {
          resume.resolveTail(info.tail());
        }
        handshake(socket);
      });
    } else {
      handshake(socket);
    }
  }

  private void handshake(SessionSocket socket) {
    WebSocket.Builder builder = client.webSockets().newWebSocketBuilder()
        .connectTimeout(client.connectTimeout());
    String token = client.token();
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    builder.buildAsync(client.webSocketUri(sessionId), socket).whenComplete((ws, error) -> {
      if (error != null) {
        failedAttempt(socket, unwrap(error));
      }
    });
  }

  /** A connection attempt failed before the socket opened. */
  private void failedAttempt(SessionSocket socket, Throwable error) {
    int status = error instanceof WebSocketHandshakeException h ? h.getResponse().statusCode()
        : error instanceof TetherException t ? t.status() : 0;
    if (status == 401 || status == 403 || status == 404) {
      String what = status == 404 ? "no session '" + sessionId + "' (HTTP 404)"
          : "the token was refused (HTTP " + status + ")";
      fatal(socket, new TetherException(status == 404 ? "not-found"
          : status == 401 ? "unauthorized" : "forbidden", what, status, error));
      return;
    }
    dropped(socket, new TetherException("connection-lost",
        "could not connect: " + error, status, error));
  }

  /** The socket opened: resume, then send what waited. */
  private void opened(SessionSocket socket) {
    synchronized (lock) {
      if (socket != current) {
        socket.shutdown(false);
        return;
      }
      socket.send(Frames.render(resume.resume(device, kind.wire())));
      socket.markResumed();
      for (PendingRequests.Request r : pending.takeUnsent()) {
        r.frames.forEach(socket::send);
      }
      socket.startPings();
      transition(ConnectionState.CATCHING_UP);
    }
  }

  /** One whole text frame from the server. */
  private void received(SessionSocket socket, String text) {
    Frames.ServerFrame frame;
    try {
      frame = Frames.parse(text);
    } catch (IllegalArgumentException e) {
      report(new TetherException("bad-frame", "the server sent an unreadable frame: "
          + e.getMessage()));
      return;
    }
    synchronized (lock) {
      if (socket != current) {
        return;
      }
      if (frame instanceof Frames.EventFrame ev) {
        onEvent(socket, ev);
      } else if (frame instanceof Frames.UpToDate up) {
        onUpToDate(up);
      } else if (frame instanceof Frames.Error err) {
        onErrorFrame(socket, err);
      } else if (frame instanceof Frames.Pong pong) {
        String id = pong.id();
        if (id != null && id.startsWith("ack:")) {
          answer(id.substring(4), null);
        }
      } else if (frame instanceof Frames.Published p) {
        answer(p.id(), p);
      } else if (frame instanceof Frames.Cancelled c) {
        answer(c.id(), c);
      } else if (frame instanceof Frames.ControlAccepted c) {
        answer(c.id(), c);
      } else if (frame instanceof Frames.Acked a) {
        answer(a.id(), a);
      }
    }
  }

  // Called with the lock held.
  private void onEvent(SessionSocket socket, Frames.EventFrame ev) {
    if (!resume.accept(ev.offset(), ev.event().type())) {
      return;
    }
    SessionEvent event = new SessionEvent(ev.offset(), ev.event());
    delivery.execute(() -> {
      if (presence.onEvent(event)) {
        Map<String, String> now = presence.current();
        listeners.forEach(l -> l.onPresence(now));
      }
      listeners.forEach(l -> l.onEvent(event));
      socket.deliveredOne();
    });
    socket.maybePause();
  }

  // Called with the lock held.
  private void onUpToDate(Frames.UpToDate up) {
    String offset = resume.caughtUp(up.offset());
    attempt = 0;
    transition(ConnectionState.LIVE);
    delivery.execute(() -> {
      firstUpToDate.complete(offset);
      listeners.forEach(l -> l.onUpToDate(offset));
      presence.refresh(client, sessionId, delivery,
          now -> listeners.forEach(l -> l.onPresence(now)));
    });
  }

  // Called with the lock held.
  private void onErrorFrame(SessionSocket socket, Frames.Error err) {
    TetherException e = new TetherException(err.code() == null ? "error" : err.code(),
        err.detail() == null ? "" : err.detail());
    PendingRequests.Request p = pending.remove(err.id());
    if (p != null) {
      delivery.execute(() -> p.future.completeExceptionally(e));
      return;
    }
    switch (e.code()) {
      // bad-frame without an id answers the resume (ours carry ids): a retry would repeat it.
      case "not-found", "gone", "offset-beyond-tail", "fork-history-unsupported", "bad-frame" ->
          client.executor().execute(() -> fatal(socket, e));
      default -> report(e);
    }
  }

  // Called with the lock held.
  private void answer(String id, Frames.ServerFrame frame) {
    PendingRequests.Request p = pending.remove(id);
    if (p == null) {
      return;
    }
    Frames.ServerFrame value = frame != null ? frame : new Frames.Acked(p.id, p.offset);
    delivery.execute(() -> p.future.complete(value));
  }

  /** The socket ended (or never opened) without {@link #close()}: reconnect after a backoff. */
  private void dropped(SessionSocket socket, TetherException reason) {
    List<PendingRequests.Request> lost;
    Duration wait;
    synchronized (lock) {
      if (socket != current || state == ConnectionState.CLOSED) {
        return;
      }
      current = null;
      lost = pending.dropped();
      wait = backoff.delay(attempt++);
      retryTimer = client.timer().schedule(this::connect, wait.toMillis(), TimeUnit.MILLISECONDS);
      transition(ConnectionState.RECONNECTING);
    }
    socket.shutdown(false);
    LOG.log(System.Logger.Level.DEBUG, "session {0}: {1}; reconnecting in {2} ms",
        sessionId, reason.getMessage(), wait.toMillis());
    fail(lost, new TetherException("connection-lost",
        "the connection dropped before the answer; it may or may not have been applied"));
    report(reason);
  }

  /** A refusal no retry can fix: the session closes with it. */
  private void fatal(SessionSocket socket, TetherException reason) {
    List<PendingRequests.Request> orphaned;
    synchronized (lock) {
      if (socket != current || state == ConnectionState.CLOSED) {
        return;
      }
      failure = reason;
      current = null;
      orphaned = pending.drain();
      report(reason);
      transition(ConnectionState.CLOSED);
    }
    socket.shutdown(false);
    fail(orphaned, reason);
    firstUpToDate.completeExceptionally(reason);
    client.untrack(this);
  }

  /**
   * Moves to {@code next} and queues the listeners' notice. Called with the lock held, so
   * notices are queued in the order of the changes.
   */
  private void transition(ConnectionState next) {
    if (state == next || state == ConnectionState.CLOSED) {
      return;
    }
    state = next;
    delivery.execute(() -> listeners.forEach(l -> l.onStateChange(next)));
  }

  private void report(TetherException e) {
    delivery.execute(() -> listeners.forEach(l -> l.onError(e)));
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  /** What this session's sockets report, kept off its public API. */
  private final SessionSocket.Owner owner = new SessionSocket.Owner() {
    @Override
    public void opened(SessionSocket socket) {
      TetherSession.this.opened(socket);
    }

    @Override
    public void received(SessionSocket socket, String text) {
      TetherSession.this.received(socket, text);
    }

    @Override
    public void dropped(SessionSocket socket, TetherException reason) {
      TetherSession.this.dropped(socket, reason);
    }

    @Override
    public boolean isCurrent(SessionSocket socket) {
      return socket == current;
    }
  };
}
