package io.tether.client;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: each session delivers
 * to its listener in order without a thread of its own. A task that throws does not stop the
 * ones after it.
 */
final class SerialExecutor implements Executor {
  private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());
  private final Executor pool;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private boolean running;

  SerialExecutor(Executor pool) {
    this.pool = pool;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (tasks) {
      tasks.add(task);
      if (running) {
        return;
      }
      running = true;
    }
    pool.execute(this::drain);
  }

  /** Tasks waiting (not counting the one running). */
  int backlog() {
    synchronized (tasks) {
      return tasks.size();
    }
  }

  private void drain() {
    // A bounded run per hand-over keeps one busy session from monopolising a pool thread.
    for (int i = 0; i < 256; i++) {
      Runnable next;
      synchronized (tasks) {
        next = tasks.poll();
        if (next == null) {
          running = false;
          return;
        }
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a session listener threw; delivery goes on", e);
      }
    }
    try {
      pool.execute(this::drain);
    } catch (RuntimeException rejected) {
      synchronized (tasks) {
        tasks.clear();
        running = false;
      }
    }
  }
}
