package io.tether.actors.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Reads what earlier versions wrote under class names that have since moved. Pekko's Jackson
 * serializer writes a class's name as the manifest of every journaled event and snapshot (and of
 * every message between nodes); when the harness was split into the {@code run}, {@code role}
 * and {@code task} packages, those names changed. Each old name is listed under {@code
 * pekko.serialization.jackson.migrations} in {@code tether-serialization.conf} with this class,
 * which maps it to the class that now holds the same fields: the JSON is unchanged, only its
 * class moved.
 *
 * <p>Events and snapshots are the reason (a journal must stay readable); the commands and replies
 * that cross the network are mapped too, so that a node of this version reads what a node of the
 * previous version sends during a rolling update. The other way round is not covered: a
 * previous-version node cannot read the new names.
 */
public final class HarnessClassRenames extends JacksonMigration {

  private static final String OLD = "io.tether.actors.harness.";
  private static final String RUN = "io.tether.actors.harness.run.";
  private static final String ROLE = "io.tether.actors.harness.role.";
  private static final String TASK = "io.tether.actors.harness.task.";

  /** Every renamed class: its name in the previous version, and its name now. */
  public static final Map<String, String> RENAMED = renamed();

  private static Map<String, String> renamed() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String event : new String[] {"RunStarted", "TaskDispatched", "SpecAccepted",
        "ContractProposed", "ContractReviewed", "BuildReported", "SprintEvaluated",
        "PhaseEntered", "RunPaused", "RunResumed", "SteerReceived", "UsageSettled",
        "RunEnded"}) {
      m.put(OLD + "Run$" + event, RUN + "RunEvent$" + event);
    }
    m.put(OLD + "Run$State", RUN + "RunState");
    for (String command : new String[] {"Start", "Describe", "Cancel", "Pause", "Resume",
        "SteerRun", "ReserveBudget", "SettleUsage", "ReportTask"}) {
      m.put(OLD + "Run$" + command, RUN + "RunCommand$" + command);
    }
    m.put(OLD + "Run$Summary", RUN + "RunSummary");
    m.put(OLD + "Run$BudgetDecision", TASK + "BudgetDecision");
    m.put(OLD + "Run$Ack", TASK + "Ack");
    m.put(OLD + "Run$TaskOutcome", TASK + "TaskOutcome");

    for (String event : new String[] {"TaskStarted", "ModelCallRequested", "ModelCallRetried",
        "ModelCallCompleted", "ToolCallRequested", "ToolCallCompleted", "ToolCallInDoubt",
        "TaskCompleted", "TaskFailed", "TaskCancelled", "TaskReported"}) {
      m.put(OLD + "RoleEntity$" + event, ROLE + "RoleEvent$" + event);
    }
    m.put(OLD + "RoleEntity$State", ROLE + "RoleState");
    for (String command : new String[] {"Perform", "CancelTask", "GetState"}) {
      m.put(OLD + "RoleEntity$" + command, ROLE + "RoleCommand$" + command);
    }
    m.put(OLD + "RoleEntity$Accepted", TASK + "Accepted");

    for (String nested : new String[] {"RunRegistered", "State", "Register", "ListRuns",
        "Entry", "Entries"}) {
      m.put(OLD + "RunIndex$" + nested, RUN + "RunIndex$" + nested);
    }
    return Map.copyOf(m);
  }

  /** Above the version the previous names were written with (1), so every one is mapped. */
  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return RENAMED.getOrDefault(className, className);
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    return json;
  }
}
