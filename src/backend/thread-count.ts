/**
 * The thread count of the compute calls, as every entry point takes it (the backends'
 * setThreads, setWasmThreads, the browser entry's init({ threads }), RNNKIT_THREADS): an
 * integer >= 0, where 0 means every core. Browser-safe (no `process` there).
 */

/** `value` as a thread count; anything else is a RangeError naming `where`. */
export function threadCount(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new RangeError(`${where} must be an integer ≥ 0 (0 = every core); got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

/** RNNKIT_THREADS as a thread count, or undefined when unset. */
export function envThreads(): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNKIT_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : threadCount(raw, 'RNNKIT_THREADS');
}
