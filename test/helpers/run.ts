/**
 * Running one case through a Backend (float32, the public contract) and through the float64
 * reference core, with the same inputs, so the suites can compare the two.
 */
import type { Backend, StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';

export interface CaseInputs {
  spec: StackSpec;
  steps: number;
  batch: number;
  params: Float64Array;
  x: Float64Array;
  h0?: Float64Array;
  c0?: Float64Array;
  lengths?: Int32Array;
  dy: Float64Array;
  dhn?: Float64Array;
  dcn?: Float64Array;
}

export interface CaseOutputs {
  y: ArrayLike<number>;
  hn: ArrayLike<number>;
  cn?: ArrayLike<number>;
  dx: ArrayLike<number>;
  dh0: ArrayLike<number>;
  dc0?: ArrayLike<number>;
  /** Parameter gradients, flat in paramLayout order. */
  grads: ArrayLike<number>;
}

const f32 = (a: Float64Array | undefined) => (a ? Float32Array.from(a) : undefined);

/** Forward (training) then backward on a fresh stack of `backend`; the stack is disposed. */
export async function runOnBackend(backend: Backend, c: CaseInputs): Promise<CaseOutputs> {
  const stack = backend.createStack(c.spec);
  try {
    backend.setParams(stack, Float32Array.from(c.params));
    const fwd = await backend.forward(stack, {
      x: Float32Array.from(c.x),
      steps: c.steps,
      batch: c.batch,
      h0: f32(c.h0),
      c0: f32(c.c0),
      lengths: c.lengths,
      training: true,
    });
    const bwd = await backend.backward(stack, { dy: Float32Array.from(c.dy), dhn: f32(c.dhn), dcn: f32(c.dcn) });
    const grads = backend.getGrads(stack);
    if (grads.length !== paramLayout(c.spec).total) {
      throw new RangeError(`getGrads returned ${grads.length} values; layout has ${paramLayout(c.spec).total}`);
    }
    return { ...fwd, ...bwd, grads };
  } finally {
    backend.dispose(stack);
  }
}

/** The parameter tensor `name` of a flat parameter (or gradient) array. */
export function tensorOf(spec: StackSpec, flat: ArrayLike<number>, name: string): number[] {
  const e = paramLayout(spec).entries.find((p) => p.name === name);
  if (!e) throw new RangeError(`no parameter ${name}`);
  return Array.from({ length: e.size }, (_, i) => flat[e.offset + i]);
}
