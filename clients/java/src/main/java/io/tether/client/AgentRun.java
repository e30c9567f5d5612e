package io.tether.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One run of an agent in a session: its lifecycle ({@code run.start}, messages, tool calls,
 * {@code run.end}) written through the agent's {@link IdempotentProducer}, and the controls
 * clients send it. Made by {@link TetherAgent#startRun}.
 *
 * <pre>{@code
 * AgentRun run = agent.startRun("m-7").join();            // run.start, answering input m-7
 * run.onCancel(c -> modelCall.cancel());                  // fires once, with the fence
 * run.onSteer(s -> { nextStepInput.add(s.text()); s.accept(); });
 * AgentRun.Message answer = run.startMessage("assistant");
 * for (String token : tokens) answer.delta(token);        // batched, in order, exactly once
 * answer.end("complete");
 * run.end("complete");
 * }</pre>
 *
 * <p><b>Cancellation.</b> A cancel fences the run: the session refuses its output from the
 * fence on. The run learns it from the {@code control.cancel} event (or a {@code run.end} of
 * {@code cancelled}/{@code lost} the session wrote, or a write refused as {@code fenced},
 * whichever comes first); then {@link #cancellation()} completes, the {@link #onCancel}
 * callbacks run once, the cancel is acknowledged ({@code control.ack}, consumed), and later
 * writes complete at once without being sent (the session ended the run itself).
 *
 * <p><b>Steer and interrupt</b> go to the {@link #onSteer} / {@link #onInterrupt} callbacks,
 * which answer them with {@link ControlRequest#accept()} or {@link ControlRequest#decline()}.
 * With no callback registered they are declined at once, so no client waits for an answer.
 */
public final class AgentRun {

  /**
   * Why and where a run was stopped.
   *
   * @param fence the offset from which the session refuses the run's output (null when the run
   *     learnt it from a refused write)
   * @param by who cancelled it (a token's subject, {@code tether} for a lost run), or null
   * @param reason {@code cancelled}, {@code lost} or {@code fenced}
   */
  public record Cancellation(String fence, String by, String reason) {}

  private final TetherAgent agent;
  private final String id;
  private final String input;
  private final AtomicInteger messages = new AtomicInteger();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final CompletableFuture<Cancellation> cancellation = new CompletableFuture<>();
  private final List<Consumer<Cancellation>> cancelCallbacks = new CopyOnWriteArrayList<>();
  private final List<Consumer<ControlRequest>> steerCallbacks = new CopyOnWriteArrayList<>();
  private final List<Consumer<ControlRequest>> interruptCallbacks = new CopyOnWriteArrayList<>();
  private volatile CompletableFuture<IdempotentProducer.Appended> started;

  AgentRun(TetherAgent agent, String id, String input) {
    this.agent = agent;
    this.id = id;
    this.input = input;
  }

  /** The run's id. */
  public String id() {
    return id;
  }

  /** The input message it answers, or null. */
  public String input() {
    return input;
  }

  /** Whether the session has stopped the run (see {@link #cancellation()}). */
  public boolean isCancelled() {
    return cancellation.isDone();
  }

  /**
   * Completes when the session stops the run; never fails. (Work that should end with the run
   * can fail its own future with a {@link RunCancelledException} of this.)
   */
  public CompletableFuture<Cancellation> cancellation() {
    return cancellation.copy();
  }

  /** Runs {@code callback} once when the run is stopped (at once if it already is). */
  public AgentRun onCancel(Consumer<Cancellation> callback) {
    cancelCallbacks.add(Objects.requireNonNull(callback, "callback"));
    if (cancellation.isDone() && cancelCallbacks.remove(callback)) {
      callback.accept(cancellation.join());
    }
    return this;
  }

  /** Receives the steers sent to this run; answer each with accept or decline. */
  public AgentRun onSteer(Consumer<ControlRequest> callback) {
    steerCallbacks.add(Objects.requireNonNull(callback, "callback"));
    return this;
  }

  /** Receives the interrupts sent to this run; answer each with accept or decline. */
  public AgentRun onInterrupt(Consumer<ControlRequest> callback) {
    interruptCallbacks.add(Objects.requireNonNull(callback, "callback"));
    return this;
  }

  /** Starts a message of {@code role} ({@code assistant}, {@code reasoning}, ...). */
  public Message startMessage(String role) {
    String messageId = id + "-m" + messages.incrementAndGet();
    Message m = new Message(messageId);
    m.written = emit(Events.messageStart(id, messageId, role));
    return m;
  }

  /** Writes {@code tool.call}: the model asked to call {@code name} with JSON arguments. */
  public CompletableFuture<IdempotentProducer.Appended> toolCall(String toolCallId, String name,
      String argumentsJson) {
    return emit(Events.toolCall(id, toolCallId, name, argumentsJson));
  }

  /** Writes {@code tool.result} ({@code ok} or {@code error}). */
  public CompletableFuture<IdempotentProducer.Appended> toolResult(String toolCallId,
      String status, String output) {
    return emit(Events.toolResult(id, toolCallId, status, output));
  }

  /**
   * Writes any event as part of this run (its {@code run} is set to this run's id). After the
   * run was stopped nothing is sent and the future completes with null.
   */
  public CompletableFuture<IdempotentProducer.Appended> emit(Event event) {
    if (isCancelled()) {
      return CompletableFuture.completedFuture(null);
    }
    Envelope e = event.envelope();
    Envelope mine = new Envelope(e.type(), id, e.step(), e.producer(), e.time(), e.data());
    return agent.producer().send(Event.of(mine)).exceptionallyCompose(error -> {
      Throwable cause = error instanceof java.util.concurrent.CompletionException
          && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof TetherException t && t.code().equals("fenced")) {
        // The session refused the write before the cancel reached this agent's socket: the
        // session's view of the run names the fence.
        agent.cancellationOf(id).thenAccept(this::stopped);
        return CompletableFuture.completedFuture(null);
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  /**
   * Writes {@code run.end} with {@code complete}, {@code error} or {@code cancelled}, once.
   * Completes when it is durable, or at once when the session had already ended the run.
   */
  public CompletableFuture<Void> end(String status) {
    if (!ended.compareAndSet(false, true) || isCancelled()) {
      agent.forget(this);
      return CompletableFuture.completedFuture(null);
    }
    return emit(Events.runEnd(id, status)).whenComplete((a, e) -> agent.forget(this))
        .thenApply(a -> null);
  }

  /** A message of this run, written as {@code message.start}, deltas and {@code message.end}. */
  public final class Message {
    private final String messageId;
    private final AtomicBoolean done = new AtomicBoolean();
    private CompletableFuture<IdempotentProducer.Appended> written;

    private Message(String messageId) {
      this.messageId = messageId;
    }

    /** The message's id ({@code data.id}). */
    public String id() {
      return messageId;
    }

    /** Appends a piece of text ({@code message.delta}); empty text is skipped. */
    public CompletableFuture<IdempotentProducer.Appended> delta(String text) {
      if (text == null || text.isEmpty()) {
        return written;
      }
      written = emit(Events.messageDelta(id, messageId, text));
      return written;
    }

    /** Ends it ({@code message.end}: {@code complete}, {@code cancelled} or {@code error}); once. */
    public CompletableFuture<IdempotentProducer.Appended> end(String status) {
      if (!done.compareAndSet(false, true)) {
        return written;
      }
      written = emit(Events.messageEnd(id, messageId, status));
      return written;
    }

    /** Completes when the message's latest write is durable (null after the run stopped). */
    public CompletableFuture<IdempotentProducer.Appended> lastWrite() {
      return written;
    }

    /** Whether {@link #end} was called. */
    public boolean ended() {
      return done.get();
    }
  }

  // --- from the agent's session ----------------------------------------------------------------

  void stopped(Cancellation c) {
    if (!cancellation.complete(c)) {
      return;
    }
    List<Consumer<Cancellation>> callbacks = new ArrayList<>(cancelCallbacks);
    cancelCallbacks.clear();
    for (Consumer<Cancellation> callback : callbacks) {
      try {
        callback.accept(c);
      } catch (RuntimeException e) {
        System.getLogger(AgentRun.class.getName()).log(System.Logger.Level.WARNING,
            "an onCancel callback of run " + id + " threw", e);
      }
    }
  }

  void controlled(ControlRequest request) {
    List<Consumer<ControlRequest>> callbacks =
        request.type() == ControlRequest.Type.STEER ? steerCallbacks : interruptCallbacks;
    if (callbacks.isEmpty()) {
      request.decline();
      return;
    }
    callbacks.forEach(c -> c.accept(request));
  }

  CompletableFuture<Void> acknowledge(String controlId, boolean consumed) {
    // control.* events are never fenced: a cancel can be acknowledged after its fence.
    return agent.producer().send(Events.controlAck(id, controlId, consumed)).thenApply(a -> null);
  }

  void started(CompletableFuture<IdempotentProducer.Appended> started) {
    this.started = started;
  }

  /** Completes when {@code run.start} is durable. */
  public CompletableFuture<IdempotentProducer.Appended> started() {
    return started;
  }

  @Override
  public String toString() {
    return "AgentRun[" + id + (input == null ? "" : " answering " + input)
        + (isCancelled() ? ", stopped" : "") + "]";
  }
}
