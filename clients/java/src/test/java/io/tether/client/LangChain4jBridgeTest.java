package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.tether.client.langchain4j.ScriptedStreamingChatModel;
import io.tether.client.langchain4j.TetherStreamingHandler;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The LangChain4j bridge end to end: a streaming model's answer (text and a tool call) becomes a
 * run in the session, event for event; a cancel from a client stops the model's stream.
 */
@ExtendWith(TestNode.Shared.class)
class LangChain4jBridgeTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestNode node;
  private static TetherClient tether;

  @BeforeAll
  static void start(TestNode shared) throws Exception {
    node = shared;
    tether = TetherClient.builder(URI.create(node.baseUrl())).token(node.fullToken()).build();
  }

  @AfterAll
  static void stop() {
    tether.close();
  }

  @Test
  void theModelsStreamBecomesARunInTheSession() throws Exception {
    String id = "lc4j-answer-" + UUID.randomUUID();
    tether.createSession(id).join();
    ScriptedStreamingChatModel.Script script = ScriptedStreamingChatModel.Script
        .text("Lisbon in two days: the Alfama, then Belem. (scripted, offline)")
        .withToolCall("call-1", "weather", "{\"city\":\"Lisbon\"}");
    ScriptedStreamingChatModel model = new ScriptedStreamingChatModel(r -> script,
        Duration.ofMillis(5));
    Recorder screen = new Recorder();
    TetherSession phone = tether.session(id).device("phone").listener(screen).open();
    TetherAgent agent = tether.agent(id).device("agent-lc4j").open();
    phone.upToDate().get(30, TimeUnit.SECONDS);
    phone.publish(Events.userMessage("m-1", "Plan a trip")).get(30, TimeUnit.SECONDS);

    AgentRun run = agent.startRun("m-1").get(30, TimeUnit.SECONDS);
    ChatResponse response = TetherStreamingHandler.stream(model,
        ChatRequest.builder().messages(UserMessage.from("Plan a trip")).build(), run, true)
        .get(30, TimeUnit.SECONDS);
    assertEquals(script.fullText(), response.aiMessage().text());
    screen.await(e -> e.event() instanceof Event.RunEnd end && run.id().equals(end.run()), WAIT);

    List<Event> ofRun = screen.events().stream().map(SessionEvent::event)
        .filter(e -> run.id().equals(e.run())).toList();
    List<String> types = ofRun.stream().map(Event::type).distinct().toList();
    assertEquals(List.of("run.start", "message.start", "message.delta", "message.end",
        "tool.call", "run.end"), types, "the run's events, in order");
    assertEquals("m-1", ((Event.RunStart) ofRun.get(0)).input());
    assertEquals("assistant", ((Event.MessageStart) ofRun.get(1)).role());
    String streamed = ofRun.stream().filter(e -> e instanceof Event.MessageDelta)
        .map(e -> ((Event.MessageDelta) e).text()).collect(Collectors.joining());
    assertEquals(script.fullText(), streamed, "every token, in order, once");
    assertEquals(script.tokens().size(),
        ofRun.stream().filter(e -> e instanceof Event.MessageDelta).count());
    Event.ToolCall call = (Event.ToolCall) ofRun.stream().filter(e -> e instanceof Event.ToolCall)
        .findFirst().orElseThrow();
    assertEquals("call-1", call.toolCallId());
    assertEquals("weather", call.name());
    assertEquals("{\"city\":\"Lisbon\"}", call.arguments());
    assertEquals("complete", ((Event.RunEnd) ofRun.get(ofRun.size() - 1)).status());
    assertEquals("agent-lc4j", ofRun.get(0).producer());
    agent.close();
    phone.close();
  }

  @Test
  void aCancelStopsTheModelCall() throws Exception {
    String id = "lc4j-cancel-" + UUID.randomUUID();
    tether.createSession(id).join();
    ScriptedStreamingChatModel.Script script = ScriptedStreamingChatModel.Script
        .text("word ".repeat(400));
    ScriptedStreamingChatModel model = new ScriptedStreamingChatModel(r -> script,
        Duration.ofMillis(25));
    Recorder screen = new Recorder();
    TetherSession phone = tether.session(id).device("phone").listener(screen).open();
    TetherAgent agent = tether.agent(id).device("agent-lc4j").open();
    phone.upToDate().get(30, TimeUnit.SECONDS);
    agent.session().upToDate().get(30, TimeUnit.SECONDS);

    AgentRun run = agent.startRun(null).get(30, TimeUnit.SECONDS);
    CompletableFuture<ChatResponse> answer = TetherStreamingHandler.stream(model,
        ChatRequest.builder().messages(UserMessage.from("talk")).build(), run, true);
    screen.await(e -> e.event() instanceof Event.MessageDelta, WAIT);
    Frames.Cancelled cancel = phone.cancelRun(run.id()).get(30, TimeUnit.SECONDS);
    String fence = cancel.fence();

    ScriptedStreamingChatModel.Call call = model.calls().get(0);
    int streamedAtCancel = call.cancelled().get(30, TimeUnit.SECONDS);
    assertTrue(streamedAtCancel < script.tokens().size(), "the model's stream was cancelled "
        + "after " + streamedAtCancel + " of " + script.tokens().size() + " tokens");
    ExecutionException cancelled = assertThrows(ExecutionException.class,
        () -> answer.get(30, TimeUnit.SECONDS));
    RunCancelledException why = assertInstanceOf(RunCancelledException.class, cancelled.getCause());
    assertEquals(fence, why.cancellation().fence());
    assertTrue(!call.completed().isDone(), "the model call never ran to its end");
    assertEquals(streamedAtCancel, call.streamed(), "no token was produced after the cancel");

    screen.await(e -> e.event() instanceof Event.RunEnd end && run.id().equals(end.run()), WAIT);
    List<SessionEvent> deltasAfterFence = screen.events().stream()
        .filter(e -> e.event() instanceof Event.MessageDelta && run.id().equals(e.event().run()))
        .filter(e -> SessionEvent.isAfter(e.offset(), fence)).toList();
    assertEquals(List.of(), deltasAfterFence, "nothing of the run after its fence");
    // The agent was writing when the fence fell: its refused writes must not swallow the
    // acknowledgement of the cancel.
    screen.await(e -> e.event() instanceof Event.ControlAck ack
        && cancel.id().equals(ack.control()) && ack.consumed(), WAIT);
    agent.close();
    phone.close();
  }
}
