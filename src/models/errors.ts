/** Errors of model training. */
import type { FitResult } from './fit-types.js';

/**
 * The loss or the gradient became NaN or ±Infinity. The step was not applied: the model
 * keeps the parameters of the last good step.
 */
export class TrainingDivergedError extends Error {
  constructor(
    /** 1-based count of optimizer steps, including the failed one. */
    readonly step: number,
    /** 1-based epoch. */
    readonly epoch: number,
    readonly loss: number,
    readonly gradientNorm: number,
    /** What the fit had done before the failed step. */
    readonly partial?: FitResult,
    /**
     * The parameters were non-finite after step `step` though the losses were finite: an
     * update (this step's or an earlier one's) overflowed them. They are not usable.
     */
    readonly parametersOverflowed = false,
  ) {
    super(parametersOverflowed
      ? `training diverged by step ${step} (epoch ${epoch}): the parameters are non-finite after it — an update overflowed them (last loss ${loss}, gradient norm ${gradientNorm}); the model's parameters are unusable: lower the learning rate and train again from a checkpoint or a new model`
      : `training diverged at step ${step} (epoch ${epoch}): loss ${loss}, gradient norm ${gradientNorm}; the parameters of step ${step - 1} were kept (lower the learning rate or clip gradients)`);
    this.name = 'TrainingDivergedError';
  }
}

/**
 * What `fit` rejects with when its AbortSignal fires: named 'AbortError', with the signal's
 * reason (its message, and as `reason` and `cause`) and the epochs completed so far.
 */
export class FitAbortedError extends Error {
  override name = 'AbortError';
  constructor(
    /** The signal's reason. */
    readonly reason: unknown,
    /** What the fit had done: completed epochs and the steps taken. */
    readonly partial: FitResult,
  ) {
    super(reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'training was aborted', { cause: reason });
  }
}
