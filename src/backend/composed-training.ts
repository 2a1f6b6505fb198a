/**
 * ComposedTraining: whole-window training on ANY Backend, by composing its stack calls
 * with the reference's float64 input, head, loss, clipping and optimizer functions.
 *
 * The recurrent stack — nearly all of the arithmetic — runs in the backend (native addon:
 * C++ on the thread pool via the asynchronous calls; wasm: the wasm kernels); the input
 * layer, the dense head, the loss, clipping and the optimizer run in TypeScript, using
 * exactly the functions of `reference/training/` (no math is written here: this file only
 * moves arrays between them). Parameters are kept as a float64 master copy here, and the
 * stack's float32 copy in the backend is refreshed after every update.
 *
 * This is a correct, complete fallback so that compiled backends train today; a backend
 * that implements the whole window natively (one call) should expose its own `training`.
 * Costs over a fused implementation: the head and optimizer run in JavaScript, and each
 * step crosses the boundary a few times (setParams, forward, backward, getGrads).
 */
import type { Backend, BackendName, StackHandle, StackSpec } from './backend.js';
import { directions, hasCellState, layerInputSize, paramLayout, stateSize } from './layout.js';
import type {
  ClipSpec, EvalResult, GradResult, ModelHandle, ModelSpec, OptimizerSpec, StackBlock, TrainBatch,
  TrainingBackend, TrainStepResult,
} from './training.js';
import { checkModelShapes, inputWidth, modelLayout, stackOutputWidth } from './training.js';
import type { ModelLayout } from './training.js';
import { embedBackward } from './reference/training/embedding.js';
import { denseBackward, denseForward } from './reference/training/head.js';
import type { LossResult } from './reference/training/loss.js';
import { headOffsets, modelLoss, need, scatterTopFinalStates, stepInputs, topFinalStates, validMask } from './reference/training/wiring.js';
import { clipByGlobalNorm, clipByValue, globalNorm } from './reference/training/clip.js';
import { createOptimizerState, optimizerStep } from './reference/training/optimizers.js';
import type { OptimizerState } from './reference/training/optimizers.js';
import { DropoutMasks } from './reference/training/dropout.js';

/** One recurrent stack of the model, as one backend stack or one per layer (dropout between layers). */
interface StackGroup {
  spec: StackSpec;
  block: StackBlock;
  /** One handle for the whole stack, or one per layer with where its parameters sit in `block`. */
  parts: { handle: StackHandle; spec: StackSpec; offset: number; size: number }[];
}

class ComposedModel implements ModelHandle {
  disposed = false;
  readonly layout: ModelLayout;
  readonly params: Float64Array;
  grads: Float64Array;
  optimizer: OptimizerState | undefined;
  clip: ClipSpec = {};
  constructor(
    readonly backend: BackendName,
    readonly spec: ModelSpec,
    readonly decoder: StackGroup,
    readonly encoder: StackGroup | undefined,
  ) {
    this.layout = modelLayout(spec);
    this.params = new Float64Array(this.layout.total);
    this.grads = new Float64Array(this.layout.total);
  }
}

/** A stack call the step flow asks for; the driver answers it synchronously or asynchronously. */
type StackCall =
  | { op: 'forward'; handle: StackHandle; x: Float64Array; steps: number; batch: number; h0?: Float64Array; c0?: Float64Array; lengths?: Int32Array; training: boolean }
  | { op: 'backward'; handle: StackHandle; dy: Float64Array; dhn?: Float64Array; dcn?: Float64Array };

interface StackOut {
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  dx: Float64Array;
  dh0: Float64Array;
  dc0?: Float64Array;
  grads: Float64Array;
}

type Flow<R> = Generator<StackCall, R, StackOut>;

interface GroupRun {
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  masks?: Float64Array[];
}

interface Pass {
  N: number;
  y: Float64Array;
  hn: Float64Array;
  cn?: Float64Array;
  z: Float64Array;
  headIn: Float64Array;
  rows: number;
  valid?: Uint8Array;
  run: GroupRun;
  inputMask?: Float64Array;
  encoder?: { run: GroupRun; N: number; inputMask?: Float64Array };
}

const f32 = (a: Float64Array | undefined) => (a ? Float32Array.from(a) : undefined);
const f64 = (a: Float32Array | undefined) => (a ? Float64Array.from(a) : undefined);

