/**
 * FusedTraining: the TrainingBackend of a compiled backend whose kernels run a whole
 * training window in ONE call (rk_model_train_step of native/include/rnnkit.h: forward,
 * loss, backward, clipping and the optimizer update, with parameters, gradients and
 * optimizer state living in the backend). The native addon (native-training.ts) and the
 * wasm module (wasm-training.ts) each supply a {@link FusedEngine} over their bindings.
 *
 * What is fused (native/src/model.cc) — today every ModelSpec: embedding, one-hot or dense input, with or without
 * a conditioning vector; any stack (every cell, layers, bidirectional, lengths, h0/c0);
 * readout of every step or of the final states; softmax cross-entropy with an ignore
 * index or MSE with a target mask; dropout on the input and between layers (masks drawn
 * as reference/training/dropout.ts); seq2seq encoders; SGD (momentum,
 * dampening, Nesterov, weight decay), RMSprop, Adam, AdamW; clipping by value and by
 * global norm.
 *
 * Delegation to ComposedTraining over the same backend's stack calls (correct, but the head,
 * loss and optimizer then run in TypeScript) stays as the path for any future ModelSpec
 * feature the kernels do not have yet: {@link unfusedReason} names it; none does today.
 * It decides, per model, at
 * createModel; the handle then remembers which path it lives on.
 */
import type { Backend, BackendName } from './backend.js';
import { ComposedTraining } from './composed-training.js';
import { resolveOptimizer, type ResolvedOptimizer } from './reference/training/optimizers.js';
import type {
  ClipSpec, EvalResult, GradResult, ModelHandle, ModelSpec, OptimizerSpec, TrainBatch, TrainingBackend, TrainStepResult,
} from './training.js';
import { checkModelShapes, modelLayout } from './training.js';

/** Why `spec` cannot run on the fused path (undefined: it can). */
export function unfusedReason(_spec: ModelSpec): string | undefined {
  return undefined;
}

/** Optimizer and clipping with every PyTorch default filled in: what the engines take. */
export type FusedOptimizer = ResolvedOptimizer & { clipValue?: number; maxNorm?: number };

export function fusedOptimizer(optimizer: OptimizerSpec, clip: ClipSpec | undefined): FusedOptimizer {
  const o = resolveOptimizer(optimizer);
  return {
    name: o.name, lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov,
    weightDecay: o.weightDecay, alpha: o.alpha, eps: o.eps, beta1: o.beta1, beta2: o.beta2,
    ...(clip?.clipValue !== undefined ? { clipValue: clip.clipValue } : {}),
    ...(clip?.maxNorm !== undefined ? { maxNorm: clip.maxNorm } : {}),
  };
}

/** One backend's bindings of the rk_model_* calls. H is its own model handle. */
export interface FusedEngine<H> {
  create(spec: ModelSpec): H;
  paramCount(h: H): number;
  setParams(h: H, flat: Float32Array): void;
  getParams(h: H): Float32Array;
  getGrads(h: H): Float32Array;
  setOptimizer(h: H, o: FusedOptimizer): void;
  setLr(h: H, lr: number): void;
  trainStep(h: H, b: TrainBatch): Promise<TrainStepResult>;
  trainStepSync(h: H, b: TrainBatch): TrainStepResult;
  lossAndGradsSync(h: H, b: TrainBatch): { loss: number; count: number };
  evaluate(h: H, b: TrainBatch): Promise<EvalResult>;
  evaluateSync(h: H, b: TrainBatch): EvalResult;
  dispose(h: H): void;
}

/** A model on the fused path. */
export class FusedModel<H = unknown> implements ModelHandle {
  disposed = false;
  hasOptimizer = false;
  constructor(
    readonly backend: BackendName,
    readonly spec: ModelSpec,
    readonly engineHandle: H,
    /** The FusedTraining that made it (a model of another instance is refused). */
    readonly owner: object,
  ) {}
}

export class FusedTraining<H> implements TrainingBackend {
  private composedTraining: ComposedTraining | undefined;

  constructor(
    readonly name: BackendName,
    private readonly engine: FusedEngine<H>,
    /** The backend whose stack calls the delegated models run on. */
    private readonly backend: Backend,
  ) {}

  /** The trainer of the models the fused path does not support. */
  get composed(): ComposedTraining {
    return (this.composedTraining ??= new ComposedTraining(this.backend));
  }

