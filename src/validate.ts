/**
 * Argument checks for the public API. Every failure names the parameter and gives the
 * expected and the actual value, as a TypeError (wrong kind of value) or a RangeError
 * (right kind, wrong value). Backends receive only arguments that passed these checks.
 */

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  return typeof value;
}

/** A whole number ≥ `min`; `name` is the parameter as the user wrote it. */
export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be an integer ≥ ${min}; got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}; got ${describe(value)}`);
  }
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean; got ${describe(value)}`);
  return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const kind = typeof value === 'string' ? RangeError : TypeError;
    throw new kind(`${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${describe(value)}`);
  }
  return value as T;
}

/**
 * A Float32Array of exactly `length` elements with only finite values. `shape` is the
 * expected shape in words, e.g. "[T=5][B=2][I=3]", quoted in the error.
 */
export function checkFloat32(name: string, value: unknown, length: number, shape: string): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(`${name} must be a Float32Array of shape ${shape} (${length} values); got ${describe(value)}`);
  }
  if (value.length !== length) {
    throw new RangeError(`${name} must have shape ${shape} = ${length} values; got ${value.length}`);
  }
  for (let i = 0; i < value.length; i++) {
    if (!Number.isFinite(value[i])) {
      throw new RangeError(`${name} must contain only finite numbers; ${name}[${i}] is ${value[i]}`);
    }
  }
  return value;
}

/** Per-sequence lengths: an Int32Array (or array) of `batch` integers in 1..steps. */
export function checkLengths(name: string, value: unknown, batch: number, steps: number): Int32Array {
  const ok = value instanceof Int32Array || Array.isArray(value) || value instanceof Uint32Array;
  if (!ok) throw new TypeError(`${name} must be an Int32Array or array of ${batch} integers; got ${describe(value)}`);
  const arr = value as ArrayLike<unknown>;
  if (arr.length !== batch) throw new RangeError(`${name} must have batch=${batch} entries; got ${arr.length}`);
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const v = arr[b];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > steps) {
      throw new RangeError(`${name}[${b}] must be an integer in 1..${steps} (steps); got ${describe(v)}`);
    }
    out[b] = v;
  }
  return out;
}
