package io.tether.http.runs;

import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunState;
import io.tether.actors.harness.run.RunSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A run's progress as plain text lines for a terminal ({@code POST /runs?follow=true}, {@code GET
 * /runs/{id}/follow}): one line whenever the phase, the sprint, the attempt or the active role
 * changes and for every evaluated attempt, then the final report, and the response ends with the
 * run. It asks the Run for its summary every {@code interval}, so it needs nothing but the Run;
 * the session holds the full stream for whoever wants every token.
 */
final class RunFollower {

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final Duration interval;

  RunFollower(ClusterSharding sharding, Duration askTimeout, Duration interval) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.interval = interval;
  }

  /** The streamed response following run {@code runId} from {@code first} on. */
  HttpResponse follow(String runId, RunSummary first) {
    long started = System.nanoTime();
    Source<RunSummary, ?> summaries = Source.single(first).concat(
        Source.tick(interval, interval, NotUsed.getInstance())
            .mapAsync(1, tick -> describe(runId))
            .takeWhile(s -> !s.phase().terminal(), true));
    Source<ByteString, ?> lines = summaries
        .statefulMapConcat(() -> {
          Line last = new Line();
          return s -> last.next(s, (System.nanoTime() - started) / 1e9);
        })
        .map(ByteString::fromString);
    return HttpResponse.create().withStatus(StatusCodes.OK)
        .withEntity(HttpEntities.createChunked(ContentTypes.TEXT_PLAIN_UTF8, lines));
  }

  private CompletionStage<RunSummary> describe(String runId) {
    return sharding.entityRefFor(Run.ENTITY_TYPE_KEY, runId)
        .askWithStatus(RunCommand.Describe::new, askTimeout);
  }

  /** What changed since the last summary, as lines. */
  private static final class Line {
    private String where;
    private int results;

    List<String> next(RunSummary s, double seconds) {
      List<String> out = new ArrayList<>();
      String stamp = String.format(Locale.ROOT, "[%6.1fs] ", seconds);
      if (where == null) {
        out.add(stamp + "run " + s.runId() + " (session " + s.sessionId() + ")"
            + (s.scripted() ? ": SCRIPTED, roles replay a recorded script, not a model" : "")
            + "\n");
      }
      for (int i = results; i < s.results().size(); i++) {
        RunState.SprintResult r = s.results().get(i);
        out.add(stamp + "sprint " + r.sprint() + " attempt " + r.attempt() + " "
            + (r.passed() ? "PASSED" : "FAILED") + " " + r.scores() + "\n");
      }
      results = s.results().size();
      String now = s.phase().name().toLowerCase(Locale.ROOT).replace('_', ' ')
          + (s.sprint() > 0 ? ", sprint " + s.sprint() + " attempt " + s.attempt() : "")
          + (s.activeRole() != null ? " (" + s.activeRole() + ")" : "")
          + (s.paused() ? ", paused" : "");
      if (!now.equals(where)) {
        out.add(stamp + now + String.format(Locale.ROOT, "; %d tokens, USD %.4f",
            s.inputTokens() + s.outputTokens(), s.usd()) + "\n");
        where = now;
      }
      if (s.phase().terminal() && s.report() != null) {
        out.add("\n" + s.report());
      }
      return out;
    }
  }
}