/** The TrainingBackend over any Backend's stack calls (see the file comment). */
export class ComposedTraining implements TrainingBackend {
  readonly name: BackendName;

  constructor(private readonly backend: Backend) {
    this.name = backend.name;
  }

  createModel(spec: ModelSpec): ModelHandle {
    checkModelShapes(spec);
    const layout = modelLayout(spec);
    const perLayer = (spec.dropout?.between ?? 0) > 0;
    const decoder = this.group(spec.stack, layout.stack, perLayer);
    const encoder = spec.encoder ? this.group(spec.encoder.stack, layout.encoder!.stack, perLayer) : undefined;
    const m = new ComposedModel(this.backend.name, spec, decoder, encoder);
    this.push(m);
    return m;
  }

  private group(spec: StackSpec, block: StackBlock, perLayer: boolean): StackGroup {
    if (!perLayer || spec.layers === 1) {
      return { spec, block, parts: [{ handle: this.backend.createStack(spec), spec, offset: 0, size: block.total }] };
    }
    const entries = paramLayout(spec).entries;
    const parts = [];
    for (let l = 0; l < spec.layers; l++) {
      const mine = entries.filter((e) => e.layer === l);
      const offset = mine[0].offset;
      const size = mine[mine.length - 1].offset + mine[mine.length - 1].size - offset;
      const layerSpec = { ...spec, layers: 1, inputSize: layerInputSize(spec, l) };
      parts.push({ handle: this.backend.createStack(layerSpec), spec: layerSpec, offset, size });
    }
    return { spec, block, parts };
  }

  /** Copy the master parameters of every stack into the backend (float32). */
  private push(m: ComposedModel): void {
    for (const g of [m.decoder, m.encoder]) {
      if (!g) continue;
      for (const p of g.parts) {
        const at = g.block.offset + p.offset;
        this.backend.setParams(p.handle, Float32Array.from(m.params.subarray(at, at + p.size)));
      }
    }
  }

  setParams(model: ModelHandle, flat: Float32Array): void {
    const m = own(model, this.name);
    if (flat.length !== m.params.length) throw new RangeError(`params must have ${m.params.length} values; got ${flat.length}`);
    m.params.set(flat);
    this.push(m);
  }

  getParams(model: ModelHandle): Float32Array {
    return Float32Array.from(own(model, this.name).params);
  }

  getGrads(model: ModelHandle): Float32Array {
    return Float32Array.from(own(model, this.name).grads);
  }

  setOptimizer(model: ModelHandle, optimizer: OptimizerSpec, clip?: ClipSpec): void {
    const m = own(model, this.name);
    m.optimizer = createOptimizerState(optimizer);
    m.clip = { ...(clip ?? {}) };
  }

  setLearningRate(model: ModelHandle, lr: number): void {
    const m = own(model, this.name);
    if (!m.optimizer) throw new Error('setLearningRate: the model has no optimizer; call setOptimizer first');
    m.optimizer.spec.lr = lr;
  }

  trainStep(model: ModelHandle, batch: TrainBatch): Promise<TrainStepResult> {
    return this.driveAsync(this.trainFlow(own(model, this.name), batch));
  }

  trainStepSync(model: ModelHandle, batch: TrainBatch): TrainStepResult {
    return this.driveSync(this.trainFlow(own(model, this.name), batch));
  }

  evaluate(model: ModelHandle, batch: TrainBatch): Promise<EvalResult> {
    return this.driveAsync(this.evalFlow(own(model, this.name), batch));
  }

  evaluateSync(model: ModelHandle, batch: TrainBatch): EvalResult {
    return this.driveSync(this.evalFlow(own(model, this.name), batch));
  }

  lossAndGradsSync(model: ModelHandle, batch: TrainBatch): GradResult {
    const r = this.driveSync(this.gradientFlow(own(model, this.name), batch));
    return { loss: r.loss.loss, count: r.loss.count, grads: Float32Array.from(r.grads) };
  }

  disposeModel(model: ModelHandle): void {
    const m = own(model, this.name);
    for (const g of [m.decoder, m.encoder]) for (const p of g?.parts ?? []) this.backend.dispose(p.handle);
    m.disposed = true;
  }

