package io.tether.actors.harness.workspace;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The confinement of everything a run's tools start on this node ({@code run_command}, {@code
 * start_process}, {@code http_probe}, and the helpers that touch the run's workspace directory):
 * a bubblewrap ({@code bwrap}) sandbox per process, whose only writable path is the run's
 * workspace (mounted at {@code /workspace}), over a minimal read-only system ({@code /usr}, a
 * few files of {@code /etc}, a generated {@code /etc/passwd}; no {@code /root}, {@code /home},
 * node home, other workspaces or {@code /sys}), with a private {@code /tmp}, {@code /dev} and
 * {@code /proc}, in its own PID, IPC, UTS, cgroup and user namespaces, as an unprivileged user
 * with no capabilities and no further user namespaces. Its network namespace is the run's
 * ({@link RunNetworks}): loopback only, shared by the run's processes on this node, with egress
 * only where the run is allowed it.
 *
 * <p>The launch chain, as root: {@code setpriv --pdeathsig KILL} (the process dies with the
 * thread that started it), {@code nsenter --net} into the run's namespace, a root {@code sh}
 * that opens the workspace and the generated {@code /etc} files as file descriptors (so the
 * sandbox user needs no access to the paths leading to them), {@code setpriv} to the sandbox
 * user, {@code setpriv --pdeathsig KILL} again (changing the user clears it), and {@code bwrap
 * --die-with-parent}, whose PID namespace ends, with everything in it, when the command does.
 * The node must run as root: it switches to the sandbox's own user and joins each run's network
 * namespace; an unprivileged node refuses tools (the parts for it, running the sandbox as the
 * node's user and entering the holder's user namespace too, are kept but the kernel refuses
 * that join as bwrap sets the holder up).
 *
 * <p>Whether the machine allows all this is probed once, in the background from construction,
 * and logged. Where it does not, tools are refused (a tool error naming why) unless the operator
 * set {@code sandbox.mode = dangerously-unconfined}, which is logged as an ERROR when the
 * harness starts: tools then run as the node's user, seeing its files and its network.
 */
public final class Sandbox {

  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

  /** The mount point of the run's workspace inside the sandbox. */
  public static final String WORKSPACE = "/workspace";

  /** Where node-written files to copy into the workspace are mounted (read-only). */
  static final String STAGING = "/staging";

  /** How tools are confined (config: {@code sandbox.mode}). */
  public enum Mode {
    /** Every tool process in a bubblewrap sandbox; tools are refused where none can be made. */
    BUBBLEWRAP,
    /** No confinement at all: an operator's explicit, logged choice. */
    DANGEROUSLY_UNCONFINED;

    /** Parses {@code bubblewrap} or {@code dangerously-unconfined}. */
    public static Mode fromConfig(String value) {
      for (Mode m : values()) {
        if (m.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(value)) {
          return m;
        }
      }
      throw new IllegalArgumentException("sandbox.mode must be bubblewrap or"
          + " dangerously-unconfined, not " + value);
    }
  }

  /**
   * What the sandbox is made of.
   *
   * @param mode bubblewrap or dangerously unconfined
   * @param uid the user the sandbox runs as when the node is root (never 0)
   * @param gid its group
   * @param etc the files and directories of the host's {@code /etc} the sandbox sees, read-only
   * @param readOnlyPaths further host paths mounted read-only at the same place (a toolchain
   *     outside {@code /usr}); the sandbox user must be able to reach them
   * @param tmpBytes the size of the private {@code /tmp}
   */
  public record Settings(Mode mode, int uid, int gid, List<String> etc, List<String> readOnlyPaths,
      long tmpBytes, boolean allowEgress) {

    public Settings {
      if (mode == Mode.BUBBLEWRAP && (uid == 0 || gid == 0)) {
        throw new IllegalArgumentException("the sandbox user must not be root (uid and gid 0)");
      }
      etc = List.copyOf(etc);
      readOnlyPaths = List.copyOf(readOnlyPaths);
    }

    /** The defaults of {@code reference.conf}. */
    public static Settings defaults() {
      return new Settings(Mode.BUBBLEWRAP, 65532, 65532, DEFAULT_ETC, List.of(),
          256L * 1024 * 1024, true);
    }

    /** Reads {@code tether.harness.workspace.sandbox}. */
    public static Settings fromConfig(Config sandbox) {
      return new Settings(Mode.fromConfig(sandbox.getString("mode")), sandbox.getInt("uid"),
          sandbox.getInt("gid"), sandbox.getStringList("etc"),
          sandbox.getStringList("read-only-paths"), sandbox.getBytes("tmp-size"),
          sandbox.getBoolean("allow-egress"));
    }

    Settings withMode(Mode other) {
      return new Settings(other, uid, gid, etc, readOnlyPaths, tmpBytes, allowEgress);
    }

    /** These settings with runs' egress allowed or refused by the operator. */
    public Settings withAllowEgress(boolean allowed) {
      return new Settings(mode, uid, gid, etc, readOnlyPaths, tmpBytes, allowed);
    }
  }

