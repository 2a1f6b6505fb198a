/**
 * Optimizer updates, float64, exactly torch 1.13's single-tensor code paths
 * (`_single_tensor_sgd`, `_rmsprop`, `_adam`, `_adamw`; maximize false, amsgrad false,
 * centered false, rmsprop momentum 0). Formulas: ../../../../shared/golden/README.md,
 * "Optimizer updates". The formulas are elementwise and share hyper-parameters across
 * tensors, so one update over the whole flat parameter buffer equals PyTorch's per-tensor
 * loop with one parameter group.
 */
import { resolveOptimizer, type OptimizerSpec, type ResolvedOptimizer } from '../../../optim/optimizers.js';

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

/**
 * The buffers `o` keeps, in snapshot order (OptimizerStateSnapshot; rnnkit.h
 * rk_model_optimizer_state keeps the same): sgd with momentum [buf] (momentum_buffer),
 * rmsprop [sq] (square_avg), adam / adamw [buf, sq] (exp_avg, exp_avg_sq).
 */
export function optimizerBufferKeys(o: ResolvedOptimizer): ('buf' | 'sq')[] {
  switch (o.name) {
    case 'sgd':
      return o.momentum !== 0 ? ['buf'] : [];
    case 'rmsprop':
      return ['sq'];
    case 'adam':
    case 'adamw':
      return ['buf', 'sq'];
  }
}

/** Fresh state (step 0, no buffers) for `spec`. */
export function createOptimizerState(spec: OptimizerSpec): OptimizerState {
  return { spec: resolveOptimizer(spec), step: 0 };
}

/**
 * One update of `params` in place with gradient `g` (already clipped). Elements with
 * `frozen[i] = 1` (a frozen embedding table, PyTorch's requires_grad = False) are skipped:
 * no update, no weight decay, their buffer entries untouched.
 */
export function optimizerStep(state: OptimizerState, params: Float64Array, g: Float64Array, frozen?: Uint8Array): void {
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
        if (frozen?.[i]) continue;
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
        if (frozen?.[i]) continue;
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
        if (frozen?.[i]) continue;
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
