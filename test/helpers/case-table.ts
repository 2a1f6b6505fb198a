/**
 * The conformance case table: every cell (jordan included) × 1–2 layers × uni/bidirectional
 * at odd sizes, with random parameters, inputs and sometimes initial state, lengths and
 * dhn/dcn. Used by test/conformance/case-table.test.ts; exported so other harnesses (e.g.
 * a benchmark or a native unit test generator) can run the same cases.
 */
import { CELL_TYPES, type StackSpec } from '../../src/backend/contract.js';
import { randomCase } from './cases.js';
import type { CaseInputs } from './run.js';

/**
 * Shapes (I, H, B, T). Each of 1, 3, 7, 17, 33, 65 occurs in every column; the large sizes
 * are paired with small ones so the whole table stays fast on the reference backend.
 */
export const SHAPES: [number, number, number, number][] = [
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
  // Tile sizes and their neighbours (XNNPACK's "tile ± 1"): 8, 15, 16, 31, 63, 64.
  [16, 8, 4, 5],
  [15, 16, 5, 9],
  [31, 64, 2, 5],
  [64, 31, 4, 3],
  [63, 15, 8, 4],
];
/** Jordan output widths O, cycled through so O ≠ H is covered. */
const OUTPUT_SIZES = [3, 1, 7, 17, 33, 65, 5];
export const CONFIGS: [number, boolean][] = [
  [1, false],
  [1, true],
  [2, false],
  [2, true],
];

/**
 * Two rounds over cells × configs (56 cases); round r shifts the shape list by 8·r so each
 * cell meets different shapes in the two rounds. Each round has 28 ≥ 22 cases, so every
 * shape is used.
 */
export function buildCaseTable(): CaseInputs[] {
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

