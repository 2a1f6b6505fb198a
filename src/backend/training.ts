/**
 * Whole-window training on a backend: the coarse call that makes training fast.
 *
 * A training model is `input layer → recurrent stack → dense head → loss`, and ONE call
 * (`trainStep`) runs a whole window on it: forward, loss, backward, gradient clipping and
 * the optimizer update. Parameters, gradients and optimizer state live in the backend;
 * JavaScript sees copies only at the edges (`getParams`, `getGrads`, save/load).
 *
 * The formulas (embedding lookup, head, softmax cross-entropy with an ignore index, MSE,
 * clip_grad_norm_, SGD/RMSprop/Adam/AdamW as in torch 1.13) are those of
 * ../../shared/golden/README.md ("Training-step cases"); the reference implementation is
 * `reference/training/`.
 *
 * Like the stack calls in `backend.ts`, a training backend may assume well-formed input:
 * the public API (`../models/`) validates every argument first.
 */
import type { Backend, BackendName, StackSpec } from './backend.js';
import { directions, paramLayout, stateSize, hasCellState } from './layout.js';
import type { ParamEntry } from './layout.js';

/** How the model reads its input at each step. */
export type InputSpec =
  /** Token ids looked up in a trainable table `embedding.weight` [vocab][dim]. */
  | { kind: 'embedding'; vocab: number; dim: number }
  /** Token ids as one-hot vectors of width `vocab` (no parameters). */
  | { kind: 'onehot'; vocab: number }
  /** Real-valued vectors of width `size`, given directly. */
  | { kind: 'dense'; size: number };

/** The loss on the head's outputs. */
export type LossSpec =
  /**
   * Softmax cross-entropy over the head's outputs (logits), PyTorch's
   * `F.cross_entropy(..., ignore_index, reduction='mean')`: the mean over the positions
   * whose target is not `ignoreIndex` (and not padding, see `TrainBatch.lengths`).
   */
  | { kind: 'cross_entropy'; ignoreIndex: number }
  /** Mean squared error: the mean over every element of every counted position. */
  | { kind: 'mse' };

/** Complete description of a trainable model (every field resolved). */
export interface ModelSpec {
  input: InputSpec;
  /**
   * Width of an extra conditioning vector v [B][conditionSize] that enters EVERY step,
   * concatenated after the step input: layer 0 then computes W_ih·[x_t; v] = W_x x_t + W_v v
   * (one-to-many generation, as in image captioning). 0: none.
   */
  conditionSize: number;
  /**
   * The recurrent stack. `stack.inputSize` must equal the input width (embedding dim,
   * vocab for one-hot, size for dense) plus `conditionSize`.
   */
  stack: StackSpec;
  /** Width of the dense head's output (classes for cross-entropy, targets for MSE). */
  outputs: number;
  loss: LossSpec;
  /**
   * Encoder–decoder (seq2seq): an encoder reads `TrainBatch.source` and its final state
   * (hn, cn) becomes the decoder's initial state; the gradient flows back through it.
   * The encoder's stack must have the decoder's layers, directions and state widths.
   */
  encoder?: EncoderSpec;
  /**
   * What the head reads. 'steps' (default): the last layer's output at every step
   * (targets [T][B]). 'final_state': once per sequence, the top layer's final states
   * [hn forward; hn reverse] (targets [B]): many-to-one classification from the last
   * state, which for a bidirectional stack sees the whole sequence in both directions.
   */
  readout?: 'steps' | 'final_state';
  /** Dropout during training steps (never in evaluate); absent: none. */
  dropout?: DropoutSpec;
}

/**
 * Inverted dropout: an element is kept with probability 1 − p and then scaled by
 * 1/(1 − p), so nothing changes at inference. Masks are drawn from `TrainBatch.dropoutSeed`
 * by a fixed procedure (reference/training/dropout.ts) so that backends agree exactly.
 */
export interface DropoutSpec {
  /** On the input layer's output (embedding / one-hot / values; not the conditioning vector). */
  input: number;
  /** On the output of every recurrent layer but the last (nn.LSTM's `dropout`). */
  between: number;
}

/** The encoder of a seq2seq model: its own input layer and recurrent stack, no head. */
export interface EncoderSpec {
  input: InputSpec;
  /** `inputSize` must equal the encoder input width (no conditioning vector). */
  stack: StackSpec;
}

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

