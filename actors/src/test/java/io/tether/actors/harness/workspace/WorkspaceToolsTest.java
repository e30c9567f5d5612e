package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.model.ToolCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools as a model calls them: writes go to the durable workspace first, every tool sees
 * the materialized workspace, and a path escape comes back as an error the model can read. A
 * write through a link the run made itself is refused before anything is recorded, and a
 * durable file that cannot be restored locally (recorded by an older version that stored such
 * a write) is reported while every tool keeps working.
 */
class WorkspaceToolsTest {

  @TempDir Path root;

  /** A durable workspace kept in a map: the store is a collaborator here, not under test. */
  static final class MapStore implements WorkspaceStore {
    final Map<String, String> files = new TreeMap<>();

    @Override
    public synchronized CompletionStage<Workspace.Files> files(String runId) {
      return CompletableFuture.completedFuture(new Workspace.Files(files.size(), Map.copyOf(files)));
    }

    @Override
    public synchronized CompletionStage<Workspace.Written> write(String runId, String path,
        String content, String author) {
      files.put(path, content);
      return CompletableFuture.completedFuture(new Workspace.Written(path, files.size()));
    }
  }

  private final MapStore store = new MapStore();
  private WorkspaceTools tools;

  @org.junit.jupiter.api.BeforeEach
  void tools() throws Exception {
    Sandboxes.reachable(root);
    tools = new WorkspaceTools(store, root,
        new CommandRunner(Duration.ofSeconds(5), 4096, "/usr/local/bin:/usr/bin:/bin"),
        new HttpProbe(Duration.ofSeconds(2), 1024, true), 4096, Executors.newCachedThreadPool());
  }

  private WorkspaceTools.Outcome call(String name, String args) throws Exception {
    return tools.execute("r1", "generator", new ToolCall("c1", name, args))
        .toCompletableFuture().get();
  }

  @Test
  void writesDurablyThenLocallyAndCommandsSeeTheFiles() throws Exception {
    assertFalse(call("write_file", "{\"path\": \"a/b.txt\", \"content\": \"hi\"}").error());
    assertEquals("hi", store.files.get("a/b.txt"));
    WorkspaceTools.Outcome cat = call("run_command", "{\"command\": \"cat a/b.txt\"}");
    assertEquals("exit_code=0\nhi", cat.output());
    assertTrue(call("list_files", "{}").output().contains("a/b.txt (2 bytes)"));
  }

  @Test
  void materializesDurableFilesOnANodeThatNeverSawThem() throws Exception {
    store.files.put("spec.md", "# Spec");
    assertEquals("# Spec", call("read_file", "{\"path\": \"spec.md\"}").output());
    assertEquals("# Spec", Files.readString(root.resolve("r1/spec.md")));
  }

  @Test
  void aPathEscapeIsAnErrorForTheModelAndWritesNothing() throws Exception {
    WorkspaceTools.Outcome out = call("write_file", "{\"path\": \"../x\", \"content\": \"no\"}");
    assertTrue(out.error());
    assertTrue(out.output().contains("may not be empty, . or .."), out.output());
    assertTrue(store.files.isEmpty());
    assertTrue(Files.notExists(root.resolve("x")));
    assertTrue(call("read_file", "{\"path\": \"/etc/passwd\"}").error());
  }

  @Test
  void aWriteThroughALinkIsRefusedBeforeItIsRecordedAndTheRunGoesOn() throws Exception {
    // The run makes links out of its workspace (inside the sandbox they can only lead to the
    // read-only system or its private /tmp) and then tries write_file through them.
    assertEquals("exit_code=0\n", call("run_command",
        "{\"command\": \"ln -s /tmp out && ln -s /etc/hostname name.txt\"}").output());
    for (String path : List.of("out/x.txt", "name.txt")) {
      WorkspaceTools.Outcome refused = call("write_file",
          "{\"path\": \"" + path + "\", \"content\": \"no\"}");
      assertTrue(refused.error(), refused.output());
      assertTrue(refused.output().contains("refusing to write through a link"), refused.output());
    }
    assertTrue(store.files.isEmpty(), "a refused write is never recorded: " + store.files);
    // Every tool still works afterwards.
    assertFalse(call("write_file", "{\"path\": \"ok.txt\", \"content\": \"fine\"}").error());
    assertEquals("exit_code=0\nfine", call("run_command", "{\"command\": \"cat ok.txt\"}")
        .output());
    assertTrue(call("list_files", "{}").output().contains("ok.txt (4 bytes)"));
  }

  @Test
  void aDurableFileThatCannotBeRestoredIsReportedAndNeverBricksTheRun() throws Exception {
    // What an older version stored: a write refused locally but recorded durably.
    assertEquals("exit_code=0\n", call("run_command", "{\"command\": \"ln -s /tmp out\"}")
        .output());
    store.files.put("out/x.txt", "recorded before the fix");
    store.files.put("good.txt", "restored");
    for (String[] c : List.of(new String[] {"run_command", "{\"command\": \"cat good.txt\"}"},
        new String[] {"list_files", "{}"}, new String[] {"read_file", "{\"path\": \"good.txt\"}"})) {
      WorkspaceTools.Outcome outcome = call(c[0], c[1]);
      assertFalse(outcome.error(), c[0] + ": " + outcome.output());
      assertTrue(outcome.output().startsWith("[workspace: 1 durable file(s) could not be restored"
          + " here and were skipped: out/x.txt: refusing to write through a link"),
          outcome.output());
    }
    assertTrue(call("run_command", "{\"command\": \"cat good.txt\"}").output()
        .endsWith("exit_code=0\nrestored"));
    // Once the run removes the link, the file is restored.
    call("run_command", "{\"command\": \"rm out\"}");
    assertEquals("recorded before the fix", call("read_file", "{\"path\": \"out/x.txt\"}")
        .output());
  }

  @Test
  void unknownToolsAndBadArgumentsAreErrorsNotExceptions() throws Exception {
    assertTrue(call("rm_rf", "{}").error());
    assertTrue(call("write_file", "not json").error());
  }
}
