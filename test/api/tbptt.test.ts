// RecurrentStack.truncatedBptt: the public face of src/tbptt.ts (whose windows are checked
// in test/conformance/tbptt.test.ts and test/grad/tbptt.test.ts).
import { describe, expect, it } from 'vitest';
import { createStack } from '../../src/index.js';
import { Rng } from '../helpers/random.js';

const steps = 9;
const batch = 2;

async function lstmWithWeights() {
  const s = await createStack({ cell: 'lstm', inputSize: 3, hiddenSize: 4, backend: 'reference' });
  const rng = new Rng(7);
  s.setFlatParameters(Float32Array.from(s.getFlatParameters(), () => rng.uniform(-0.5, 0.5)));
  return s;
}

describe('RecurrentStack.truncatedBptt', () => {
  const rng = new Rng(3);
  const x = Float32Array.from({ length: steps * batch * 3 }, () => rng.uniform(-0.5, 0.5));
  const dy = Float32Array.from({ length: steps * batch * 4 }, () => rng.uniform(-0.5, 0.5));

  it('a window as long as the sequence equals full BPTT', async () => {
    const full = await lstmWithWeights();
    const fwd = await full.forward(x, { steps, batch, training: true });
    const back = await full.backward({ dy });
    const tb = await lstmWithWeights();
    const out = await tb.truncatedBptt({ x, steps, batch, window: steps, dy });
    expect(out.y).toEqual(fwd.y);
    expect(out.dx).toEqual(back.dx);
    expect(tb.getFlatGradients()).toEqual(full.getFlatGradients());
  });

  it('shorter windows cut the gradient: weights get a different gradient, outputs stay the same', async () => {
    const full = await lstmWithWeights();
    const fwd = await full.forward(x, { steps, batch, training: true });
    await full.backward({ dy });
    const tb = await lstmWithWeights();
    const out = await tb.truncatedBptt({ x, steps, batch, window: 4, dy });
    for (let i = 0; i < fwd.y.length; i++) expect(out.y[i]).toBeCloseTo(fwd.y[i], 6);
    const a = tb.getGradient('weight_hh_l0');
    const b = full.getGradient('weight_hh_l0');
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
  });

  it('bad arguments name the parameter', async () => {
    const s = await lstmWithWeights();
    await expect(s.truncatedBptt({ x, steps, batch, window: 0, dy })).rejects.toThrow(/window/);
    const badX = x.slice();
    badX[4] = Number.NaN;
    await expect(s.truncatedBptt({ x: badX, steps, batch, window: 3, dy })).rejects.toThrow(/x\[4\] is NaN/);
    const badDy = dy.slice();
    badDy[1] = Number.POSITIVE_INFINITY;
    await expect(s.truncatedBptt({ x, steps, batch, window: 3, dy: badDy })).rejects.toThrow(/dy\[1\] is Infinity/);
    const bi = await createStack({ cell: 'gru', inputSize: 3, hiddenSize: 4, bidirectional: true, backend: 'reference' });
    await expect(bi.truncatedBptt({ x, steps, batch, window: 3, dy: new Float32Array(steps * batch * 8) })).rejects.toThrow(/bidirectional/);
  });
});
