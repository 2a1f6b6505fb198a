/**
 * The float64 reference core wrapped as a stateful runner (tape + accumulated gradients),
 * so truncated BPTT can run on it in float64 for finite-difference checks and as the
 * expected value for backends.
 */
import type { StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward, type ReferenceTape } from '../../src/backend/reference/sequence.js';
import type { WindowRunner } from '../../src/tbptt.js';

export interface Reference64Runner extends WindowRunner<Float64Array> {
  /** Sum of the parameter gradients of every backward so far. */
  grads: Float64Array;
}

export function reference64Runner(spec: StackSpec, params: Float64Array): Reference64Runner {
  let tape: ReferenceTape | undefined;
  const grads = new Float64Array(paramLayout(spec).total);
  return {
    grads,
    forward(req) {
      const out = referenceForward(spec, params, req);
      tape = out.tape;
      return out;
    },
    backward(req) {
      if (!tape) throw new Error('backward before forward');
      const out = referenceBackward(spec, params, tape, req);
      for (let i = 0; i < grads.length; i++) grads[i] += out.grads[i];
      return out;
    },
  };
}
