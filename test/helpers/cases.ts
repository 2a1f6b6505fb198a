/**
 * Random cases: a stack spec plus random parameters, inputs, states, lengths and incoming
 * gradients, all float32-representable so a float32 backend and the float64 core read the
 * same numbers. Draws follow the golden set's: weights uniform ±1/√H, x, dy, dhn, dcn
 * standard normal, h0, c0 normal with standard deviation 0.5.
 */
import type { StackSpec } from '../../src/backend/contract.js';
import { hasCellState, paramLayout, sequenceShapes } from '../../src/backend/layout.js';
import { Rng } from './random.js';
import type { CaseInputs } from './run.js';

export interface RandomCaseOptions {
  seed: number;
  steps: number;
  batch: number;
  /** Draw a non-zero h0 (and c0). */
  withState?: boolean;
  /** Draw lengths in 1..T (at least one sequence keeps all T steps when batch > 1). */
  withLengths?: boolean;
  /** Draw non-zero dhn (and dcn). */
  withFinalGrad?: boolean;
}

export function randomCase(spec: StackSpec, o: RandomCaseOptions): CaseInputs {
  const rng = new Rng(o.seed);
  const shapes = sequenceShapes(spec, o.steps, o.batch);
  const bound = 1 / Math.sqrt(spec.hiddenSize);
  const normal = (scale: number) => () => scale * rng.normal();
  const lstm = hasCellState(spec.cell);
  let lengths: Int32Array | undefined;
  if (o.withLengths) {
    lengths = Int32Array.from({ length: o.batch }, () => rng.int(1, o.steps));
    if (o.batch > 1) lengths[rng.int(0, o.batch - 1)] = o.steps;
  }
  return {
    spec,
    steps: o.steps,
    batch: o.batch,
    params: rng.f32Values(paramLayout(spec).total, () => rng.uniform(-bound, bound)),
    x: rng.f32Values(shapes.x, normal(1)),
    h0: o.withState ? rng.f32Values(shapes.h, normal(0.5)) : undefined,
    c0: o.withState && lstm ? rng.f32Values(shapes.c, normal(0.5)) : undefined,
    lengths,
    dy: rng.f32Values(shapes.y, normal(1)),
    dhn: o.withFinalGrad ? rng.f32Values(shapes.h, normal(1)) : undefined,
    dcn: o.withFinalGrad && lstm ? rng.f32Values(shapes.c, normal(1)) : undefined,
  };
}

/** A short, readable name for a case: cell-L2-bi-I3-H7-O5-B2-T4[-len][-h0][-dhn]. */
export function caseName(c: CaseInputs): string {
  const s = c.spec;
  return [
    s.cell,
    `L${s.layers}`,
    ...(s.bidirectional ? ['bi'] : []),
    `I${s.inputSize}`,
    `H${s.hiddenSize}`,
    ...(s.cell === 'jordan' ? [`O${s.outputSize}`] : []),
    `B${c.batch}`,
    `T${c.steps}`,
    ...(c.lengths ? ['len'] : []),
    ...(c.h0 ? ['h0'] : []),
    ...(c.dhn ? ['dhn'] : []),
  ].join('-');
}
