/**
 * Guarantee 6 — validation checks the bytes the backend reads.
 *
 * (a) A Proxy over a Float32Array that reports 0.5 at every index while the target holds
 *     NaN: forward throws a TypeError naming x, or computes with finite outputs only.
 * (b) A Float32Array subclass whose `length` getter lies (more or fewer elements than it
 *     really has; NaN in the real bytes): a TypeError or RangeError naming the parameter —
 *     never NaN in the output, never a crash.
 * (c) A view with a byteOffset into a larger buffer computes exactly what a fresh copy does.
 */
import { describe, expect, it } from 'vitest';
import { createStack, type BackendName, type ForwardResult, type RecurrentStack } from '../../src/index.js';
import { describeError, expectArgumentError, expectFinite, expectSameFloats, forEachBackend, outcome, values } from './backends.js';

const STACK = { cell: 'gru', inputSize: 3, hiddenSize: 4 } as const;
const T = 4;
const B = 2;
const N = T * B * STACK.inputSize;
const X = values(N, 31);
const H0 = values(B * STACK.hiddenSize, 32);
const DY = values(T * B * STACK.hiddenSize, 33);

async function newStack(backend: BackendName): Promise<RecurrentStack> {
  const s = await createStack({ ...STACK, backend });
  s.setFlatParameters(values(s.getFlatParameters().length, 34, 0.5));
  return s;
}

/** Reads 0.5 at every index through the proxy; the bytes underneath are NaN. */
function lyingProxy(n: number): Float32Array {
  const target = new Float32Array(n).fill(NaN);
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) return 0.5;
      const v = Reflect.get(t, key, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

/** The real `length` of a typed array, whatever a subclass says. */
const realLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float32Array.prototype), 'length')!.get!;

/** A Float32Array whose `length` getter reports `claimed` (when set) instead of the truth. */
class LyingLength extends Float32Array {
  claimed = -1;
}
Object.defineProperty(LyingLength.prototype, 'length', {
  get(this: LyingLength) {
    return this.claimed >= 0 ? this.claimed : realLength.call(this);
  },
});

function lyingLength(real: number, claimed: number, fill: (i: number) => number): Float32Array {
  const a = new LyingLength(real);
  for (let i = 0; i < real; i++) a[i] = fill(i);
  a.claimed = claimed;
  return a;
}

/** Either refused with a TypeError/RangeError naming `names`, or finite outputs only. */
function expectRefusedOrFinite(o: Awaited<ReturnType<typeof outcome<ForwardResult>>>, names: RegExp, what: string, mustRefuse: boolean): void {
  if (o.ok) {
    expect(mustRefuse, `${what} was accepted`).toBe(false);
    expectFinite(o.value.y, `${what}: y`);
    expectFinite(o.value.hn, `${what}: hn`);
  } else {
    expect(o.error instanceof TypeError || o.error instanceof RangeError, `${what}: ${describeError(o.error)}`).toBe(true);
    if (!mustRefuse) expect(o.error instanceof TypeError, `${what}: a proxy is refused with a TypeError; got ${describeError(o.error)}`).toBe(true);
    expectArgumentError(o.error, names, what);
  }
}

async function forwardOutcome(call: () => Promise<ForwardResult>) {
  try {
    return await outcome(call());
  } catch (error) {
    return { ok: false as const, error };
  }
}

function syncOutcome(call: () => ForwardResult) {
  try {
    return { ok: true as const, value: call() };
  } catch (error) {
    return { ok: false as const, error };
  }
}

