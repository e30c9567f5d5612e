package io.tether.benchmarks.load.result;

import java.util.List;
import java.util.Map;

/** Every scenario result for one target, with how the target was started and its status. */
public record TargetRun(String target, String url, Map<String, Object> info, String status,
    List<ScenarioResult> results) {}
