/**
 * Which backends the conformance suite runs on: RNNKIT_BACKENDS, a comma-separated list
 * (default `reference`), e.g. `RNNKIT_BACKENDS=native,wasm,reference`.
 *
 * Every named backend is REQUIRED: a name that is unknown or a backend that fails to load
 * makes its tests fail (with the load error), never skip. Use `describeBackend` so that
 * each backend gets a "loads" test and all its case tests fail if it does not load.
 */
import { beforeAll, describe, it } from 'vitest';
import type { Backend, BackendName } from '../../src/backend/contract.js';
import { loadBackend } from '../../src/backend/load.js';

export function requestedBackends(): string[] {
  const raw = process.env.RNNKIT_BACKENDS ?? 'reference';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  // An empty RNNKIT_BACKENDS would silently test nothing: treat it as a request for a
  // backend named "" so that the suite fails with a clear message instead.
  return names.length > 0 ? names : [raw];
}

/**
 * describe(`backend <name>`, …) whose body gets a getter for the loaded backend. The load
 * happens in beforeAll: if it rejects, every test of the block fails with that error, and
 * the explicit "loads" test reports it once more under its own name.
 */
export function describeBackend(name: string, body: (backend: () => Backend) => void): void {
  describe(`backend ${name}`, () => {
    let loaded: Backend | undefined;
    let failure: unknown;
    beforeAll(async () => {
      try {
        loaded = await loadBackend(name as BackendName);
      } catch (e) {
        failure = e;
      }
    });
    const get = (): Backend => {
      if (!loaded) throw new Error(`backend ${name} did not load: ${(failure as Error)?.message ?? failure}`);
      return loaded;
    };
    it(`backend ${name} loads`, () => {
      if (failure) throw failure;
      const b = get();
      if (b.name !== name) throw new Error(`loadBackend(${JSON.stringify(name)}) returned backend ${b.name}`);
    });
    body(get);
  });
}
