/**
 * Guarantee 2 — one call at a time per handle.
 *
 * While a stack's or a model's asynchronous call is pending, another call on the same
 * handle is refused with an Error whose code is 'ERR_RNNKIT_BUSY' (asynchronous methods
 * reject, synchronous ones throw); dispose() is refused the same way and leaves the handle
 * usable. The pending call completes with its normal result. Different handles run at the
 * same time.
 */
import { describe, expect, it } from 'vitest';
import { createModel, createStack, type BackendName, type Dataset, type ModelOptions, type RecurrentStack } from '../../src/index.js';
import { describeError, expectSameFloats, forEachBackend, values } from './backends.js';

const BUSY = 'ERR_RNNKIT_BUSY';

function expectBusyError(e: unknown, what: string): void {
  expect(e instanceof Error && (e as { code?: unknown }).code === BUSY, `${what}: expected an Error with code ${BUSY}; got ${describeError(e)}`).toBe(true);
}

/** An async method called on a busy handle returns a promise that rejects with ERR_RNNKIT_BUSY. */
async function expectBusyRejection(call: () => Promise<unknown>, what: string): Promise<void> {
  let p: Promise<unknown>;
  try {
    p = call();
  } catch (e) {
    throw new Error(`${what} threw synchronously (${describeError(e)}); an async method must return a rejected promise`);
  }
  const settled = await p.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  expect(settled.ok, `${what} resolved; expected a rejection with code ${BUSY}`).toBe(false);
  if (!settled.ok) expectBusyError(settled.error, what);
}

