/**
 * The reference training backend: input layer → recurrent stack → dense head → loss,
 * backward, clipping and optimizer update, all in float64 (the specification that the
 * compiled backends are checked against). Parameters, gradients and optimizer state are
 * kept as Float64Array here; the TrainingBackend interface converts at the edges.
 */
import type { ClipSpec, OptimizerSpec } from '../../../optim/optimizers.js';
import type { EvalResult, GradResult, ModelHandle, ModelSpec, OptimizerStateSnapshot, TrainBatch, TrainingBackend, TrainStepResult } from '../../contract.js';
import type { StackBlock } from '../../layout.js';
import { checkModelShapes, inputWidth, modelLayout, stackOutputWidth } from '../../layout.js';
import { hasCellState } from '../../layout.js';
import { embedBackward } from './embedding.js';
import { headOffsets, modelLoss, need, scatterTopFinalStates, stepInputs, topFinalStates, validMask } from './wiring.js';
import { denseBackward, denseForward } from './head.js';
import type { LossResult } from './loss.js';
import { clipByGlobalNorm, clipByValue, globalNorm } from './clip.js';
import { createOptimizerState, optimizerBufferKeys, optimizerStep } from './optimizers.js';
import { checkOptimizerSnapshot } from '../../../optim/optimizers.js';
import type { OptimizerState } from './optimizers.js';
import { runStack, runStackBackward } from './stack-runner.js';
import type { StackRun } from './stack-runner.js';
import { DropoutMasks } from './dropout.js';
import type { SessionHandle, SessionInputs, SessionState } from '../../contract.js';
import { getSessionState, ownSession, ReferenceSession, sessionStep, setSessionState } from './session.js';

/** A model in the reference backend's memory. */
export class ReferenceModel implements ModelHandle {
  readonly backend = 'reference' as const;
  readonly layout: ReturnType<typeof modelLayout>;
  readonly params: Float64Array;
  /** Gradient of the last step, before clipping. */
  grads: Float64Array;
  optimizer: OptimizerState | undefined;
  clip: ClipSpec = {};
  disposed = false;
  /** 1 for each parameter of a frozen embedding table (absent: nothing frozen). */
  readonly frozen: Uint8Array | undefined;
  constructor(readonly spec: ModelSpec) {
    this.layout = modelLayout(spec);
    this.params = new Float64Array(this.layout.total);
    this.grads = new Float64Array(this.layout.total);
    this.frozen = frozenMask(spec, this.layout);
  }
}

/**
 * The parameters of frozen embedding tables (InputSpec `frozen`), or undefined. They get
 * no gradient (so they add nothing to the norm) and the optimizer skips them.
 */
function frozenMask(spec: ModelSpec, layout: ReturnType<typeof modelLayout>): Uint8Array | undefined {
  const isFrozen = (input: ModelSpec['input'] | undefined) => input?.kind === 'embedding' && input.frozen === true;
  const parts = layout.entries.filter((e) => (e.part === 'embedding' && isFrozen(spec.input)) || (e.part === 'encoder.embedding' && isFrozen(spec.encoder?.input)));
  if (parts.length === 0) return undefined;
  const mask = new Uint8Array(layout.total);
  for (const e of parts) mask.fill(1, e.offset, e.offset + e.size);
  return mask;
}

/** Everything a forward pass leaves for backward. */
interface ForwardPass {
  N: number;
  x: Float64Array;
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  z: Float64Array;
  run: StackRun;
  /** What the head read: [rows][D·S] (the outputs at every step, or the final states). */
  headIn: Float64Array;
  /** Head rows: T·B for 'steps' readout, B for 'final_state'. */
  rows: number;
  /** Per head row: 1 if it is not padding (absent: all valid). */
  valid?: Uint8Array;
  encoder?: EncoderPass;
  /** Input dropout mask [N][width] (training with input dropout only). */
  inputMask?: Float64Array;
}

/** The encoder's part of a seq2seq forward pass. */
interface EncoderPass {
  x: Float64Array;
  run: StackRun;
  N: number;
  inputMask?: Float64Array;
}

/** The float64 reference TrainingBackend; `…64` methods expose float64 values for checks. */
export class ReferenceTraining implements TrainingBackend {
  readonly name = 'reference' as const;

