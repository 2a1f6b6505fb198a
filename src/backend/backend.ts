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
