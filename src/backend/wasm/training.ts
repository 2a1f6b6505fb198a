/**
 * The wasm module's training: {@link FusedTraining} over the rk_model_* exports of
 * rnnkit.wasm (native/include/rnnkit.h; the same C++ as the native addon, single-threaded
 * with 128-bit SIMD). Parameters, gradients and optimizer state stay in linear memory; a
 * step copies the batch in, makes ONE call, and copies hn/cn (and for evaluate the outputs)
 * out.
 *
 * Structs are packed by src/backend/abi/ with the offsets the module reports, and array
 * sizes come from rk_model_shapes.
 */
import { FusedTraining } from '../fused-training.js';
import type { FusedEngine } from '../fused-training.js';
import type { OptimizerSettings } from '../../optim/optimizers.js';
import type { Abi } from '../abi/abi.js';
import { BATCH_INPUTS, batchValues, modelSpecValues, optimizerValues } from '../abi/structs.js';
import type { EvalResult, ModelSpec, SessionInputs, SessionState, TrainBatch, TrainStepResult } from '../contract.js';
import { CallFrame } from './frame.js';
import { statusError, WasmAbort, type Ptr, type RnnkitModule } from './module.js';
import { MirroredEngine } from './worker-mirror.js';
import type { WorkerHub } from './worker-host.js';

/** The rk_model_* exports (not part of RnnkitExports, which lists the stack calls). */
interface ModelExports {
  rk_last_error(): Ptr;
  rk_model_create(spec: Ptr, out: Ptr): number;
  rk_model_destroy(m: Ptr): void;
  rk_model_param_count(m: Ptr): bigint;
  rk_model_set_params(m: Ptr, flat: Ptr): number;
  rk_model_get_params(m: Ptr, flat: Ptr): number;
  rk_model_get_grads(m: Ptr, flat: Ptr): number;
  rk_model_set_optimizer(m: Ptr, opt: Ptr): number;
  rk_model_set_lr(m: Ptr, lr: number): number;
  /** int64_t* step, int32_t* buffers. */
  rk_model_optimizer_state(m: Ptr, step: Ptr, buffers: Ptr): number;
  rk_model_get_optimizer_buffer(m: Ptr, k: number, out: Ptr): number;
  /** step is an int64_t: a BigInt. */
  rk_model_set_optimizer_state(m: Ptr, step: bigint, buffers: Ptr, n: number): number;
  rk_model_train_step(m: Ptr, batch: Ptr, hn: Ptr, cn: Ptr, out: Ptr): number;
  rk_model_loss_and_grads(m: Ptr, batch: Ptr, hn: Ptr, cn: Ptr, out: Ptr): number;
  rk_model_evaluate(m: Ptr, batch: Ptr, outputs: Ptr, y: Ptr, hn: Ptr, cn: Ptr, out: Ptr): number;
  rk_model_layout(m: Ptr): Ptr;
  rk_model_shapes(m: Ptr, T: number, B: number, sourceT: number, out: Ptr): number;
  rk_session_create(m: Ptr, B: number, out: Ptr): number;
  rk_session_destroy(s: Ptr): void;
  rk_session_shapes(s: Ptr, T: number, sourceT: number, out: Ptr): number;
  rk_session_set_state(s: Ptr, h: Ptr, c: Ptr): number;
  rk_session_get_state(s: Ptr, h: Ptr, c: Ptr): number;
  rk_session_step(s: Ptr, batch: Ptr, logits: Ptr): number;
}

/** A generation session in linear memory; it keeps its model (and so the model's memory) alive. */
class WasmSession {
  /** rk_session_shapes of the last (T, source T) asked (every generated token asks the same). */
  lastShapes: { T: number; sourceT: number; n: number[] } | null = null;
  constructor(
    readonly ptr: Ptr,
    readonly model: WasmModel,
  ) {}
}

export class WasmModel {
  /** rk_model_shapes of the last window shape asked (generation asks the same every step). */
  lastShapes: { T: number; B: number; sourceT: number; n: number[] } | null = null;
  constructor(
    readonly ptr: Ptr,
    readonly spec: ModelSpec,
    readonly count: number,
  ) {}
}

export class WasmEngine implements FusedEngine<WasmModel> {
  private broken: string | null = null;
  private readonly x: ModelExports;
  // Models dropped without dispose() are freed when collected (dispose unregisters them),
  // so linear memory does not fill with forgotten models.
  private readonly finalizer = new FinalizationRegistry<Ptr>((ptr) => {
    if (!this.broken) this.x.rk_model_destroy(ptr);
  });

