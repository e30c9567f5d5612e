package io.tether.runtime;

import io.tether.persistence.cassandra.PortInUseException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The command line of Tether.
 *
 * <pre>
 *   tether dev       local Cassandra + one self-joined node (dev profile, schema auto-created)
 *   tether node      one node of a configured cluster on an external Cassandra
 *   tether migrate   create the journal and snapshot schema on the configured Cassandra, then exit
 *   tether schema    print that schema as CQL, then exit
 * </pre>
 *
 * Settings come from config (see cluster-config/) and the environment variables it names, so
 * the same jar runs every mode.
 */
public final class Main {
  private Main() {}

  /** The common pool's parallelism unless set with -D (see {@link #main}). */
  static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) throws Exception {
    // Pekko's Java API hands out CompletionStages whose non-async stages (thenApply, ...) run
    // asynchronously on CompletableFuture's default executor. On a machine with fewer than 3
    // cores the common pool has parallelism 1 and that executor is thread-per-task: every
    // callback of every ask started a new thread (5,700 threads in 80 s of load, measured with
    // JFR). Must happen before anything touches ForkJoinPool.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    // Must happen before the first logger is created: logback reads it once.
    if ("json".equalsIgnoreCase(System.getenv("TETHER_LOG_FORMAT"))
        && System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    String command = args.length == 0 ? "help" : args[0].toLowerCase(Locale.ROOT);
    String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "dev" -> runDev(rest);
      case "node" -> NodeMode.run(rest);
      case "migrate" -> System.exit(MigrateCommand.migrate(false));
      case "schema" -> System.exit(MigrateCommand.migrate(true));
      case "help", "-h", "--help" -> usage(0);
      default -> {
        System.err.println("Unknown command: " + command);
        usage(2);
      }
    }
  }

  /**
   * {@code tether dev}, with a port that cannot be used reported in one line and exit code 1
   * (a stack trace says less to someone who only has to pick another port).
   */
  private static void runDev(String[] args) throws Exception {
    try {
      DevMode.run(args);
    } catch (DevPorts.PortException | PortInUseException e) {
      System.err.println("tether dev: " + e.getMessage());
      System.exit(1);
    } catch (IllegalStateException e) {
      if (TetherNode.isBindFailure(e)) {
        System.err.println("tether dev: " + e.getMessage());
        System.exit(1);
      }
      throw e;
    }
  }

  private static void usage(int exitCode) {
    System.out.println("""
        Usage: tether <command>

          dev       start a local Cassandra and one Tether node that joins itself
                    (TETHER_HOME: where Cassandra's data and logs live; TETHER_HTTP_PORT: 8080)
          node      start one node of a configured cluster (external Cassandra; profile from
                    -Dconfig.resource=..., default production.conf)
          migrate   create the keyspaces and tables on the configured Cassandra, then exit
          schema    print the CQL that migrate would run, then exit
        """);
    System.exit(exitCode);
  }
}
