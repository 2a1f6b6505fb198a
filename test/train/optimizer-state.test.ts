/**
 * Checkpointing the optimizer (TrainingBackend.getOptimizerState / setOptimizerState), on
 * every backend of RNNKIT_BACKENDS:
 * - resume is exact: N steps, snapshot (parameters + optimizer state), N more steps → P1;
 *   a fresh model given the snapshot (setParams, setOptimizer, setOptimizerState) and the
 *   same N steps → P2; P1 and P2 agree bit for bit (losses and final states too), for
 *   sgd with momentum, rmsprop, adam and adamw, and without the state they do not;
 * - what a snapshot holds: undefined before a step or without an optimizer; the step count;
 *   the buffers per kind, in the backend's precision;
 * - refusals: another optimizer kind, another size, another buffer count, a bad step, no
 *   optimizer — and a refused restore changes nothing;
 * - the buffers mean the same on every backend: a snapshot of the reference restores on a
 *   compiled backend and the other way round, and training continues within the float32
 *   tolerances of vs-reference.test.ts.
 * The native backend runs with its default thread count (RNNKIT_THREADS, else every core):
 * its steps are deterministic at any fixed thread count.
 */
import { describe, expect, it } from 'vitest';
import type { ModelHandle, ModelSpec, OptimizerStateSnapshot, TrainBatch, TrainingBackend } from '../../src/backend/contract.js';
import { ReferenceTraining } from '../../src/backend/reference/training/index.js';
import { batchShapes, modelLayout } from '../../src/backend/layout.js';
import type { ClipSpec, OptimizerSpec } from '../../src/optim/optimizers.js';
import { Random } from '../../src/init/random.js';
import { loadTraining, trainingBackendNames } from './backends.js';
import { afterTolerance } from '../helpers/tolerances.js';
// Loads the addon lazily, on first use: only the native block below uses it.
import { addon, caught, createModel, packOptimizer } from '../native/native-helpers.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 7, dim: 3 }, conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true },
  outputs: 4, loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};
/** Another size (hidden 6): its buffers do not fit `spec`. */
const wider: ModelSpec = { ...spec, stack: { ...spec.stack, hiddenSize: 6, outputSize: 6 } };

interface Kind {
  name: string;
  optimizer: OptimizerSpec;
  clip: ClipSpec;
  buffers: number;
}

const KINDS: Kind[] = [
  { name: 'sgd + momentum', optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }, clip: { maxNorm: 1 }, buffers: 1 },
  { name: 'rmsprop', optimizer: { name: 'rmsprop', lr: 0.01, weightDecay: 0.001 }, clip: {}, buffers: 1 },
  { name: 'adam', optimizer: { name: 'adam', lr: 0.01, weightDecay: 0.001 }, clip: { clipValue: 0.5 }, buffers: 2 },
  { name: 'adamw', optimizer: { name: 'adamw', lr: 0.01, weightDecay: 0.1 }, clip: { maxNorm: 2 }, buffers: 2 },
];

const N = 3;

function batches(seed: number, count: number): TrainBatch[] {
  const rng = new Random(seed);
  const T = 5;
  const B = 3;
  const sh = batchShapes(spec, T, B);
  return Array.from({ length: count }, () => ({
    steps: T, batch: B, lengths: Int32Array.from([5, 2, 4]),
    tokens: Int32Array.from({ length: sh.tokens! }, () => rng.int(7)),
    targets: Int32Array.from({ length: sh.targets }, (_, n) => (n === 1 ? -100 : rng.int(spec.outputs))),
    h0: Float32Array.from({ length: sh.h }, () => Math.fround(rng.normal() * 0.5)),
  }));
}

function initParams(s: ModelSpec, seed = 7): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: modelLayout(s).total }, () => Math.fround(rng.uniformIn(-0.5, 0.5)));
}

/** Parameters in the backend's own precision (the reference keeps float64: exact resume needs them). */
function paramsOf(t: TrainingBackend, m: ModelHandle): Float32Array | Float64Array {
  return t instanceof ReferenceTraining ? t.getParams64(m) : t.getParams(m);
}