forEachBackend((backend) => {
  describe('validation checks the bytes the backend reads', () => {
    it('(a) a Proxy reading 0.5 over NaN bytes: forward/forwardSync throw a TypeError naming x, or give finite outputs only', async () => {
      const s = await newStack(backend);
      expectRefusedOrFinite(await forwardOutcome(() => s.forward(lyingProxy(N), { steps: T, batch: B })), /\bx\b/, 'forward(proxy)', false);
      expectRefusedOrFinite(syncOutcome(() => s.forwardSync(lyingProxy(N), { steps: T, batch: B })), /\bx\b/, 'forwardSync(proxy)', false);
      expectRefusedOrFinite(
        await forwardOutcome(() => s.forward(X, { steps: T, batch: B, h0: lyingProxy(H0.length) })),
        /\bh0\b/,
        'forward(x, { h0: proxy })',
        false,
      );
      s.dispose();
    });

    // [description, the real length of an array that claims the expected length n]
    const lies: [string, (n: number) => number][] = [
      ['claims n, really holds n − 1 (NaN)', (n) => n - 1],
      ['claims n, really holds 0', () => 0],
      ['claims n, really holds 2n (NaN)', (n) => 2 * n],
      ['claims n, really holds n + 1 (NaN)', (n) => n + 1],
    ];
    for (const [label, real] of lies) {
      it(`(b) a Float32Array subclass whose length lies (${label}): a TypeError/RangeError naming x, never NaN, never a crash`, async () => {
        const s = await newStack(backend);
        const nan = () => NaN;
        const liar = (n: number) => lyingLength(real(n), n, nan);
        expectRefusedOrFinite(await forwardOutcome(() => s.forward(liar(N), { steps: T, batch: B })), /\bx\b/, 'forward', true);
        expectRefusedOrFinite(syncOutcome(() => s.forwardSync(liar(N), { steps: T, batch: B })), /\bx\b/, 'forwardSync', true);
        // The same lie in h0, with a valid x.
        expectRefusedOrFinite(
          await forwardOutcome(() => s.forward(X, { steps: T, batch: B, h0: liar(H0.length) })),
          /\bh0\b/,
          'forward(x, { h0 })',
          true,
        );
        // And in backward's dy.
        await s.forward(X, { steps: T, batch: B, training: true });
        const b = await outcome(s.backward({ dy: liar(DY.length) }));
        expect(b.ok, 'backward with a lying dy was accepted').toBe(false);
        if (!b.ok) expectArgumentError(b.error, /\bdy\b/, 'backward({ dy })');
        // Still usable afterwards.
        expectFinite((await s.forward(X, { steps: T, batch: B })).y, 'y after the refused calls');
        s.dispose();
      });
    }

    it('(b) a subclass claiming N while holding 2N values (finite first N, NaN after): refused naming x, or exactly the result of the first N', async () => {
      const s = await newStack(backend);
      const expected = await s.forward(X.slice(), { steps: T, batch: B });
      const lying = lyingLength(2 * N, N, (i) => (i < N ? X[i] : NaN));
      const o = await forwardOutcome(() => s.forward(lying, { steps: T, batch: B }));
      if (o.ok) {
        expectSameFloats(o.value.y, expected.y, 'y');
        expectSameFloats(o.value.hn, expected.hn, 'hn');
      } else {
        expectArgumentError(o.error, /\bx\b/, 'forward(lying subclass)');
      }
      s.dispose();
    });

    it('(c) views with a byteOffset into a larger buffer (NaN around them) compute exactly what fresh copies do', async () => {
      const s = await newStack(backend);
      const within = (a: Float32Array, before: number, after: number) => {
        const buffer = new ArrayBuffer((before + a.length + after) * 4);
        new Float32Array(buffer).fill(NaN);
        const view = new Float32Array(buffer, before * 4, a.length);
        view.set(a);
        return view;
      };
      const expected = await s.forward(X.slice(), { steps: T, batch: B, h0: H0.slice(), training: true });
      s.zeroGradients();
      const expectedBack = await s.backward({ dy: DY.slice() });
      const expectedGrads = s.getFlatGradients();

      const x = within(X, 5, 7);
      const h0 = within(H0, 1, 3);
      expect(x.byteOffset).toBe(20);
      const r = await s.forward(x, { steps: T, batch: B, h0, training: true });
      expectSameFloats(r.y, expected.y, 'y');
      expectSameFloats(r.hn, expected.hn, 'hn');
      s.zeroGradients();
      const back = await s.backward({ dy: within(DY, 3, 2) });
      expectSameFloats(back.dx, expectedBack.dx, 'dx');
      expectSameFloats(back.dh0, expectedBack.dh0, 'dh0');
      expectSameFloats(s.getFlatGradients(), expectedGrads, 'parameter gradients');
      const sync = s.forwardSync(within(X, 9, 0), { steps: T, batch: B, h0: within(H0, 0, 4) });
      expectSameFloats(sync.y, expected.y, 'forwardSync y');
      s.dispose();
    });
  });
});
