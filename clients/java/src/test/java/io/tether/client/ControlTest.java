package io.tether.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A person's client and an agent on one session, each with its own token: cancel, steer and
 * interrupt go from the client to the agent's callbacks and come back as the server's answer and
 * the agent's acknowledgement; presence and read cursors.
 */
@ExtendWith(TestNode.Shared.class)
class ControlTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestNode node;
  private static TetherClient user;
  private static TetherClient agentSide;

  @BeforeAll
  static void start(TestNode shared) throws Exception {
    node = shared;
    user = TetherClient.builder(URI.create(node.baseUrl()))
        .token(node.token("user-42", "ctl-*", "subscribe", "publish", "control")).build();
    agentSide = TetherClient.builder(URI.create(node.baseUrl()))
        .token(node.token("agent-1", "ctl-*", "subscribe", "publish")).build();
  }

  @AfterAll
  static void stop() {
    user.close();
    agentSide.close();
  }

  @Test
  void cancelReturnsTheFenceAndFiresTheAgentsCallback() throws Exception {
    String id = "ctl-cancel-" + UUID.randomUUID();
    user.createSession(id).join();
    Recorder screen = new Recorder();
    TetherSession phone = user.session(id).device("phone").listener(screen).open();
    TetherAgent agent = agentSide.agent(id).device("agent-1").open();
    agent.session().upToDate().get(30, TimeUnit.SECONDS);
    phone.upToDate().get(30, TimeUnit.SECONDS);

    phone.publish(Events.userMessage("m-1", "Plan a trip")).get(30, TimeUnit.SECONDS);
    AgentRun run = agent.startRun("m-1").get(30, TimeUnit.SECONDS);
    CompletableFuture<AgentRun.Cancellation> callback = new CompletableFuture<>();
    run.onCancel(callback::complete);
    AgentRun.Message answer = run.startMessage("assistant");
    answer.delta("Day 1: ").get(30, TimeUnit.SECONDS);
    screen.await(e -> e.event() instanceof Event.MessageDelta, WAIT);

    Frames.Cancelled cancelled = phone.cancelRun(run.id()).get(30, TimeUnit.SECONDS);
    assertNotNull(cancelled.fence());

    AgentRun.Cancellation seen = callback.get(30, TimeUnit.SECONDS);
    assertEquals(cancelled.fence(), seen.fence(), "the agent learns the same fence");
    assertEquals("cancelled", seen.reason());
    assertEquals("user-42", seen.by());
    assertTrue(run.isCancelled());

    SessionEvent fence = screen.await(e -> e.event() instanceof Event.ControlCancel, WAIT);
    assertEquals(cancelled.fence(), fence.offset(), "the control.cancel event sits at the fence");
    SessionEvent end = screen.await(e -> e.event() instanceof Event.RunEnd, WAIT);
    assertEquals("cancelled", ((Event.RunEnd) end.event()).status());
    SessionEvent ack = screen.await(e -> e.event() instanceof Event.ControlAck, WAIT);
    assertEquals(cancelled.id(), ((Event.ControlAck) ack.event()).control(),
        "the agent acknowledged the cancel");
    assertTrue(((Event.ControlAck) ack.event()).consumed());

    // After the fence the agent's writes for the run are not sent, and the session holds none.
    assertNull(answer.delta("Lisbon").get(30, TimeUnit.SECONDS));
    run.end("complete").get(30, TimeUnit.SECONDS);
    // A direct write through the producer is refused by the session itself.
    ExecutionException refused = assertThrows(ExecutionException.class, () -> agent.producer()
        .send(Events.messageDelta(run.id(), answer.id(), "late")).get(30, TimeUnit.SECONDS));
    assertEquals("fenced", ((TetherException) refused.getCause()).code());
    List<SessionEvent> afterFence = screen.events().stream()
        .filter(e -> SessionEvent.isAfter(e.offset(), cancelled.fence()))
        .filter(e -> run.id().equals(e.event().run())).toList();
    for (SessionEvent e : afterFence) {
      assertTrue(e.event() instanceof Event.RunEnd || e.event() instanceof Event.ControlAck
          || e.event() instanceof Event.MessageEnd, "only the session's and control events "
          + "follow the fence: " + e);
    }

    // A second cancel reports the same fence.
    assertEquals(cancelled.fence(), phone.cancelRun(run.id()).get(30, TimeUnit.SECONDS).fence());
    agent.close();
    phone.close();
  }

  @Test
  void cancellingAnInputBeforeItsRunStartsRefusesTheRun() throws Exception {
    String id = "ctl-early-" + UUID.randomUUID();
    user.createSession(id).join();
    TetherSession phone = user.session(id).device("phone").open();
    TetherAgent agent = agentSide.agent(id).device("agent-1").open();
    phone.upToDate().get(30, TimeUnit.SECONDS);
    phone.publish(Events.userMessage("m-9", "never mind")).get(30, TimeUnit.SECONDS);

    Frames.Cancelled cancelled = phone.cancelMessage("m-9").get(30, TimeUnit.SECONDS);
    assertNotNull(cancelled.fence());
    ExecutionException refused = assertThrows(ExecutionException.class,
        () -> agent.startRun("m-9").get(30, TimeUnit.SECONDS));
    assertEquals("fenced", ((TetherException) refused.getCause()).code());
    assertTrue(agent.runs().isEmpty(), "the refused run is forgotten");
    agent.close();
    phone.close();
  }

  @Test
  void steerReachesTheAgentAndIsAcknowledged() throws Exception {
    String id = "ctl-steer-" + UUID.randomUUID();
    user.createSession(id).join();
    Recorder screen = new Recorder();
    TetherSession phone = user.session(id).device("phone").listener(screen).open();
    TetherAgent agent = agentSide.agent(id).device("agent-1").open();
    agent.session().upToDate().get(30, TimeUnit.SECONDS);
    phone.upToDate().get(30, TimeUnit.SECONDS);

    AgentRun run = agent.startRun(null).get(30, TimeUnit.SECONDS);
    CompletableFuture<ControlRequest> steered = new CompletableFuture<>();
    run.onSteer(request -> {
      steered.complete(request);
      request.accept();
    });

    Frames.ControlAccepted accepted = phone.steer(run.id(), "only two days").get(30, TimeUnit.SECONDS);
    ControlRequest request = steered.get(30, TimeUnit.SECONDS);
    assertEquals("only two days", request.text());
    assertEquals(accepted.id(), request.id());
    assertEquals(accepted.offset(), request.offset());
    assertEquals("phone", request.device());
    SessionEvent ack = screen.await(e -> e.event() instanceof Event.ControlAck a
        && accepted.id().equals(a.control()), WAIT);
    assertTrue(((Event.ControlAck) ack.event()).consumed());
    assertTrue(SessionEvent.isAfter(ack.offset(), accepted.offset()));

    // No interrupt callback: the agent declines at once, so nobody waits for an answer.
    Frames.ControlAccepted interrupt = phone.interrupt(run.id()).get(30, TimeUnit.SECONDS);
    SessionEvent declined = screen.await(e -> e.event() instanceof Event.ControlAck a
        && interrupt.id().equals(a.control()), WAIT);
    assertFalse(((Event.ControlAck) declined.event()).consumed());

    run.end("complete").get(30, TimeUnit.SECONDS);
    ExecutionException notRunning = assertThrows(ExecutionException.class,
        () -> phone.steer(run.id(), "too late").get(30, TimeUnit.SECONDS));
    assertEquals("not-running", ((TetherException) notRunning.getCause()).code());
    assertEquals(ConnectionState.LIVE, phone.state(), "a refusal leaves the socket usable");
    agent.close();
    phone.close();
  }

  @Test
  void aTokenWithoutControlCannotCancel() throws Exception {
    String id = "ctl-forbidden-" + UUID.randomUUID();
    user.createSession(id).join();
    TetherSession agentSocket = agentSide.session(id).device("agent-1").open();
    agentSocket.upToDate().get(30, TimeUnit.SECONDS);
    ExecutionException refused = assertThrows(ExecutionException.class,
        () -> agentSocket.cancelRun("r-1").get(30, TimeUnit.SECONDS));
    assertEquals("forbidden", ((TetherException) refused.getCause()).code());
    agentSocket.close();
  }

  @Test
  void presenceAndCursorsWithUnreadCounts() throws Exception {
    String id = "ctl-presence-" + UUID.randomUUID();
    user.createSession(id).join();
    Recorder phoneView = new Recorder();
    TetherSession phone = user.session(id).device("phone").listener(phoneView).open();
    TetherAgent agent = agentSide.agent(id).device("agent-1").open();
    phone.upToDate().get(30, TimeUnit.SECONDS);
    phoneView.awaitPresence(p -> "agent".equals(p.get("agent-1")) && "client".equals(p.get("phone")), WAIT);

    TetherSession laptop = user.session(id).device("laptop").open();
    laptop.upToDate().get(30, TimeUnit.SECONDS);
    phoneView.awaitPresence(p -> p.containsKey("laptop"), WAIT);
    laptop.close();
    phoneView.awaitPresence(p -> !p.containsKey("laptop") && p.containsKey("agent-1"), WAIT);
    assertEquals(phoneView.lastPresence(), phone.presence());

    // Three answers; the phone reads up to the end of the first.
    AgentRun run = agent.startRun(null).get(30, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      AgentRun.Message m = run.startMessage("assistant");
      m.delta("answer " + i);
      m.end("complete").get(30, TimeUnit.SECONDS);
    }
    run.end("complete").get(30, TimeUnit.SECONDS);
    SessionEvent firstEnd = phoneView.await(e -> e.event() instanceof Event.MessageEnd, WAIT);
    Frames.Acked acked = phone.markRead(firstEnd.offset()).get(30, TimeUnit.SECONDS);
    assertEquals(firstEnd.offset(), acked.offset());

    // Cursors are persisted coalesced (every second by default): probe until it shows.
    SessionInfo.Cursor cursor = null;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      cursor = user.describe(id).get(30, TimeUnit.SECONDS).cursor("phone");
      if (cursor != null && cursor.offset().equals(firstEnd.offset())) {
        break;
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    assertNotNull(cursor, "the phone's cursor is listed");
    assertEquals(firstEnd.offset(), cursor.offset());
    assertEquals(2, cursor.unread(), "two answers ended after the cursor");
    SessionInfo info = user.describe(id).get(30, TimeUnit.SECONDS);
    assertEquals("complete", info.run(run.id()).status());
    agent.close();
    phone.close();
  }
}
