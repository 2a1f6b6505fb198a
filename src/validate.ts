/**
 * Argument checks for the public API. Every failure names the parameter and gives the
 * expected and the actual value, as a TypeError (wrong kind of value) or a RangeError
 * (right kind, wrong value). Backends receive only arguments that passed these checks.
 */

import { LIMITS } from './backend/abi/limits.js';

/** A value as an error message shows it: numbers and strings as written, typed arrays with their kind and length, else the type. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  const kind = kindOfTypedArray(value);
  if (kind) return `${kind}(${typedArrayLength.call(value)})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  return typeof value;
}

/** A whole number ≥ `min`; `name` is the parameter as the user wrote it. */
export function checkInteger(name: string, value: unknown, min: number): number {
  return checkIntegerIn(name, value, min, Infinity);
}

/** A whole number in min..max. */
export function checkIntegerIn(name: string, value: unknown, min: number, max: number): number {
  const want = max === Infinity ? `an integer ≥ ${min}` : `an integer in ${min}..${max}`;
  if (typeof value !== 'number') throw new TypeError(`${name} must be ${want}; got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be ${want}; got ${describe(value)}`);
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
 * The intrinsic TypedArray accessors: they read a typed array's internal slots, so neither a
 * subclass that overrides `length` nor a Proxy can make the checks below see other bytes
 * than the backend will copy.
 */
const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const intrinsic = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get! as (this: unknown) => unknown;
const typedArrayName = intrinsic(Symbol.toStringTag);
const typedArrayLength = intrinsic('length') as (this: unknown) => number;

/** The typed array's own kind ('Float32Array', …), or undefined for anything else (a Proxy included). */
function kindOfTypedArray(value: unknown): string | undefined {
  return typedArrayName.call(value) as string | undefined;
}

/** ' (its buffer is detached, …)' for an empty typed array whose buffer has no bytes, else '': why a view the caller filled reads as empty. */
export function detachedNote(value: unknown): string {
  if (!kindOfTypedArray(value)) return '';
  const v = value as Uint8Array;
  return typedArrayLength.call(v) === 0 && v.buffer.byteLength === 0 ? ' (its buffer is detached, transferred or resized to 0)' : '';
}

/**
 * A private copy of `value`, which must be a genuine `kind` typed array of exactly `length`
 * elements. The copy is what gets checked and what the backend reads, so the caller may
 * mutate, transfer (detach) or resize its buffer as soon as the call returns — even while
 * an asynchronous call is still running.
 */
function copyTypedArray<T extends Float32Array | Int32Array>(
  name: string, value: unknown, length: number, shape: string, ctor: { new (n: number): T; name: string },
): T {
  if (kindOfTypedArray(value) !== ctor.name) {
    throw new TypeError(`${name} must be a ${ctor.name} of shape ${shape} (${length} values); got ${describe(value)}`);
  }
  const actual = typedArrayLength.call(value);
  if (actual !== length) {
    throw new RangeError(`${name} must have shape ${shape} = ${length} values; got ${actual}${detachedNote(value)}`);
  }
  const copy = new ctor(length);
  copy.set(value as T); // a genuine typed array source is read through its internal slots
  return copy;
}

/** A private copy (see copyTypedArray) of a Float32Array of exactly `length` elements, any values. */
export function copyFloat32(name: string, value: unknown, length: number, shape: string): Float32Array {
  return copyTypedArray(name, value, length, shape, Float32Array);
}

/**
 * A private copy (see copyTypedArray) of a Float32Array of exactly `length` elements, with
 * only finite values. `shape` is the expected shape in words, e.g. "[T=5][B=2][I=3]".
 */
export function checkFloat32(name: string, value: unknown, length: number, shape: string): Float32Array {
  const copy = copyFloat32(name, value, length, shape);
  for (let i = 0; i < copy.length; i++) {
    if (!Number.isFinite(copy[i])) {
      throw new RangeError(`${name} must contain only finite numbers; ${name}[${i}] is ${copy[i]}`);
    }
  }
  return copy;
}

/** A width (inputSize, hiddenSize, vocab, outputs, …): an integer in min..RK_MAX_WIDTH. */
export function checkWidth(name: string, value: unknown, min = 1): number {
  return checkIntegerIn(name, value, min, LIMITS.RK_MAX_WIDTH);
}

/** A number of stacked layers: an integer in 1..RK_MAX_LAYERS. */
export function checkLayers(name: string, value: unknown): number {
  return checkIntegerIn(name, value, 1, LIMITS.RK_MAX_LAYERS);
}

/** A count of steps or sequences in a batch: an integer in min..RK_MAX_ELEMENTS. */
export function checkCount(name: string, value: unknown, min = 1): number {
  return checkIntegerIn(name, value, min, LIMITS.RK_MAX_ELEMENTS);
}

/** That an array of `elements` (named `name`, shaped `shape`) stays within RK_MAX_ELEMENTS. */
export function checkElements(name: string, elements: number, shape: string): void {
  if (elements > LIMITS.RK_MAX_ELEMENTS) {
    throw new RangeError(`${name} ${shape} would hold ${elements} elements; the limit is ${LIMITS.RK_MAX_ELEMENTS} (RK_MAX_ELEMENTS)`);
  }
}

/** That a parameter array of `total` floats stays within RK_MAX_PARAMS; `what` names the configuration. */
export function checkParamCount(what: string, total: number): void {
  if (total > LIMITS.RK_MAX_PARAMS) {
    throw new RangeError(`${what} would need ${total} parameters; the limit is ${LIMITS.RK_MAX_PARAMS} (RK_MAX_PARAMS)`);
  }
}

/** Per-sequence lengths: an Int32Array (or array) of `batch` integers in 1..steps. */
export function checkLengths(name: string, value: unknown, batch: number, steps: number): Int32Array {
  // The intrinsic checks (see copyTypedArray): a Proxy of an Int32Array passed instanceof and
  // then failed on its length with an engine message naming nothing.
  const kind = kindOfTypedArray(value);
  const ok = kind === 'Int32Array' || kind === 'Uint32Array' || Array.isArray(value);
  if (!ok) throw new TypeError(`${name} must be an Int32Array or array of ${batch} integers; got ${describe(value)}`);
  const arr = value as ArrayLike<unknown>;
  const length = kind ? typedArrayLength.call(value) : arr.length;
  if (length !== batch) throw new RangeError(`${name} must have batch=${batch} entries; got ${length}`);
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

/** A finite number in [min, max] (or (min, max] with openMin). */
export function checkNumber(name: string, v: unknown, min: number, max: number, openMin = false): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number; got ${v === null ? 'null' : typeof v}`);
  const low = openMin ? v > min : v >= min;
  if (!Number.isFinite(v) || !low || v > max) {
    throw new RangeError(`${name} must be in ${openMin ? '(' : '['}${min}, ${max}]; got ${v}`);
  }
  return v;
}

/**
 * Refuses a key of an options object that is not one of `known`: a misspelt option
 * (`epoch`, `hiddensize`, Adam's `momentum`) would otherwise silently mean the default.
 * `name` is the object as the user wrote it (`optimizer`), '' for the options argument
 * itself; the message suggests the known key the unknown one most resembles.
 */
export function checkKnownKeys(name: string, value: object, known: readonly string[], what = 'an option'): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = nearestKey(key, known);
    throw new TypeError(
      `${name ? `${name}.` : ''}${key} is not ${what}${near ? ` (did you mean ${near}?)` : ''}; expected one of ${known.join(', ')}`,
    );
  }
}

/**
 * `e` with `context` before its message — the same class (RangeError, TypeError, else Error),
 * `e` as its cause: a check made deep inside a load or a resume, named where it happened.
 */
export function inContext(context: string, e: unknown): Error {
  const Kind = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
  return new Kind(`${context}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * The known key the unknown one most resembles: the same but for case, `_` and `-`
 * (`hiddensize`, `batch_size`), else one that begins with the other (`epoch`, `epochs`),
 * else the one nearest by a typo or two (`varient`, `lerningRate`). The message lists every
 * known key anyway.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const plain = (k: string) => k.toLowerCase().replace(/[_-]/g, '');
  const p = plain(key);
  if (p === '') return undefined;
  const exact = known.find((k) => plain(k) === p) ?? known.find((k) => plain(k).startsWith(p) || p.startsWith(plain(k)));
  if (exact !== undefined || p.length < 4) return exact;
  let best: string | undefined;
  let bestDistance = p.length >= 8 ? 3 : 2; // this many edits or more: another word (1 typo; 2 in long names)
  for (const k of known) {
    const d = editDistance(p, plain(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/**
 * Every key of an options type, as a list the checks can use; the argument must name each
 * key of T once (the compiler refuses a missing or an extra one), so the list cannot drift
 * from the type.
 */
export function keysOf<T>(all: Record<keyof T, true>): (keyof T & string)[] {
  return Object.keys(all) as (keyof T & string)[];
}
