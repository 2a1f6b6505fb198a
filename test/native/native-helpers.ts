/**
 * Shared pieces of the addon-level tests: the loaded addon (exactly as NativeBackend loads
 * it: RNNKIT_NATIVE_PATH, else node-gyp-build on the package root — a load failure fails
 * the tests, never skips them), structs packed for it by src/backend/abi/ (the layout the
 * module itself reports through rk_abi_describe), positional-argument wrappers, seeded
 * data, and which ISA paths this CPU can run.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Abi } from '../../src/backend/abi/abi.js';
import { BATCH_INPUTS, batchValues, modelSpecValues, optimizerValues, stackSpecValues, type ModelArrayName } from '../../src/backend/abi/structs.js';
import type { ForwardRequest, ModelSpec, StackSpec, TrainBatch } from '../../src/backend/contract.js';
import { loadAddon, type AddonHandle, type AddonResult, type NativeAddon } from '../../src/backend/native/addon.js';
import { createNativeBackend, type NativeBackend } from '../../src/backend/native/backend.js';
import { optimizerSettings, type OptimizerSpec } from '../../src/optim/optimizers.js';
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

let backend: NativeBackend | undefined;

/** The ABI of the loaded addon (checked against src/backend/abi/schema.ts by NativeBackend). */
export function abi(): Abi {
  backend ??= createNativeBackend();
  return backend.abi;
}

/** A packed rk_stack_spec, as NativeBackend.createStack packs it. */
export function packStack(spec: StackSpec): Uint8Array {
  return abi().pack('rk_stack_spec', stackSpecValues(abi(), spec));
}

/** A packed rk_model_spec, as the native training backend packs it. */
export function packModel(spec: ModelSpec): Uint8Array {
  return abi().pack('rk_model_spec', modelSpecValues(abi(), spec));
}

/** A packed rk_optimizer with PyTorch's defaults filled in. */
export function packOptimizer(o: OptimizerSpec): Uint8Array {
  return abi().pack('rk_optimizer', optimizerValues(abi(), optimizerSettings(o, undefined)));
}

/** The index of an array in modelRun's list (rk_model_array, as the module numbers it). */
export function arrayIndex(name: ModelArrayName): number {
  return abi().value('rk_model_array', name);
}

/** modelRun's arguments for `b`: the packed rk_batch and its arrays indexed by rk_model_array. */
export function packBatch(b: TrainBatch): [Uint8Array, unknown[]] {
  const arrays: unknown[] = [];
  for (const { array, of } of BATCH_INPUTS) arrays[arrayIndex(array)] = of(b);
  return [abi().pack('rk_batch', batchValues(b, () => 0)), arrays];
}

/** The rk_step_result a model run resolved to. */
export function readStep(r: AddonResult): { loss: number; count: number; correct: number; total_norm: number } {
  return abi().readF64('rk_step_result', new DataView(r.step!));
}

export function createStack(spec: StackSpec): AddonHandle {
  return addon().stackCreate(packStack(spec));
}

export function createModel(spec: ModelSpec): AddonHandle {
  return addon().modelCreate(packModel(spec));
}

/** stackForwardSync with a ForwardRequest. */
export function forwardSync(h: AddonHandle, r: ForwardRequest): AddonResult {
  return addon().stackForwardSync(h, r.steps, r.batch, !!r.training, r.x, r.h0, r.c0, r.lengths);
}

/** stackForward with a ForwardRequest. */
export function forward(h: AddonHandle, r: ForwardRequest): Promise<AddonResult> {
  return addon().stackForward(h, r.steps, r.batch, !!r.training, r.x, r.h0, r.c0, r.lengths);
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

export const LSTM: StackSpec = { cell: 'lstm', inputSize: 3, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true };
export const GRU: StackSpec = { cell: 'gru', inputSize: 4, hiddenSize: 7, outputSize: 7, layers: 1, bidirectional: false };

/** A small token model: embedding → LSTM → head, cross-entropy. */
export const TOKEN_MODEL: ModelSpec = {
  input: { kind: 'embedding', vocab: 7, dim: 3 },
  conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 3, hiddenSize: 4, outputSize: 4, layers: 1, bidirectional: false },
  outputs: 5,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};

/** A window of TOKEN_MODEL data (T steps, B sequences), seeded. */
export function tokenBatch(steps: number, batch: number, seed: number, spec: ModelSpec = TOKEN_MODEL): TrainBatch {
  const rng = new Rng(seed);
  const vocab = spec.input.kind === 'dense' ? 1 : spec.input.vocab;
  return {
    steps,
    batch,
    tokens: Int32Array.from({ length: steps * batch }, () => rng.int(0, vocab - 1)),
    targets: Int32Array.from({ length: steps * batch }, () => rng.int(0, spec.outputs - 1)),
  };
}

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

/** The error `fn` throws (fails the test if it returns). */
export function caught(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error(`expected a throw from ${fn.toString()}`);
}

/** The reason `p` rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return p.then(
    () => {
      throw new Error('expected a rejection; it resolved');
    },
    (e: Error & { code?: string }) => e,
  );
}

/** A full garbage collection (node's gc, exposed at run time for tests that need it). */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
