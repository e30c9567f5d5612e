package io.tether.actors.harness;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.run.Run;
import io.tether.actors.harness.run.RunCommand;
import io.tether.actors.harness.run.RunPolicy;
import io.tether.actors.harness.run.RunSummary;
import io.tether.actors.session.Offset;
import io.tether.actors.session.Session;
import io.tether.actors.session.SessionStreams;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A harness node in its own JVM, for {@link HarnessCrashTest}: {@code start} starts a scripted
 * run and keeps running until it is killed; {@code resume} asks for the run as a reconnecting
 * client would (which recovers it), waits for it to end, and writes the run's summary and the
 * session's events into the output directory.
 */
public final class HarnessCrashNode {

  private HarnessCrashNode() {}

  public static void main(String[] args) throws Exception {
    Path configFile = Path.of(args[0]);
    String mode = args[1];
    String runId = args[2];
    Path out = Path.of(args[3]);
    Config config = ConfigFactory.parseFile(configFile.toFile())
        .withFallback(ConfigFactory.parseResources("tether-serialization.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "HarnessCrashNode", config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    io.tether.actors.session.stream.SessionEntity.init(system);
    Harness.init(system);
    var run = ClusterSharding.get(system).entityRefFor(Run.ENTITY_TYPE_KEY, runId);
    Duration timeout = Duration.ofSeconds(30);

    if (mode.equals("start")) {
      RunPolicy defaults = Harness.get(system).settings().defaultPolicy();
      // Optional: the model of every role (scripted:crash by default) and "browser" to attach
      // the browser to the evaluator.
      String model = args.length > 4 ? args[4] : "scripted:crash";
      RunPolicy policy = new RunPolicy(false, RunPolicy.EvaluatorMode.PER_SPRINT,
          RunPolicy.ContextMode.RESET, 0, 1, defaults.rubric(), defaults.budget());
      if (args.length > 5 && args[5].equals("browser")) {
        policy = policy.withToolServers(List.of(new RunPolicy.ToolServer("browser",
            Map.of("evaluator", List.of("*")))));
      }
      RunPolicy chosen = policy;
      run.<RunSummary>askWithStatus(r -> new RunCommand.Start("Crash me in the middle of a build.",
              Map.of("planner", model, "generator", model, "evaluator", model), chosen,
              runId + "-session", r), timeout)
          .toCompletableFuture().get();
      Files.writeString(out.resolve("started-run"), runId);
      system.getWhenTerminated().toCompletableFuture().get();
      return;
    }

    RunSummary summary = null;
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        summary = run.<RunSummary>askWithStatus(RunCommand.Describe::new, timeout)
            .toCompletableFuture().get();
        if (summary.phase().terminal()) {
          break;
        }
      } catch (Exception recovering) {
        // The node is still starting or the run is still recovering: ask again.
      }
      Thread.sleep(300);
    }
    ObjectMapper json = new ObjectMapper();
    Files.writeString(out.resolve("summary.json"), json.writeValueAsString(summary));
    SessionStreams streams = new SessionStreams(system, timeout);
    List<String> lines = new ArrayList<>();
    Offset from = Offset.ZERO;
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < until) {
      Session.ReadResult r = (Session.ReadResult) streams.read(runId + "-session",
          new Session.ReadSpec(from, false, null, 1 << 20, 0, false)).toCompletableFuture().get();
      r.items().forEach(i -> lines.add(new String(i, StandardCharsets.UTF_8)));
      from = r.next();
      if (r.upToDate() && lines.stream().anyMatch(l -> l.contains("\"run.end\""))) {
        break;
      }
      if (r.upToDate()) {
        Thread.sleep(200);
      }
    }
    Files.write(out.resolve("session.jsonl"), lines);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get();
    System.exit(0);
  }
}
