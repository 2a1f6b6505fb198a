/**
 * Early stopping for {@link RnnModel.fit}: the rule (which loss, patience, minDelta,
 * restore-best) and its state over the epochs seen. One `observe` serves the running fit and
 * a resumed one, which replays the epochs its checkpoint records: a resume carries on with
 * the same best epoch and the same count of epochs waited as a fit never interrupted.
 */
import { checkBoolean, checkInteger, checkKnownKeys, checkNumber, checkOneOf, keysOf } from '../validate.js';
import type { EarlyStoppingOptions, EpochResult } from './fit-types.js';

export type EarlyStoppingRule = Required<EarlyStoppingOptions>;

export function checkEarlyStopping(v: unknown, hasValidation: boolean): EarlyStoppingRule | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) throw new TypeError(`earlyStopping must be an object { monitor?, patience?, minDelta?, restoreBest? }; got ${v === null ? 'null' : typeof v}`);
  checkKnownKeys('earlyStopping', v, keysOf<EarlyStoppingOptions>({ monitor: true, patience: true, minDelta: true, restoreBest: true }));
  const o = v as EarlyStoppingOptions;
  const monitor = checkOneOf('earlyStopping.monitor', o.monitor ?? (hasValidation ? 'validation' : 'loss'), ['validation', 'loss'] as const);
  if (monitor === 'validation' && !hasValidation) throw new TypeError("earlyStopping.monitor 'validation' needs validationData or validationSplit");
  return {
    monitor,
    patience: checkInteger('earlyStopping.patience', o.patience ?? 0, 0),
    minDelta: checkNumber('earlyStopping.minDelta', o.minDelta ?? 0, 0, Infinity),
    restoreBest: checkBoolean('earlyStopping.restoreBest', o.restoreBest ?? true),
  };
}

/** The best epoch so far: its number, its monitored loss and (restore-best) its parameters. */
export interface BestEpoch {
  epoch: number;
  loss: number;
  params?: Float32Array;
}

export class EarlyStopping {
  best: BestEpoch | undefined;
  /** Epochs since the best one. */
  waited = 0;

  constructor(readonly rule: EarlyStoppingRule) {}

  /**
   * Epoch `result` has ended: whether the rule says stop (`patience` epochs waited after one
   * without improvement). `params` reads the parameters; it is called only for a new best
   * epoch under restore-best. An epoch without the monitored figure (a checkpoint's epoch
   * trained before validation data was given) is not judged.
   */
  observe(result: EpochResult, params: () => Float32Array | undefined): boolean {
    const loss = this.rule.monitor === 'validation' ? result.validation?.loss : result.loss;
    if (loss === undefined || !Number.isFinite(loss)) return false;
    if (this.best === undefined || loss < this.best.loss - this.rule.minDelta) {
      this.best = { epoch: result.epoch, loss, params: this.rule.restoreBest ? params() : undefined };
      this.waited = 0;
      return false;
    }
    return ++this.waited > this.rule.patience;
  }

  /**
   * A resumed fit: replays the epochs its checkpoint records. `bestParams` are the parameters
   * the checkpoint holds for an epoch (its saved best, or its own when taken at the end of that
   * epoch). Returns the epoch at which the rule stopped the fit, if it did before the last.
   * Under restore-best, a best epoch whose parameters the checkpoint lacks (written without
   * early stopping) cannot be put back: the rule starts afresh from the resumed epochs.
   */
  replay(epochs: EpochResult[], lastEpoch: number, bestParams: (epoch: number) => Float32Array | undefined): number | undefined {
    let stoppedAt: number | undefined;
    for (const result of epochs) {
      if (this.observe(result, () => undefined) && result.epoch < lastEpoch) stoppedAt ??= result.epoch;
    }
    if (this.best && this.rule.restoreBest) {
      this.best.params = bestParams(this.best.epoch);
      if (this.best.params === undefined) {
        this.best = undefined;
        this.waited = 0;
      }
    }
    return stoppedAt;
  }
}
