/**
 * The asynchronous calls (stackForward, stackBackward, modelRun): they run off the event
 * loop, one at a time per handle (a second call on a busy handle is refused with
 * ERR_RNNKIT_BUSY, not queued), copy their inputs before they are queued, keep the handle
 * and the outputs alive until they settle, and hold off process-wide changes (threads,
 * ISA) while they compute.
 */
import { describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import type { AddonHandle, AddonResult, NativeAddon } from '../../src/backend/native/addon.js';
import { createNativeBackend } from '../../src/backend/native/backend.js';
import {
  addon,
  arrayIndex,
  caught,
  collectGarbage,
  createModel,
  createStack,
  forward,
  forwardSync,
  LSTM,
  packBatch,
  packOptimizer,
  randomF32,
  readStep,
  TOKEN_MODEL,
  tokenBatch,
} from './native-helpers.js';

const BIG: StackSpec = { cell: 'lstm', inputSize: 128, hiddenSize: 128, outputSize: 128, layers: 1, bidirectional: false };

function bigStack(a: NativeAddon): AddonHandle {
  const h = createStack(BIG);
  a.stackSetParams(h, randomF32(paramLayout(BIG).total, 11, 0.05));
  return h;
}

function request(steps: number, batch: number, training = false) {
  return { x: randomF32(sequenceShapes(BIG, steps, batch).x, 12), steps, batch, training };
}

/** A trained-from-zero token model with random parameters and an SGD optimizer. */
function model(seed: number): AddonHandle {
  const h = createModel(TOKEN_MODEL);
  addon().modelSetParams(h, randomF32(addon().modelParamCount(h), seed, 0.3));
  addon().modelSetOptimizer(h, packOptimizer({ name: 'sgd', lr: 0.1 }));
  return h;
}

/** setImmediate turns of the event loop while `run` is pending. */
async function turnsDuring(run: () => Promise<unknown> | unknown): Promise<number> {
  let turns = 0;
  let on = true;
  const spin = () => {
    if (!on) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  try {
    await run();
  } finally {
    on = false;
  }
  return turns;
}

function expectBusy(fn: () => unknown, what: 'stack' | 'model'): void {
  const e = caught(fn);
  expect(e.code, `expected ERR_RNNKIT_BUSY from ${fn.toString()}`).toBe('ERR_RNNKIT_BUSY');
  expect(e.message).toBe(`${what} is busy: an asynchronous call is still running on it; await it first`);
}

/** A structured-clone transfer: `a`'s buffer is detached afterwards (length 0). */
function detach(a: ArrayBufferView): void {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  expect(a.byteLength).toBe(0);
}

describe('native addon: asynchronous calls', () => {
  it('the event loop keeps turning during a long forward (and does not during stackForwardSync, the control)', async () => {
    const a = addon();
    a.setThreads(1);
    const h = bigStack(a);
    const req = request(512, 8);
    expect(await turnsDuring(() => forwardSync(h, req)), 'stackForwardSync blocks the loop').toBe(0);
    const turns = await turnsDuring(() => forward(h, req));
    expect(turns, 'event-loop turns during an asynchronous forward').toBeGreaterThanOrEqual(1);
    a.setThreads(0);
    a.stackDispose(h);
  });

  it('a second call on a stack with a call in flight is refused with ERR_RNNKIT_BUSY; the first completes', async () => {
    const a = addon();
    const h = bigStack(a);
    const first = forward(h, request(64, 4, true));
    const small = request(8, 4);
    const dy = new Float32Array(sequenceShapes(BIG, 64, 4).y);
    expectBusy(() => forward(h, small), 'stack');
    expectBusy(() => forwardSync(h, small), 'stack');
    expectBusy(() => a.stackBackward(h, dy), 'stack');
    expectBusy(() => a.stackBackwardSync(h, dy), 'stack');
    expectBusy(() => a.stackGetParams(h), 'stack');
    expectBusy(() => a.stackGetGrads(h), 'stack');
    expectBusy(() => a.stackSetParams(h, new Float32Array(paramLayout(BIG).total)), 'stack');
    expectBusy(() => a.stackZeroGrads(h), 'stack');
    expectBusy(() => a.stackParamCount(h), 'stack');
    expectBusy(() => a.stackLayout(h), 'stack');
    expectBusy(() => a.stackDispose(h), 'stack');
    const out = await first;
    expect(out.y!.length).toBe(sequenceShapes(BIG, 64, 4).y);
    // Settled: the stack takes calls again, and the training forward is the one backward uses.
    const g = await a.stackBackward(h, randomF32(sequenceShapes(BIG, 64, 4).y, 13));
    expect(g.dx!.length).toBe(sequenceShapes(BIG, 64, 4).x);
    a.stackDispose(h);
  });

  it('a second call on a model with a run in flight is refused with ERR_RNNKIT_BUSY; the first completes', async () => {
    const a = addon();
    const h = model(30);
    const batch = packBatch(tokenBatch(3, 2, 31));
    const expected = a.modelRunSync(h, 2, ...batch);
    const count = a.modelParamCount(h);
    const first = a.modelRun(h, 2, ...batch);
    expectBusy(() => a.modelRun(h, 0, ...batch), 'model');
    expectBusy(() => a.modelRunSync(h, 2, ...batch), 'model');
    expectBusy(() => a.modelGetParams(h), 'model');
    expectBusy(() => a.modelGetGrads(h), 'model');
    expectBusy(() => a.modelSetParams(h, new Float32Array(count)), 'model');
    expectBusy(() => a.modelSetOptimizer(h, packOptimizer({ name: 'sgd', lr: 1 })), 'model');
    expectBusy(() => a.modelSetLr(h, 1), 'model');
    expectBusy(() => a.modelParamCount(h), 'model');
    expectBusy(() => a.modelLayout(h), 'model');
    expectBusy(() => a.modelDispose(h), 'model');
    expect(await first).toEqual(expected);
    expect(readStep(await a.modelRun(h, 0, ...batch)).count).toBe(6);
    a.modelDispose(h);
  });

  it('thread count and ISA cannot change while a computation is in flight', async () => {
    const a = addon();
    const h = bigStack(a);
    const threads = a.getThreads();
    const isa = a.isa();
    // Long (a 4096-step LSTM forward) so that it is surely still computing when we try:
    // the gate opens as soon as the computation ends, before the promise settles.
    const p = forward(h, request(4096, 8));
    const other = threads === 1 ? 2 : 1;
    for (const n of [other, threads]) {
      const e = caught(() => a.setThreads(n));
      expect(e.code).toBe('ERR_RNNKIT_BUSY');
      expect(e.message).toMatch(/^the thread count cannot change while a computation is running/);
    }
    const e = caught(() => a.forceIsa('scalar'));
    expect(e.code).toBe('ERR_RNNKIT_BUSY');
    expect(e.message).toMatch(/^the ISA path cannot change while a computation is running/);
    await p;
    expect(a.getThreads()).toBe(threads);
    expect(a.isa()).toBe(isa);
    a.setThreads(threads); // allowed again once nothing runs
    a.stackDispose(h);
  });

  it('NativeBackend: setting the thread count or ISA it already has is no change and is not refused while computing', async () => {
    const a = addon();
    const backend = createNativeBackend();
    backend.setThreads(2);
    const h = bigStack(a);
    const p = forward(h, request(4096, 8));
    backend.setThreads(2);
    backend.forceIsa(a.isa());
    expect(() => backend.setThreads(1)).toThrow(expect.objectContaining({ code: 'ERR_RNNKIT_BUSY' }));
    await p;
    expect(a.getThreads()).toBe(2);
    backend.setThreads(0);
    // 0 ("every core") resolves to the count the pool already has: no change either, so
    // RNNKIT_THREADS=0 in a worker_thread never collides with another thread's computation.
    expect(a.resolveThreads(0)).toBe(a.getThreads());
    const q = forward(h, request(4096, 8));
    backend.setThreads(0);
    backend.setThreads(a.getThreads());
    await q;
    a.stackDispose(h);
  });

  it('a model run in flight also holds off thread changes', async () => {
    const a = addon();
    const h = createModel({ ...TOKEN_MODEL, input: { kind: 'embedding', vocab: 7, dim: 128 }, stack: { ...BIG, inputSize: 128 } });
    const p = a.modelRun(h, 2, ...packBatch(tokenBatch(2048, 8, 32)));
    expect(caught(() => a.setThreads(a.getThreads() === 1 ? 2 : 1)).code).toBe('ERR_RNNKIT_BUSY');
    await p;
    a.modelDispose(h);
  });

  it('different stacks (and a model) run concurrently and give the results they give alone', async () => {
    const a = addon();
    const h1 = bigStack(a);
    const h2 = bigStack(a);
    const m = model(33);
    const r1 = request(48, 3);
    const r2 = { ...request(40, 2), x: randomF32(sequenceShapes(BIG, 40, 2).x, 14) };
    const b = packBatch(tokenBatch(5, 3, 34));
    const alone1 = forwardSync(h1, r1);
    const alone2 = forwardSync(h2, r2);
    const aloneM = a.modelRunSync(m, 2, ...b);
    const [c1, c2, cm] = await Promise.all([forward(h1, r1), forward(h2, r2), a.modelRun(m, 2, ...b)]);
    expect(c1).toEqual(alone1);
    expect(c2).toEqual(alone2);
    expect(cm).toEqual(aloneM);
    a.stackDispose(h1);
    a.stackDispose(h2);
    a.modelDispose(m);
  });

  it('async and sync results are identical', async () => {
    const a = addon();
    const h = createStack(LSTM);
    a.stackSetParams(h, randomF32(paramLayout(LSTM).total, 15, 0.3));
    const n = sequenceShapes(LSTM, 5, 2);
    const req = { x: randomF32(n.x, 16), steps: 5, batch: 2, h0: randomF32(n.h, 17), c0: randomF32(n.c, 18), training: true };
    const s = forwardSync(h, req);
    const gs = a.stackBackwardSync(h, randomF32(n.y, 19));
    const as = await forward(h, req);
    const ga = await a.stackBackward(h, randomF32(n.y, 19));
    expect(as).toEqual(s);
    expect(ga).toEqual(gs);
    a.stackDispose(h);
  });
});

describe('native addon: inputs of an asynchronous call are copied before it is queued', () => {
  const n = sequenceShapes(LSTM, 6, 3);
  const inputs = () => ({ x: randomF32(n.x, 40), h0: randomF32(n.h, 41), c0: randomF32(n.c, 42), lengths: Int32Array.from([6, 2, 0]) });
  const stack = () => {
    const h = createStack(LSTM);
    addon().stackSetParams(h, randomF32(paramLayout(LSTM).total, 43, 0.3));
    return h;
  };
  const run = (h: AddonHandle, i: ReturnType<typeof inputs>, sync: boolean): Promise<AddonResult> | AddonResult =>
    sync ? addon().stackForwardSync(h, 6, 3, true, i.x, i.h0, i.c0, i.lengths) : addon().stackForward(h, 6, 3, true, i.x, i.h0, i.c0, i.lengths);

  it('rewriting x, h0, c0 and lengths after the call starts does not change the result', async () => {
    const h = stack();
    const expected = run(h, inputs(), true);
    const i = inputs();
    const p = run(h, i, false);
    i.x.fill(NaN);
    i.h0.fill(1e30);
    i.c0.fill(-1e30);
    i.lengths.fill(1 << 30); // out of range: would be refused by C if it were read now
    expect(await p).toEqual(expected);
    addon().stackDispose(h);
  });

  it('detaching (transferring) the inputs after the call starts does not change the result', async () => {
    const h = stack();
    const expected = run(h, inputs(), true);
    const i = inputs();
    const p = run(h, i, false);
    for (const a of [i.x, i.h0, i.c0, i.lengths]) detach(a);
    expect(await p).toEqual(expected);
    addon().stackDispose(h);
  });

  it('backward: rewriting or detaching dy, dhn and dcn after the call starts does not change the gradients', async () => {
    const h = stack();
    run(h, inputs(), true);
    const grads = () => ({ dy: randomF32(n.y, 44), dhn: randomF32(n.h, 45), dcn: randomF32(n.c, 46) });
    const g0 = grads();
    const expected = addon().stackBackwardSync(h, g0.dy, g0.dhn, g0.dcn);
    const g1 = grads();
    const p1 = addon().stackBackward(h, g1.dy, g1.dhn, g1.dcn);
    g1.dy.fill(NaN);
    g1.dhn.fill(NaN);
    detach(g1.dcn);
    expect(await p1).toEqual(expected);
    addon().stackDispose(h);
  });

  it('modelRun: rewriting or detaching tokens and targets, the batch bytes or the arrays list does not change the run', async () => {
    const a = addon();
    const h1 = model(50);
    const h2 = model(50);
    const h3 = model(50);
    const b = tokenBatch(4, 3, 51);
    const expected = a.modelRunSync(h1, 0, ...packBatch(b));
    const expectedParams = a.modelGetParams(h1);

    const copy = { ...b, tokens: b.tokens!.slice(), targets: b.targets!.slice() };
    const [bytes, arrays] = packBatch(copy);
    const p2 = a.modelRun(h2, 0, bytes, arrays);
    copy.tokens.fill(1 << 30); // beyond vocab: C would refuse it if it read these
    copy.targets.fill(-7);
    bytes.fill(0xff); // T, B = -1
    arrays[arrayIndex('tokens')] = undefined;
    expect(await p2).toEqual(expected);
    expect(a.modelGetParams(h2)).toEqual(expectedParams);

    const copy3 = { ...b, tokens: b.tokens!.slice(), targets: b.targets!.slice() };
    const [bytes3, arrays3] = packBatch(copy3);
    const p3 = a.modelRun(h3, 0, bytes3, arrays3);
    detach(copy3.tokens);
    detach(copy3.targets);
    detach(bytes3);
    expect(await p3).toEqual(expected);
    expect(a.modelGetParams(h3)).toEqual(expectedParams);
    for (const h of [h1, h2, h3]) a.modelDispose(h);
  });
});

describe('native addon: what an asynchronous call uses stays alive', () => {
  it('the stack and the inputs stay alive while in flight even if the caller drops them', async () => {
    const a = addon();
    const h = bigStack(a);
    const expected = forwardSync(h, request(64, 4));
    // Only the promise is kept: the handle and the request are garbage once this returns.
    const pending = (() => {
      const h2 = bigStack(a);
      return forward(h2, request(64, 4));
    })();
    collectGarbage();
    const got = await pending;
    collectGarbage();
    expect(got).toEqual(expected);
    a.stackDispose(h);
  });

  it('the model stays alive while a run is in flight even if the caller drops it', async () => {
    const a = addon();
    const b = tokenBatch(64, 4, 52);
    const h = model(53);
    const expected = a.modelRunSync(h, 2, ...packBatch(b));
    const pending = (() => a.modelRun(model(53), 2, ...packBatch(b)))();
    collectGarbage();
    const got = await pending;
    collectGarbage();
    expect(got).toEqual(expected);
    a.modelDispose(h);
  });

  it('outputs are fresh arrays per call, owned by the caller', async () => {
    const a = addon();
    const h = createStack(LSTM);
    const n = sequenceShapes(LSTM, 2, 1);
    const x = randomF32(n.x, 54);
    const r1 = await a.stackForward(h, 2, 1, false, x);
    const r2 = await a.stackForward(h, 2, 1, false, x);
    expect(r1.y).not.toBe(r2.y);
    r1.y!.fill(7);
    expect(r2.y).toEqual(a.stackForwardSync(h, 2, 1, false, x).y);
    a.stackDispose(h);
  });
});
