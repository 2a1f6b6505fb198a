/**
 * RecurrentStack: the public, validated face of a recurrent stack on some backend.
 *
 * All arguments are checked here (shapes, finiteness, names) before a backend sees them;
 * the backend only computes. Arrays are time-major `[T][B][…]` Float32Arrays.
 */
import type {
  Backend,
  BackendInfo,
  BackendName,
  BackwardResult,
  CellType,
  ForwardRequest,
  ForwardResult,
  StackHandle,
  StackSpec,
} from './backend/contract.js';
import { defaultBackend } from './backend/load.js';
import { directions, hasCellState, paramLayout, sequenceShapes, stateSize, type ParamEntry } from './backend/layout.js';
import { checkBoolean, checkCount, checkElements, checkFloat32, checkKnownKeys, checkLengths, keysOf } from './validate.js';
import { checkStackSpec } from './models/spec.js';
import { initStackParams, type ModelInitOptions } from './init/initializers.js';
import { Random } from './init/random.js';
import { CallLock } from './call-lock.js';
import { truncatedBptt, validateTbpttRequest, type TbpttRequest, type TbpttResult } from './tbptt.js';

/** Options of {@link createStack}. */
export interface StackOptions {
  /** Which recurrent cell. */
  cell: CellType;
  /** Width of each input vector. */
  inputSize: number;
  /** Width of the hidden layer. */
  hiddenSize: number;
  /** Jordan networks only: width of the output y fed back into the recurrence (default hiddenSize). */
  outputSize?: number;
  /** Stacked layers (default 1). */
  layers?: number;
  /** Add a reverse direction to every layer (default false). */
  bidirectional?: boolean;
  /** Backend to run on (default: the fastest that loads; `RNNKIT_BACKEND` overrides). */
  backend?: BackendName;
  /**
   * Initial parameters, flat in {@link RecurrentStack.parameters} order (e.g. the `params`
   * of `importTorchRnn`). Default: drawn by `init`.
   */
  params?: Float32Array;
  /**
   * How parameters are drawn when `params` is absent: PyTorch's initialisation (uniform in
   * ±1/√hiddenSize) by default, other initialisers by option; seeded (default seed 0), so
   * the same options give the same stack.
   */
  init?: ModelInitOptions;
}

/** A stack description with its parameters, as `importTorchRnn` returns it. */
export interface StackWithParams {
  spec: StackSpec;
  params: Float32Array;
  backend?: BackendName;
}

/** Options of {@link RecurrentStack.forward}. */
export interface ForwardOptions {
  /** Number of time steps T. */
  steps: number;
  /** Batch size B. */
  batch: number;
  /** Initial hidden state [L·D][B][S]; zeros when absent. */
  h0?: Float32Array;
  /** Initial cell state [L·D][B][H] (LSTM cells only); zeros when absent. */
  c0?: Float32Array;
  /** Valid steps per sequence, each in 1..T; later steps are padding (state held, output 0). */
  lengths?: Int32Array | number[];
  /** Keep activations for a following {@link RecurrentStack.backward}. */
  training?: boolean;
}

/** Incoming gradients of {@link RecurrentStack.backward}; absent state gradients are zeros. */
export interface BackwardOptions {
  /** Gradient of the loss with respect to y, shaped like y. */
  dy: Float32Array;
  dhn?: Float32Array;
  dcn?: Float32Array;
}

const FORWARD_OPTION_KEYS = keysOf<ForwardOptions>({ steps: true, batch: true, h0: true, c0: true, lengths: true, training: true });
const BACKWARD_OPTION_KEYS = keysOf<BackwardOptions>({ dy: true, dhn: true, dcn: true });
const STACK_OPTION_KEYS = keysOf<StackOptions>({
  cell: true, inputSize: true, hiddenSize: true, outputSize: true, layers: true, bidirectional: true, backend: true, params: true, init: true,
});