/** One window of data, time-major. T = steps, B = batch. */
export interface TrainBatch {
  steps: number;
  batch: number;
  /** [T][B] token ids (embedding and one-hot inputs). */
  tokens?: Int32Array;
  /** [T][B][size] real-valued inputs (dense input). */
  x?: Float32Array;
  /** [B][conditionSize] conditioning vector, when the model has one. */
  condition?: Float32Array;
  /** [T][B] class ids in [0, outputs) or the ignore index (cross-entropy); [B] for readout 'final_state'. */
  targets?: Int32Array;
  /** [T][B][outputs] regression targets (MSE); [B][outputs] for readout 'final_state'. */
  targetValues?: Float32Array;
  /** [T][B] ([B] for 'final_state') 1 where the position counts in the MSE loss; absent: every valid position counts. */
  targetMask?: Uint8Array;
  /**
   * [B] valid steps per sequence; positions t ≥ lengths[b] are padding: the stack holds
   * its state there, outputs 0, and the position never counts in the loss.
   */
  lengths?: Int32Array;
  /** [L·D][B][S] initial hidden state; zeros when absent. */
  h0?: Float32Array;
  /** [L·D][B][H] initial cell state (LSTM cells); zeros when absent. */
  c0?: Float32Array;
  /**
   * Seq2seq models: the source sequences the encoder reads (time-major, its own number of
   * steps and lengths). `h0`/`c0` are then the ENCODER's initial state, and the decoder
   * starts from the encoder's final state. Absent: the decoder alone runs from `h0`/`c0`
   * (step-by-step decoding after the first step).
   */
  source?: SourceBatch;
  /** Seed of this step's dropout masks (models with dropout); default 0. */
  dropoutSeed?: number;
}

/** The encoder's input of one batch. */
export interface SourceBatch {
  steps: number;
  /** [steps][B] token ids (embedding / one-hot encoder input). */
  tokens?: Int32Array;
  /** [steps][B][size] real-valued encoder input. */
  x?: Float32Array;
  /** [B] valid steps per source sequence; absent: all `steps`. */
  lengths?: Int32Array;
}

/** What one training step reports. */
export interface TrainStepResult {
  /** Loss at the parameters before the update. */
  loss: number;
  /** Positions that counted in the loss (the mean's denominator; ×outputs for MSE). */
  count: number;
  /** Cross-entropy only: counted positions whose arg-max logit is the target. */
  correct: number;
  /**
   * Global L2 norm of the gradient before norm clipping (what clip_grad_norm_ returns;
   * after value clipping when `clipValue` is set). Always computed.
   */
  totalNorm: number;
  /** [L·D][B][S] final hidden state, to carry into the next window (truncated BPTT). */
  hn: Float32Array;
  /** [L·D][B][H] final cell state (LSTM cells). */
  cn?: Float32Array;
}

/** Result of a forward pass without update. */
export interface EvalResult {
  /** Mean loss over the counted positions (NaN when nothing counted or no targets given). */
  loss: number;
  count: number;
  correct: number;
  /** [T][B][outputs] head outputs (logits for cross-entropy); [B][outputs] for readout 'final_state'. */
  outputs: Float32Array;
  /** [T][B][D·S] the recurrent stack's last-layer output (what the head reads). */
  y: Float32Array;
  hn: Float32Array;
  cn?: Float32Array;
}

/** Result of `lossAndGrads`: the loss and the full gradient, nothing updated. */
export interface GradResult {
  loss: number;
  count: number;
  /** Gradient of the loss for every parameter, `modelLayout` order, before clipping. */
  grads: Float32Array;
}

/** Opaque handle to a model living in a backend's memory. */
export interface ModelHandle {
  readonly backend: BackendName;
}

