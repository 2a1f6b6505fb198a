// The one list of workloads the harness knows: the peers' lib/workloads.json (shared,
// read-only) followed by bench's own additions (LOCAL_WORKLOADS_FILE: the word-level LM
// workloads of ../shared/bench/WORKLOADS.md, which the shared list does not have yet).
// run.mjs, rnnkit-worker.mjs and the report's flop table (report.mjs → flops_table.py)
// all read them through this module.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS_COPY, PEERS_SRC } from './paths.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** bench's own workloads, in the shared file's format. */
export const LOCAL_WORKLOADS_FILE = path.join(HERE, 'wordlm-workloads.json');

/** The shared list: the harness's copy of the peers when there is one, else the shared directory. */
export function sharedWorkloadsFile() {
  const copy = path.join(PEERS_COPY, 'lib', 'workloads.json');
  return fs.existsSync(copy) ? copy : path.join(PEERS_SRC, 'lib', 'workloads.json');
}

const read = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/**
 * Every workload: the shared ones, then the local ones (each marked `local: true`).
 * A local id that the shared list also has is an error: the shared definition has
 * arrived, and the local entry must then be deleted rather than silently shadowed.
 */
export function loadWorkloads({ sharedFile = sharedWorkloadsFile(), localFile = LOCAL_WORKLOADS_FILE } = {}) {
  const shared = read(sharedFile);
  const local = read(localFile);
  const dup = local.filter((w) => shared.some((s) => s.id === w.id)).map((w) => w.id);
  if (dup.length) {
    throw new Error(`${dup.join(', ')} now in the shared ${sharedFile}: delete ${dup.length > 1 ? 'them' : 'it'} from ${localFile}`);
  }
  return [...shared, ...local.map((w) => ({ ...w, local: true }))];
}

/**
 * The workloads `--workloads` selects: 'default' = every SHARED workload whose mode is in
 * `defaultModes` (the six standard ones; the local ones only when asked for), 'all' =
 * every workload, or a list of ids (an unknown id is a RangeError naming the known ones).
 */
export function selectWorkloads(selection, all, defaultModes) {
  if (selection === 'default') return all.filter((w) => !w.local && defaultModes.includes(w.mode));
  if (selection === 'all') return all;
  return selection.map((id) => all.find((w) => w.id === id) ?? unknown(id, all));
}

function unknown(id, all) {
  throw new RangeError(`--workloads: unknown workload ${JSON.stringify(id)}; expected some of ${all.map((w) => w.id).join(', ')}`);
}

/** One workload by id, or undefined. */
export function findWorkload(id, all = loadWorkloads()) {
  return all.find((w) => w.id === id);
}
