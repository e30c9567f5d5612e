package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import io.tether.client.langchain4j.ChatAnswerer;
import io.tether.client.langchain4j.ScriptedStreamingChatModel;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chat agent loop the Java example runs: user messages published by a client (as the
 * TypeScript transport publishes them) are answered in order by a LangChain4j model, a steer
 * enters the next step of the same answer, Stop cancels the model call, and a message cancelled
 * before the agent came is not answered.
 */
@ExtendWith(TestNode.Shared.class)
class ChatAnswererTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TetherClient tether;

  @BeforeAll
  static void start(TestNode node) throws Exception {
    tether = TetherClient.builder(URI.create(node.baseUrl())).token(node.fullToken()).build();
  }

  @AfterAll
  static void stop() {
    tether.close();
  }

  /** Answers "echo: <last user text>"; a steer step answers "steered: <text>". */
  private static ScriptedStreamingChatModel.Script script(ChatRequest request) {
    List<ChatMessage> messages = request.messages();
    String last = ((UserMessage) messages.get(messages.size() - 1)).singleText();
    if (last.startsWith("[steer] ")) {
      return ScriptedStreamingChatModel.Script.text("steered: " + last.substring(8));
    }
    long turns = messages.stream().filter(m -> m instanceof UserMessage).count();
    return ScriptedStreamingChatModel.Script.text("echo " + turns + ": " + last + " "
        + "and some more words to stream ".repeat(last.startsWith("long") ? 30 : 1));
  }

  @Test
  void answersUserMessagesTakesSteersAndStops() throws Exception {
    String id = "chat-answerer-" + UUID.randomUUID();
    tether.createSession(id).join();
    Recorder screen = new Recorder();
    TetherSession laptop = tether.session(id).device("laptop").listener(screen).open();
    laptop.upToDate().get(30, TimeUnit.SECONDS);
    // Before the agent comes: one message to answer, one cancelled already.
    laptop.publish(Events.userMessage("m-1", "first")).get(30, TimeUnit.SECONDS);
    laptop.publish(Events.userMessage("m-2", "never mind")).get(30, TimeUnit.SECONDS);
    laptop.cancelMessage("m-2").get(30, TimeUnit.SECONDS);

    ScriptedStreamingChatModel model = new ScriptedStreamingChatModel(
        ChatAnswererTest::script, Duration.ofMillis(10));
    BlockingQueue<ChatAnswerer.Outcome> outcomes = new LinkedBlockingQueue<>();
    BlockingQueue<AgentRun> runs = new LinkedBlockingQueue<>();
    ChatAnswerer answerer = new ChatAnswerer(model, 3, t -> UserMessage.from("[steer] " + t),
        new ChatAnswerer.Observer() {
          @Override
          public void answering(String input, AgentRun run) {
            runs.add(run);
          }

          @Override
          public void answered(ChatAnswerer.Outcome outcome) {
            outcomes.add(outcome);
          }
        });
    TetherAgent agent = tether.agent(id).device("agent-java").listener(answerer).open();
    answerer.serve(agent);

    ChatAnswerer.Outcome first = outcomes.poll(30, TimeUnit.SECONDS);
    assertEquals("m-1", first.input());
    assertEquals("complete", first.status());
    assertEquals("echo 1: first and some more words to stream ", answerText(screen, first.run()));
    assertEquals(first.run(), runs.poll(30, TimeUnit.SECONDS).id());

    // A long answer, steered while it streams.
    laptop.publish(Events.userMessage("m-3", "long answer please")).get(30, TimeUnit.SECONDS);
    AgentRun steered = runs.poll(30, TimeUnit.SECONDS);
    assertEquals("m-3", steered.input());
    String steeredRun = steered.id();
    screen.await(e -> e.event() instanceof Event.MessageDelta && steeredRun.equals(e.event().run()), WAIT);
    Frames.ControlAccepted steer = laptop.steer(steeredRun, "shorter").get(30, TimeUnit.SECONDS);
    ChatAnswerer.Outcome third = outcomes.poll(30, TimeUnit.SECONDS);
    assertEquals("m-3", third.input());
    assertEquals("complete", third.status());
    String text = answerText(screen, steeredRun);
    assertTrue(text.startsWith("echo 3: long answer please"), text);
    assertTrue(text.endsWith("\n\nsteered: shorter"), "the steer's step continues the same answer: " + text);
    SessionEvent ack = screen.await(e -> e.event() instanceof Event.ControlAck a
        && steer.id().equals(a.control()), WAIT);
    assertTrue(((Event.ControlAck) ack.event()).consumed());
    assertEquals(1, screen.events().stream().filter(e -> e.event() instanceof Event.MessageStart s
        && steeredRun.equals(s.run())).count(), "one answer message per run");

    // Stop in the middle of the next answer.
    laptop.publish(Events.userMessage("m-4", "long story")).get(30, TimeUnit.SECONDS);
    AgentRun stopped = runs.poll(30, TimeUnit.SECONDS);
    screen.await(e -> e.event() instanceof Event.MessageDelta && stopped.id().equals(e.event().run()), WAIT);
    String fence = laptop.cancelMessage("m-4").get(30, TimeUnit.SECONDS).fence();
    ChatAnswerer.Outcome fourth = outcomes.poll(30, TimeUnit.SECONDS);
    assertEquals("cancelled", fourth.status());
    assertEquals(fence, fourth.fence());
    ScriptedStreamingChatModel.Call call = model.calls().get(model.calls().size() - 1);
    assertTrue(call.cancelled().isDone(), "the model call was cancelled");

    assertTrue(outcomes.isEmpty(), "m-2 was cancelled before the agent came: " + outcomes);
    assertEquals(0, screen.events().stream().filter(e -> e.event() instanceof Event.RunStart r
        && "m-2".equals(r.input())).count());
    answerer.close();
    agent.close();
    laptop.close();
  }

  private static String answerText(Recorder screen, String run) throws InterruptedException {
    screen.await(e -> e.event() instanceof Event.RunEnd end && run.equals(end.run()), WAIT);
    return screen.events().stream().map(SessionEvent::event)
        .filter(e -> e instanceof Event.MessageDelta && run.equals(e.run()))
        .map(e -> ((Event.MessageDelta) e).text()).collect(Collectors.joining());
  }
}