  createModel(spec: ModelSpec): ReferenceModel {
    checkModelShapes(spec);
    return new ReferenceModel(spec);
  }

  setParams(model: ModelHandle, flat: Float32Array): void {
    const m = own(model);
    if (flat.length !== m.params.length) throw new RangeError(`params must have ${m.params.length} values; got ${flat.length}`);
    m.params.set(flat);
  }

  /** float64 access for gradient checks. */
  setParams64(model: ModelHandle, flat: Float64Array): void {
    const m = own(model);
    if (flat.length !== m.params.length) throw new RangeError(`params must have ${m.params.length} values; got ${flat.length}`);
    m.params.set(flat);
  }

  getParams(model: ModelHandle): Float32Array {
    return Float32Array.from(own(model).params);
  }

  getParams64(model: ModelHandle): Float64Array {
    return own(model).params.slice();
  }

  getGrads(model: ModelHandle): Float32Array {
    return Float32Array.from(own(model).grads);
  }

  getGrads64(model: ModelHandle): Float64Array {
    return own(model).grads.slice();
  }

  setOptimizer(model: ModelHandle, optimizer: OptimizerSpec, clip?: ClipSpec): void {
    const m = own(model);
    m.optimizer = createOptimizerState(optimizer);
    m.clip = { ...(clip ?? {}) };
  }

  setLearningRate(model: ModelHandle, lr: number): void {
    const m = own(model);
    if (!m.optimizer) throw new Error('setLearningRate: the model has no optimizer; call setOptimizer first');
    m.optimizer.spec.lr = lr;
  }

  getOptimizerState(model: ModelHandle): OptimizerStateSnapshot | undefined {
    const m = own(model);
    const o = m.optimizer;
    if (!o || o.step === 0) return undefined;
    // After a step the buffers exist (created by the first update, or restored).
    const buffers = optimizerBufferKeys(o.spec).map((k) => o[k]?.slice() ?? new Float64Array(m.params.length));
    return { optimizer: o.spec.name, step: o.step, buffers };
  }

  setOptimizerState(model: ModelHandle, state: OptimizerStateSnapshot): void {
    const m = own(model);
    const o = m.optimizer;
    if (!o) throw new Error('setOptimizerState: the model has no optimizer; call setOptimizer first');
    const keys = optimizerBufferKeys(o.spec);
    checkOptimizerSnapshot(state, { optimizer: o.spec.name, buffers: keys.length, size: m.params.length });
    o.step = state.step;
    keys.forEach((k, i) => (o[k] = Float64Array.from(state.buffers[i])));
  }

  async trainStep(model: ModelHandle, batch: TrainBatch): Promise<TrainStepResult> {
    return this.trainStepSync(model, batch);
  }

  trainStepSync(model: ModelHandle, batch: TrainBatch): TrainStepResult {
    const m = own(model);
    if (!m.optimizer) throw new Error('trainStep: the model has no optimizer; call setOptimizer first');
    const { pass, loss, grads } = this.gradient(m, batch);
    m.grads = grads.slice();
    const g = grads;
    if (m.clip.clipValue !== undefined) clipByValue(g, m.clip.clipValue);
    const totalNorm = m.clip.maxNorm !== undefined ? clipByGlobalNorm(g, m.clip.maxNorm) : globalNorm(g);
    // A non-finite loss or gradient must leave the parameters as they were.
    if (Number.isFinite(loss.loss) && Number.isFinite(totalNorm)) optimizerStep(m.optimizer, m.params, g, m.frozen);
    return {
      loss: loss.loss, count: loss.count, correct: loss.correct, totalNorm,
      hn: Float32Array.from(pass.hn), cn: pass.cn ? Float32Array.from(pass.cn) : undefined,
    };
  }

  async evaluate(model: ModelHandle, batch: TrainBatch): Promise<EvalResult> {
    return this.evaluateSync(model, batch);
  }

  evaluateSync(model: ModelHandle, batch: TrainBatch): EvalResult {
    const m = own(model);
    const pass = this.forward(m, batch, false);
    const hasTargets = m.spec.loss.kind === 'cross_entropy' ? !!batch.targets : !!batch.targetValues;
    const loss = hasTargets ? this.loss(m, batch, pass) : { loss: NaN, count: 0, correct: 0 };
    return {
      loss: loss.loss, count: loss.count, correct: loss.correct,
      outputs: Float32Array.from(pass.z), y: Float32Array.from(pass.y), hn: Float32Array.from(pass.hn), cn: pass.cn ? Float32Array.from(pass.cn) : undefined,
    };
  }

