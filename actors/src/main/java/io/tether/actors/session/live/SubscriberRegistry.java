package io.tether.actors.session.live;

import io.tether.actors.session.SessionPush;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The live subscribers of one session entity and the device each one speaks for: the entity's
 * in-memory push list and the source of presence (a device is attached while at least one of its
 * connections is registered and heard from within the presence timeout). Not persisted: after a
 * restart, subscribers register again. Owned by one entity; not thread-safe.
 */
final class SubscriberRegistry {

  /**
   * One registered subscriber.
   *
   * @param device the device it speaks for
   * @param kind {@code client} or {@code agent}
   * @param lastSeen when it last registered or sent a heartbeat (epoch millis)
   */
  record Subscriber(String device, String kind, long lastSeen) {}

  /** Allocated on the first subscriber (an idle entity has none). */
  private Map<ActorRef<SessionPush>, Subscriber> subscribers = Map.of();

  /** Registers or refreshes {@code ref}; true when it was not registered before. */
  boolean attach(ActorRef<SessionPush> ref, String device, String kind, long now) {
    if (subscribers.isEmpty()) {
      subscribers = new HashMap<>(4);
    }
    return subscribers.put(ref, new Subscriber(device, kind, now)) == null;
  }

  /** Removes {@code ref}; the device it spoke for when that device has no connection left. */
  String detach(ActorRef<SessionPush> ref) {
    Subscriber gone = subscribers.isEmpty() ? null : subscribers.remove(ref);
    if (gone == null || attached(gone.device())) {
      return null;
    }
    return gone.device();
  }

  /** Whether some registered subscriber speaks for {@code device}. */
  boolean attached(String device) {
    for (Subscriber s : subscribers.values()) {
      if (s.device().equals(device)) {
        return true;
      }
    }
    return false;
  }

  /** The subscribers not heard from since {@code before} (epoch millis). */
  List<ActorRef<SessionPush>> silentSince(long before) {
    List<ActorRef<SessionPush>> out = new ArrayList<>();
    subscribers.forEach((ref, s) -> {
      if (s.lastSeen() < before) {
        out.add(ref);
      }
    });
    return out;
  }

  /** Every registered subscriber. */
  Set<ActorRef<SessionPush>> refs() {
    return Set.copyOf(subscribers.keySet());
  }

  /** How many subscribers are registered. */
  int size() {
    return subscribers.size();
  }

  /** Whether nobody is registered. */
  boolean isEmpty() {
    return subscribers.isEmpty();
  }

  /** Forgets everyone. */
  void clear() {
    subscribers = Map.of();
  }
}
