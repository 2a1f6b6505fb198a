/**
 * Which backends the training tests run on: the conformance suite's RNNKIT_BACKENDS list
 * (default `reference`). A backend that is named but cannot load FAILS its tests — it is
 * never skipped. A backend's training: src/backend/load.ts `trainingOf`.
 */
import type { BackendName } from '../../src/backend/contract.js';
import { BACKEND_NAMES, loadBackend } from '../../src/backend/load.js';
import { trainingOf } from '../../src/backend/load.js';
import type { TrainingBackend } from '../../src/backend/contract.js';
import { requestedBackends } from '../helpers/backends.js';

export const trainingBackendNames = requestedBackends;

/** Load `name` and its training half; rejects (failing the test) if either is missing. */
export async function loadTraining(name: string): Promise<TrainingBackend> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(`RNNKIT_BACKENDS names an unknown backend ${JSON.stringify(name)}; known: ${BACKEND_NAMES.join(', ')}`);
  }
  const backend = await loadBackend(name as BackendName);
  return trainingOf(backend);
}
