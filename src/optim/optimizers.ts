/**
 * Optimizers and gradient clipping: the one place for their names, their options, PyTorch's
 * defaults (torch 1.13) and the rules their values must follow. The update formulas live
 * in the two homes of math: src/backend/reference/training/optimizers.ts (float64, the
 * specification) and native/src/optim.cc (the compiled backends).
 */
import { checkBoolean, checkKnownKeys, checkNumber, checkOneOf, keysOf } from '../validate.js';

/** Optimizers, with PyTorch's semantics and defaults (torch 1.13 single-tensor paths). */
export type OptimizerSpec =
  | { name: 'sgd'; lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }
  | { name: 'rmsprop'; lr: number; alpha?: number; eps?: number; weightDecay?: number }
  | { name: 'adam'; lr: number; betas?: [number, number]; eps?: number; weightDecay?: number }
  | { name: 'adamw'; lr: number; betas?: [number, number]; eps?: number; weightDecay?: number };

/** Optimizer names accepted by `OptimizerSpec`. */
export const OPTIMIZER_NAMES = ['sgd', 'rmsprop', 'adam', 'adamw'] as const;

/** Gradient clipping, applied to the loss gradient before the optimizer update. */
export interface ClipSpec {
  /** Clip every gradient element to [−clipValue, clipValue] first (Keras' clipvalue). */
  clipValue?: number;
  /**
   * Then scale all gradients together by min(1, maxNorm / (‖g‖₂ + 1e-6)) where ‖g‖₂ is
   * the norm over every parameter (torch.nn.utils.clip_grad_norm_, norm_type 2).
   */
  maxNorm?: number;
}

/** An optimizer spec with PyTorch's defaults filled in. */
export type ResolvedOptimizer = {
  name: OptimizerSpec['name'];
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  alpha: number;
  eps: number;
  beta1: number;
  beta2: number;
};

/** PyTorch's defaults: sgd momentum 0; rmsprop alpha 0.99, eps 1e-8; adam(w) betas (0.9, 0.999), eps 1e-8, adamw weight decay 0.01. */
export function resolveOptimizer(spec: OptimizerSpec): ResolvedOptimizer {
  const base: ResolvedOptimizer = {
    name: spec.name, lr: spec.lr, momentum: 0, dampening: 0, nesterov: false,
    weightDecay: 0, alpha: 0.99, eps: 1e-8, beta1: 0.9, beta2: 0.999,
  };
  switch (spec.name) {
    case 'sgd':
      return { ...base, momentum: spec.momentum ?? 0, dampening: spec.dampening ?? 0, nesterov: spec.nesterov ?? false, weightDecay: spec.weightDecay ?? 0 };
    case 'rmsprop':
      return { ...base, alpha: spec.alpha ?? 0.99, eps: spec.eps ?? 1e-8, weightDecay: spec.weightDecay ?? 0 };
    case 'adam':
    case 'adamw': {
      const [b1, b2] = spec.betas ?? [0.9, 0.999];
      const wd = spec.weightDecay ?? (spec.name === 'adamw' ? 0.01 : 0);
      return { ...base, beta1: b1, beta2: b2, eps: spec.eps ?? 1e-8, weightDecay: wd };
    }
  }
}

/** An optimizer with every default filled in, plus clipping: what a backend's setOptimizer applies. */
export type OptimizerSettings = ResolvedOptimizer & { clipValue?: number; maxNorm?: number };

export function optimizerSettings(optimizer: OptimizerSpec, clip: ClipSpec | undefined): OptimizerSettings {
  return {
    ...resolveOptimizer(optimizer),
    ...(clip?.clipValue !== undefined ? { clipValue: clip.clipValue } : {}),
    ...(clip?.maxNorm !== undefined ? { maxNorm: clip.maxNorm } : {}),
  };
}

/**
 * The largest setting the kernels can hold: they keep lr, eps, momentum and weight decay in
 * float32, where a larger value becomes Infinity (and Infinity × a zero gradient, NaN).
 */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A learning rate: finite and ≥ 0, PyTorch's rule (`0.0 <= lr`), and at most float32's
 * largest. The same rule applies to `optimizer.lr`, to what a schedule returns and to
 * `setLearningRate`.
 */
