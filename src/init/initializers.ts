/**
 * Parameter initialisers. Every draw comes from a seeded `Random`, so the same seed gives
 * the same model. Matrices are row-major [rows][cols] with PyTorch's convention for a
 * weight [out][in]: fan_in = cols, fan_out = rows.
 */
import type { StackSpec } from '../backend/contract.js';
import { gateCount, paramLayout, stateSize } from '../backend/layout.js';
import type { ModelSpec } from '../backend/contract.js';
import { modelLayout, stackOutputWidth } from '../backend/layout.js';
import { checkKnownKeys, checkOneOf } from '../validate.js';
import { checkSeed, Random } from './random.js';

/** How a weight matrix is drawn. */
export type WeightInit =
  /** PyTorch's RNN default: uniform in ±1/√H (H the hidden size). */
  | 'pytorch'
  /** Glorot & Bengio: uniform in ±gain·√(6 / (fan_in + fan_out)). */
  | 'xavier_uniform'
  /** Glorot & Bengio: normal with std gain·√(2 / (fan_in + fan_out)). */
  | 'xavier_normal'
  /** Saxe et al.: a (semi-)orthogonal matrix times gain, one per gate block. */
  | 'orthogonal'
  /** gain·I, one per gate block (IRNN, Le et al. 2015: use with rnn_relu and zero bias). */
  | 'identity'
  | 'zeros';

/** Initialisation of a recurrent stack. Defaults give PyTorch's nn.RNN/LSTM/GRU init. */
export interface StackInitOptions {
  /** Input-to-hidden matrices (weight_ih; Jordan weight_ho too). Default 'pytorch'. */
  inputWeights?: WeightInit;
  /** Recurrent matrices (weight_hh; Jordan weight_yh). Default 'pytorch'. */
  recurrentWeights?: WeightInit;
  /** Biases (and peepholes): 'pytorch' (±1/√H) or 'zeros'. Default 'pytorch'. */
  bias?: 'pytorch' | 'zeros';
  /** LSTM only: if set, the forget-gate block of bias_ih gets this value and that of bias_hh 0. */
  forgetBias?: number;
  /** Scale (gain) of xavier / orthogonal / identity input-to-hidden matrices (default 1). */
  gain?: number;
  /** Scale of xavier / orthogonal / identity recurrent matrices (default 1; IRNN uses 1). */
  recurrentGain?: number;
}

/** Initialisation of a whole model (input layer, stack, head). */
export interface ModelInitOptions extends StackInitOptions {
  /** Seed of the generator; same seed, same model. Default 0. */
  seed?: number;
}

const WEIGHT_INITS: readonly WeightInit[] = ['pytorch', 'xavier_uniform', 'xavier_normal', 'orthogonal', 'identity', 'zeros'];
const BIAS_INITS: readonly NonNullable<StackInitOptions['bias']>[] = ['pytorch', 'zeros'];
const INIT_KEYS = ['seed', 'inputWeights', 'recurrentWeights', 'bias', 'forgetBias', 'gain', 'recurrentGain'] as const;

/**
 * `options` as given, checked (an error naming `init.<field>`): a misspelt key or value is
 * refused rather than read as the default, and a gain or forget bias that is not finite
 * (which made every parameter NaN, found only when training "diverged") is refused.
 */
