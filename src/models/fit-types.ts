/**
 * The options and results of {@link RnnModel.fit} (fit.ts runs the loop; errors.ts reports
 * how it ended early).
 */
import type { ClipSpec, OptimizerSpec } from '../optim/optimizers.js';
import type { Dataset } from './data.js';
import type { ModelMetrics } from './metrics.js';

/** What {@link RnnModel.fit} reports after each optimizer step. */
export interface FitProgress {
  epoch: number;
  epochs: number;
  /** Optimizer steps done so far in this fit (1-based); after `resume`, the steps of the run so far, those before the checkpoint included. */
  step: number;
  /** Steps per epoch (windows × batches). */
  stepsPerEpoch: number;
  /** Loss of this step. */
  loss: number;
  /** Running mean loss of the epoch so far. */
  epochLoss: number;
  /** Valid (non-padding) positions processed per second since this fit call started. */
  tokensPerSecond: number;
  /** Milliseconds since this fit call started. */
  elapsedMs: number;
  /** Estimated time to the end of fit, at this call's rate so far. */
  etaMs: number;
}

/** The metrics of an evaluation (metrics.ts): loss, and by the loss accuracy, perplexity, bits per token, per-class figures, or MSE / MAE / RMSE. */
export type EvalMetrics = ModelMetrics;

/** One epoch's summary. */
export interface EpochResult {
  epoch: number;
  /** Mean training loss over the epoch's counted positions (as trained, i.e. before each update). */
  loss: number;
  /** Cross-entropy: fraction of counted positions whose arg-max was the target. */
  accuracy?: number;
  /**
   * On `validationData` or the `validationSplit`, after the epoch's last step. Per-class
   * figures only for models of at most 256 classes: a language model's vocabulary made every
   * epoch's record, and each checkpoint's fit.json, megabytes (`evaluate` gives them at any size).
   */
  validation?: EvalMetrics;
}

/** When to stop before `epochs` (checked at the end of every epoch). */
export interface EarlyStoppingOptions {
  /** 'validation' (default when there is validation data): its loss; 'loss': the training loss. */
  monitor?: 'validation' | 'loss';
  /** Epochs without improvement to wait before stopping (default 0: stop at the first). */
  patience?: number;
  /** An improvement must lower the monitored loss by more than this (default 0). */
  minDelta?: number;
  /** Put back the parameters of the best epoch when training ends (default true). */
  restoreBest?: boolean;
}

/** Options of {@link RnnModel.fit}. */
export interface FitOptions {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Sequences per batch (default 32). */
  batchSize?: number;
  /**
   * Truncated BPTT: split each batch into windows of this many steps, one optimizer step
   * per window, carrying the state (not the gradient) from window to window. Default: the
   * whole sequence. With a bidirectional stack it must cover the longest sequence (one
   * window); a shorter one is a RangeError.
   */
  window?: number;
  /**
   * Default { name: 'adam', lr: 0.001 }. The optimizer's state (momentum, Adam's moments,
   * its step count) is kept from one fit to the next when the settings are the same (a
   * different `lr` alone is applied as a learning-rate change, as in PyTorch); other
   * settings start a fresh optimizer.
   */
  optimizer?: OptimizerSpec;
  /** Start the optimizer afresh even when its settings are unchanged (default false). */
  resetOptimizer?: boolean;
  clip?: ClipSpec;
  /** Learning-rate schedule: called before every step with the 1-based step and epoch. */
  learningRate?: (step: number, epoch: number) => number;
  /** Shuffle the sequences every epoch (default true), with this seed (default 0). */
  shuffle?: boolean;
  seed?: number;
  /** Evaluated at the end of every epoch. */
  validationData?: Dataset;
  /**
   * The validation sequences are consecutive chunks of one stream (a held-out text, say):
   * evaluate them in order with the state carried, as `evaluate`'s `stream` does (default false).
   */
  validationStream?: boolean;
  /**
   * Hold out this fraction (0 < f < 1) of the sequences — the last ones, before any
   * shuffling, as Keras does — and evaluate on them at the end of every epoch. Not with
   * `validationData`.
   */
  validationSplit?: number;
  /** Stop when the monitored loss stops improving. */
  earlyStopping?: EarlyStoppingOptions;
  /**
   * Node: write a checkpoint into `dir` at the end of every epoch, with `everySteps` after
   * every that many steps (between two windows or two batches), and when `signal` stops the
   * fit — the model (a directory
   * `RnnModel.load` reads, tokenizer included), the optimizer's state and the loop's
   * position, switched in atomically (see src/io/checkpoint.ts).
   */
  checkpoint?: { dir: string; everySteps?: number };
  /**
   * Node: carry on from the checkpoint in this directory (written by `checkpoint`), with the
   * same data and options: the parameters, the optimizer's state, the epoch, the batch, the
   * random stream and early stopping's state (replayed over the checkpoint's epochs; the best
   * epoch's parameters are saved with each checkpoint under restore-best) are restored, so
   * the result equals a fit never interrupted (bit for bit on native and wasm; the reference
   * resumes from float32 parameters).
   */
  resume?: string;
  /**
   * Stops training after the current step; fit then rejects with a {@link FitAbortedError}
   * carrying the signal's reason and the epochs done so far (after writing a checkpoint,
   * with `checkpoint`, so that `resume` carries on from that step).
   */
  signal?: AbortSignal;
  /** Called after every step; when it returns a promise, fit awaits it before the next step. */
  onProgress?: (progress: FitProgress) => unknown;
  /** Called after every epoch (validation included); a returned promise is awaited. */
  onEpochEnd?: (epoch: EpochResult) => unknown;
}

/** What {@link RnnModel.fit} resolves to. */
export interface FitResult {
  /** Every completed epoch. */
  epochs: EpochResult[];
  /** Optimizer steps taken. */
  steps: number;
  elapsedMs: number;
  /** Early stopping: the epoch with the best monitored loss, and whether training stopped before `epochs`. */
  bestEpoch?: number;
  stoppedEarly?: boolean;
}

