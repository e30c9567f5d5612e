package io.tether.examples.chat;

import io.tether.client.SessionInfo;
import io.tether.client.TetherClient;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The chat example's agent in Java. It joins the chats (sessions) it is given, or, without
 * {@code --session}, every session whose id starts with the prefix that {@code GET /v1/sessions}
 * lists (read every half second, as the TypeScript agent does), and answers their user messages
 * through a scripted, offline LangChain4j model. See this module's README.
 *
 * <pre>
 * java -jar examples/chat/agent-java/target/chat-agent.jar [--url URL] [--token TOKEN]
 *     [--session ID]... [--prefix PREFIX] [--device DEVICE] [--delay-ms MS]
 * </pre>
 *
 * Each option falls back to an environment variable: TETHER_URL (else
 * http://localhost:$TETHER_HTTP_PORT, else :8080), TETHER_TOKEN, CHAT_PREFIX ("chat-"),
 * AGENT_DEVICE ("agent-java"), SCRIPTED_DELAY_MS (60). SIGTERM or Ctrl-C closes every session.
 */
public final class ChatAgentMain {
  private ChatAgentMain() {}

  /** Runs the agent until the process is stopped. */
  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    String url = env.getOrDefault("TETHER_URL",
        "http://localhost:" + env.getOrDefault("TETHER_HTTP_PORT", "8080"));
    String token = env.get("TETHER_TOKEN");
    String prefix = env.getOrDefault("CHAT_PREFIX", "chat-");
    String device = env.getOrDefault("AGENT_DEVICE", "agent-java");
    long delayMs = Long.parseLong(env.getOrDefault("SCRIPTED_DELAY_MS", "60"));
    List<String> sessions = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--url" -> url = require(args[i], value);
        case "--token" -> token = require(args[i], value);
        case "--session" -> sessions.add(require(args[i], value));
        case "--prefix" -> prefix = require(args[i], value);
        case "--device" -> device = require(args[i], value);
        case "--delay-ms" -> delayMs = Long.parseLong(require(args[i], value));
        case "-h", "--help" -> {
          System.out.println("usage: chat-agent [--url URL] [--token TOKEN] [--session ID]... "
              + "[--prefix PREFIX] [--device DEVICE] [--delay-ms MS]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + " (try --help)");
      }
      i++;
    }

    Log log = new Log();
    TetherClient tether = TetherClient.builder(URI.create(url)).token(token).build();
    var model = ScriptedChat.model(Duration.ofMillis(delayMs));
    Map<String, ChatAgent> joined = new ConcurrentHashMap<>();
    String agentDevice = device;
    ScheduledExecutorService discovery = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "chat-discovery");
      t.setDaemon(true);
      return t;
    });
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      discovery.shutdownNow();
      joined.values().forEach(ChatAgent::close);
      tether.close();
      log.line("stopped");
      stopped.countDown();
    }, "chat-agent-shutdown"));
    log.line("started", "url", url, "device", device,
        "sessions", sessions.isEmpty() ? "prefix " + prefix : String.join(",", sessions),
        "model", "scripted offline LangChain4j StreamingChatModel (ScriptedStreamingChatModel)");

    if (!sessions.isEmpty()) {
      for (String id : sessions) {
        tether.createSession(id).join();
        joined.computeIfAbsent(id, s -> new ChatAgent(tether, s, agentDevice, model, log));
      }
    } else {
      String chatPrefix = prefix;
      discovery.scheduleWithFixedDelay(() -> {
        try {
          for (SessionInfo s : tether.listSessions().get(10, TimeUnit.SECONDS)) {
            if (s.id().startsWith(chatPrefix) && !s.closed()) {
              joined.computeIfAbsent(s.id(), id -> new ChatAgent(tether, id, agentDevice, model, log));
            }
          }
        } catch (Exception e) {
          log.line("discovery-failed", "error", String.valueOf(e));
        }
      }, 0, 500, TimeUnit.MILLISECONDS);
    }
    stopped.await();
  }

  private static String require(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }
}
