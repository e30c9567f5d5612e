package io.tether.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A session listener that records everything delivered, with the time it arrived, and lets a
 * test wait (bounded) until what it expects has arrived.
 */
class Recorder implements SessionListener {
  record Timed<T>(long nanos, T value) {}

  private final List<SessionEvent> events = new ArrayList<>();
  private final List<Timed<ConnectionState>> states = new ArrayList<>();
  private final List<TetherException> errors = new ArrayList<>();
  private final List<Map<String, String>> presence = new ArrayList<>();

  @Override
  public synchronized void onEvent(SessionEvent event) {
    events.add(event);
    notifyAll();
  }

  @Override
  public synchronized void onStateChange(ConnectionState state) {
    states.add(new Timed<>(System.nanoTime(), state));
    notifyAll();
  }

  @Override
  public synchronized void onError(TetherException error) {
    errors.add(error);
    notifyAll();
  }

  @Override
  public synchronized void onPresence(Map<String, String> present) {
    presence.add(present);
    notifyAll();
  }

  synchronized List<SessionEvent> events() {
    return List.copyOf(events);
  }

  synchronized List<Timed<ConnectionState>> states() {
    return List.copyOf(states);
  }

  synchronized List<TetherException> errors() {
    return List.copyOf(errors);
  }

  synchronized Map<String, String> lastPresence() {
    return presence.isEmpty() ? Map.of() : presence.get(presence.size() - 1);
  }

  /** Events of a type (the events themselves). */
  synchronized <T extends Event> List<T> of(Class<T> type) {
    List<T> out = new ArrayList<>();
    for (SessionEvent e : events) {
      if (type.isInstance(e.event())) {
        out.add(type.cast(e.event()));
      }
    }
    return out;
  }

  /** Waits until some delivered event matches; returns it. */
  SessionEvent await(Predicate<SessionEvent> match, Duration timeout) throws InterruptedException {
    return awaitCondition(() -> events.stream().filter(match).findFirst().orElse(null), timeout,
        () -> "no event matched; got " + summary());
  }

  /** Waits until at least {@code n} events arrived. */
  void awaitCount(int n, Duration timeout) throws InterruptedException {
    awaitCondition(() -> events.size() >= n ? Boolean.TRUE : null, timeout,
        () -> "fewer than " + n + " events; got " + summary());
  }

  /** Waits until the recorded states satisfy {@code check}. */
  void awaitStates(Predicate<List<ConnectionState>> check, Duration timeout)
      throws InterruptedException {
    awaitCondition(() -> check.test(states.stream().map(Timed::value).toList()) ? Boolean.TRUE : null,
        timeout, () -> "states: " + states.stream().map(Timed::value).toList());
  }

  /** Waits until the presence view satisfies {@code check}. */
  void awaitPresence(Predicate<Map<String, String>> check, Duration timeout)
      throws InterruptedException {
    awaitCondition(() -> !presence.isEmpty() && check.test(presence.get(presence.size() - 1))
        ? Boolean.TRUE : null, timeout, () -> "presence: " + presence);
  }

  /**
   * Probes under this recorder's lock until the probe finds something. The failure message is
   * built under the lock too: the listener threads add to these lists meanwhile.
   */
  private synchronized <T> T awaitCondition(java.util.function.Supplier<T> probe, Duration timeout,
      java.util.function.Supplier<String> failure) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T found = probe.get();
      if (found != null) {
        return found;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(failure.get());
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  private synchronized String summary() {
    int n = events.size();
    return n + " events, last " + (n == 0 ? "none" : events.get(n - 1)) + ", states "
        + states.stream().map(Timed::value).toList() + ", errors " + errors;
  }
}
