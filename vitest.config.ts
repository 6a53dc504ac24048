import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // The machines have 2 cores; model tests are CPU-bound, so run files two at a time.
    maxWorkers: 2,
  },
});