  static final List<String> DEFAULT_ETC = List.of("alternatives", "ld.so.cache", "ld.so.conf",
      "ld.so.conf.d", "ssl", "ca-certificates", "ca-certificates.conf", "localtime",
      "nsswitch.conf", "host.conf", "gai.conf", "protocols", "services", "mime.types",
      "java-17-openjdk", "python3", "python3.11", "profile", "bash.bashrc", "inputrc", "fonts",
      "chromium", "chromium.d");

  /** The network a sandboxed process gets. */
  interface Network {
    /** The argv that enters the namespace before the sandbox is made (empty: a new one). */
    List<String> enter();

    /** Whether it reaches beyond loopback (then the sandbox gets a resolver). */
    default boolean egress() {
      return false;
    }
  }

  /** A new, empty network namespace of its own (loopback only). */
  static final Network PRIVATE_NETWORK = List::of;

  /**
   * The node's own network (no network namespace): only for a tool server the operator
   * configured to reach the network (an MCP server that calls an API), never for a run's tools.
   */
  static final Network HOST_NETWORK = new Network() {
    @Override
    public List<String> enter() {
      return List.of();
    }

    @Override
    public boolean egress() {
      return true;
    }
  };

  private static final long PROBE_TIMEOUT_SECONDS = 20;

  private static Sandbox shared;

  private final Settings settings;
  private final boolean root;
  private final Path base;
  private final Path etcDir;
  private final CompletableFuture<String> refusal;
  private final RunNetworks networks;
  private final String bwrapProgram;

  /** One sandbox with the default settings, shared by whoever asks (tests, tools built bare). */
  public static synchronized Sandbox defaults() {
    if (shared == null) {
      shared = new Sandbox(Settings.defaults());
    }
    return shared;
  }

  /** A sandbox with these settings; the probe starts in the background. */
  public Sandbox(Settings settings) {
    this(settings, "bwrap");
  }

  /** With the bubblewrap program to run (tests name one that does not exist). */
  Sandbox(Settings settings, String bwrap) {
    this.settings = settings;
    this.bwrapProgram = bwrap;
    this.root = "root".equals(System.getProperty("user.name"));
    this.base = settings.mode() == Mode.BUBBLEWRAP ? privateBase() : null;
    this.etcDir = base != null ? base.resolve("etc") : null;
    this.networks = settings.mode() == Mode.BUBBLEWRAP ? new RunNetworks(this) : null;
    // Probing starts a process: never on the caller's (possibly an actor's) thread.
    this.refusal = CompletableFuture.supplyAsync(this::probe, task -> {
      Thread probe = new Thread(task, "tether-sandbox-probe");
      probe.setDaemon(true);
      probe.start();
    });
  }

  /** The settings. */
  public Settings settings() {
    return settings;
  }

  /** Whether tools run unconfined (the operator's explicit choice). */
  public boolean unconfined() {
    return settings.mode() == Mode.DANGEROUSLY_UNCONFINED;
  }

  /** The runs' network namespaces on this node (none when unconfined). */
  RunNetworks networks() {
    return networks;
  }

  /** Whether the node runs as root (then the sandbox switches to its own user). */
  boolean nodeIsRoot() {
    return root;
  }

  /**
   * What is in force: {@code bubblewrap (...)}, {@code DANGEROUSLY UNCONFINED}, or {@code
   * refused: why}; waits for the probe.
   */
  public String describe() {
    if (unconfined()) {
      return "DANGEROUSLY UNCONFINED";
    }
    String why = refusalReason();
    return why != null ? "refused: " + why
        : "bubblewrap (user " + (root ? settings.uid() + ":" + settings.gid()
            : "of the node, in a user namespace") + ")";
  }