  // ---- drivers: answer the flow's stack calls ------------------------------------------

  private driveSync<R>(flow: Flow<R>): R {
    let next = flow.next();
    while (!next.done) next = flow.next(this.callSync(next.value));
    return next.value;
  }

  private async driveAsync<R>(flow: Flow<R>): Promise<R> {
    let next = flow.next();
    while (!next.done) next = flow.next(await this.callAsync(next.value));
    return next.value;
  }

  private callSync(c: StackCall): StackOut {
    if (c.op === 'forward') return forwardOut(this.backend.forwardSync(c.handle, forwardRequest(c)));
    this.backend.zeroGrads(c.handle);
    const b = this.backend.backwardSync(c.handle, backwardRequest(c));
    return backwardOut(b, this.backend.getGrads(c.handle));
  }

  private async callAsync(c: StackCall): Promise<StackOut> {
    if (c.op === 'forward') return forwardOut(await this.backend.forward(c.handle, forwardRequest(c)));
    this.backend.zeroGrads(c.handle);
    const b = await this.backend.backward(c.handle, backwardRequest(c));
    return backwardOut(b, this.backend.getGrads(c.handle));
  }

  // ---- the step, as a flow of stack calls ----------------------------------------------

  private *trainFlow(m: ComposedModel, batch: TrainBatch): Flow<TrainStepResult> {
    if (!m.optimizer) throw new Error('trainStep: the model has no optimizer; call setOptimizer first');
    const { pass, loss, grads } = yield* this.gradientFlow(m, batch);
    m.grads = grads.slice();
    if (m.clip.clipValue !== undefined) clipByValue(grads, m.clip.clipValue);
    const totalNorm = m.clip.maxNorm !== undefined ? clipByGlobalNorm(grads, m.clip.maxNorm) : globalNorm(grads);
    // A non-finite loss or gradient must leave the parameters as they were.
    if (Number.isFinite(loss.loss) && Number.isFinite(totalNorm)) {
      optimizerStep(m.optimizer, m.params, grads);
      this.push(m);
    }
    return { loss: loss.loss, count: loss.count, correct: loss.correct, totalNorm, hn: Float32Array.from(pass.hn), cn: f32(pass.cn) };
  }

  private *evalFlow(m: ComposedModel, batch: TrainBatch): Flow<EvalResult> {
    const pass = yield* this.forwardFlow(m, batch, false);
    const hasTargets = m.spec.loss.kind === 'cross_entropy' ? !!batch.targets : !!batch.targetValues;
    const loss = hasTargets ? modelLoss(m.spec, batch, pass.z, pass.rows, pass.valid) : { loss: NaN, count: 0, correct: 0 };
    return {
      loss: loss.loss, count: loss.count, correct: loss.correct,
      outputs: Float32Array.from(pass.z), y: Float32Array.from(pass.y), hn: Float32Array.from(pass.hn), cn: f32(pass.cn),
    };
  }

  private *forwardFlow(m: ComposedModel, batch: TrainBatch, training: boolean): Flow<Pass> {
    const { spec, layout, params } = m;
    const T = batch.steps;
    const B = batch.batch;
    const N = T * B;
    const K = spec.conditionSize;
    const cond = K > 0 ? f64(batch.condition) : undefined;
    const masks = training && spec.dropout ? new DropoutMasks(spec.dropout, batch.dropoutSeed ?? 0) : undefined;
    let h0: Float64Array | undefined = f64(batch.h0);
    let c0: Float64Array | undefined = hasCellState(spec.stack.cell) ? f64(batch.c0) : undefined;
    let encoder: Pass['encoder'];
    if (spec.encoder && batch.source && m.encoder) {
      const src = batch.source;
      const Ns = src.steps * B;
      let xe = stepInputs(spec.encoder.input, params, layout.encoder!.embeddingOffset, src.tokens, src.x, Ns, undefined, 0, B);
      const inputMask = masks?.input(Ns, inputWidth(spec.encoder.input), 0);
      if (inputMask) xe = xe.map((v, i) => v * inputMask[i]);
      const run = yield* runGroup(m.encoder, xe, src.steps, B, h0, c0, src.lengths, masks?.betweenFn(), training);
      encoder = { run, N: Ns, inputMask };
      h0 = run.hn;
      c0 = run.cn;
    }
    let x = stepInputs(spec.input, params, layout.embeddingOffset, batch.tokens, batch.x, N, cond, K, B);
    const inputMask = masks?.input(N, inputWidth(spec.input), K);
    if (inputMask) x = x.map((v, i) => v * inputMask[i]);
    const run = yield* runGroup(m.decoder, x, T, B, h0, c0, batch.lengths, masks?.betweenFn(), training);
    const F = stackOutputWidth(spec.stack);
    const [hw, hb] = headOffsets(layout);
    if (spec.readout === 'final_state') {
      const headIn = topFinalStates(spec.stack, run.hn, B);
      const z = denseForward(params, hw, hb, headIn, B, F, spec.outputs);
      return { N, y: run.y, hn: run.hn, cn: run.cn, z, headIn, rows: B, run, inputMask, encoder };
    }
    const z = denseForward(params, hw, hb, run.y, N, F, spec.outputs);
    const valid = validMask(T, B, batch.lengths);
    return { N, y: run.y, hn: run.hn, cn: run.cn, z, headIn: run.y, rows: N, valid, run, inputMask, encoder };
  }

