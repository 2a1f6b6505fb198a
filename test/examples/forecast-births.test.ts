// examples/forecast-births.mjs: 2003's errors of the LSTM and of the seasonal-naive
// forecast, in births per day. Every backend runs tiny settings (sane, finite output; the
// naive errors are fixed by the data); native and wasm also run the example's default
// settings (a few seconds there), where the LSTM must beat seasonal-naive clearly.
import { describe, expect, it } from 'vitest';
import { numbersOf, requestedBackends, runExample } from './run-example.js';

function errorsOf(out: string, backend: string) {
  const [lstmMae, lstmRmse] = numbersOf(out, new RegExp(`^ {2}LSTM +MAE ([\\d.]+) +RMSE ([\\d.]+) +on ${backend}$`, 'm'));
  const [naiveMae, naiveRmse] = numbersOf(out, /^ {2}seasonal naive MAE ([\d.]+) +RMSE ([\d.]+) /m);
  for (const v of [lstmMae, lstmRmse, naiveMae, naiveRmse]) expect(Number.isFinite(v)).toBe(true);
  expect(lstmRmse).toBeGreaterThanOrEqual(lstmMae);
  // The naive forecast depends on the data alone.
  expect(naiveMae).toBe(447.0);
  expect(naiveRmse).toBe(957.4);
  return { lstmMae, lstmRmse, naiveMae, naiveRmse };
}

describe('examples/forecast-births.mjs', () => {
  for (const backend of requestedBackends()) {
    it(`prints 2003's errors, tiny settings (${backend})`, async () => {
      const out = await runExample('forecast-births', ['--hidden', '8', '--epochs', '4', '--days', '14', '--lr', '0.01', '--backend', backend]);
      expect(out).toMatch(/^3652 days, 1994–2003: \d+ training windows of 14 days \(1994–2001\), 365 validation days \(2002\), 365 test days \(2003\)$/m);
      expect(out).toMatch(/^kept epoch [1-4] \(the lowest 2002 loss; MAE \d+ births\/day\)/m);
      const e = errorsOf(out, backend);
      // Far better than a constant forecast (about 1,500 births/day off) after 4 short epochs.
      expect(e.lstmMae).toBeLessThan(1000);
    });

    if (backend === 'native' || process.env.RNNKIT_EXAMPLES_FULL === '1') {
      it(`beats seasonal-naive with the default settings (${backend})`, async () => {
        const out = await runExample('forecast-births', ['--backend', backend], 3_600_000);
        const e = errorsOf(out, backend);
        expect(e.lstmMae).toBeLessThan(0.8 * e.naiveMae);
        expect(e.lstmRmse).toBeLessThan(e.naiveRmse);
      }, 3_600_000);
    }
  }
});
