package io.tether.client;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Folds a session's message events into whole messages: {@code message.start}, its
 * {@code message.delta}s and {@code message.end}, or one {@code message} event (published whole,
 * or rolled up by the {@code message} granularity). Feed it events in offset order; it hands
 * back each message when it ends. Not thread-safe: use it from one listener.
 *
 * <pre>{@code
 * MessageAssembler messages = new MessageAssembler();
 * public void onEvent(SessionEvent e) {
 *   messages.accept(e).filter(m -> "user".equals(m.role())).ifPresent(this::answer);
 * }
 * }</pre>
 */
public final class MessageAssembler {

  /**
   * A finished message.
   *
   * @param id its {@code data.id}
   * @param role {@code user}, {@code assistant}, ... (null when its start was not seen)
   * @param text the whole text
   * @param status {@code complete}, {@code cancelled} or {@code error}
   * @param run the run it belongs to, or null
   * @param producer who wrote it
   * @param offset the offset of the event that ended it
   */
  public record Assembled(String id, String role, String text, String status, String run,
      String producer, String offset) {}

  private static final int MAX_OPEN = 10_000;

  private record Open(String role, StringBuilder text, String run, String producer) {}

  private final Map<String, Open> open = new LinkedHashMap<>();

  /** Takes one event; returns the message it finished, if it finished one. */
  public Optional<Assembled> accept(SessionEvent delivered) {
    Event e = delivered.event();
    if (e instanceof Event.Message m) {
      open.remove(m.id());
      return Optional.of(new Assembled(m.id(), m.role(), nonNull(m.text()),
          m.status() == null ? "complete" : m.status(), m.run(), m.producer(), delivered.offset()));
    }
    if (e instanceof Event.MessageStart s && s.id() != null) {
      if (open.size() >= MAX_OPEN) {
        open.remove(open.keySet().iterator().next());
      }
      open.put(s.id(), new Open(s.role(), new StringBuilder(nonNull(s.text())), s.run(),
          s.producer()));
    } else if (e instanceof Event.MessageDelta d && d.id() != null) {
      open.computeIfAbsent(d.id(), k -> new Open(null, new StringBuilder(), d.run(), d.producer()))
          .text().append(nonNull(d.text()));
    } else if (e instanceof Event.MessageEnd end && end.id() != null) {
      Open o = open.remove(end.id());
      if (o == null) {
        o = new Open(null, new StringBuilder(), end.run(), end.producer());
      }
      return Optional.of(new Assembled(end.id(), o.role(), o.text().toString(),
          end.status() == null ? "complete" : end.status(), o.run(), o.producer(),
          delivered.offset()));
    } else if (e instanceof Event.RunEnd end && end.run() != null
        && !"complete".equals(end.status())) {
      // A run the session ended (cancelled, lost) leaves its messages open for good.
      open.values().removeIf(o -> end.run().equals(o.run()));
    }
    return Optional.empty();
  }

  /** The text so far of message {@code id} while it is open. */
  public Optional<String> partial(String id) {
    Open o = open.get(id);
    return o == null ? Optional.empty() : Optional.of(o.text().toString());
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }
}
