package io.tether.persistence.cassandra;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs inside the Cassandra JVM, not in Tether's: the main class that {@link LocalCassandra}
 * launches. It starts the real main class named by the first argument, and exits the JVM as soon as
 * its standard input reaches end-of-file.
 *
 * <p>The launcher keeps the write end of that pipe open for as long as it lives, so end-of-file
 * means the parent is gone, even if it was killed with SIGKILL and its shutdown hooks never ran.
 * {@code System.exit} then runs Cassandra's own shutdown hook, which drains. This is what
 * guarantees that a local Cassandra never outlives the process that started it.
 *
 * <p>It may only use {@code java.base}: its class file is copied alone onto Cassandra's classpath.
 */
public final class ExitWithParent {
  private ExitWithParent() {}

  public static void main(String[] args) throws Exception {
    Thread watchdog = new Thread(ExitWithParent::exitOnEndOfInput, "tether-exit-with-parent");
    watchdog.setDaemon(true);
    watchdog.start();
    Method main = Class.forName(args[0]).getMethod("main", String[].class);
    main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
  }

  private static void exitOnEndOfInput() {
    InputStream in = System.in;
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) != -1) {
        // The parent never writes; anything read is ignored.
      }
    } catch (IOException e) {
      // A broken pipe means the parent is gone, exactly like end-of-file.
    }
    System.err.println("tether: parent process gone (stdin closed), shutting Cassandra down");
    System.exit(0);
  }
}
