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
    // One file at a time: the demo and worker tests bound main-thread tasks (50 ms), and on a
    // 2-core machine another file's Chromium would stretch them.
    fileParallelism: false,
  },
});
