/**
 * The Backend interface's own contract, on every backend named in RNNKIT_BACKENDS: what a
 * handle is and does, beyond the numbers (those are golden.test.ts and case-table.test.ts).
 * Argument validation of the public API is test/api's; here only what the Backend itself
 * must guarantee: wrong-sized arrays and misused handles are Errors, never a crash.
 */
import { expect, it } from 'vitest';
import { CELL_TYPES, type Backend, type StackSpec } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';
import { randomCase } from '../helpers/cases.js';

const LSTM: StackSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true };

function f32(a: Float64Array): Float32Array;
function f32(a: Float64Array | undefined): Float32Array | undefined;
function f32(a: Float64Array | undefined): Float32Array | undefined {
  return a ? Float32Array.from(a) : undefined;
}

/** A stack of `spec` with random parameters, and random inputs for it. */
function setup(b: Backend, spec: StackSpec, seed = 1) {
  const c = randomCase(spec, { seed, steps: 4, batch: 3, withState: true, withFinalGrad: true });
  const stack = b.createStack(spec);
  b.setParams(stack, f32(c.params));
  const fwdReq = { x: f32(c.x), steps: c.steps, batch: c.batch, h0: f32(c.h0), c0: f32(c.c0) };
  const bwdReq = { dy: f32(c.dy), dhn: f32(c.dhn), dcn: f32(c.dcn) };
  return { c, stack, fwdReq, bwdReq };
}

