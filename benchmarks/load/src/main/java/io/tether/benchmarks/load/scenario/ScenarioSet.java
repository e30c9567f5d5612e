package io.tether.benchmarks.load.scenario;

import io.tether.benchmarks.load.client.LiveMode;
import java.nio.file.Path;
import java.util.List;

/** The scenarios of a run, in the order they run, at full or quick scale. */
public final class ScenarioSet {
  private ScenarioSet() {}

  /**
   * Every scenario; {@code only} (ids) narrows the set when it is not empty. {@code streaming} is
   * how token-streaming and fan-out subscribers read, {@code connections} how the connections
   * scenario's idle subscribers connect, {@code peerSuite} the directory of the peer's benchmark
   * suite. The peer's suite runs first, against a freshly started server, as its users run it.
   */
  public static List<Scenario> of(boolean quick, LiveMode streaming, LiveMode connections,
      List<String> only, Path peerSuite) {
    String live = streaming.wire();
    String idle = connections.wire();
    List<Scenario> all = List.of(
        new PeerSuite(peerSuite, quick ? PeerSuite.quick() : PeerSuite.full()),
        new TokenStreaming(quick ? TokenStreaming.quick(live) : TokenStreaming.full(live)),
        TokenStreaming.ingest(quick, live),
        new ThroughputCeiling(quick ? ThroughputCeiling.quick() : ThroughputCeiling.full()),
        new CatchUp(quick ? CatchUp.quick() : CatchUp.full()),
        new FanOut(quick ? FanOut.quick(live) : FanOut.full(live)),
        new IdleConnections(quick ? IdleConnections.quick(idle) : IdleConnections.full(idle)),
        new IdleSessions(quick ? IdleSessions.quick() : IdleSessions.full()),
        new LongSession(quick ? LongSession.quick() : LongSession.full()),
        new Recovery(quick ? Recovery.quick() : Recovery.full()),
        new Failover(quick ? Failover.quick() : Failover.full()));
    if (only.isEmpty()) {
      return all;
    }
    for (String id : only) {
      if (all.stream().noneMatch(s -> s.id().equals(id))) {
        throw new IllegalArgumentException("unknown scenario " + id);
      }
    }
    return all.stream().filter(s -> only.contains(s.id())).toList();
  }
}
