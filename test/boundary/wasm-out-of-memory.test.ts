/**
 * The wasm module out of memory (its 4 GiB address space), in child processes: a session
 * whose state cannot fit, and an evaluate over a sequence whose workspace cannot, fail with
 * RK_ENOMEM naming the 4 GiB limit — and every other model of the process keeps working.
 * Before: the allocator handed out a block past the end of memory and the session trapped
 * ("memory access out of bounds"), which ended the module for every model; evaluate said
 * "internal error". Defined only when wasm is among RNNKIT_BACKENDS. Peak RSS ~4 GB.
 */
import { describe, expect, it } from 'vitest';
import { childResult, expectCleanExit, requestedBackends, runScript } from './backends.js';

const CHILD = `
const variant = process.argv[2];
const errors = [];
const other = await rnnkit.createModel({ input: { kind: 'embedding', vocab: 5, dim: 4 }, cell: 'gru', hiddenSize: 8, outputs: 5, backend: 'wasm', init: { seed: 7 } });
const before = other.generate({ start: [1], steps: 8 });
const m = await rnnkit.createModel({ input: { kind: 'embedding', vocab: 5, dim: 4 }, cell: 'lstm', hiddenSize: 8, outputs: 2, backend: 'wasm' });
// 20M samples fit (2.7 GB of state); 30M more do not.
const kept = m.createSession({ batch: 20_000_000 });
for (const batch of [30_000_000, 45_000_000]) {
  try { m.createSession({ batch }); errors.push('created'); } catch (e) { errors.push(e.code + ' ' + e.message); }
}
kept.dispose();
try { await m.evaluate({ inputs: [Array.from({ length: 60_000_000 }, (_, i) => i % 5)], targets: [Array.from({ length: 60_000_000 }, (_, i) => i % 2)] }); errors.push('evaluated'); } catch (e) { errors.push(e.code + ' ' + e.message); }
const after = other.generate({ start: [1], steps: 8 });
const fresh = await rnnkit.createModel({ input: { kind: 'embedding', vocab: 5, dim: 4 }, cell: 'gru', hiddenSize: 8, outputs: 5, backend: 'wasm', init: { seed: 7 } });
report({ variant: (await rnnkit.loadBackend('wasm')).info().isa, errors, same: JSON.stringify(before) === JSON.stringify(after), freshSame: JSON.stringify(fresh.generate({ start: [1], steps: 8 })) === JSON.stringify(before) });
`;

describe.runIf(requestedBackends().includes('wasm'))('the wasm module out of memory', () => {
  for (const variant of ['simd128', 'threads']) {
    it(`${variant}: RK_ENOMEM naming the 4 GiB limit; the other models keep working`, async () => {
      const r = await runScript('wasm-oom', CHILD, { args: [variant], env: { RNNKIT_WASM_VARIANT: variant }, timeoutMs: 240_000 });
      expectCleanExit(r, 'the out-of-memory calls');
      const out = childResult<{ errors: string[]; same: boolean; freshSame: boolean }>(r);
      expect(out.errors).toHaveLength(3);
      for (const e of out.errors) expect(e).toMatch(/^RK_ENOMEM rnnkit wasm: rk_\w+ failed \(RK_ENOMEM\): rk_\w+: out of memory \(the wasm module holds at most 4 GiB/);
      expect(out.same).toBe(true);
      expect(out.freshSame).toBe(true);
    }, 300_000);
  }
});