  // Sessions likewise; rk_session_destroy touches only the session's own memory, so the
  // order in which a session and its model are collected does not matter.
  private readonly sessionFinalizer = new FinalizationRegistry<Ptr>((ptr) => {
    if (!this.broken) this.x.rk_session_destroy(ptr);
  });

  constructor(
    private readonly m: RnnkitModule,
    private readonly abi: Abi,
  ) {
    this.x = m.exports as unknown as ModelExports;
    if (typeof this.x.rk_model_create !== 'function') {
      throw new Error('this rnnkit.wasm has no rk_model_* exports (built before fused training); rebuild it with `npm run build:wasm`');
    }
  }

  private guard<T>(what: string, fn: (f: CallFrame) => T): T {
    if (this.broken) throw new Error(`rnnkit wasm: the module failed earlier (${this.broken}); create a new backend`);
    const f = new CallFrame(this.m);
    try {
      return fn(f);
    } catch (e) {
      if (e instanceof WasmAbort || e instanceof WebAssembly.RuntimeError) {
        this.broken = `${what}: ${(e as Error).message}`;
        throw new Error(`rnnkit wasm: ${what} trapped: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    } finally {
      if (!this.broken) f.release();
    }
  }

  private check(status: number, what: string): void {
    if (status !== 0) throw statusError(this.m, this.abi, status, what);
  }

  create(spec: ModelSpec): WasmModel {
    return this.guard('rk_model_create', (f) => {
      const block = f.alloc(this.abi.sizeOf('rk_model_spec'), 'rk_model_spec');
      const out = f.alloc(4, 'rk_model*');
      this.abi.write('rk_model_spec', modelSpecValues(this.abi, spec), this.m.view(), block);
      this.check(this.x.rk_model_create(block, out), 'rk_model_create');
      const ptr = this.m.heapI32()[out >>> 2] >>> 0;
      const model = new WasmModel(ptr, spec, Number(this.x.rk_model_param_count(ptr)));
      this.finalizer.register(model, ptr, model);
      return model;
    });
  }

  layoutText(h: WasmModel): string {
    return this.guard('rk_model_layout', () => this.m.readString(this.x.rk_model_layout(h.ptr)));
  }

  paramCount(h: WasmModel): number {
    return h.count;
  }

  setParams(h: WasmModel, flat: Float32Array): void {
    if (flat.length !== h.count) throw new RangeError(`params must have ${h.count} elements; got ${flat.length}`);
    this.guard('rk_model_set_params', (f) => this.check(this.x.rk_model_set_params(h.ptr, f.input(flat, 'params')), 'rk_model_set_params'));
  }

  private copyOut(h: WasmModel, what: 'rk_model_get_params' | 'rk_model_get_grads'): Float32Array {
    return this.guard(what, (f) => {
      const p = f.alloc(h.count * 4, what);
      this.check(this.x[what](h.ptr, p), what);
      return f.read(p, h.count);
    });
  }

  getParams(h: WasmModel): Float32Array {
    return this.copyOut(h, 'rk_model_get_params');
  }

  getGrads(h: WasmModel): Float32Array {
    return this.copyOut(h, 'rk_model_get_grads');
  }

  setOptimizer(h: WasmModel, o: OptimizerSettings): void {
    this.guard('rk_model_set_optimizer', (f) => {
      const p = f.alloc(this.abi.sizeOf('rk_optimizer'), 'rk_optimizer');
      this.abi.write('rk_optimizer', optimizerValues(this.abi, o), this.m.view(), p);
      this.check(this.x.rk_model_set_optimizer(h.ptr, p), 'rk_model_set_optimizer');
    });
  }

  setLr(h: WasmModel, lr: number): void {
    this.guard('rk_model_set_lr', () => this.check(this.x.rk_model_set_lr(h.ptr, lr), 'rk_model_set_lr'));
  }

  optimizerState(h: WasmModel): { step: number; buffers: number } {
    const what = 'rk_model_optimizer_state';
    return this.guard(what, (f) => {
      const out = f.alloc(16, what); // int64_t step, then int32_t buffers
      this.check(this.x.rk_model_optimizer_state(h.ptr, out, out + 8), what);
      const view = this.m.view();
      return { step: Number(view.getBigInt64(out, true)), buffers: view.getInt32(out + 8, true) };
    });
  }

  getOptimizerBuffer(h: WasmModel, k: number): Float32Array {
    const what = 'rk_model_get_optimizer_buffer';
    return this.guard(what, (f) => {
      const p = f.alloc(h.count * 4, what);
      this.check(this.x.rk_model_get_optimizer_buffer(h.ptr, k, p), what);
      return f.read(p, h.count);
    });
  }

  setOptimizerState(h: WasmModel, step: number, buffers: Float32Array[]): void {
    const what = 'rk_model_set_optimizer_state';
    buffers.forEach((b, k) => {
      if (b.length !== h.count) throw new RangeError(`buffers[${k}] must have ${h.count} elements; got ${b.length}`);
    });
    this.guard(what, (f) => {
      const list = f.alloc(4 * Math.max(1, buffers.length), 'buffers'); // const float* [n] (wasm32 pointers)
      const ptrs = buffers.map((b, k) => f.input(b, `buffers[${k}]`));
      const view = this.m.view();
      ptrs.forEach((p, k) => view.setUint32(list + 4 * k, p, true));
      this.check(this.x.rk_model_set_optimizer_state(h.ptr, BigInt(step), list, buffers.length), what);
    });
  }

  /** Elements of every array of a call (rk_model_shapes), indexed by rk_model_array. */
  private shapes(f: CallFrame, h: WasmModel, b: TrainBatch): number[] {
    const sourceT = b.source?.steps ?? 0;
    const last = h.lastShapes;
    if (last && last.T === b.steps && last.B === b.batch && last.sourceT === sourceT) return last.n;
    const n = f.int64s(this.abi.value('rk_model_array', 'count'), 'shapes', (out) =>
      this.check(this.x.rk_model_shapes(h.ptr, b.steps, b.batch, sourceT, out), 'rk_model_shapes'));
    h.lastShapes = { T: b.steps, B: b.batch, sourceT, n };
    return n;
  }

  /** Copies the arrays the model reads into linear memory and writes the rk_batch; returns it. */
  private batchIn(f: CallFrame, h: WasmModel, b: TrainBatch, n: number[]): Ptr {
    const at = new Map<string, Ptr>();
    for (const { array, field, of } of BATCH_INPUTS) {
      const want = n[this.abi.value('rk_model_array', array)];
      const data = want > 0 ? of(b) : undefined;
      if (data && data.length !== want) throw new RangeError(`batch ${field} must have ${want} elements; got ${data.length}`);
      at.set(field, f.input(data, field));
    }
    const p = f.alloc(this.abi.sizeOf('rk_batch'), 'rk_batch');
    this.abi.write('rk_batch', batchValues(b, (field) => at.get(field) ?? 0), this.m.view(), p);
    return p;
  }

  private result(p: Ptr): { loss: number; count: number; correct: number; totalNorm: number } {
    const r = this.abi.readF64('rk_step_result', this.m.view(), p);
    return { loss: r.loss, count: r.count, correct: r.correct, totalNorm: r.total_norm };
  }

  private step(h: WasmModel, b: TrainBatch, update: boolean): TrainStepResult {
    const what = update ? 'rk_model_train_step' : 'rk_model_loss_and_grads';
    return this.guard(what, (f) => {
      const n = this.shapes(f, h, b);
      const batch = this.batchIn(f, h, b, n);
      const [nh, nc] = [n[this.abi.value('rk_model_array', 'h')], n[this.abi.value('rk_model_array', 'c')]];
      const hn = f.output(nh, 'hn');
      const cn = nc > 0 ? f.output(nc, 'cn') : 0;
      const out = f.alloc(this.abi.sizeOf('rk_step_result'), 'rk_step_result');
      const fn = update ? this.x.rk_model_train_step : this.x.rk_model_loss_and_grads;
      this.check(fn(h.ptr, batch, hn, cn, out), what);
      return { ...this.result(out), hn: f.read(hn, nh), ...(nc > 0 ? { cn: f.read(cn, nc) } : {}) };
    });
  }

  trainStepSync(h: WasmModel, b: TrainBatch): TrainStepResult {
    return this.step(h, b, true);
  }

  // Here the module runs on the calling thread, so the async forms wrap the sync ones;
  // MirroredEngine (worker-mirror.ts) runs them in the worker.
  async trainStep(h: WasmModel, b: TrainBatch): Promise<TrainStepResult> {
    return this.step(h, b, true);
  }

  lossAndGradsSync(h: WasmModel, b: TrainBatch): { loss: number; count: number } {
    return this.step(h, b, false);
  }

  evaluateSync(h: WasmModel, b: TrainBatch): EvalResult {
    return this.guard('rk_model_evaluate', (f) => {
      const n = this.shapes(f, h, b);
      const size = (a: 'outputs' | 'y' | 'h' | 'c') => n[this.abi.value('rk_model_array', a)];
      const batch = this.batchIn(f, h, b, n);
      const outputs = f.output(size('outputs'), 'outputs');
      const y = f.output(size('y'), 'y');
      const hn = f.output(size('h'), 'hn');
      const cn = size('c') > 0 ? f.output(size('c'), 'cn') : 0;
      const out = f.alloc(this.abi.sizeOf('rk_step_result'), 'rk_step_result');
      this.check(this.x.rk_model_evaluate(h.ptr, batch, outputs, y, hn, cn, out), 'rk_model_evaluate');
      const r = this.result(out);
      return {
        loss: r.loss, count: r.count, correct: r.correct, outputs: f.read(outputs, size('outputs')), y: f.read(y, size('y')),
        hn: f.read(hn, size('h')), ...(size('c') > 0 ? { cn: f.read(cn, size('c')) } : {}),
      };
    });
  }

  async evaluate(h: WasmModel, b: TrainBatch): Promise<EvalResult> {
    return this.evaluateSync(h, b);
  }

  dispose(h: WasmModel): void {
    this.finalizer.unregister(h);
    if (!this.broken) this.x.rk_model_destroy(h.ptr);
  }

  sessionCreate(h: WasmModel, batch: number): WasmSession {
    return this.guard('rk_session_create', (f) => {
      const out = f.alloc(4, 'rk_session*');
      this.check(this.x.rk_session_create(h.ptr, batch, out), 'rk_session_create');
      const s = new WasmSession(this.m.heapI32()[out >>> 2] >>> 0, h);
      this.sessionFinalizer.register(s, s.ptr, s);
      return s;
    });
  }

  /** rk_session_shapes: elements of every array of a step, indexed by rk_model_array. */
  private sessionShapes(f: CallFrame, s: WasmSession, T: number, sourceT: number): number[] {
    const last = s.lastShapes;
    if (last && last.T === T && last.sourceT === sourceT) return last.n;
    const n = f.int64s(this.abi.value('rk_model_array', 'count'), 'shapes', (out) =>
      this.check(this.x.rk_session_shapes(s.ptr, T, sourceT, out), 'rk_session_shapes'));
    s.lastShapes = { T, sourceT, n };
    return n;
  }

  sessionStepSync(session: unknown, b: SessionInputs): Float32Array {
    const s = session as WasmSession;
    return this.guard('rk_session_step', (f) => {
      const n = this.sessionShapes(f, s, b.steps, b.source?.steps ?? 0);
      const batch = this.batchIn(f, s.model, b, n);
      const size = n[this.abi.value('rk_model_array', 'outputs')];
      const logits = f.output(size, 'logits');
      this.check(this.x.rk_session_step(s.ptr, batch, logits), 'rk_session_step');
      return f.read(logits, size);
    });
  }

  async sessionStep(s: unknown, b: SessionInputs): Promise<Float32Array> {
    return this.sessionStepSync(s, b);
  }

  sessionSetState(session: unknown, state: Partial<SessionState>): void {
    const s = session as WasmSession;
    this.guard('rk_session_set_state', (f) => {
      const n = this.sessionShapes(f, s, 1, 0);
      const [nh, nc] = [n[this.abi.value('rk_model_array', 'h')], n[this.abi.value('rk_model_array', 'c')]];
      if (state.h && state.h.length !== nh) throw new RangeError(`h must have ${nh} elements; got ${state.h.length}`);
      if (state.c && nc > 0 && state.c.length !== nc) throw new RangeError(`c must have ${nc} elements; got ${state.c.length}`);
      const c = nc > 0 ? state.c : undefined;
      this.check(this.x.rk_session_set_state(s.ptr, f.input(state.h, 'h'), f.input(c, 'c')), 'rk_session_set_state');
    });
  }

  sessionGetState(session: unknown): SessionState {
    const s = session as WasmSession;
    return this.guard('rk_session_get_state', (f) => {
      const n = this.sessionShapes(f, s, 1, 0);
      const [nh, nc] = [n[this.abi.value('rk_model_array', 'h')], n[this.abi.value('rk_model_array', 'c')]];
      const h = f.output(nh, 'h');
      const c = nc > 0 ? f.output(nc, 'c') : 0;
      this.check(this.x.rk_session_get_state(s.ptr, h, c), 'rk_session_get_state');
      return { h: f.read(h, nh), ...(nc > 0 ? { c: f.read(c, nc) } : {}) };
    });
  }

  sessionDispose(session: unknown): void {
    const s = session as WasmSession;
    this.sessionFinalizer.unregister(s);
    if (!this.broken) this.x.rk_session_destroy(s.ptr);
  }
}

/**
 * The TrainingBackend of a WasmBackend (its `training` member): with a worker hub, trainStep
 * and evaluate run in the backend's worker and this module is the calling thread's mirror.
 */
export function createWasmTraining(m: RnnkitModule, abi: Abi, hub?: WorkerHub): FusedTraining<unknown> {
  const engine = new WasmEngine(m, abi);
  return new FusedTraining<unknown>('wasm', (hub ? new MirroredEngine(engine, hub) : engine) as FusedEngine<unknown>);
}
