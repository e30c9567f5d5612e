package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.model.ToolCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools as a model calls them: writes go to the durable workspace first, every tool sees
 * the materialized workspace, and a path escape comes back as an error the model can read.
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

  private WorkspaceTools tools() {
    return new WorkspaceTools(store, root,
        new CommandRunner(Duration.ofSeconds(5), 4096, "/usr/local/bin:/usr/bin:/bin"),
        new HttpProbe(Duration.ofSeconds(2), 1024, true), 4096, Executors.newCachedThreadPool());
  }

  private WorkspaceTools.Outcome call(String name, String args) throws Exception {
    return tools().execute("r1", "generator", new ToolCall("c1", name, args))
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
  void unknownToolsAndBadArgumentsAreErrorsNotExceptions() throws Exception {
    assertTrue(call("rm_rf", "{}").error());
    assertTrue(call("write_file", "not json").error());
  }
}
