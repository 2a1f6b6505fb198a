/**
 * One worker of rnnkit-threads.wasm's thread pool (threads.ts starts it; a worker_threads
 * worker in Node, a module Web Worker in browsers). It receives the compiled module, the
 * shared memory, its index and its stack, instantiates the module over that memory (without
 * _initialize: the main instance has run the constructors), and enters the pool's worker
 * loop, which never returns: the worker ends when its owner terminates it or the process exits.
 */
import { hostImports, RnnkitModule, type RnnkitExports } from './module.js';
import { threadWorkerImports, type ThreadStart } from './threads.js';
import { nodeHost } from './node-host.js';

interface WorkerExports extends RnnkitExports {
  stackRestore(top: number): void;
  rkw_worker_main(worker: number): void;
}

async function run({ module, memory, worker, stackTop }: ThreadStart, tell: (msg: unknown) => void): Promise<void> {
  let m: RnnkitModule | null = null;
  const imports = hostImports(() => m);
  Object.assign(imports.env as object, threadWorkerImports(memory));
  const instance = await WebAssembly.instantiate(module, imports);
  const exports = { ...(instance.exports as unknown as WorkerExports), memory };
  m = new RnnkitModule(exports);
  exports.stackRestore(stackTop);
  tell({ entered: worker });
  exports.rkw_worker_main(worker);
}

const node = nodeHost();
if (node) {
  const { parentPort } = node.getBuiltinModule('node:worker_threads') as {
    parentPort: { once(ev: 'message', fn: (m: ThreadStart) => void): void; postMessage(m: unknown): void } | null;
  };
  parentPort?.once('message', (start) => {
    run(start, (m) => parentPort.postMessage(m)).catch((e: Error) => console.error(`rnnkit wasm: thread worker ${start.worker} failed: ${e.message}`));
  });
} else {
  const scope = globalThis as unknown as {
    addEventListener(ev: 'message', fn: (e: MessageEvent) => void, o?: { once: boolean }): void;
    postMessage(m: unknown): void;
  };
  scope.addEventListener(
    'message',
    (e) => {
      const start = e.data as ThreadStart;
      run(start, (m) => scope.postMessage(m)).catch((err: Error) => console.error(`rnnkit wasm: thread worker ${start.worker} failed: ${err.message}`));
    },
    { once: true },
  );
}
