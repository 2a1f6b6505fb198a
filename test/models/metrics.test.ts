/** Evaluation metrics: hand-computed cases for every metric, counted positions, accumulation. */
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/backend/contract.js';
import type { EvalMetrics } from '../../src/models/model.js';
import { argmaxRow, countedRows, createMetrics, MAX_CONFUSION_CLASSES } from '../../src/models/metrics.js';
import type { MetricsSpec, ModelMetrics } from '../../src/models/metrics.js';

const ce = (C: number, ignoreIndex = -100, readout?: 'steps' | 'final_state'): MetricsSpec => ({ outputs: C, loss: { kind: 'cross_entropy', ignoreIndex }, readout });
const mse = (C: number, readout?: 'steps' | 'final_state'): MetricsSpec => ({ outputs: C, loss: { kind: 'mse' }, readout });

/** Logit rows, one per prediction: 2 at the predicted class, 0 elsewhere. */
function logitsFor(C: number, preds: number[]): Float32Array {
  const z = new Float32Array(preds.length * C);
  preds.forEach((p, r) => (z[r * C + p] = 2));
  return z;
}

/** A small deterministic generator (tests only). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function expectNoNaN(m: ModelMetrics): void {
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') expect(Number.isNaN(v), path).toBe(false);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(m, 'metrics');
}

describe('cross-entropy classification metrics', () => {
  // targets 0 0 0 1 1 2 2, predictions 0 0 1 1 2 2 2
  const targets = Int32Array.of(0, 0, 0, 1, 1, 2, 2);
  const preds = [0, 0, 1, 1, 2, 2, 2];

  it('3 classes: confusion matrix, accuracy, per-class precision / recall / F1 and macro averages', () => {
    const z = logitsFor(3, preds);
    z.set([1, 1, 0], 0); // a tie between classes 0 and 1: the first arg-max (0) is the prediction
    const acc = createMetrics(ce(3), { confusion: true });
    acc.add({ outputs: z, targets });
    const m = acc.result();
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 2],
    ]);
    expect(m.count).toBe(7);
    expect(m.positions).toBe(7);
    expect(m.accuracy).toBeCloseTo(5 / 7, 15);
    const pc = m.perClass!;
    expect(pc.map((c) => c.support)).toEqual([3, 2, 2]);
    expect(pc.map((c) => c.predicted)).toEqual([2, 2, 3]);
    expect(pc.map((c) => c.truePositives)).toEqual([2, 1, 2]);
    const close = (got: number[], want: number[]) => got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 15));
    close(pc.map((c) => c.precision), [1, 1 / 2, 2 / 3]);
    close(pc.map((c) => c.recall), [2 / 3, 1 / 2, 1]);
    close(pc.map((c) => c.f1), [4 / 5, 1 / 2, 4 / 5]); // 2PR/(P+R): class 0: 2·(2/3)/(5/3)
    expect(m.macro!.precision).toBeCloseTo(13 / 18, 15);
    expect(m.macro!.recall).toBeCloseTo(13 / 18, 15);
    expect(m.macro!.f1).toBeCloseTo(0.7, 15); // mean of the F1s, not F1 of the macro P and R
    expect(m.macro!.classes).toBe(3);
    expect(pc.map((c) => c.class)).toEqual([0, 1, 2]);
  });

  it('a class never predicted and a class never present: 0, never NaN; a class with neither leaves the macro mean', () => {
    // C = 5: targets 0 0 1 3, predictions 0 2 1 1; class 2 predicted but never present,
    // class 3 present but never predicted, class 4 neither.
    const m = (() => {
      const a = createMetrics(ce(5), { confusion: true });
      a.add({ outputs: logitsFor(5, [0, 2, 1, 1]), targets: Int32Array.of(0, 0, 1, 3) });
      return a.result();
    })();
    expectNoNaN(m);
    const pc = m.perClass!;
    expect(pc[2]).toEqual({ class: 2, support: 0, predicted: 1, truePositives: 0, precision: 0, recall: 0, f1: 0 });
    expect(pc[3]).toEqual({ class: 3, support: 1, predicted: 0, truePositives: 0, precision: 0, recall: 0, f1: 0 });
    expect(pc[4]).toEqual({ class: 4, support: 0, predicted: 0, truePositives: 0, precision: 0, recall: 0, f1: 0 });
    expect([pc[0].precision, pc[0].recall, pc[0].f1]).toEqual([1, 0.5, 2 / 3]);
    expect([pc[1].precision, pc[1].recall, pc[1].f1]).toEqual([0.5, 1, 2 / 3]);
    // scikit-learn average='macro', zero_division=0, labels = y_true ∪ y_pred = {0, 1, 2, 3}
    expect(m.macro!.classes).toBe(4);
    expect(m.macro!.precision).toBeCloseTo(3 / 8, 15);
    expect(m.macro!.recall).toBeCloseTo(3 / 8, 15);
    expect(m.macro!.f1).toBeCloseTo(1 / 3, 15);
    expect(m.accuracy).toBe(0.5);
    expect(m.confusion![3]).toEqual([0, 1, 0, 0, 0]);
    expect(m.confusion![4]).toEqual([0, 0, 0, 0, 0]);
  });

  it('computes the loss from the logits when no backend loss is given: perplexity = exp(loss), bits = loss / ln 2', () => {
    // row 0: uniform over 3 classes → ln 3; row 1: softmax([ln 2, 0, 0])[0] = 1/2 → ln 2
    const a = createMetrics(ce(3));
    a.add({ outputs: Float64Array.of(0, 0, 0, Math.log(2), 0, 0), targets: Int32Array.of(1, 0) });
    const m = a.result();
    expect(m.loss).toBeCloseTo(Math.log(6) / 2, 14);
    expect(m.perplexity).toBeCloseTo(Math.sqrt(6), 13);
    expect(m.bitsPerToken).toBeCloseTo(Math.log2(6) / 2, 14);
    expect(m.bitsPerToken).toBe(m.loss / Math.LN2);
    // logits far apart do not overflow: loss ≈ 1000 nats, perplexity overflows to Infinity (not NaN)
    const b = createMetrics(ce(2));
    b.add({ outputs: Float32Array.of(1000, 0), targets: Int32Array.of(1) });
    const big = b.result();
    expect(big.loss).toBeCloseTo(1000, 9);
    expect(big.perplexity).toBe(Infinity);
    expect(big.bitsPerToken).toBeCloseTo(1000 / Math.LN2, 6);
  });

  it('uses the backend’s loss, weighted by its count, as the loss; perplexity and bits follow it', () => {
    const a = createMetrics(ce(2));
    a.add({ outputs: logitsFor(2, [0, 1, 1, 0]), targets: Int32Array.of(0, 1, 0, 0), loss: { mean: 1.5, count: 4 } });
    a.add({ outputs: logitsFor(2, [1, 1]), targets: Int32Array.of(1, 0), loss: { mean: 0.5, count: 2 } });
    const m = a.result();
    expect(m.loss).toBeCloseTo((1.5 * 4 + 0.5 * 2) / 6, 15);
    expect(m.count).toBe(6);
    expect(m.perplexity).toBe(Math.exp(m.loss));
    expect(m.bitsPerToken).toBe(m.loss / Math.LN2);
    expect(m.accuracy).toBeCloseTo(4 / 6, 15);
    // a NaN mean with count 0 (the backend's "nothing counted") adds nothing
    a.add({ outputs: logitsFor(2, [1]), targets: Int32Array.of(-100), loss: { mean: NaN, count: 0 } });
    expect(a.result().loss).toBe(m.loss);
    // a huge backend loss: Infinity perplexity, never NaN
    const b = createMetrics(ce(2));
    b.add({ outputs: logitsFor(2, [0]), targets: Int32Array.of(1), loss: { mean: 800, count: 1 } });
    expect(b.result().perplexity).toBe(Infinity);
    expectNoNaN(b.result());
  });

  it('excludes ignore-index targets and rows outside `counted` from every metric', () => {
    const ignore = -1;
    const full = createMetrics(ce(3, ignore), { confusion: true });
    // rows: kept, ignored, masked, kept, masked — the excluded rows would all be wrong predictions
    full.add({
      outputs: Float32Array.of(3, 0, 0, 0, 9, 0, 0, 0, 9, 0, 1, 2, 9, 0, 0),
      targets: Int32Array.of(0, ignore, 1, 2, 2),
      counted: Uint8Array.of(1, 1, 0, 1, 0),
    });
    const only = createMetrics(ce(3, ignore), { confusion: true });
    only.add({ outputs: Float32Array.of(3, 0, 0, 0, 1, 2), targets: Int32Array.of(0, 2) });
    const m = full.result();
    expect(m).toEqual(only.result());
    expect(m.count).toBe(2);
    expect(m.accuracy).toBe(1);
    expect(m.perClass![1]).toMatchObject({ support: 0, predicted: 0 });
    expect(m.confusion).toEqual([[1, 0, 0], [0, 0, 0], [0, 0, 1]]);
    // a boolean mask works the same; masked rows may even hold an invalid target
    const bools = createMetrics(ce(3, ignore), { confusion: true });
    bools.add({ outputs: Float32Array.of(3, 0, 0, 0, 9, 0, 0, 1, 2), targets: Int32Array.of(0, 7, 2), counted: [true, false, true] });
    expect(bools.result()).toEqual(only.result());
  });

  it('nothing counted: count 0, means NaN (as evaluate reports), per-class counts 0', () => {
    const a = createMetrics(ce(2), { confusion: true });
    a.add({ outputs: logitsFor(2, [0, 1]), targets: Int32Array.of(-100, -100), loss: { mean: NaN, count: 0 } });
    const m = a.result();
    expect(m.count).toBe(0);
    expect(m.positions).toBe(0);
    expect(m.loss).toBeNaN();
    expect(m.accuracy).toBeNaN();
    expect(m.perplexity).toBeNaN();
    expect(m.macro).toEqual({ precision: NaN, recall: NaN, f1: NaN, classes: 0 });
    expect(m.perClass![0]).toEqual({ class: 0, support: 0, predicted: 0, truePositives: 0, precision: 0, recall: 0, f1: 0 });
    expect(m.confusion).toEqual([[0, 0], [0, 0]]);
  });

  it('options: confusion off by default, perClass can be turned off, too many classes for a confusion matrix are refused', () => {
    const a = createMetrics(ce(3));
    a.add({ outputs: logitsFor(3, [0]), targets: Int32Array.of(0) });
    expect(a.result().confusion).toBeUndefined();
    expect(a.result().perClass).toHaveLength(3);
    const b = createMetrics(ce(3), { perClass: false });
    b.add({ outputs: logitsFor(3, [0]), targets: Int32Array.of(0) });
    expect(b.result().perClass).toBeUndefined();
    expect(b.result().macro).toBeUndefined();
    expect(b.result().accuracy).toBe(1);
    expect(() => createMetrics(ce(MAX_CONFUSION_CLASSES + 1), { confusion: true })).toThrow(RangeError);
    expect(() => createMetrics(ce(MAX_CONFUSION_CLASSES + 1))).not.toThrow();
    // MSE models ignore the classification options
    expect(createMetrics(mse(2), { confusion: true }).result().confusion).toBeUndefined();
  });

  it('argmaxRow: the first largest value wins', () => {
    expect(argmaxRow([1, 3, 3, 2], 0, 4)).toBe(1);
    expect(argmaxRow([9, 9, 0, 5, 5, 5], 3, 3)).toBe(0);
    expect(argmaxRow([-Infinity, -Infinity], 0, 2)).toBe(0);
  });
});

describe('MSE metrics', () => {
  it('MSE, MAE, RMSE over every element of every counted row; the loss is the backend’s', () => {
    // C = 2; row 2 is masked out (its huge error must not count)
    const a = createMetrics(mse(2));
    a.add({
      outputs: Float32Array.of(1, 2, 3, 4, 100, -100),
      targetValues: Float32Array.of(0, 0, 3, 6, 0, 0),
      counted: Uint8Array.of(1, 1, 0),
      loss: { mean: 2.25, count: 4 },
    });
    const m = a.result();
    // differences 1, 2, 0, −2: squares sum 9, absolute values sum 5, over 4 elements
    expect(m.mse).toBe(9 / 4);
    expect(m.mae).toBe(5 / 4);
    expect(m.rmse).toBe(3 / 2);
    expect(m.loss).toBe(2.25);
    expect(m.count).toBe(4); // elements, as the backend counts them
    expect(m.positions).toBe(2);
    expect(m.accuracy).toBeUndefined();
    expect(m.perplexity).toBeUndefined();
    // without a backend loss the loss is the MSE computed here
    const b = createMetrics(mse(2));
    b.add({ outputs: Float32Array.of(1, 2, 3, 4), targetValues: Float32Array.of(0, 0, 3, 6) });
    expect(b.result().loss).toBe(9 / 4);
  });

  it('nothing counted: NaN means, count 0', () => {
    const a = createMetrics(mse(1));
    a.add({ outputs: Float32Array.of(1), targetValues: Float32Array.of(0), counted: Uint8Array.of(0), loss: { mean: NaN, count: 0 } });
    expect(a.result()).toEqual({ loss: NaN, count: 0, positions: 0, mse: NaN, mae: NaN, rmse: NaN });
  });
});

describe('accumulation', () => {
  it('several batches give the metrics of one batch of everything (cross-entropy)', () => {
    const rnd = lcg(7);
    const C = 4;
    const rows = [5, 1, 7, 3];
    const parts = rows.map((R) => ({
      outputs: Float32Array.from({ length: R * C }, () => Math.round((rnd() * 8 - 4) * 4) / 4), // ties happen
      targets: Int32Array.from({ length: R }, () => (rnd() < 0.2 ? -100 : Math.floor(rnd() * C))),
      counted: Uint8Array.from({ length: R }, () => (rnd() < 0.85 ? 1 : 0)),
    }));
    const whole = {
      outputs: Float32Array.from(parts.flatMap((p) => Array.from(p.outputs))),
      targets: Int32Array.from(parts.flatMap((p) => Array.from(p.targets))),
      counted: Uint8Array.from(parts.flatMap((p) => Array.from(p.counted))),
    };
    const many = createMetrics(ce(C), { confusion: true });
    for (const p of parts) many.add(p);
    const one = createMetrics(ce(C), { confusion: true });
    one.add(whole);
    const a = many.result();
    const b = one.result();
    expect(a.count).toBeGreaterThan(5);
    expect(a.confusion).toEqual(b.confusion);
    expect(a.perClass).toEqual(b.perClass);
    expect(a.macro).toEqual(b.macro);
    expect(a.accuracy).toBe(b.accuracy);
    expect(a.count).toBe(b.count);
    expect(a.loss).toBeCloseTo(b.loss, 13);
    expect(a.perplexity!).toBeCloseTo(b.perplexity!, 12);
    // confusion-matrix identities
    const cm = a.confusion!;
    const trace = cm.reduce((s, row, i) => s + row[i], 0);
    expect(trace / a.count).toBe(a.accuracy);
    a.perClass!.forEach((c, i) => {
      expect(cm[i].reduce((s, v) => s + v, 0)).toBe(c.support);
      expect(cm.reduce((s, row) => s + row[i], 0)).toBe(c.predicted);
    });
    // reset forgets everything
    many.reset();
    expect(many.result().count).toBe(0);
    many.add(whole);
    expect(many.result().confusion).toEqual(b.confusion);
  });

  it('several batches give the metrics of one batch of everything (MSE)', () => {
    const rnd = lcg(11);
    const C = 3;
    const parts = [4, 2, 6].map((R) => ({
      outputs: Float32Array.from({ length: R * C }, () => rnd() * 2 - 1),
      targetValues: Float32Array.from({ length: R * C }, () => rnd() * 2 - 1),
      counted: Uint8Array.from({ length: R }, () => (rnd() < 0.7 ? 1 : 0)),
    }));
    const many = createMetrics(mse(C));
    for (const p of parts) many.add(p);
    const one = createMetrics(mse(C));
    one.add({
      outputs: Float32Array.from(parts.flatMap((p) => Array.from(p.outputs))),
      targetValues: Float32Array.from(parts.flatMap((p) => Array.from(p.targetValues))),
      counted: Uint8Array.from(parts.flatMap((p) => Array.from(p.counted))),
    });
    const a = many.result();
    const b = one.result();
    expect(a.count).toBe(b.count);
    expect(a.positions).toBe(b.positions);
    for (const k of ['loss', 'mse', 'mae', 'rmse'] as const) expect(a[k]!).toBeCloseTo(b[k]!, 14);
  });
});

describe('addEvaluation (a backend batch and its EvalResult)', () => {
  it('cross-entropy, readout steps: padding and the ignore index never count; the backend loss is kept', () => {
    // T = 3, B = 2, lengths [3, 1]: rows (t, b) = t·2 + b; rows 3 and 5 are padding
    const targets = Int32Array.of(0, 1, -100, 0, 2, 1);
    const outputs = logitsFor(3, [0, 1, 2, 2, 2, 2]);
    const acc = createMetrics(ce(3), { confusion: true });
    acc.addEvaluation({ steps: 3, batch: 2, targets, lengths: Int32Array.of(3, 1) }, { outputs, loss: 0.75, count: 3 });
    const m = acc.result();
    expect(m.count).toBe(3);
    expect(m.loss).toBe(0.75);
    expect(m.accuracy).toBe(1);
    expect(m.confusion).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    // a backend count that disagrees with the counted rows is a wiring error
    expect(() => acc.addEvaluation({ steps: 3, batch: 2, targets }, { outputs, loss: 0.75, count: 3 })).toThrow(/count/);
  });

  it('cross-entropy, readout final_state: one row per sequence, lengths do not mask it', () => {
    const acc = createMetrics(ce(2, -100, 'final_state'));
    acc.addEvaluation({ steps: 4, batch: 3, targets: Int32Array.of(1, -100, 0), lengths: Int32Array.of(4, 2, 1) }, { outputs: logitsFor(2, [1, 0, 1]), loss: 0.5, count: 2 });
    const m = acc.result();
    expect([m.count, m.accuracy, m.loss]).toEqual([2, 0.5, 0.5]);
  });

  it('MSE: the target mask and padding never count; count is elements', () => {
    // T = 2, B = 2, C = 2, lengths [2, 1] (row 3 padding), targetMask drops row 1
    const spec: ModelSpec = {
      input: { kind: 'dense', size: 1 }, conditionSize: 0,
      stack: { cell: 'gru', inputSize: 1, hiddenSize: 2, outputSize: 2, layers: 1, bidirectional: false },
      outputs: 2, loss: { kind: 'mse' },
    };
    const batch = {
      steps: 2, batch: 2, lengths: Int32Array.of(2, 1),
      targetValues: Float32Array.of(0, 0, 5, 5, 1, 1, 5, 5),
      targetMask: Uint8Array.of(1, 0, 1, 1),
    };
    expect(Array.from(countedRows(spec, batch))).toEqual([1, 0, 1, 0]);
    const acc = createMetrics(spec);
    acc.addEvaluation(batch, { outputs: Float32Array.of(1, -1, 0, 0, 1, 3, 0, 0), loss: 1.5, count: 4 });
    const m = acc.result();
    // differences 1, −1, 0, 2 → squares 6/4, abs 4/4
    expect([m.count, m.positions, m.loss, m.mse, m.mae]).toEqual([4, 2, 1.5, 1.5, 1]);
    expect(m.rmse).toBe(Math.sqrt(1.5));
  });

  it('rejects malformed batches with a clear error', () => {
    const a = createMetrics(ce(3));
    expect(() => a.add({ outputs: new Float32Array(5), targets: Int32Array.of(0) })).toThrow(/whole rows/);
    expect(() => a.add({ outputs: new Float32Array(6), targets: Int32Array.of(0) })).toThrow(/targets/);
    expect(() => a.add({ outputs: new Float32Array(3), targets: Int32Array.of(3) })).toThrow(/class id/);
    expect(() => a.add({ outputs: new Float32Array(3) })).toThrow(TypeError);
    expect(() => a.add({ outputs: new Float32Array(3), targets: Int32Array.of(0), counted: Uint8Array.of(1, 1) })).toThrow(/counted/);
    expect(() => a.add({ outputs: new Float32Array(3), targets: Int32Array.of(0), loss: { mean: 1, count: 2 } })).toThrow(/count/);
    expect(() => createMetrics(mse(2)).add({ outputs: new Float32Array(4), targetValues: new Float32Array(2) })).toThrow(/targetValues/);
    // a refused batch leaves nothing behind, even when the bad entry comes after good rows
    expect(() => a.add({ outputs: logitsFor(3, [0, 1]), targets: Int32Array.of(0, 7) })).toThrow(/targets\[1\]/);
    expect(() => a.add({ outputs: logitsFor(3, [0, 1]), targets: Int32Array.of(0, 1), loss: { mean: 1, count: 1 } })).toThrow(/count/);
    const m = a.result();
    expect([m.count, m.positions]).toEqual([0, 0]);
    expect(m.perClass!.map((c) => c.support + c.predicted)).toEqual([0, 0, 0]);
    a.add({ outputs: logitsFor(3, [1]), targets: Int32Array.of(0) });
    expect(a.result().accuracy).toBe(0);
  });

  it('its result is assignable to EvalMetrics (what evaluate returns today)', () => {
    const a = createMetrics(ce(2));
    a.add({ outputs: logitsFor(2, [0]), targets: Int32Array.of(0), loss: { mean: 0.25, count: 1 } });
    const e: EvalMetrics = a.result();
    expect(e).toMatchObject({ loss: 0.25, count: 1, accuracy: 1, perplexity: Math.exp(0.25) });
  });
});
