package io.tether.benchmarks.load.report;

import io.tether.benchmarks.load.result.LatencySummary;
import io.tether.benchmarks.load.result.RunReport;
import io.tether.benchmarks.load.result.ScenarioResult;
import io.tether.benchmarks.load.result.TargetRun;
import io.tether.benchmarks.load.result.Timeline;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Draws the PNG plots of a run: per scenario, {@code latency-<scenario>.png} (one panel per
 * latency measured, p50 to max per target, log scale) and {@code throughput-<scenario>.png}
 * (one panel per rate, per second over the run, a line per target).
 */
public final class Plots {
  private static final int WIDTH = 900;
  private static final int PANEL = 300;
  private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14),
      new Color(44, 160, 44), new Color(148, 103, 189)};
  private static final List<String> PERCENTILES = List.of("p50", "p90", "p99", "p99.9", "max");

  private Plots() {}

  /** Writes every plot into {@code dir}; returns the file names. */
  public static List<String> write(RunReport report, Path dir) throws IOException {
    List<TargetRun> targets = MarkdownReport.ordered(report.targets());
    Set<String> scenarios = new LinkedHashSet<>();
    targets.forEach(t -> t.results().forEach(r -> scenarios.add(r.scenario())));
    List<String> files = new ArrayList<>();
    for (String scenario : scenarios) {
      List<Optional<ScenarioResult>> row = targets.stream().map(t -> t.results().stream()
          .filter(r -> r.scenario().equals(scenario)).findFirst()).toList();
      latency(scenario, targets, row, dir).ifPresent(files::add);
      throughput(scenario, targets, row, dir).ifPresent(files::add);
    }
    return files;
  }

  private static Optional<String> latency(String scenario, List<TargetRun> targets,
      List<Optional<ScenarioResult>> row, Path dir) throws IOException {
    Set<String> names = new LinkedHashSet<>();
    row.stream().flatMap(Optional::stream).forEach(r -> r.latencies().stream()
        .filter(l -> l.count() > 0).forEach(l -> names.add(l.name())));
    if (names.isEmpty()) {
      return Optional.empty();
    }
    String file = "latency-" + scenario + ".png";
    BufferedImage image =
        new BufferedImage(WIDTH, PANEL * names.size(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = graphics(image);
    int y = 0;
    for (String name : names) {
      List<Chart.Series> series = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) {
        Optional<LatencySummary> l = row.get(i).flatMap(r -> r.latency(name));
        if (l.isPresent()) {
          LatencySummary s = l.get();
          series.add(new Chart.Series(targets.get(i).target(), COLORS[i % COLORS.length],
              new double[] {s.p50Ms(), s.p90Ms(), s.p99Ms(), s.p999Ms(), s.maxMs()}));
        }
      }
      Chart.bars(g, new Rectangle(0, y, WIDTH, PANEL), scenario + ": " + name + " latency", "ms",
          PERCENTILES, series);
      y += PANEL;
    }
    g.dispose();
    ImageIO.write(image, "png", dir.resolve(file).toFile());
    return Optional.of(file);
  }

  private static Optional<String> throughput(String scenario, List<TargetRun> targets,
      List<Optional<ScenarioResult>> row, Path dir) throws IOException {
    Set<String> names = new LinkedHashSet<>();
    row.stream().flatMap(Optional::stream).forEach(r -> r.timelines()
        .forEach(t -> names.add(t.name())));
    if (names.isEmpty()) {
      return Optional.empty();
    }
    String file = "throughput-" + scenario + ".png";
    BufferedImage image =
        new BufferedImage(WIDTH, PANEL * names.size(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = graphics(image);
    int y = 0;
    for (String name : names) {
      List<Chart.Series> series = new ArrayList<>();
      String unit = "";
      for (int i = 0; i < targets.size(); i++) {
        Optional<Timeline> t = row.get(i).flatMap(r -> r.timelines().stream()
            .filter(x -> x.name().equals(name)).findFirst());
        if (t.isPresent()) {
          unit = t.get().unit();
          series.add(new Chart.Series(targets.get(i).target(), COLORS[i % COLORS.length],
              t.get().perSecond()));
        }
      }
      Chart.lines(g, new Rectangle(0, y, WIDTH, PANEL), scenario + ": " + name, unit, series);
      y += PANEL;
    }
    g.dispose();
    ImageIO.write(image, "png", dir.resolve(file).toFile());
    return Optional.of(file);
  }

  private static Graphics2D graphics(BufferedImage image) {
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING,
        RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, image.getWidth(), image.getHeight());
    return g;
  }
}
