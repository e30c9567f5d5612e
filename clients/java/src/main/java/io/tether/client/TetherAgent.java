package io.tether.client;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The agent's side of a session: a socket of kind {@code agent} (so the session sees the agent
 * present, and records its runs as {@code lost} if it leaves for good), an
 * {@link IdempotentProducer} for its output, and the routing of controls to its
 * {@link AgentRun}s.
 *
 * <pre>{@code
 * TetherAgent agent = tether.agent("chat-42").device("agent-java")
 *     .listener(new SessionListener() {
 *       public void onEvent(SessionEvent e) { ... a user's message arrives: answer it ... }
 *     })
 *     .open();
 * agent.session().upToDate().join();
 * AgentRun run = agent.startRun("m-7").join();
 * }</pre>
 *
 * <p>The events it writes carry its device as {@code producer}, which is what ties a run to the
 * present agent. Controls for runs this agent did not start here are ignored.
 */
public final class TetherAgent implements AutoCloseable {

  /** Configures an agent; {@link #open()} connects it. */
  public static final class Builder {
    private final TetherClient client;
    private final String sessionId;
    private String device = "agent-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    private String producerId;
    private String after = Offsets.BEGINNING;
    private TetherSession.Granularity granularity = TetherSession.Granularity.DELTA;
    private Backoff backoff = Backoff.DEFAULT;
    private Duration deliveryTimeout = Duration.ofMinutes(2);
    private final java.util.List<SessionListener> listeners = new java.util.ArrayList<>();

    Builder(TetherClient client, String sessionId) {
      this.client = client;
      this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
    }

    /** The agent's device: its presence and the {@code producer} of what it writes. */
    public Builder device(String device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** The producer id (by default the device plus a random suffix, fresh per process). */
    public Builder producerId(String producerId) {
      this.producerId = producerId;
      return this;
    }

    /** Where the agent's socket starts delivering; {@link Offsets#BEGINNING}. */
    public Builder after(String after) {
      this.after = Objects.requireNonNull(after, "after");
      return this;
    }

    /** The replay granularity of the agent's socket; {@link TetherSession.Granularity#DELTA}. */
    public Builder granularity(TetherSession.Granularity granularity) {
      this.granularity = Objects.requireNonNull(granularity, "granularity");
      return this;
    }

    /** The socket's reconnection backoff. */
    public Builder backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** How long the producer retries a batch; 2 minutes. */
    public Builder deliveryTimeout(Duration timeout) {
      this.deliveryTimeout = timeout;
      return this;
    }

    /** Adds a listener of the session (called after the agent's own routing of controls). */
    public Builder listener(SessionListener listener) {
      this.listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Opens the producer and connects the socket. */
    public TetherAgent open() {
      TetherAgent agent = new TetherAgent(this);
      client.track(agent);
      return agent;
    }
  }

  private final TetherClient client;
  private final String sessionId;
  private final String device;
  private final IdempotentProducer producer;
  private final TetherSession session;
  private final Map<String, AgentRun> runs = new ConcurrentHashMap<>();
  private final Map<String, AgentRun> byInput = new ConcurrentHashMap<>();

  private TetherAgent(Builder b) {
    this.client = b.client;
    this.sessionId = b.sessionId;
    this.device = b.device;
    this.producer = client.producer(b.sessionId).device(b.device)
        .producerId(b.producerId != null ? b.producerId
            : b.device + "-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36))
        .deliveryTimeout(b.deliveryTimeout).open();
    TetherSession.Builder s = client.session(b.sessionId).device(b.device)
        .kind(TetherSession.Kind.AGENT).after(b.after).granularity(b.granularity)
        .backoff(b.backoff).listener(new Router());
    b.listeners.forEach(s::listener);
    this.session = s.open();
  }

  /** The agent's device. */
  public String device() {
    return device;
  }

  /** The agent's socket (events, state, presence). */
  public TetherSession session() {
    return session;
  }

  /** The agent's producer. */
  public IdempotentProducer producer() {
    return producer;
  }

  /** Starts a run with a fresh id answering input message {@code input} (or null). */
  public CompletableFuture<AgentRun> startRun(String input) {
    return startRun("run-" + UUID.randomUUID(), input);
  }

  /**
   * Starts run {@code runId}: writes {@code run.start}. Completes with the run once that is
   * durable; fails with {@code fenced} when the session refuses it (its input was cancelled
   * before it started). The run receives controls from the moment it is created.
   */
  public CompletableFuture<AgentRun> startRun(String runId, String input) {
    AgentRun run = new AgentRun(this, runId, input);
    runs.put(runId, run);
    if (input != null) {
      byInput.put(input, run);
    }
    CompletableFuture<IdempotentProducer.Appended> started =
        producer.send(Events.runStart(runId, input));
    run.started(started);
    return started.handle((ok, error) -> {
      if (error != null) {
        forget(run);
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        throw cause instanceof TetherException t ? t
            : new TetherException("error", cause.toString(), 0, cause);
      }
      return run;
    });
  }

  /** The runs this agent started that have not ended. */
  public Map<String, AgentRun> runs() {
    return Map.copyOf(runs);
  }

  /** Closes the socket, then flushes and closes the producer. */
  @Override
  public void close() {
    session.close();
    producer.close();
    client.untrack(this);
  }

  /** How the session stopped {@code run}, from its REST view (the fence; no canceller). */
  CompletableFuture<AgentRun.Cancellation> cancellationOf(String run) {
    return client.describe(sessionId).handle((info, error) -> {
      SessionInfo.RunInfo r = info == null ? null : info.run(run);
      return r == null ? new AgentRun.Cancellation(null, null, "fenced")
          : new AgentRun.Cancellation(r.fence(), null,
              "lost".equals(r.status()) ? "lost" : "cancelled");
    });
  }

  void forget(AgentRun run) {
    runs.remove(run.id(), run);
    if (run.input() != null) {
      byInput.remove(run.input(), run);
    }
  }

  /** Routes controls and session-written run ends to the runs they are for. */
  private final class Router implements SessionListener {
    @Override
    public void onEvent(SessionEvent delivered) {
      Event e = delivered.event();
      if (e instanceof Event.ControlCancel c) {
        AgentRun run = c.run() != null ? runs.get(c.run())
            : c.message() != null ? byInput.get(c.message()) : null;
        if (run != null) {
          // The run may already know from a refused write; the cancel is acknowledged anyway.
          run.stopped(new AgentRun.Cancellation(delivered.offset(), c.producer(), "cancelled"));
          if (c.id() != null) {
            run.acknowledge(c.id(), true);
          }
        }
      } else if (e instanceof Event.ControlSteer s) {
        AgentRun run = s.run() == null ? null : runs.get(s.run());
        if (run != null) {
          run.controlled(new ControlRequest(run, ControlRequest.Type.STEER, s.id(), s.text(),
              delivered.offset(), s.device(), s.producer()));
        }
      } else if (e instanceof Event.ControlInterrupt i) {
        AgentRun run = i.run() == null ? null : runs.get(i.run());
        if (run != null) {
          run.controlled(new ControlRequest(run, ControlRequest.Type.INTERRUPT, i.id(), null,
              delivered.offset(), i.device(), i.producer()));
        }
      } else if (e instanceof Event.RunEnd end && end.run() != null
          && !device.equals(end.producer())) {
        AgentRun run = runs.get(end.run());
        if (run != null && ("cancelled".equals(end.status()) || "lost".equals(end.status()))) {
          run.stopped(new AgentRun.Cancellation(delivered.offset(), end.by(), end.status()));
          forget(run);
        }
      }
    }
  }
}
