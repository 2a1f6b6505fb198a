/**
 * createStack's documented paths: a new stack is initialised as PyTorch initialises one
 * (uniform ±1/√hiddenSize), seeded, so the README's example computes something; given
 * parameters are used as they are; and what importTorchRnn returns is accepted as is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack, exportTorchRnn, importTorchRnn, paramLayout } from '../../src/index.js';
import { requestedBackends } from '../helpers/backends.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-create-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of requestedBackends() as ('native' | 'wasm' | 'reference')[]) {
  describe(`createStack on ${backend}`, () => {
    it("the README's example prints non-zero outputs and gradients", async () => {
      const lstm = await createStack({ cell: 'lstm', inputSize: 3, hiddenSize: 8, layers: 2, bidirectional: true, backend });
      const x = new Float32Array(5 * 2 * 3).map((_, i) => Math.sin(i));
      const { y } = await lstm.forward(x, { steps: 5, batch: 2, training: true });
      expect(y.some((v) => v !== 0)).toBe(true);
      await lstm.backward({ dy: new Float32Array(y.length).fill(1) });
      expect(lstm.getGradient('weight_hh_l0').some((v) => v !== 0)).toBe(true);
      lstm.dispose();
    });

    it('draws parameters as PyTorch does, seeded: same seed, same stack; another seed, another', async () => {
      const opts = { cell: 'gru', inputSize: 4, hiddenSize: 16, backend } as const;
      const [a, b, c] = await Promise.all([createStack(opts), createStack({ ...opts, init: { seed: 0 } }), createStack({ ...opts, init: { seed: 1 } })]);
      const pa = a.getFlatParameters();
      expect(pa).toEqual(b.getFlatParameters());
      expect(pa).not.toEqual(c.getFlatParameters());
      const bound = 1 / Math.sqrt(16);
      expect(Math.max(...pa.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...pa.map(Math.abs))).toBeGreaterThan(bound * 0.9);
      for (const s of [a, b, c]) s.dispose();
    });

    it('uses given params as they are, and names them when they do not fit', async () => {
      const spec = { cell: 'rnn_tanh', inputSize: 2, hiddenSize: 3 } as const;
      const total = paramLayout({ ...spec, outputSize: 3, layers: 1, bidirectional: false }).total;
      const params = Float32Array.from({ length: total }, (_, i) => i / 100);
      const s = await createStack({ ...spec, params, backend });
      expect(s.getFlatParameters()).toEqual(params);
      s.dispose();
      await expect(createStack({ ...spec, params: new Float32Array(total + 1), backend })).rejects.toThrow(/options\.params must have shape \[\d+\] = \d+ values; got \d+/);
    });

    it('accepts what importTorchRnn returns (the documented interop path)', async () => {
      const file = path.join(dir, `lstm-${backend}.safetensors`);
      const spec = { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true } as const;
      const params = Float32Array.from({ length: paramLayout(spec).total }, (_, i) => Math.cos(i) * 0.2);
      await exportTorchRnn(file, spec, params);
      const imported = await importTorchRnn(file);
      const s = await createStack({ ...imported, backend });
      expect(s.spec).toEqual(spec);
      expect(s.getFlatParameters()).toEqual(params);
      s.dispose();
    });
  });
}
