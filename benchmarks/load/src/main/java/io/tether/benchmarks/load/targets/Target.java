package io.tether.benchmarks.load.targets;

import java.net.URI;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A server to measure: a name for the tables, its root URL, and the pid whose resident memory
 * the memory scenarios read (empty when unknown, e.g. a remote or externally started server).
 */
public record Target(String name, URI url, OptionalLong pid, Map<String, Object> info) {}