  /** Throws the refusal, as a tool error, when the sandbox cannot be made here. */
  void requireUsable() {
    String why = refusalReason();
    if (why != null) {
      throw new IllegalStateException("tools are refused: this node cannot confine them ("
          + why + "). Install bubblewrap (actors/scripts/install-sandbox.sh) or, accepting"
          + " that a tool then sees the node's files and network, set"
          + " tether.harness.workspace.sandbox.mode = dangerously-unconfined");
    }
  }

  private String refusalReason() {
    try {
      return refusal.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while probing the sandbox";
    } catch (ExecutionException e) {
      return "probing the sandbox failed: " + e.getCause();
    }
  }

  /**
   * The argv that runs {@code command} for a run with {@code workspace} (the host directory)
   * mounted at {@link #WORKSPACE} as its working directory and {@code env} as its whole
   * environment, in {@code network}. Unconfined, the command itself under a parent-death signal
   * (run it with the workspace as working directory).
   */
  List<String> argv(Path workspace, Network network, Map<String, String> env,
      List<String> command) {
    return argv(workspace, null, network, env, command);
  }

  /**
   * As {@link #argv(Path, Network, Map, List)}, with {@code staging} (a directory of the node's)
   * also mounted read-only at {@link #STAGING} when not null.
   */
  List<String> argv(Path workspace, Path staging, Network network, Map<String, String> env,
      List<String> command) {
    return argv(workspace, staging, network, env, command, Map.of());
  }

  /**
   * As {@link #argv(Path, Path, Network, Map, List)}, with each directory of {@code mounts} (a
   * path of the node's, opened by the node) mounted read-only at its value inside the sandbox:
   * a tool server's installation, say, which the sandbox user then needs no path to. Unconfined,
   * the mounts are ignored (the process sees the node's files anyway).
   */
  List<String> argv(Path workspace, Path staging, Network network, Map<String, String> env,
      List<String> command, Map<Path, String> mounts) {
    return argv(workspace, staging, network, env, command, mounts, false);
  }

  /**
   * As {@link #argv(Path, Path, Network, Map, List, Map)}; with {@code envFromProcess}, {@code
   * env} is not written into the argv (where the node's other processes could read it): the
   * caller starts the chain with exactly that environment, which then passes through (used for
   * a tool server's secrets).
   */
  List<String> argv(Path workspace, Path staging, Network network, Map<String, String> env,
      List<String> command, Map<Path, String> mounts, boolean envFromProcess) {
    if (unconfined()) {
      List<String> argv = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
      argv.addAll(command);
      return argv;
    }
    requireUsable();
    return confined(workspace, staging, network, envFromProcess ? null : env, command, mounts);
  }

  private List<String> bwrap(boolean ownNetwork, boolean egress, boolean staging,
      Map<String, String> env, List<String> mountTargets) {
    List<String> b = new ArrayList<>(List.of(bwrapProgram,
        "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session",
        "--hostname", "sandbox"));
    if (ownNetwork) {
      b.add("--unshare-net");
    }
    if (root) {
      b.addAll(List.of("--uid", Integer.toString(settings.uid()),
          "--gid", Integer.toString(settings.gid())));
    }
    b.addAll(List.of("--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib"));
    if (Files.exists(Path.of("/usr/lib64"))) {
      b.addAll(List.of("--symlink", "usr/lib64", "/lib64"));
    }
    b.addAll(List.of("--proc", "/proc", "--dev", "/dev",
        "--size", Long.toString(settings.tmpBytes()), "--tmpfs", "/tmp",
        "--dir", "/etc", "--dir", "/var", "--symlink", "../tmp", "/var/tmp"));
    for (String name : settings.etc()) {
      if (name.contains("/") || name.startsWith(".")) {
        throw new IllegalArgumentException("sandbox.etc names entries of /etc: " + name);
      }
      b.addAll(List.of("--ro-bind-try", "/etc/" + name, "/etc/" + name));
    }
    b.addAll(List.of("--ro-bind-data", "4", "/etc/passwd", "--ro-bind-data", "5", "/etc/group",
        "--ro-bind-data", "6", "/etc/hosts"));
    if (egress) {
      b.addAll(List.of("--ro-bind-data", "7", "/etc/resolv.conf"));
    }
    for (String path : settings.readOnlyPaths()) {
      b.addAll(List.of("--ro-bind-try", path, path));
    }
    if (staging) {
      b.addAll(List.of("--ro-bind-fd", "8", STAGING));
    }
    for (int i = 0; i < mountTargets.size(); i++) {
      b.addAll(List.of("--ro-bind-fd", Integer.toString(FIRST_MOUNT_FD + i),
          mountTargets.get(i)));
    }
    b.addAll(List.of("--bind-fd", "3", WORKSPACE, "--remount-ro", "/", "--chdir", WORKSPACE));
    if (env != null) {
      b.add("--clearenv");
      env.forEach((k, v) -> b.addAll(List.of("--setenv", k, v)));
    }
    b.add("--");
    return b;
  }

