package io.tether.examples.chat;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import io.tether.client.langchain4j.ScriptedStreamingChatModel;
import java.time.Duration;
import java.util.List;

/**
 * The example's model: LangChain4j's streaming chat model interface answered by a local script.
 * No model can be reached from here, so every answer says that it is scripted and offline. The
 * answer is long and streamed a word at a time, so that Stop, a reload or a second tab have an
 * answer in flight to act on. A steer arrives as a user turn starting with {@link #STEER}; the
 * step it starts answers that it received it.
 */
final class ScriptedChat {
  private ScriptedChat() {}

  /** How the agent marks a steering text in the conversation it sends the model. */
  static final String STEER = "[steer] ";

  /** The scripted model, one word every {@code interval}. */
  static ScriptedStreamingChatModel model(Duration interval) {
    return new ScriptedStreamingChatModel(ScriptedChat::answer, interval);
  }

  static ScriptedStreamingChatModel.Script answer(ChatRequest request) {
    String said = lastUserText(request.messages());
    if (said.startsWith(STEER)) {
      return ScriptedStreamingChatModel.Script.text("(scripted, offline model) Steer received: \""
          + said.substring(STEER.length()) + "\". Adjusting the scripted plan accordingly.");
    }
    return ScriptedStreamingChatModel.Script.text(String.join(" ",
        "This answer comes from a scripted, offline model (a LangChain4j stub in the Java agent);"
            + " no LLM was called.",
        "You said: \"" + said + "\".",
        "Here is a deliberately long scripted answer, streamed one word at a time, so that you can"
            + " press Stop,",
        "reload the page in the middle of it, or open the same chat in a second tab and watch both"
            + " follow the same",
        "session: every word you see is an event in a durable Tether session, and a reload resumes"
            + " it from the start of",
        "the answer without a gap or a repeated word. Day one: walk the old town. Day two: the"
            + " coast. Day three: the",
        "hills. Day four: a museum. Day five: the market. That is the end of the scripted answer."));
  }

  private static String lastUserText(List<ChatMessage> messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (messages.get(i) instanceof UserMessage user) {
        return user.singleText();
      }
    }
    return "";
  }
}
