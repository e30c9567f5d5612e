package io.tether.actors.harness.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripted provider replays deterministically, branches on real tool output, and streams. */
class ScriptedProviderTest {

  @TempDir Path dir;

  private ModelResponse call(ScriptedProvider p, long index, List<ChatTurn> messages,
      List<String> deltas) throws Exception {
    return p.stream(new ModelRequest("s", "evaluator", index, "sys", messages, List.of(), 100),
        deltas::add).toCompletableFuture().get();
  }

  @Test
  void replaysTheSameAnswerForTheSameCallAndBranchesOnTheLatestToolResult() throws Exception {
    Files.writeString(dir.resolve("s.json"), """
        {"name": "s", "roles": {"evaluator": [
          {"text": "run it", "toolCalls": [{"name": "run_command", "arguments": {"command": "t"}}]},
          {"choose": [{"whenLastToolResult": "exit_code=[1-9]", "text": "fail"},
                      {"text": "pass"}]}]}}
        """);
    ScriptedProvider p = new ScriptedProvider(dir, Executors.newSingleThreadExecutor());
    List<String> deltas = new ArrayList<>();
    ModelResponse first = call(p, 0, List.of(ChatTurn.user("go")), deltas);
    assertEquals("run it", String.join("", deltas));
    assertEquals(first, call(p, 0, List.of(ChatTurn.user("go")), new ArrayList<>()));
    ToolCall tool = first.toolCalls().get(0);
    assertEquals("{\"command\":\"t\"}", tool.argumentsJson());

    List<ChatTurn> failed = List.of(ChatTurn.user("go"), ChatTurn.assistant("", List.of(tool)),
        ChatTurn.toolResult(tool, "exit_code=1\nFAIL"));
    List<ChatTurn> passed = List.of(ChatTurn.user("go"), ChatTurn.assistant("", List.of(tool)),
        ChatTurn.toolResult(tool, "exit_code=0\nok"));
    assertEquals("fail", call(p, 1, failed, new ArrayList<>()).text());
    assertEquals("pass", call(p, 1, passed, new ArrayList<>()).text());
    assertTrue(p.scripted());
  }

  @Test
  void anExhaustedScriptFailsTheCall() throws Exception {
    Files.writeString(dir.resolve("s.json"), "{\"name\": \"s\", \"roles\": {}}");
    ScriptedProvider p = new ScriptedProvider(dir, Executors.newSingleThreadExecutor());
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> call(p, 0, List.of(), new ArrayList<>()));
    assertInstanceOf(ModelProvider.ModelProviderException.class, e.getCause());
  }

  @Test
  void theDemoScriptShipsOnTheClasspath() {
    ModelScript demo = ModelScript.load("demo", null);
    assertEquals("demo", demo.name());
    assertTrue(demo.answer("planner", 1, "").text().contains("## Sprint 1"));
  }
}