  /** Whether `spec` would be trained by the fused path (else by ComposedTraining). */
  isFused(spec: ModelSpec): boolean {
    return unfusedReason(spec) === undefined;
  }

  createModel(spec: ModelSpec): ModelHandle {
    if (!this.isFused(spec)) return this.composed.createModel(spec);
    checkModelShapes(spec);
    const h = this.engine.create(spec);
    const expected = modelLayout(spec).total;
    const actual = this.engine.paramCount(h);
    if (actual !== expected) {
      this.engine.dispose(h);
      throw new Error(`${this.name} model layout differs from modelLayout (training.ts): the kernels count ${actual} floats, modelLayout ${expected}`);
    }
    return new FusedModel(this.name, spec, h, this);
  }

  /** The fused model behind `model`, or undefined when it belongs to the composed path. */
  private fused(model: ModelHandle): FusedModel<H> | undefined {
    if (model instanceof FusedModel) {
      if (model.owner !== this) throw new TypeError(`model must be a handle created by this ${this.name} training backend`);
      if (model.disposed) throw new Error('model has been disposed');
      return model as FusedModel<H>;
    }
    return undefined;
  }

  setParams(model: ModelHandle, flat: Float32Array): void {
    const m = this.fused(model);
    if (!m) return this.composed.setParams(model, flat);
    this.engine.setParams(m.engineHandle, flat);
  }

  getParams(model: ModelHandle): Float32Array {
    const m = this.fused(model);
    return m ? this.engine.getParams(m.engineHandle) : this.composed.getParams(model);
  }

  getGrads(model: ModelHandle): Float32Array {
    const m = this.fused(model);
    return m ? this.engine.getGrads(m.engineHandle) : this.composed.getGrads(model);
  }

  setOptimizer(model: ModelHandle, optimizer: OptimizerSpec, clip?: ClipSpec): void {
    const m = this.fused(model);
    if (!m) return this.composed.setOptimizer(model, optimizer, clip);
    this.engine.setOptimizer(m.engineHandle, fusedOptimizer(optimizer, clip));
    m.hasOptimizer = true;
  }

  setLearningRate(model: ModelHandle, lr: number): void {
    const m = this.fused(model);
    if (!m) return this.composed.setLearningRate(model, lr);
    if (!m.hasOptimizer) throw new Error('setLearningRate: the model has no optimizer; call setOptimizer first');
    this.engine.setLr(m.engineHandle, lr);
  }

  trainStep(model: ModelHandle, batch: TrainBatch): Promise<TrainStepResult> {
    try {
      const m = this.fused(model);
      if (!m) return this.composed.trainStep(model, batch);
      this.needOptimizer(m);
      return this.engine.trainStep(m.engineHandle, batch);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  trainStepSync(model: ModelHandle, batch: TrainBatch): TrainStepResult {
    const m = this.fused(model);
    if (!m) return this.composed.trainStepSync(model, batch);
    this.needOptimizer(m);
    return this.engine.trainStepSync(m.engineHandle, batch);
  }

  evaluate(model: ModelHandle, batch: TrainBatch): Promise<EvalResult> {
    try {
      const m = this.fused(model);
      if (!m) return this.composed.evaluate(model, batch);
      return this.engine.evaluate(m.engineHandle, batch);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  evaluateSync(model: ModelHandle, batch: TrainBatch): EvalResult {
    const m = this.fused(model);
    return m ? this.engine.evaluateSync(m.engineHandle, batch) : this.composed.evaluateSync(model, batch);
  }

  lossAndGradsSync(model: ModelHandle, batch: TrainBatch): GradResult {
    const m = this.fused(model);
    if (!m) return this.composed.lossAndGradsSync(model, batch);
    const r = this.engine.lossAndGradsSync(m.engineHandle, batch);
    return { loss: r.loss, count: r.count, grads: this.engine.getGrads(m.engineHandle) };
  }

  disposeModel(model: ModelHandle): void {
    const m = this.fused(model);
    if (!m) return this.composed.disposeModel(model);
    m.disposed = true;
    this.engine.dispose(m.engineHandle);
  }

  private needOptimizer(m: FusedModel<H>): void {
    if (!m.hasOptimizer) throw new Error('trainStep: the model has no optimizer; call setOptimizer first');
  }
}
