/**
 * The asynchronous calls: they run off the event loop, one at a time per stack (a second
 * call on a busy stack is refused with ERR_RNNKIT_BUSY, not queued), and keep what they
 * use alive until they settle.
 */
import { describe, expect, it } from 'vitest';
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import type { NativeAddon } from '../../src/backend/native/backend.js';
import { addon, collectGarbage, LSTM, randomF32 } from './native-helpers.js';

const BIG: StackSpec = { cell: 'lstm', inputSize: 128, hiddenSize: 128, outputSize: 128, layers: 1, bidirectional: false };

function bigStack(a: NativeAddon) {
  const h = a.create(BIG);
  a.setParams(h, randomF32(paramLayout(BIG).total, 11, 0.05));
  return h;
}

function request(steps: number, batch: number, training = false) {
  return { x: randomF32(sequenceShapes(BIG, steps, batch).x, 12), steps, batch, training };
}

/** Ticks of a 1 ms interval counted while `run` is pending, and how long it took. */
async function ticksDuring(run: () => Promise<unknown>): Promise<{ ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return { ticks, ms: performance.now() - t0 };
}

describe('native addon: asynchronous calls', () => {
  it('the event loop keeps running during a long forward (and is blocked by forwardSync, the control)', async () => {
    const a = addon();
    a.setThreads(1);
    const h = bigStack(a);
    // Grow the sequence until one forward takes ≥ 60 ms, so that a 1 ms timer has many
    // chances to fire; a forward that blocked the loop would let it fire zero times.
    let steps = 32;
    let blocked = { ticks: 0, ms: 0 };
    for (; steps <= 1 << 16; steps *= 2) {
      const req = request(steps, 8);
      blocked = await ticksDuring(async () => a.forwardSync(h, req));
      if (blocked.ms >= 60) break;
    }
    expect(blocked.ms, 'a forward long enough to measure').toBeGreaterThanOrEqual(60);
    expect(blocked.ticks, 'forwardSync blocks the loop').toBe(0);
    const req = request(steps, 8);
    const free = await ticksDuring(() => a.forward(h, req));
    expect(free.ms).toBeGreaterThanOrEqual(30);
    expect(free.ticks, `ticks during a ${free.ms.toFixed(0)} ms async forward`).toBeGreaterThanOrEqual(1);
    a.setThreads(0);
    a.dispose(h);
  });

  it('a second call on a stack with a call in flight is refused with ERR_RNNKIT_BUSY; the first completes', async () => {
    const a = addon();
    const h = bigStack(a);
    const first = a.forward(h, request(64, 4, true));
    const busy = (fn: () => unknown) => {
      let err: { code?: string; message?: string } | undefined;
      try {
        fn();
      } catch (e) {
        err = e as { code?: string };
      }
      expect(err?.code, `expected ERR_RNNKIT_BUSY from ${fn.toString()}`).toBe('ERR_RNNKIT_BUSY');
      expect(err?.message).toMatch(/stack is busy/);
    };
    busy(() => a.forward(h, request(8, 4)));
    busy(() => a.forwardSync(h, request(8, 4)));
    busy(() => a.backward(h, { dy: new Float32Array(64 * 4 * 128) }));
    busy(() => a.getParams(h));
    busy(() => a.setParams(h, new Float32Array(paramLayout(BIG).total)));
    busy(() => a.zeroGrads(h));
    busy(() => a.dispose(h));
    const out = await first;
    expect(out.y.length).toBe(sequenceShapes(BIG, 64, 4).y);
    // Settled: the stack takes calls again, and the training forward is the one backward uses.
    const g = await a.backward(h, { dy: randomF32(sequenceShapes(BIG, 64, 4).y, 13) });
    expect(g.dx.length).toBe(sequenceShapes(BIG, 64, 4).x);
    a.dispose(h);
  });

  it('thread count and ISA cannot change while a computation is in flight', async () => {
    const a = addon();
    const h = bigStack(a);
    const threads = a.getThreads();
    const isa = a.isa();
    // Long enough (≥ 100 ms here) that it is surely still computing when we try.
    const p = a.forward(h, request(4096, 8));
    expect(() => a.setThreads(1)).toThrow(/thread count cannot change while a forward or backward is running/);
    expect(() => a.forceIsa('scalar')).toThrow(/ISA path cannot change/);
    await p;
    expect(a.getThreads()).toBe(threads);
    expect(a.isa()).toBe(isa);
    a.setThreads(threads); // allowed again once nothing runs
    a.dispose(h);
  });

  it('different stacks run concurrently and give the results they give alone', async () => {
    const a = addon();
    const h1 = bigStack(a);
    const h2 = bigStack(a);
    const r1 = request(48, 3);
    const r2 = { ...request(40, 2), x: randomF32(sequenceShapes(BIG, 40, 2).x, 14) };
    const alone1 = a.forwardSync(h1, r1);
    const alone2 = a.forwardSync(h2, r2);
    const [c1, c2] = await Promise.all([a.forward(h1, r1), a.forward(h2, r2)]);
    expect(c1).toEqual(alone1);
    expect(c2).toEqual(alone2);
    a.dispose(h1);
    a.dispose(h2);
  });

  it('async and sync results are identical, and a failed check rejects nothing half-done', async () => {
    const a = addon();
    const h = a.create(LSTM);
    a.setParams(h, randomF32(paramLayout(LSTM).total, 15, 0.3));
    const n = sequenceShapes(LSTM, 5, 2);
    const req = { x: randomF32(n.x, 16), steps: 5, batch: 2, h0: randomF32(n.h, 17), c0: randomF32(n.c, 18), training: true };
    const s = a.forwardSync(h, req);
    const gs = a.backwardSync(h, { dy: randomF32(n.y, 19) });
    const as = await a.forward(h, req);
    const ga = await a.backward(h, { dy: randomF32(n.y, 19) });
    expect(as).toEqual(s);
    expect(ga).toEqual(gs);
    a.dispose(h);
  });

  it('inputs and the stack stay alive while in flight even if the caller drops them', async () => {
    const a = addon();
    const h = bigStack(a);
    const expected = a.forwardSync(h, request(64, 4));
    // Only the promise is kept: the handle and the request are garbage once this returns.
    const pending = (() => {
      const h2 = bigStack(a);
      return a.forward(h2, request(64, 4));
    })();
    collectGarbage();
    const got = await pending;
    expect(got).toEqual(expected);
    a.dispose(h);
  });
});
