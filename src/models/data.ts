/**
 * Datasets of variable-length sequences, their validation, and their packing into
 * time-major, padded training windows.
 *
 * A dataset holds N sequences, batch-major and unpadded, as plain arrays or typed arrays:
 * token ids per step (embedding / one-hot models) or real vectors per step flattened
 * (dense models, length·size values). Targets are either per step (`targets`: tagging,
 * language modelling, forecasting) or one per sequence (`labels`: many-to-one, read at
 * the last step of each sequence). Batches are padded to the longest sequence; padding
 * never changes outputs or gradients of the real steps.
 */
import type { ModelSpec, SourceBatch, TrainBatch } from '../backend/contract.js';
import { batchShapes } from '../backend/layout.js';

/** Numbers of one sequence (or of one vector). */
export type NumberArray = ArrayLike<number>;

/** N sequences and what the model should output for them. */
export interface Dataset {
  /** Per sequence: token ids [len] (embedding/one-hot input) or values [len·size] (dense input). */
  inputs: NumberArray[];
  /** Per sequence, per step: class ids [len] (cross-entropy; the ignore index skips a step) or values [len·outputs] (MSE). */
  targets?: NumberArray[];
  /** Per sequence, one target read at its last step: a class id (cross-entropy) or values [outputs] (MSE). */
  labels?: (number | NumberArray)[];
  /** Per sequence: the conditioning vector [conditionSize] entering every step. */
  conditions?: NumberArray[];
  /** Seq2seq models: per sequence, what the encoder reads (token ids [len] or values [len·size]). */
  sources?: NumberArray[];
}

/** A dataset whose sequences were checked against a model spec. */
export interface CheckedDataset {
  size: number;
  lengths: Int32Array;
  /** Seq2seq: steps of each source sequence. */
  sourceLengths?: Int32Array;
  data: Dataset;
  /** Whether it carries targets or labels (needed for fit and evaluate, not for predict). */
  supervised: boolean;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : ArrayBuffer.isView(v) ? v.constructor.name : typeof v;
}

