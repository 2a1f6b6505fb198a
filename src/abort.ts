/**
 * Waiting on a promise only until an AbortSignal aborts: a callback that never settles, or a
 * fetch that ignores its signal, no longer holds whatever awaits it (a fit and its model's
 * lock, a model load) past the abort.
 */

/** `promise`, or what `onAbort` returns (or throws) if `signal` aborts first; the listener is removed either way. */
export function raceAbort<T, U>(promise: PromiseLike<T>, signal: AbortSignal, onAbort: () => U): Promise<T | U> {
  if (signal.aborted) return Promise.resolve().then(onAbort);
  let listener!: () => void;
  const aborted = new Promise<U>((resolve, reject) => {
    listener = () => {
      try {
        resolve(onAbort());
      } catch (e) {
        reject(e);
      }
    };
    signal.addEventListener('abort', listener, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', listener));
}
