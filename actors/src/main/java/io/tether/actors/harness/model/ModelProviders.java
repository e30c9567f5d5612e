package io.tether.actors.harness.model;

import com.typesafe.config.Config;
import dev.langchain4j.model.anthropic.AnthropicStreamingChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The registry of providers, built from {@code tether.harness.providers}: resolves a {@link
 * ModelRef} to its provider. API keys are read from the environment variable the config names,
 * when a provider is first used, and are handed to LangChain4j only; they never reach a log, an
 * event or an error message.
 */
public final class ModelProviders {

  private final Map<String, ModelProvider> byName;
  private final Map<String, String> unavailable;

  /** A registry of the given providers, keyed by their names. */
  public ModelProviders(Map<String, ModelProvider> byName) {
    this(byName, Map.of());
  }

  private ModelProviders(Map<String, ModelProvider> byName, Map<String, String> unavailable) {
    this.byName = Map.copyOf(byName);
    this.unavailable = Map.copyOf(unavailable);
  }

  /**
   * The providers configured under {@code providers} (the {@code tether.harness.providers}
   * block).
   *
   * @param env reads an environment variable (System::getenv in production)
   * @param executor where the scripted provider streams from
   */
  public static ModelProviders fromConfig(Config providers, Function<String, String> env,
      Executor executor) {
    Config anthropic = providers.getConfig("anthropic");
    Config openai = providers.getConfig("openai");
    Config ollama = providers.getConfig("ollama");
    String scriptDir = providers.getString("scripted.directory");
    Map<String, String> unavailable = new java.util.HashMap<>();
    for (String name : java.util.List.of("anthropic", "openai")) {
      Config c = providers.getConfig(name);
      String variable = c.getString("api-key-env");
      String key = variable.isBlank() ? null : env.apply(variable);
      if (c.getBoolean("api-key-required") && (key == null || key.isBlank())) {
        unavailable.put(name, "provider " + name + " needs an API key in the environment"
            + " variable " + variable + " of the server");
      }
    }
    return new ModelProviders(Map.of(
        "anthropic", new LangChainProvider("anthropic", (model, http) ->
            AnthropicStreamingChatModel.builder()
                .httpClientBuilder(http)
                .baseUrl(anthropic.getString("base-url"))
                .apiKey(key(env, anthropic, "anthropic"))
                .modelName(model)
                .maxTokens(anthropic.getInt("max-output-tokens"))
                .timeout(anthropic.getDuration("call-timeout"))
                .build(), anthropic.getDuration("call-timeout"),
            () -> configuredKey(env, anthropic)),
        "openai", new LangChainProvider("openai", (model, http) ->
            OpenAiStreamingChatModel.builder()
                .httpClientBuilder(http)
                .baseUrl(openai.getString("base-url"))
                .apiKey(key(env, openai, "openai"))
                .modelName(model)
                .timeout(openai.getDuration("call-timeout"))
                .build(), openai.getDuration("call-timeout"),
            () -> configuredKey(env, openai)),
        "ollama", new LangChainProvider("ollama", (model, http) ->
            OllamaStreamingChatModel.builder()
                .httpClientBuilder(http)
                .baseUrl(ollama.getString("base-url"))
                .modelName(model)
                .timeout(ollama.getDuration("call-timeout"))
                .build(), ollama.getDuration("call-timeout")),
        ScriptedProvider.NAME, new ScriptedProvider(
            scriptDir.isBlank() ? null : Path.of(scriptDir), executor)), unavailable);
  }

  /** The key in the provider's environment variable, or null. */
  private static String configuredKey(Function<String, String> env, Config provider) {
    String variable = provider.getString("api-key-env");
    String key = variable.isBlank() ? null : env.apply(variable);
    return key == null || key.isBlank() ? null : key;
  }

  private static String key(Function<String, String> env, Config provider, String name) {
    String variable = provider.getString("api-key-env");
    String key = variable.isBlank() ? null : env.apply(variable);
    if (key == null || key.isBlank()) {
      if (provider.getBoolean("api-key-required")) {
        throw new IllegalStateException(
            "provider " + name + " needs an API key in the environment variable " + variable);
      }
      return "none";
    }
    return key;
  }

  /** The provider a model reference names. */
  public ModelProvider provider(ModelRef ref) {
    ModelProvider p = byName.get(ref.provider());
    if (p == null) {
      throw new IllegalArgumentException(
          "unknown model provider " + ref.provider() + "; known: " + byName.keySet());
    }
    return p;
  }

  /** Whether a model reference names a known provider. */
  public boolean knows(ModelRef ref) {
    return byName.containsKey(ref.provider());
  }

  /** Why a known provider cannot be used on this server (a missing API key), if it cannot. */
  public java.util.Optional<String> unavailable(ModelRef ref) {
    return java.util.Optional.ofNullable(unavailable.get(ref.provider()));
  }
}
