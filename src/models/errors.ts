/** Errors of model training. */

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
  ) {
    super(`training diverged at step ${step} (epoch ${epoch}): loss ${loss}, gradient norm ${gradientNorm}; the parameters of step ${step - 1} were kept (lower the learning rate or clip gradients)`);
    this.name = 'TrainingDivergedError';
  }
}

/** The error `fit` rejects with when its AbortSignal fires (the signal's reason if it has one). */
export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('training was aborted', 'AbortError');
}
