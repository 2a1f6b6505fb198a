/**
 * One call at a time per handle, with the same refusal on every backend.
 *
 * A stack or model holds state between calls (the activations a backward refers to, the
 * optimizer's moments, the parameters a fit is updating), so two calls interleaved on one
 * handle would silently mix them. A call that overlaps a running one is refused — not
 * queued: a queue would hide a missing `await`, and which forward a later backward refers
 * to would depend on timing. Different handles run concurrently.
 *
 * Three kinds of call:
 * - `run`: an asynchronous call (fit, evaluate, forward, …) holds the handle until its
 *   promise settles; every other call is refused meanwhile, except:
 * - `read`: a synchronous call that only reads (getParams, stateDict, generate, …); it is
 *   refused only while a backend computation is in flight (`compute`), so it may run
 *   between the steps of a fit — from its onProgress callback, say;
 * - `write`: a synchronous call that changes the handle (setParams, dispose, …), refused
 *   while any call runs.
 */

/** The error of a refused call; its `code` is the native addon's for the same case. */
export class BusyError extends Error {
  readonly code = 'ERR_RNNKIT_BUSY';
  override name = 'BusyError';
}

export class CallLock {
  private running: string | null = null;
  private computing = 0;

  /** @param what the handle, as errors name it ("this RecurrentStack") */
  constructor(private readonly what: string) {}

  private refuse(op: string, busyWith: string): never {
    throw new BusyError(`${op}: ${this.what} is busy with ${busyWith}, which has not settled yet; await it first`);
  }

  /** Run the asynchronous call `op`, holding the handle until its promise settles. */
  async run<T>(op: string, call: () => Promise<T>): Promise<T> {
    if (this.running !== null) this.refuse(op, this.running);
    this.running = op;
    try {
      return await call();
    } finally {
      this.running = null;
    }
  }

  /** Await one backend computation of the running call (reads are refused meanwhile). */
  async compute<T>(work: Promise<T>): Promise<T> {
    this.computing++;
    try {
      return await work;
    } finally {
      this.computing--;
    }
  }

  /** A synchronous call that only reads the handle. */
  read<T>(op: string, call: () => T): T {
    if (this.computing > 0) this.refuse(op, this.running ?? 'a computation');
    return call();
  }

  /** A synchronous call that changes the handle. */
  write<T>(op: string, call: () => T): T {
    if (this.running !== null) this.refuse(op, this.running);
    return call();
  }
}
