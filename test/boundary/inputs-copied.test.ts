/**
 * Guarantee 1 — inputs are copied before the call yields.
 *
 * After starting stack.forward / stack.backward / model.fit / evaluate / predict (the
 * promise not yet awaited) the caller may detach, overwrite or shrink every array it
 * passed, then make the garbage collector run: the awaited result equals, Float32 for
 * Float32, the result of the same call on untouched copies. An array already detached when
 * the call is made is a TypeError or RangeError naming the parameter.
 */
import { describe, expect, it } from 'vitest';
import { createModel, createStack, type BackendName, type Dataset, type ModelOptions, type RecurrentStack } from '../../src/index.js';
import {
  childResult,
  detach,
  expectArgumentError,
  expectCleanExit,
  expectSameFloats,
  forEachBackend,
  gcPressure,
  outcome,
  resizableBuffer,
  runScript,
  values,
} from './backends.js';

type Kind = 'detached' | 'overwritten with NaN' | 'resized to 0 bytes';
const KINDS: Kind[] = ['detached', 'overwritten with NaN', 'resized to 0 bytes'];

type Numeric = Float32Array | Int32Array;

/** A copy of `src` the test can spoil in the given way once the call has started. */
function spoilable<T extends Numeric>(src: T, kind: Kind): { array: T; spoil(): void } {
  const Ctor = src.constructor as new (b: ArrayBufferLike) => T;
  if (kind === 'resized to 0 bytes') {
    // A length-tracking view over a resizable buffer: resize(0) leaves it 0 elements long.
    const buffer = resizableBuffer(src.byteLength, 2 * src.byteLength);
    const array = new Ctor(buffer);
    array.set(src as never);
    return { array, spoil: () => buffer.resize(0) };
  }
  const array = src.slice() as T;
  if (kind === 'detached') return { array, spoil: () => detach(array.buffer) };
  return { array, spoil: () => void array.fill(NaN) }; // Int32Array: NaN stores 0
}

/** Spoil every array of a list. */
function spoilAll(list: { spoil(): void }[]): void {
  for (const s of list) s.spoil();
  gcPressure();
}

// A stack with every optional input: LSTM (c0), 2 layers, bidirectional, variable lengths.
const STACK = { cell: 'lstm', inputSize: 5, hiddenSize: 7, layers: 2, bidirectional: true } as const;
const T = 6;
const B = 3;
const X = values(T * B * STACK.inputSize, 1);
const STATE = 2 * 2 * B * STACK.hiddenSize; // [L·D][B][H]
const H0 = values(STATE, 2);
const C0 = values(STATE, 3);
const LENGTHS = Int32Array.of(6, 4, 5);
const DY = values(T * B * 2 * STACK.hiddenSize, 4);
const DHN = values(STATE, 5);
const DCN = values(STATE, 6);

async function newStack(backend: BackendName): Promise<RecurrentStack> {
  const s = await createStack({ ...STACK, backend });
  s.setFlatParameters(values(s.getFlatParameters().length, 9, 0.4));
  return s;
}

// A dense-input MSE model: every dataset array is a Float32Array the test can spoil.
function modelOptions(backend: BackendName): ModelOptions {
  return { input: { kind: 'dense', size: 4 }, cell: 'lstm', hiddenSize: 6, outputs: 3, loss: 'mse', init: { seed: 7 }, backend };
}

function dataset(lengths: number[], seed: number): { inputs: Float32Array[]; targets: Float32Array[] } {
  return {
    inputs: lengths.map((len, i) => values(len * 4, seed + i)),
    targets: lengths.map((len, i) => values(len * 3, seed + 100 + i)),
  };
}

const TRAIN = dataset([5, 3, 4, 2, 5, 4], 20);
const VALID = dataset([3, 5, 2], 40);

/** A spoilable copy of a dataset, and the handles that spoil it. */
function spoilableData(d: { inputs: Float32Array[]; targets: Float32Array[] }, kind: Kind) {
  const inputs = d.inputs.map((a) => spoilable(a, kind));
  const targets = d.targets.map((a) => spoilable(a, kind));
  const data: Dataset = { inputs: inputs.map((s) => s.array), targets: targets.map((s) => s.array) };
  return { data, handles: [...inputs, ...targets] };
}

function copyData(d: { inputs: Float32Array[]; targets: Float32Array[] }): Dataset {
  return { inputs: d.inputs.map((a) => a.slice()), targets: d.targets.map((a) => a.slice()) };
}

const FIT = { epochs: 2, batchSize: 2, window: 3, optimizer: { name: 'adam', lr: 0.01 }, seed: 1 } as const;

