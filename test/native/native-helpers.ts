/**
 * Shared pieces of the addon-level tests: the loaded addon (exactly as NativeBackend loads
 * it: RNNKIT_NATIVE_PATH, else node-gyp-build on the package root — a load failure fails
 * the tests, never skips them), seeded data, and which ISA paths this CPU can run.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { StackSpec } from '../../src/backend/contract.js';
import { loadAddon, type NativeAddon } from '../../src/backend/native/backend.js';
import { Rng } from '../helpers/random.js';

let cached: { addon: NativeAddon; path: string } | undefined;

/** The addon under test; throws (failing the test) if it does not load. */
export function addon(): NativeAddon {
  cached ??= loadAddon();
  return cached.addon;
}

export function addonPath(): string {
  cached ??= loadAddon();
  return cached.path;
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

export const LSTM: StackSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true };
export const GRU: StackSpec = { cell: 'gru', inputSize: 4, hiddenSize: 7, outputSize: 7, layers: 1, bidirectional: false };

/**
 * ISA paths this CPU can run, from /proc/cpuinfo (Linux x64/arm64), in the names rk_isa
 * uses. scalar is always there. The AVX-512 path needs the subsets native/sources.json
 * compiles it with (F, VL, DQ) plus AVX2/FMA.
 */
export function supportedIsas(): string[] {
  const isas = ['scalar'];
  let flags = new Set<string>();
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
    flags = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return isas;
  }
  if (process.arch === 'x64') {
    if (flags.has('avx2') && flags.has('fma')) isas.push('avx2');
    if (['avx512f', 'avx512vl', 'avx512dq', 'avx2', 'fma'].every((f) => flags.has(f))) isas.push('avx512');
  }
  if (process.arch === 'arm64' && (flags.has('asimd') || flags.size > 0)) isas.push('neon');
  return isas;
}

/** A full garbage collection (node's gc, exposed at run time for tests that need it). */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
