/**
 * ReferenceBackend: the Backend interface over the float64 reference core.
 *
 * Parameters and gradients are held in float64; Float32Arrays are converted at the edges
 * (inputs widened exactly, outputs rounded once). It is slow on purpose: it exists to be
 * obviously right and to be what the compiled backends are compared against.
 *
 * Contract details the conformance suite checks on every backend:
 * - backward works on the tape of the last forward made with `training: true` (a later
 *   inference forward does not replace it), and ADDS to the gradients;
 * - backward without a preceding training forward, any use of a disposed handle, a handle
 *   of another backend, and arrays of the wrong length are Errors (never a crash).
 */
import type {
  Backend,
  BackendInfo,
  BackwardRequest,
  BackwardResult,
  ForwardRequest,
  ForwardResult,
  StackHandle,
  StackSpec,
} from '../contract.js';
import { hasCellState, paramLayout, sequenceShapes } from '../layout.js';
import { referenceBackward, referenceForward, type ReferenceTape } from './sequence.js';

class ReferenceStack implements StackHandle {
  readonly backend = 'reference' as const;
  disposed = false;
  tape: ReferenceTape | null = null;
  constructor(
    readonly spec: StackSpec,
    readonly params: Float64Array,
    readonly grads: Float64Array,
  ) {}
}

function toF64(a: Float32Array | undefined): Float64Array | undefined {
  return a ? Float64Array.from(a) : undefined;
}

function checkLength(name: string, a: ArrayLike<number> | undefined, expected: number): void {
  if (a !== undefined && a.length !== expected) {
    throw new RangeError(`${name} must have ${expected} elements; got ${a.length}`);
  }
}

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;

  info(): BackendInfo {
    return { backend: 'reference', isa: 'reference', threads: 1 };
  }

  createStack(spec: StackSpec): StackHandle {
    const total = paramLayout(spec).total;
    return new ReferenceStack({ ...spec }, new Float64Array(total), new Float64Array(total));
  }

  private live(handle: StackHandle): ReferenceStack {
    if (!(handle instanceof ReferenceStack)) {
      throw new TypeError(`stack must be a handle created by the reference backend; got ${handle?.backend ?? typeof handle}`);
    }
    if (handle.disposed) throw new Error('stack has been disposed');
    return handle;
  }

  setParams(handle: StackHandle, flat: Float32Array): void {
    const s = this.live(handle);
    checkLength('flat', flat, s.params.length);
    s.params.set(flat);
  }

  getParams(handle: StackHandle): Float32Array {
    return Float32Array.from(this.live(handle).params);
  }

  getGrads(handle: StackHandle): Float32Array {
    return Float32Array.from(this.live(handle).grads);
  }

  zeroGrads(handle: StackHandle): void {
    this.live(handle).grads.fill(0);
  }

  forwardSync(handle: StackHandle, req: ForwardRequest): ForwardResult {
    const s = this.live(handle);
    const shapes = sequenceShapes(s.spec, req.steps, req.batch);
    checkLength('x', req.x, shapes.x);
    checkLength('h0', req.h0, shapes.h);
    checkLength('c0', req.c0, shapes.c);
    checkLength('lengths', req.lengths, req.batch);
    const out = referenceForward(s.spec, s.params, {
      x: Float64Array.from(req.x),
      steps: req.steps,
      batch: req.batch,
      h0: toF64(req.h0),
      c0: hasCellState(s.spec.cell) ? toF64(req.c0) : undefined,
      lengths: req.lengths,
    });
    if (req.training) s.tape = out.tape;
    return {
      y: Float32Array.from(out.y),
      hn: Float32Array.from(out.hn),
      ...(out.cn ? { cn: Float32Array.from(out.cn) } : {}),
    };
  }

  backwardSync(handle: StackHandle, req: BackwardRequest): BackwardResult {
    const s = this.live(handle);
    const tape = s.tape;
    if (!tape) throw new Error('backward needs a preceding forward with training: true');
    const shapes = sequenceShapes(s.spec, tape.steps, tape.batch);
    checkLength('dy', req.dy, shapes.y);
    checkLength('dhn', req.dhn, shapes.h);
    checkLength('dcn', req.dcn, shapes.c);
    const out = referenceBackward(s.spec, s.params, tape, {
      dy: Float64Array.from(req.dy),
      dhn: toF64(req.dhn),
      dcn: hasCellState(s.spec.cell) ? toF64(req.dcn) : undefined,
    });
    for (let i = 0; i < s.grads.length; i++) s.grads[i] += out.grads[i];
    return {
      dx: Float32Array.from(out.dx),
      dh0: Float32Array.from(out.dh0),
      ...(out.dc0 ? { dc0: Float32Array.from(out.dc0) } : {}),
    };
  }

  async forward(handle: StackHandle, req: ForwardRequest): Promise<ForwardResult> {
    return this.forwardSync(handle, req);
  }

  async backward(handle: StackHandle, req: BackwardRequest): Promise<BackwardResult> {
    return this.backwardSync(handle, req);
  }

  dispose(handle: StackHandle): void {
    const s = this.live(handle);
    s.disposed = true;
    s.tape = null;
  }
}