forEachBackend((backend) => {
  describe('inputs are copied before the call yields', () => {
    for (const kind of KINDS) {
      it(`stack.forward: x, h0, c0 and lengths ${kind} after the call starts give the untouched result`, async () => {
        const s = await newStack(backend);
        const expected = await s.forward(X.slice(), { steps: T, batch: B, h0: H0.slice(), c0: C0.slice(), lengths: LENGTHS.slice() });
        const x = spoilable(X, kind);
        const h0 = spoilable(H0, kind);
        const c0 = spoilable(C0, kind);
        const lengths = spoilable(LENGTHS, kind);
        const p = s.forward(x.array, { steps: T, batch: B, h0: h0.array, c0: c0.array, lengths: lengths.array });
        spoilAll([x, h0, c0, lengths]);
        const r = await p;
        expectSameFloats(r.y, expected.y, 'y');
        expectSameFloats(r.hn, expected.hn, 'hn');
        expectSameFloats(r.cn, expected.cn, 'cn');
        s.dispose();
      });

      it(`stack.backward: dy, dhn and dcn ${kind} after the call starts give the untouched gradients`, async () => {
        const s = await newStack(backend);
        const fwd = { steps: T, batch: B, h0: H0, c0: C0, lengths: LENGTHS, training: true };
        await s.forward(X, fwd);
        s.zeroGradients();
        const expected = await s.backward({ dy: DY.slice(), dhn: DHN.slice(), dcn: DCN.slice() });
        const expectedGrads = s.getFlatGradients();
        await s.forward(X, fwd);
        s.zeroGradients();
        const dy = spoilable(DY, kind);
        const dhn = spoilable(DHN, kind);
        const dcn = spoilable(DCN, kind);
        const p = s.backward({ dy: dy.array, dhn: dhn.array, dcn: dcn.array });
        spoilAll([dy, dhn, dcn]);
        const r = await p;
        expectSameFloats(r.dx, expected.dx, 'dx');
        expectSameFloats(r.dh0, expected.dh0, 'dh0');
        expectSameFloats(r.dc0, expected.dc0, 'dc0');
        expectSameFloats(s.getFlatGradients(), expectedGrads, 'parameter gradients');
        s.dispose();
      });

      it(`stack.backward after the training forward's x, h0, c0 and lengths were ${kind} gives the untouched gradients`, async () => {
        const s = await newStack(backend);
        await s.forward(X.slice(), { steps: T, batch: B, h0: H0.slice(), c0: C0.slice(), lengths: LENGTHS.slice(), training: true });
        s.zeroGradients();
        const expected = await s.backward({ dy: DY });
        const expectedGrads = s.getFlatGradients();
        const x = spoilable(X, kind);
        const h0 = spoilable(H0, kind);
        const c0 = spoilable(C0, kind);
        const lengths = spoilable(LENGTHS, kind);
        const p = s.forward(x.array, { steps: T, batch: B, h0: h0.array, c0: c0.array, lengths: lengths.array, training: true });
        spoilAll([x, h0, c0, lengths]);
        await p;
        s.zeroGradients();
        const r = await s.backward({ dy: DY });
        expectSameFloats(r.dx, expected.dx, 'dx');
        expectSameFloats(r.dh0, expected.dh0, 'dh0');
        expectSameFloats(s.getFlatGradients(), expectedGrads, 'parameter gradients');
        s.dispose();
      });

      it(`model.fit: inputs, targets and validationData ${kind} after the call starts give the untouched training`, async () => {
        const untouched = await createModel(modelOptions(backend));
        const expected = await untouched.fit(copyData(TRAIN), { ...FIT, validationData: copyData(VALID) });
        const model = await createModel(modelOptions(backend));
        const train = spoilableData(TRAIN, kind);
        const valid = spoilableData(VALID, kind);
        const p = model.fit(train.data, { ...FIT, validationData: valid.data });
        spoilAll([...train.handles, ...valid.handles]);
        const r = await p;
        expect(r.steps).toBe(expected.steps);
        expect(r.epochs).toEqual(expected.epochs);
        expectSameFloats(model.getParams(), untouched.getParams(), 'parameters after fit');
        untouched.dispose();
        model.dispose();
      });

      it(`model.evaluate: inputs and targets ${kind} after the call starts give the untouched metrics`, async () => {
        const model = await createModel(modelOptions(backend));
        const expected = await model.evaluate(copyData(TRAIN), { batchSize: 2 });
        const d = spoilableData(TRAIN, kind);
        const p = model.evaluate(d.data, { batchSize: 2 });
        spoilAll(d.handles);
        expect(await p).toEqual(expected);
        model.dispose();
      });

      it(`model.predict: inputs ${kind} after the call starts give the untouched outputs`, async () => {
        const model = await createModel(modelOptions(backend));
        const expected = await model.predict({ inputs: TRAIN.inputs.map((a) => a.slice()) }, { batchSize: 2 });
        const inputs = TRAIN.inputs.map((a) => spoilable(a, kind));
        const p = model.predict({ inputs: inputs.map((s) => s.array) }, { batchSize: 2 });
        spoilAll(inputs);
        const r = await p;
        expect(r.length).toBe(expected.length);
        r.forEach((out, i) => expectSameFloats(out, expected[i], `predict[${i}]`));
        model.dispose();
      });
    }

    it('an array already detached when the call is made is a TypeError or RangeError naming the parameter', async () => {
      const s = await newStack(backend);
      const gone = (a: Float32Array) => {
        const c = a.slice();
        detach(c.buffer);
        return c;
      };
      const r1 = await outcome(s.forward(gone(X), { steps: T, batch: B }));
      expect(r1.ok, 'forward with a detached x resolved').toBe(false);
      if (!r1.ok) expectArgumentError(r1.error, /\bx\b/, 'forward(detached x)');
      const r2 = await outcome(s.forward(X, { steps: T, batch: B, h0: gone(H0) }));
      expect(r2.ok, 'forward with a detached h0 resolved').toBe(false);
      if (!r2.ok) expectArgumentError(r2.error, /\bh0\b/, 'forward(x, { h0: detached })');
      expect(() => s.forwardSync(gone(X), { steps: T, batch: B }), 'forwardSync with a detached x').toThrow(/\bx\b/);
      await s.forward(X, { steps: T, batch: B, training: true });
      const r3 = await outcome(s.backward({ dy: gone(DY) }));
      expect(r3.ok, 'backward with a detached dy resolved').toBe(false);
      if (!r3.ok) expectArgumentError(r3.error, /\bdy\b/, 'backward({ dy: detached })');
      s.dispose();

      const model = await createModel(modelOptions(backend));
      const data = copyData(TRAIN);
      detach((data.inputs[1] as Float32Array).buffer);
      const r4 = await outcome(model.fit(data, FIT));
      expect(r4.ok, 'fit with a detached inputs[1] resolved').toBe(false);
      if (!r4.ok) expectArgumentError(r4.error, /inputs/, 'fit(data with detached inputs[1])');
      const data2 = copyData(TRAIN);
      detach((data2.targets![0] as Float32Array).buffer);
      const r5 = await outcome(model.evaluate(data2));
      expect(r5.ok, 'evaluate with a detached targets[0] resolved').toBe(false);
      if (!r5.ok) expectArgumentError(r5.error, /targets/, 'evaluate(data with detached targets[0])');
      model.dispose();
    });

    // The reproducer, in a child process: a use after free would kill the test worker.
    // Full size on native; scaled down where the backend computes on the calling thread.
    const size = backend === 'native' ? { steps: 4000, batch: 16 } : { steps: 200, batch: 4 };
    it(`reproducer: gru 256→64, ${size.steps}×${size.batch} steps×batch, x detached after forward starts, then GC pressure (3 rounds, child process)`, async () => {
      const r = await runScript('detach-reproducer', REPRODUCER, {
        args: [backend, String(size.steps), String(size.batch), '3'],
        nodeArgs: ['--expose-gc'],
        timeoutMs: 120_000,
      });
      expectCleanExit(r, 'the reproducer');
      const out = childResult<{ y: string | null; hn: string | null; error?: string }>(r);
      expect(out.error, 'forward rejected').toBeUndefined();
      expect(out.y, 'y differs from the untouched run').toBeNull();
      expect(out.hn, 'hn differs from the untouched run').toBeNull();
    }, 150_000);
  });
});

