package io.tether.examples.chat;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import io.tether.client.AgentRun;
import io.tether.client.ConnectionState;
import io.tether.client.SessionListener;
import io.tether.client.TetherAgent;
import io.tether.client.TetherClient;
import io.tether.client.TetherException;
import io.tether.client.langchain4j.ChatAnswerer;

/**
 * The agent of one chat (one session): a {@link TetherAgent} whose user messages a
 * {@link ChatAnswerer} answers with the scripted model, logging what happens as JSON lines.
 */
final class ChatAgent implements AutoCloseable {
  private final ChatAnswerer answerer;
  private final TetherAgent agent;

  ChatAgent(TetherClient tether, String sessionId, String device, StreamingChatModel model, Log log) {
    this.answerer = new ChatAnswerer(model, 3,
        steer -> UserMessage.from(ScriptedChat.STEER + steer), new ChatAnswerer.Observer() {
          @Override
          public void answering(String input, AgentRun run) {
            log.line("answering", "session", sessionId, "run", run.id(), "input", input);
          }

          @Override
          public void answered(ChatAnswerer.Outcome o) {
            if (o.status().equals("cancelled")) {
              // The same lines as the TypeScript agent's, so either agent can be watched alike.
              log.line("model-call-aborted", "session", sessionId, "run", o.run(),
                  "input", o.input());
            }
            log.line("answered", "session", sessionId, "run", o.run(), "input", o.input(),
                "status", o.status(), "fence", o.fence(), "error", o.error());
          }
        });
    SessionListener status = new SessionListener() {
      private boolean joined;

      @Override
      public void onUpToDate(String offset) {
        if (!joined) {
          joined = true;
          log.line("joined", "session", sessionId);
        }
      }

      @Override
      public void onStateChange(ConnectionState state) {
        log.line("connection", "session", sessionId, "state", state.name().toLowerCase());
      }

      @Override
      public void onError(TetherException error) {
        log.line("session-error", "session", sessionId, "code", error.code(),
            "detail", error.getMessage());
      }
    };
    this.agent = tether.agent(sessionId).device(device).listener(status).listener(answerer).open();
    answerer.serve(agent);
  }

  @Override
  public void close() {
    answerer.close();
    agent.close();
  }
}