/** Validate user options into a complete {@link StackSpec}. */
export function resolveSpec(options: StackOptions): StackSpec {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object with cell, inputSize and hiddenSize; got ${options === null ? 'null' : typeof options}`);
  }
  checkKnownKeys('', options, STACK_OPTION_KEYS);
  const { backend: _backend, params: _params, init: _init, ...spec } = options;
  return checkStackSpec('', spec);
}

/**
 * Create a recurrent stack: from options (parameters drawn as PyTorch draws them, seeded,
 * or given as `params`), or from what `importTorchRnn` returns (`{ spec, params }`).
 */
export async function createStack(options: StackOptions | StackWithParams): Promise<RecurrentStack> {
  const given = options !== null && typeof options === 'object' && 'spec' in options ? (options as StackWithParams) : undefined;
  if (given) checkKnownKeys('', given, keysOf<StackWithParams>({ spec: true, params: true, backend: true }));
  const spec = given ? checkStackSpec('spec', given.spec) : resolveSpec(options as StackOptions);
  const params = given ? given.params : (options as StackOptions).params;
  const initial =
    params !== undefined
      ? checkFloat32(given ? 'params' : 'options.params', params, paramLayout(spec).total, `[${paramLayout(spec).total}]`)
      : initStackParams(spec, new Random((options as StackOptions).init?.seed ?? 0), (options as StackOptions).init);
  const stack = new RecurrentStack(await defaultBackend(options.backend), spec);
  stack.setFlatParameters(initial);
  return stack;
}

export class RecurrentStack {
  readonly spec: Readonly<StackSpec>;
  private readonly layout: { entries: ParamEntry[]; total: number };
  private readonly byName: Map<string, ParamEntry>;
  private handle: StackHandle | null;
  /** Shape of the last training forward, which backward must match. */
  private trained: { steps: number; batch: number } | null = null;
  /** One call at a time (call-lock.ts): a second one is refused with ERR_RNNKIT_BUSY. */
  private readonly lock = new CallLock('this RecurrentStack');

  constructor(
    private readonly backend: Backend,
    spec: StackSpec,
  ) {
    this.spec = Object.freeze({ ...spec });
    this.layout = paramLayout(spec);
    this.byName = new Map(this.layout.entries.map((e) => [e.name, e]));
    this.handle = backend.createStack(spec);
  }

  /** Backend, instruction-set path and threads this stack runs on. */
  get info(): BackendInfo {
    return this.backend.info();
  }

  /** Parameter names in PyTorch `state_dict` order with their shapes. */
  parameters(): { name: string; shape: number[] }[] {
    return this.layout.entries.map((e) => ({ name: e.name, shape: [...e.shape] }));
  }

  /** Set one parameter by its PyTorch name (e.g. `weight_hh_l0_reverse`). */
  setParameter(name: string, data: Float32Array): void {
    this.lock.write('setParameter', () => {
      const entry = this.entry(name);
      const values = checkFloat32(name, data, entry.size, `[${entry.shape.join('][')}]`);
      const flat = this.backend.getParams(this.live());
      flat.set(values, entry.offset);
      this.backend.setParams(this.live(), flat);
    });
  }

  /** A copy of one parameter. */
  getParameter(name: string): Float32Array {
    const entry = this.entry(name);
    return this.lock.read('getParameter', () => this.backend.getParams(this.live()).slice(entry.offset, entry.offset + entry.size));
  }

  /** A copy of one parameter's accumulated gradient. */
  getGradient(name: string): Float32Array {
    const entry = this.entry(name);
    return this.lock.read('getGradient', () => this.backend.getGrads(this.live()).slice(entry.offset, entry.offset + entry.size));
  }

  /** Every parameter as one flat array in {@link parameters} order. */
  getFlatParameters(): Float32Array {
    return this.lock.read('getFlatParameters', () => this.backend.getParams(this.live()));
  }

  setFlatParameters(flat: Float32Array): void {
    this.lock.write('setFlatParameters', () => {
      this.backend.setParams(this.live(), checkFloat32('flat', flat, this.layout.total, `[${this.layout.total}]`));
    });
  }

  getFlatGradients(): Float32Array {
    return this.lock.read('getFlatGradients', () => this.backend.getGrads(this.live()));
  }

  zeroGradients(): void {
    this.lock.write('zeroGradients', () => this.backend.zeroGrads(this.live()));
  }

  /** Run the whole sequence `x` [T][B][I]; off the event loop on the native backend. */
  forward(x: Float32Array, options: ForwardOptions): Promise<ForwardResult> {
    return this.lock.run('forward', async () => {
      const req = this.forwardRequest(x, options);
      const out = await this.lock.compute(this.backend.forward(this.live(), req));
      this.trained = req.training ? { steps: req.steps, batch: req.batch } : this.trained;
      return out;
    });
  }

  /** Synchronous forward, for short calls such as one streaming step. */
  forwardSync(x: Float32Array, options: ForwardOptions): ForwardResult {
    return this.lock.write('forwardSync', () => {
      const req = this.forwardRequest(x, options);
      const out = this.backend.forwardSync(this.live(), req);
      this.trained = req.training ? { steps: req.steps, batch: req.batch } : this.trained;
      return out;
    });
  }

  /** Backpropagate through the last `training: true` forward; adds to the gradients. */
  backward(grads: BackwardOptions): Promise<BackwardResult> {
    return this.lock.run('backward', () => this.lock.compute(this.backend.backward(this.live(), this.backwardRequest(grads))));
  }

  backwardSync(grads: BackwardOptions): BackwardResult {
    return this.lock.write('backwardSync', () => this.backend.backwardSync(this.live(), this.backwardRequest(grads)));
  }

  /**
   * Truncated backpropagation through time over a long sequence: windows of `window` steps,
   * state carried from window to window, gradients stopped at window boundaries (a window
   * ≥ steps is full BPTT). Parameter gradients are ADDED to this stack's gradients.
   * Unidirectional stacks only.
   */
  truncatedBptt(req: TbpttRequest): Promise<TbpttResult> {
    return this.lock.run('truncatedBptt', async () => {
      validateTbpttRequest(this.spec, req, Float32Array);
      // Shapes are checked above; the checks of the ordinary calls copy the arrays (so
      // the caller may change its own while the windows run) and check finiteness.
      const fwd = this.forwardRequest(req.x, { steps: req.steps, batch: req.batch, h0: req.h0, c0: req.c0, lengths: req.lengths });
      const dy = checkFloat32('dy', req.dy, (req.dy as Float32Array).length, `[T=${req.steps}][B=${req.batch}][D·S]`);
      const out = await this.lock.compute(truncatedBptt(this.backend, this.live(), this.spec, { ...req, x: fwd.x, h0: fwd.h0, c0: fwd.c0, lengths: fwd.lengths, dy }));
      this.trained = null; // the kept activations are those of the last window only
      return out;
    });
  }

  /**
   * Free the backend memory; the stack cannot be used afterwards. Refused (ERR_RNNKIT_BUSY,
   * the stack still usable) while a call is running.
   */
  dispose(): void {
    this.lock.write('dispose', () => {
      if (this.handle) this.backend.dispose(this.handle);
      this.handle = null;
    });
  }

  private live(): StackHandle {
    if (!this.handle) throw new Error('this RecurrentStack has been disposed');
    return this.handle;
  }

  private entry(name: string): ParamEntry {
    if (typeof name !== 'string') throw new TypeError(`name must be a parameter name string; got ${typeof name}`);
    const entry = this.byName.get(name);
    if (!entry) {
      const known = this.layout.entries.map((e) => e.name).join(', ');
      throw new RangeError(`name ${JSON.stringify(name)} is not a parameter of this ${this.spec.cell} stack; known: ${known}`);
    }
    return entry;
  }

  private stateShape(batch: number, width: number): string {
    return `[L·D=${this.spec.layers * directions(this.spec)}][B=${batch}][${width}]`;
  }

  private forwardRequest(x: Float32Array, options: ForwardOptions): ForwardRequest {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('options must be an object with steps and batch');
    }
    checkKnownKeys('', options, FORWARD_OPTION_KEYS);
    const steps = checkCount('steps', options.steps);
    const batch = checkCount('batch', options.batch);
    const sizes = sequenceShapes(this.spec, steps, batch);
    checkElements('steps × batch', steps * batch, `[T=${steps}][B=${batch}]`);
    checkElements('y', sizes.y, `[T=${steps}][B=${batch}][D·S]`);
    const req: ForwardRequest = {
      x: checkFloat32('x', x, sizes.x, `[T=${steps}][B=${batch}][I=${this.spec.inputSize}]`),
      steps,
      batch,
      training: options.training === undefined ? false : checkBoolean('training', options.training),
    };
    if (options.h0 !== undefined) req.h0 = checkFloat32('h0', options.h0, sizes.h, this.stateShape(batch, stateSize(this.spec)));
    if (options.c0 !== undefined) {
      if (!hasCellState(this.spec.cell)) throw new RangeError(`c0 applies only to LSTM cells; this stack's cell is ${this.spec.cell}`);
      req.c0 = checkFloat32('c0', options.c0, sizes.c, this.stateShape(batch, this.spec.hiddenSize));
    }
    if (options.lengths !== undefined) req.lengths = checkLengths('lengths', options.lengths, batch, steps);
    return req;
  }

  private backwardRequest(grads: BackwardOptions) {
    if (!this.trained) throw new Error('backward needs a preceding forward with training: true');
    if (grads === null || typeof grads !== 'object') throw new TypeError('backward expects an object { dy, dhn?, dcn? }');
    checkKnownKeys('', grads, BACKWARD_OPTION_KEYS);
    const { steps, batch } = this.trained;
    const sizes = sequenceShapes(this.spec, steps, batch);
    const D = directions(this.spec);
    const dy = checkFloat32('dy', grads.dy, sizes.y, `[T=${steps}][B=${batch}][D·S=${D * stateSize(this.spec)}]`);
    const req: { dy: Float32Array; dhn?: Float32Array; dcn?: Float32Array } = { dy };
    if (grads.dhn !== undefined) req.dhn = checkFloat32('dhn', grads.dhn, sizes.h, this.stateShape(batch, stateSize(this.spec)));
    if (grads.dcn !== undefined) {
      if (!hasCellState(this.spec.cell)) throw new RangeError(`dcn applies only to LSTM cells; this stack's cell is ${this.spec.cell}`);
      req.dcn = checkFloat32('dcn', grads.dcn, sizes.c, this.stateShape(batch, this.spec.hiddenSize));
    }
    return req;
  }
}
