/**
 * Truncated backpropagation through time (TBPTT) over any Backend.
 *
 * A long sequence of T steps is processed in windows of `window` steps. For each window,
 * in order: a training forward starting from the state the previous window ended in (the
 * caller's h0/c0 for the first), then a backward with that window's slice of dy. Gradients
 * stop at window boundaries: the dh0/dc0 flowing out of a window is discarded (except the
 * first window's, which is returned), so each window's backward receives zero dhn/dcn —
 * only the LAST window receives the caller's dhn/dcn. Parameter gradients of all windows
 * are ADDED to the backend's gradients (zero them first for a fresh step).
 *
 * What this computes, precisely, is the exact gradient of the surrogate loss
 *   Σ_k  sum(y_k · dy_k)  +  sum(hn · dhn) + sum(cn · dcn)
 * in which window k > 0 starts from its initial state held FIXED at the value the previous
 * window produced (test/grad/tbptt.test.ts checks this by finite differences). A window
 * ≥ T is one window: exactly full BPTT.
 *
 * Notes:
 * - With `lengths`, a window gets per-sequence lengths clamp(lengths[b] − start, 0, window):
 *   a sequence that ended in an earlier window has length 0 there (state held, output 0),
 *   so backends must accept a length of 0 in the calls this module makes. Such a sequence's
 *   dhn/dcn reach only the last window and then stop at its boundary, like any other.
 * - Bidirectional stacks are refused (RangeError): the reverse direction of a window would
 *   need the steps after it, so windowing it computes something that is neither the
 *   network's output nor a truncation of its gradient.
 */
import type { Backend, StackHandle, StackSpec } from './backend/contract.js';
import { hasCellState, sequenceShapes } from './backend/layout.js';

type Floats = Float32Array | Float64Array;

/** Everything one TBPTT pass needs. Shapes as in ForwardRequest / BackwardRequest. */
export interface TbpttRequest<A extends Floats = Float32Array> {
  /** [T][B][inputSize]. */
  x: A;
  steps: number;
  batch: number;
  /** Window length k ≥ 1 (steps per forward/backward). */
  window: number;
  /** [L·D][B][S]; zeros when absent. */
  h0?: A;
  /** [L·D][B][H] (LSTM cells); zeros when absent. */
  c0?: A;
  /** [B] valid steps per sequence, 1..T. */
  lengths?: Int32Array;
  /** [T][B][D·S] gradient of the loss with respect to every output. */
  dy: A;
  /** [L·D][B][S] gradient for the final state; applied to the last window only. */
  dhn?: A;
  /** [L·D][B][H] likewise for the final cell state. */
  dcn?: A;
}

export interface TbpttResult<A extends Floats = Float32Array> {
  /** [T][B][D·S] outputs of every window, concatenated. */
  y: A;
  /** Final state after the last window. */
  hn: A;
  cn?: A;
  /** [T][B][inputSize]: each window's dx (gradients stopped at window boundaries). */
  dx: A;
  /** Gradient for h0 / c0: what flows out of the first window. */
  dh0: A;
  dc0?: A;
}

/** The two calls TBPTT makes per window, on whatever runs the stack. */
export interface WindowRunner<A extends Floats> {
  forward(req: { x: A; steps: number; batch: number; h0?: A; c0?: A; lengths?: Int32Array }): { y: A; hn: A; cn?: A };
  backward(req: { dy: A; dhn?: A; dcn?: A }): { dx: A; dh0: A; dc0?: A };
}

interface AsyncWindowRunner<A extends Floats> {
  forward(req: Parameters<WindowRunner<A>['forward']>[0]): Promise<ReturnType<WindowRunner<A>['forward']>>;
  backward(req: Parameters<WindowRunner<A>['backward']>[0]): Promise<ReturnType<WindowRunner<A>['backward']>>;
}

function checkPositiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a positive integer; got ${typeof v}`);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer; got ${v}`);
  return v;
}

/** The intrinsic TypedArray getters: a Proxy or a subclass cannot make them lie (or throw). */
const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get! as (this: unknown) => string | undefined;
const typedArrayLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, 'length')!.get! as (this: unknown) => number;

