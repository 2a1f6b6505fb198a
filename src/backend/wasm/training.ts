/**
 * The wasm module's training: {@link FusedTraining} over the rk_model_* exports of
 * rnnkit.wasm (native/include/rnnkit.h; the same C++ as the native addon, single-threaded
 * with 128-bit SIMD). Parameters, gradients and optimizer state stay in linear memory; a
 * step copies the batch in, makes ONE call, and copies hn/cn (and for evaluate the outputs)
 * out. Which models are fused and which are delegated: fused-training.ts.
 *
 * Struct layouts (wasm32, rnnkit.h): rk_model_spec 15 int32 (the stack spec inline), 4 bytes
 * of padding, 2 doubles, 11 int32 (the encoder's), 4 bytes of padding (128 bytes);
 * rk_optimizer 4 int32 then 10 doubles; rk_batch 2 int32, 9 pointers, 1 uint32, 1 int32,
 * 3 pointers (64 bytes); rk_step_result
 * 4 doubles.
 */
import type { CellType } from '../contract.js';
import { FusedTraining } from '../fused-training.js';
import type { FusedEngine } from '../fused-training.js';
import type { OptimizerSettings } from '../../optim/optimizers.js';
import { hasCellState } from '../layout.js';
import { batchShapes, stackOutputWidth } from '../layout.js';
import type { EvalResult, ModelSpec, TrainBatch, TrainStepResult } from '../contract.js';
import { CallFrame } from './frame.js';
import { WasmAbort, type Ptr, type RnnkitModule } from './module.js';

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
  rk_model_train_step(m: Ptr, batch: Ptr, hn: Ptr, cn: Ptr, out: Ptr): number;
  rk_model_loss_and_grads(m: Ptr, batch: Ptr, hn: Ptr, cn: Ptr, out: Ptr): number;
  rk_model_evaluate(m: Ptr, batch: Ptr, outputs: Ptr, y: Ptr, hn: Ptr, cn: Ptr, out: Ptr): number;
}

const RK_CELL: Record<CellType, number> = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, lstm_peephole: 3, gru: 4, gru_cho: 5, jordan: 6 };
const INPUT_KIND = { embedding: 0, onehot: 1, dense: 2 } as const;
const OPT_KIND = { sgd: 0, rmsprop: 1, adam: 2, adamw: 3 } as const;
const STATUS_NAMES = ['RK_OK', 'RK_EINVAL', 'RK_ENOMEM', 'RK_ESTATE', 'RK_EINTERNAL'];

class WasmModel {
  constructor(
    readonly ptr: Ptr,
    readonly spec: ModelSpec,
    readonly count: number,
  ) {}
}

function checkLength(name: string, a: ArrayLike<number> | undefined, expected: number): void {
  if (a !== undefined && a.length !== expected) throw new RangeError(`${name} must have ${expected} elements; got ${a.length}`);
}

class WasmEngine implements FusedEngine<WasmModel> {
  private broken: string | null = null;
  private readonly x: ModelExports;
  // Models dropped without dispose() are freed when collected (dispose unregisters them),
  // so linear memory does not fill with forgotten models.
  private readonly finalizer = new FinalizationRegistry<Ptr>((ptr) => {
    if (!this.broken) this.x.rk_model_destroy(ptr);
  });

  constructor(private readonly m: RnnkitModule) {
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
    if (status === 0) return;
    const message = this.m.readString(this.x.rk_last_error());
    const code = STATUS_NAMES[status] ?? `status ${status}`;
    const err = new Error(`rnnkit wasm: ${what} failed (${code}): ${message || 'no message'}`);
    (err as Error & { code?: string }).code = code;
    throw err;
  }