/** The training half of a backend. */
export interface TrainingBackend {
  readonly name: BackendName;
  /** Allocate a model with zero parameters and no optimizer state. */
  createModel(spec: ModelSpec): ModelHandle;
  /** Replace every parameter: `flat` follows `modelLayout(spec)` exactly. */
  setParams(model: ModelHandle, flat: Float32Array): void;
  /** A copy of every parameter, `modelLayout(spec)` order. */
  getParams(model: ModelHandle): Float32Array;
  /** The gradient computed by the last `trainStep`, before clipping (`modelLayout` order). */
  getGrads(model: ModelHandle): Float32Array;
  /** Choose the optimizer and clipping; resets the optimizer state and step count. */
  setOptimizer(model: ModelHandle, optimizer: OptimizerSpec, clip?: ClipSpec): void;
  /** Change the learning rate, keeping the optimizer state (learning-rate schedules). */
  setLearningRate(model: ModelHandle, lr: number): void;
  /**
   * Forward, loss, backward, clip, update: one whole window in one call. When the loss or
   * the gradient norm is not finite the update is skipped, so the parameters stay those
   * of the last good step (the caller reports the failure).
   */
  trainStep(model: ModelHandle, batch: TrainBatch): Promise<TrainStepResult>;
  trainStepSync(model: ModelHandle, batch: TrainBatch): TrainStepResult;
  /** Forward and loss (if targets are given), no gradient, no update. */
  evaluate(model: ModelHandle, batch: TrainBatch): Promise<EvalResult>;
  evaluateSync(model: ModelHandle, batch: TrainBatch): EvalResult;
  /** Loss and gradient without any update (gradient checks, custom loops). */
  lossAndGradsSync(model: ModelHandle, batch: TrainBatch): GradResult;
  /** Free the model. Any later use of the handle is an error. */
  disposeModel(model: ModelHandle): void;
}

/** Width of one step's input vector as the input layer produces it (before conditioning). */
export function inputWidth(input: InputSpec): number {
  switch (input.kind) {
    case 'embedding':
      return input.dim;
    case 'onehot':
      return input.vocab;
    case 'dense':
      return input.size;
  }
}

/** Width of the recurrent stack's output per step (what the head reads): D·S. */
export function stackOutputWidth(stack: StackSpec): number {
  return directions(stack) * stateSize(stack);
}

/** One named tensor of a model's flat parameter array. */
export interface ModelParamEntry {
  /** PyTorch `state_dict` name: `embedding.weight`, `rnn.weight_ih_l0`, `head.weight`, … */
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** Which part of the model it belongs to. */
  part: 'encoder.embedding' | 'encoder.rnn' | 'embedding' | 'rnn' | 'head';
}

/** Where a stack's parameters sit in a model's flat array. */
export interface StackBlock {
  offset: number;
  entries: ParamEntry[];
  total: number;
}

/** A model's flat parameter layout (see {@link modelLayout}). */
export interface ModelLayout {
  entries: ModelParamEntry[];
  total: number;
  /** Offset of `embedding.weight`, when the input is an embedding. */
  embeddingOffset?: number;
  /** The decoder (or only) stack. */
  stack: StackBlock;
  /** Seq2seq: the encoder's stack and embedding. */
  encoder?: { stack: StackBlock; embeddingOffset?: number };
}

/**
 * Flat parameter layout of a model, in PyTorch `state_dict` order: for seq2seq first the
 * encoder (`encoder.embedding.weight`, `encoder.rnn.*`); then `embedding.weight` [V][E]
 * (embedding input only), `rnn.` + every stack name of `paramLayout`, `head.weight`
 * [outputs][D·S] and `head.bias` [outputs]. Gradients and optimizer state use the same
 * layout, so clipping and updates run over one buffer.
 */
