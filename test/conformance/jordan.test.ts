/**
 * The Jordan cell has no PyTorch golden vectors, and finite differences only show that its
 * backward matches its forward. Its forward is therefore checked here against the formula
 * written out independently:
 *   h_t = tanh(W_ih x_t + b_ih + W_yh y_{t−1}),   y_t = tanh(W_ho h_t + b_ho)
 * once by hand for scalars, and once by a direct loop for a random 1-layer network (the
 * stacking and bidirectional code is shared with the cells golden.test.ts covers).
 */
import { describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceForward } from '../../src/backend/reference/sequence.js';
import { randomCase } from '../helpers/cases.js';
import { expectClose } from '../helpers/compare.js';

describe('jordan cell forward', () => {
  it('scalar case computed by hand', () => {
    const spec: StackSpec = { cell: 'jordan', inputSize: 1, hiddenSize: 1, outputSize: 1, layers: 1, bidirectional: false };
    // layout order: weight_ih, weight_yh, bias_ih, weight_ho, bias_ho
    expect(paramLayout(spec).entries.map((e) => e.name)).toEqual(['weight_ih_l0', 'weight_yh_l0', 'bias_ih_l0', 'weight_ho_l0', 'bias_ho_l0']);
    const [wih, wyh, bih, who, bho] = [0.5, -1, 0.1, 2, -0.3];
    const params = Float64Array.from([wih, wyh, bih, who, bho]);
    const x = [1, -2];
    const y0 = 0.25;
    const h1 = Math.tanh(wih * x[0] + bih + wyh * y0);
    const y1 = Math.tanh(who * h1 + bho);
    const h2 = Math.tanh(wih * x[1] + bih + wyh * y1);
    const y2 = Math.tanh(who * h2 + bho);
    const out = referenceForward(spec, params, { x: Float64Array.from(x), steps: 2, batch: 1, h0: Float64Array.from([y0]) });
    expectClose('y', out.y, [y1, y2], 1e-15);
    expectClose('hn', out.hn, [y2], 1e-15);
  });

  it('random 1-layer network (I 3, H 5, O 4, B 2, T 6) by a direct loop', () => {
    const spec: StackSpec = { cell: 'jordan', inputSize: 3, hiddenSize: 5, outputSize: 4, layers: 1, bidirectional: false };
    const c = randomCase(spec, { seed: 42, steps: 6, batch: 2, withState: true });
    const [I, H, O, B, T] = [3, 5, 4, 2, 6];
    const p = (name: string) => {
      const e = paramLayout(spec).entries.find((q) => q.name === name)!;
      return c.params.subarray(e.offset, e.offset + e.size);
    };
    const [Wih, Wyh, bih, Who, bho] = ['weight_ih_l0', 'weight_yh_l0', 'bias_ih_l0', 'weight_ho_l0', 'bias_ho_l0'].map(p);
    const yExpected = new Float64Array(T * B * O);
    const hnExpected = new Float64Array(B * O);
    for (let b = 0; b < B; b++) {
      let y = Array.from(c.h0!.subarray(b * O, (b + 1) * O));
      for (let t = 0; t < T; t++) {
        const x = c.x.subarray((t * B + b) * I, (t * B + b + 1) * I);
        const h = Array.from({ length: H }, (_, j) => {
          let s = bih[j];
          for (let i = 0; i < I; i++) s += Wih[j * I + i] * x[i];
          for (let o = 0; o < O; o++) s += Wyh[j * O + o] * y[o];
          return Math.tanh(s);
        });
        y = Array.from({ length: O }, (_, o) => {
          let s = bho[o];
          for (let j = 0; j < H; j++) s += Who[o * H + j] * h[j];
          return Math.tanh(s);
        });
        yExpected.set(y, (t * B + b) * O);
      }
      hnExpected.set(y, b * O);
    }
    const out = referenceForward(spec, c.params, c);
    expectClose('y', out.y, yExpected, 1e-14);
    expectClose('hn', out.hn, hnExpected, 1e-14);
  });
});