  create(spec: ModelSpec): WasmModel {
    const s = spec.stack;
    const input = spec.input;
    return this.guard('rk_model_create', (f) => {
      const block = f.alloc(132, 'rk_model_spec');
      const enc = spec.encoder;
      const es = enc?.stack;
      this.m.heapI32().set([
        INPUT_KIND[input.kind],
        input.kind === 'dense' ? 0 : input.vocab,
        input.kind === 'embedding' ? input.dim : 0,
        input.kind === 'dense' ? input.size : 0,
        RK_CELL[s.cell], s.inputSize, s.hiddenSize, s.outputSize, s.layers, s.bidirectional ? 1 : 0,
        spec.outputs,
        spec.loss.kind === 'cross_entropy' ? 0 : 1,
        spec.loss.kind === 'cross_entropy' ? spec.loss.ignoreIndex : 0,
        spec.conditionSize,
        spec.readout === 'final_state' ? 1 : 0,
        0,
      ], block >> 2);
      new Float64Array(this.m.exports.memory.buffer, block + 64, 2).set([spec.dropout?.input ?? 0, spec.dropout?.between ?? 0]);
      this.m.heapI32().set([
        enc ? 1 : 0,
        enc ? INPUT_KIND[enc.input.kind] : 0,
        enc && enc.input.kind !== 'dense' ? enc.input.vocab : 0,
        enc && enc.input.kind === 'embedding' ? enc.input.dim : 0,
        enc && enc.input.kind === 'dense' ? enc.input.size : 0,
        es ? RK_CELL[es.cell] : 0, es?.inputSize ?? 0, es?.hiddenSize ?? 0, es?.outputSize ?? 0, es?.layers ?? 0, es?.bidirectional ? 1 : 0,
        0, 0,
      ], (block + 80) >> 2);
      this.check(this.x.rk_model_create(block, block + 128), 'rk_model_create');
      const ptr = this.m.heapI32()[(block + 128) >> 2] >>> 0;
      const model = new WasmModel(ptr, spec, Number(this.x.rk_model_param_count(ptr)));
      this.finalizer.register(model, ptr, model);
      return model;
    });
  }

  paramCount(h: WasmModel): number {
    return h.count;
  }

