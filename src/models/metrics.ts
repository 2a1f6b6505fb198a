/**
 * Evaluation metrics, accumulated batch by batch: pure functions of the head outputs and
 * the targets (no backend, no I/O), so `RnnModel.evaluate` can add one evaluated batch at
 * a time and read the totals at the end.
 *
 * - Cross-entropy: mean loss, perplexity, bits per token, accuracy, and per class
 *   precision / recall / F1 with their macro averages and, on request, the confusion matrix.
 * - MSE: mean loss, MSE, MAE and RMSE over every element of every counted position.
 *
 * Only COUNTED positions enter any metric: those whose row is counted (not padding, and for
 * MSE in the target mask) and, for cross-entropy, whose target is not the ignore index —
 * exactly the positions the backend's loss counts (`countedPositions` in data.ts).
 *
 * Everything accumulates in float64 (JS numbers; counts are exact up to 2^53). Sums across
 * batches are compensated (Neumaier), so adding batches one by one gives the metrics of one
 * batch holding everything, up to the last bits.
 *
 * Usage in an evaluation loop:
 * ```ts
 * const metrics = createMetrics(spec, { confusion: true });
 * for (const batch of batches) {
 *   const r = await training.evaluate(handle, batch);
 *   metrics.addEvaluation(batch, r);   // or metrics.add({ outputs, targets, counted, loss })
 * }
 * const m = metrics.result();          // { loss, count, accuracy, perplexity, bitsPerToken, … }
 * ```
 */
import type { EvalResult, ModelSpec, TrainBatch } from '../backend/contract.js';

/** Largest `outputs` for which {@link createMetrics} keeps a confusion matrix (C² float64 counts: 128 MiB at this size). */
export const MAX_CONFUSION_CLASSES = 4096;

/** What {@link createMetrics} needs of a model spec (a whole `ModelSpec` fits). */
export type MetricsSpec = Pick<ModelSpec, 'outputs' | 'loss'> & Partial<Pick<ModelSpec, 'readout'>>;

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Cross-entropy: keep the C×C confusion matrix (default false). Needs C² counts, so it
   * is refused (RangeError) above {@link MAX_CONFUSION_CLASSES} classes.
   */
  confusion?: boolean;
  /**
   * Cross-entropy: report per-class precision / recall / F1 and their macro averages
   * (default true). Costs O(C) memory; turn off for a large vocabulary when not wanted.
   */
  perClass?: boolean;
}

/**
 * Precision, recall and F1 of one class, one-vs-rest over the counted positions. A position
 * is PREDICTED as class c when c is the first arg-max of its logits (ties go to the lowest
 * class id, as the backends' accuracy does).
 *
 * Never NaN: an undefined ratio (0/0) is reported as 0, like scikit-learn's
 * `zero_division=0`. Tell such a 0 from a real 0 by the counts: `predicted === 0` means
 * the precision is undefined (the class was never predicted), `support === 0` means the
 * recall is undefined (the class never occurs in the targets).
 */
export interface ClassMetrics {
  /** Class id, in [0, outputs). */
  class: number;
  /** Counted positions whose target is this class (true positives + false negatives). */
  support: number;
  /** Counted positions predicted as this class (true positives + false positives). */
  predicted: number;
  /** Counted positions whose target is this class and that were predicted as it. */
  truePositives: number;
  /** truePositives / predicted, in [0, 1]; 0 when `predicted` is 0 (never predicted: undefined, reported as 0). */
  precision: number;
  /** truePositives / support, in [0, 1]; 0 when `support` is 0 (never present: undefined, reported as 0). */
  recall: number;
  /**
   * Harmonic mean of precision and recall, 2·TP / (predicted + support), in [0, 1]; 0 when
   * both precision and recall are 0 (including a class neither present nor predicted).
   */
  f1: number;
}

/**
 * Unweighted means of the per-class values over the classes that occur in the targets or
 * in the predictions (`support > 0 || predicted > 0`), as scikit-learn's `average='macro'`
 * with its default labels (those of y_true ∪ y_pred) and `zero_division=0`: a class that
 * is predicted but never present contributes recall 0, one present but never predicted
 * contributes precision 0; a class neither present nor predicted is left out. NaN only
 * when nothing was counted. (Micro-averaged precision = recall = F1 = accuracy here, since
 * every counted position has exactly one target and one prediction.)
 */
export interface MacroMetrics {
  /** Mean per-class precision, in [0, 1]. */
  precision: number;
  /** Mean per-class recall, in [0, 1] (balanced accuracy over these classes). */
  recall: number;
  /** Mean per-class F1 (not the F1 of the macro precision and recall), in [0, 1]. */
  f1: number;
  /** How many classes were averaged (those present in the targets or predicted). */
  classes: number;
}

