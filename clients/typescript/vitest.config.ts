import { defineConfig } from 'vitest/config';

// One run, one Tether node (test/global-setup.ts), files one after another: a suite that kills the
// node must not pull it from under another suite's feet.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts', '../../examples/chat/e2e/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 360_000,
    reporters: ['verbose'],
  },
});
