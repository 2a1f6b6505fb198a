/**
 * The backend interface: the few coarse operations every compute backend implements.
 *
 * Three backends implement it — `reference` (pure TypeScript, the specification),
 * `native` (Node-API addon) and `wasm` (Emscripten module) — and the public API in
 * `../stack.ts` validates every argument before it reaches one of them. A backend may
 * therefore assume well-formed input; it must still never crash the process.
 *
 * The unit of work is a whole sequence `[T][B][I]` (time-major): no call is ever made
 * per time step, so the native and wasm backends cross the JS boundary once per sequence.
 *
 * Contract every backend keeps (test/conformance/backend-contract.test.ts checks it):
 * - wrong-sized x, h0, c0, dy or parameter arrays throw; a disposed handle throws on any
 *   use, including a second dispose; a handle of another backend instance is refused;
 * - backward uses the last TRAINING forward, even if inference forwards came after it,
 *   and adds to the gradients;
 * - async and sync calls give identical results, and repeated calls are deterministic
 *   (truncated BPTT with one window must equal full BPTT bit for bit);
 * - a length of 0 is accepted (state held, output 0 throughout): truncated BPTT produces
 *   it for a sequence that ended in an earlier window. The public API asks for ≥ 1.
 */

import type { ClipSpec, OptimizerSpec, OptimizerStateSnapshot } from '../optim/optimizers.js';

export type { OptimizerStateSnapshot } from '../optim/optimizers.js';

/** Recurrent cells. Formulas: ../../shared/golden/README.md and `reference/cells.ts`. */
export const CELL_TYPES = ['rnn_tanh', 'rnn_relu', 'lstm', 'lstm_peephole', 'gru', 'gru_cho', 'jordan'] as const;
export type CellType = (typeof CELL_TYPES)[number];

/** A fully resolved description of a recurrent stack (every field present and valid). */
export interface StackSpec {
  cell: CellType;
  /** Width of the input of layer 0. */
  inputSize: number;
  /** Width of the hidden layer of every cell. */
  hiddenSize: number;
  /** Width of a Jordan cell's output y (its recurrent state); equals hiddenSize for every other cell. */
  outputSize: number;
  /** Number of stacked layers (≥ 1). */
  layers: number;
  /** Whether every layer also runs a reverse direction. */
  bidirectional: boolean;
}

/** Inputs of one forward pass. Shapes use T = steps, B = batch, S = state width, D = directions. */
export interface ForwardRequest {
  /** [T][B][inputSize], time-major. */
  x: Float32Array;
  steps: number;
  batch: number;
  /** [L·D][B][S] initial hidden state; zeros when absent. */
  h0?: Float32Array;
  /** [L·D][B][H] initial cell state (LSTM cells only); zeros when absent. */
  c0?: Float32Array;
  /**
   * [B] valid steps per sequence (0..T); steps t ≥ lengths[b] are padding: state is held,
   * output is 0 (PyTorch's pack_padded_sequence semantics). Absent: every sequence has T steps.
   */
  lengths?: Int32Array;
  /** Keep what backward needs. A later `backward` refers to the last forward made with this set. */
  training?: boolean;
}

export interface ForwardResult {
  /** [T][B][D·S]: last layer's output; forward direction first. */
  y: Float32Array;
  /** [L·D][B][S] final hidden state. */
  hn: Float32Array;
  /** [L·D][B][H] final cell state (LSTM cells only). */
  cn?: Float32Array;
}

/** Incoming gradients for the last training forward. Absent arrays mean zeros. */
export interface BackwardRequest {
  dy: Float32Array;
  dhn?: Float32Array;
  dcn?: Float32Array;
}

export interface BackwardResult {
  dx: Float32Array;
  dh0: Float32Array;
  dc0?: Float32Array;
}

export interface BackendInfo {
  backend: BackendName;
  /** The instruction-set path the kernels run on (`reference` for the TypeScript one). */
  isa: string;
  threads: number;
}

export type BackendName = 'reference' | 'native' | 'wasm';

/** Opaque handle to a stack living in a backend's memory. */
export interface StackHandle {
  readonly backend: BackendName;
}

export interface Backend {
  readonly name: BackendName;
  info(): BackendInfo;
  /** Allocate a stack with zero parameters and zero gradients. */
  createStack(spec: StackSpec): StackHandle;
  /** Replace every parameter: `flat` follows `paramLayout(spec)` exactly. */
  setParams(stack: StackHandle, flat: Float32Array): void;
  /** A copy of every parameter, in `paramLayout(spec)` order. */
  getParams(stack: StackHandle): Float32Array;
  /** A copy of every accumulated gradient, in `paramLayout(spec)` order. */
  getGrads(stack: StackHandle): Float32Array;
  zeroGrads(stack: StackHandle): void;
  /** Whole-sequence forward; off the event loop where the backend can. */
  forward(stack: StackHandle, req: ForwardRequest): Promise<ForwardResult>;
  /** The same, synchronously: for short calls such as one streaming step. */
  forwardSync(stack: StackHandle, req: ForwardRequest): ForwardResult;
  /** Backpropagation through the last training forward; accumulates (adds to) the gradients. */
  backward(stack: StackHandle, req: BackwardRequest): Promise<BackwardResult>;
  backwardSync(stack: StackHandle, req: BackwardRequest): BackwardResult;
  /** Free the stack's memory. Any later use of the handle is an error. */
  dispose(stack: StackHandle): void;
}

