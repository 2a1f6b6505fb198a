/**
 * Learning-rate schedules for `fit`'s `learningRate` hook: each returns a function of the
 * 1-based optimizer step giving the learning rate for that step.
 */

/** A schedule: learning rate of the 1-based optimizer step `step`. */
export type LearningRateSchedule = (step: number, epoch: number) => number;

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a finite number > 0; got ${v}`);
  return v;
}

function stepsArg(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}; got ${v}`);
  return v;
}

/** lr · gamma^⌊(step − 1) / every⌋ (PyTorch StepLR counted in optimizer steps). */
export function stepDecay(lr: number, every: number, gamma = 0.1): LearningRateSchedule {
  positive('lr', lr);
  stepsArg('every', every);
  positive('gamma', gamma);
  return (step) => lr * Math.pow(gamma, Math.floor((step - 1) / every));
}

/** lr · gamma^(step − 1) (PyTorch ExponentialLR counted in optimizer steps). */
export function exponentialDecay(lr: number, gamma: number): LearningRateSchedule {
  positive('lr', lr);
  positive('gamma', gamma);
  return (step) => lr * Math.pow(gamma, step - 1);
}

/**
 * Linear warm-up from lr/warmup to lr over `warmup` steps, then cosine decay to `minLr`
 * at step `total` (and `minLr` after it).
 */
export function warmupCosine(lr: number, warmup: number, total: number, minLr = 0): LearningRateSchedule {
  positive('lr', lr);
  stepsArg('warmup', warmup, 0);
  stepsArg('total', total, warmup + 1);
  if (!(minLr >= 0 && minLr <= lr)) throw new RangeError(`minLr must be in [0, lr=${lr}]; got ${minLr}`);
  return (step) => {
    if (step <= warmup) return (lr * step) / warmup;
    if (step >= total) return minLr;
    const progress = (step - warmup) / (total - warmup);
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
