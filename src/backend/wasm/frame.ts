/**
 * The buffers of one call into rnnkit.wasm: each is allocated in the module's linear
 * memory, and release() frees them all (callers release in `finally`). Used by the stack
 * calls (backend.ts) and the training calls (training.ts).
 */
import type { Ptr, RnnkitModule } from './module.js';

export class CallFrame {
  private readonly ptrs: Ptr[] = [];
  constructor(private readonly m: RnnkitModule) {}

  /** `bytes` uninitialised bytes (a struct, or an output buffer). */
  alloc(bytes: number, what: string): Ptr {
    const p = this.m.alloc(bytes, what);
    this.ptrs.push(p);
    return p;
  }

  /** Copy `data` into a fresh buffer (NULL when absent). */
  input(data: Float32Array | Int32Array | Uint8Array | undefined, what: string): Ptr {
    if (data === undefined) return 0;
    const p = this.alloc(data.byteLength, what);
    if (data instanceof Uint8Array) this.m.heapU8().set(data, p);
    else (data instanceof Int32Array ? this.m.heapI32() : this.m.heapF32()).set(data, p >>> 2);
    return p;
  }

  /** An uninitialised float buffer for an output of `count` elements. */
  output(count: number, what: string): Ptr {
    return this.alloc(count * 4, what);
  }

  /** `count` int64 values that `fill` writes at the pointer it is given (rk_*_shapes), as numbers. */
  int64s(count: number, what: string, fill: (out: Ptr) => void): number[] {
    const out = this.alloc(8 * count, what);
    fill(out);
    return Array.from(new BigInt64Array(this.m.exports.memory.buffer, out, count), Number);
  }

  read(p: Ptr, count: number): Float32Array {
    return this.m.heapF32().slice(p >>> 2, (p >>> 2) + count);
  }

  release(): void {
    for (const p of this.ptrs) this.m.exports.free(p);
    this.ptrs.length = 0;
  }
}
