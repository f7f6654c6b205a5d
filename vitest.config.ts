import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports": Node (and so every dependency, e.g. Pothos and yoga) loads its CommonJS build,
    // while Vite would give the test's own code the `module` (.mjs) build: two graphql instances that refuse each
    // other's types ("Cannot use GraphQLScalarType from another module or realm"). One instance for everyone.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The suite starts real servers and SQLite files; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