  /**
   * Refuses a workspace directory the sandbox user cannot reach: bubblewrap mounts it by path,
   * as that user, so every directory above it must be searchable by others.
   */
  void requireReachable(Path dir) {
    String why = unreachable(dir);
    if (why != null) {
      throw new IllegalStateException("the sandbox user cannot reach the workspace " + dir
          + ": " + why + " (chmod o+x it, or set tether.harness.workspace.root elsewhere)");
    }
  }

  /**
   * Why the sandbox user cannot reach {@code dir} (a directory above it that others may not
   * search, as a home directory of mode 0700), or null when it can or no user switch happens.
   * Bubblewrap mounts a directory by path as that user, so such a directory (a workspace, the
   * browser's installation) cannot be mounted.
   */
  public String unreachable(Path dir) {
    if (unconfined() || !root) {
      return null;
    }
    for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
      try {
        if (!Files.getPosixFilePermissions(p).contains(
            java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
          return p + " is not searchable by others";
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return null;
  }

  /** The user a workspace's files must belong to so the sandbox can change them (-1: any). */
  int workspaceUid() {
    return root && !unconfined() ? settings.uid() : -1;
  }

  /** The group of {@link #workspaceUid}. */
  int workspaceGid() {
    return root && !unconfined() ? settings.gid() : -1;
  }

  /**
   * A directory only the node can list (0711), holding the passwd, group, hosts and resolv.conf
   * the sandbox sees ({@code etc/}), an empty directory ({@code empty/}, the workspace of
   * sandboxed processes that need none) and the staging directories of workspace writes.
   */
  private Path privateBase() {
    try {
      // Searchable, not listable: bwrap reaches the empty and staging directories by path.
      Path base = Files.createTempDirectory("tether-sandbox",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
      Path etc = Files.createDirectory(base.resolve("etc"),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      int uid = root ? settings.uid() : ((Number) Files.getAttribute(base, "unix:uid")).intValue();
      int gid = root ? settings.gid() : ((Number) Files.getAttribute(base, "unix:gid")).intValue();
      Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
          + "sandbox:x:" + uid + ":" + gid + ":tether sandbox:" + WORKSPACE + ":/bin/sh\n"
          + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
          StandardCharsets.UTF_8);
      Files.writeString(etc.resolve("group"), "root:x:0:\nsandbox:x:" + gid + ":\n"
          + "nogroup:x:65534:\n", StandardCharsets.UTF_8);
      // slirp4netns's resolver, for a run with egress.
      Files.writeString(etc.resolve("resolv.conf"), "nameserver 10.0.2.3\n",
          StandardCharsets.UTF_8);
      Files.writeString(etc.resolve("hosts"), "127.0.0.1\tlocalhost sandbox\n"
          + "::1\tlocalhost ip6-localhost ip6-loopback\n", StandardCharsets.UTF_8);
      Files.createDirectory(base.resolve("empty"),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r-xr-xr-x")));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(base),
          "tether-sandbox-cleanup"));
      return base;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The empty directory. */
  Path emptyDir() {
    return base.resolve("empty");
  }

  /**
   * A new staging directory that the sandbox user can read once it is mounted (it is reached
   * through the node-only base, never by path from a sandbox); delete it with {@link
   * #deleteTree}.
   */
  Path newStaging() throws IOException {
    Path parent = unconfined() ? Path.of(System.getProperty("java.io.tmpdir")) : base;
    Path staging = Files.createTempDirectory(parent, "staging");
    Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
    return staging;
  }

  static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temporary directory left behind is harmless.
    }
  }

  /**
   * Runs a shell in the sandbox that checks what it promises (its own PID namespace, no
   * capabilities, not root where the node is, nothing of the node's home): null when it holds,
   * else why not.
   */
  private String probe() {
    if (unconfined()) {
      log.error("Tools run DANGEROUSLY UNCONFINED (tether.harness.workspace.sandbox.mode ="
          + " dangerously-unconfined): a model's run_command and start_process run as this"
          + " node's user, with its files (secrets included), its environment through /proc,"
          + " other runs' workspaces and the node's network (its HTTP port, Cassandra, Pekko"
          + " remoting); http_probe reaches the node's own ports");
      return null;
    }
    if (!root) {
      // Joining a run's network namespace from an unprivileged node (nsenter into the holder's
      // user namespace, then its network) is refused by the kernel as bwrap sets it up.
      return fail("the node does not run as root: the sandbox switches to its own user and"
          + " joins each run's network namespace, which needs root");
    }
    try {
      List<String> argv = confined(emptyDir(), null, PRIVATE_NETWORK, Map.of("PATH", "/usr/bin:/bin"),
          List.of("sh", "-c", "test $$ -eq 2 && grep -q '^CapEff:[[:space:]]*0*$' /proc/self/status"
              + " && test \"$(id -u)\" != 0 && ! test -e /root && echo confined"));
      Process process = new ProcessBuilder(argv).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      if (!process.waitFor(PROBE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return fail("no answer within " + PROBE_TIMEOUT_SECONDS + " s");
      }
      String output = new String(process.getInputStream().readAllBytes(),
          StandardCharsets.UTF_8).strip();
      if (process.exitValue() != 0 || !output.equals("confined")) {
        return fail("bwrap exited with " + process.exitValue()
            + (output.isEmpty() ? "" : ": " + output));
      }
      log.info("Tools run in a bubblewrap sandbox: only the run's workspace writable, a"
          + " read-only minimal system, the run's own loopback-only network namespace, {}, no"
          + " capabilities", root ? "user " + settings.uid() + ":" + settings.gid()
              : "the node's user in a user namespace");
      return null;
    } catch (IOException e) {
      return fail(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private List<String> confined(Path workspace, Path staging, Network network,
      Map<String, String> env, List<String> command) {
    return confined(workspace, staging, network, env, command, Map.of());
  }

  private List<String> confined(Path workspace, Path staging, Network network,
      Map<String, String> env, List<String> command, Map<Path, String> mounts) {
    if (mounts.size() > MAX_MOUNTS) {
      throw new IllegalArgumentException("at most " + MAX_MOUNTS + " extra mounts");
    }
    List<String> argv = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    argv.addAll(network.enter());
    StringBuilder open = new StringBuilder("exec 3<\"$1\" 4<\"$2\" 5<\"$3\" 6<\"$4\" 7<\"$5\""
        + " 8<\"$6\"");
    List<String> sources = new ArrayList<>(List.of(workspace.toString(),
        etcDir.resolve("passwd").toString(), etcDir.resolve("group").toString(),
        etcDir.resolve("hosts").toString(), etcDir.resolve("resolv.conf").toString(),
        (staging != null ? staging : etcDir.resolve("hosts")).toString()));
    List<String> targets = new ArrayList<>();
    for (Map.Entry<Path, String> m : mounts.entrySet()) {
      int fd = FIRST_MOUNT_FD + targets.size();
      sources.add(m.getKey().toString());
      open.append(' ').append(fd).append("<\"${").append(sources.size()).append("}\"");
      targets.add(m.getValue());
    }
    open.append(" && shift ").append(sources.size()).append(" && exec \"$@\"");
    argv.addAll(List.of("sh", "-c", open.toString(), "tether-sandbox"));
    argv.addAll(sources);
    if (root) {
      argv.addAll(List.of("setpriv", "--reuid=" + settings.uid(), "--regid=" + settings.gid(),
          "--clear-groups", "--", "setpriv", "--pdeathsig", "KILL", "--"));
    }
    argv.addAll(bwrap(network == PRIVATE_NETWORK, network.egress() && network != HOST_NETWORK,
        staging != null, env, targets));
    argv.addAll(command);
    return argv;
  }

  /** The first descriptor of the extra read-only mounts, and how many there may be (9 .. 9+n). */
  private static final int FIRST_MOUNT_FD = 9;
  private static final int MAX_MOUNTS = 4;

  private static String fail(String why) {
    log.error("Tools are REFUSED on this node: it cannot make the bubblewrap sandbox ({})."
        + " Install bubblewrap (actors/scripts/install-sandbox.sh, or apt-get install"
        + " bubblewrap) and allow user namespaces; or set"
        + " tether.harness.workspace.sandbox.mode = dangerously-unconfined to run tools"
        + " unconfined", why);
    return why;
  }
}
