/**
 * The wasm training engine with its asynchronous calls in the worker (worker-host.ts has the
 * design): a {@link FusedEngine} over the calling thread's WasmEngine (the mirror, which
 * answers every synchronous call) and the worker's copy of each model (which runs trainStep
 * and evaluate).
 *
 * What a model's state is, and where it is current:
 * - parameters and optimizer state (step, buffers): after a worker trainStep they come back
 *   (transferred) and wait in `pending` until a synchronous call needs them in the mirror;
 *   after a synchronous trainStep on the mirror the worker's copy is stale until the next
 *   asynchronous call pushes them (`workerStale`);
 * - gradients: the C ABI cannot write a model's gradients, so those of the last worker
 *   trainStep are answered from `grads`, a cached copy, until the mirror computes its own;
 * - optimizer settings and learning rate: every change is made on both.
 *
 * Generation sessions stay on the calling thread, in the mirror. Measured in Node (2 shared
 * cores): a worker round trip costs ~0.1–0.3 ms, while one streaming step of a 1–2 layer
 * model of a few hundred units costs about as much; and a session's state must be readable
 * synchronously (sessionGetState, sessionStepSync), while its stored logits (returned for a
 * sample stepped with length 0) cannot be written through the C ABI — so a worker copy could
 * not be mirrored exactly. Prompt priming of very long prompts therefore still runs in-thread.
 */
import type { FusedEngine } from '../fused-training.js';
import type { OptimizerSettings } from '../../optim/optimizers.js';
import type { EvalResult, ModelSpec, SessionInputs, SessionState, TrainBatch, TrainStepResult } from '../contract.js';
import { buffersOf, busy, WorkerGone, type WorkerConn, type WorkerHub } from './worker-host.js';

let nextId = 1;

/** A model: the mirror's handle, and its number in the worker. */
export class MirrorModel<L = unknown> {
  readonly id = nextId++;
  /** An asynchronous call is running in the worker: every other call is refused. */
  busy = false;
  /** Parameters and optimizer state of the last worker trainStep, not yet written into the mirror. */
  pending: { params: Float32Array; step: number; buffers: Float32Array[] } | null = null;
  /** The gradient of the last worker trainStep (the mirror's is older). */
  grads: Float32Array | null = null;
  /** The mirror's parameters / optimizer state changed without the worker (trainStepSync). */
  workerStale = false;
  constructor(
    readonly local: L,
    /** The worker holding this model's copy; null: the model lives on the calling thread only. */
    public conn: WorkerConn | null,
  ) {}
}

/** A session lives in the mirror only (see above); `model` is checked for busy on every call. */
class MirrorSession {
  constructor(
    readonly local: unknown,
    readonly model: MirrorModel,
  ) {}
}

/**
 * Generic over the mirror's handle type L (training.ts's L): this file needs only the
 * FusedEngine contract of the calling thread's engine, and training.ts imports this one.
 */
export class MirroredEngine<L> implements FusedEngine<MirrorModel<L>> {
  // A model dropped without dispose(): the mirror's own finalizer frees its memory; this frees the worker's copy.
  private readonly finalizer = new FinalizationRegistry<{ conn: WorkerConn; id: number }>(({ conn, id }) => {
    conn.post('model.dispose', [id]);
    conn.release();
  });

  constructor(
    private readonly local: FusedEngine<L>,
    private readonly hub: WorkerHub,
  ) {}

  /** The model, checked not busy; its pending worker state written into the mirror. */
  private ready(h: MirrorModel<L>, what = 'model'): L {
    if (h.busy) throw busy(what);
    const p = h.pending;
    if (p) {
      h.pending = null;
      this.local.setParams(h.local, p.params);
      if (p.step > 0 || p.buffers.length > 0) this.local.setOptimizerState(h.local, p.step, p.buffers);
    }
    return h.local;
  }

  /** The worker to run an asynchronous call on, or null: run it on the mirror. */
  private worker(h: MirrorModel<L>): WorkerConn | null {
    if (h.conn && !h.conn.usable) h.conn = null;
    return h.conn;
  }

  /** Replay a write in the worker. */
  private replay(h: MirrorModel<L>, op: string, args: unknown[], transfer: ArrayBuffer[] = []): void {
    this.worker(h)?.post(op, [h.id, ...args], transfer);
  }

  create(spec: ModelSpec): MirrorModel<L> {
    const h = new MirrorModel<L>(this.local.create(spec), this.hub.acquire());
    if (h.conn) {
      h.conn.post('model.create', [h.id, spec]);
      this.finalizer.register(h, { conn: h.conn, id: h.id }, h);
    }
    return h;
  }

  layoutText(h: MirrorModel<L>): string {
    return this.local.layoutText(h.local);
  }

  paramCount(h: MirrorModel<L>): number {
    return this.local.paramCount(h.local);
  }

  setParams(h: MirrorModel<L>, flat: Float32Array): void {
    this.local.setParams(this.ready(h), flat);
    this.replay(h, 'model.setParams', [flat]); // cloned: `flat` may be the caller's
  }

  getParams(h: MirrorModel<L>): Float32Array {
    return this.local.getParams(this.ready(h));
  }

  getGrads(h: MirrorModel<L>): Float32Array {
    const local = this.ready(h);
    return h.grads ? h.grads.slice() : this.local.getGrads(local);
  }