  lossAndGradsSync(model: ModelHandle, batch: TrainBatch): GradResult {
    const m = own(model);
    const { loss, grads } = this.gradient(m, batch);
    m.grads = grads.slice();
    return { loss: loss.loss, count: loss.count, grads: Float32Array.from(grads) };
  }

  /** Loss and float64 gradient (finite-difference checks). */
  lossAndGrads64(model: ModelHandle, batch: TrainBatch): { loss: number; grads: Float64Array } {
    const { loss, grads } = this.gradient(own(model), batch);
    return { loss: loss.loss, grads };
  }

  /** Loss only, float64; `training` applies dropout as a training step would. */
  loss64(model: ModelHandle, batch: TrainBatch, training = false): number {
    const m = own(model);
    return this.loss(m, batch, this.forward(m, batch, training)).loss;
  }

  /** Forward of the whole model; float64 y/hn/cn of the stack for inspection. */
  forward64(model: ModelHandle, batch: TrainBatch): { y: Float64Array; hn: Float64Array; cn?: Float64Array; outputs: Float64Array } {
    const p = this.forward(own(model), batch, false);
    return { y: p.y, hn: p.hn, cn: p.cn, outputs: p.z };
  }

  disposeModel(model: ModelHandle): void {
    own(model).disposed = true;
  }

  // Generation sessions (session.ts).
  createSession(model: ModelHandle, batch: number): SessionHandle {
    return new ReferenceSession(own(model), batch);
  }

  async sessionStep(session: SessionHandle, inputs: SessionInputs): Promise<Float32Array> {
    return this.sessionStepSync(session, inputs);
  }

  sessionStepSync(session: SessionHandle, inputs: SessionInputs): Float32Array {
    return sessionStep((m, b) => this.forward64(m, b), ownSession(session), inputs);
  }

  sessionSetState(session: SessionHandle, state: Partial<SessionState>): void {
    setSessionState(ownSession(session), state);
  }

  sessionGetState(session: SessionHandle): SessionState {
    return getSessionState(ownSession(session));
  }

  disposeSession(session: SessionHandle): void {
    ownSession(session, true).disposed = true;
  }

  /** The whole model forward; `training` turns dropout on (masks from batch.dropoutSeed). */
  private forward(m: ReferenceModel, batch: TrainBatch, training: boolean): ForwardPass {
    const { spec, layout, params } = m;
    const T = batch.steps;
    const B = batch.batch;
    const N = T * B;
    const K = spec.conditionSize;
    const cond = K > 0 && batch.condition ? Float64Array.from(batch.condition) : undefined;
    const masks = training && spec.dropout ? new DropoutMasks(spec.dropout, batch.dropoutSeed ?? 0) : undefined;
    let h0: Float64Array | undefined = batch.h0 ? Float64Array.from(batch.h0) : undefined;
    let c0: Float64Array | undefined = batch.c0 && hasCellState(spec.stack.cell) ? Float64Array.from(batch.c0) : undefined;
    let encoder: EncoderPass | undefined;
    if (spec.encoder && batch.source) {
      // Seq2seq: h0/c0 start the encoder; its final state starts the decoder.
      const enc = spec.encoder;
      const src = batch.source;
      const Ns = src.steps * B;
      let xe = stepInputs(enc.input, params, layout.encoder!.embeddingOffset, src.tokens, src.x, Ns, undefined, 0, B);
      const inputMask = masks?.input(Ns, inputWidth(enc.input), 0);
      if (inputMask) xe = xe.map((v, i) => v * inputMask[i]);
      const run = runStack(enc.stack, stackView(params, layout.encoder!.stack), xe, src.steps, B, h0,
        hasCellState(enc.stack.cell) ? c0 : undefined, src.lengths, masks?.betweenFn());
      encoder = { x: xe, run, N: Ns, inputMask };
      h0 = run.hn;
      c0 = run.cn;
    }
    let x = stepInputs(spec.input, params, layout.embeddingOffset, batch.tokens, batch.x, N, cond, K, B);
    const inputMask = masks?.input(N, inputWidth(spec.input), K);
    if (inputMask) x = x.map((v, i) => v * inputMask[i]);
    const run = runStack(spec.stack, stackView(params, layout.stack), x, T, B, h0, c0, batch.lengths, masks?.betweenFn());
    const F = stackOutputWidth(spec.stack);
    const [hw, hb] = headOffsets(layout);
    if (spec.readout === 'final_state') {
      const headIn = topFinalStates(spec.stack, run.hn, B);
      const z = denseForward(params, hw, hb, headIn, B, F, spec.outputs);
      return { N, x, y: run.y, hn: run.hn, cn: run.cn, z, run, headIn, rows: B, encoder, inputMask };
    }
    const z = denseForward(params, hw, hb, run.y, N, F, spec.outputs);
    const valid = validMask(T, B, batch.lengths);
    return { N, x, y: run.y, hn: run.hn, cn: run.cn, z, run, headIn: run.y, rows: N, valid, encoder, inputMask };
  }

