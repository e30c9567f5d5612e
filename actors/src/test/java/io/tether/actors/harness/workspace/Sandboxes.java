package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Test helpers for the sandbox. */
public final class Sandboxes {

  private Sandboxes() {}

  /**
   * Makes a JUnit temporary directory (0700) searchable, as a workspace root must be: bubblewrap
   * mounts a workspace by its path, as the sandbox user.
   */
  public static Path reachable(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    return dir;
  }
}