// The brief's reproducer, repeated up to three rounds and with a full collection after the
// pressure (node --expose-gc), so that a use after free shows on every run, not one in four.
const REPRODUCER = `const [backend, steps, batch, rounds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
try {
  const s = await rnnkit.createStack({ cell: 'gru', inputSize: 256, hiddenSize: 64, backend });
  const w = new Float32Array(s.getFlatParameters().length);
  let v = 1;
  for (let i = 0; i < w.length; i++) { v = (v * 16807) % 2147483647; w[i] = (v / 2147483647 - 0.5) * 0.2; }
  s.setFlatParameters(w);
  const n = steps * batch * 256;
  const untouched = await s.forward(new Float32Array(n).fill(0.5), { steps, batch });
  const diff = (a, b) => {
    if (!a || a.length !== b.length) return 'length ' + (a && a.length) + ' instead of ' + b.length;
    let count = 0, first = -1;
    for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) { if (first < 0) first = i; count++; }
    return count === 0 ? null : count + ' values differ; first [' + first + ']: ' + a[first] + ' instead of ' + b[first];
  };
  const out = { y: null, hn: null };
  for (let round = 0; round < rounds && !out.y && !out.hn; round++) {
    const x = new Float32Array(n).fill(0.5);
    const p = s.forward(x, { steps, batch });
    structuredClone(x.buffer, { transfer: [x.buffer] });
    for (let i = 0; i < 40; i++) new Float32Array(n).fill(i);
    globalThis.gc?.();
    const r = await p;
    out.y = diff(r.y, untouched.y);
    out.hn = diff(r.hn, untouched.hn);
  }
  report(out);
  s.dispose();
} catch (e) {
  report({ y: null, hn: null, error: String(e && e.stack || e) });
}
`;
