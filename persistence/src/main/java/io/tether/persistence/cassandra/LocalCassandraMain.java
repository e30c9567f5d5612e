package io.tether.persistence.cassandra;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CountDownLatch;

/**
 * Command-line entry for scripts: starts the local Cassandra configured under {@code
 * tether.cassandra.local} (override keys with {@code -Dtether.cassandra.local.native-port=...}),
 * prints {@code CONTACT_POINT=host:port} on stdout once it answers CQL, then stays up until it gets
 * SIGTERM/SIGINT or its stdin reaches end-of-file, and stops Cassandra cleanly before exiting.
 *
 * <p>Exit codes: 0 after a clean stop on end-of-file, 143 (or 130) after SIGTERM (SIGINT), which
 * returns only once Cassandra has drained and exited; 1 if Cassandra could not be started; 2 if it
 * had to be killed or died while running.
 *
 * <p>Example, from a shell script that keeps it in the background until the script ends:
 *
 * <pre>{@code
 * java -cp "$TETHER_PERSISTENCE_CP" -Dtether.cassandra.local.native-port=19042 \
 *   -Dtether.cassandra.local.storage-port=17000 \
 *   io.tether.persistence.cassandra.LocalCassandraMain --no-stdin > cassandra.out &
 * # ... wait for a line CONTACT_POINT=..., use it, then: kill $!
 * }</pre>
 *
 * <p>Without {@code --no-stdin}, end-of-file on stdin also stops it, so a caller that dies
 * (even by SIGKILL) takes Cassandra with it when it holds the other end of a pipe. With {@code
 * --free-ports} it listens on a native and a storage port it chooses ({@link FreePorts}) instead
 * of the configured ones; {@code CONTACT_POINT} names them (the test command's shared Cassandra
 * of each lane starts this way).
 */
public final class LocalCassandraMain {
  private LocalCassandraMain() {}

  public static void main(String[] args) throws InterruptedException {
    boolean watchStdin = true;
    boolean freePorts = false;
    for (String arg : args) {
      if (arg.equals("--no-stdin")) {
        watchStdin = false;
      } else if (arg.equals("--free-ports")) {
        freePorts = true;
      } else {
        System.err.println("usage: LocalCassandraMain [--no-stdin] [--free-ports]");
        System.exit(64);
      }
    }
    LocalCassandra cassandra;
    try {
      LocalCassandraSettings settings = LocalCassandraSettings.fromConfig(ConfigFactory.load());
      cassandra = freePorts
          ? LocalCassandra.startOnFreePorts(settings)
          : LocalCassandra.start(settings);
    } catch (RuntimeException e) {
      System.err.println("Cassandra did not start: " + e.getMessage());
      System.exit(1);
      return;
    }
    System.out.println("CONTACT_POINT=" + cassandra.contactPoint());
    System.out.println("PID=" + cassandra.pid());
    System.out.println("STARTUP_MS=" + cassandra.startupTime().toMillis());
    System.out.flush();

    CountDownLatch done = new CountDownLatch(1);
    // SIGTERM/SIGINT run shutdown hooks; LocalCassandra's own hook stops Cassandra, so this thread
    // only has to notice that the process is going away.
    Runtime.getRuntime().addShutdownHook(new Thread(done::countDown, "tether-local-cassandra-main-exit"));
    if (watchStdin) {
      Thread stdin = new Thread(() -> {
        drain(System.in);
        done.countDown();
      }, "tether-local-cassandra-main-stdin");
      stdin.setDaemon(true);
      stdin.start();
    }
    Thread watchProcess = new Thread(() -> {
      ProcessHandle.of(cassandra.pid()).ifPresent(p -> p.onExit().join());
      done.countDown();
    }, "tether-local-cassandra-main-watch");
    watchProcess.setDaemon(true);
    watchProcess.start();

    done.await();
    boolean diedOnItsOwn = !cassandra.isRunning();
    LocalCassandra.StopResult result = cassandra.stop();
    System.out.println("STOPPED exit=" + result.exitCode() + " forced=" + result.forced()
        + " took_ms=" + result.took().toMillis());
    System.out.flush();
    if (diedOnItsOwn || result.forced()) {
      Runtime.getRuntime().halt(2);
    }
  }

  private static void drain(InputStream in) {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) != -1) {
        // Input is ignored; only end-of-file matters.
      }
    } catch (IOException e) {
      // A closed or broken stdin counts as end-of-file.
    }
  }
}
