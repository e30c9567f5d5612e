package io.tether.actors.harness.workspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tether.actors.harness.workspace.WorkspacePaths.PathEscapeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** No path leaves a workspace: not by text, not through a symbolic link. */
class WorkspacePathsTest {

  @TempDir Path root;
  @TempDir Path outside;

  @ParameterizedTest
  @ValueSource(strings = {"../x", "a/../../x", "a/..", "/etc/passwd", "~/x", "C:/x", "a//b",
      "./a", "a/./b", "a\\..\\b", "", " ", "a/", "x\u0000y"})
  void rejectsPathsThatAreNotPlainRelativePaths(String path) {
    assertThrows(PathEscapeException.class, () -> WorkspacePaths.validate(path));
  }

  @Test
  void acceptsPlainRelativePaths() {
    assertEquals("src/main.sh", WorkspacePaths.validate("src/main.sh"));
    assertEquals(root.resolve("a/b.txt").normalize().toString().replace(root.toString(), ""),
        WorkspacePaths.resolve(root, "a/b.txt").toString().replace(safeReal(root), ""));
  }

  private static String safeReal(Path p) {
    try {
      return p.toRealPath().toString();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void refusesADirectoryLinkThatLeadsOut() throws Exception {
    Files.createSymbolicLink(root.resolve("escape"), outside);
    assertThrows(PathEscapeException.class, () -> WorkspacePaths.resolve(root, "escape/x.txt"));
    LocalWorkspace local = new LocalWorkspace(root.getParent(), root.getFileName().toString());
    assertThrows(PathEscapeException.class, () -> local.writeFile("escape/x.txt", "data"));
    assertTrue(Files.notExists(outside.resolve("x.txt")));
  }

  @Test
  void refusesAFileLinkThatLeadsOutForReadingAndWriting() throws Exception {
    Files.writeString(outside.resolve("secret"), "do not read");
    Files.createSymbolicLink(root.resolve("innocent.txt"), outside.resolve("secret"));
    LocalWorkspace local = new LocalWorkspace(root.getParent(), root.getFileName().toString());
    assertThrows(PathEscapeException.class, () -> local.readFile("innocent.txt", 1000));
    // Materializing never throws (no file may stop a run): the file is skipped and reported.
    assertEquals(List.of("innocent.txt: refusing to write through a link that leads out of the"
        + " workspace (innocent.txt)"), local.materialize(Map.of("innocent.txt", "overwrite")));
    assertEquals("do not read", Files.readString(outside.resolve("secret")));
  }

  @Test
  void allowsALinkThatStaysInside() throws Exception {
    Files.createDirectories(root.resolve("real"));
    // Relative, as a run's command makes it: the sandbox mounts the workspace elsewhere.
    Files.createSymbolicLink(root.resolve("alias"), Path.of("real"));
    LocalWorkspace local = new LocalWorkspace(root.getParent(), root.getFileName().toString());
    local.writeFile("alias/f.txt", "ok");
    assertEquals("ok", Files.readString(root.resolve("real/f.txt")));
  }

  @Test
  void runIdsCannotNameADirectoryOutsideTheRoot() {
    assertThrows(IllegalArgumentException.class, () -> new LocalWorkspace(root, ".."));
    assertThrows(IllegalArgumentException.class, () -> new LocalWorkspace(root, "a/b"));
  }
}
