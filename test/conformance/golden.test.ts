/**
 * Golden conformance: every backend named in RNNKIT_BACKENDS × every golden case
 * (shared/golden, PyTorch float64), forward and backward, at the README's float32
 * tolerances; and the float64 reference core itself at 1e-12.
 */
import { describe, expect, it } from 'vitest';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceBackward, referenceForward } from '../../src/backend/reference/sequence.js';
import { describeBackend, requestedBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/compare.js';
import { goldenDir, loadGoldenCases, type GoldenCase } from '../helpers/golden.js';
import { runOnBackend, tensorOf, type CaseOutputs } from '../helpers/run.js';
import { GOLDEN_F32, REFERENCE_F64_VS_GOLDEN, scaledBound } from '../helpers/tolerances.js';

const cases = loadGoldenCases();

function checkForward(c: GoldenCase, out: CaseOutputs, forwardAbs: number) {
  expectClose(`${c.id} y`, out.y, c.y, forwardAbs);
  expectClose(`${c.id} hn`, out.hn, c.hn, forwardAbs);
  if (c.cn) expectClose(`${c.id} cn`, out.cn, c.cn, forwardAbs);
  else expect(out.cn, `${c.id}: cn must be absent for ${c.spec.cell}`).toBeUndefined();
}

function checkBackward(c: GoldenCase, out: CaseOutputs, gradRel: number) {
  expectClose(`${c.id} grad x`, out.dx, c.dx, scaledBound(gradRel, c.dx));
  expectClose(`${c.id} grad h0`, out.dh0, c.dh0, scaledBound(gradRel, c.dh0));
  if (c.dc0) expectClose(`${c.id} grad c0`, out.dc0, c.dc0, scaledBound(gradRel, c.dc0));
  for (const e of paramLayout(c.spec).entries) {
    const expected = c.paramGrads.get(e.name) as Float64Array;
    expectClose(`${c.id} grad ${e.name}`, tensorOf(c.spec, out.grads, e.name), expected, scaledBound(gradRel, expected));
  }
}

describe(`golden cases from ${goldenDir()}`, () => {
  it('the case set is present and complete', () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(new Set(cases.map((c) => c.id)).size, 'case ids are unique').toBe(cases.length);
  });
});

describe('float64 reference core vs golden (1e-12)', () => {
  for (const c of cases) {
    it(c.id, () => {
      const fwd = referenceForward(c.spec, c.params, { x: c.x, steps: c.steps, batch: c.batch, h0: c.h0, c0: c.c0 });
      const bwd = referenceBackward(c.spec, c.params, fwd.tape, { dy: c.dy, dhn: c.dhn, dcn: c.dcn });
      const out: CaseOutputs = { ...fwd, ...bwd };
      checkForward(c, out, REFERENCE_F64_VS_GOLDEN.forwardAbs);
      checkBackward(c, out, REFERENCE_F64_VS_GOLDEN.gradRel);
    });
  }
});

for (const name of requestedBackends()) {
  describeBackend(name, (backend) => {
    for (const c of cases) {
      describe(`golden ${c.id} [${name}]`, () => {
        let run: Promise<CaseOutputs> | undefined;
        const outputs = () => (run ??= runOnBackend(backend(), c));
        it('forward y, hn, cn', async () => {
          checkForward(c, await outputs(), GOLDEN_F32.forwardAbs);
        });
        it('backward dx, dh0, dc0 and every weight gradient', async () => {
          checkBackward(c, await outputs(), GOLDEN_F32.gradRel);
        });
      });
    }
  });
}
