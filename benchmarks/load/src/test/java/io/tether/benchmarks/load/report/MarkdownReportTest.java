package io.tether.benchmarks.load.report;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.benchmarks.load.result.Metric;
import io.tether.benchmarks.load.result.RunReport;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MarkdownReportTest {
  private static TargetRun run(String name, double rate, double p99) {
    ScenarioResult r = new ScenarioResult("throughput", "2. Throughput", Map.of("n", 1), "ok", 1,
        List.of(new Metric("appends/s", rate, "/s", Metric.Better.HIGHER),
            new Metric("append p99", p99, "ms", Metric.Better.LOWER)),
        List.of(), List.of(), List.of());
    return new TargetRun(name, "http://127.0.0.1:1", Map.of(), "ok", List.of(r));
  }

  @Test
  void putsTetherFirstAndSaysWhichSideEachRatioFavours() throws Exception {
    RunReport report = new RunReport("a", "b", Map.of("cores", 2), Map.of(),
        List.of(run("peer", 100, 5), run("tether", 200, 10)));

    String md = MarkdownReport.render(report, List.of());

    assertTrue(md.contains("| metric | unit | tether | peer | tether/peer | favours |"), md);
    assertTrue(md.contains("| appends/s | /s | 200 | 100 | 2.00 | tether |"), md);
    assertTrue(md.contains("| append p99 | ms | 10 | 5 | 2.00 | peer |"), md);
  }
}
