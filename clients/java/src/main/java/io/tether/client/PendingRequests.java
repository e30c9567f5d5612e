package io.tether.client;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * The requests of a {@link TetherSession} waiting for their answers, in the order they were
 * made, and what becomes of them when the socket drops. Not thread-safe: the session uses it
 * under its lock.
 */
final class PendingRequests {

  /** What a request asks for. */
  enum Kind {
    PUBLISH, CANCEL, STEER, INTERRUPT, ACK;

    /**
     * Whether sending it again after a drop is safe, which every request is: a publish carries
     * the session's idempotent producer sequence, the server answers a steer or interrupt sent
     * again with its first offset (by id) and a repeated cancel with the same fence, and a
     * cursor only moves forward.
     */
    boolean resendable() {
      return true;
    }
  }

  /** One request: its frames, whether they went out, and the future of its answer. */
  static final class Request {
    final String id;
    final Kind kind;
    final List<String> frames;
    /** The offset an {@code ack} asked for (its answer when the server only sends a pong). */
    final String offset;
    final CompletableFuture<Frames.ServerFrame> future = new CompletableFuture<>();
    boolean sent;
    ScheduledFuture<?> timeout;

    Request(String id, Kind kind, List<String> frames, String offset) {
      this.id = id;
      this.kind = kind;
      this.frames = frames;
      this.offset = offset;
    }
  }

  private final LinkedHashMap<String, Request> byId = new LinkedHashMap<>();

  void add(Request r) {
    byId.put(r.id, r);
  }

  /** The request {@code id}, removed; null when there is none (answered, timed out, unknown). */
  Request remove(String id) {
    Request r = id == null ? null : byId.remove(id);
    if (r != null && r.timeout != null) {
      r.timeout.cancel(false);
    }
    return r;
  }

  /** The requests not yet sent, in order, now marked sent. */
  List<Request> takeUnsent() {
    List<Request> out = new ArrayList<>();
    for (Request r : byId.values()) {
      if (!r.sent) {
        r.sent = true;
        out.add(r);
      }
    }
    return out;
  }

  /**
   * After a drop: resendable requests that were sent wait to be sent again; the others that
   * were sent are removed and returned (their outcome is unknown).
   */
  List<Request> dropped() {
    List<Request> lost = new ArrayList<>();
    for (Iterator<Request> it = byId.values().iterator(); it.hasNext(); ) {
      Request r = it.next();
      if (!r.sent) {
        continue;
      }
      if (r.kind.resendable()) {
        r.sent = false;
      } else {
        it.remove();
        if (r.timeout != null) {
          r.timeout.cancel(false);
        }
        lost.add(r);
      }
    }
    return lost;
  }

  /** Every request, removed, its timeout cancelled. */
  List<Request> drain() {
    List<Request> all = new ArrayList<>(byId.values());
    byId.clear();
    all.forEach(r -> {
      if (r.timeout != null) {
        r.timeout.cancel(false);
      }
    });
    return all;
  }
}
