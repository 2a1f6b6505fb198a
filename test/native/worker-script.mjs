// Runs inside a worker_thread (test/native/worker.test.ts): loads the addon file it is
// given, runs one forward synchronously and one asynchronously, and posts the results.
// Plain JavaScript on purpose: it must load without vitest's TypeScript transform.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const { addonPath, spec, params, req, hang } = workerData;
const addon = require(addonPath);
const h = addon.create(spec);
addon.setParams(h, params);
if (hang) {
  // Start a long forward and tell the parent, which terminates this worker mid-flight.
  addon.forward(h, req).then(() => parentPort.postMessage({ finished: true }));
  parentPort.postMessage({ started: true });
} else {
  const sync = addon.forwardSync(h, req);
  const async_ = await addon.forward(h, req);
  parentPort.postMessage({ isa: addon.isa(), sync, async: async_ });
  addon.dispose(h);
}