function setParamsOf(t: TrainingBackend, m: ModelHandle, p: Float32Array | Float64Array): void {
  if (t instanceof ReferenceTraining) t.setParams64(m, Float64Array.from(p));
  else t.setParams(m, p instanceof Float32Array ? p : Float32Array.from(p));
}

async function run(t: TrainingBackend, m: ModelHandle, list: TrainBatch[]): Promise<{ loss: number; hn: Float32Array }[]> {
  const out = [];
  for (const b of list) {
    const r = await t.trainStep(m, b);
    out.push({ loss: r.loss, hn: r.hn });
  }
  return out;
}

/** A copy of `b` with one value changed. */
function withValue<A extends Float32Array | Float64Array>(b: A, i: number, v: number): A {
  const c = b.slice() as A;
  c[i] = v;
  return c;
}

function sameBits(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function maxExcess(a: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(a.length).toBe(want.length);
  let worst = -Infinity;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - want[i]) - afterTolerance(want[i]));
  return worst;
}

for (const name of trainingBackendNames()) {
  describe(`optimizer state on ${name}`, () => {
    for (const kind of KINDS) {
      it(`${kind.name}: a restored model continues bit for bit`, async () => {
        const t = await loadTraining(name);
        const list = batches(11, 2 * N);
        const a = t.createModel(spec);
        const b = t.createModel(spec);
        const c = t.createModel(spec);
        try {
          t.setParams(a, initParams(spec));
          t.setOptimizer(a, kind.optimizer, kind.clip);
          expect(t.getOptimizerState(a)).toBeUndefined(); // no step yet
          await run(t, a, list.slice(0, N));
          const params = paramsOf(t, a);
          const state = t.getOptimizerState(a)!;
          expect(state.optimizer).toBe(kind.optimizer.name);
          expect(state.step).toBe(N);
          expect(state.buffers).toHaveLength(kind.buffers);
          for (const buf of state.buffers) {
            expect(buf).toBeInstanceOf(name === 'reference' ? Float64Array : Float32Array);
            expect(buf.length).toBe(modelLayout(spec).total);
            expect(buf.some((v) => v !== 0)).toBe(true);
          }
          // A snapshot is a copy: training on does not change it.
          const frozen = state.buffers.map((x) => x.slice());
          const r1 = await run(t, a, list.slice(N));
          const p1 = paramsOf(t, a);
          state.buffers.forEach((x, k) => expect(sameBits(x, frozen[k])).toBe(true));

          setParamsOf(t, b, params);
          t.setOptimizer(b, kind.optimizer, kind.clip);
          t.setOptimizerState(b, state);
          const restored = t.getOptimizerState(b)!;
          expect(restored.step).toBe(N);
          restored.buffers.forEach((x, k) => expect(sameBits(x, state.buffers[k]), `buffer ${k} reads back`).toBe(true));
          const r2 = await run(t, b, list.slice(N));
          const p2 = paramsOf(t, b);
          expect(sameBits(p1, p2), 'P1 and P2 bit for bit').toBe(true);
          r1.forEach((r, i) => {
            expect(r2[i].loss).toBe(r.loss);
            expect(sameBits(r2[i].hn, r.hn)).toBe(true);
          });
          const s1 = t.getOptimizerState(a)!;
          const s2 = t.getOptimizerState(b)!;
          expect(s2.step).toBe(2 * N);
          s1.buffers.forEach((x, k) => expect(sameBits(x, s2.buffers[k]), `state ${k} after`).toBe(true));

          // The control: the same parameters without the optimizer state end elsewhere.
          setParamsOf(t, c, params);
          t.setOptimizer(c, kind.optimizer, kind.clip);
          await run(t, c, list.slice(N));
          expect(maxExcess(paramsOf(t, c), p1)).toBeGreaterThan(0);
        } finally {
          for (const m of [a, b, c]) t.disposeModel(m);
        }
      });
    }

    it('sgd without momentum keeps no buffer; the snapshot holds the step only', async () => {
      const t = await loadTraining(name);
      const m = t.createModel(spec);
      const fresh = t.createModel(spec);
      try {
        expect(t.getOptimizerState(m)).toBeUndefined(); // no optimizer
        t.setParams(m, initParams(spec));
        t.setOptimizer(m, { name: 'sgd', lr: 0.1 });
        await run(t, m, batches(3, 2));
        const s = t.getOptimizerState(m)!;
        expect(s).toEqual({ optimizer: 'sgd', step: 2, buffers: [] });
        t.setOptimizer(fresh, { name: 'sgd', lr: 0.1 });
        t.setOptimizerState(fresh, s);
        expect(t.getOptimizerState(fresh)).toEqual(s);
        // setOptimizer resets the state.
        t.setOptimizer(m, { name: 'adam', lr: 0.01 });
        expect(t.getOptimizerState(m)).toBeUndefined();
      } finally {
        t.disposeModel(m);
        t.disposeModel(fresh);
      }
    });

    it('a step skipped for a non-finite loss does not count', async () => {
      const t = await loadTraining(name);
      const mse: ModelSpec = { ...spec, input: { kind: 'dense', size: 3 }, loss: { kind: 'mse' } };
      const m = t.createModel(mse);
      try {
        t.setParams(m, initParams(mse));
        t.setOptimizer(m, { name: 'adam', lr: 0.01 });
        const sh = batchShapes(mse, 2, 2);
        const good = { steps: 2, batch: 2, x: new Float32Array(sh.x!).fill(0.25), targetValues: new Float32Array(sh.targetValues).fill(0.5) };
        await t.trainStep(m, good);
        // A NaN target: the loss is NaN on every backend, so the update is skipped.
        const r = await t.trainStep(m, { ...good, targetValues: good.targetValues.map((v, i) => (i === 0 ? NaN : v)) });
        expect(r.loss).toBeNaN();
        expect(t.getOptimizerState(m)!.step).toBe(1);
      } finally {
        t.disposeModel(m);
      }
    });

    it('refuses another kind, size or buffer count, a bad step, non-finite moments, and a model without optimizer — changing nothing', async () => {
      const t = await loadTraining(name);
      const m = t.createModel(spec);
      const other = t.createModel(wider);
      const plain = t.createModel(spec);
      try {
        t.setParams(m, initParams(spec));
        t.setParams(other, initParams(wider));
        t.setOptimizer(m, { name: 'adam', lr: 0.01 });
        t.setOptimizer(other, { name: 'adam', lr: 0.01 });
        await run(t, m, batches(5, 2));
        const list = batches(5, 1);
        await run(t, other, list.map((b) => ({ ...b, h0: new Float32Array(batchShapes(wider, 5, 3).h) })));
        const good = t.getOptimizerState(m)!;
        const big = t.getOptimizerState(other)!;

        const e0 = caught(() => t.setOptimizerState(plain, good));
        expect(e0).toBeInstanceOf(Error);
        expect(e0.message).toMatch(/no optimizer/);

        const refusals: [string, OptimizerStateSnapshot, RegExp][] = [
          ['another kind', { ...good, optimizer: 'adamw' }, /optimizer "adamw".*"adam"/],
          ['another size', big, /buffers\[0\] has \d+ values; the model has \d+ parameters/],
          ['one buffer too few', { ...good, buffers: good.buffers.slice(0, 1) }, /has 1 buffers; .*keeps 2/],
          ['one buffer too many', { ...good, buffers: [...good.buffers, good.buffers[0]] }, /has 3 buffers; .*keeps 2/],
          ['step -1', { ...good, step: -1 }, /step must be an integer ≥ 0; got -1/],
          ['step 1.5', { ...good, step: 1.5 }, /step must be an integer ≥ 0; got 1.5/],
          ['a NaN first moment', { ...good, buffers: [withValue(good.buffers[0], 3, NaN), good.buffers[1]] }, /buffers\[0\] holds NaN at index 3; it must be finite/],
          ['an infinite second moment', { ...good, buffers: [good.buffers[0], withValue(good.buffers[1], 0, Infinity)] }, /buffers\[1\] holds Infinity at index 0; a running average of squares must be finite and ≥ 0/],
          ['a negative second moment', { ...good, buffers: [good.buffers[0], withValue(good.buffers[1], 7, -1e-3)] }, /buffers\[1\] holds -0\.001\d* at index 7; .*≥ 0/],
        ];
        for (const [what, state, message] of refusals) {
          const e = caught(() => t.setOptimizerState(m, state));
          expect(e, what).toBeInstanceOf(RangeError);
          expect(e.message, what).toMatch(message);
        }
        // sgd with momentum keeps one buffer, sgd without none.
        t.setOptimizer(plain, { name: 'sgd', lr: 0.1 });
        const e1 = caught(() => t.setOptimizerState(plain, { optimizer: 'sgd', step: 2, buffers: [good.buffers[0]] }));
        expect(e1).toBeInstanceOf(RangeError);
        expect(e1.message).toMatch(/has 1 buffers; the model's sgd optimizer keeps 0/);
        const e2 = caught(() => t.setOptimizerState(m, { ...good, buffers: [good.buffers[0], Array.from(good.buffers[1]) as never] }));
        expect(e2).toBeInstanceOf(TypeError);
        expect(e2.message).toMatch(/buffers\[1\] must be a Float32Array or Float64Array/);

        const after = t.getOptimizerState(m)!;
        expect(after.step).toBe(good.step);
        after.buffers.forEach((x, k) => expect(sameBits(x, good.buffers[k])).toBe(true));
      } finally {
        for (const x of [m, other, plain]) t.disposeModel(x);
      }
    });

    if (name !== 'reference') {
      it('adam on a model whose GEMMs split over the threads: still bit for bit', async () => {
        const t = await loadTraining(name);
        const big: ModelSpec = {
          input: { kind: 'embedding', vocab: 40, dim: 24 }, conditionSize: 0,
          stack: { cell: 'gru', inputSize: 24, hiddenSize: 80, outputSize: 80, layers: 2, bidirectional: true },
          outputs: 40, loss: { kind: 'cross_entropy', ignoreIndex: -100 },
        };
        const rng = new Random(5);
        const sh = batchShapes(big, 12, 16);
        const list = Array.from({ length: 4 }, () => ({
          steps: 12, batch: 16,
          tokens: Int32Array.from({ length: sh.tokens! }, () => rng.int(40)),
          targets: Int32Array.from({ length: sh.targets }, () => rng.int(40)),
        }));
        const a = t.createModel(big);
        const b = t.createModel(big);
        try {
          t.setParams(a, initParams(big));
          t.setOptimizer(a, { name: 'adam', lr: 0.01 });
          await run(t, a, list.slice(0, 2));
          const params = t.getParams(a);
          const state = t.getOptimizerState(a)!;
          await run(t, a, list.slice(2));
          t.setParams(b, params);
          t.setOptimizer(b, { name: 'adam', lr: 0.01 });
          t.setOptimizerState(b, state);
          await run(t, b, list.slice(2));
          expect(sameBits(t.getParams(a), t.getParams(b))).toBe(true);
        } finally {
          t.disposeModel(a);
          t.disposeModel(b);
        }
      });

      for (const kind of KINDS) {
        it(`${kind.name}: snapshots restore across ${name} ⇄ reference within float32 tolerances`, async () => {
          const t = await loadTraining(name);
          const ref = new ReferenceTraining();
          const list = batches(23, 2 * N);
          const init = initParams(spec);
          const ours = t.createModel(spec);
          const theirs = ref.createModel(spec);
          const fromRef = t.createModel(spec);
          const fromOurs = ref.createModel(spec);
          try {
            for (const [x, m] of [[t, ours], [ref, theirs]] as const) {
              x.setParams(m, init);
              x.setOptimizer(m, kind.optimizer, kind.clip);
            }
            await run(t, ours, list.slice(0, N));
            await run(ref, theirs, list.slice(0, N));
            // Same meaning, same order: the states after the same steps agree.
            const sa = t.getOptimizerState(ours)!;
            const sb = ref.getOptimizerState(theirs)!;
            expect(sa.step).toBe(sb.step);
            expect(sa.buffers).toHaveLength(sb.buffers.length);
            sa.buffers.forEach((x, k) => expect(maxExcess(x, sb.buffers[k]), `buffer ${k}`).toBeLessThanOrEqual(0));

            // reference → ours, and ours → reference; each then continues as the other does.
            t.setParams(fromRef, ref.getParams(theirs));
            t.setOptimizer(fromRef, kind.optimizer, kind.clip);
            t.setOptimizerState(fromRef, sb);
            ref.setParams(fromOurs, t.getParams(ours));
            ref.setOptimizer(fromOurs, kind.optimizer, kind.clip);
            ref.setOptimizerState(fromOurs, sa);
            expect(ref.getOptimizerState(fromOurs)!.buffers[0]).toBeInstanceOf(Float64Array);
            await run(t, fromRef, list.slice(N));
            await run(ref, theirs, list.slice(N));
            await run(ref, fromOurs, list.slice(N));
            await run(t, ours, list.slice(N));
            expect(maxExcess(t.getParams(fromRef), ref.getParams64(theirs)), 'reference → ours').toBeLessThanOrEqual(0);
            expect(maxExcess(t.getParams(ours), ref.getParams64(fromOurs)), 'ours → reference').toBeLessThanOrEqual(0);
          } finally {
            t.disposeModel(ours);
            t.disposeModel(fromRef);
            ref.disposeModel(theirs);
            ref.disposeModel(fromOurs);
          }
        });
      }
    }
  });
}

if (trainingBackendNames().includes('native')) {
  describe('native addon: optimizer-state exports', () => {
    it('check handles, the step, the buffers array and each buffer; C refuses the rest', () => {
      const a = addon();
      const h = createModel(spec);
      const P = modelLayout(spec).total;
      try {
        const estate = caught(() => a.modelOptimizerState(h));
        expect(estate.code).toBe('RK_ESTATE');
        expect(estate.message).toMatch(/^rnnkit modelOptimizerState failed \(RK_ESTATE\): .*no optimizer/);
        a.modelSetOptimizer(h, packOptimizer({ name: 'adam', lr: 0.01 }));
        expect(a.modelOptimizerState(h)).toEqual({ step: 0, buffers: 2 });
        expect(Array.from(a.modelGetOptimizerBuffer(h, 1).subarray(0, 3))).toEqual([0, 0, 0]);
        const ok = [new Float32Array(P).fill(0.5), new Float32Array(P).fill(0.25)];
        a.modelSetOptimizerState(h, 7, ok);
        expect(a.modelOptimizerState(h)).toEqual({ step: 7, buffers: 2 });
        expect(a.modelGetOptimizerBuffer(h, 1)[P - 1]).toBe(0.25);

        const refused: [string, () => unknown, ErrorConstructor, RegExp][] = [
          ['a non-handle', () => a.modelOptimizerState({} as never), TypeError, /^model must be a model handle/],
          ['k 2 (C)', () => a.modelGetOptimizerBuffer(h, 2), Error, /RK_EINVAL.*k must be in 0\.\.1/],
          ['k -1', () => a.modelGetOptimizerBuffer(h, -1), RangeError, /^k must be an integer/],
          ['step 1.5', () => a.modelSetOptimizerState(h, 1.5, ok), RangeError, /^step must be an integer in 0\.\.2\^53 - 1; got 1\.5/],
          ['step 2^53', () => a.modelSetOptimizerState(h, 2 ** 53, ok), RangeError, /^step must be an integer/],
          ['buffers not an Array', () => a.modelSetOptimizerState(h, 1, ok[0] as never), TypeError, /^buffers must be an Array/],
          ['a short buffer', () => a.modelSetOptimizerState(h, 1, [ok[0], ok[1].subarray(1)]), RangeError, /^buffers\[1\] must have \d+ elements/],
          ['a Float64Array', () => a.modelSetOptimizerState(h, 1, [ok[0], new Float64Array(P) as never]), TypeError, /^buffers\[1\] must be a Float32Array/],
          ['a hole', () => a.modelSetOptimizerState(h, 1, [ok[0], undefined as never]), TypeError, /^buffers\[1\] must be a Float32Array/],
          ['3 buffers (C)', () => a.modelSetOptimizerState(h, 1, [...ok, ok[0]]), Error, /RK_EINVAL.*n must be 2 .*got 3/],
        ];
        for (const [what, fn, type, message] of refused) {
          const e = caught(fn);
          expect(e, what).toBeInstanceOf(type);
          expect(e.message, what).toMatch(message);
        }
        expect(a.modelOptimizerState(h)).toEqual({ step: 7, buffers: 2 });
      } finally {
        a.modelDispose(h);
      }
    });
  });
}
