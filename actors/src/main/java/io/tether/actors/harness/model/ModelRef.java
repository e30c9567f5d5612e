package io.tether.actors.harness.model;

/**
 * A model named as {@code provider:model}, e.g. {@code anthropic:claude-sonnet-4-5},
 * {@code openai:gpt-4.1}, {@code ollama:qwen3}, {@code scripted:demo}.
 *
 * @param provider the provider's name
 * @param model the model's name at that provider (for {@code scripted}, the script's name)
 */
public record ModelRef(String provider, String model) {

  /** Parses {@code provider:model}; the model part may itself contain colons. */
  public static ModelRef parse(String text) {
    int colon = text == null ? -1 : text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(
          "a model is named provider:model, e.g. scripted:demo; got: " + text);
    }
    return new ModelRef(text.substring(0, colon), text.substring(colon + 1));
  }

  @Override
  public String toString() {
    return provider + ":" + model;
  }
}
