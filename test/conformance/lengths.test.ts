/**
 * Variable lengths mean pack_padded_sequence semantics. The golden per-cell cases have no
 * lengths, so this checks them against their definition instead: a batch with lengths must
 * give, for each sequence b, exactly what that sequence alone gives when run for
 * lengths[b] steps (y for t < lengths[b], hn, cn; dx, dh0, dc0), zeros at padded steps,
 * and parameter gradients equal to the sum over the sequences run alone.
 * Checked on the float64 reference core (at 1e-12) and on every backend named.
 */
import { describe, expect, it } from 'vitest';
import type { CellType, StackSpec } from '../../src/backend/contract.js';
import { CELL_TYPES } from '../../src/backend/contract.js';
import { hasCellState, paramLayout, sequenceShapes, stateSize } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward } from '../../src/backend/reference/sequence.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';
import { caseName, randomCase } from '../helpers/cases.js';
import { expectClose } from '../helpers/compare.js';
import { runOnBackend, type CaseInputs, type CaseOutputs } from '../helpers/run.js';
import { BACKEND_F32_VS_REFERENCE, scaledBound } from '../helpers/tolerances.js';

/** [T][B][w] → sequence b's first `steps` rows as [steps][1][w]. */
function takeSequence(a: Float64Array, T: number, B: number, w: number, b: number, steps: number): Float64Array {
  const out = new Float64Array(steps * w);
  for (let t = 0; t < steps; t++) out.set(a.subarray((t * B + b) * w, (t * B + b + 1) * w), t * w);
  return out;
}

/** [N][B][w] state → sequence b's [N][1][w]. */
function takeState(a: Float64Array | undefined, B: number, w: number, b: number): Float64Array | undefined {
  if (!a) return undefined;
  const n = a.length / (B * w);
  const out = new Float64Array(n * w);
  for (let e = 0; e < n; e++) out.set(a.subarray((e * B + b) * w, (e * B + b + 1) * w), e * w);
  return out;
}

/** The expected batch results, assembled from each sequence run alone on the float64 core. */
function assembleFromSingles(c: CaseInputs): CaseOutputs {
  const { spec, steps: T, batch: B } = c;
  const S = stateSize(spec);
  const H = spec.hiddenSize;
  const Y = sequenceShapes(spec, 1, 1).y; // D·S
  const I = spec.inputSize;
  const lstm = hasCellState(spec.cell);
  const shapes = sequenceShapes(spec, T, B);
  const out = {
    y: new Float64Array(shapes.y),
    hn: new Float64Array(shapes.h),
    cn: lstm ? new Float64Array(shapes.c) : undefined,
    dx: new Float64Array(shapes.x),
    dh0: new Float64Array(shapes.h),
    dc0: lstm ? new Float64Array(shapes.c) : undefined,
    grads: new Float64Array(paramLayout(spec).total),
  };
  const putState = (dst: Float64Array | undefined, src: Float64Array | undefined, w: number, b: number) => {
    if (!dst || !src) return;
    for (let e = 0; e < src.length / w; e++) dst.set(src.subarray(e * w, (e + 1) * w), (e * B + b) * w);
  };
  for (let b = 0; b < B; b++) {
    const len = c.lengths ? c.lengths[b] : T;
    const single = {
      x: takeSequence(c.x, T, B, I, b, len),
      steps: len,
      batch: 1,
      h0: takeState(c.h0, B, S, b),
      c0: takeState(c.c0, B, H, b),
    };
    const fwd = referenceForward(spec, c.params, single);
    const bwd = referenceBackward(spec, c.params, fwd.tape, {
      dy: takeSequence(c.dy, T, B, Y, b, len),
      dhn: takeState(c.dhn, B, S, b),
      dcn: takeState(c.dcn, B, H, b),
    });
    for (let t = 0; t < len; t++) {
      out.y.set(fwd.y.subarray(t * Y, (t + 1) * Y), (t * B + b) * Y);
      out.dx.set(bwd.dx.subarray(t * I, (t + 1) * I), (t * B + b) * I);
    }
    putState(out.hn, fwd.hn, S, b);
    putState(out.cn, fwd.cn, H, b);
    putState(out.dh0, bwd.dh0, S, b);
    putState(out.dc0, bwd.dc0, H, b);
    for (let i = 0; i < out.grads.length; i++) out.grads[i] += bwd.grads[i];
  }
  return out;
}

function check(id: string, got: CaseOutputs, want: CaseOutputs, fRel: number, gRel: number) {
  for (const k of ['y', 'hn', 'cn'] as const) if (want[k]) expectClose(`${id} ${k}`, got[k], want[k] as Float64Array, scaledBound(fRel, want[k] as Float64Array));
  for (const k of ['dx', 'dh0', 'dc0', 'grads'] as const) {
    if (want[k]) expectClose(`${id} ${k}`, got[k], want[k] as Float64Array, scaledBound(gRel, want[k] as Float64Array));
  }
}

function spec(cell: CellType, layers: number, bidirectional: boolean): StackSpec {
  return { cell, inputSize: 3, hiddenSize: 5, outputSize: cell === 'jordan' ? 4 : 5, layers, bidirectional };
}

const CASES: CaseInputs[] = CELL_TYPES.flatMap((cell, ci) =>
  ([[1, true], [2, true], [2, false]] as [number, boolean][]).map(([layers, bi], k) => {
    const c = randomCase(spec(cell, layers, bi), { seed: 2000 + 10 * ci + k, steps: 6, batch: 4, withState: k !== 2, withFinalGrad: true });
    c.lengths = Int32Array.from([[3, 6, 1, 5], [6, 2, 4, 1], [1, 1, 6, 3]][k]);
    return c;
  }),
);

describe('lengths = each sequence run alone (float64 reference core)', () => {
  for (const c of CASES) {
    it(caseName(c), () => {
      const fwd = referenceForward(c.spec, c.params, c);
      const bwd = referenceBackward(c.spec, c.params, fwd.tape, c);
      check(caseName(c), { ...fwd, ...bwd }, assembleFromSingles(c), 1e-12, 1e-12);
    });
  }
});

for (const name of requestedBackends()) {
  describeBackend(name, (backend) => {
    for (const c of CASES) {
      it(`lengths ${caseName(c)} [${name}]`, async () => {
        const got = await runOnBackend(backend(), c);
        check(caseName(c), got, assembleFromSingles(c), BACKEND_F32_VS_REFERENCE.forwardRel, BACKEND_F32_VS_REFERENCE.gradRel);
        // Padded outputs are exactly zero, not merely small.
        const Y = got.y.length / (c.steps * c.batch);
        for (let b = 0; b < c.batch; b++) {
          for (let t = (c.lengths as Int32Array)[b]; t < c.steps; t++) {
            for (let k = 0; k < Y; k++) expect(got.y[(t * c.batch + b) * Y + k], `y[${t}][${b}][${k}]`).toBe(0);
          }
        }
      });
    }
  });
}