/**
 * Metrics of one evaluation, over every counted position of every batch added. With
 * nothing counted (`count` 0) the means (loss, perplexity, bitsPerToken, accuracy, macro
 * averages, mse, mae, rmse) are NaN, as the mean of nothing; with `count > 0` no metric is
 * NaN unless the model's own outputs or loss are (NaN logits or values).
 *
 * Assignable to `EvalMetrics` of model.ts (loss, count, accuracy?, perplexity?).
 */
export interface ModelMetrics {
  /**
   * Mean loss per counted element: the backend's loss (`EvalResult.loss`, weighted by its
   * `count`) when the batches carried it, so it is identical to the loss training reports;
   * otherwise computed here from the outputs (softmax cross-entropy in nats per position,
   * or squared error per element).
   */
  loss: number;
  /**
   * The loss's denominator, as the backend counts it: counted positions for cross-entropy,
   * counted positions × outputs (elements) for MSE.
   */
  count: number;
  /** Counted positions (rows that entered the metrics); equals `count` for cross-entropy. */
  positions: number;
  /** Cross-entropy: fraction of counted positions whose first arg-max logit is the target, in [0, 1]. */
  accuracy?: number;
  /**
   * Cross-entropy: exp(loss), the perplexity per counted position (per token for a language
   * model). Infinity when the loss is large enough for exp to overflow (> ~709.78 nats).
   */
  perplexity?: number;
  /**
   * Cross-entropy: loss / ln 2, the mean cross-entropy in bits per counted position, i.e.
   * per token of the model's own tokenization — bits per character only when the tokens are
   * characters (for a word or sub-word model, multiply by tokens / characters to compare).
   * With readout 'final_state' a position is a whole sequence (bits per label).
   */
  bitsPerToken?: number;
  /** Cross-entropy with `perClass` (default): one entry per class id, index = class id. */
  perClass?: ClassMetrics[];
  /** Cross-entropy with `perClass` (default): macro averages of {@link perClass}. */
  macro?: MacroMetrics;
  /**
   * Cross-entropy with `confusion: true`: C×C counts of counted positions,
   * `confusion[trueClass][predictedClass]` (rows = target, columns = first arg-max of the
   * logits). Row sums are the supports, column sums the predicted counts, the trace the
   * correct positions.
   */
  confusion?: number[][];
  /** MSE: mean of (output − target)² over every element of every counted position (target units squared). */
  mse?: number;
  /** MSE: mean of |output − target| over every element of every counted position (target units). */
  mae?: number;
  /** MSE: √mse (target units). */
  rmse?: number;
}

/**
 * One batch of head outputs, as rows of C = `spec.outputs` values, with its targets.
 * Rows are whatever the head produced: [T·B] step rows (time-major) or [B] sequence rows
 * for readout 'final_state'.
 */
export interface MetricsBatch {
  /** [rows][C] head outputs: logits for cross-entropy, predicted values for MSE. */
  outputs: ArrayLike<number>;
  /** Rows in `outputs`; default `outputs.length / C`. */
  rows?: number;
  /** Cross-entropy: [rows] class ids in [0, C) or `spec.loss.ignoreIndex` (that row does not count). */
  targets?: ArrayLike<number>;
  /** MSE: [rows][C] target values. */
  targetValues?: ArrayLike<number>;
  /**
   * [rows] which rows may count: a nonzero / true entry counts, 0 / false never does
   * (padding t ≥ lengths[b], the MSE target mask). Absent: every row may count. For
   * cross-entropy a counted row still needs a target other than the ignore index.
   */
  counted?: ArrayLike<number | boolean>;
  /**
   * The backend's loss on this batch (`EvalResult.loss` and `.count`): `mean` is ignored
   * when `count` is 0 (the backend reports NaN then). Absent: the loss is computed here.
   * `count` must equal what the metrics count in this batch (positions for cross-entropy,
   * positions × C for MSE), else `add` throws: the loss and the metrics would then describe
   * different positions.
   */
  loss?: { mean: number; count: number };
}

/** Accumulates the metrics of evaluated batches; see {@link createMetrics}. */
export interface MetricsAccumulator {
  /** Add one batch of rows (validated: lengths, class ids, the backend count). */
  add(batch: MetricsBatch): void;
  /**
   * Add one evaluated window: `batch` as given to `TrainingBackend.evaluate` and its result.
   * Rows that count are derived as the backend does: padding (t ≥ lengths[b]) never counts
   * with readout 'steps'; for MSE only rows with targetMask 1 (when a mask is given); for
   * cross-entropy only rows whose target is not the ignore index. Uses the backend's loss.
   */
  addEvaluation(batch: Pick<TrainBatch, 'steps' | 'batch' | 'targets' | 'targetValues' | 'targetMask' | 'lengths'>, result: Pick<EvalResult, 'outputs' | 'loss' | 'count'>): void;
  /** The metrics of everything added so far (a fresh object; the accumulator keeps going). */
  result(): ModelMetrics;
  /** Forget everything added. */
  reset(): void;
}

