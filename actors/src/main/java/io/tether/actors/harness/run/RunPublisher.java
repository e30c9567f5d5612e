package io.tether.actors.harness.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tether.actors.harness.output.ProducerStream;
import io.tether.actors.harness.output.SessionEvents;
import io.tether.actors.harness.run.RunEvent.ContractProposed;
import io.tether.actors.harness.run.RunEvent.ContractReviewed;
import io.tether.actors.harness.run.RunEvent.RunEnded;
import io.tether.actors.harness.run.RunEvent.RunStarted;
import io.tether.actors.harness.run.RunEvent.SpecAccepted;
import io.tether.actors.harness.run.RunEvent.SprintEvaluated;
import io.tether.actors.harness.run.RunEvent.TaskDispatched;
import io.tether.actors.harness.run.RunEvent.UsageSettled;
import io.tether.actors.harness.run.RunState.SprintResult;
import io.tether.actors.metrics.TetherMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.slf4j.Logger;

/**
 * Projects what a {@link Run} persisted into the places people look: the run's session (its
 * progress, contract states, scores, budget and control acknowledgements, in the event types of
 * the {@code harness.output} package), the run's workspace (the hand-off files: spec, contracts,
 * evaluations, progress and the final report), and the node's log and metrics. It runs after the
 * journal write and never changes the Run's state; the journal, not these projections, is the
 * record.
 */
final class RunPublisher {

  private final String runId;
  private final RunServices services;
  private final TetherMetrics metrics;
  private final Logger log;
  private ProducerStream stream;

  RunPublisher(String runId, RunServices services, TetherMetrics metrics, Logger log) {
    this.runId = runId;
    this.services = services;
    this.metrics = metrics;
    this.log = log;
  }

  /**
   * Publishes {@code events}, just persisted on {@code before} (leading to {@code after}); the
   * stage completes when the workspace files they write are written (or have failed).
   */
  CompletionStage<Void> published(RunState before, RunState after, List<RunEvent> events,
      BiFunction<RunState, RunEvent, RunState> apply) {
    List<CompletionStage<?>> writes = new ArrayList<>();
    RunState state = before;
    for (RunEvent e : events) {
      state = apply.apply(state, e);
      publish(state, e, writes);
      count(e);
    }
    if (after.progress().phase().terminal() && !before.progress().phase().terminal()) {
      writes.add(write("report.md", RunSummary.of(after).report()));
    }
    if (!events.isEmpty()) {
      writes.add(write("progress.md", progress(after)));
    }
    return CompletableFuture.allOf(writes.stream().map(CompletionStage::toCompletableFuture)
        .toArray(CompletableFuture[]::new));
  }

  /** Acknowledges a control (cancel, pause, resume, steer) in the session. */
  void controlAcknowledged(RunState s, String kind, String controlId, boolean consumed,
      String text) {
    ObjectNode data = SessionEvents.data();
    data.put("kind", kind);
    data.put("control", controlId);
    data.put("consumed", consumed);
    if (text != null) {
      data.put("text", text);
    }
    offer(s, "control.ack", "control", data);
  }

  /** The operator's view of a persisted event: runs started and ended (logged), spend, tokens. */
  private void count(RunEvent e) {
    if (e instanceof RunStarted started) {
      log.info("Run {} started; models {}", runId, started.models());
      metrics.runStarted();
    } else if (e instanceof RunEnded end) {
      log.info("Run {} ended {}: {}", runId, end.outcome().name().toLowerCase(Locale.ROOT),
          end.reason());
      metrics.runEnded(end.outcome().name().toLowerCase(Locale.ROOT));
    } else if (e instanceof UsageSettled u) {
      metrics.modelCallSettled(u.inputTokens(), u.outputTokens(), u.usd());
    }
  }

