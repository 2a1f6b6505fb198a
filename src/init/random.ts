/**
 * A small seedable pseudo-random generator, so that the same seed gives the same model.
 *
 * The generator is xoshiro128** (Blackman & Vigna), 128 bits of state, seeded from one
 * 32-bit integer through SplitMix32 steps so that nearby seeds give unrelated streams.
 * Every random draw of rnnkit's initialisers and data shuffling goes through a `Random`.
 * It is not cryptographic.
 */

/** The state of a {@link Random}, as plain JSON. */
export interface RandomState {
  s: [number, number, number, number];
  /** The second normal of the last Box–Muller pair, not yet drawn. */
  spare: number | null;
}

/** `value` as a seed (any integer), or a TypeError naming it as `name`. */
export function checkSeed(value: unknown, name = 'seed'): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer; got ${typeof value === 'number' ? value : typeof value === 'string' ? `string ${JSON.stringify(value)}` : typeof value}`);
  }
  return value;
}

/** A seeded stream of uniform and normal numbers. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  /** `seed`: any integer (taken modulo 2³²). */
  constructor(seed: number) {
    let x = checkSeed(seed) >>> 0;
    const next = () => {
      // SplitMix32: a strong 32-bit mixer over a Weyl sequence.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The generator's whole state (a checkpoint restores it with {@link Random.fromState}). */
  getState(): RandomState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare ?? null };
  }

  /** A generator that continues exactly where the one that gave `state` was. */
  static fromState(state: RandomState): Random {
    const ok = state !== null && typeof state === 'object' && Array.isArray(state.s) && state.s.length === 4 &&
      state.s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff) && state.s.some((v) => v !== 0) &&
      (state.spare === null || Number.isFinite(state.spare));
    if (!ok) throw new TypeError('random state must be { s: four uint32 (not all 0), spare: number | null }');
    const r = new Random(0);
    [r.s0, r.s1, r.s2, r.s3] = state.s;
    r.spare = state.spare ?? undefined;
    return r;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1), 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of `a` in place; returns `a`. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