/** Compensated (Neumaier) running sum. */
class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

/** Index of the first largest of `z[from .. from + C)` (ties and NaN: the lowest index, as the backends). */
export function argmaxRow(z: ArrayLike<number>, from: number, C: number): number {
  let max = -Infinity;
  let arg = 0;
  for (let c = 0; c < C; c++) {
    const v = z[from + c];
    if (v > max) {
      max = v;
      arg = c;
    }
  }
  return arg;
}

/**
 * [rows] 1 where a head row of `batch` may count, 0 where it is padding (readout 'steps'
 * with lengths: t ≥ lengths[b]) or, for MSE, outside the target mask. Rows = T·B, or B for
 * readout 'final_state' (padding does not apply: one row per sequence). The ignore index is
 * not applied here ({@link MetricsAccumulator.add} does).
 */
export function countedRows(spec: MetricsSpec, batch: Pick<TrainBatch, 'steps' | 'batch' | 'targetMask' | 'lengths'>): Uint8Array {
  const B = batch.batch;
  const final = spec.readout === 'final_state';
  const rows = final ? B : batch.steps * B;
  const out = new Uint8Array(rows).fill(1);
  if (!final && batch.lengths) {
    for (let t = 0; t < batch.steps; t++) for (let b = 0; b < B; b++) if (t >= batch.lengths[b]) out[t * B + b] = 0;
  }
  if (spec.loss.kind === 'mse' && batch.targetMask) {
    for (let n = 0; n < rows; n++) if (batch.targetMask[n] !== 1) out[n] = 0;
  }
  return out;
}

function checkLength(name: string, v: ArrayLike<unknown>, n: number, shape: string): void {
  if (v.length !== n) throw new RangeError(`${name} must hold ${shape} = ${n} values; got ${v.length}`);
}

/**
 * An accumulator of evaluation metrics for a model with this spec (only `outputs`, `loss`
 * and `readout` are read). Add each evaluated batch with `addEvaluation(batch, result)` (or
 * `add(rows)`), then read `result()`.
 */