for (const name of requestedBackends()) {
  describeBackend(name, (backend) => {
    it(`info() names the backend [${name}]`, () => {
      const info = backend().info();
      expect(info.backend).toBe(name);
      expect(typeof info.isa).toBe('string');
      expect(info.isa.length).toBeGreaterThan(0);
      expect(Number.isInteger(info.threads) && info.threads >= 1).toBe(true);
    });

    it(`createStack gives zero parameters and gradients of the layout's size, for every cell [${name}]`, () => {
      const b = backend();
      for (const cell of CELL_TYPES) {
        const spec: StackSpec = { cell, inputSize: 3, hiddenSize: 4, outputSize: cell === 'jordan' ? 2 : 4, layers: 2, bidirectional: true };
        const s = b.createStack(spec);
        const total = paramLayout(spec).total;
        expect(b.getParams(s)).toEqual(new Float32Array(total));
        expect(b.getGrads(s)).toEqual(new Float32Array(total));
        b.dispose(s);
      }
    });

    it(`setParams/getParams round-trip exactly and getParams returns a copy [${name}]`, () => {
      const b = backend();
      const { c, stack } = setup(b, LSTM);
      const got = b.getParams(stack);
      expect(got).toEqual(f32(c.params));
      got.fill(7);
      expect(b.getParams(stack)).toEqual(f32(c.params));
      b.dispose(stack);
    });

    it(`setParams with the wrong number of values throws [${name}]`, () => {
      const b = backend();
      const s = b.createStack(LSTM);
      const total = paramLayout(LSTM).total;
      expect(() => b.setParams(s, new Float32Array(total - 1))).toThrow();
      expect(() => b.setParams(s, new Float32Array(total + 1))).toThrow();
      expect(b.getParams(s)).toEqual(new Float32Array(total)); // unchanged
      b.dispose(s);
    });

    it(`forward with a wrong-sized x, h0 or c0 throws [${name}]`, () => {
      const b = backend();
      const { stack, fwdReq } = setup(b, LSTM);
      expect(() => b.forwardSync(stack, { ...fwdReq, x: fwdReq.x.subarray(1) })).toThrow();
      expect(() => b.forwardSync(stack, { ...fwdReq, h0: new Float32Array(3) })).toThrow();
      expect(() => b.forwardSync(stack, { ...fwdReq, c0: new Float32Array(3) })).toThrow();
      b.dispose(stack);
    });

    it(`backward without a preceding training forward throws [${name}]`, async () => {
      const b = backend();
      const { stack, fwdReq, bwdReq } = setup(b, LSTM);
      expect(() => b.backwardSync(stack, bwdReq)).toThrow();
      b.forwardSync(stack, { ...fwdReq, training: false });
      expect(() => b.backwardSync(stack, bwdReq)).toThrow();
      await expect(b.backward(stack, bwdReq)).rejects.toThrow();
      b.dispose(stack);
    });

    it(`backward with a wrong-sized dy throws [${name}]`, () => {
      const b = backend();
      const { stack, fwdReq, bwdReq } = setup(b, LSTM);
      b.forwardSync(stack, { ...fwdReq, training: true });
      expect(() => b.backwardSync(stack, { ...bwdReq, dy: bwdReq.dy.subarray(2) })).toThrow();
      b.dispose(stack);
    });

    it(`async and sync calls give identical results [${name}]`, async () => {
      const b = backend();
      const { stack, fwdReq, bwdReq } = setup(b, LSTM);
      const f1 = b.forwardSync(stack, { ...fwdReq, training: true });
      const g1 = b.backwardSync(stack, bwdReq);
      const grads1 = b.getGrads(stack);
      b.zeroGrads(stack);
      const f2 = await b.forward(stack, { ...fwdReq, training: true });
      const g2 = await b.backward(stack, bwdReq);
      expect(f2).toEqual(f1);
      expect(g2).toEqual(g1);
      expect(b.getGrads(stack)).toEqual(grads1);
      b.dispose(stack);
    });

    it(`backward refers to the last TRAINING forward, not a later inference one [${name}]`, () => {
      const b = backend();
      const { stack, fwdReq, bwdReq } = setup(b, LSTM);
      b.forwardSync(stack, { ...fwdReq, training: true });
      const expected = b.backwardSync(stack, bwdReq);
      b.zeroGrads(stack);
      b.forwardSync(stack, { ...fwdReq, training: true });
      const other = fwdReq.x.map((v) => -v);
      b.forwardSync(stack, { ...fwdReq, x: other, training: false });
      expect(b.backwardSync(stack, bwdReq)).toEqual(expected);
      b.dispose(stack);
    });

    it(`backward adds to the gradients; zeroGrads clears them [${name}]`, () => {
      const b = backend();
      const { stack, fwdReq, bwdReq } = setup(b, LSTM);
      b.forwardSync(stack, { ...fwdReq, training: true });
      b.backwardSync(stack, bwdReq);
      const once = b.getGrads(stack);
      expect(once.some((v) => v !== 0)).toBe(true);
      b.forwardSync(stack, { ...fwdReq, training: true });
      b.backwardSync(stack, bwdReq);
      const twice = b.getGrads(stack);
      for (let i = 0; i < once.length; i++) {
        expect(Math.abs(twice[i] - 2 * once[i]), `grad[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(once[i])));
      }
      b.zeroGrads(stack);
      expect(b.getGrads(stack)).toEqual(new Float32Array(once.length));
      b.dispose(stack);
    });

    it(`a sequence of length 0 holds its state and outputs zeros (truncated BPTT relies on it) [${name}]`, () => {
      const b = backend();
      const { c, stack, fwdReq, bwdReq } = setup(b, LSTM);
      const lengths = Int32Array.from([2, 0, 4]);
      const out = b.forwardSync(stack, { ...fwdReq, lengths, training: true });
      const grad = b.backwardSync(stack, bwdReq);
      const S = LSTM.hiddenSize;
      const D = 2;
      const B = c.batch;
      for (let t = 0; t < c.steps; t++) {
        expect(Array.from(out.y.subarray((t * B + 1) * D * S, (t * B + 2) * D * S)), `y[${t}][1]`).toEqual(new Array(D * S).fill(0));
        expect(Array.from(grad.dx.subarray((t * B + 1) * 3, (t * B + 2) * 3)), `dx[${t}][1]`).toEqual([0, 0, 0]);
      }
      const n = sequenceShapes(LSTM, c.steps, B).h / (B * S); // state entries l·D + d
      for (let e = 0; e < n; e++) {
        const at = (a: Float32Array) => Array.from(a.subarray((e * B + 1) * S, (e * B + 2) * S));
        // Layer 0 reads h0 unchanged; layer 1 too (its input is never read for this sequence).
        expect(at(out.hn), `hn[${e}][1]`).toEqual(at(fwdReq.h0 as Float32Array));
        expect(at(out.cn as Float32Array), `cn[${e}][1]`).toEqual(at(fwdReq.c0 as Float32Array));
        expect(at(grad.dh0), `dh0[${e}][1]`).toEqual(at(bwdReq.dhn as Float32Array));
        expect(at(grad.dc0 as Float32Array), `dc0[${e}][1]`).toEqual(at(bwdReq.dcn as Float32Array));
      }
      b.dispose(stack);
    });

    it(`any use of a disposed stack throws [${name}]`, async () => {
      const b = backend();
      const { stack, fwdReq, bwdReq } = setup(b, LSTM);
      b.forwardSync(stack, { ...fwdReq, training: true });
      b.dispose(stack);
      expect(() => b.getParams(stack)).toThrow();
      expect(() => b.getGrads(stack)).toThrow();
      expect(() => b.setParams(stack, new Float32Array(paramLayout(LSTM).total))).toThrow();
      expect(() => b.zeroGrads(stack)).toThrow();
      expect(() => b.forwardSync(stack, fwdReq)).toThrow();
      expect(() => b.backwardSync(stack, bwdReq)).toThrow();
      await expect(b.forward(stack, fwdReq)).rejects.toThrow();
      await expect(b.backward(stack, bwdReq)).rejects.toThrow();
      expect(() => b.dispose(stack)).toThrow();
    });

    it(`a handle that is not this backend's is refused [${name}]`, () => {
      const b = backend();
      const fake = { backend: name } as unknown as ReturnType<Backend['createStack']>;
      expect(() => b.getParams(fake)).toThrow();
      expect(() => b.forwardSync(fake, { x: new Float32Array(3), steps: 1, batch: 1 })).toThrow();
    });
  });
}
