package io.tether.actors.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The node's metrics, one Prometheus registry per ActorSystem, scraped at {@code GET /metrics}.
 * Every meter an operator alerts on is named here, so the README's runbook and the code agree:
 *
 * <ul>
 *   <li>{@code tether_session_appends_total}, {@code tether_session_appended_bytes_total}: items
 *       acknowledged to producers (after the journal write).
 *   <li>{@code tether_journal_write_seconds}: from handing a batch to the journal to its
 *       completion; {@code tether_journal_batch_items}: items per group-committed write;
 *       {@code tether_journal_write_failures_total}.
 *   <li>{@code tether_appends_rejected_total{reason}}: overload (429/503) and other refusals.
 *   <li>{@code tether_session_journal_reads_total}: catch-up reads (HTTP reads and WebSocket
 *       replays) older than a session's in-memory tail, each one bounded range of events read
 *       back from the journal.
 *   <li>{@code tether_sessions_in_memory}: session entities alive on this node.
 *   <li>{@code tether_session_subscribers}: live readers (long-poll, SSE, WebSocket) waiting on
 *       entities of this node; {@code tether_websocket_connections}: open sockets on this node.
 *   <li>{@code tether_session_cancels_total}: cancel fences persisted.
 *   <li>{@code tether_harness_runs_started_total}, {@code tether_harness_runs_ended_total{outcome}},
 *       {@code tether_harness_spend_usd_total}, {@code tether_harness_tokens_total{direction}}.
 *   <li>{@code tether_http_requests_total{status}}, {@code tether_http_request_seconds}.
 *   <li>JVM memory, GC, threads, CPU and uptime.
 * </ul>
 */
public final class TetherMetrics implements Extension {

  private static final ExtensionId<TetherMetrics> ID = new ExtensionId<>() {
    @Override
    public TetherMetrics createExtension(ActorSystem<?> system) {
      return new TetherMetrics();
    }
  };

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong sessionsInMemory = new AtomicLong();
  private final AtomicLong subscribers = new AtomicLong();
  private final AtomicLong webSockets = new AtomicLong();
  private final Counter appends;
  private final Counter appendedBytes;
  private final Timer journalWrites;
  private final DistributionSummary batchItems;
  private final Counter journalFailures;
  private final Counter journalReads;
  private final Counter cancels;
  private final Counter runsStarted;
  private final Counter spendUsd;

  private TetherMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    registry.gauge("tether_sessions_in_memory", sessionsInMemory);
    registry.gauge("tether_session_subscribers", subscribers);
    registry.gauge("tether_websocket_connections", webSockets);
    appends = Counter.builder("tether_session_appends").description("items acknowledged").register(registry);
    appendedBytes = Counter.builder("tether_session_appended_bytes").baseUnit("bytes").register(registry);
    journalWrites = Timer.builder("tether_journal_write")
        .description("journal write latency of a group-committed batch")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
    batchItems = DistributionSummary.builder("tether_journal_batch_items")
        .description("items per journal write").publishPercentileHistogram()
        .minimumExpectedValue(1.0).maximumExpectedValue(10_000.0).register(registry);
    journalFailures = Counter.builder("tether_journal_write_failures").register(registry);
    journalReads = Counter.builder("tether_session_journal_reads")
        .description("catch-up reads served from the journal").register(registry);
    cancels = Counter.builder("tether_session_cancels").register(registry);
    runsStarted = Counter.builder("tether_harness_runs_started").register(registry);
    spendUsd = Counter.builder("tether_harness_spend_usd").register(registry);
  }

  /** The metrics of {@code system}. */
  public static TetherMetrics get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /** A batch of {@code items} ({@code bytes} of payload) was written in {@code took}. */
  public void journalWrite(int items, long bytes, Duration took) {
    journalWrites.record(took);
    batchItems.record(items);
    appends.increment(items);
    appendedBytes.increment(bytes);
  }

  public void journalWriteFailed() {
    journalFailures.increment();
  }

  /** A read older than a session's in-memory tail went to the journal. */
  public void journalRead() {
    journalReads.increment();
  }

  /** An append was refused; {@code reason} is a small fixed set (overloaded, closed, fenced...). */
  public void appendRejected(String reason) {
    registry.counter("tether_appends_rejected", "reason", reason).increment();
  }

  public void sessionStarted() {
    sessionsInMemory.incrementAndGet();
  }

  public void sessionStopped() {
    sessionsInMemory.decrementAndGet();
  }

  public void subscriberAdded() {
    subscribers.incrementAndGet();
  }

  public void subscriberRemoved() {
    subscribers.decrementAndGet();
  }

  public void webSocketOpened() {
    webSockets.incrementAndGet();
  }

  public void webSocketClosed() {
    webSockets.decrementAndGet();
  }

  public void cancelled() {
    cancels.increment();
  }

  public void runStarted() {
    runsStarted.increment();
  }

  public void runEnded(String outcome) {
    registry.counter("tether_harness_runs_ended", "outcome", outcome).increment();
  }

  /** A model call was settled: its tokens and its price. */
  public void modelCallSettled(long inputTokens, long outputTokens, double usd) {
    registry.counter("tether_harness_tokens", "direction", "input").increment(inputTokens);
    registry.counter("tether_harness_tokens", "direction", "output").increment(outputTokens);
    spendUsd.increment(usd);
  }

  /** An HTTP response left with {@code status} after {@code took}. */
  public void httpResponse(int status, Duration took) {
    registry.counter("tether_http_requests", "status", (status / 100) + "xx").increment();
    registry.timer("tether_http_request").record(took);
  }
}
