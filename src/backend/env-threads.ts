/**
 * RNNKIT_THREADS, read by the native and the wasm backends alike: the thread count for compute
 * calls (0 = every core), or undefined when unset. Browser-safe (no `process` there: undefined).
 */
export function envThreads(): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNKIT_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`RNNKIT_THREADS must be an integer ≥ 0 (0 = every core); got ${JSON.stringify(raw)}`);
  return n;
}