/*
 * --- Training -------------------------------------------------------------------
 *
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
/** How the model reads its input at each step. */
export type InputSpec =
  /**
   * Token ids looked up in a table `embedding.weight` [vocab][dim], trainable unless
   * `frozen` (PyTorch's `requires_grad = False`): a frozen table is never updated (no
   * gradient step, no weight decay, by every optimizer), its gradient reads as zeros
   * (`getGrads`) and does not count in the clipping norm (`totalNorm`), and its optimizer
   * buffers stay as they are (zeros). Default false.
   */
  | { kind: 'embedding'; vocab: number; dim: number; frozen?: boolean }
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

/*
 * --- Generation sessions --------------------------------------------------------
 *
 * Generation sessions in the backend contract (part of TrainingBackend): a session
 * keeps a model's recurrent state for B samples inside the backend between calls, so that
 * generating crosses the boundary once per token (rk_session_* of native/include/rnnkit.h).
 *
 * `sessionStep` is `evaluate` with h0 / c0 = the session's state and hn / cn kept as its
 * new state, returning each sample's logits at its last valid step (lengths may differ in
 * one call; a length of 0 leaves a sample unchanged, its state and its logits). With a
 * `source` (seq2seq) the encoder runs first from the session's state. The float64
 * specification is reference/training/session.ts.
 *
 * Like the rest of the contract, inputs are validated by the public API first
 * (src/models/session.ts): token ids, lengths, a unidirectional stack with readout 'steps'.
 * A session refuses every call once it or its model is disposed.
 */

/** Opaque handle to a generation session living in a backend. */
export interface SessionHandle {
  readonly backend: BackendName;
}

/**
 * The inputs of one session step: T steps for the session's B samples (time-major), and
 * what the model reads: tokens or x, the conditioning vector, lengths, the source.
 * Targets, h0 / c0 and the dropout seed of a TrainBatch are not read.
 */
export type SessionInputs = Pick<TrainBatch, 'steps' | 'batch' | 'tokens' | 'x' | 'condition' | 'lengths' | 'source'>;

/** The state of a session: [L·D][B][S] and, for LSTM cells, [L·D][B][H]. */
export interface SessionState {
  h: Float32Array;
  c?: Float32Array;
}

export interface SessionBackend {
  /** A session of `batch` samples over `model`, its state zeros and its logits zeros. */
  createSession(model: ModelHandle, batch: number): SessionHandle;
  /** Run `inputs.steps` steps from the session's state; resolves to the logits [B][outputs]. Off the event loop where the backend can. */
  sessionStep(session: SessionHandle, inputs: SessionInputs): Promise<Float32Array>;
  sessionStepSync(session: SessionHandle, inputs: SessionInputs): Float32Array;
  /** Replace the state (absent arrays: zeros). */
  sessionSetState(session: SessionHandle, state: Partial<SessionState>): void;
  /** A copy of the state. */
  sessionGetState(session: SessionHandle): SessionState;
  /** Free the session (allowed after its model was disposed). Any later use is an error. */
  disposeSession(session: SessionHandle): void;
}

/** The training half of a backend (with generation sessions, above). */
export interface TrainingBackend extends SessionBackend {
  readonly name: BackendName;
  /** Allocate a model with zero parameters and no optimizer state. */
  createModel(spec: ModelSpec): ModelHandle;
  /** Replace every parameter: `flat` follows `modelLayout(spec)` exactly. */
  setParams(model: ModelHandle, flat: Float32Array): void;
  /** A copy of every parameter, `modelLayout(spec)` order. */
  getParams(model: ModelHandle): Float32Array;
  /** The gradient computed by the last `trainStep` or `lossAndGradsSync`, before clipping (`modelLayout` order). */
  getGrads(model: ModelHandle): Float32Array;
  /** Choose the optimizer and clipping; resets the optimizer state and step count. */
  setOptimizer(model: ModelHandle, optimizer: OptimizerSpec, clip?: ClipSpec): void;
  /** Change the learning rate, keeping the optimizer state (learning-rate schedules). */
  setLearningRate(model: ModelHandle, lr: number): void;
  /**
   * A copy of the optimizer's state: its step count and every buffer (SGD momentum,
   * RMSprop's square average, Adam's/AdamW's two moments) in modelLayout order, in the
   * backend's own precision (Float32Array on native and wasm, Float64Array on the
   * reference); undefined when the model has no optimizer or no step was taken.
   */
  getOptimizerState(model: ModelHandle): OptimizerStateSnapshot | undefined;
  /**
   * Restore a snapshot taken from a model of the same spec with the same optimizer
   * settings (call setOptimizer first): the next trainStep continues exactly as the
   * original would have (with the original's parameters restored too). Refuses (RangeError
   * naming what differs) a snapshot of another optimizer kind, size or buffer count, or a
   * step that is not an integer ≥ 0; an Error when the model has no optimizer.
   */
  setOptimizerState(model: ModelHandle, state: OptimizerStateSnapshot): void;
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

/** A backend that also trains. */
export type TrainingCapable = Backend & { readonly training: TrainingBackend };

