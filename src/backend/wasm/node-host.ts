/**
 * Node, seen from the wasm backend's files, which must also run in browsers (no Node
 * built-ins, no imports of `node:*`): this realm's `process` when it is Node's — detected by
 * `process.getBuiltinModule` (Node >= 20.16), through which those files reach
 * worker_threads, os and fs — else undefined.
 */
export interface NodeHost {
  versions: { node: string };
  env: Record<string, string | undefined>;
  execArgv: string[];
  getBuiltinModule(id: string): unknown;
}

export function nodeHost(): NodeHost | undefined {
  const p = (globalThis as { process?: Partial<NodeHost> }).process;
  return typeof p?.getBuiltinModule === 'function' && typeof p.versions?.node === 'string' ? (p as NodeHost) : undefined;
}

/**
 * The options a worker_threads worker gets for Node's flags: none (it inherits the
 * process's, silently leaving out the per-process ones) — except under
 * `node --input-type=module -e …`, whose --input-type a worker refuses ("can only be used
 * with string input"): then an empty list. (An explicit list cannot simply drop that one
 * flag: a worker refuses V8 flags such as --experimental-wasm-relaxed-simd in it, which apply
 * to the whole process anyway.)
 */
export function workerOptions(): { execArgv?: string[] } {
  const flags = nodeHost()?.execArgv ?? [];
  return flags.some((f) => f === '--input-type' || f.startsWith('--input-type=')) ? { execArgv: [] } : {};
}
