/**
 * One call at a time per handle, with the same refusal on every backend.
 *
 * A stack or model holds state between calls (the activations a backward refers to, the
 * optimizer's moments, the parameters a fit is updating), so two calls interleaved on one
 * handle would silently mix them. A second call while one is running is refused — not
 * queued: a queue would hide a missing `await`, and which forward a later backward refers
 * to would depend on timing. Different handles run concurrently.
 */

/** The error of a refused call; its `code` is the native addon's for the same case. */
export class BusyError extends Error {
  readonly code = 'ERR_RNNKIT_BUSY';
  override name = 'BusyError';
}

export class CallLock {
  private running: string | null = null;

  /** @param what the handle, as errors name it ("this RecurrentStack") */
  constructor(private readonly what: string) {}

  /** Refuse `op` while a call is running. */
  check(op: string): void {
    if (this.running !== null) {
      throw new BusyError(`${op}: ${this.what} is busy with ${this.running}, which has not settled yet; await it first`);
    }
  }

  /** Run the asynchronous call `op`, holding the handle until its promise settles. */
  async run<T>(op: string, call: () => Promise<T>): Promise<T> {
    this.check(op);
    this.running = op;
    try {
      return await call();
    } finally {
      this.running = null;
    }
  }

  /** Run the synchronous call `op` (refused while an asynchronous one runs). */
  sync<T>(op: string, call: () => T): T {
    this.check(op);
    return call();
  }
}