  setParams(h: WasmModel, flat: Float32Array): void {
    checkLength('params', flat, h.count);
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
      const p = f.alloc(96, 'rk_optimizer');
      this.m.heapI32().set([OPT_KIND[o.name], o.nesterov ? 1 : 0, o.clipValue !== undefined ? 1 : 0, o.maxNorm !== undefined ? 1 : 0], p >> 2);
      new Float64Array(this.m.exports.memory.buffer, p + 16, 10).set([
        o.lr, o.momentum, o.dampening, o.weightDecay, o.alpha, o.eps, o.beta1, o.beta2, o.clipValue ?? 0, o.maxNorm ?? 0,
      ]);
      const status = this.x.rk_model_set_optimizer(h.ptr, p);
      if (status !== 0) throw new RangeError(this.m.readString(this.x.rk_last_error()));
    });
  }

  setLr(h: WasmModel, lr: number): void {
    this.guard('rk_model_set_lr', () => this.check(this.x.rk_model_set_lr(h.ptr, lr), 'rk_model_set_lr'));
  }

  /** Copies the batch into linear memory (after checking every array's length); returns the rk_batch. */
  private batchIn(f: CallFrame, h: WasmModel, b: TrainBatch): Ptr {
    const spec = h.spec;
    const sh = batchShapes(spec, b.steps, b.batch);
    const lstm = hasCellState(spec.stack.cell);
    checkLength('tokens', b.tokens, sh.tokens);
    checkLength('x', b.x, sh.x);
    checkLength('targets', b.targets, sh.targets);
    checkLength('targetValues', b.targetValues, sh.targetValues);
    checkLength('targetMask', b.targetMask, sh.targets);
    checkLength('condition', b.condition, sh.condition);
    if (spec.conditionSize > 0 && !b.condition) throw new TypeError('batch.condition is required by this model');
    checkLength('lengths', b.lengths, b.batch);
    checkLength('h0', b.h0, sh.h);
    if (lstm) checkLength('c0', b.c0, sh.c);
    if (spec.input.kind === 'dense' ? !b.x : !b.tokens) {
      throw new TypeError(`batch.${spec.input.kind === 'dense' ? 'x' : 'tokens'} is required by this model`);
    }
    const ptrs = [
      f.input(spec.input.kind === 'dense' ? undefined : b.tokens, 'tokens'),
      f.input(spec.input.kind === 'dense' ? b.x : undefined, 'x'),
      f.input(spec.loss.kind === 'cross_entropy' ? b.targets : undefined, 'targets'),
      f.input(spec.loss.kind === 'mse' ? b.targetValues : undefined, 'targetValues'),
      f.input(spec.loss.kind === 'mse' ? b.targetMask : undefined, 'targetMask'),
      f.input(b.lengths, 'lengths'),
      f.input(b.h0, 'h0'),
      f.input(lstm ? b.c0 : undefined, 'c0'),
      f.input(spec.conditionSize > 0 ? b.condition : undefined, 'condition'),
    ];
    const src = spec.encoder ? b.source : undefined;
    let sourcePtrs = [0, 0, 0, 0];
    if (src && spec.encoder) {
      const Ns = src.steps * b.batch;
      const dense = spec.encoder.input.kind === 'dense';
      checkLength('source.tokens', src.tokens, dense ? 0 : Ns);
      checkLength('source.x', src.x, dense ? Ns * spec.encoder.stack.inputSize : 0);
      checkLength('source.lengths', src.lengths, b.batch);
      if (dense ? !src.x : !src.tokens) throw new TypeError(`batch.source.${dense ? 'x' : 'tokens'} is required by this model's encoder`);
      sourcePtrs = [src.steps, f.input(dense ? undefined : src.tokens, 'source.tokens'), f.input(dense ? src.x : undefined, 'source.x'), f.input(src.lengths, 'source.lengths')];
    }
    const p = f.alloc(64, 'rk_batch');
    this.m.heapI32().set([b.steps, b.batch, ...ptrs, (b.dropoutSeed ?? 0) | 0, ...sourcePtrs], p >> 2);
    return p;
  }

  private result(p: Ptr): { loss: number; count: number; correct: number; totalNorm: number } {
    const r = new Float64Array(this.m.exports.memory.buffer, p, 4);
    return { loss: r[0], count: r[1], correct: r[2], totalNorm: r[3] };
  }

  private step(h: WasmModel, b: TrainBatch, update: boolean): TrainStepResult {
    const what = update ? 'rk_model_train_step' : 'rk_model_loss_and_grads';
    return this.guard(what, (f) => {
      const needTargets = h.spec.loss.kind === 'cross_entropy' ? b.targets : b.targetValues;
      if (!needTargets) throw new TypeError(`batch.${h.spec.loss.kind === 'cross_entropy' ? 'targets' : 'targetValues'} is required by this model`);
      const sh = batchShapes(h.spec, b.steps, b.batch);
      const batch = this.batchIn(f, h, b);
      const hn = f.alloc(sh.h * 4, 'hn');
      const cn = sh.c > 0 ? f.alloc(sh.c * 4, 'cn') : 0;
      const out = f.alloc(32, 'rk_step_result');
      const fn = update ? this.x.rk_model_train_step : this.x.rk_model_loss_and_grads;
      this.check(fn(h.ptr, batch, hn, cn, out), what);
      return { ...this.result(out), hn: f.read(hn, sh.h), ...(sh.c > 0 ? { cn: f.read(cn, sh.c) } : {}) };
    });
  }

  trainStepSync(h: WasmModel, b: TrainBatch): TrainStepResult {
    return this.step(h, b, true);
  }

  // The module runs on the calling thread: the async forms wrap the sync ones.
  async trainStep(h: WasmModel, b: TrainBatch): Promise<TrainStepResult> {
    return this.step(h, b, true);
  }

  lossAndGradsSync(h: WasmModel, b: TrainBatch): { loss: number; count: number } {
    return this.step(h, b, false);
  }

  evaluateSync(h: WasmModel, b: TrainBatch): EvalResult {
    return this.guard('rk_model_evaluate', (f) => {
      const sh = batchShapes(h.spec, b.steps, b.batch);
      const ny = b.steps * b.batch * stackOutputWidth(h.spec.stack);
      const batch = this.batchIn(f, h, b);
      const outputs = f.alloc(sh.outputs * 4, 'outputs');
      const y = f.alloc(ny * 4, 'y');
      const hn = f.alloc(sh.h * 4, 'hn');
      const cn = sh.c > 0 ? f.alloc(sh.c * 4, 'cn') : 0;
      const out = f.alloc(32, 'rk_step_result');
      this.check(this.x.rk_model_evaluate(h.ptr, batch, outputs, y, hn, cn, out), 'rk_model_evaluate');
      const r = this.result(out);
      return {
        loss: r.loss, count: r.count, correct: r.correct,
        outputs: f.read(outputs, sh.outputs), y: f.read(y, ny), hn: f.read(hn, sh.h), ...(sh.c > 0 ? { cn: f.read(cn, sh.c) } : {}),
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
}

/** The TrainingBackend of a WasmBackend (its `training` member). */
export function createWasmTraining(m: RnnkitModule): FusedTraining<WasmModel> {
  return new FusedTraining('wasm', new WasmEngine(m));
}
