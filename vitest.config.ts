import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The suite starts real servers and SQLite files; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