  private loss(m: ReferenceModel, batch: TrainBatch, pass: ForwardPass): LossResult {
    return modelLoss(m.spec, batch, pass.z, pass.rows, pass.valid);
  }

  private gradient(m: ReferenceModel, batch: TrainBatch): { pass: ForwardPass; loss: LossResult; grads: Float64Array } {
    const { spec, layout, params } = m;
    const pass = this.forward(m, batch, true);
    const loss = this.loss(m, batch, pass);
    const grads = new Float64Array(layout.total);
    const F = stackOutputWidth(spec.stack);
    const [hw, hb] = headOffsets(layout);
    const dHead = denseBackward(params, grads, hw, hb, pass.headIn, loss.dz, pass.rows, F, spec.outputs);
    let back;
    if (spec.readout === 'final_state') {
      // The head read the top layer's final states: its gradient enters as dhn, none as dy.
      const dhn = new Float64Array(pass.hn.length);
      scatterTopFinalStates(spec.stack, dHead, batch.batch, dhn);
      back = runStackBackward(spec.stack, stackView(params, layout.stack), pass.run, new Float64Array(pass.y.length), dhn);
    } else {
      back = runStackBackward(spec.stack, stackView(params, layout.stack), pass.run, dHead);
    }
    grads.set(back.grads, layout.stack.offset);
    // A frozen table gets no gradient (requires_grad = False): its entries stay 0.
    if (spec.input.kind === 'embedding' && !spec.input.frozen) {
      const W = spec.input.dim + spec.conditionSize;
      const dx = pass.inputMask ? back.dx.map((v, i) => v * pass.inputMask![i]) : back.dx;
      embedBackward(dx, W, need(batch.tokens, 'tokens'), pass.N, grads, layout.embeddingOffset!, spec.input.dim);
    }
    if (pass.encoder) {
      // The decoder's dh0/dc0 is the gradient of the encoder's final state; no loss on its outputs.
      const enc = spec.encoder!;
      const src = batch.source!;
      const encLayout = layout.encoder!;
      const eb = runStackBackward(enc.stack, stackView(params, encLayout.stack), pass.encoder.run,
        new Float64Array(src.steps * batch.batch * stackOutputWidth(enc.stack)), back.dh0, back.dc0);
      grads.set(eb.grads, encLayout.stack.offset);
      if (enc.input.kind === 'embedding' && !enc.input.frozen) {
        const mask = pass.encoder.inputMask;
        const dx = mask ? eb.dx.map((v, i) => v * mask[i]) : eb.dx;
        embedBackward(dx, enc.input.dim, need(src.tokens, 'source.tokens'), pass.encoder.N, grads, encLayout.embeddingOffset!, enc.input.dim);
      }
    }
    return { pass, loss, grads };
  }
}

function stackView(params: Float64Array, block: StackBlock): Float64Array {
  return params.subarray(block.offset, block.offset + block.total);
}

function own(model: ModelHandle): ReferenceModel {
  if (!(model instanceof ReferenceModel)) throw new TypeError('model must be a handle created by the reference training backend');
  if (model.disposed) throw new Error('model has been disposed');
  return model;
}