function checkArray(name: string, v: unknown, kind: Function, expected: number, optional: boolean): void {
  if (v === undefined && optional) return;
  // Not `instanceof`: a Proxy over a typed array passes it, and then its `length` throws.
  if (typedArrayTag.call(v) !== kind.name) {
    const got = v === null ? 'null' : typedArrayTag.call(v) ?? typeof v;
    throw new TypeError(`${name} must be a ${kind.name}; got ${got}`);
  }
  const n = typedArrayLength.call(v);
  if (n !== expected) throw new RangeError(`${name} must have ${expected} elements; got ${n}`);
}

/** Checks every argument of a TBPTT request; throws TypeError/RangeError naming the parameter. */
export function validateTbpttRequest(spec: StackSpec, req: TbpttRequest<Floats>, kind: Function): void {
  if (typeof req !== 'object' || req === null) throw new TypeError(`request must be an object; got ${String(req)}`);
  if (spec.bidirectional) {
    throw new RangeError('spec.bidirectional must be false for truncated BPTT: a reverse direction needs the steps after each window');
  }
  const T = checkPositiveInteger('steps', req.steps);
  const B = checkPositiveInteger('batch', req.batch);
  checkPositiveInteger('window', req.window);
  const shapes = sequenceShapes(spec, T, B);
  const lstm = hasCellState(spec.cell);
  checkArray('x', req.x, kind, shapes.x, false);
  checkArray('dy', req.dy, kind, shapes.y, false);
  checkArray('h0', req.h0, kind, shapes.h, true);
  checkArray('dhn', req.dhn, kind, shapes.h, true);
  for (const name of ['c0', 'dcn'] as const) {
    if (!lstm && req[name] !== undefined) throw new RangeError(`${name} is only for LSTM cells; the cell is ${spec.cell}`);
    checkArray(name, req[name], kind, shapes.c, true);
  }
  if (req.lengths !== undefined) {
    checkArray('lengths', req.lengths, Int32Array, B, false);
    req.lengths.forEach((len, b) => {
      if (len < 1 || len > T) throw new RangeError(`lengths[${b}] must be in 1..${T} (steps); got ${len}`);
    });
  }
}

/** The bookkeeping of one pass: window boundaries, slicing inputs, assembling outputs. */
class WindowPlan<A extends Floats> {
  readonly starts: number[] = [];
  private readonly rowX: number;
  private readonly rowY: number;
  readonly y: A;
  readonly dx: A;

  constructor(
    spec: StackSpec,
    private readonly req: TbpttRequest<A>,
  ) {
    for (let t = 0; t < req.steps; t += req.window) this.starts.push(t);
    this.rowX = req.batch * spec.inputSize; // values per time step of x
    this.rowY = req.dy.length / req.steps; // values per time step of y
    const make = (n: number) => new (req.x.constructor as new (n: number) => A)(n);
    this.y = make(req.steps * this.rowY);
    this.dx = make(req.steps * this.rowX);
  }

  end(k: number): number {
    return Math.min(this.starts[k] + this.req.window, this.req.steps);
  }

  isLast(k: number): boolean {
    return k === this.starts.length - 1;
  }

  forwardRequest(k: number, h0: A | undefined, c0: A | undefined) {
    const t0 = this.starts[k];
    const t1 = this.end(k);
    const lengths = this.req.lengths?.map((len) => Math.max(0, Math.min(len - t0, t1 - t0)));
    return {
      x: this.req.x.slice(t0 * this.rowX, t1 * this.rowX) as A,
      steps: t1 - t0,
      batch: this.req.batch,
      h0,
      c0,
      lengths,
    };
  }

  backwardRequest(k: number) {
    const t0 = this.starts[k];
    const t1 = this.end(k);
    const last = this.isLast(k);
    return {
      dy: this.req.dy.slice(t0 * this.rowY, t1 * this.rowY) as A,
      dhn: last ? this.req.dhn : undefined,
      dcn: last ? this.req.dcn : undefined,
    };
  }

  storeY(k: number, y: A): void {
    this.y.set(y, this.starts[k] * this.rowY);
  }

  storeDx(k: number, dx: A): void {
    this.dx.set(dx, this.starts[k] * this.rowX);
  }
}

