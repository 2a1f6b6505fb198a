/**
 * The case table: every cell (jordan included) × 1–2 layers × uni/bidirectional, at odd
 * sizes (1, 3, 7, 17, 33, 65 each appear for I, H, B and T; SIMD tails are where kernels
 * break), with random parameters, inputs, and sometimes initial state, lengths and dhn/dcn.
 * Each named backend runs forward + backward in float32 through the Backend interface and
 * is compared with the float64 reference core on the same numbers.
 */
import { describe, expect, it } from 'vitest';
import { CELL_TYPES, type StackSpec } from '../../src/backend/backend.js';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward } from '../../src/backend/reference/sequence.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';
import { caseName, randomCase } from '../helpers/cases.js';
import { expectClose } from '../helpers/compare.js';
import { runOnBackend, tensorOf, type CaseInputs, type CaseOutputs } from '../helpers/run.js';
import { BACKEND_F32_VS_REFERENCE, scaledBound } from '../helpers/tolerances.js';

/**
 * Shapes (I, H, B, T). Each of 1, 3, 7, 17, 33, 65 occurs in every column; the large sizes
 * are paired with small ones so the whole table stays fast on the reference backend.
 */
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [3, 7, 3, 17],
  [7, 3, 17, 7],
  [17, 17, 1, 3],
  [33, 3, 7, 1],
  [65, 7, 3, 3],
  [3, 33, 1, 7],
  [7, 65, 2, 3],
  [1, 17, 33, 3],
  [3, 3, 65, 2],
  [17, 7, 2, 33],
  [7, 3, 3, 65],
  [33, 17, 7, 7],
  [1, 33, 3, 17],
  [17, 65, 3, 33],
  [65, 65, 3, 17],
  [33, 33, 17, 33],
];
/** Jordan output widths O, cycled through so O ≠ H is covered. */
const OUTPUT_SIZES = [3, 1, 7, 17, 33, 65, 5];
const CONFIGS: [number, boolean][] = [
  [1, false],
  [1, true],
  [2, false],
  [2, true],
];

/**
 * Two rounds over cells × configs (56 cases); round r shifts the shape list by 8·r so each
 * cell meets different shapes in the two rounds. Each round has 28 ≥ 17 cases, so every
 * shape is used.
 */
function buildTable(): CaseInputs[] {
  const table: CaseInputs[] = [];
  for (const round of [0, 1]) {
    CELL_TYPES.forEach((cell, ci) => {
      CONFIGS.forEach(([layers, bidirectional], k) => {
        const i = ci * CONFIGS.length + k;
        const n = round * 100 + i; // seed offset and option selector
        const [I, H, B, T] = SHAPES[(i + 8 * round) % SHAPES.length];
        const spec: StackSpec = {
          cell,
          inputSize: I,
          hiddenSize: H,
          outputSize: cell === 'jordan' ? OUTPUT_SIZES[(i + round) % OUTPUT_SIZES.length] : H,
          layers,
          bidirectional,
        };
        table.push(
          randomCase(spec, {
            seed: 1000 + n,
            steps: T,
            batch: B,
            withState: (i + round) % 3 !== 0,
            withLengths: (i + round) % 3 === 1 || i % 4 === 3,
            withFinalGrad: (i + round) % 2 === 0,
          }),
        );
      });
    });
  }
  return table;
}

const TABLE = buildTable();

function expected(c: CaseInputs): CaseOutputs {
  const fwd = referenceForward(c.spec, c.params, c);
  const bwd = referenceBackward(c.spec, c.params, fwd.tape, c);
  return { ...fwd, ...bwd };
}

describe('case table coverage', () => {
  it('covers every cell, depth, direction and every odd size in every dimension', () => {
    for (const cell of CELL_TYPES) {
      for (const [layers, bi] of CONFIGS) {
        expect(TABLE.some((c) => c.spec.cell === cell && c.spec.layers === layers && c.spec.bidirectional === bi)).toBe(true);
      }
    }
    const dims: ((c: CaseInputs) => number)[] = [(c) => c.spec.inputSize, (c) => c.spec.hiddenSize, (c) => c.batch, (c) => c.steps];
    for (const size of [1, 3, 7, 17, 33, 65]) {
      dims.forEach((dim, d) => expect(TABLE.some((c) => dim(c) === size), `size ${size} in dimension ${'IHBT'[d]}`).toBe(true));
    }
    expect(TABLE.some((c) => c.lengths)).toBe(true);
    expect(TABLE.some((c) => c.spec.cell === 'jordan' && c.spec.outputSize !== c.spec.hiddenSize)).toBe(true);
  });
});

for (const name of requestedBackends()) {
  describeBackend(name, (backend) => {
    for (const c of TABLE) {
      it(`${caseName(c)} [${name}]`, async () => {
        const want = expected(c);
        const got = await runOnBackend(backend(), c);
        const id = caseName(c);
        const { forwardRel, gradRel } = BACKEND_F32_VS_REFERENCE;
        expectClose(`${id} y`, got.y, want.y, scaledBound(forwardRel, want.y));
        expectClose(`${id} hn`, got.hn, want.hn, scaledBound(forwardRel, want.hn));
        if (want.cn) expectClose(`${id} cn`, got.cn, want.cn, scaledBound(forwardRel, want.cn));
        expectClose(`${id} grad x`, got.dx, want.dx, scaledBound(gradRel, want.dx));
        expectClose(`${id} grad h0`, got.dh0, want.dh0, scaledBound(gradRel, want.dh0));
        if (want.dc0) expectClose(`${id} grad c0`, got.dc0, want.dc0, scaledBound(gradRel, want.dc0));
        for (const e of paramLayout(c.spec).entries) {
          const w = tensorOf(c.spec, want.grads, e.name);
          expectClose(`${id} grad ${e.name}`, tensorOf(c.spec, got.grads, e.name), w, scaledBound(gradRel, w));
        }
      });
    }
  });
}
