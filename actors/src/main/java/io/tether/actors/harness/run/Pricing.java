package io.tether.actors.harness.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.model.TokenUsage;

/**
 * Prices per model (USD per million input and output tokens): a run's own prices (given with
 * the run, for a model the node has none for), then {@code tether.harness.prices} by {@code
 * provider:model}, then by {@code provider:*} (a local provider priced at 0, say). A model with
 * no price is refused when a run is created ({@link #unpriced}), never charged a guess; scripted
 * models cost nothing.
 */
public final class Pricing {

  private final Config prices;

  /** Reads prices from the {@code tether.harness} block. */
  public Pricing(Config harness) {
    this.prices = harness.getConfig("prices");
  }

  /** The price of {@code model} (provider:model) with a run's own {@code runPrices}, if any. */
  public java.util.Optional<RunPolicy.Price> price(String model,
      java.util.Map<String, RunPolicy.Price> runPrices) {
    ModelRef ref = ModelRef.parse(model);
    if (ref.provider().equals(ScriptedProvider.NAME)) {
      return java.util.Optional.of(new RunPolicy.Price(0, 0));
    }
    if (runPrices != null && runPrices.containsKey(model)) {
      return java.util.Optional.of(runPrices.get(model));
    }
    for (String key : java.util.List.of(model, ref.provider() + ":*")) {
      String path = ConfigUtil.quoteString(key);
      if (prices.hasPath(path)) {
        return java.util.Optional.of(new RunPolicy.Price(prices.getDouble(path + ".input"),
            prices.getDouble(path + ".output")));
      }
    }
    return java.util.Optional.empty();
  }

  /** Why {@code model} cannot be charged (no price anywhere), or null. */
  public String unpriced(String model, java.util.Map<String, RunPolicy.Price> runPrices) {
    return price(model, runPrices).isPresent() ? null : "no price for " + model + ": give the"
        + " run \"prices\": {\"" + model + "\": {\"input\": <USD per million tokens>,"
        + " \"output\": ...}}, or configure tether.harness.prices";
  }

  /** The cost of {@code usage} on {@code model} (provider:model). */
  public double usd(String model, TokenUsage usage) {
    return usd(model, usage, java.util.Map.of());
  }

  /**
   * The cost of {@code usage} on {@code model} with a run's own prices; a model without a price
   * (a run created before prices were required) costs 0 and is logged by the caller's refusal.
   */
  public double usd(String model, TokenUsage usage,
      java.util.Map<String, RunPolicy.Price> runPrices) {
    RunPolicy.Price p = price(model, runPrices).orElse(new RunPolicy.Price(0, 0));
    return (usage.inputTokens() * p.input() + usage.outputTokens() * p.output()) / 1_000_000.0;
  }
}
