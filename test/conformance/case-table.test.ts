/**
 * The case table: every cell (jordan included) × 1–2 layers × uni/bidirectional, at odd
 * sizes (1, 3, 7, 17, 33, 65 each appear for I, H, B and T; SIMD tails are where kernels
 * break), with random parameters, inputs, and sometimes initial state, lengths and dhn/dcn.
 * Each named backend runs forward + backward in float32 through the Backend interface and
 * is compared with the float64 reference core on the same numbers.
 */
import { describe, expect, it } from 'vitest';
import { CELL_TYPES } from '../../src/backend/contract.js';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward } from '../../src/backend/reference/sequence.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';
import { buildCaseTable, CONFIGS } from '../helpers/case-table.js';
import { caseName } from '../helpers/cases.js';
import { expectClose } from '../helpers/compare.js';
import { runOnBackend, tensorOf, type CaseInputs, type CaseOutputs } from '../helpers/run.js';
import { BACKEND_F32_VS_REFERENCE, scaledBound } from '../helpers/tolerances.js';

const TABLE = buildCaseTable();

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
