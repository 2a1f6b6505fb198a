/**
 * FusedTraining: the TrainingBackend of a compiled backend whose kernels run a whole
 * training window in ONE call (rk_model_train_step of native/include/rnnkit.h: forward,
 * loss, backward, clipping and the optimizer update, with parameters, gradients and
 * optimizer state living in the backend). The native addon (native/training.ts) and the
 * wasm module (wasm/training.ts) each supply a {@link FusedEngine} over their bindings.
 *
 * What is fused (native/src/model.cc) — today every ModelSpec: embedding, one-hot or dense input, with or without
 * a conditioning vector; any stack (every cell, layers, bidirectional, lengths, h0/c0);
 * readout of every step or of the final states; softmax cross-entropy with an ignore
 * index or MSE with a target mask; dropout on the input and between layers (masks drawn
 * as reference/training/dropout.ts); seq2seq encoders; frozen embedding tables; SGD (momentum,
 * dampening, Nesterov, weight decay), RMSprop, Adam, AdamW; clipping by value and by
 * global norm. The optimizer's state (step count and buffers) is read and restored for
 * checkpoints through rk_model_optimizer_state / _get_optimizer_buffer /
 * _set_optimizer_state; snapshots are checked here exactly as the reference checks them
 * (src/optim/optimizers.ts checkOptimizerSnapshot).
 */
import type { BackendName } from './contract.js';
import { optimizerSettings, type ClipSpec, type OptimizerSettings, type OptimizerSpec } from '../optim/optimizers.js';
import type { EvalResult, GradResult, ModelHandle, ModelSpec, OptimizerStateSnapshot, TrainBatch, TrainingBackend, TrainStepResult } from './contract.js';
import { checkModelShapes } from './layout.js';
import { parseLayout } from './abi/structs.js';
import { checkOptimizerSnapshot } from '../optim/optimizers.js';
import type { SessionHandle, SessionInputs, SessionState } from './contract.js';

/** One backend's bindings of the rk_model_* calls. H is its own model handle. */
export interface FusedEngine<H> {
  create(spec: ModelSpec): H;
  /** The parameter layout as the kernels lay it out (rk_model_layout's text). */
  layoutText(h: H): string;
  paramCount(h: H): number;
  setParams(h: H, flat: Float32Array): void;
  getParams(h: H): Float32Array;
  getGrads(h: H): Float32Array;
  setOptimizer(h: H, o: OptimizerSettings): void;
  setLr(h: H, lr: number): void;
  /** rk_model_optimizer_state: updates made, and how many buffers the optimizer keeps. */
  optimizerState(h: H): { step: number; buffers: number };
  /** rk_model_get_optimizer_buffer: buffer k (paramCount floats). */
  getOptimizerBuffer(h: H, k: number): Float32Array;
  /** rk_model_set_optimizer_state: the step and every buffer (paramCount floats each). */
  setOptimizerState(h: H, step: number, buffers: Float32Array[]): void;
  trainStep(h: H, b: TrainBatch): Promise<TrainStepResult>;
  trainStepSync(h: H, b: TrainBatch): TrainStepResult;
  lossAndGradsSync(h: H, b: TrainBatch): { loss: number; count: number };
  evaluate(h: H, b: TrainBatch): Promise<EvalResult>;
  evaluateSync(h: H, b: TrainBatch): EvalResult;
  dispose(h: H): void;
  /** rk_session_* (generation sessions): S is the engine's own session handle. */
  sessionCreate(h: H, batch: number): unknown;
  sessionStep(s: unknown, b: SessionInputs): Promise<Float32Array>;
  sessionStepSync(s: unknown, b: SessionInputs): Float32Array;
  sessionSetState(s: unknown, state: Partial<SessionState>): void;
  sessionGetState(s: unknown): SessionState;
  sessionDispose(s: unknown): void;
}

/** A generation session on the fused path (contract.ts SessionBackend). */
export class FusedSession implements SessionHandle {
  disposed = false;
  constructor(
    readonly backend: BackendName,
    readonly model: FusedModel,
    readonly engineHandle: unknown,
    readonly owner: object,
  ) {}
}

/** A model on the fused path. */
export class FusedModel<H = unknown> implements ModelHandle {
  disposed = false;
  /** The kind of the optimizer setOptimizer chose (none yet: undefined). */
  optimizer: OptimizerSpec['name'] | undefined;
  constructor(
    readonly backend: BackendName,
    readonly spec: ModelSpec,
    readonly engineHandle: H,
    /** The FusedTraining that made it (a model of another instance is refused). */
    readonly owner: object,
  ) {}
}

export class FusedTraining<H> implements TrainingBackend {
  constructor(
    readonly name: BackendName,
    private readonly engine: FusedEngine<H>,
  ) {}

  createModel(spec: ModelSpec): ModelHandle {
    checkModelShapes(spec);
    return new FusedModel(this.name, spec, this.engine.create(spec), this);
  }

  /**
   * The model's parameter tensors as the kernels lay them out (C owns the layout; the
   * conformance suite compares it entry by entry with layout.ts's modelLayout).
   */
  kernelLayout(model: ModelHandle): { name: string; offset: number; shape: number[] }[] {
    return parseLayout(this.engine.layoutText(this.fused(model).engineHandle));
  }

