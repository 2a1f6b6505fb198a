// Runs inside a worker_thread (test/native/worker.test.ts): loads the addon file it is
// given, creates a stack from the packed rk_stack_spec it is given (packed on the main
// thread by src/backend/abi/), runs one forward synchronously and one asynchronously, and
// posts the results. Plain JavaScript on purpose: it must load without vitest's
// TypeScript transform.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const { addonPath, spec, params, req, hang } = workerData;
const addon = require(addonPath);
const h = addon.stackCreate(spec);
addon.stackSetParams(h, params);
const run = (fn) => fn(h, req.steps, req.batch, false, req.x, req.h0);
if (hang) {
  // Start a long forward and tell the parent, which terminates this worker mid-flight.
  run(addon.stackForward).then(() => parentPort.postMessage({ finished: true }));
  parentPort.postMessage({ started: true });
} else {
  const sync = run(addon.stackForwardSync);
  const async_ = await run(addon.stackForward);
  parentPort.postMessage({ isa: addon.isa(), sync, async: async_ });
  addon.stackDispose(h);
}
