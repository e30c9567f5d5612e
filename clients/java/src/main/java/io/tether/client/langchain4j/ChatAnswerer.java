package io.tether.client.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.tether.client.AgentRun;
import io.tether.client.ControlRequest;
import io.tether.client.Event;
import io.tether.client.MessageAssembler;
import io.tether.client.RunCancelledException;
import io.tether.client.SessionEvent;
import io.tether.client.SessionListener;
import io.tether.client.TetherAgent;
import io.tether.client.TetherException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Answers every user message of an agent's session with a LangChain4j streaming model: the
 * messages already there when the agent connects that have no run yet (and were not
 * cancelled), then each new one, one at a time, in order. Each answer is one run with one
 * assistant message, streamed through {@link TetherStreamingHandler}, with the conversation so
 * far (user messages and finished answers) as the model's input.
 *
 * <p>A cancel from any device cancels the model call. A steer is fed into the next model step
 * of the same answer (at most {@code maxSteps} steps) and acknowledged as consumed when that
 * step starts; steers the answer had no step left for are declined.
 *
 * <pre>{@code
 * ChatAnswerer answerer = new ChatAnswerer(model);
 * TetherAgent agent = tether.agent("chat-42").device("agent-java").listener(answerer).open();
 * answerer.serve(agent);
 * }</pre>
 *
 * <p>Register it as the agent's listener before the agent opens (so it sees the history from the
 * start), then {@link #serve} it. It recognises user messages as {@code message} or
 * {@code message.start}/{@code message.end} with role {@code user}.
 */
public final class ChatAnswerer implements SessionListener, AutoCloseable {

  /**
   * How one user message was answered.
   *
   * @param input the user message's id
   * @param run the run that answered it (null when none could start)
   * @param status {@code complete}, {@code cancelled}, {@code error} or {@code not-started}
   * @param fence the fence when cancelled
   * @param error what went wrong, or null
   */
  public record Outcome(String input, String run, String status, String fence, String error) {}

  /** Told what the answerer does (for logs and tests); called on its worker thread. */
  public interface Observer {
    /** A run started answering {@code input}. */
    default void answering(String input, AgentRun run) {}

    /** An answer ended. */
    default void answered(Outcome outcome) {}
  }

  /** A user message to answer, with the conversation up to it. */
  private record Input(String id, List<ChatMessage> history) {}

  private final StreamingChatModel model;
  private final int maxSteps;
  private final Function<String, ChatMessage> steerMessage;
  private final Observer observer;
  private final ExecutorService worker;
  private final java.util.concurrent.CompletableFuture<TetherAgent> agent =
      new java.util.concurrent.CompletableFuture<>();
  // Touched only on the session's delivery sequence.
  private final MessageAssembler messages = new MessageAssembler();
  private final List<ChatMessage> history = new ArrayList<>();
  private final Set<String> handled = new HashSet<>();
  private final List<Input> waiting = new ArrayList<>();
  private boolean live;

  /** Answers with {@code model}: three steps at most, a steer as a user message, no observer. */
  public ChatAnswerer(StreamingChatModel model) {
    this(model, 3, UserMessage::from, new Observer() {});
  }

  /**
   * Answers with {@code model}.
   *
   * @param maxSteps model calls per answer (the first, then one per step that takes steers)
   * @param steerMessage how a steering text enters the conversation
   * @param observer told of each answer
   */
  public ChatAnswerer(StreamingChatModel model, int maxSteps,
      Function<String, ChatMessage> steerMessage, Observer observer) {
    this.model = Objects.requireNonNull(model, "model");
    this.maxSteps = Math.max(1, maxSteps);
    this.steerMessage = Objects.requireNonNull(steerMessage, "steerMessage");
    this.observer = Objects.requireNonNull(observer, "observer");
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "tether-chat-answerer");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts answering through {@code agent} (the agent this answerer listens to). */
  public ChatAnswerer serve(TetherAgent agent) {
    this.agent.complete(Objects.requireNonNull(agent, "agent"));
    return this;
  }

  @Override
  public void onEvent(SessionEvent delivered) {
    Event e = delivered.event();
    if (e instanceof Event.RunStart start && start.input() != null) {
      handled.add(start.input());
    } else if (e instanceof Event.ControlCancel cancel && cancel.message() != null) {
      handled.add(cancel.message());
    }
    messages.accept(delivered).ifPresent(m -> {
      if ("user".equals(m.role())) {
        history.add(UserMessage.from(m.text()));
        waiting.add(new Input(m.id(), List.copyOf(history)));
      } else if ("assistant".equals(m.role()) && "complete".equals(m.status())) {
        history.add(AiMessage.from(m.text()));
      }
    });
    if (live) {
      answerWaiting();
    }
  }

  @Override
  public void onUpToDate(String offset) {
    live = true;
    answerWaiting();
  }

  /** Stops answering; an answer in progress ends when the agent closes. */
  @Override
  public void close() {
    worker.shutdownNow();
  }

  private void answerWaiting() {
    for (Input input : waiting) {
      if (handled.add(input.id())) {
        worker.execute(() -> answer(input));
      }
    }
    waiting.clear();
  }

  private void answer(Input input) {
    AgentRun run;
    try {
      // Answers may be queued before serve(agent) is called: they wait for it here.
      run = agent.get().startRun(input.id()).get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      String why = e.getCause() instanceof TetherException t ? t.code() : String.valueOf(e.getCause());
      observer.answered(new Outcome(input.id(), null, "not-started", null, why));
      return;
    } catch (Exception e) {
      observer.answered(new Outcome(input.id(), null, "not-started", null, e.toString()));
      return;
    }
    observer.answering(input.id(), run);
    List<ControlRequest> steers = new ArrayList<>();
    run.onSteer(request -> {
      synchronized (steers) {
        steers.add(request);
      }
    });
    AgentRun.Message answer = run.startMessage("assistant");
    List<ChatMessage> conversation = new ArrayList<>(input.history());
    try {
      for (int step = 0; step < maxSteps; step++) {
        ChatResponse response = TetherStreamingHandler.continuing(run, answer)
            .stream(model, ChatRequest.builder().messages(conversation).build()).join();
        conversation.add(response.aiMessage());
        List<ControlRequest> taken = take(steers);
        if (taken.isEmpty() || step == maxSteps - 1) {
          taken.forEach(ControlRequest::decline);
          break;
        }
        for (ControlRequest steer : taken) {
          conversation.add(steerMessage.apply(steer.text()));
          steer.accept();
        }
        answer.delta("\n\n");
      }
      take(steers).forEach(ControlRequest::decline);
      answer.end("complete");
      run.end("complete").join();
      observer.answered(new Outcome(input.id(), run.id(), "complete", null, null));
    } catch (CompletionException e) {
      take(steers).forEach(ControlRequest::decline);
      if (e.getCause() instanceof RunCancelledException cancelled) {
        observer.answered(new Outcome(input.id(), run.id(), "cancelled",
            cancelled.cancellation().fence(), null));
        return;
      }
      answer.end("error");
      run.end("error");
      observer.answered(new Outcome(input.id(), run.id(), "error", null,
          String.valueOf(e.getCause())));
    }
  }

  private static List<ControlRequest> take(List<ControlRequest> steers) {
    synchronized (steers) {
      List<ControlRequest> taken = new ArrayList<>(steers);
      steers.clear();
      return taken;
    }
  }
}
