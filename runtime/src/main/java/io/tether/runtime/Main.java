package io.tether.runtime;

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

  public static void main(String[] args) throws Exception {
    // Must happen before the first logger is created: logback reads it once.
    if ("json".equalsIgnoreCase(System.getenv("TETHER_LOG_FORMAT"))
        && System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
    String command = args.length == 0 ? "help" : args[0].toLowerCase(Locale.ROOT);
    String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "dev" -> DevMode.run(rest);
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
