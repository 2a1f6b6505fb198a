/**
 * Giving the event loop a turn inside long asynchronous loops: timers, I/O, abort events,
 * input and a page's rendering run between two macrotasks, never between microtasks — a loop
 * whose awaited calls resolve at once (a generation session on the calling thread) would
 * otherwise hold a tab for its whole length.
 */

/** The fastest macrotask each host has: setImmediate in Node, a MessageChannel message in browsers (a 0 ms timer is clamped to 4 ms when nested), else a timer. */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A frame's share: a loop that yields this often keeps a page at 60 frames a second or close. */
const SLICE_MS = 10;

/** Yields to the event loop when a slice of time has passed since its last yield (cheap to call every iteration). */
export class EventLoopPacer {
  private last = now();

  async tick(): Promise<void> {
    if (now() - this.last < SLICE_MS) return;
    await yieldToEventLoop();
    this.last = now();
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
