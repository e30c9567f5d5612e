package io.tether.http.live;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionLedger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSON bodies of the session REST API and their mapping from the entity's replies. Wire
 * records only; the entity's state never leaves as it is.
 */
final class SessionViews {
  private SessionViews() {}

  /** {@code POST /v1/sessions} body. */
  record CreateRequest(String id, String title) {}

  /** {@code POST /v1/sessions/{id}/control} body. */
  record ControlRequest(String type, String id, String run, String message, String text) {}

  /** {@code POST /v1/sessions/{id}/cursors} body. */
  record CursorRequest(String device, String offset) {}

  /** A device attached to the session. */
  record PresenceView(String device, String kind) {}

  /** A device's read cursor and how many messages it has not read. */
  record CursorView(String device, String offset, int unread) {}

  /**
   * A run the session knows; {@code startOffset} is where its {@code run.start} is, so a client
   * that reloads mid-answer resumes just before it instead of replaying the whole session.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record RunView(String run, String producer, String input, String status, String fence,
      String startOffset) {}

  /** A session. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record SessionView(String id, String contentType, String tail, boolean closed,
      List<PresenceView> present, List<CursorView> cursors, List<RunView> runs,
      Long createdAt) {}

  /** The sessions of the caller. */
  record SessionList(List<SessionView> sessions) {}

  /** The answer to a control request. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ControlView(String id, String type, String offset, String fence) {}

  static SessionView view(String id, Session.SessionSummary summary, Long createdAt) {
    SessionLedger ledger = summary.ledger();
    List<PresenceView> present = new ArrayList<>();
    ledger.present().forEach((device, kind) -> present.add(new PresenceView(device, kind)));
    List<CursorView> cursors = new ArrayList<>();
    for (Map.Entry<String, Offset> c : ledger.cursors().entrySet()) {
      cursors.add(new CursorView(c.getKey(), c.getValue().encode(),
          ledger.unreadAfter(c.getValue())));
    }
    List<RunView> runs = new ArrayList<>();
    ledger.runs().forEach((run, e) -> runs.add(new RunView(run, e.producer(), e.input(),
        e.producer() == null ? "cancelled-before-start" : e.status() == null ? "running"
            : e.status(), e.fence() == null ? null : e.fence().encode(),
        e.start() == null ? null : e.start().encode())));
    return new SessionView(id, summary.info().contentType(), summary.info().tail().encode(),
        summary.info().closed(), present, cursors, runs, createdAt);
  }
}
