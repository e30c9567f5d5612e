package io.tether.actors.harness.output;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A {@link SessionWriter} that keeps sessions in memory and assigns offsets itself (a counter
 * per session, in the fixed-width form). For tests and for a single node without the session
 * entity; it is not durable. Watchers see each event as it is appended.
 */
public final class InMemorySessionWriter implements SessionWriter {

  private final Map<String, List<ObjectNode>> sessions = new ConcurrentHashMap<>();
  private final List<Consumer<ObjectNode>> watchers = new CopyOnWriteArrayList<>();

  @Override
  public CompletionStage<String> append(String sessionId, String producer,
      List<ObjectNode> events) {
    List<ObjectNode> log = sessions.computeIfAbsent(sessionId, id -> new ArrayList<>());
    String offset;
    List<ObjectNode> appended = new ArrayList<>();
    synchronized (log) {
      offset = null;
      for (ObjectNode e : events) {
        ObjectNode copy = e.deepCopy();
        offset = String.format("%016d_%016d", log.size() + 1, 1);
        copy.put("offset", offset);
        log.add(copy);
        appended.add(copy);
      }
    }
    appended.forEach(e -> watchers.forEach(w -> w.accept(e)));
    return CompletableFuture.completedFuture(offset);
  }

  /** A copy of a session's events in offset order. */
  public List<ObjectNode> events(String sessionId) {
    List<ObjectNode> log = sessions.getOrDefault(sessionId, List.of());
    synchronized (log) {
      return List.copyOf(log);
    }
  }

  /** Calls {@code watcher} with every event appended from now on, to any session. */
  public void watch(Consumer<ObjectNode> watcher) {
    watchers.add(watcher);
  }
}
