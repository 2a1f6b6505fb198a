/**
 * Finite-difference checks of the float64 reference core's backward pass: for every cell
 * (jordan included), as a 1-layer network and as a 2-layer bidirectional network with
 * variable lengths, sampled entries of every parameter tensor and of x, h0, c0 are checked
 * against central differences of L = sum(y·dy) + sum(hn·dhn) + sum(cn·dcn).
 */
import { describe, it } from 'vitest';
import { CELL_TYPES, type CellType, type StackSpec } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward } from '../../src/backend/reference/sequence.js';
import { caseName, randomCase } from '../helpers/cases.js';
import { dot, expectGradientMatches, sampleIndices } from '../helpers/fd.js';
import { Rng } from '../helpers/random.js';
import type { CaseInputs } from '../helpers/run.js';

function lossOf(c: CaseInputs): number {
  const out = referenceForward(c.spec, c.params, c);
  return dot(out.y, c.dy) + dot(out.hn, c.dhn) + (out.cn ? dot(out.cn, c.dcn) : 0);
}

/** Checks every parameter tensor, x, h0 and c0 of case `c` by finite differences. */
function checkCase(c: CaseInputs, seed: number): void {
  const fwd = referenceForward(c.spec, c.params, c);
  const g = referenceBackward(c.spec, c.params, fwd.tape, c);
  const rng = new Rng(seed);
  const loss = () => lossOf(c);
  const id = caseName(c);
  for (const e of paramLayout(c.spec).entries) {
    // Perturb inside the flat array, at entries of this tensor only.
    const idx = sampleIndices(e.size, 4, rng).map((i) => e.offset + i);
    expectGradientMatches(`${id} ${e.name}`, c.params, g.grads, loss, idx);
  }
  expectGradientMatches(`${id} x`, c.x, g.dx, loss, sampleIndices(c.x.length, 6, rng));
  if (c.h0) expectGradientMatches(`${id} h0`, c.h0, g.dh0, loss, sampleIndices(c.h0.length, 6, rng));
  if (c.c0) expectGradientMatches(`${id} c0`, c.c0, g.dc0 as Float64Array, loss, sampleIndices(c.c0.length, 6, rng));
}

function spec(cell: CellType, layers: number, bidirectional: boolean, I: number, H: number, O = H): StackSpec {
  return { cell, inputSize: I, hiddenSize: H, outputSize: cell === 'jordan' ? O : H, layers, bidirectional };
}

describe('finite differences: reference core, 1 layer', () => {
  CELL_TYPES.forEach((cell, ci) => {
    it(cell, () => {
      const c = randomCase(spec(cell, 1, false, 3, 5, 4), {
        seed: 200 + ci,
        steps: 4,
        batch: 2,
        withState: true,
        withFinalGrad: true,
      });
      checkCase(c, 300 + ci);
    });
  });
});

describe('finite differences: reference core, 2 layers bidirectional with lengths', () => {
  CELL_TYPES.forEach((cell, ci) => {
    it(cell, () => {
      const c = randomCase(spec(cell, 2, true, 4, 3, 2), {
        seed: 400 + ci,
        steps: 5,
        batch: 3,
        withState: true,
        withFinalGrad: true,
      });
      c.lengths = Int32Array.from([5, 1, 3]); // unsorted; one full, one of length 1
      checkCase(c, 500 + ci);
    });
  });
});