function isNumberArray(v: unknown): v is NumberArray {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** A copy of one sequence when it is an array of numbers (else the value itself, for the checks to refuse). */
function snapshotSequence(name: string, v: unknown): unknown {
  if (!isNumberArray(v)) return v;
  try {
    return Float64Array.from(v);
  } catch (e) {
    // e.g. a typed array whose buffer was transferred (detached) or shrunk under it
    throw new TypeError(`${name} cannot be read: ${(e as Error).message}`);
  }
}

function snapshotList(name: string, v: unknown, each: (name: string, x: unknown) => unknown): unknown {
  return Array.isArray(v) ? v.map((x, i) => each(`${name}[${i}]`, x)) : v;
}

/**
 * A private copy of a dataset's numbers. The checks run on the copy and batches are packed
 * from it, so a caller that changes (or transfers) its arrays while a fit or evaluate is
 * running changes nothing: what was checked is what the backend reads.
 */
function snapshotDataset(name: string, d: Dataset): Dataset {
  return {
    inputs: snapshotList(`${name}.inputs`, d.inputs, snapshotSequence) as NumberArray[],
    targets: snapshotList(`${name}.targets`, d.targets, snapshotSequence) as NumberArray[] | undefined,
    labels: snapshotList(`${name}.labels`, d.labels, (n, l) => (typeof l === 'number' ? l : snapshotSequence(n, l))) as (number | NumberArray)[] | undefined,
    conditions: snapshotList(`${name}.conditions`, d.conditions, snapshotSequence) as NumberArray[] | undefined,
    sources: snapshotList(`${name}.sources`, d.sources, snapshotSequence) as NumberArray[] | undefined,
  };
}

/** Validate `data` against `spec`; every error names the dataset field and the sequence index. */
export function checkDataset(name: string, data: unknown, spec: ModelSpec, needTargets: boolean): CheckedDataset {
  if (typeof data !== 'object' || data === null) throw new TypeError(`${name} must be an object with inputs; got ${kindOf(data)}`);
  const d = snapshotDataset(name, data as Dataset);
  if (!Array.isArray(d.inputs)) throw new TypeError(`${name}.inputs must be an array of sequences; got ${kindOf(d.inputs)}`);
  const N = d.inputs.length;
  if (N === 0) throw new RangeError(`${name}.inputs must hold at least one sequence; got 0`);
  const lengths = checkSequences(`${name}.inputs`, d.inputs, spec.input);
  let sourceLengths: Int32Array | undefined;
  if (spec.encoder) {
    if (!Array.isArray(d.sources) || d.sources.length !== N) throw new RangeError(`${name}.sources must hold one source sequence per sequence (${N}) for a seq2seq model; got ${Array.isArray(d.sources) ? d.sources.length : kindOf(d.sources)}`);
    sourceLengths = checkSequences(`${name}.sources`, d.sources, spec.encoder.input);
  } else if (d.sources !== undefined) {
    throw new TypeError(`${name}.sources given, but the model has no encoder`);
  }
  if (d.targets !== undefined && d.labels !== undefined) throw new TypeError(`${name} must have either targets (per step) or labels (per sequence), not both`);
  const C = spec.outputs;
  const ce = spec.loss.kind === 'cross_entropy';
  const ignore = spec.loss.kind === 'cross_entropy' ? spec.loss.ignoreIndex : NaN;
  const checkClass = (where: string, v: number) => {
    if (!Number.isInteger(v) || ((v < 0 || v >= C) && v !== ignore)) {
      throw new RangeError(`${where} must be a class id in [0, ${C}) (outputs) or the ignore index ${ignore}; got ${v}`);
    }
  };
  const checkValues = (where: string, v: unknown, n: number) => {
    if (!isNumberArray(v)) throw new TypeError(`${where} must be an array of ${n} numbers; got ${kindOf(v)}`);
    if (v.length !== n) throw new RangeError(`${where} must hold ${n} values; got ${v.length}`);
    for (let k = 0; k < n; k++) if (!Number.isFinite(v[k])) throw new RangeError(`${where}[${k}] must be finite; got ${v[k]}`);
  };
  if (d.targets !== undefined) {
    if (!Array.isArray(d.targets) || d.targets.length !== N) throw new RangeError(`${name}.targets must hold one entry per sequence (${N}); got ${isNumberArray(d.targets) ? d.targets.length : kindOf(d.targets)}`);
    for (let i = 0; i < N; i++) {
      const t = d.targets[i];
      const n = ce ? lengths[i] : lengths[i] * C;
      checkValues(`${name}.targets[${i}]`, t, ce ? n : n);
      if (ce) for (let k = 0; k < n; k++) checkClass(`${name}.targets[${i}][${k}]`, t[k]);
    }
  }
  if (d.labels !== undefined) {
    if (!Array.isArray(d.labels) || d.labels.length !== N) throw new RangeError(`${name}.labels must hold one entry per sequence (${N}); got ${Array.isArray(d.labels) ? d.labels.length : kindOf(d.labels)}`);
    for (let i = 0; i < N; i++) {
      const l = d.labels[i];
      if (ce) {
        if (typeof l !== 'number') throw new TypeError(`${name}.labels[${i}] must be a class id; got ${kindOf(l)}`);
        checkClass(`${name}.labels[${i}]`, l);
      } else checkValues(`${name}.labels[${i}]`, l, C);
    }
  }
  const K = spec.conditionSize;
  if (K > 0) {
    if (!Array.isArray(d.conditions) || d.conditions.length !== N) throw new RangeError(`${name}.conditions must hold one vector of ${K} values per sequence (${N}); got ${Array.isArray(d.conditions) ? d.conditions.length : kindOf(d.conditions)}`);
    for (let i = 0; i < N; i++) checkValues(`${name}.conditions[${i}]`, d.conditions[i], K);
  } else if (d.conditions !== undefined) {
    throw new TypeError(`${name}.conditions given, but the model has no conditioning vector (conditionSize 0)`);
  }
  if (spec.readout === 'final_state' && d.targets !== undefined) {
    throw new TypeError(`${name}.targets (per step) do not fit a model with readout 'final_state'; give labels (one per sequence)`);
  }
  const supervised = d.targets !== undefined || d.labels !== undefined;
  if (needTargets && !supervised) throw new TypeError(`${name} must have targets (per step) or labels (per sequence)`);
  return { size: N, lengths, sourceLengths, data: d, supervised };
}

/** Checks sequences for an input layer; returns their steps. */
function checkSequences(name: string, seqs: NumberArray[], input: ModelSpec['input']): Int32Array {
  const lengths = new Int32Array(seqs.length);
  const width = input.kind === 'dense' ? input.size : 1;
  for (let i = 0; i < seqs.length; i++) {
    const s = seqs[i];
    if (!isNumberArray(s)) throw new TypeError(`${name}[${i}] must be an array of numbers; got ${kindOf(s)}`);
    if (s.length === 0 || s.length % width !== 0) {
      throw new RangeError(`${name}[${i}] must hold a positive multiple of ${width} values (steps × ${input.kind === 'dense' ? 'size' : '1 token'}); got ${s.length}`);
    }
    lengths[i] = s.length / width;
    if (input.kind === 'dense') {
      for (let k = 0; k < s.length; k++) if (!Number.isFinite(s[k])) throw new RangeError(`${name}[${i}][${k}] must be finite; got ${s[k]}`);
    } else {
      const V = input.vocab;
      for (let k = 0; k < s.length; k++) {
        if (!Number.isInteger(s[k]) || s[k] < 0 || s[k] >= V) throw new RangeError(`${name}[${i}][${k}] must be a token id in [0, ${V}) (vocab); got ${s[k]}`);
      }
    }
  }
  return lengths;
}

/** Sequences from..to-1 of a checked dataset, as a checked dataset. */
export function subsetDataset(set: CheckedDataset, from: number, to: number): CheckedDataset {
  const d = set.data;
  return {
    size: to - from,
    lengths: set.lengths.slice(from, to),
    sourceLengths: set.sourceLengths?.slice(from, to),
    data: {
      inputs: d.inputs.slice(from, to),
      targets: d.targets?.slice(from, to),
      labels: d.labels?.slice(from, to),
      conditions: d.conditions?.slice(from, to),
      sources: d.sources?.slice(from, to),
    },
    supervised: set.supervised,
  };
}

/** Pack sequences `indices` of a checked dataset into one padded, time-major batch. */
export function packBatch(spec: ModelSpec, set: CheckedDataset, indices: number[]): TrainBatch {
  const B = indices.length;
  let T = 0;
  for (const i of indices) T = Math.max(T, set.lengths[i]);
  const sh = batchShapes(spec, T, B);
  const d = set.data;
  const C = spec.outputs;
  const K = spec.conditionSize;
  const ce = spec.loss.kind === 'cross_entropy';
  const ignore = spec.loss.kind === 'cross_entropy' ? spec.loss.ignoreIndex : 0;
  const batch: TrainBatch = { steps: T, batch: B };
  if (spec.input.kind === 'dense') batch.x = new Float32Array(sh.x);
  else batch.tokens = new Int32Array(sh.tokens);
  // With readout 'final_state' there is one head row per sequence instead of one per step.
  const final = spec.readout === 'final_state';
  const rows = final ? B : T * B;
  if (set.supervised) {
    if (ce) batch.targets = new Int32Array(rows).fill(ignore);
    else {
      batch.targetValues = new Float32Array(rows * C);
      batch.targetMask = new Uint8Array(rows);
    }
  }
  if (K > 0) batch.condition = new Float32Array(sh.condition);
  const lengths = new Int32Array(B);
  let padded = false;
  indices.forEach((i, b) => {
    const len = set.lengths[i];
    lengths[b] = len;
    if (len < T) padded = true;
    const seq = d.inputs[i];
    for (let t = 0; t < len; t++) {
      if (batch.x) {
        const I = sh.x / (T * B);
        for (let k = 0; k < I; k++) batch.x[(t * B + b) * I + k] = seq[t * I + k];
      } else batch.tokens![t * B + b] = seq[t];
    }
    if (d.targets) {
      const tg = d.targets[i];
      for (let t = 0; t < len; t++) {
        if (ce) batch.targets![t * B + b] = tg[t];
        else {
          for (let c = 0; c < C; c++) batch.targetValues![(t * B + b) * C + c] = tg[t * C + c];
          batch.targetMask![t * B + b] = 1;
        }
      }
    } else if (d.labels) {
      const at = final ? b : (len - 1) * B + b;
      const l = d.labels[i];
      if (ce) batch.targets![at] = l as number;
      else {
        for (let c = 0; c < C; c++) batch.targetValues![at * C + c] = (l as NumberArray)[c];
        batch.targetMask![at] = 1;
      }
    }
    if (K > 0) for (let k = 0; k < K; k++) batch.condition![b * K + k] = d.conditions![i][k];
  });
  if (padded) batch.lengths = lengths;
  if (spec.encoder) batch.source = packSource(spec.encoder.input, set.data.sources!, set.sourceLengths!, indices);
  return batch;
}

/** Time-major, padded source sequences for the encoder. */
function packSource(input: ModelSpec['input'], sources: NumberArray[], lens: Int32Array, indices: number[]): SourceBatch {
  const B = indices.length;
  let T = 0;
  for (const i of indices) T = Math.max(T, lens[i]);
  const I = input.kind === 'dense' ? input.size : 1;
  const src: SourceBatch = { steps: T };
  const lengths = new Int32Array(B);
  let padded = false;
  if (input.kind === 'dense') src.x = new Float32Array(T * B * I);
  else src.tokens = new Int32Array(T * B);
  indices.forEach((i, b) => {
    lengths[b] = lens[i];
    if (lens[i] < T) padded = true;
    const s = sources[i];
    for (let t = 0; t < lens[i]; t++) {
      if (src.x) for (let k = 0; k < I; k++) src.x[(t * B + b) * I + k] = s[t * I + k];
      else src.tokens![t * B + b] = s[t];
    }
  });
  if (padded) src.lengths = lengths;
  return src;
}

/**
 * The window [start, start + steps) of a packed batch (truncated BPTT). Per-sequence
 * lengths become clamp(length − start, 0, steps); a sequence that has ended has length 0
 * there (state held, no output, no loss).
 */
export function sliceWindow(spec: ModelSpec, batch: TrainBatch, start: number, steps: number): TrainBatch {
  const B = batch.batch;
  const r0 = start * B;
  const r1 = (start + steps) * B;
  const I = spec.input.kind === 'dense' ? spec.input.size : 0;
  const C = spec.outputs;
  // The encoder runs once, in the first window; later windows continue from the carried state.
  const w: TrainBatch = { steps, batch: B, condition: batch.condition, source: start === 0 ? batch.source : undefined };
  if (batch.tokens) w.tokens = batch.tokens.slice(r0, r1);
  if (batch.x) w.x = batch.x.slice(r0 * I, r1 * I);
  if (spec.readout === 'final_state') {
    // One target per sequence, read after the last window only.
    if (start + steps >= batch.steps) {
      w.targets = batch.targets;
      w.targetValues = batch.targetValues;
      w.targetMask = batch.targetMask;
    }
    if (batch.lengths) w.lengths = batch.lengths.map((l) => Math.max(0, Math.min(steps, l - start)));
    return w;
  }
  if (batch.targets) w.targets = batch.targets.slice(r0, r1);
  if (batch.targetValues) w.targetValues = batch.targetValues.slice(r0 * C, r1 * C);
  if (batch.targetMask) w.targetMask = batch.targetMask.slice(r0, r1);
  if (batch.lengths) w.lengths = batch.lengths.map((l) => Math.max(0, Math.min(steps, l - start)));
  return w;
}

/** Positions of a batch that count in the loss (valid and with a target). */
export function countedPositions(spec: ModelSpec, batch: TrainBatch): number {
  const B = batch.batch;
  let n = 0;
  if (spec.readout === 'final_state') {
    for (let b = 0; b < B; b++) {
      if (spec.loss.kind === 'cross_entropy') {
        if (batch.targets && batch.targets[b] !== spec.loss.ignoreIndex) n++;
      } else if (batch.targetMask && batch.targetMask[b] === 1) n++;
    }
    return n;
  }
  for (let t = 0; t < batch.steps; t++) {
    for (let b = 0; b < B; b++) {
      if (batch.lengths && t >= batch.lengths[b]) continue;
      const p = t * B + b;
      if (spec.loss.kind === 'cross_entropy') {
        if (batch.targets && batch.targets[p] !== spec.loss.ignoreIndex) n++;
      } else if (batch.targetMask && batch.targetMask[p] === 1) n++;
    }
  }
  return n;
}

/** Valid (non-padding) positions of a batch: the tokens it processes. */
export function validPositions(batch: TrainBatch): number {
  if (!batch.lengths) return batch.steps * batch.batch;
  let n = 0;
  for (const l of batch.lengths) n += l;
  return n;
}
