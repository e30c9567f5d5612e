package io.tether.examples.chat;

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
import io.tether.client.TetherClient;
import io.tether.client.TetherException;
import io.tether.client.langchain4j.TetherStreamingHandler;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The agent of one chat (one session): answers every user message that has no run yet, one at a
 * time, in order: the ones already there when it joins (unless cancelled), then each new one.
 * An answer is one run with one assistant message, streamed by the LangChain4j bridge from the
 * model; a Stop (cancel) on any device cancels the model call; a steer is taken into the next
 * model step of the same answer (acknowledged as consumed then; declined if the answer ends
 * first).
 */
final class ChatAgent implements SessionListener, AutoCloseable {
  /** Model steps per answer: the first, plus two that take steers. */
  private static final int MAX_STEPS = 3;

  /** A user message to answer, with the conversation up to it. */
  private record Input(String id, String text, List<ChatMessage> history) {}

  private final String sessionId;
  private final StreamingChatModel model;
  private final Log log;
  private final TetherAgent agent;
  private final ExecutorService worker;
  // Touched only on the session's delivery sequence.
  private final MessageAssembler messages = new MessageAssembler();
  private final List<ChatMessage> history = new ArrayList<>();
  private final Set<String> handled = new HashSet<>();
  private final List<Input> waiting = new ArrayList<>();
  private boolean live;

  ChatAgent(TetherClient tether, String sessionId, String device, StreamingChatModel model, Log log) {
    this.sessionId = sessionId;
    this.model = model;
    this.log = log;
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "chat-agent-" + sessionId);
      t.setDaemon(true);
      return t;
    });
    this.agent = tether.agent(sessionId).device(device).listener(this).open();
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
        waiting.add(new Input(m.id(), m.text(), List.copyOf(history)));
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
    if (!live) {
      live = true;
      log.line("joined", "session", sessionId);
    }
    answerWaiting();
  }

  @Override
  public void onStateChange(io.tether.client.ConnectionState state) {
    log.line("connection", "session", sessionId, "state", state.name().toLowerCase());
  }

  @Override
  public void onError(TetherException error) {
    log.line("session-error", "session", sessionId, "code", error.code(), "detail", error.getMessage());
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
      run = agent.startRun(input.id()).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      log.line("not-answered", "session", sessionId, "input", input.id(), "reason",
          e.getCause() instanceof TetherException t ? t.code() : String.valueOf(e.getCause()));
      return;
    } catch (Exception e) {
      log.line("not-answered", "session", sessionId, "input", input.id(), "reason", e.toString());
      return;
    }
    log.line("answering", "session", sessionId, "run", run.id(), "input", input.id());
    List<ControlRequest> steers = new ArrayList<>();
    run.onSteer(request -> {
      synchronized (steers) {
        steers.add(request);
      }
    });
    AgentRun.Message answer = run.startMessage("assistant");
    List<ChatMessage> conversation = new ArrayList<>(input.history());
    try {
      for (int step = 0; step < MAX_STEPS; step++) {
        ChatResponse response = TetherStreamingHandler.continuing(run, answer)
            .stream(model, ChatRequest.builder().messages(conversation).build()).join();
        conversation.add(response.aiMessage());
        List<ControlRequest> taken = take(steers);
        if (taken.isEmpty() || step == MAX_STEPS - 1) {
          taken.forEach(ControlRequest::decline);
          break;
        }
        for (ControlRequest steer : taken) {
          conversation.add(UserMessage.from(ScriptedChat.STEER + steer.text()));
          steer.accept();
        }
        answer.delta("\n\n");
      }
      take(steers).forEach(ControlRequest::decline);
      answer.end("complete");
      run.end("complete").join();
      log.line("answered", "session", sessionId, "run", run.id(), "input", input.id(),
          "status", "complete");
    } catch (CompletionException e) {
      if (e.getCause() instanceof RunCancelledException cancelled) {
        log.line("model-call-cancelled", "session", sessionId, "run", run.id(), "input", input.id(),
            "fence", cancelled.cancellation().fence(), "by", cancelled.cancellation().by());
        return;
      }
      answer.end("error");
      run.end("error");
      log.line("answered", "session", sessionId, "run", run.id(), "input", input.id(),
          "status", "error", "error", String.valueOf(e.getCause()));
    }
  }

  private static List<ControlRequest> take(List<ControlRequest> steers) {
    synchronized (steers) {
      List<ControlRequest> taken = new ArrayList<>(steers);
      steers.clear();
      return taken;
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
    agent.close();
  }
}