export function checkInitOptions(options: unknown): ModelInitOptions {
  if (options == null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`init must be an object { ${INIT_KEYS.join(', ')} }; got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const o = options as Record<string, unknown>;
  checkKnownKeys('init', o, INIT_KEYS);
  // null, like undefined, means the default (the initialisers read `?? default`).
  if (o.seed != null) checkSeed(o.seed, 'init.seed');
  if (o.inputWeights != null) checkOneOf('init.inputWeights', o.inputWeights, WEIGHT_INITS);
  if (o.recurrentWeights != null) checkOneOf('init.recurrentWeights', o.recurrentWeights, WEIGHT_INITS);
  if (o.bias != null) checkOneOf('init.bias', o.bias, BIAS_INITS);
  for (const k of ['forgetBias', 'gain', 'recurrentGain'] as const) {
    const v = o[k];
    if (v == null) continue;
    if (typeof v !== 'number') throw new TypeError(`init.${k} must be a number; got ${v === null ? 'null' : typeof v}`);
    if (!Number.isFinite(v)) throw new RangeError(`init.${k} must be a finite number; got ${v}`);
  }
  return o as ModelInitOptions;
}

/** Uniform in ±bound. */
export function uniformMatrix(rows: number, cols: number, bound: number, rng: Random): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniformIn(-bound, bound);
  return out;
}

/** Normal with the given standard deviation. */
export function normalMatrix(rows: number, cols: number, std: number, rng: Random): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
  return out;
}

/** Glorot/Xavier uniform: ±gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(rows: number, cols: number, rng: Random, gain = 1): Float64Array {
  return uniformMatrix(rows, cols, gain * Math.sqrt(6 / (rows + cols)), rng);
}

/** Glorot/Xavier normal: std gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(rows: number, cols: number, rng: Random, gain = 1): Float64Array {
  return normalMatrix(rows, cols, gain * Math.sqrt(2 / (rows + cols)), rng);
}

/** gain·I, rectangular allowed (ones on the main diagonal). */
export function identityMatrix(rows: number, cols: number, gain = 1): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = gain;
  return out;
}

/**
 * A random (semi-)orthogonal matrix times gain: orthonormal columns if rows ≥ cols,
 * orthonormal rows otherwise. Drawn as the Q factor of a standard normal matrix by
 * modified Gram–Schmidt in float64 (R's diagonal is positive, so Q is Haar-distributed).
 */
export function orthogonalMatrix(rows: number, cols: number, rng: Random, gain = 1): Float64Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols; // length of each vector to orthonormalise
  const k = tall ? cols : rows; // how many vectors
  const q: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    let v: Float64Array;
    for (;;) {
      v = new Float64Array(m);
      for (let i = 0; i < m; i++) v[i] = rng.normal();
      // Two passes of modified Gram–Schmidt keep the columns orthogonal to rounding.
      for (let pass = 0; pass < 2; pass++) {
        for (const u of q) {
          let dot = 0;
          for (let i = 0; i < m; i++) dot += u[i] * v[i];
          for (let i = 0; i < m; i++) v[i] -= dot * u[i];
        }
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += v[i] * v[i];
      norm = Math.sqrt(norm);
      if (norm > 1e-8) {
        for (let i = 0; i < m; i++) v[i] /= norm;
        break;
      }
    }
    q.push(v);
  }
  const out = new Float64Array(rows * cols);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < m; i++) {
      if (tall) out[i * cols + j] = gain * q[j][i];
      else out[j * cols + i] = gain * q[j][i];
    }
  }
  return out;
}

/**
 * One weight matrix [blocks·rows][cols] by `kind`. Orthogonal and identity are drawn per
 * gate block [rows][cols] (each gate's recurrent matrix is orthogonal on its own);
 * xavier uses the fans of the whole matrix, as torch.nn.init does.
 */
export function drawWeight(kind: WeightInit, blocks: number, rows: number, cols: number, pytorchBound: number, rng: Random, gain = 1): Float64Array {
  const R = blocks * rows;
  switch (kind) {
    case 'pytorch':
      return uniformMatrix(R, cols, pytorchBound, rng);
    case 'xavier_uniform':
      return xavierUniform(R, cols, rng, gain);
    case 'xavier_normal':
      return xavierNormal(R, cols, rng, gain);
    case 'zeros':
      return new Float64Array(R * cols);
    case 'orthogonal':
    case 'identity': {
      const out = new Float64Array(R * cols);
      for (let g = 0; g < blocks; g++) {
        const block = kind === 'orthogonal' ? orthogonalMatrix(rows, cols, rng, gain) : identityMatrix(rows, cols, gain);
        out.set(block, g * rows * cols);
      }
      return out;
    }
    default:
      throw new RangeError(`weight init must be one of pytorch, xavier_uniform, xavier_normal, orthogonal, identity, zeros; got ${JSON.stringify(kind)}`);
  }
}

/** Every parameter of a stack, in `paramLayout(spec)` order. */
export function initStackParams(spec: StackSpec, rng: Random, options: StackInitOptions = {}): Float32Array {
  options = checkInitOptions(options);
  const { entries, total } = paramLayout(spec);
  const flat = new Float32Array(total);
  const H = spec.hiddenSize;
  const G = gateCount(spec.cell);
  const bound = 1 / Math.sqrt(H);
  const gain = options.gain ?? 1;
  const recurrentGain = options.recurrentGain ?? 1;
  const inputKind = options.inputWeights ?? 'pytorch';
  const recurrentKind = options.recurrentWeights ?? 'pytorch';
  const biasKind = options.bias ?? 'pytorch';
  for (const e of entries) {
    const base = e.name.replace(/_l\d+(_reverse)?$/, '');
    let values: Float64Array;
    if (base === 'weight_ih') values = drawWeight(inputKind, G, H, e.shape[1], bound, rng, gain);
    else if (base === 'weight_ho') values = drawWeight(inputKind, 1, e.shape[0], e.shape[1], bound, rng, gain);
    else if (base === 'weight_hh') values = drawWeight(recurrentKind, G, H, H, bound, rng, recurrentGain);
    else if (base === 'weight_yh') values = drawWeight(recurrentKind, 1, H, stateSize(spec), bound, rng, recurrentGain);
    else values = biasKind === 'zeros' ? new Float64Array(e.size) : uniformMatrix(1, e.size, bound, rng);
    if (options.forgetBias !== undefined && (spec.cell === 'lstm' || spec.cell === 'lstm_peephole')) {
      // Gate order i, f, g, o: the forget block is rows [H, 2H).
      if (base === 'bias_ih') values.fill(options.forgetBias, H, 2 * H);
      if (base === 'bias_hh') values.fill(0, H, 2 * H);
    }
    flat.set(values, e.offset);
  }
  return finiteOrRefuse(flat);
}

/** Parameters that overflow float32 (a gain or forget bias near its range) are refused, not handed to training. */
function finiteOrRefuse(flat: Float32Array): Float32Array {
  // A plain loop: Float32Array#findIndex with a callback here grew the process's RSS by
  // ~30 MB over 2,000 createModel calls (test/boundary/lifetime.test.ts), heap unchanged.
  let bad = -1;
  for (let i = 0; i < flat.length; i++) {
    if (!Number.isFinite(flat[i])) {
      bad = i;
      break;
    }
  }
  if (bad >= 0) throw new RangeError(`init: parameter ${bad} is ${flat[bad]} in float32; init.gain, init.recurrentGain or init.forgetBias is too large`);
  return flat;
}

/**
 * Every parameter of a model, in `modelLayout(spec)` order: embeddings standard normal
 * (nn.Embedding's default), the stacks (encoder and decoder) by `options`, head weight and bias uniform in
 * ±1/√(D·S) (nn.Linear's default).
 */
export function initModelParams(spec: ModelSpec, options: ModelInitOptions = {}): Float32Array {
  options = checkInitOptions(options);
  const rng = new Random(options.seed ?? 0);
  const layout = modelLayout(spec);
  const flat = new Float32Array(layout.total);
  for (const e of layout.entries) {
    if (e.part === 'embedding' || e.part === 'encoder.embedding') flat.set(normalMatrix(e.shape[0], e.shape[1], 1, rng), e.offset);
  }
  if (spec.encoder) flat.set(initStackParams(spec.encoder.stack, rng, options), layout.encoder!.stack.offset);
  flat.set(initStackParams(spec.stack, rng, options), layout.stack.offset);
  const F = stackOutputWidth(spec.stack);
  for (const e of layout.entries) {
    if (e.part === 'head') flat.set(uniformMatrix(1, e.size, 1 / Math.sqrt(F), rng), e.offset);
  }
  return finiteOrRefuse(flat);
}
