package io.tether.client;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One WebSocket connection attempt of a {@link TetherSession} and, once open, its socket:
 * assembles text frames, sends one frame at a time (the JDK's rule), pings and takes a silent
 * socket for dead, and stops reading while the session's listeners are behind. What it reads and
 * how it ends goes to its {@link Owner}; the owner's lock guards its send chain.
 */
final class SessionSocket implements WebSocket.Listener {

  /** The session this socket serves. */
  interface Owner {
    /** The socket opened. */
    void opened(SessionSocket socket);

    /** A whole text frame arrived. */
    void received(SessionSocket socket, String text);

    /** The socket ended, or never opened. */
    void dropped(SessionSocket socket, TetherException reason);

    /** Whether this is the owner's current socket; called with the owner's lock held. */
    boolean isCurrent(SessionSocket socket);
  }

  /** How long a socket may stay silent after a probe before it is taken for dead. */
  private static final Duration PROBE = Duration.ofSeconds(5);

  private final Owner owner;
  private final Object lock;
  private final TetherClient client;
  private final SerialExecutor delivery;
  private final int maxQueuedFrames;
  private final Duration pingInterval;
  private final StringBuilder partial = new StringBuilder();
  private final AtomicBoolean paused = new AtomicBoolean();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private volatile WebSocket ws;
  private volatile long lastFrameNanos = System.nanoTime();
  // Guarded by lock.
  private CompletableFuture<?> sends = CompletableFuture.completedFuture(null);
  private ScheduledFuture<?> pings;
  private boolean resumed;

  SessionSocket(Owner owner, Object lock, TetherClient client, SerialExecutor delivery,
      int maxQueuedFrames, Duration pingInterval) {
    this.owner = owner;
    this.lock = lock;
    this.client = client;
    this.delivery = delivery;
    this.maxQueuedFrames = maxQueuedFrames;
    this.pingInterval = pingInterval;
  }

  @Override
  public void onOpen(WebSocket webSocket) {
    ws = webSocket;
    webSocket.request(1);
    owner.opened(this);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean lastPart) {
    partial.append(data);
    if (lastPart) {
      String text = partial.toString();
      partial.setLength(0);
      lastFrameNanos = System.nanoTime();
      owner.received(this, text);
    }
    if (!paused.get()) {
      webSocket.request(1);
    }
    return null;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean lastPart) {
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    ended.complete(null);
    owner.dropped(this, new TetherException("connection-lost", "the server closed the socket ("
        + statusCode + (reason.isEmpty() ? "" : " " + reason) + ")"));
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    ended.complete(null);
    owner.dropped(this, new TetherException("connection-lost", "the socket failed: " + error, 0,
        error));
  }

  /** Whether the resume went out on this socket. Called with the owner's lock held. */
  boolean resumed() {
    return resumed;
  }

  /** Marks the resume as sent. Called with the owner's lock held. */
  void markResumed() {
    resumed = true;
  }

  /** Queues a frame behind the ones being sent. Called with the owner's lock held. */
  void send(String text) {
    WebSocket w = ws;
    sends = sends.handle((v, e) -> null).thenCompose(v -> w.sendText(text, true))
        .whenComplete((v, e) -> {
          if (e != null) {
            // A write fails once the peer is gone, even when the end of input went unnoticed.
            client.executor().execute(() -> owner.dropped(this, new TetherException(
                "connection-lost", "a write failed: " + e, 0, e)));
          }
        });
  }

  /** Stops reading after this frame when the listeners are too far behind. */
  void maybePause() {
    if (delivery.backlog() >= maxQueuedFrames) {
      paused.set(true);
      deliveredOne();
    }
  }

  /**
   * Reads on once the listeners have caught up by half, and probes the socket: an end of input
   * that arrived while reading was paused can go unreported by the JDK's WebSocket, so a socket
   * that answers nothing (not even the ping sent now) within the probe time is replaced.
   */
  void deliveredOne() {
    if (!paused.get() || delivery.backlog() >= maxQueuedFrames / 2
        || !paused.compareAndSet(true, false)) {
      return;
    }
    WebSocket w = ws;
    if (w == null) {
      return;
    }
    long since = System.nanoTime();
    synchronized (lock) {
      if (!owner.isCurrent(this)) {
        return;
      }
      send(Frames.render(new Frames.Ping(null)));
    }
    w.request(1);
    client.timer().schedule(() -> {
      if (lastFrameNanos < since && !paused.get()) {
        owner.dropped(this, new TetherException("connection-lost",
            "no answer to a ping after reading resumed"));
      }
    }, PROBE.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Starts the pings. Called with the owner's lock held. */
  void startPings() {
    long every = pingInterval.toMillis();
    pings = client.timer().scheduleAtFixedRate(this::ping, every, every, TimeUnit.MILLISECONDS);
  }

  private void ping() {
    // While paused the socket is not read, so silence says nothing about it.
    if (!paused.get() && System.nanoTime() - lastFrameNanos > pingInterval.toNanos() * 5 / 2) {
      owner.dropped(this, new TetherException("connection-lost",
          "no frame for " + pingInterval.multipliedBy(5).dividedBy(2).toSeconds() + " s"));
      return;
    }
    synchronized (lock) {
      if (owner.isCurrent(this)) {
        send(Frames.render(new Frames.Ping(null)));
      }
    }
  }

  /** Ends the socket: a close handshake (bounded at 2 s) when {@code graceful}, else an abort. */
  void shutdown(boolean graceful) {
    ScheduledFuture<?> p;
    synchronized (lock) {
      p = pings;
    }
    if (p != null) {
      p.cancel(false);
    }
    WebSocket w = ws;
    if (w == null) {
      return;
    }
    if (graceful && !w.isOutputClosed()) {
      CompletableFuture<?> close;
      synchronized (lock) {
        close = sends.handle((v, e) -> null)
            .thenCompose(v -> w.sendClose(WebSocket.NORMAL_CLOSURE, "closed by the client"));
      }
      try {
        close.thenCompose(v -> ended).get(2, TimeUnit.SECONDS);
      } catch (Exception e) {
        // the server did not answer the close in time: abort below
      }
    }
    w.abort();
  }
}
