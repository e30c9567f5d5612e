package io.tether.actors.session;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a JSON session remembers about its own events, folded from the items it persisted: runs
 * and their fences, cancelled input messages, who is present, read cursors, and the offsets of
 * recent message ends (for unread counts). Part of the entity state, so a fence is checked by the
 * stream's single writer atomically with the append it refuses. Immutable.
 *
 * <p>Bounded: at most {@link #MAX_ENDED} ended runs and cancelled inputs, and
 * {@link #MAX_MESSAGE_ENDS} message ends, are remembered (oldest forgotten first). Output for a
 * run forgotten that way is no longer refused.
 *
 * @param runs the runs seen, in start order
 * @param cancelledInputs input message ids cancelled before (or after) a run started on them,
 *     with the fence offset
 * @param present the attached devices and their kind ({@code client} or {@code agent})
 * @param cursors the read cursor of each device
 * @param messageEnds the offsets of the most recent {@code message.end} events, oldest first
 * @param messages the messages seen, by {@link SessionEnvelope#messageKey()}, in start order:
 *     every open one (at most {@link #MAX_OPEN_MESSAGES}) and the {@link #MAX_ENDED_MESSAGES}
 *     most recently ended; what the fence and a resume at message granularity need
 * @param controls the request id of each recent steer and interrupt and the offset of its
 *     control event (at most {@link #MAX_CONTROLS}): a request sent again after a dropped
 *     connection is answered with its first offset instead of being applied twice
 */
public record SessionLedger(Map<String, RunEntry> runs, Map<String, Offset> cancelledInputs,
    Map<String, String> present, Map<String, Offset> cursors, List<Offset> messageEnds,
    Map<String, MessageSpan> messages, Map<String, Offset> controls) {

  /** Missing collections (older snapshots) read as empty. */
  public SessionLedger {
    runs = runs == null ? Map.of() : runs;
    cancelledInputs = cancelledInputs == null ? Map.of() : cancelledInputs;
    present = present == null ? Map.of() : present;
    cursors = cursors == null ? Map.of() : cursors;
    messageEnds = messageEnds == null ? List.of() : messageEnds;
    messages = messages == null ? Map.of() : messages;
    controls = controls == null ? Map.of() : controls;
  }

  /** Ended runs and cancelled inputs remembered. */
  public static final int MAX_ENDED = 1000;
  /** Message ends remembered for unread counts. */
  public static final int MAX_MESSAGE_ENDS = 1000;
  /** Ended messages whose span is remembered (resume at message granularity). */
  public static final int MAX_ENDED_MESSAGES = 256;
  /** Steer and interrupt request ids remembered (a resend within them is applied once). */
  public static final int MAX_CONTROLS = 256;
  /** Open messages remembered (a producer that never ends its messages cannot grow this). */
  public static final int MAX_OPEN_MESSAGES = 1000;

  /**
   * One run.
   *
   * @param producer the producer of its {@code run.start}, or null when only a cancel named it
   * @param input the input message it answers, or null
   * @param status null while running, else the {@code run.end} status
   * @param fence the offset of the cancel (or loss) after which its output is refused, or null
   * @param attached whether its producer was a present device when it started (only such runs
   *     can be lost: an HTTP-only producer has no presence)
   * @param start the offset of its {@code run.start}, or null (before it started, or recorded
   *     before starts were kept)
   */
  public record RunEntry(String producer, String input, String status, Offset fence,
      boolean attached, Offset start) {

    RunEntry withStatus(String status, Offset fence) {
      return new RunEntry(producer, input, status, fence, attached, start);
    }

    RunEntry withFence(Offset fence) {
      return new RunEntry(producer, input, status, fence, attached, start);
    }
  }

  /**
   * One message: from its {@code message.start} (or a whole {@code message}) to its end.
   *
   * @param id its {@code data.id}, or null for a message written without one
   * @param run the run it belongs to, or null
   * @param start the offset of its start
   * @param end the offset of its end, or null while it is open
   */
  public record MessageSpan(String id, String run, Offset start, Offset end) {

    /** Whether it has not ended. */
    public boolean open() {
      return end == null;
    }
  }

  /** The ledger of a session with no events. */
  public static SessionLedger empty() {
    return EMPTY;
  }

  /** Shared: immutable. */
  private static final SessionLedger EMPTY =
      new SessionLedger(Map.of(), Map.of(), Map.of(), Map.of(), List.of(), Map.of(),
          Map.of());

  /** Why an item may not be appended now, or null when it may. */
  public String refusal(SessionEnvelope e) {
    if (e.type().equals("run.start")) {
      RunEntry run = e.run() == null ? null : runs.get(e.run());
      if (run != null && run.fence() != null) {
        return "run " + e.run() + " was cancelled at " + run.fence();
      }
      String input = e.dataText("input");
      if (input != null && cancelledInputs.containsKey(input)) {
        return "input message " + input + " was cancelled at " + cancelledInputs.get(input);
      }
      return null;
    }
    String runId = e.run();
    if (runId == null && SessionEnvelope.isMessage(e.type())) {
      // A delta or end that names no run still belongs to its message's run.
      MessageSpan message = messages.get(e.messageKey());
      runId = message == null ? null : message.run();
    }
    if (runId == null || e.type().startsWith("control.") || e.type().startsWith("presence.")) {
      return null;
    }
    RunEntry run = runs.get(runId);
    if (run != null && run.fence() != null) {
      return "run " + runId + " was " + (run.status() == null ? "cancelled" : run.status())
          + " at " + run.fence() + "; its output is refused";
    }
    return null;
  }

  /** Whether the run is started and has not ended. */
  public boolean running(String run) {
    RunEntry entry = run == null ? null : runs.get(run);
    return entry != null && entry.producer() != null && entry.status() == null;
  }

  /** The run answering an input message, or null. */
  public String runForInput(String input) {
    for (Map.Entry<String, RunEntry> run : runs.entrySet()) {
      if (input.equals(run.getValue().input())) {
        return run.getKey();
      }
    }
    return null;
  }

  /** The running runs whose producer was attached at their start and is not present now. */
  public List<String> orphaned() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, RunEntry> run : runs.entrySet()) {
      RunEntry e = run.getValue();
      if (e.status() == null && e.attached() && !present.containsKey(e.producer())) {
        out.add(run.getKey());
      }
    }
    return out;
  }

  /** The runs still running whose producer is {@code producer}. */
  public List<String> runningOf(String producer) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, RunEntry> run : runs.entrySet()) {
      if (run.getValue().status() == null && producer.equals(run.getValue().producer())) {
        out.add(run.getKey());
      }
    }
    return out;
  }

  /** Message ends after {@code cursor} (capped at {@link #MAX_MESSAGE_ENDS}). */
  public int unreadAfter(Offset cursor) {
    int unread = 0;
    for (int i = messageEnds.size() - 1; i >= 0 && messageEnds.get(i).isAfter(cursor); i--) {
      unread++;
    }
    return unread;
  }

  /** The open messages of {@code run}, in start order. */
  public List<MessageSpan> openMessagesOf(String run) {
    List<MessageSpan> out = new ArrayList<>();
    for (MessageSpan m : messages.values()) {
      if (m.open() && run.equals(m.run())) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * Where a replay at message granularity that resumes after {@code after} must start so that
   * every message it delivers is whole: the offset just before the earliest start of a
   * remembered message that began at or before {@code after} and had not ended by then; or
   * {@code after} itself.
   */
  public Offset messageRewind(Offset after) {
    Offset earliest = null;
    for (MessageSpan m : messages.values()) {
      boolean straddles = !m.start().isAfter(after) && (m.open() || m.end().isAfter(after));
      if (straddles && (earliest == null || m.start().isBefore(earliest))) {
        earliest = m.start();
      }
    }
    return earliest == null ? after : earliest.justBefore();
  }

  /**
   * Whether {@link #fold} would leave the ledger as it is for this item, known without parsing
   * it: a {@code message.delta} ({@link SessionEnvelope#isCertainlyDelta}) changes nothing here.
   * (The fence still reads deltas: {@link #refusal} is asked of every item a client appends.)
   */
  public static boolean foldSkips(byte[] item) {
    return SessionEnvelope.isCertainlyDelta(item);
  }

  /** The ledger after one persisted item at {@code offset}. */
  public SessionLedger fold(Offset offset, SessionEnvelope e) {
    switch (e.type()) {
      case "run.start": {
        if (e.run() == null) {
          return this;
        }
        Map<String, RunEntry> next = copy(runs);
        next.put(e.run(), new RunEntry(e.producer(), e.dataText("input"), null, null,
            e.producer() != null && present.containsKey(e.producer()), offset));
        return withRuns(next);
      }
      case "run.end": {
        RunEntry run = e.run() == null ? null : runs.get(e.run());
        if (run == null) {
          return this;
        }
        String status = e.dataText("status") == null ? "complete" : e.dataText("status");
        boolean fences = status.equals("lost") || status.equals("cancelled");
        Map<String, RunEntry> next = copy(runs);
        next.put(e.run(), run.withStatus(status,
            run.fence() != null ? run.fence() : fences ? offset : null));
        return withRuns(next);
      }
      case "control.cancel": {
        Map<String, RunEntry> next = copy(runs);
        Map<String, Offset> inputs = cancelledInputs;
        String target = e.run();
        String message = e.dataText("message");
        if (message != null) {
          inputs = copy(cancelledInputs);
          inputs.putIfAbsent(message, offset);
          trim(inputs);
          if (target == null) {
            target = runForInput(message);
          }
        }
        if (target != null) {
          RunEntry run = next.get(target);
          if (run == null) {
            next.put(target, new RunEntry(null, message, null, offset, false, null));
          } else if (run.fence() == null) {
            next.put(target, run.withFence(offset));
          }
        }
        return new SessionLedger(trimRuns(next), Collections.unmodifiableMap(inputs), present,
            cursors, messageEnds, messages, controls);
      }
      case "control.steer":
      case "control.interrupt": {
        String id = e.dataText("id");
        if (id == null) {
          return this;
        }
        Map<String, Offset> next = copy(controls);
        next.putIfAbsent(id, offset);
        var it = next.keySet().iterator();
        while (next.size() > MAX_CONTROLS && it.hasNext()) {
          it.next();
          it.remove();
        }
        return new SessionLedger(runs, cancelledInputs, present, cursors, messageEnds, messages,
            Collections.unmodifiableMap(next));
      }
      case "presence.joined": {
        String device = e.dataText("device");
        if (device == null) {
          return this;
        }
        Map<String, String> next = copy(present);
        next.put(device, e.dataText("kind") == null ? "client" : e.dataText("kind"));
        return new SessionLedger(runs, cancelledInputs, Collections.unmodifiableMap(next),
            cursors, messageEnds, messages, controls);
      }
      case "presence.left": {
        String device = e.dataText("device");
        if (device == null || !present.containsKey(device)) {
          return this;
        }
        Map<String, String> next = copy(present);
        next.remove(device);
        return new SessionLedger(runs, cancelledInputs, Collections.unmodifiableMap(next),
            cursors, messageEnds, messages, controls);
      }
      case "message.start": {
        Map<String, MessageSpan> next = copy(messages);
        next.remove(e.messageKey()); // a restarted message moves to the end of start order
        next.put(e.messageKey(), new MessageSpan(e.dataText("id"), e.run(), offset, null));
        return new SessionLedger(runs, cancelledInputs, present, cursors, messageEnds,
            trimMessages(next), controls);
      }
      case "message.end":
      case "message": {
        List<Offset> ends = new ArrayList<>(messageEnds);
        ends.add(offset);
        while (ends.size() > MAX_MESSAGE_ENDS) {
          ends.remove(0);
        }
        Map<String, MessageSpan> next = copy(messages);
        MessageSpan span = next.get(e.messageKey());
        if (e.type().equals("message") || span == null) {
          next.remove(e.messageKey());
          next.put(e.messageKey(), new MessageSpan(e.dataText("id"), e.run(), offset, offset));
        } else {
          next.put(e.messageKey(), new MessageSpan(span.id(), span.run(), span.start(), offset));
        }
        return new SessionLedger(runs, cancelledInputs, present, cursors,
            Collections.unmodifiableList(ends), trimMessages(next), controls);
      }
      default:
        return this;
    }
  }

  /** The ledger after the given cursors moved (a cursor never moves backwards). */
  public SessionLedger withCursors(Map<String, Offset> moved) {
    Map<String, Offset> next = copy(cursors);
    moved.forEach((device, offset) -> next.merge(device, offset,
        (a, b) -> a.isAfter(b) ? a : b));
    return new SessionLedger(runs, cancelledInputs, present, Collections.unmodifiableMap(next),
        messageEnds, messages, controls);
  }

  private SessionLedger withRuns(Map<String, RunEntry> next) {
    return new SessionLedger(trimRuns(next), cancelledInputs, present, cursors, messageEnds,
        messages, controls);
  }

  /** At most MAX_ENDED_MESSAGES ended and MAX_OPEN_MESSAGES open spans, the oldest go first. */
  private static Map<String, MessageSpan> trimMessages(Map<String, MessageSpan> next) {
    int ended = 0;
    int open = 0;
    for (MessageSpan m : next.values()) {
      if (m.open()) {
        open++;
      } else {
        ended++;
      }
    }
    var it = next.values().iterator();
    while ((ended > MAX_ENDED_MESSAGES || open > MAX_OPEN_MESSAGES) && it.hasNext()) {
      MessageSpan m = it.next();
      if (m.open() && open > MAX_OPEN_MESSAGES) {
        it.remove();
        open--;
      } else if (!m.open() && ended > MAX_ENDED_MESSAGES) {
        it.remove();
        ended--;
      }
    }
    return Collections.unmodifiableMap(next);
  }

  private static Map<String, RunEntry> trimRuns(Map<String, RunEntry> next) {
    if (next.size() > MAX_ENDED) {
      var it = next.entrySet().iterator();
      while (next.size() > MAX_ENDED && it.hasNext()) {
        if (it.next().getValue().status() != null) {
          it.remove();
        }
      }
    }
    return Collections.unmodifiableMap(next);
  }

  private static void trim(Map<String, Offset> inputs) {
    var it = inputs.entrySet().iterator();
    while (inputs.size() > MAX_ENDED && it.hasNext()) {
      it.next();
      it.remove();
    }
  }

  private static <K, V> Map<K, V> copy(Map<K, V> map) {
    return new LinkedHashMap<>(map);
  }
}
