package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network namespace of each run on this node, shared by all of the run's sandboxed
 * processes (its commands, its long-lived processes, its {@code http_probe}s and its browser),
 * so the Evaluator reaches the app it started and nothing of the node: the namespace
 * has loopback only, and egress (through {@code slirp4netns}, which never forwards to the
 * node's own loopback) only for a run whose policy asks for it on a node that allows it.
 *
 * <p>A namespace is held by a long-lived sandboxed {@code sleep} (the holder), started like
 * every tool process (under a parent-death signal from the launcher thread, so it dies with the
 * node), and joined by the run's later processes with {@code nsenter}. It lives while the run
 * has a process in it or a tool call running, and a grace period after; it holds no state of
 * its own (sockets belong to the processes), so a new one for a later call loses nothing.
 */
final class RunNetworks {

  private static final Logger log = LoggerFactory.getLogger(RunNetworks.class);
  private static final Duration NAMESPACE_WAIT = Duration.ofSeconds(10);
  private static final Duration GRACE = Duration.ofSeconds(30);
  private static final ScheduledExecutorService REAPER =
      Executors.newSingleThreadScheduledExecutor(task -> {
        Thread t = new Thread(task, "tether-run-network-reaper");
        t.setDaemon(true);
        return t;
      });
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }), "tether-run-network-shutdown"));
  }

  private final Sandbox sandbox;
  private final Map<String, Holder> holders = new HashMap<>();
  private final Set<String> egress = ConcurrentHashMap.newKeySet();

  RunNetworks(Sandbox sandbox) {
    this.sandbox = sandbox;
  }

  /** One use of a run's network; closing it ends the use. */
  interface Lease extends AutoCloseable {
    /** The network to give a sandboxed process. */
    Sandbox.Network network();

    @Override
    void close();
  }

  private static final class Holder {
    final Process process;
    final long nsPid;
    final String namespace;
    Process slirp;
    int users;
    long generation;

    Holder(Process process, long nsPid, String namespace) {
      this.process = process;
      this.nsPid = nsPid;
      this.namespace = namespace;
    }

    boolean intact() {
      return process.isAlive() && namespace.equals(namespaceOf(nsPid).orElse(null));
    }
  }

  /**
   * Whether run {@code runId} may reach addresses beyond its loopback (its policy's decision,
   * given with every tool call of the run). Only records it: the run's namespace gains or loses
   * egress when it is next used ({@link #acquire}, on a tool thread), so an actor can call this.
   */
  void allowEgress(String runId, boolean allowed) {
    if (allowed) {
      egress.add(runId);
    } else {
      egress.remove(runId);
    }
  }

  /** Whether run {@code runId} has egress. */
  boolean egress(String runId) {
    return egress.contains(runId);
  }

  /** A use of run {@code runId}'s namespace, made if it has none. */
  synchronized Lease acquire(String runId) {
    Holder holder = holders.get(runId);
    if (holder != null && !holder.intact()) {
      log.warn("The network namespace of run {} lost its holder (pid {}); a new one is made, and"
          + " processes still in the old one are out of the run's reach", runId, holder.nsPid);
      stop(holder);
      holders.remove(runId);
      holder = null;
    }
    if (holder == null) {
      holder = start(runId);
      holders.put(runId, holder);
    }
    boolean hasEgress = egress(runId);
    if (hasEgress && (holder.slirp == null || !holder.slirp.isAlive())) {
      startSlirp(runId, holder);
    } else if (!hasEgress && holder.slirp != null) {
      stopSlirp(runId, holder);
    }
    Holder held = holder;
    held.users++;
    List<String> enter = new ArrayList<>(List.of("nsenter"));
    if (!sandbox.nodeIsRoot()) {
      enter.addAll(List.of("--preserve-credentials", "--user=/proc/" + held.nsPid + "/ns/user"));
    }
    enter.addAll(List.of("--net=/proc/" + held.nsPid + "/ns/net", "--"));
    List<String> argv = List.copyOf(enter);
    Sandbox.Network network = new Sandbox.Network() {
      @Override
      public List<String> enter() {
        return argv;
      }

      @Override
      public boolean egress() {
        return hasEgress;
      }
    };
    return new Lease() {
      private boolean closed;

      @Override
      public Sandbox.Network network() {
        return network;
      }

      @Override
      public void close() {
        synchronized (RunNetworks.this) {
          if (closed) {
            return;
          }
          closed = true;
          if (--held.users == 0) {
            long generation = ++held.generation;
            REAPER.schedule(() -> reapIfIdle(runId, held, generation), GRACE.toMillis(),
                TimeUnit.MILLISECONDS);
          }
        }
      }
    };
  }

  /**
   * Whether a socket of run {@code runId}'s namespace listens on TCP {@code port} (any
   * address): read from the namespace's {@code /proc/<pid>/net/tcp} and {@code tcp6}, without
   * entering it. False when the run has no namespace on this node.
   */
  synchronized boolean listening(String runId, int port) {
    Holder holder = holders.get(runId);
    if (holder == null || !holder.intact()) {
      return false;
    }
    String hex = String.format(":%04X", port);
    for (String table : List.of("tcp", "tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + holder.nsPid + "/net/" + table))) {
          String[] fields = line.trim().split("\\s+");
          if (fields.length > 3 && fields[1].endsWith(hex) && fields[3].equals("0A")) {
            return true;
          }
        }
      } catch (IOException e) {
        return false;
      }
    }
    return false;
  }

  /** The pid (seen from the node) of a process inside run {@code runId}'s namespace, if any. */
  synchronized Optional<Long> namespacePid(String runId) {
    Holder holder = holders.get(runId);
    return holder == null || !holder.intact() ? Optional.empty() : Optional.of(holder.nsPid);
  }

  private synchronized void reapIfIdle(String runId, Holder holder, long generation) {
    if (holder.users == 0 && holder.generation == generation && holders.get(runId) == holder) {
      holders.remove(runId);
      stop(holder);
      // Forgotten with the namespace, so the set holds only runs in use here. A call that
      // gave egress just before this (within the idle grace's last instant) runs without it:
      // the closed side, and its next call gives it again.
      egress.remove(runId);
    }
  }

  private Holder start(String runId) {
    Process process;
    try {
      process = Launcher.start(new ProcessBuilder(sandbox.argv(sandbox.emptyDir(), Sandbox.PRIVATE_NETWORK,
              Map.of("PATH", "/usr/bin:/bin"), List.of("sleep", "infinity")))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while making the run's network", e);
    }
    LIVE.add(process);
    process.onExit().thenRun(() -> LIVE.remove(process));
    String own = namespaceOf(ProcessHandle.current().pid()).orElseThrow();
    long deadline = System.nanoTime() + NAMESPACE_WAIT.toNanos();
    while (true) {
      for (ProcessHandle p : process.descendants().toList()) {
        Optional<String> ns = namespaceOf(p.pid());
        if (ns.isPresent() && !ns.get().equals(own)) {
          return new Holder(process, p.pid(), ns.get());
        }
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("could not make the run's network namespace"
            + (process.isAlive() ? " within " + NAMESPACE_WAIT.toSeconds() + " s"
                : ": its holder exited with " + process.exitValue()));
      }
      try {
        Thread.sleep(5); // polling the kernel for the holder's new namespace
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
        throw new IllegalStateException("interrupted while making the run's network", e);
      }
    }
  }

  /**
   * Gives the namespace egress through {@code slirp4netns}: a user-mode NAT whose connections
   * leave from the node's network, with the node's loopback ({@code 10.0.2.2}) disabled, in its
   * own sandbox and seccomp filter.
   *
   * <p>The namespace is named by its path, not by the holder's pid: given a pid, slirp4netns
   * first joins that process's user namespace, which is the nested one bwrap makes for {@code
   * --disable-userns}, and from there it may not join the network namespace, owned by the
   * user namespace above it ({@code setns: Operation not permitted}). A root node needs no user
   * namespace to join it.
   */
  private void startSlirp(String runId, Holder holder) {
    List<String> argv = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    if (sandbox.nodeIsRoot()) {
      // In a mount namespace of its own whose mounts are all private, before slirp4netns makes
      // its sandbox: run as root in the node's, its sandbox (1.2.0) unmounted the old root
      // without first making every mount private, and the unmount propagated to the machine's
      // shared mounts: every `ip netns` namespace of the host (/run/netns) lost its bind mount.
      argv.addAll(List.of("unshare", "--mount", "--propagation", "private", "--"));
    }
    argv.addAll(List.of("slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
        "--enable-sandbox", "--enable-seccomp"));
    if (!sandbox.nodeIsRoot()) {
      argv.add("--userns-path=/proc/" + holder.nsPid + "/ns/user");
    }
    argv.addAll(List.of("--netns-type=path", "/proc/" + holder.nsPid + "/ns/net", "tap0"));
    try {
      Process slirp = Launcher.start(new ProcessBuilder(argv).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD));
      LIVE.add(slirp);
      slirp.onExit().thenRun(() -> LIVE.remove(slirp));
      holder.slirp = slirp;
      Path routes = Path.of("/proc/" + holder.nsPid + "/net/route");
      long deadline = System.nanoTime() + NAMESPACE_WAIT.toNanos();
      while (!Files.readString(routes).contains("tap0")) {
        if (!slirp.isAlive() || System.nanoTime() > deadline) {
          slirp.destroyForcibly();
          holder.slirp = null;
          throw new IllegalStateException("could not give run " + runId + " egress: slirp4netns"
              + (slirp.isAlive() ? " set up no route within " + NAMESPACE_WAIT.toSeconds() + " s"
                  : " exited with " + slirp.exitValue()));
        }
        Thread.sleep(10); // polling the namespace's routing table for slirp4netns's route
      }
      log.info("Run {} has egress (slirp4netns into its network namespace)", runId);
    } catch (IOException e) {
      throw new UncheckedIOException("could not give run " + runId + " egress: "
          + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void stopSlirp(String runId, Holder holder) {
    holder.slirp.destroyForcibly();
    try {
      holder.slirp.onExit().get(NAMESPACE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      log.warn("slirp4netns of run {} did not exit within {} s", runId,
          NAMESPACE_WAIT.toSeconds());
    }
    holder.slirp = null;
    log.info("Run {} no longer has egress", runId);
  }

  private static void stop(Holder holder) {
    if (holder.slirp != null) {
      holder.slirp.destroyForcibly();
    }
    try {
      CommandRunner.killTree(holder.process);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static Optional<String> namespaceOf(long pid) {
    try {
      return Optional.of(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString());
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
  }
}