  private *gradientFlow(m: ComposedModel, batch: TrainBatch): Flow<{ pass: Pass; loss: LossResult; grads: Float64Array }> {
    const { spec, layout, params } = m;
    const pass = yield* this.forwardFlow(m, batch, true);
    const loss = modelLoss(spec, batch, pass.z, pass.rows, pass.valid);
    const grads = new Float64Array(layout.total);
    const F = stackOutputWidth(spec.stack);
    const [hw, hb] = headOffsets(layout);
    const dHead = denseBackward(params, grads, hw, hb, pass.headIn, loss.dz, pass.rows, F, spec.outputs);
    let dy = dHead;
    let dhn: Float64Array | undefined;
    if (spec.readout === 'final_state') {
      dy = new Float64Array(pass.y.length);
      dhn = new Float64Array(pass.hn.length);
      scatterTopFinalStates(spec.stack, dHead, batch.batch, dhn);
    }
    const back = yield* backGroup(m.decoder, pass.run, dy, dhn, undefined, grads, batch.batch);
    if (spec.input.kind === 'embedding') {
      const W = spec.input.dim + spec.conditionSize;
      const dx = pass.inputMask ? back.dx.map((v, i) => v * pass.inputMask![i]) : back.dx;
      embedBackward(dx, W, need(batch.tokens, 'tokens'), pass.N, grads, layout.embeddingOffset!, spec.input.dim);
    }
    if (pass.encoder && m.encoder) {
      const src = batch.source!;
      const eb = yield* backGroup(m.encoder, pass.encoder.run, new Float64Array(src.steps * batch.batch * stackOutputWidth(m.encoder.spec)),
        back.dh0, back.dc0, grads, batch.batch);
      const enc = spec.encoder!;
      if (enc.input.kind === 'embedding') {
        const mask = pass.encoder.inputMask;
        const dx = mask ? eb.dx.map((v, i) => v * mask[i]) : eb.dx;
        embedBackward(dx, enc.input.dim, need(src.tokens, 'source.tokens'), pass.encoder.N, grads, layout.encoder!.embeddingOffset!, enc.input.dim);
      }
    }
    return { pass, loss, grads };
  }
}

/** Forward of a stack group: one call, or layer by layer with dropout masks between. */
function* runGroup(
  g: StackGroup, x: Float64Array, steps: number, batch: number,
  h0: Float64Array | undefined, c0: Float64Array | undefined, lengths: Int32Array | undefined,
  between: ((layer: number, n: number) => Float64Array) | undefined, training: boolean,
): Flow<GroupRun> {
  if (g.parts.length === 1) {
    const f = yield { op: 'forward', handle: g.parts[0].handle, x, steps, batch, h0, c0, lengths, training };
    return { y: f.y, hn: f.hn, cn: f.cn };
  }
  const D = directions(g.spec);
  const hPer = D * batch * stateSize(g.spec);
  const cPer = D * batch * g.spec.hiddenSize;
  const withC = hasCellState(g.spec.cell);
  const hn = new Float64Array(g.spec.layers * hPer);
  const cn = withC ? new Float64Array(g.spec.layers * cPer) : undefined;
  const masks: Float64Array[] = [];
  let input = x;
  for (let l = 0; l < g.parts.length; l++) {
    const f = yield {
      op: 'forward', handle: g.parts[l].handle, x: input, steps, batch, lengths, training,
      h0: h0?.subarray(l * hPer, (l + 1) * hPer), c0: withC ? c0?.subarray(l * cPer, (l + 1) * cPer) : undefined,
    };
    hn.set(f.hn, l * hPer);
    if (cn && f.cn) cn.set(f.cn, l * cPer);
    input = f.y;
    if (l < g.parts.length - 1 && between) {
      const mask = between(l, f.y.length);
      masks.push(mask);
      input = f.y.map((v, i) => v * mask[i]);
    }
  }
  return { y: input, hn, cn, masks: masks.length > 0 ? masks : undefined };
}

