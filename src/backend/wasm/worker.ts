/**
 * The worker that runs rnnkit.wasm off the calling thread (see worker-host.ts for the design).
 * It instantiates the compiled module the calling side posts, and runs the same classes the
 * calling thread runs — WasmBackend for stacks, WasmEngine for models — on its own copies of
 * the handles, which the calling side names by number. Replies transfer their arrays (each is a
 * fresh copy out of linear memory); requests arrive cloned.
 *
 * Loads as a Web Worker (`{ type: 'module' }`) and as a worker_threads worker alike.
 */
import type { BackwardRequest, ForwardRequest, ModelSpec, StackHandle, StackSpec, TrainBatch } from '../contract.js';
import type { OptimizerSettings } from '../../optim/optimizers.js';
import { WasmBackend } from './backend.js';
import { instantiateRnnkit } from './module.js';
import { WasmEngine, type WasmModel } from './training.js';
import { buffersOf, toWire, type Reply, type Request, type WorkerSettings } from './worker-host.js';
import { setWasmThreadWorker } from './threads.js';
import { nodeHost } from './node-host.js';

interface Engine {
  backend: WasmBackend;
  engine: WasmEngine;
  stacks: Map<number, StackHandle>;
  models: Map<number, WasmModel>;
}

type Send = (msg: Reply, transfer: ArrayBuffer[]) => void;

function operations(e: Engine): Record<string, (...args: never[]) => unknown> {
  const stack = (id: number): StackHandle => {
    const s = e.stacks.get(id);
    if (!s) throw new Error(`rnnkit wasm worker: no stack ${id}`);
    return s;
  };
  const model = (id: number): WasmModel => {
    const m = e.models.get(id);
    if (!m) throw new Error(`rnnkit wasm worker: no model ${id}`);
    return m;
  };
  const modelState = (h: WasmModel) => {
    const { step, buffers } = e.engine.optimizerState(h);
    return {
      params: e.engine.getParams(h),
      grads: e.engine.getGrads(h),
      step,
      buffers: Array.from({ length: buffers }, (_, k) => e.engine.getOptimizerBuffer(h, k)),
    };
  };
  return {
    forceIsa: (name: string) => e.backend.forceIsa(name),
    setThreads: (n: number) => e.backend.setThreads(n),
    'stack.create': (id: number, spec: StackSpec) => void e.stacks.set(id, e.backend.createStack(spec)),
    'stack.setParams': (id: number, flat: Float32Array) => e.backend.setParams(stack(id), flat),
    'stack.setGrads': (id: number, flat: Float32Array) => e.backend.setGrads(stack(id), flat),
    'stack.zeroGrads': (id: number) => e.backend.zeroGrads(stack(id)),
    'stack.forward': (id: number, req: ForwardRequest) => e.backend.forwardSync(stack(id), req),
    'stack.backward': (id: number, req: BackwardRequest) => {
      const r = e.backend.backwardSync(stack(id), req);
      return { result: r, grads: e.backend.getGrads(stack(id)) };
    },
    'stack.dispose': (id: number) => {
      e.backend.dispose(stack(id));
      e.stacks.delete(id);
    },
    'model.create': (id: number, spec: ModelSpec) => void e.models.set(id, e.engine.create(spec)),
    'model.setParams': (id: number, flat: Float32Array) => e.engine.setParams(model(id), flat),
    'model.setOptimizer': (id: number, o: OptimizerSettings) => e.engine.setOptimizer(model(id), o),
    'model.setLr': (id: number, lr: number) => e.engine.setLr(model(id), lr),
    'model.setOptimizerState': (id: number, step: number, buffers: Float32Array[]) => e.engine.setOptimizerState(model(id), step, buffers),
    'model.trainStep': (id: number, b: TrainBatch) => {
      const result = e.engine.trainStepSync(model(id), b);
      return { result, state: modelState(model(id)) };
    },
    'model.evaluate': (id: number, b: TrainBatch) => e.engine.evaluateSync(model(id), b),
    'model.dispose': (id: number) => {
      e.engine.dispose(model(id));
      e.models.delete(id);
    },
  };
}

function serve(send: Send): (msg: Request) => void {
  let ops: Record<string, (...args: never[]) => unknown> | null = null;
  const queue: Request[] = [];
  const run = (msg: Request): void => {
    try {
      const fn = ops![msg.op];
      if (!fn) throw new Error(`rnnkit wasm worker: unknown operation ${msg.op}`);
      const value = (fn as (...args: unknown[]) => unknown)(...msg.args);
      if (msg.id !== 0) send({ id: msg.id, ok: true, value }, buffersOf(value));
    } catch (err) {
      send({ id: msg.id, ok: false, error: toWire(err) }, []);
    }
  };
  return (msg) => {
    if (msg.op === 'init') {
      const [module, { isa, threads, threadWorker }] = msg.args as [WebAssembly.Module, WorkerSettings];
      if (threadWorker !== undefined) setWasmThreadWorker(threadWorker);
      instantiateRnnkit(module).then(
        (m) => {
          const backend = new WasmBackend(m);
          if (isa && backend.info().isa !== isa) backend.forceIsa(isa);
          if (backend.info().threads !== threads) backend.setThreads(threads);
          ops = operations({ backend, engine: new WasmEngine(m, backend.abi), stacks: new Map(), models: new Map() });
          send({ ready: true }, []);
          for (const q of queue.splice(0)) run(q);
        },
        (err) => send({ initError: toWire(err) }, []),
      );
    } else if (ops === null) {
      queue.push(msg);
    } else {
      run(msg);
    }
  };
}

const node = nodeHost();
if (node) {
  const { parentPort } = node.getBuiltinModule('node:worker_threads') as {
    parentPort: { on(ev: 'message', fn: (m: Request) => void): void; postMessage(m: unknown, t: ArrayBuffer[]): void } | null;
  };
  if (parentPort) {
    const onMessage = serve((m, t) => parentPort.postMessage(m, t));
    parentPort.on('message', onMessage);
  }
} else {
  const scope = globalThis as unknown as { postMessage(m: unknown, t: ArrayBuffer[]): void; addEventListener(ev: 'message', fn: (e: MessageEvent) => void): void };
  const onMessage = serve((m, t) => scope.postMessage(m, t));
  scope.addEventListener('message', (e) => onMessage(e.data as Request));
}
