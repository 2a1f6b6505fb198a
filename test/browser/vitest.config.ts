import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the headless-Chromium tests, kept out of the main suite because
// they need a Chromium binary and the built wasm module (and they fail, never skip,
// when either is missing).
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