/** Backward of a stack group; adds its parameter gradients into `grads` (model layout). */
function* backGroup(
  g: StackGroup, run: GroupRun, dy: Float64Array, dhn: Float64Array | undefined, dcn: Float64Array | undefined,
  grads: Float64Array, batch: number,
): Flow<{ dx: Float64Array; dh0: Float64Array; dc0?: Float64Array }> {
  if (g.parts.length === 1) {
    const b = yield { op: 'backward', handle: g.parts[0].handle, dy, dhn, dcn };
    addAt(grads, b.grads, g.block.offset);
    return { dx: b.dx, dh0: b.dh0, dc0: b.dc0 };
  }
  const D = directions(g.spec);
  const hPer = D * batch * stateSize(g.spec);
  const cPer = D * batch * g.spec.hiddenSize;
  const withC = hasCellState(g.spec.cell);
  const dh0 = new Float64Array(g.spec.layers * hPer);
  const dc0 = withC ? new Float64Array(g.spec.layers * cPer) : undefined;
  let dOut = dy;
  for (let l = g.parts.length - 1; l >= 0; l--) {
    const b = yield {
      op: 'backward', handle: g.parts[l].handle, dy: dOut,
      dhn: dhn?.subarray(l * hPer, (l + 1) * hPer), dcn: withC ? dcn?.subarray(l * cPer, (l + 1) * cPer) : undefined,
    };
    addAt(grads, b.grads, g.block.offset + g.parts[l].offset);
    dh0.set(b.dh0, l * hPer);
    if (dc0 && b.dc0) dc0.set(b.dc0, l * cPer);
    dOut = l > 0 && run.masks ? b.dx.map((v, i) => v * run.masks![l - 1][i]) : b.dx;
  }
  return { dx: dOut, dh0, dc0 };
}

function addAt(into: Float64Array, from: Float64Array, offset: number): void {
  for (let i = 0; i < from.length; i++) into[offset + i] += from[i];
}

function forwardRequest(c: Extract<StackCall, { op: 'forward' }>) {
  return { x: Float32Array.from(c.x), steps: c.steps, batch: c.batch, h0: f32(c.h0), c0: f32(c.c0), lengths: c.lengths, training: c.training };
}

function backwardRequest(c: Extract<StackCall, { op: 'backward' }>) {
  return { dy: Float32Array.from(c.dy), dhn: f32(c.dhn), dcn: f32(c.dcn) };
}

const EMPTY = new Float64Array(0);

function forwardOut(r: { y: Float32Array; hn: Float32Array; cn?: Float32Array }): StackOut {
  return { y: Float64Array.from(r.y), hn: Float64Array.from(r.hn), cn: f64(r.cn), dx: EMPTY, dh0: EMPTY, grads: EMPTY };
}

function backwardOut(r: { dx: Float32Array; dh0: Float32Array; dc0?: Float32Array }, grads: Float32Array): StackOut {
  return { y: EMPTY, hn: EMPTY, dx: Float64Array.from(r.dx), dh0: Float64Array.from(r.dh0), dc0: f64(r.dc0), grads: Float64Array.from(grads) };
}

function own(model: ModelHandle, backend: BackendName): ComposedModel {
  if (!(model instanceof ComposedModel) || model.backend !== backend) {
    throw new TypeError(`model must be a handle created by the ${backend} training backend`);
  }
  if (model.disposed) throw new Error('model has been disposed');
  return model;
}
