package io.tether.actors.harness.workspace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Confines paths to a workspace. A workspace path is relative, uses {@code /}, has no {@code .}
 * or {@code ..} segment, no empty segment and no control character; once resolved, neither the
 * file nor any existing parent may lead out of the workspace through a symbolic link.
 */
public final class WorkspacePaths {

  private static final Pattern CONTROL = Pattern.compile("[\\x00-\\x1f\\\\]");
  private static final int MAX_LENGTH = 512;

  private WorkspacePaths() {}

  /** Checks a workspace path's text and returns it; throws {@link PathEscapeException} if not. */
  public static String validate(String path) {
    if (path == null || path.isBlank()) {
      throw new PathEscapeException("a path is required");
    }
    if (path.length() > MAX_LENGTH) {
      throw new PathEscapeException("path longer than " + MAX_LENGTH + " characters");
    }
    if (path.startsWith("/") || path.startsWith("~") || path.matches("^[A-Za-z]:.*")) {
      throw new PathEscapeException("absolute paths are not allowed: " + path);
    }
    if (CONTROL.matcher(path).find()) {
      throw new PathEscapeException("backslashes and control characters are not allowed");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new PathEscapeException("path segments may not be empty, . or ..: " + path);
      }
    }
    return path;
  }

  /**
   * Resolves a workspace path under {@code root}, refusing any result whose real location (after
   * following the links that exist) is outside the real {@code root}.
   */
  public static Path resolve(Path root, String path) {
    validate(path);
    try {
      Path realRoot = root.toRealPath();
      Path target = realRoot.resolve(path).normalize();
      if (!target.startsWith(realRoot)) {
        throw new PathEscapeException("path leaves the workspace: " + path);
      }
      Path existing = target;
      while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
        existing = existing.getParent();
      }
      if (existing != null && !existing.toRealPath().startsWith(realRoot)) {
        throw new PathEscapeException("path leads out of the workspace through a link: " + path);
      }
      return target;
    } catch (IOException e) {
      throw new PathEscapeException("cannot resolve " + path + ": " + e.getMessage());
    }
  }

  /** A path that would leave the workspace, or is not a valid workspace path. */
  public static final class PathEscapeException extends RuntimeException {
    public PathEscapeException(String message) {
      super(message);
    }
  }
}
