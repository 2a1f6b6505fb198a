/**
 * Finding and loading the Node-API addon (native/addon/), and the shape of its exports.
 *
 * Which addon file loads (see {@link resolveAddonPath}):
 *   RNNKIT_NATIVE_PATH=/path/to/rnnkit.node   exactly that file (e.g. the sanitizer build)
 *   otherwise node-gyp-build on the package root: build/Release (a local build), then
 *   prebuilds/<platform>-<arch>/ (the prebuild shipped in the npm package).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque handle made by the addon (a type-tagged External over an rk_stack or rk_model). */
export type AddonHandle = object & { readonly __rnnkitAddonHandle?: never };

/** The arrays a forward, backward or model run resolves to (`step`: the packed rk_step_result). */
export type AddonResult = Record<string, Float32Array | undefined> & { step?: ArrayBuffer };

/**
 * The addon's exports (native/addon/). Structs arrive packed by src/backend/abi/; array
 * sizes are those C reports (rk_stack_shapes, rk_model_shapes); the inputs of the
 * asynchronous calls are copied before the call is queued.
 */
export interface NativeAddon {
  abiDescribe(): string;
  isa(): string;
  forceIsa(name: string): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** What setThreads(n) would give: n, or every core for 0 (rk_resolve_threads). */
  resolveThreads(n: number): number;
  stackCreate(spec: Uint8Array): AddonHandle;
  stackLayout(h: AddonHandle): string;
  stackParamCount(h: AddonHandle): number;
  stackSetParams(h: AddonHandle, flat: Float32Array): void;
  stackGetParams(h: AddonHandle): Float32Array;
  stackGetGrads(h: AddonHandle): Float32Array;
  stackZeroGrads(h: AddonHandle): void;
  stackDispose(h: AddonHandle): void;
  stackForward(h: AddonHandle, T: number, B: number, keep: boolean, x: Float32Array, h0?: Float32Array, c0?: Float32Array, lengths?: Int32Array): Promise<AddonResult>;
  stackForwardSync(h: AddonHandle, T: number, B: number, keep: boolean, x: Float32Array, h0?: Float32Array, c0?: Float32Array, lengths?: Int32Array): AddonResult;
  stackBackward(h: AddonHandle, dy: Float32Array, dhn?: Float32Array, dcn?: Float32Array): Promise<AddonResult>;
  stackBackwardSync(h: AddonHandle, dy: Float32Array, dhn?: Float32Array, dcn?: Float32Array): AddonResult;
  modelCreate(spec: Uint8Array): AddonHandle;
  modelLayout(h: AddonHandle): string;
  modelParamCount(h: AddonHandle): number;
  modelSetParams(h: AddonHandle, flat: Float32Array): void;
  modelGetParams(h: AddonHandle): Float32Array;
  modelGetGrads(h: AddonHandle): Float32Array;
  modelSetOptimizer(h: AddonHandle, optimizer: Uint8Array): void;
  modelSetLr(h: AddonHandle, lr: number): void;
  /** rk_model_optimizer_state: updates made and how many buffers the optimizer keeps. */
  modelOptimizerState(h: AddonHandle): { step: number; buffers: number };
  /** rk_model_get_optimizer_buffer: buffer k, a Float32Array of the parameter count. */
  modelGetOptimizerBuffer(h: AddonHandle, k: number): Float32Array;
  /** rk_model_set_optimizer_state: step (an integer in 0..2^53 − 1) and every buffer. */
  modelSetOptimizerState(h: AddonHandle, step: number, buffers: Float32Array[]): void;
  modelDispose(h: AddonHandle): void;
  /** op 0 train step, 1 loss and grads, 2 evaluate; `arrays` indexed by rk_model_array. */
  modelRun(h: AddonHandle, op: number, batch: Uint8Array, arrays: unknown[]): Promise<AddonResult>;
  modelRunSync(h: AddonHandle, op: number, batch: Uint8Array, arrays: unknown[]): AddonResult;
  /** rk_session_create over a model handle (the session keeps the model's handle alive). */
  sessionCreate(model: AddonHandle, batch: number): AddonHandle;
  sessionSetState(s: AddonHandle, h?: Float32Array, c?: Float32Array): void;
  sessionGetState(s: AddonHandle): { h: Float32Array; c?: Float32Array };
  /** rk_session_step; `arrays` indexed by rk_model_array (only the inputs a step reads are used). */
  sessionStep(s: AddonHandle, batch: Uint8Array, arrays: unknown[]): Promise<{ logits: Float32Array }>;
  sessionStepSync(s: AddonHandle, batch: Uint8Array, arrays: unknown[]): { logits: Float32Array };
  sessionDispose(s: AddonHandle): void;
}

const require = createRequire(import.meta.url);

/**
 * The package root: the nearest directory above this module with rnnkit's package.json.
 * This file runs from src/backend/ (vitest, tsx) and from dist/src/backend/ (built), so
 * the depth differs; searching upwards works for both and for node_modules/rnnkit/.
 */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'rnnkit') return dir;
      } catch {
        // unreadable package.json: keep looking upwards
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find rnnkit's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The .node file that {@link loadAddon} loads, or an Error saying where it looked. */
export function resolveAddonPath(): string {
  const forced = process.env.RNNKIT_NATIVE_PATH;
  if (forced) {
    const file = path.resolve(forced);
    if (!existsSync(file)) throw new Error(`RNNKIT_NATIVE_PATH=${forced}: no such file`);
    // dlopen of /dev/zero or a FIFO never returns.
    if (!statSync(file).isFile()) throw new Error(`RNNKIT_NATIVE_PATH=${forced}: not a regular file`);
    return file;
  }
  const root = packageRoot();
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  try {
    return nodeGypBuild.resolve(root);
  } catch (e) {
    const detail = (e as Error).message.trim().replace(/\s+/g, ' ');
    throw new Error(
      `no native addon in ${path.join(root, 'build', 'Release')} or ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)} ` +
        `(${detail}); build it: \`npm rebuild rnnkit\` where rnnkit is installed, \`npm run build:native\` in a clone`,
    );
  }
}

/** Load the addon (see {@link resolveAddonPath}); throws with the path and the loader's reason. */
export function loadAddon(): { addon: NativeAddon; path: string } {
  const file = resolveAddonPath();
  try {
    return { addon: require(file) as NativeAddon, path: file };
  } catch (e) {
    throw new Error(`cannot load the native addon ${file}: ${(e as Error).message}`);
  }
}
