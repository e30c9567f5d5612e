// Runs only the re-implemented suite, once (`vitest bench --run`), in one process.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    benchmark: { include: ["suite.bench.mjs"] },
    // A slow server must fail a bench, not the whole run: the longest bench loop is bounded by
    // its own time option; each request has the client's own timeouts.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
})