/** A sync method called on a busy handle throws ERR_RNNKIT_BUSY. */
function expectBusyThrow(call: () => unknown, what: string): void {
  let thrown: unknown;
  let threw = false;
  try {
    call();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  expect(threw, `${what} did not throw; expected an Error with code ${BUSY}`).toBe(true);
  expectBusyError(thrown, what);
}

/** Keep a pending promise from being reported as unhandled if a test fails before awaiting it. */
function guard<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

const STACK = { cell: 'gru', inputSize: 16, hiddenSize: 24, layers: 2 } as const;
const T = 60;
const B = 4;
const X = values(T * B * STACK.inputSize, 11);
const DY = values(T * B * STACK.hiddenSize, 12);

async function newStack(backend: BackendName, seed = 13): Promise<RecurrentStack> {
  const s = await createStack({ ...STACK, backend });
  s.setFlatParameters(values(s.getFlatParameters().length, seed, 0.3));
  return s;
}

// A token model, so that generate applies too.
function modelOptions(backend: BackendName): ModelOptions {
  return { input: { kind: 'embedding', vocab: 8, dim: 4 }, cell: 'lstm', hiddenSize: 8, outputs: 8, init: { seed: 5 }, backend };
}
const DATA: Dataset = {
  inputs: [0, 1, 2, 3, 4, 5].map((k) => Int32Array.from({ length: 6 + k }, (_, t) => (t + k) % 8)),
  targets: [0, 1, 2, 3, 4, 5].map((k) => Int32Array.from({ length: 6 + k }, (_, t) => (t + k + 1) % 8)),
};
const FIT = { epochs: 2, batchSize: 2, optimizer: { name: 'adam', lr: 0.01 }, seed: 3 } as const;

forEachBackend((backend) => {
  describe('one call at a time per handle', () => {
    it('stack: a second forward while one is pending rejects with ERR_RNNKIT_BUSY; the first resolves correctly', async () => {
      const s = await newStack(backend);
      const expected = await s.forward(X, { steps: T, batch: B });
      const first = guard(s.forward(X, { steps: T, batch: B }));
      await expectBusyRejection(() => s.forward(X, { steps: T, batch: B }), 'forward during a pending forward');
      const r = await first;
      expectSameFloats(r.y, expected.y, 'y of the first forward');
      expectSameFloats(r.hn, expected.hn, 'hn of the first forward');
      s.dispose();
    });

    it('stack: backward, forwardSync and backwardSync while a forward is pending are refused with ERR_RNNKIT_BUSY', async () => {
      const s = await newStack(backend);
      await s.forward(X, { steps: T, batch: B, training: true });
      const expected = await s.forward(X, { steps: T, batch: B, training: true });
      const first = guard(s.forward(X, { steps: T, batch: B, training: true }));
      // Every overlapping call is made before the test awaits anything: a backend that
      // computes on the calling thread (wasm, reference) has settled its call once the
      // microtasks after it have run, and a settled call no longer overlaps anything.
      expectBusyThrow(() => s.forwardSync(X, { steps: T, batch: B }), 'forwardSync during a pending forward');
      expectBusyThrow(() => s.backwardSync({ dy: DY }), 'backwardSync during a pending forward');
      await expectBusyRejection(() => s.backward({ dy: DY }), 'backward during a pending forward');
      const r = await first;
      expectSameFloats(r.y, expected.y, 'y of the first forward');
      // Nothing of the refused calls happened: the backward of that forward still works.
      s.zeroGradients();
      const b = await s.backward({ dy: DY });
      expect(b.dx.length).toBe(X.length);
      s.dispose();
    });

    it('stack: a forward while a backward is pending rejects with ERR_RNNKIT_BUSY; the backward resolves correctly', async () => {
      const s = await newStack(backend);
      await s.forward(X, { steps: T, batch: B, training: true });
      s.zeroGradients();
      const expected = await s.backward({ dy: DY });
      const expectedGrads = s.getFlatGradients();
      s.zeroGradients();
      const pending = guard(s.backward({ dy: DY }));
      // Both overlapping calls start before the test awaits (see the test above).
      const forward = guard(s.forward(X, { steps: T, batch: B }));
      const backward = guard(s.backward({ dy: DY }));
      await expectBusyRejection(() => forward, 'forward during a pending backward');
      await expectBusyRejection(() => backward, 'backward during a pending backward');
      const r = await pending;
      expectSameFloats(r.dx, expected.dx, 'dx of the pending backward');
      expectSameFloats(s.getFlatGradients(), expectedGrads, 'gradients (the refused backward added nothing)');
      s.dispose();
    });

    it('stack: dispose() while a forward is pending throws ERR_RNNKIT_BUSY and leaves the stack usable', async () => {
      const s = await newStack(backend);
      const expected = await s.forward(X, { steps: T, batch: B });
      const first = guard(s.forward(X, { steps: T, batch: B }));
      expectBusyThrow(() => s.dispose(), 'dispose during a pending forward');
      const r = await first;
      expectSameFloats(r.y, expected.y, 'y of the pending forward');
      const again = await s.forward(X, { steps: T, batch: B });
      expectSameFloats(again.y, expected.y, 'y of a forward after the refused dispose');
      s.dispose();
      expect(() => s.forwardSync(X, { steps: T, batch: B }), 'a disposed stack refuses calls').toThrow();
    });

    it('stack: two different stacks run at the same time', async () => {
      const a = await newStack(backend, 21);
      const b = await newStack(backend, 22);
      const ea = await a.forward(X, { steps: T, batch: B });
      const eb = await b.forward(X, { steps: T, batch: B });
      const [ra, rb] = await Promise.all([a.forward(X, { steps: T, batch: B }), b.forward(X, { steps: T, batch: B })]);
      expectSameFloats(ra.y, ea.y, 'y of stack a');
      expectSameFloats(rb.y, eb.y, 'y of stack b');
      a.dispose();
      b.dispose();
    });

    it('model: a second fit while one is pending rejects with ERR_RNNKIT_BUSY; the first completes as if alone', async () => {
      const alone = await createModel(modelOptions(backend));
      const expected = await alone.fit(DATA, FIT);
      const model = await createModel(modelOptions(backend));
      const first = guard(model.fit(DATA, FIT));
      await expectBusyRejection(() => model.fit(DATA, FIT), 'fit during a pending fit');
      const r = await first;
      expect(r.epochs).toEqual(expected.epochs);
      expectSameFloats(model.getParams(), alone.getParams(), 'parameters after the first fit');
      alone.dispose();
      model.dispose();
    });

    it('model: evaluate and predict during a fit are refused with ERR_RNNKIT_BUSY, at its start and between its steps; generate is refused while a step computes and reads the model between steps', async () => {
      const model = await createModel(modelOptions(backend));
      const midway: Promise<unknown>[] = [];
      let generateMidway: unknown = 'not called';
      const fit = guard(
        model.fit(DATA, {
          ...FIT,
          onProgress: (p) => {
            if (p.step !== 2) return;
            // Between two optimizer steps, the fit is still pending.
            midway.push(guard(model.evaluate(DATA)), guard(model.predict({ inputs: DATA.inputs })));
            try {
              generateMidway = model.generate({ start: [1, 2], steps: 3 });
            } catch (e) {
              generateMidway = e;
            }
          },
        }),
      );
      // The fit's first step is computing now (its first await): a synchronous read is refused.
      expectBusyThrow(() => model.generate({ start: [1, 2], steps: 3 }), 'generate while a step of a fit computes');
      await expectBusyRejection(() => model.evaluate(DATA), 'evaluate during a fit');
      await expectBusyRejection(() => model.predict({ inputs: DATA.inputs }), 'predict during a fit');
      await fit;
      expect(midway.length, 'onProgress saw step 2').toBe(2);
      await expectBusyRejection(() => midway[0], 'evaluate between two steps of a fit');
      await expectBusyRejection(() => midway[1], 'predict between two steps of a fit');
      // Between steps nothing computes: generate (a synchronous read) samples the model as it
      // is at that step, as a training loop that prints samples needs.
      expect(Array.isArray(generateMidway) && generateMidway.length, 'generate between two steps of a fit').toBe(3);
      // Idle again: everything works.
      expect((await model.evaluate(DATA)).count).toBeGreaterThan(0);
      expect(model.generate({ start: [1, 2], steps: 3 }).length).toBe(3);
      model.dispose();
    });

    it('model: dispose() during a fit throws ERR_RNNKIT_BUSY; the fit completes and the model stays usable', async () => {
      const alone = await createModel(modelOptions(backend));
      const expected = await alone.fit(DATA, FIT);
      const model = await createModel(modelOptions(backend));
      const fit = guard(model.fit(DATA, FIT));
      expectBusyThrow(() => model.dispose(), 'dispose during a fit');
      const r = await fit;
      expect(r.epochs).toEqual(expected.epochs);
      expect(await model.evaluate(DATA)).toEqual(await alone.evaluate(DATA));
      model.dispose();
      alone.dispose();
    });

    it('model: two different models fit at the same time', async () => {
      const a = await createModel(modelOptions(backend));
      const b = await createModel({ ...modelOptions(backend), init: { seed: 6 } });
      const [ra, rb] = await Promise.all([a.fit(DATA, FIT), b.fit(DATA, FIT)]);
      expect(ra.steps).toBe(rb.steps);
      expect(ra.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      expect(rb.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      a.dispose();
      b.dispose();
    });
  });
});
