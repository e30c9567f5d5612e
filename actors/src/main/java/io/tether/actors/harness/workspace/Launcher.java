package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The one thread every tool process is started from. The parent-death signal ({@code setpriv
 * --pdeathsig}) follows the thread that forked, not the process, so that thread must live as
 * long as the JVM: then a node killed in any way (SIGKILL included) takes every process its
 * runs started with it.
 */
final class Launcher {

  private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(task -> {
    Thread t = new Thread(task, "tether-process-launcher");
    t.setDaemon(true);
    return t;
  });

  private Launcher() {}

  /** Starts {@code builder} on the launcher thread. */
  static Process start(ProcessBuilder builder) throws IOException, InterruptedException {
    try {
      return THREAD.submit(builder::start).get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException(cause);
    }
  }
}