  /** The live model behind `model` (made by this instance, not disposed). */
  private fused(model: ModelHandle): FusedModel<H> {
    if (!(model instanceof FusedModel) || model.owner !== this) {
      throw new TypeError(`model must be a handle created by this ${this.name} training backend`);
    }
    if (model.disposed) throw new Error('model has been disposed');
    return model as FusedModel<H>;
  }

  setParams(model: ModelHandle, flat: Float32Array): void {
    const m = this.fused(model);
    this.engine.setParams(m.engineHandle, flat);
  }

  getParams(model: ModelHandle): Float32Array {
    const m = this.fused(model);
    return this.engine.getParams(m.engineHandle);
  }

  getGrads(model: ModelHandle): Float32Array {
    const m = this.fused(model);
    return this.engine.getGrads(m.engineHandle);
  }

  setOptimizer(model: ModelHandle, optimizer: OptimizerSpec, clip?: ClipSpec): void {
    const m = this.fused(model);
    this.engine.setOptimizer(m.engineHandle, optimizerSettings(optimizer, clip));
    m.optimizer = optimizer.name;
  }

  setLearningRate(model: ModelHandle, lr: number): void {
    const m = this.fused(model);
    if (!m.optimizer) throw new Error('setLearningRate: the model has no optimizer; call setOptimizer first');
    this.engine.setLr(m.engineHandle, lr);
  }

  getOptimizerState(model: ModelHandle): OptimizerStateSnapshot | undefined {
    const m = this.fused(model);
    if (!m.optimizer) return undefined;
    const { step, buffers } = this.engine.optimizerState(m.engineHandle);
    if (step === 0) return undefined;
    return {
      optimizer: m.optimizer,
      step,
      buffers: Array.from({ length: buffers }, (_, k) => this.engine.getOptimizerBuffer(m.engineHandle, k)),
    };
  }

  setOptimizerState(model: ModelHandle, state: OptimizerStateSnapshot): void {
    const m = this.fused(model);
    if (!m.optimizer) throw new Error('setOptimizerState: the model has no optimizer; call setOptimizer first');
    // The kernels say how many buffers this optimizer keeps (rk_model_optimizer_state).
    const { buffers } = this.engine.optimizerState(m.engineHandle);
    checkOptimizerSnapshot(state, { optimizer: m.optimizer, buffers, size: this.engine.paramCount(m.engineHandle) });
    const f32 = state.buffers.map((b) => (b instanceof Float32Array ? b : Float32Array.from(b)));
    this.engine.setOptimizerState(m.engineHandle, state.step, f32);
  }

  trainStep(model: ModelHandle, batch: TrainBatch): Promise<TrainStepResult> {
    try {
      const m = this.fused(model);
      this.needOptimizer(m);
      return this.engine.trainStep(m.engineHandle, batch);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  trainStepSync(model: ModelHandle, batch: TrainBatch): TrainStepResult {
    const m = this.fused(model);
    this.needOptimizer(m);
    return this.engine.trainStepSync(m.engineHandle, batch);
  }

  evaluate(model: ModelHandle, batch: TrainBatch): Promise<EvalResult> {
    try {
      const m = this.fused(model);
      return this.engine.evaluate(m.engineHandle, batch);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  evaluateSync(model: ModelHandle, batch: TrainBatch): EvalResult {
    const m = this.fused(model);
    return this.engine.evaluateSync(m.engineHandle, batch);
  }

  lossAndGradsSync(model: ModelHandle, batch: TrainBatch): GradResult {
    const m = this.fused(model);
    const r = this.engine.lossAndGradsSync(m.engineHandle, batch);
    return { loss: r.loss, count: r.count, grads: this.engine.getGrads(m.engineHandle) };
  }

  disposeModel(model: ModelHandle): void {
    const m = this.fused(model);
    m.disposed = true;
    this.engine.dispose(m.engineHandle);
  }

  createSession(model: ModelHandle, batch: number): SessionHandle {
    const m = this.fused(model);
    return new FusedSession(this.name, m, this.engine.sessionCreate(m.engineHandle, batch), this);
  }

  /** The session behind `session` (made by this instance), checked not disposed unless `disposing`. */
  private session(session: SessionHandle, disposing = false): FusedSession {
    if (!(session instanceof FusedSession) || session.owner !== this) {
      throw new TypeError(`session must be a handle created by this ${this.name} training backend`);
    }
    if (session.disposed) throw new Error('session has been disposed');
    if (!disposing && session.model.disposed) throw new Error("the session's model has been disposed");
    return session;
  }

  sessionStep(session: SessionHandle, inputs: SessionInputs): Promise<Float32Array> {
    try {
      return this.engine.sessionStep(this.session(session).engineHandle, inputs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  sessionStepSync(session: SessionHandle, inputs: SessionInputs): Float32Array {
    return this.engine.sessionStepSync(this.session(session).engineHandle, inputs);
  }

  sessionSetState(session: SessionHandle, state: Partial<SessionState>): void {
    this.engine.sessionSetState(this.session(session).engineHandle, state);
  }

  sessionGetState(session: SessionHandle): SessionState {
    return this.engine.sessionGetState(this.session(session).engineHandle);
  }

  disposeSession(session: SessionHandle): void {
    const s = this.session(session, true);
    this.engine.sessionDispose(s.engineHandle);
    s.disposed = true;
  }

  private needOptimizer(m: FusedModel<H>): void {
    if (!m.optimizer) throw new Error('trainStep: the model has no optimizer; call setOptimizer first');
  }
}
