package io.tether.actors.harness.run;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import io.tether.actors.harness.model.ModelRef;
import io.tether.actors.harness.model.ScriptedProvider;
import io.tether.actors.harness.model.TokenUsage;

/**
 * Prices per model from {@code tether.harness.prices} (USD per million input and output
 * tokens); models without an entry cost {@code default-price}; scripted models cost nothing.
 */
public final class Pricing {

  private final Config prices;
  private final double defaultInput;
  private final double defaultOutput;

  /** Reads prices from the {@code tether.harness} block. */
  public Pricing(Config harness) {
    this.prices = harness.getConfig("prices");
    this.defaultInput = harness.getDouble("default-price.input");
    this.defaultOutput = harness.getDouble("default-price.output");
  }

  /** The cost of {@code usage} on {@code model} (provider:model). */
  public double usd(String model, TokenUsage usage) {
    if (ModelRef.parse(model).provider().equals(ScriptedProvider.NAME)) {
      return 0.0;
    }
    String key = ConfigUtil.quoteString(model);
    double in = prices.hasPath(key) ? prices.getDouble(key + ".input") : defaultInput;
    double out = prices.hasPath(key) ? prices.getDouble(key + ".output") : defaultOutput;
    return (usage.inputTokens() * in + usage.outputTokens() * out) / 1_000_000.0;
  }
}
