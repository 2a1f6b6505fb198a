/**
 * Saving and loading whole models: `model.safetensors` (every parameter under its PyTorch
 * name, little-endian f32) and `config.json` (the model spec and extra settings) in one
 * directory. Both files are written atomically. Loading validates the config, then the
 * safetensors file (every length and offset), then that the tensors are exactly the
 * model's parameters with the model's shapes and finite values.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSpec } from '../backend/contract.js';
import { modelLayout } from '../backend/layout.js';
import { paramsFromTensors } from './state-dict.js';
import { checkModelSpec } from '../models/spec.js';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from './safetensors-file.js';

/** File names inside a model directory. */
export const WEIGHTS_FILE = 'model.safetensors';
/** See {@link WEIGHTS_FILE}. */
export const CONFIG_FILE = 'config.json';
const FORMAT = 'rnnkit-model';
const VERSION = 1;

/** What `config.json` holds. */
export interface ModelConfig {
  format: typeof FORMAT;
  version: number;
  spec: ModelSpec;
  /** Free-form settings of the model class (e.g. a tokenizer's vocabulary), kept as given. */
  extra?: Record<string, unknown>;
}

/** A loaded model: its spec, parameters (`modelLayout` order) and extra settings. */
export interface LoadedModel {
  spec: ModelSpec;
  params: Float32Array;
  extra: Record<string, unknown>;
}

/** Write `dir/model.safetensors` then `dir/config.json`, each atomically. */
export async function saveModelFiles(dir: string, spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}): Promise<void> {
  const layout = modelLayout(spec);
  if (params.length !== layout.total) throw new RangeError(`params must have ${layout.total} values for this model; got ${params.length}`);
  const tensors = layout.entries.map((e) => ({ name: e.name, shape: e.shape.slice(), data: params.slice(e.offset, e.offset + e.size) }));
  await saveSafetensors(path.join(dir, WEIGHTS_FILE), tensors, { format: 'pt', producer: 'rnnkit' });
  const config: ModelConfig = { format: FORMAT, version: VERSION, spec, extra };
  await writeFileAtomic(path.join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

/** Read and validate a model directory written by {@link saveModelFiles}. */
export async function loadModelFiles(dir: string): Promise<LoadedModel> {
  const configPath = path.join(dir, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new Error(`${configPath}: cannot read the model config (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== FORMAT) {
    throw new Error(`${configPath}: not an rnnkit model config (format must be "${FORMAT}")`);
  }
  const cfg = raw as Record<string, unknown>;
  if (cfg.version !== VERSION) throw new Error(`${configPath}: version ${String(cfg.version)} is not supported (expected ${VERSION})`);
  const spec = checkModelSpec('config.spec', cfg.spec);
  const extra = (typeof cfg.extra === 'object' && cfg.extra !== null ? cfg.extra : {}) as Record<string, unknown>;
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  const { tensors } = await loadSafetensors(weightsPath);
  return { spec, params: paramsFromTensors(spec, tensors, weightsPath), extra };
}