export function checkLearningRate(name: string, v: unknown): number {
  return checkNumber(name, v, 0, FLOAT32_MAX);
}

/** The options each optimizer takes (an Adam `momentum` is a mistake, not a no-op). */
type OptionsOf<N extends OptimizerSpec['name']> = Extract<OptimizerSpec, { name: N }>;
const OPTIMIZER_KEYS: { [N in OptimizerSpec['name']]: readonly string[] } = {
  sgd: keysOf<OptionsOf<'sgd'>>({ name: true, lr: true, momentum: true, dampening: true, weightDecay: true, nesterov: true }),
  rmsprop: keysOf<OptionsOf<'rmsprop'>>({ name: true, lr: true, alpha: true, eps: true, weightDecay: true }),
  adam: keysOf<OptionsOf<'adam'>>({ name: true, lr: true, betas: true, eps: true, weightDecay: true }),
  adamw: keysOf<OptionsOf<'adamw'>>({ name: true, lr: true, betas: true, eps: true, weightDecay: true }),
};

/** A valid OptimizerSpec with every field checked (PyTorch's ranges). */
export function checkOptimizer(name: string, v: unknown): OptimizerSpec {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object such as { name: 'adam', lr: 0.001 }; got ${v === null ? 'null' : typeof v}`);
  const o = v as Record<string, unknown>;
  const kind = checkOneOf(`${name}.name`, o.name, OPTIMIZER_NAMES);
  checkKnownKeys(name, o, OPTIMIZER_KEYS[kind], `an option of ${kind}`);
  const lr = checkLearningRate(`${name}.lr`, o.lr);
  const wd = o.weightDecay === undefined ? undefined : checkNumber(`${name}.weightDecay`, o.weightDecay, 0, FLOAT32_MAX);
  const eps = o.eps === undefined ? undefined : checkNumber(`${name}.eps`, o.eps, 0, FLOAT32_MAX);
  switch (kind) {
    case 'sgd': {
      const momentum = o.momentum === undefined ? undefined : checkNumber(`${name}.momentum`, o.momentum, 0, FLOAT32_MAX);
      const dampening = o.dampening === undefined ? undefined : checkNumber(`${name}.dampening`, o.dampening, 0, 1);
      const nesterov = o.nesterov === undefined ? undefined : checkBoolean(`${name}.nesterov`, o.nesterov);
      if (nesterov && (!momentum || (dampening ?? 0) !== 0)) throw new RangeError(`${name}.nesterov requires momentum > 0 and dampening 0; got momentum ${momentum ?? 0}, dampening ${dampening ?? 0}`);
      return { name: kind, lr, momentum, dampening, nesterov, weightDecay: wd };
    }
    case 'rmsprop': {
      const alpha = o.alpha === undefined ? undefined : checkNumber(`${name}.alpha`, o.alpha, 0, 1);
      return { name: kind, lr, alpha, eps, weightDecay: wd };
    }
    case 'adam':
    case 'adamw': {
      let betas: [number, number] | undefined;
      if (o.betas !== undefined) {
        if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new TypeError(`${name}.betas must be [beta1, beta2]; got ${JSON.stringify(o.betas)}`);
        betas = [checkNumber(`${name}.betas[0]`, o.betas[0], 0, 1), checkNumber(`${name}.betas[1]`, o.betas[1], 0, 1)];
        if (betas[0] >= 1 || betas[1] >= 1) throw new RangeError(`${name}.betas must each be < 1; got [${betas.join(', ')}]`);
      }
      return { name: kind, lr, betas, eps, weightDecay: wd };
    }
  }
}

/** A valid ClipSpec (maxNorm and clipValue, when given, finite and > 0). */
export function checkClip(name: string, v: unknown): ClipSpec {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null) throw new TypeError(`${name} must be an object { maxNorm?, clipValue? }; got ${v === null ? 'null' : typeof v}`);
  const o = v as Record<string, unknown>;
  checkKnownKeys(name, o, keysOf<ClipSpec>({ clipValue: true, maxNorm: true }));
  return {
    maxNorm: o.maxNorm === undefined ? undefined : checkNumber(`${name}.maxNorm`, o.maxNorm, 0, Infinity, true),
    clipValue: o.clipValue === undefined ? undefined : checkNumber(`${name}.clipValue`, o.clipValue, 0, Infinity, true),
  };
}

/**
 * The optimizer's state, for checkpoints (what torch.optim's state_dict holds per
 * parameter, over the whole flat parameter array). `buffers` are, each as long as the
 * parameter array and in `modelLayout` order, with PyTorch's meaning:
 * - sgd with momentum ≠ 0: [momentum_buffer]; sgd without momentum: [] (none);
 * - rmsprop: [square_avg];
 * - adam, adamw: [exp_avg, exp_avg_sq].
 * The meaning is the same on every backend (native/include/rnnkit.h
 * rk_model_optimizer_state, src/backend/reference/training/optimizers.ts), so a snapshot of one
 * backend restores on another, converted to its precision.
 */
export interface OptimizerStateSnapshot {
  optimizer: OptimizerSpec['name'];
  /** Updates made (a step skipped for a non-finite loss or norm does not count): t of the next update is step + 1. */
  step: number;
  /** Float32Array on native and wasm, Float64Array on the reference (either is accepted when restoring). */
  buffers: (Float32Array | Float64Array)[];
}

/**
 * Checks a snapshot against the model it is restored on: the optimizer kind, the step,
 * the number of buffers and each buffer's type and length. Shared by every backend
 * (FusedTraining asks the kernels for `buffers`), so each refuses alike: RangeError
 * naming what differs, TypeError for what is not a snapshot at all.
 */
export function checkOptimizerSnapshot(
  state: OptimizerStateSnapshot,
  model: { optimizer: OptimizerSpec['name']; buffers: number; size: number },
): void {
  if (typeof state !== 'object' || state === null) {
    throw new TypeError(`optimizer state must be an object { optimizer, step, buffers }; got ${state === null ? 'null' : typeof state}`);
  }
  if (state.optimizer !== model.optimizer) {
    throw new RangeError(`optimizer state is of optimizer ${JSON.stringify(state.optimizer)}; the model's optimizer is ${JSON.stringify(model.optimizer)}`);
  }
  if (!Number.isSafeInteger(state.step) || state.step < 0) {
    throw new RangeError(`optimizer state step must be an integer ≥ 0; got ${String(state.step)}`);
  }
  if (!Array.isArray(state.buffers)) throw new TypeError(`optimizer state buffers must be an Array; got ${typeof state.buffers}`);
  if (state.buffers.length !== model.buffers) {
    throw new RangeError(`optimizer state has ${state.buffers.length} buffers; the model's ${model.optimizer} optimizer keeps ${model.buffers}`);
  }
  state.buffers.forEach((b, k) => {
    if (!(b instanceof Float32Array || b instanceof Float64Array)) {
      throw new TypeError(`optimizer state buffers[${k}] must be a Float32Array or Float64Array; got ${Object.prototype.toString.call(b).slice(8, -1)}`);
    }
    if (b.length !== model.size) {
      throw new RangeError(`optimizer state buffers[${k}] has ${b.length} values; the model has ${model.size} parameters`);
    }
    // A NaN moment would make every later update NaN, reported only as a divergence; a
    // negative second moment has no square root. (A plain loop: see checkInitOptions.)
    const squares = SQUARED_BUFFER[model.optimizer] === k;
    for (let i = 0; i < b.length; i++) {
      const v = b[i]!;
      if (!Number.isFinite(v) || (squares && v < 0)) {
        throw new RangeError(`optimizer state buffers[${k}] holds ${v} at index ${i}; ${squares ? 'a running average of squares must be finite and ≥ 0' : 'it must be finite'}`);
      }
    }
  });
}

/** Which buffer of each optimizer's snapshot is a running average of squared gradients. */
const SQUARED_BUFFER: Record<OptimizerSpec['name'], number | undefined> = { sgd: undefined, rmsprop: 0, adam: 1, adamw: 1 };
