package io.tether.client;

import java.util.List;

/**
 * A session as {@code GET /v1/sessions/{id}} describes it. Fields a newer server adds are
 * ignored; fields an older server lacks are null.
 *
 * @param id the session id
 * @param contentType {@code application/json} for a session
 * @param tail the offset of the last event
 * @param closed whether it takes no more appends
 * @param present the devices attached now
 * @param cursors each device's read cursor with its unread count
 * @param runs the runs the session remembers, with their fences
 * @param createdAt when it was created (epoch millis) when listed under the caller, or null
 */
public record SessionInfo(String id, String contentType, String tail, boolean closed,
    List<Presence> present, List<Cursor> cursors, List<RunInfo> runs, Long createdAt) {

  /** Missing lists read as empty. */
  public SessionInfo {
    present = present == null ? List.of() : List.copyOf(present);
    cursors = cursors == null ? List.of() : List.copyOf(cursors);
    runs = runs == null ? List.of() : List.copyOf(runs);
  }

  /** A device attached to the session: {@code client} or {@code agent}. */
  public record Presence(String device, String kind) {}

  /** A device's read cursor, and how many messages ended after it. */
  public record Cursor(String device, String offset, int unread) {}

  /**
   * A run.
   *
   * @param run its id
   * @param producer who started it (null when only a cancel named it)
   * @param input the input message it answers, or null
   * @param status {@code running}, {@code cancelled-before-start} or its {@code run.end} status
   * @param fence the offset after which its output is refused, or null
   * @param startOffset the offset of its {@code run.start} (servers with protocol change (d)),
   *     or null
   */
  public record RunInfo(String run, String producer, String input, String status, String fence,
      String startOffset) {}

  /** The cursor of {@code device}, or null. */
  public Cursor cursor(String device) {
    return cursors.stream().filter(c -> c.device().equals(device)).findFirst().orElse(null);
  }

  /** The run {@code run}, or null. */
  public RunInfo run(String run) {
    return runs.stream().filter(r -> r.run().equals(run)).findFirst().orElse(null);
  }
}
