package io.tether.actors.harness.mcp;

import io.modelcontextprotocol.spec.McpSchema;
import io.tether.actors.harness.workspace.WorkspaceStore;
import io.tether.actors.harness.workspace.WorkspaceTools.Outcome;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What an MCP tool call's result becomes: the tool output a model reads, with its text parts as
 * they are (capped), and each image (a browser's screenshot) saved in the run's durable
 * workspace and named in the output. The workspace holds text, so an image is kept as its
 * base64 text in {@code screenshots/<label>-<call>.png.base64}; its name without the suffix is
 * what the model, the session and the console use ({@code GET /runs/{id}/files/screenshots/...}
 * serves it decoded).
 */
final class McpResults {

  /** Where screenshots go in the workspace. */
  static final String SCREENSHOTS = "screenshots/";
  /** The suffix of the stored (base64) form of a binary workspace file. */
  static final String BASE64 = ".base64";

  private McpResults() {}

  static Outcome outcome(McpSchema.CallToolResult result, String runId, String label,
      String callId, WorkspaceStore store, int maxChars) {
    StringBuilder text = new StringBuilder();
    List<String> saved = new ArrayList<>();
    int images = 0;
    for (McpSchema.Content content : result.content() == null
        ? List.<McpSchema.Content>of() : result.content()) {
      if (content instanceof McpSchema.TextContent t) {
        text.append(t.text()).append('\n');
      } else if (content instanceof McpSchema.ImageContent image) {
        String extension = image.mimeType() != null && image.mimeType().contains("jpeg") ? ".jpg"
            : ".png";
        String path = SCREENSHOTS + safe(label) + "-" + safe(callId)
            + (images++ == 0 ? "" : "-" + images) + extension;
        byte[] bytes = Base64.getDecoder().decode(image.data());
        try {
          store.write(runId, path + BASE64, image.data(), "browser").toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
          saved.add(path);
          text.append("[screenshot saved in the workspace as ").append(path).append(" (")
              .append(bytes.length).append(" bytes)]\n");
        } catch (Exception e) {
          Throwable cause = e.getCause() != null ? e.getCause() : e;
          text.append("[a screenshot of ").append(bytes.length).append(" bytes was not kept: ")
              .append(cause.getMessage()).append("]\n");
        }
      } else if (content instanceof McpSchema.EmbeddedResource r) {
        text.append("[resource ").append(r.resource().uri()).append("]\n");
      } else if (content != null) {
        text.append("[").append(content.type()).append(" content]\n");
      }
    }
    String out = text.toString().strip();
    if (out.length() > maxChars) {
      out = out.substring(0, maxChars) + "\n[output truncated at " + maxChars + " characters]";
    }
    return new Outcome(out, Boolean.TRUE.equals(result.isError()), saved);
  }

  private static String safe(String s) {
    String cleaned = s == null ? "x" : s.replaceAll("[^A-Za-z0-9_.-]", "_");
    return cleaned.length() > 60 ? cleaned.substring(cleaned.length() - 60) : cleaned;
  }
}