export function createMetrics(spec: MetricsSpec, options: MetricsOptions = {}): MetricsAccumulator {
  const C = spec.outputs;
  if (!Number.isInteger(C) || C < 1) throw new RangeError(`spec.outputs must be a positive integer; got ${C}`);
  const ce = spec.loss.kind === 'cross_entropy';
  const ignoreIndex = spec.loss.kind === 'cross_entropy' ? spec.loss.ignoreIndex : NaN;
  const perClass = ce && (options.perClass ?? true);
  const confusion = ce && (options.confusion ?? false);
  if (confusion && C > MAX_CONFUSION_CLASSES) {
    throw new RangeError(`a confusion matrix needs outputs ≤ ${MAX_CONFUSION_CLASSES} (C² counts); got ${C} classes — use perClass instead`);
  }

  let lossSum: Sum;
  let lossCount: number;
  let positions: number;
  let correct: number;
  let sqSum: Sum;
  let absSum: Sum;
  let support: Float64Array | undefined;
  let predicted: Float64Array | undefined;
  let truePos: Float64Array | undefined;
  let matrix: Float64Array | undefined;
  const reset = (): void => {
    lossSum = new Sum();
    lossCount = 0;
    positions = 0;
    correct = 0;
    sqSum = new Sum();
    absSum = new Sum();
    support = perClass ? new Float64Array(C) : undefined;
    predicted = perClass ? new Float64Array(C) : undefined;
    truePos = perClass ? new Float64Array(C) : undefined;
    matrix = confusion ? new Float64Array(C * C) : undefined;
  };
  reset();

  const add = (batch: MetricsBatch): void => {
    const z = batch.outputs;
    if (z === null || typeof z !== 'object' || typeof z.length !== 'number') throw new TypeError('batch.outputs must be an array of numbers');
    const rows = batch.rows ?? z.length / C;
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`batch.outputs must hold whole rows of ${C} outputs; got ${z.length} values`);
    checkLength('batch.outputs', z, rows * C, `rows × outputs (${rows} × ${C})`);
    const mask = batch.counted;
    if (mask !== undefined) checkLength('batch.counted', mask, rows, 'rows');
    // First pass: validate and count, so that a refused batch leaves the totals untouched.
    const t = batch.targets;
    const y = batch.targetValues;
    if (ce) {
      if (!t) throw new TypeError('batch.targets (class ids) are required by a cross-entropy model');
      checkLength('batch.targets', t, rows, 'rows');
    } else {
      if (!y) throw new TypeError('batch.targetValues are required by an MSE model');
      checkLength('batch.targetValues', y, rows * C, `rows × outputs (${rows} × ${C})`);
    }
    let n = 0; // positions counted in this batch
    for (let r = 0; r < rows; r++) {
      if (mask && !mask[r]) continue;
      if (ce) {
        const target = t![r];
        if (target === ignoreIndex) continue;
        if (!Number.isInteger(target) || target < 0 || target >= C) {
          throw new RangeError(`batch.targets[${r}] must be a class id in [0, ${C}) or the ignore index ${ignoreIndex}; got ${target}`);
        }
      }
      n++;
    }
    const expected = ce ? n : n * C;
    if (batch.loss && batch.loss.count !== expected) {
      throw new RangeError(`batch.loss.count (${batch.loss.count}) differs from the ${ce ? 'positions' : 'elements'} counted here (${expected}): the targets or the counted rows do not match the evaluated batch`);
    }
    // Second pass: accumulate.
    let batchLoss = 0;
    if (ce) {
      let batchCorrect = 0;
      for (let r = 0; r < rows; r++) {
        if (mask && !mask[r]) continue;
        const target = t![r];
        if (target === ignoreIndex) continue;
        const from = r * C;
        const pred = argmaxRow(z, from, C);
        if (pred === target) batchCorrect++;
        if (perClass) {
          support![target]++;
          predicted![pred]++;
          if (pred === target) truePos![target]++;
        }
        if (matrix) matrix[target * C + pred]++;
        if (!batch.loss) {
          // log Σ exp z − z_target, shifted by the max so that no exp overflows.
          const max = z[from + pred];
          let se = 0;
          for (let c = 0; c < C; c++) se += Math.exp(z[from + c] - max);
          batchLoss += Number.isFinite(max) ? max + Math.log(se) - z[from + target] : max - z[from + target];
        }
      }
      correct += batchCorrect;
    } else {
      let sq = 0;
      let ab = 0;
      for (let r = 0; r < rows; r++) {
        if (mask && !mask[r]) continue;
        for (let k = r * C, end = k + C; k < end; k++) {
          const d = z[k] - y![k];
          sq += d * d;
          ab += Math.abs(d);
        }
      }
      sqSum.add(sq);
      absSum.add(ab);
      batchLoss = sq;
    }
    if (batch.loss) {
      if (batch.loss.count > 0) lossSum.add(batch.loss.mean * batch.loss.count);
    } else {
      lossSum.add(batchLoss);
    }
    lossCount += expected;
    positions += n;
  };

  const result = (): ModelMetrics => {
    const any = lossCount > 0;
    const loss = any ? lossSum.value / lossCount : NaN;
    const m: ModelMetrics = { loss, count: lossCount, positions };
    if (!ce) {
      const mse = any ? sqSum.value / lossCount : NaN;
      m.mse = mse;
      m.mae = any ? absSum.value / lossCount : NaN;
      m.rmse = Math.sqrt(mse);
      return m;
    }
    m.accuracy = any ? correct / positions : NaN;
    m.perplexity = Math.exp(loss);
    m.bitsPerToken = loss / Math.LN2;
    if (perClass) {
      const list: ClassMetrics[] = new Array(C);
      let p = 0;
      let r = 0;
      let f = 0;
      let k = 0;
      for (let c = 0; c < C; c++) {
        const s = support![c];
        const q = predicted![c];
        const tp = truePos![c];
        const cm: ClassMetrics = {
          class: c, support: s, predicted: q, truePositives: tp,
          precision: q > 0 ? tp / q : 0,
          recall: s > 0 ? tp / s : 0,
          f1: s + q > 0 ? (2 * tp) / (s + q) : 0,
        };
        list[c] = cm;
        if (s > 0 || q > 0) {
          p += cm.precision;
          r += cm.recall;
          f += cm.f1;
          k++;
        }
      }
      m.perClass = list;
      m.macro = { precision: k > 0 ? p / k : NaN, recall: k > 0 ? r / k : NaN, f1: k > 0 ? f / k : NaN, classes: k };
    }
    if (matrix) {
      const rowsOut: number[][] = new Array(C);
      for (let t = 0; t < C; t++) rowsOut[t] = Array.from(matrix.subarray(t * C, (t + 1) * C));
      m.confusion = rowsOut;
    }
    return m;
  };

  const addEvaluation: MetricsAccumulator['addEvaluation'] = (batch, res) => {
    const rows = spec.readout === 'final_state' ? batch.batch : batch.steps * batch.batch;
    add({
      outputs: res.outputs,
      rows,
      targets: batch.targets,
      targetValues: batch.targetValues,
      counted: countedRows(spec, batch),
      loss: { mean: res.loss, count: res.count },
    });
  };

  return { add, addEvaluation, result, reset };
}
