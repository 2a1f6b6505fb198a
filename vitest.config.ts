import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'node_modules/**'],
    testTimeout: 60_000,
    // Native calls run on libuv's pool; keep test files in separate processes so a
    // backend's global state (threads, forced ISA) never leaks between files.
    pool: 'forks',
  },
});
