/**
 * Which backends the training tests run on: RNNKIT_BACKENDS (comma-separated), default
 * `reference` only (training is implemented on the reference first). A backend that is
 * named but cannot load, or loads without a training implementation, FAILS its tests.
 */
import type { BackendName } from '../../src/backend/backend.js';
import { BACKEND_NAMES, loadBackend } from '../../src/backend/load.js';
import { trainingOf } from '../../src/backend/training.js';
import type { TrainingBackend } from '../../src/backend/training.js';

export function trainingBackendNames(): string[] {
  const raw = process.env.RNNKIT_BACKENDS;
  if (!raw || raw.trim() === '') return ['reference'];
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Load `name` and its training half; rejects (failing the test) if either is missing. */
export async function loadTraining(name: string): Promise<TrainingBackend> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(`RNNKIT_BACKENDS names an unknown backend ${JSON.stringify(name)}; known: ${BACKEND_NAMES.join(', ')}`);
  }
  const backend = await loadBackend(name as BackendName);
  return trainingOf(backend);
}
