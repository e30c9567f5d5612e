package io.tether.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Who is present in a session, as one session connection sees it: a snapshot from
 * {@code GET /v1/sessions/{id}} (as of its {@code tail}), then the {@code presence.*} events after
 * that tail. Events that arrive while the snapshot is on its way are kept and replayed onto it,
 * so the view converges whatever the order of the two. Used only from the session's delivery
 * sequence, so it needs no lock; readers get an immutable copy.
 */
final class PresenceView {
  private final Map<String, String> present = new LinkedHashMap<>();
  private volatile Map<String, String> published = Map.of();
  private List<SessionEvent> sinceRequest;

  /** The current view: device to kind. */
  Map<String, String> current() {
    return published;
  }

  /**
   * Asks for a fresh snapshot; it is applied on {@code delivery} (the same sequence) and
   * {@code changed} is told the result. A failed request leaves the event-built view as it is.
   */
  void refresh(TetherClient client, String sessionId, Executor delivery,
      Consumer<Map<String, String>> changed) {
    if (sinceRequest != null) {
      return;
    }
    sinceRequest = new ArrayList<>();
    client.describe(sessionId).whenComplete((info, error) -> delivery.execute(() -> {
      List<SessionEvent> seen = sinceRequest;
      sinceRequest = null;
      if (error != null || seen == null) {
        return;
      }
      present.clear();
      info.present().forEach(p -> present.put(p.device(), p.kind()));
      for (SessionEvent e : seen) {
        if (info.tail() == null || SessionEvent.isAfter(e.offset(), info.tail())) {
          apply(e.event());
        }
      }
      changed.accept(publish());
    }));
  }

  /** Applies a delivered event; true when the view changed. */
  boolean onEvent(SessionEvent e) {
    if (!(e.event() instanceof Event.PresenceJoined) && !(e.event() instanceof Event.PresenceLeft)) {
      return false;
    }
    if (sinceRequest != null) {
      sinceRequest.add(e);
    }
    if (apply(e.event())) {
      publish();
      return true;
    }
    return false;
  }

  private boolean apply(Event event) {
    if (event instanceof Event.PresenceJoined j && j.device() != null) {
      String kind = j.kind() == null ? "client" : j.kind();
      return !kind.equals(present.put(j.device(), kind));
    }
    if (event instanceof Event.PresenceLeft l && l.device() != null) {
      return present.remove(l.device()) != null;
    }
    return false;
  }

  private Map<String, String> publish() {
    published = Collections.unmodifiableMap(new LinkedHashMap<>(present));
    return published;
  }
}
