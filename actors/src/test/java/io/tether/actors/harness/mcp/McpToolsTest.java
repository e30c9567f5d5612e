package io.tether.actors.harness.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import io.tether.actors.harness.HarnessTestSupport;
import io.tether.actors.harness.model.ToolCall;
import io.tether.actors.harness.model.ToolSpec;
import io.tether.actors.harness.task.ToolGrant;
import io.tether.actors.harness.workspace.WorkspaceTools;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Operator-configured MCP servers as tool sources: a stdio server (a Node.js script) run in the
 * run's sandbox with a secret from the node's environment, and a streamable-HTTP server (a
 * loopback stub speaking MCP's JSON-RPC over HTTP) called with a secret header. Only the tools a
 * role's grant allows are offered and callable; secrets reach the server and never a result.
 */
class McpToolsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET_VARIABLE = "TETHER_TEST_PARENT_SECRET";
  private static ActorTestKit kit;
  private static HttpServer remote;
  private static final List<String> authorizations = new CopyOnWriteArrayList<>();
  private static McpTools mcp;
  private static Path workspaces;

  @BeforeAll
  static void start() throws Exception {
    kit = ActorTestKit.create("McpToolsTest", HarnessTestSupport.testKitConfig());
    remote = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    remote.createContext("/mcp", x -> {
      try (x) {
        if (!x.getRequestMethod().equals("POST")) {
          x.sendResponseHeaders(405, -1);
          return;
        }
        authorizations.add(x.getRequestHeaders().getFirst("Authorization"));
        JsonNode m = JSON.readTree(x.getRequestBody().readAllBytes());
        if (!m.has("id")) {
          x.sendResponseHeaders(202, -1);
          return;
        }
        ObjectNode reply = JSON.createObjectNode().put("jsonrpc", "2.0");
        reply.set("id", m.get("id"));
        ObjectNode result = reply.putObject("result");
        switch (m.path("method").asText()) {
          case "initialize" -> {
            result.put("protocolVersion", m.path("params").path("protocolVersion").asText());
            result.putObject("capabilities").putObject("tools");
            result.putObject("serverInfo").put("name", "remote").put("version", "1");
            x.getResponseHeaders().add("Mcp-Session-Id", "session-1");
          }
          case "tools/list" -> result.putArray("tools").addObject().put("name", "echo")
              .put("description", "Echo the text.").set("inputSchema", JSON.readTree(
                  "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}"));
          case "tools/call" -> result.putArray("content").addObject().put("type", "text")
              .put("text", "echo: " + m.path("params").path("arguments").path("text").asText());
          default -> { }
        }
        byte[] body = JSON.writeValueAsBytes(reply);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(200, body.length);
        x.getResponseBody().write(body);
      }
    });
    remote.start();
    Path script = Path.of(McpToolsTest.class.getResource("/mcp/notes-server.mjs").toURI());
    workspaces = Files.createTempDirectory("tether-mcp-tools");
    WorkspaceTools tools = HarnessTestSupport.tools(
        new HarnessTestSupport.SpawnedWorkspaces(kit), workspaces);
    mcp = McpTools.fromConfig(ConfigFactory.parseString("""
            call-timeout = 30s
            start-timeout = 30s
            max-output-bytes = 32KiB
            browser.dir = ""
            servers {
              notes {
                command = ["node", "%s"]
                mounts = ["%s"]
                env { NOTES_TOKEN = "${env:%s}" }
              }
              remote {
                url = "http://127.0.0.1:%d/mcp"
                headers { Authorization = "Bearer ${env:%s}" }
              }
            }
            """.formatted(script, script.getParent(), SECRET_VARIABLE,
                remote.getAddress().getPort(), SECRET_VARIABLE)),
        tools, System::getenv, "/usr/bin:/bin");
  }

  @AfterAll
  static void stop() {
    mcp.release("mcp-run", "generator");
    remote.stop(0);
    kit.shutdownTestKit();
  }

  private static WorkspaceTools.Outcome call(List<ToolGrant> grants, String name, String args)
      throws Exception {
    return mcp.call("mcp-run", "generator", "t", grants, new ToolCall("c-" + name, name, args))
        .toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /**
   * A browser installed below a directory others may not search (a root home of mode 0700, a
   * private temporary directory) cannot be mounted by the sandbox user: the node says so when it
   * starts and refuses browser runs with that reason, instead of offering a browser whose every
   * call fails with bubblewrap's "Can't find source path /proc/self/fd/9: Permission denied"
   * (what a node in such a directory did).
   */
  @Test
  void aBrowserTheSandboxUserCannotReachIsRefusedWithTheReason() throws Exception {
    Path hidden = Files.createTempDirectory("tether-private-home");
    Files.setPosixFilePermissions(hidden, java.nio.file.attribute.PosixFilePermissions
        .fromString("rwx------"));
    Path browser = hidden.resolve("browser");
    Path cli = browser.resolve("node_modules/@playwright/mcp/cli.js");
    Files.createDirectories(cli.getParent());
    Files.writeString(cli, "// a stand-in: the refusal comes before anything runs\n");
    WorkspaceTools tools = HarnessTestSupport.tools(
        new HarnessTestSupport.SpawnedWorkspaces(kit), workspaces);
    McpTools hiddenBrowser = McpTools.fromConfig(ConfigFactory.parseString("""
            call-timeout = 30s
            start-timeout = 30s
            max-output-bytes = 32KiB
            browser.dir = "%s"
            servers {}
            """.formatted(browser)), tools, System::getenv, "/usr/bin:/bin");
    String refusal = hiddenBrowser.refusal("browser").orElseThrow();
    assertTrue(refusal.contains("cannot reach the browser's installation")
        && refusal.contains(hidden + " is not searchable by others"), refusal);
  }

  @Test
  void offersAndRunsOnlyTheGrantedToolsOfAStdioAndAnHttpServerWithSecretsFromTheEnvironment()
      throws Exception {
    String secret = System.getenv(SECRET_VARIABLE);
    assertTrue(secret != null && !secret.isEmpty(), "surefire sets " + SECRET_VARIABLE);
    List<ToolGrant> grants = List.of(new ToolGrant("notes", List.of("note", "secret")),
        new ToolGrant("remote", List.of("*")));
    List<ToolSpec> specs = mcp.specs("mcp-run", "generator", grants).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    assertEquals(List.of("notes__note", "notes__secret", "remote__echo"),
        specs.stream().map(ToolSpec::name).toList());
    assertTrue(specs.get(0).inputSchemaJson().contains("\"text\""));

    WorkspaceTools.Outcome noted = call(grants, "notes__note", "{\"text\": \"first\"}");
    assertEquals("noted (1 notes)", noted.output());
    WorkspaceTools.Outcome token = call(grants, "notes__secret", "{}");
    assertEquals("token of " + secret.length() + " characters", token.output());
    WorkspaceTools.Outcome refused = call(grants, "notes__wait", "{}");
    assertTrue(refused.error() && refused.output().contains("may not use the tool notes__wait"),
        refused.output());
    assertTrue(call(grants, "other__tool", "{}").error());

    WorkspaceTools.Outcome echoed = call(grants, "remote__echo", "{\"text\": \"hi\"}");
    assertEquals("echo: hi", echoed.output());
    assertTrue(authorizations.contains("Bearer " + secret), authorizations.toString());
    for (WorkspaceTools.Outcome o : List.of(noted, token, refused, echoed)) {
      assertFalse(o.output().contains(secret), o.output());
    }
    // The stdio server ran in the run's sandbox: its notes are in the run's workspace.
    Path notes = workspaces.resolve("mcp-run").resolve("notes.log");
    assertEquals(List.of("first"), Files.readAllLines(notes, StandardCharsets.UTF_8));
    assertTrue(mcp.refusal("notes").isEmpty());
    assertTrue(mcp.refusal("browser").orElseThrow().contains("no browser"));
    assertTrue(mcp.refusal("nope").orElseThrow().contains("no MCP server named nope"));
  }
}