  private void publish(RunState s, RunEvent e, List<CompletionStage<?>> writes) {
    ObjectNode data = SessionEvents.data();
    String step = "s" + s.progress().sprint() + ".a" + s.progress().attempt();
    if (e instanceof RunStarted started) {
      data.put("prompt", started.prompt());
      data.putPOJO("models", started.models());
      data.put("scripted", RunSummary.of(s).scripted());
      data.set("policy", SessionEvents.JSON.valueToTree(started.policy()));
      offer(s, "run.start", step, data);
    } else if (e instanceof TaskDispatched d) {
      data.put("phase", s.progress().phase().name().toLowerCase());
      data.put("role", d.task().role().wireName());
      data.put("task", d.task().kind().name().toLowerCase());
      data.put("taskId", d.task().taskId());
      data.put("sprint", d.task().sprint());
      data.put("attempt", d.task().attempt());
      data.put("round", d.task().round());
      offer(s, "run.phase", d.task().step(), data);
    } else if (e instanceof SpecAccepted spec) {
      data.putPOJO("sprints", spec.sprints());
      offer(s, "run.spec", step, data);
      writes.add(write("spec.md", spec.spec()));
    } else if (e instanceof ContractProposed p) {
      data.put("sprint", p.sprint());
      data.put("round", p.round());
      data.put("state", "proposed");
      offer(s, "contract.state", step, data);
      writes.add(write(RunFlow.contractFile(p.sprint()), p.contract()));
    } else if (e instanceof ContractReviewed r) {
      data.put("sprint", r.sprint());
      data.put("round", r.round());
      data.put("state", r.agreed() ? "agreed" : r.forced() ? "forced" : "rejected");
      data.put("comments", r.comments());
      offer(s, "contract.state", step, data);
      writes.add(write(RunFlow.contractFile(r.sprint()), s.artifacts().contract()
          + "\n\n---\nReview (round " + r.round() + "): " + (r.agreed() ? "AGREED" : "NOT AGREED")
          + "\n" + r.comments() + "\n"));
    } else if (e instanceof SprintEvaluated v) {
      data.put("sprint", v.sprint());
      data.put("attempt", v.attempt());
      data.putPOJO("scores", v.scores());
      data.put("weighted", v.weighted());
      data.put("passed", v.passed());
      data.putPOJO("misses", v.misses());
      data.put("feedback", v.feedback());
      offer(s, "evaluation.scores", step, data);
      writes.add(write(RunFlow.evaluationFile(v.sprint(), v.attempt()),
          "# Sprint " + v.sprint() + ", attempt " + v.attempt() + ": "
              + (v.passed() ? "PASSED" : "FAILED") + "\n\nScores: " + v.scores()
              + "\nMisses: " + v.misses() + "\n\n" + v.feedback() + "\n"));
    } else if (e instanceof UsageSettled u) {
      // The call settled, then what it adds up to: the run's totals (top level, as before),
      // its role's, its sprint's, and every role's and sprint's.
      data.put("callId", u.callId());
      data.put("role", u.role().wireName());
      data.put("model", u.model());
      if (u.sprint() != null) {
        data.put("sprint", u.sprint());
      }
      data.put("estimated", Boolean.TRUE.equals(u.estimated()));
      ObjectNode call = data.putObject("call");
      call.put("inputTokens", u.inputTokens());
      call.put("outputTokens", u.outputTokens());
      call.put("usd", u.usd());
      data.put("inputTokens", s.ledger().inputTokens());
      data.put("outputTokens", s.ledger().outputTokens());
      data.put("usd", s.ledger().usd());
      data.set("roleTotal", SessionEvents.JSON.valueToTree(
          s.ledger().byRole().get(u.role().wireName())));
      if (u.sprint() != null) {
        data.set("sprintTotal", SessionEvents.JSON.valueToTree(
            s.ledger().bySprint().get(Integer.toString(u.sprint()))));
      }
      data.set("byRole", SessionEvents.JSON.valueToTree(s.ledger().byRole()));
      data.set("bySprint", SessionEvents.JSON.valueToTree(s.ledger().bySprint()));
      RunPolicy.Budget b = s.setup().policy().budget();
      data.put("maxTokens", b.maxTokens());
      data.put("maxUsd", b.maxUsd());
      offer(s, "budget.used", step, data);
    } else if (e instanceof RunEnded end) {
      // The session's status vocabulary (complete, cancelled, error); the harness's own outcome
      // goes alongside.
      data.put("status", end.outcome() == Phase.COMPLETED ? "complete"
          : end.outcome() == Phase.CANCELLED ? "cancelled" : "error");
      data.put("outcome", end.outcome().name().toLowerCase());
      data.put("reason", end.reason());
      data.put("report", RunSummary.of(s).report());
      offer(s, "run.end", step, data);
    }
  }

  private CompletionStage<?> write(String path, String content) {
    return services.workspace().write(runId, path, content, "run")
        .exceptionally(error -> {
          log.warn("run {}: workspace file {} not written: {}", runId, path,
              error.toString());
          return null;
        });
  }

  private static String progress(RunState s) {
    StringBuilder p = new StringBuilder("# Progress\n\nPhase: ")
        .append(s.progress().phase().name().toLowerCase()).append(", sprint ")
        .append(s.progress().sprint()).append(" of ").append(s.artifacts().sprints().size())
        .append(", attempt ").append(s.progress().attempt()).append("\n\n");
    for (SprintResult r : s.results()) {
      p.append("- sprint ").append(r.sprint()).append(" attempt ").append(r.attempt())
          .append(": ").append(r.passed() ? "passed" : "failed").append(" ").append(r.scores())
          .append("\n");
    }
    return p.toString();
  }

  private void offer(RunState s, String type, String step, ObjectNode data) {
    if (stream == null) {
      stream = new ProducerStream(services.sessions(), s.setup().sessionId(), "run");
    }
    stream.offer(SessionEvents.event(type, runId, step, "run", data));
  }
}
