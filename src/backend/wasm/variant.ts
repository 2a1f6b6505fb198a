/**
 * The four builds of the module (wasm/build.mjs) and which one an engine runs:
 * - "simd128": wasm/dist/rnnkit.wasm, 128-bit SIMD without fused multiply-add (every engine
 *   with SIMD);
 * - "relaxed": wasm/dist/rnnkit-relaxed.wasm, the same code with the SIMD kernels' multiply-adds
 *   as f32x4.relaxed_madd (one FMA on CPUs that have it): engines with relaxed SIMD (Chromium
 *   since 114; Node 20 only with --experimental-wasm-relaxed-simd);
 * - "threads": wasm/dist/rnnkit-threads.wasm, simd128 with a thread pool over shared memory
 *   (threads.ts): Node, and cross-origin-isolated pages;
 * - "threads-relaxed": wasm/dist/rnnkit-threads-relaxed.wasm, the same with relaxed SIMD's
 *   multiply-adds: both of the above needed.
 * Only the chosen file is read or fetched.
 */
import { hardwareThreads, sharedMemorySupported } from './threads.js';

export type WasmVariant = 'simd128' | 'relaxed' | 'threads' | 'threads-relaxed';

export const WASM_VARIANTS: readonly WasmVariant[] = ['simd128', 'relaxed', 'threads', 'threads-relaxed'];

/** The file of each variant in wasm/dist/. */
export const VARIANT_FILES: Readonly<Record<WasmVariant, string>> = {
  simd128: 'rnnkit.wasm',
  relaxed: 'rnnkit-relaxed.wasm',
  threads: 'rnnkit-threads.wasm',
  'threads-relaxed': 'rnnkit-threads-relaxed.wasm',
};

/** What an automatic choice that did not load falls back to (the variant without relaxed SIMD or threads). */
export const FALLBACK: Readonly<Record<WasmVariant, WasmVariant | null>> = {
  simd128: null,
  relaxed: 'simd128',
  threads: 'simd128',
  'threads-relaxed': 'threads',
};

/**
 * What "auto" loads: a threaded build where shared memory works and there is more than one
 * core, else a single-threaded one; with relaxed SIMD where the engine validates it.
 */
export function autoVariant(): WasmVariant {
  const relaxed = relaxedSimdSupported();
  if (hardwareThreads() > 1 && sharedMemorySupported()) return relaxed ? 'threads-relaxed' : 'threads';
  return relaxed ? 'relaxed' : 'simd128';
}

/**
 * A 37-byte module whose one function is f32x4.relaxed_madd (0xfd 0x105, the standard
 * opcode). The same bytes as wasm/check.mjs's RELAXED_SIMD_PROBE (test/wasm/backend.test.ts).
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // types: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2, f32x4.relaxed_madd, end
]);

/** Whether this engine validates relaxed SIMD (so runs rnnkit-relaxed.wasm). */
export function relaxedSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Why this engine cannot run `variant` (a variant asked for by name), or undefined. (Shared memory: module.ts says it.) */
export function variantProblem(variant: WasmVariant): string | undefined {
  if (variant.endsWith('relaxed') && !relaxedSimdSupported()) {
    return `this engine has no relaxed SIMD (Node 20: node --experimental-wasm-relaxed-simd; Chromium 114+)`;
  }
  return undefined;
}

/** `value` as a variant or "auto"; anything else is a RangeError naming `where`. */
export function parseVariant(value: unknown, where: string): WasmVariant | 'auto' {
  if (value === 'auto' || (WASM_VARIANTS as readonly unknown[]).includes(value)) return value as WasmVariant | 'auto';
  throw new RangeError(`${where} must be one of ${[...WASM_VARIANTS, 'auto'].map((v) => JSON.stringify(v)).join(', ')}; got ${JSON.stringify(value)}`);
}
