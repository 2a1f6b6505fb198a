/**
 * Dropout masks of one training step, drawn in a fixed order from one seeded stream so
 * that every backend can reproduce them exactly:
 *
 *   stream = Random(dropoutSeed)   (xoshiro128**, src/init/random.ts)
 *   for each stack the step runs (encoder first, then decoder/main):
 *     input mask:   if p_input > 0, one draw per element of the input rows [N][width]
 *                   (time-major; the conditioning columns are never dropped, no draw)
 *     between masks: if p_between > 0, for layers l = 0 … L−2 one draw per element of
 *                   layer l's output [T][B][D·S]
 *   element kept  ⇔ uniform() ≥ p, and then multiplied by 1/(1 − p); dropped → 0.
 */
import type { DropoutSpec } from '../../contract.js';
import { Random } from '../../../init/random.js';

/** The masks of one step, drawn in the order described above. */
export class DropoutMasks {
  private readonly rng: Random;
  constructor(private readonly spec: DropoutSpec, seed: number) {
    this.rng = new Random(seed);
  }

  /** Mask for input rows [N][width + K]; K conditioning columns stay 1. Undefined if p = 0. */
  input(N: number, width: number, K: number): Float64Array | undefined {
    const p = this.spec.input;
    if (!(p > 0)) return undefined;
    const W = width + K;
    const mask = new Float64Array(N * W).fill(1);
    const keep = 1 / (1 - p);
    for (let n = 0; n < N; n++) for (let k = 0; k < width; k++) mask[n * W + k] = this.rng.uniform() >= p ? keep : 0;
    return mask;
  }

  /** The between-layer mask generator for one stack, or undefined if p = 0. */
  betweenFn(): ((layer: number, n: number) => Float64Array) | undefined {
    const p = this.spec.between;
    if (!(p > 0)) return undefined;
    const keep = 1 / (1 - p);
    return (_layer: number, n: number) => Float64Array.from({ length: n }, () => (this.rng.uniform() >= p ? keep : 0));
  }
}