export function modelLayout(spec: ModelSpec): ModelLayout {
  const entries: ModelParamEntry[] = [];
  let offset = 0;
  const addInput = (input: InputSpec, prefix: string, part: 'encoder.embedding' | 'embedding'): number | undefined => {
    if (input.kind !== 'embedding') return undefined;
    const size = input.vocab * input.dim;
    entries.push({ name: prefix + 'embedding.weight', shape: [input.vocab, input.dim], offset, size, part });
    offset += size;
    return offset - size;
  };
  const addStack = (stackSpec: StackSpec, prefix: string, part: 'encoder.rnn' | 'rnn'): StackBlock => {
    const stack = paramLayout(stackSpec);
    const at = offset;
    for (const e of stack.entries) {
      entries.push({ name: prefix + e.name, shape: e.shape.slice(), offset: at + e.offset, size: e.size, part });
    }
    offset += stack.total;
    return { offset: at, entries: stack.entries, total: stack.total };
  };
  let encoder: ModelLayout['encoder'];
  if (spec.encoder) {
    const embeddingOffset = addInput(spec.encoder.input, 'encoder.', 'encoder.embedding');
    encoder = { embeddingOffset, stack: addStack(spec.encoder.stack, 'encoder.rnn.', 'encoder.rnn') };
  }
  const embeddingOffset = addInput(spec.input, '', 'embedding');
  const stack = addStack(spec.stack, 'rnn.', 'rnn');
  const W = stackOutputWidth(spec.stack);
  entries.push({ name: 'head.weight', shape: [spec.outputs, W], offset, size: spec.outputs * W, part: 'head' });
  offset += spec.outputs * W;
  entries.push({ name: 'head.bias', shape: [spec.outputs], offset, size: spec.outputs, part: 'head' });
  offset += spec.outputs;
  return { entries, total: offset, embeddingOffset, stack, encoder };
}

/** Sizes of the arrays of one batch for `spec` (0 where the array does not apply). */
export function batchShapes(spec: ModelSpec, steps: number, batch: number) {
  const L = spec.stack.layers;
  const D = directions(spec.stack);
  const rows = spec.readout === 'final_state' ? batch : steps * batch;
  return {
    tokens: spec.input.kind === 'dense' ? 0 : steps * batch,
    x: spec.input.kind === 'dense' ? steps * batch * spec.input.size : 0,
    condition: batch * spec.conditionSize,
    /** Head rows: T·B, or B for readout 'final_state' (targets, targetMask). */
    targets: rows,
    targetValues: rows * spec.outputs,
    outputs: rows * spec.outputs,
    h: L * D * batch * stateSize(spec.stack),
    c: hasCellState(spec.stack.cell) ? L * D * batch * spec.stack.hiddenSize : 0,
  };
}

/** A backend that also trains. */
export type TrainingCapable = Backend & { readonly training: TrainingBackend };

const composed = new WeakMap<Backend, TrainingBackend>();

/**
 * The training half of `backend`:
 * - its own `training` member when it has one (a whole window in one backend call);
 * - for the reference, the float64 reference trainer;
 * - otherwise a `ComposedTraining` over the backend's stack calls: the stack runs in the
 *   backend's kernels, the input layer, head, loss, clipping and optimizer in TypeScript
 *   (the reference's functions). Correct, but not the fused fast path.
 */
export async function trainingOf(backend: Backend): Promise<TrainingBackend> {
  const own = (backend as Partial<TrainingCapable>).training;
  if (own) return own;
  if (backend.name === 'reference') {
    const { ReferenceTraining } = await import('./reference/training/index.js');
    return sharedReference ?? (sharedReference = new ReferenceTraining());
  }
  let t = composed.get(backend);
  if (!t) {
    const { ComposedTraining } = await import('./composed-training.js');
    t = new ComposedTraining(backend);
    composed.set(backend, t);
  }
  return t;
}
let sharedReference: TrainingBackend | undefined;

/**
 * Consistency checks of a ModelSpec that every training backend applies when a model is
 * created (the public API validates the fields themselves first).
 */
export function checkModelShapes(spec: ModelSpec): void {
  const want = inputWidth(spec.input) + spec.conditionSize;
  if (spec.stack.inputSize !== want) {
    throw new RangeError(`stack.inputSize must equal the input width plus conditionSize = ${want}; got ${spec.stack.inputSize}`);
  }
  if (spec.encoder) {
    const e = spec.encoder.stack;
    const d = spec.stack;
    if (e.inputSize !== inputWidth(spec.encoder.input)) {
      throw new RangeError(`encoder.stack.inputSize must equal the encoder input width ${inputWidth(spec.encoder.input)}; got ${e.inputSize}`);
    }
    if (e.layers !== d.layers || e.bidirectional !== d.bidirectional || stateSize(e) !== stateSize(d) || e.hiddenSize !== d.hiddenSize || hasCellState(e.cell) !== hasCellState(d.cell)) {
      throw new RangeError("encoder.stack must have the decoder stack's layers, directions, state widths and cell-state kind (its final state starts the decoder)");
    }
  }
}
