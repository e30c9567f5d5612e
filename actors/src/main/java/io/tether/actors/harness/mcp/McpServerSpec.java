package io.tether.actors.harness.mcp;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One MCP server a run may attach: a command speaking MCP over standard input and output (run in
 * the run's sandbox), or a streamable-HTTP URL (called from the node).
 *
 * @param name the server's name in run policies
 * @param command the argv of a stdio server, run in the sandbox (empty for a URL server)
 * @param url the endpoint of a streamable-HTTP server (null for a stdio server)
 * @param env the environment of a stdio server; values may name the node's environment as
 *     {@code ${env:VARIABLE}}, read when the server starts
 * @param headers the HTTP headers of a URL server, with the same references
 * @param prefix put before the server's tool names the model sees, unless a name already starts
 *     with it ({@code <name>__} by default; the browser's tools already say {@code browser_})
 * @param hostNetwork whether a stdio server joins the node's network instead of the run's
 *     loopback-only one (an operator's choice for a server that calls out)
 * @param mounts directories of the node mounted read-only into a stdio server's sandbox (its
 *     installation), by the path it sees them at
 */
public record McpServerSpec(String name, List<String> command, String url,
    Map<String, String> env, Map<String, String> headers, String prefix, boolean hostNetwork,
    Map<Path, String> mounts) {

  private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,30}");

  public McpServerSpec {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("an MCP server's name is lower-case letters, digits and"
          + " dashes: " + name);
    }
    command = List.copyOf(command);
    env = Map.copyOf(env);
    headers = Map.copyOf(headers);
    mounts = Map.copyOf(mounts);
    if (command.isEmpty() == (url == null || url.isBlank())) {
      throw new IllegalArgumentException("MCP server " + name + " needs either a command or a"
          + " url");
    }
  }

  /** Whether it is a stdio server. */
  public boolean stdio() {
    return !command.isEmpty();
  }

  /** The name the model sees for the server's tool {@code tool}. */
  public String exposed(String tool) {
    return tool.startsWith(prefix) ? tool : prefix + tool;
  }

  /** Whether {@code exposedName} could be one of this server's tools. */
  public boolean mayExpose(String exposedName) {
    return exposedName.startsWith(prefix);
  }

  /**
   * Resolves {@code ${env:VARIABLE}} references from {@code environment}.
   *
   * @throws IllegalStateException naming the variable (never its value) when it is unset
   */
  static Map<String, String> resolve(Map<String, String> values,
      Function<String, String> environment, String server) {
    Map<String, String> out = new LinkedHashMap<>();
    values.forEach((k, v) -> {
      Matcher m = ENV_REFERENCE.matcher(v);
      StringBuilder b = new StringBuilder();
      while (m.find()) {
        String value = environment.apply(m.group(1));
        if (value == null) {
          throw new IllegalStateException("MCP server " + server + " needs the environment"
              + " variable " + m.group(1) + " on this node, which is not set");
        }
        m.appendReplacement(b, Matcher.quoteReplacement(value));
      }
      m.appendTail(b);
      out.put(k, b.toString());
    });
    return out;
  }

  /** A server block of {@code tether.harness.mcp.servers}. */
  static McpServerSpec fromConfig(String name, Config c) {
    return new McpServerSpec(name,
        c.hasPath("command") ? c.getStringList("command") : List.of(),
        c.hasPath("url") ? c.getString("url") : null,
        strings(c, "env"), strings(c, "headers"),
        c.hasPath("tool-prefix") ? c.getString("tool-prefix") : name + "__",
        c.hasPath("network") && c.getString("network").equals("host"),
        mounts(c));
  }

  /** {@code mounts = ["/opt/server"]}: directories mounted read-only at the same path. */
  private static Map<Path, String> mounts(Config c) {
    Map<Path, String> out = new LinkedHashMap<>();
    if (c.hasPath("mounts")) {
      for (String dir : c.getStringList("mounts")) {
        Path p = Path.of(dir).toAbsolutePath().normalize();
        out.put(p, p.toString());
      }
    }
    return out;
  }

  private static Map<String, String> strings(Config c, String key) {
    Map<String, String> out = new LinkedHashMap<>();
    if (c.hasPath(key)) {
      c.getConfig(key).root().keySet().forEach(k -> out.put(k, c.getConfig(key).getString(
          com.typesafe.config.ConfigUtil.quoteString(k))));
    }
    return out;
  }

  /**
   * The built-in browser: Playwright MCP ({@code @playwright/mcp}, installed into {@code dir}
   * by {@code actors/scripts/install-browser.sh}) with its configuration there (Debian's headless
   * Chromium, no Chromium sandbox inside ours, no background networking), mounted read-only at
   * {@code /opt/tether/browser} in the run's sandbox.
   */
  static McpServerSpec browser(Path dir) {
    String inside = "/opt/tether/browser";
    return new McpServerSpec("browser",
        List.of("node", inside + "/node_modules/@playwright/mcp/cli.js", "--config",
            inside + "/playwright-mcp.json"),
        null, Map.of("PATH", "/usr/bin:/bin", "HOME", "/tmp", "TMPDIR", "/tmp",
            "LANG", "C.UTF-8"),
        Map.of(), "browser_", false, Map.of(dir, inside));
  }

  /** Why the browser installed in {@code dir} cannot run, or null. */
  static String browserMissing(Path dir) {
    if (dir == null) {
      return "no browser is configured on this node (tether.harness.mcp.browser.dir,"
          + " TETHER_BROWSER_DIR)";
    }
    if (!Files.isRegularFile(dir.resolve("node_modules/@playwright/mcp/cli.js"))) {
      return "Playwright MCP is not installed in " + dir + " (run actors/scripts/install-browser.sh)";
    }
    return null;
  }
}
