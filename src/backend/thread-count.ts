/**
 * The thread count of the compute calls, as every entry point takes it (the backends'
 * setThreads, setWasmThreads, the browser entry's init({ threads }), RNNKIT_THREADS): an
 * integer in 0..RK_MAX_THREADS, where 0 means every core. Browser-safe (no `process` there).
 */
import { LIMITS } from './abi/limits.js';

/**
 * `value` as a thread count, at most `max`; anything else is a RangeError naming `where`.
 * (Unbounded, RNNKIT_THREADS=99999 made the native pool start threads until the system
 * refused one, which aborted the process.)
 */
export function threadCount(value: unknown, where: string, max: number = LIMITS.RK_MAX_THREADS): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  throw new RangeError(`${where} must be an integer in 0..${max} (0 = every core); got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

/** RNNKIT_THREADS as a thread count, or undefined when unset. */
export function envThreads(): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNKIT_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return threadCount(Number.isInteger(n) ? n : raw, 'RNNKIT_THREADS');
}
