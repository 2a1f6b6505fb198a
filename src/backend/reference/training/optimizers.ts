/**
 * Optimizer updates, float64, exactly torch 1.13's single-tensor code paths
 * (`_single_tensor_sgd`, `_rmsprop`, `_adam`, `_adamw`; maximize false, amsgrad false,
 * centered false, rmsprop momentum 0). Formulas: ../../../../shared/golden/README.md,
 * "Optimizer updates". The formulas are elementwise and share hyper-parameters across
 * tensors, so one update over the whole flat parameter buffer equals PyTorch's per-tensor
 * loop with one parameter group.
 */
import type { OptimizerSpec } from '../../training.js';

/** Optimizer state for one flat parameter buffer. */
export interface OptimizerState {
  spec: Required<ResolvedOptimizer>;
  /** Completed steps (t of the next step is step + 1). */
  step: number;
  /** SGD momentum buffer, or Adam's first moment m. */
  buf?: Float64Array;
  /** RMSprop's / Adam's second moment v. */
  sq?: Float64Array;
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

/** Fresh state (step 0, no buffers) for `spec`. */
export function createOptimizerState(spec: OptimizerSpec): OptimizerState {
  return { spec: resolveOptimizer(spec), step: 0 };
}

/** One update of `params` in place with gradient `g` (already clipped). */
export function optimizerStep(state: OptimizerState, params: Float64Array, g: Float64Array): void {
  const o = state.spec;
  const n = params.length;
  state.step += 1;
  const t = state.step;
  const lr = o.lr;
  const wd = o.weightDecay;
  switch (o.name) {
    case 'sgd': {
      const mu = o.momentum;
      if (mu !== 0 && !state.buf) state.buf = new Float64Array(n);
      const buf = state.buf;
      for (let i = 0; i < n; i++) {
        let d = g[i] + wd * params[i];
        if (buf) {
          // The buffer starts as d itself at the first step (not as 0).
          buf[i] = t === 1 ? d : mu * buf[i] + (1 - o.dampening) * d;
          d = o.nesterov ? d + mu * buf[i] : buf[i];
        }
        params[i] -= lr * d;
      }
      return;
    }
    case 'rmsprop': {
      const v = (state.sq ??= new Float64Array(n));
      const a = o.alpha;
      for (let i = 0; i < n; i++) {
        const d = g[i] + wd * params[i];
        v[i] = a * v[i] + (1 - a) * d * d;
        params[i] -= (lr * d) / (Math.sqrt(v[i]) + o.eps);
      }
      return;
    }
    case 'adam':
    case 'adamw': {
      const m = (state.buf ??= new Float64Array(n));
      const v = (state.sq ??= new Float64Array(n));
      const b1 = o.beta1;
      const b2 = o.beta2;
      const stepSize = lr / (1 - Math.pow(b1, t));
      const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
      const decoupled = o.name === 'adamw';
      for (let i = 0; i < n; i++) {
        let d = g[i];
        if (decoupled) params[i] *= 1 - lr * wd;
        else d += wd * params[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        // ε is added after √v is divided by √(1 − β2^t), as in torch 1.13.
        params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + o.eps);
      }
      return;
    }
  }
}