/** TBPTT over any synchronous runner (a Backend's sync calls, or the float64 reference core). */
export function truncatedBpttWith<A extends Floats>(spec: StackSpec, req: TbpttRequest<A>, runner: WindowRunner<A>): TbpttResult<A> {
  // The float64 reference core runs on Float64Arrays; backends on Float32Arrays.
  const kind = typeof req === 'object' && req !== null && req.x instanceof Float64Array ? Float64Array : Float32Array;
  validateTbpttRequest(spec, req, kind);
  const plan = new WindowPlan(spec, req);
  let h = req.h0;
  let c = req.c0;
  let first: { dh0: A; dc0?: A } | undefined;
  for (let k = 0; k < plan.starts.length; k++) {
    const fwd = runner.forward(plan.forwardRequest(k, h, c));
    plan.storeY(k, fwd.y);
    h = fwd.hn;
    c = fwd.cn;
    const bwd = runner.backward(plan.backwardRequest(k));
    plan.storeDx(k, bwd.dx);
    if (k === 0) first = { dh0: bwd.dh0, dc0: bwd.dc0 };
    // bwd.dh0 / bwd.dc0 of later windows are discarded: the truncation.
  }
  return result(plan, h as A, c, first as { dh0: A; dc0?: A });
}

async function truncatedBpttAsync(spec: StackSpec, req: TbpttRequest, runner: AsyncWindowRunner<Float32Array>): Promise<TbpttResult> {
  validateTbpttRequest(spec, req, Float32Array);
  const plan = new WindowPlan(spec, req);
  let h = req.h0;
  let c = req.c0;
  let first: { dh0: Float32Array; dc0?: Float32Array } | undefined;
  for (let k = 0; k < plan.starts.length; k++) {
    const fwd = await runner.forward(plan.forwardRequest(k, h, c));
    plan.storeY(k, fwd.y);
    h = fwd.hn;
    c = fwd.cn;
    const bwd = await runner.backward(plan.backwardRequest(k));
    plan.storeDx(k, bwd.dx);
    if (k === 0) first = { dh0: bwd.dh0, dc0: bwd.dc0 };
  }
  return result(plan, h as Float32Array, c, first as { dh0: Float32Array; dc0?: Float32Array });
}

function result<A extends Floats>(plan: WindowPlan<A>, hn: A, cn: A | undefined, first: { dh0: A; dc0?: A }): TbpttResult<A> {
  return {
    y: plan.y,
    hn,
    ...(cn ? { cn } : {}),
    dx: plan.dx,
    dh0: first.dh0,
    ...(first.dc0 ? { dc0: first.dc0 } : {}),
  };
}

function checkBackendArgs(backend: Backend, stack: StackHandle, spec: StackSpec): void {
  if (typeof backend !== 'object' || backend === null || typeof backend.forward !== 'function') {
    throw new TypeError('backend must be a Backend');
  }
  if (typeof stack !== 'object' || stack === null || stack.backend !== backend.name) {
    throw new TypeError(`stack must be a handle of the ${backend.name} backend`);
  }
  if (typeof spec !== 'object' || spec === null) throw new TypeError('spec must be the StackSpec of the stack');
}

/**
 * TBPTT on `stack` (a handle of `backend` whose spec is `spec`): windows run through the
 * backend's async forward/backward. Gradients are added to the stack's gradients.
 */
export function truncatedBptt(backend: Backend, stack: StackHandle, spec: StackSpec, req: TbpttRequest): Promise<TbpttResult> {
  try {
    checkBackendArgs(backend, stack, spec);
  } catch (e) {
    return Promise.reject(e);
  }
  return truncatedBpttAsync(spec, req, {
    forward: (r) => backend.forward(stack, { ...r, training: true }),
    backward: (r) => backend.backward(stack, r),
  });
}

/** The same with the backend's synchronous calls. */
export function truncatedBpttSync(backend: Backend, stack: StackHandle, spec: StackSpec, req: TbpttRequest): TbpttResult {
  checkBackendArgs(backend, stack, spec);
  return truncatedBpttWith(spec, req, {
    forward: (r) => backend.forwardSync(stack, { ...r, training: true }),
    backward: (r) => backend.backwardSync(stack, r),
  });
}
