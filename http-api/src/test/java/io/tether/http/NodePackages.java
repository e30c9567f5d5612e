package io.tether.http;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The npm packages the http-api tests run with Node.js (the Durable Streams conformance suite and
 * the official client), installed from the committed lock file on first use by whichever test
 * needs them first, so no test depends on another having run before it.
 */
public final class NodePackages {
  private NodePackages() {}

  /** The folder holding {@code package.json}, with its {@code node_modules} installed. */
  public static synchronized Path installed() throws Exception {
    Path js = Path.of("src", "test", "js").toAbsolutePath();
    if (Files.isDirectory(js.resolve("node_modules/@durable-streams/client"))
        && Files.isDirectory(js.resolve("node_modules/@durable-streams/server-conformance-tests"))) {
      return js;
    }
    Files.createDirectories(Path.of("target"));
    Process npm = new ProcessBuilder(List.of("npm", "ci", "--no-audit", "--no-fund"))
        .directory(js.toFile())
        .redirectErrorStream(true)
        .redirectOutput(new File("target", "npm-ci.log"))
        .start();
    if (!npm.waitFor(10, TimeUnit.MINUTES)) {
      npm.destroyForcibly();
      throw new IllegalStateException("npm ci did not finish in 10 minutes (target/npm-ci.log)");
    }
    if (npm.exitValue() != 0) {
      throw new IllegalStateException("npm ci failed with " + npm.exitValue() + ":\n"
          + Files.readString(Path.of("target", "npm-ci.log")));
    }
    return js;
  }
}
