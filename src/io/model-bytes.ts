/**
 * A model as the bytes of its two files — `config.json` (the spec and extra settings) and
 * `model.safetensors` (every parameter under its PyTorch name, little-endian f32, with the
 * data's CRC-32) — and back, validated. Pure: no file system, no fetch, so browsers use it
 * as Node does (model-file.ts writes and reads these bytes as a model directory).
 *
 * Decoding validates the config, then the safetensors file (every length and offset, the
 * checksum when present), then that the tensors are exactly the model's parameters with
 * the model's shapes and finite values. Errors name the file (`<where>/config.json`,
 * `<where>/model.safetensors`) and the field or tensor.
 */
import type { ModelSpec } from '../backend/contract.js';
import { modelLayout } from '../backend/layout.js';
import { checkModelSpec } from '../models/spec.js';
import { inContext } from '../validate.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { paramsFromTensors } from './state-dict.js';

/** File names inside a model directory. */
export const WEIGHTS_FILE = 'model.safetensors';
/** See {@link WEIGHTS_FILE}. */
export const CONFIG_FILE = 'config.json';
const FORMAT = 'rnnkit-model';
const VERSION = 1;

/** The `__metadata__.producer` of the weights rnnkit writes. */
export const PRODUCER = 'rnnkit';

/** Whether `text` is an rnnkit model config (any version): JSON with `"format": "rnnkit-model"`. */
export function isModelConfigText(text: string): boolean {
  try {
    const raw: unknown = JSON.parse(text);
    return typeof raw === 'object' && raw !== null && (raw as { format?: unknown }).format === FORMAT;
  } catch {
    return false;
  }
}

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

/** The two files of a model: `config.json`'s text and `model.safetensors`'s bytes. */
export interface ModelBytes {
  config: string;
  /** Backed by an ArrayBuffer of its own (a BlobPart as it is). */
  weights: Uint8Array<ArrayBuffer>;
}

/** The label of file `name` of a model at `where` (a directory or a URL, with or without a trailing slash). */
export function fileLabel(where: string, name: string): string {
  return where === '' ? name : `${where.replace(/[/\\]+$/, '')}/${name}`;
}

/** Encode a model as the bytes of its two files. */
export function encodeModel(spec: ModelSpec, params: Float32Array, extra: Record<string, unknown> = {}): ModelBytes {
  const layout = modelLayout(spec);
  if (params.length !== layout.total) throw new RangeError(`params must have ${layout.total} values for this model; got ${params.length}`);
  const tensors = layout.entries.map((e) => ({ name: e.name, shape: e.shape.slice(), data: params.subarray(e.offset, e.offset + e.size) }));
  const config: ModelConfig = { format: FORMAT, version: VERSION, spec, extra };
  return {
    config: JSON.stringify(config, null, 2) + '\n',
    weights: encodeSafetensors(tensors, { format: 'pt', producer: PRODUCER }),
  };
}

/**
 * Decode and validate a model's two files. `where` names the model (its directory or URL)
 * in errors, as `<where>/config.json` and `<where>/model.safetensors` unless `labels` names
 * them otherwise (a one-file bundle: the file, and its config's metadata key).
 */
export function decodeModel(
  configText: string, weights: Uint8Array, where: string,
  labels: { config: string; weights: string } = { config: fileLabel(where, CONFIG_FILE), weights: fileLabel(where, WEIGHTS_FILE) },
): LoadedModel {
  const configPath = labels.config;
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch (e) {
    throw new Error(`${configPath}: cannot read the model config (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== FORMAT) {
    throw new Error(`${configPath}: not an rnnkit model config (format must be "${FORMAT}")`);
  }
  const cfg = raw as Record<string, unknown>;
  if (cfg.version !== VERSION) throw new Error(`${configPath}: version ${JSON.stringify(cfg.version)} is not supported (expected ${VERSION})`);
  let spec: ModelSpec;
  try {
    spec = checkModelSpec('config.spec', cfg.spec);
  } catch (e) {
    throw inContext(configPath, e);  // the file named, as every other load error names it
  }
  const extra = (typeof cfg.extra === 'object' && cfg.extra !== null && !Array.isArray(cfg.extra) ? cfg.extra : {}) as Record<string, unknown>;
  const weightsPath = labels.weights;
  const { tensors } = decodeSafetensors(weights, weightsPath);
  return { spec, params: paramsFromTensors(spec, tensors, weightsPath), extra };
}