  setOptimizer(h: MirrorModel<L>, o: OptimizerSettings): void {
    this.local.setOptimizer(this.ready(h), o);
    this.replay(h, 'model.setOptimizer', [o]);
  }

  setLr(h: MirrorModel<L>, lr: number): void {
    // The learning rate is a setting, not state: pending parameters may stay pending.
    if (h.busy) throw busy('model');
    this.local.setLr(h.local, lr);
    this.replay(h, 'model.setLr', [lr]);
  }

  optimizerState(h: MirrorModel<L>): { step: number; buffers: number } {
    return this.local.optimizerState(this.ready(h));
  }

  getOptimizerBuffer(h: MirrorModel<L>, k: number): Float32Array {
    return this.local.getOptimizerBuffer(this.ready(h), k);
  }

  setOptimizerState(h: MirrorModel<L>, step: number, buffers: Float32Array[]): void {
    this.local.setOptimizerState(this.ready(h), step, buffers);
    this.replay(h, 'model.setOptimizerState', [step, buffers]);
  }

  trainStepSync(h: MirrorModel<L>, b: TrainBatch): TrainStepResult {
    const r = this.local.trainStepSync(this.ready(h), b);
    h.grads = null;
    h.workerStale = true;
    return r;
  }

  lossAndGradsSync(h: MirrorModel<L>, b: TrainBatch): { loss: number; count: number } {
    const r = this.local.lossAndGradsSync(this.ready(h), b);
    h.grads = null;
    return r;
  }

  evaluateSync(h: MirrorModel<L>, b: TrainBatch): EvalResult {
    return this.local.evaluateSync(this.ready(h), b);
  }

  /**
   * Run `op` in the worker, holding the model; on the mirror when there is no worker (or it
   * went away meanwhile: the mirror holds everything the call needs).
   */
  private async remote<T>(h: MirrorModel<L>, op: string, b: TrainBatch, inThread: () => T, done: (v: never) => T): Promise<T> {
    if (h.busy) throw busy('model');
    const conn = this.worker(h);
    if (!conn) return inThread();
    if (h.workerStale) {
      // Bring the worker's copy up to the mirror's (after synchronous training steps).
      const local = this.ready(h);
      const { step, buffers } = this.local.optimizerState(local);
      const params = this.local.getParams(local);
      const bufs = Array.from({ length: buffers }, (_, k) => this.local.getOptimizerBuffer(local, k));
      conn.post('model.setParams', [h.id, params], [params.buffer as ArrayBuffer]);
      if (step > 0 || buffers > 0) conn.post('model.setOptimizerState', [h.id, step, bufs], buffersOf(bufs));
      h.workerStale = false;
    }
    h.busy = true;
    let value: unknown;
    try {
      // The batch is cloned, never transferred: its arrays may be the caller's.
      value = await conn.call(op, [h.id, b]);
    } catch (e) {
      if (!(e instanceof WorkerGone)) throw e;
      h.conn = null;
      h.busy = false;
      return inThread();
    } finally {
      h.busy = false;
    }
    return done(value as never);
  }

  trainStep(h: MirrorModel<L>, b: TrainBatch): Promise<TrainStepResult> {
    return this.remote(
      h,
      'model.trainStep',
      b,
      () => this.trainStepSync(h, b),
      (v: { result: TrainStepResult; state: { params: Float32Array; grads: Float32Array; step: number; buffers: Float32Array[] } }) => {
        h.pending = { params: v.state.params, step: v.state.step, buffers: v.state.buffers };
        h.grads = v.state.grads;
        return v.result;
      },
    );
  }

  evaluate(h: MirrorModel<L>, b: TrainBatch): Promise<EvalResult> {
    return this.remote(h, 'model.evaluate', b, () => this.evaluateSync(h, b), (v: EvalResult) => v);
  }

  dispose(h: MirrorModel<L>): void {
    if (h.busy) throw busy('model');
    h.pending = null;
    this.local.dispose(h.local);
    h.grads = null;
    this.finalizer.unregister(h);
    const conn = h.conn;
    h.conn = null;
    if (conn) {
      conn.post('model.dispose', [h.id]);
      conn.release();
    }
  }

  sessionCreate(h: MirrorModel<L>, batch: number): unknown {
    return new MirrorSession(this.local.sessionCreate(this.ready(h), batch), h);
  }

  private session(s: unknown): unknown {
    const m = s as MirrorSession;
    this.ready(m.model as MirrorModel<L>, 'model');
    return m.local;
  }

  sessionStep(s: unknown, b: SessionInputs): Promise<Float32Array> {
    try {
      return Promise.resolve(this.local.sessionStepSync(this.session(s), b));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  sessionStepSync(s: unknown, b: SessionInputs): Float32Array {
    return this.local.sessionStepSync(this.session(s), b);
  }

  sessionSetState(s: unknown, state: Partial<SessionState>): void {
    this.local.sessionSetState(this.session(s), state);
  }

  sessionGetState(s: unknown): SessionState {
    return this.local.sessionGetState(this.session(s));
  }

  sessionDispose(s: unknown): void {
    // Allowed after the model was disposed (its pending state no longer matters).
    this.local.sessionDispose((s as MirrorSession).local);
  }
}
