package io.tether.benchmarks.load.result;

import java.util.List;
import java.util.Map;

/** The whole run: when, on what machine, with which options, and the results per target. */
public record RunReport(String startedAt, String finishedAt, Map<String, Object> machine,
    Map<String, Object> options, List<TargetRun> targets) {}
