/**
 * RnnModel: input layer → recurrent stack → dense head → loss, with fit / evaluate /
 * predict / generate / save / load. The whole training window runs in one backend call
 * (`TrainingBackend.trainStep`); this class only validates, batches and reports.
 */
import type { BackendName, CellType } from '../backend/contract.js';
import { CELL_TYPES } from '../backend/contract.js';
import { defaultTraining } from '../backend/load.js';
import type { InputSpec, ModelHandle, ModelSpec, TrainingBackend } from '../backend/contract.js';
import { hasCellState, modelLayout } from '../backend/layout.js';
import { initModelParams } from '../init/initializers.js';
import type { ModelInitOptions } from '../init/initializers.js';
import { Random } from '../init/random.js';
import { checkBoolean, checkFloat32, checkInteger, copyFloat32, describe, checkIntegerIn, checkKnownKeys, checkLayers, checkNumber, checkOneOf, checkWidth, keysOf } from '../validate.js';
import type { Tensor } from '../io/safetensors.js';
import { paramsFromTensors } from '../io/state-dict.js';
import { encodeModel } from '../io/model-bytes.js';
import { checkDataset, packBatch } from './data.js';
import type { CheckedDataset, Dataset, NumberArray } from './data.js';
import { fitModel, type EvalMetrics, type FitHost, type FitOptions, type FitResult } from './fit.js';
import { createMetrics } from './metrics.js';
import { checkSamplingOptions, pickToken } from '../text/sampling.js';
import { GenerationSession, type SessionOptions } from './session.js';
import type { WordVectors } from '../text/vectors.js';
import { CallLock } from '../call-lock.js';
import { checkInputSpec, checkModelSpec } from './spec.js';
import { requireNode } from './node-only.js';

/** Options of {@link createModel}. */
export interface ModelOptions {
  /** How each step's input arrives: token ids (embedding or one-hot) or real vectors. */
  input: InputSpec;
  cell: CellType;
  hiddenSize: number;
  /** Stacked recurrent layers (default 1). */
  layers?: number;
  /** Bidirectional layers (default false). */
  bidirectional?: boolean;
  /** Jordan cells only: width of the fed-back output (default hiddenSize). */
  outputSize?: number;
  /** Width of a vector v that enters every step (one-to-many generation); default 0. */
  conditionSize?: number;
  /**
   * Encoder–decoder (seq2seq): an encoder with its own input reads `Dataset.sources`, and
   * its final state starts the decoder (this model's stack). The encoder's stack has the
   * decoder's sizes, layers and directions; its cell defaults to the decoder's.
   */
  encoder?: { input: InputSpec; cell?: CellType };
  /** Width of the dense head: classes for cross-entropy, values per step for MSE. */
  outputs: number;
  /** 'cross_entropy' (default) or 'mse'. */
  loss?: 'cross_entropy' | 'mse';
  /** Cross-entropy: target id that marks a step without a target (default -100). */
  ignoreIndex?: number;
  /**
   * Dropout in training (off in evaluate/predict): on the input layer's output and on the
   * output of every recurrent layer but the last. Probabilities in [0, 1); default none.
   */
  dropout?: { input?: number; between?: number };
  /**
   * 'steps' (default): the head reads every step's output. 'final_state': it reads the
   * top layer's final states once per sequence (many-to-one from the last state; data
   * gives `labels`).
   */
  readout?: 'steps' | 'final_state';
  /** Initialisation (seed, initialisers); the same options give the same model. */
  init?: ModelInitOptions;
  /** Backend (default: the fastest that trains; RNNKIT_BACKEND forces one). */
  backend?: BackendName;
}

/** The most tokens one {@link RnnModel.generate} call makes (use a session's `sample` to stream more), and the longest {@link RnnModel.forecast} horizon. */
export const MAX_GENERATE_STEPS = 1_000_000;
/** fit's per-epoch validation keeps per-class figures up to this many classes (EpochResult.validation). */
const FIT_PER_CLASS_MAX = 256;

/** Options of {@link RnnModel.generate}. */
export interface GenerateOptions {
  /** Tokens fed first (at least one). */
  start: NumberArray;
  /** Tokens to generate after the start. */
  steps: number;
  /** The conditioning vector, for models with one. */
  condition?: NumberArray;
  /** 0 (default): greedy arg-max; > 0: sample from softmax(logits / temperature). */
  temperature?: number;
  /** With temperature > 0: sample among the k most likely tokens only (default 0: all). */
  topK?: number;
  /** Seed of the sampling (default 0). */
  seed?: number;
  /** Seq2seq models: the source sequence the encoder reads first. */
  source?: NumberArray;
  /** Stop after emitting this token (it is included in the result). */
  stopToken?: number;
  /** With temperature > 0: nucleus sampling among the most likely tokens summing to ≥ topP (default 1: all). */
  topP?: number;
  /** Token ids never generated. */
  bannedTokens?: number[];
  /** CTRL repetition penalty (≥ 1, default 1: none) on the tokens generated so far. */
  repetitionPenalty?: number;
}

const GENERATE_OPTION_KEYS = keysOf<GenerateOptions>({
  start: true, steps: true, condition: true, temperature: true, topK: true, seed: true, source: true, stopToken: true,
  topP: true, bannedTokens: true, repetitionPenalty: true,
});
const MODEL_OPTION_KEYS = keysOf<ModelOptions>({
  input: true, cell: true, hiddenSize: true, layers: true, bidirectional: true, outputSize: true, conditionSize: true,
  encoder: true, outputs: true, loss: true, ignoreIndex: true, dropout: true, readout: true, init: true, backend: true,
});

/** Build a ModelSpec from user options (validated). */
export function resolveModelSpec(options: ModelOptions): ModelSpec {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object with input, cell, hiddenSize and outputs');
  checkKnownKeys('', options, MODEL_OPTION_KEYS);
  const input = checkInputSpec('input', options.input);
  const conditionSize = checkWidth('conditionSize', options.conditionSize ?? 0, 0);
  const width = input.kind === 'embedding' ? input.dim : input.kind === 'onehot' ? input.vocab : input.size;
  const loss = checkOneOf('loss', options.loss ?? 'cross_entropy', ['cross_entropy', 'mse'] as const);
  const cell = checkOneOf('cell', options.cell, CELL_TYPES);
  let encoder: unknown;
  if (options.encoder !== undefined) {
    if (typeof options.encoder !== 'object' || options.encoder === null) throw new TypeError('encoder must be an object { input, cell? }');
    checkKnownKeys('encoder', options.encoder, ['input', 'cell']);
    const encInput = checkInputSpec('encoder.input', options.encoder.input);
    const encCell = checkOneOf('encoder.cell', options.encoder.cell ?? cell, CELL_TYPES);
    // Named as written here; checkModelSpec says it again for config files.
    if (hasCellState(encCell) !== hasCellState(cell)) throw new RangeError(`encoder.cell ${encCell} and cell ${cell} must both have a cell state or both not`);
    encoder = {
      input: encInput,
      stack: {
        cell: encCell,
        inputSize: encInput.kind === 'embedding' ? encInput.dim : encInput.kind === 'onehot' ? encInput.vocab : encInput.size,
        hiddenSize: options.hiddenSize,
        outputSize: options.outputSize ?? options.hiddenSize,
        layers: options.layers ?? 1,
        bidirectional: options.bidirectional ?? false,
      },
    };
  }
  return checkModelSpec('options', {
    encoder,
    dropout: options.dropout,
    readout: options.readout,
    input,
    conditionSize,
    stack: {
      cell,
      inputSize: width + conditionSize,
      hiddenSize: checkWidth('hiddenSize', options.hiddenSize),
      outputSize: options.outputSize ?? options.hiddenSize,
      layers: checkLayers('layers', options.layers ?? 1),
      bidirectional: options.bidirectional ?? false,
    },
    outputs: checkWidth('outputs', options.outputs),
    loss: loss === 'mse' ? { kind: 'mse' } : { kind: 'cross_entropy', ignoreIndex: options.ignoreIndex ?? -100 },
  });
}

/** A model directory: a non-empty path ('' would silently mean the working directory). */
function checkDirectory(dir: unknown): void {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`dir must be a directory path; got ${dir === '' ? 'an empty string' : typeof dir}`);
}

/** Create a model, initialised from `options.init` (PyTorch's defaults, seed 0). */
export async function createModel(options: ModelOptions): Promise<RnnModel> {
  const spec = resolveModelSpec(options);
  const params = initModelParams(spec, options.init ?? {});
  return new RnnModel(await defaultTraining(options.backend), spec, params);
}

/** Options of {@link RnnModel.evaluate}. */
export interface EvaluateOptions {
  /** Sequences per batch (default 32; 1 with `stream`). */
  batchSize?: number;
  /** The sequences are consecutive chunks of one stream: carry the state across them, in order. */
  stream?: boolean;
  /** Cross-entropy: also return the confusion matrix (rows: true class, columns: predicted). */
  confusion?: boolean;
}

export type { EarlyStoppingOptions, EpochResult, FitOptions, FitProgress, FitResult } from './fit.js';
export type { EvalMetrics };

/** A recurrent model living in a backend. */
export class RnnModel {
  private handle: ModelHandle | null;
  /** The optimizer settings last applied (fit keeps the optimizer's state while they stay the same). */
  private appliedOptimizer: string | undefined;
  /** One call at a time (call-lock.ts): fit holds the model until it settles. */
  private readonly lock = new CallLock('this RnnModel');
  private extraSettings: Record<string, unknown> = {};

  /** Extra settings saved in config.json (e.g. a tokenizer): a plain object. */
  get extra(): Record<string, unknown> {
    return this.extraSettings;
  }

  set extra(value: Record<string, unknown>) {
    // Anything else was saved as {} without a word (a string, null, an array).
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TypeError(`extra must be a plain object (saved as config.json's extra); got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    }
    this.extraSettings = value;
  }

  /** Use {@link createModel} or {@link RnnModel.load}. */
  constructor(
    private readonly training: TrainingBackend,
    /** The model's complete description. */
    readonly spec: ModelSpec,
    params: Float32Array,
  ) {
    this.handle = training.createModel(spec);
    training.setParams(this.handle, params);
  }

  /** Load a model directory written by {@link RnnModel.save}. */
  static async load(dir: string, options: { backend?: BackendName } = {}): Promise<RnnModel> {
    checkDirectory(dir);
    requireNode('RnnModel.load(dir)', 'use loadModel');
    // Imported on use, so that this module also loads in browsers (no node:fs there).
    const { loadModelFiles } = await import('../io/model-file.js');
    const loaded = await loadModelFiles(dir);
    const model = new RnnModel(await defaultTraining(options.backend), loaded.spec, loaded.params);
    model.extra = loaded.extra;
    return model;
  }

  /** Which backend it runs on. */
  get backend(): BackendName {
    return this.training.name;
  }

  /**
   * Save `model.safetensors` and `config.json` into `dir`, both made current by one atomic
   * rename: a load sees this save or the previous one, never parts of both (io/atomic-dir.ts).
   */
  async save(dir: string): Promise<void> {
    checkDirectory(dir);
    requireNode('model.save(dir)', 'use modelToBlob');
    // Encoded at once, before any await: between two steps of a fit it is that step's model,
    // while a step computes it is refused (under the name the caller used), and a change of
    // `extra` after the call is not saved.
    const bytes = this.lock.read('save', () => encodeModel(this.spec, this.training.getParams(this.live()), this.extra));
    const { saveModelBytes } = await import('../io/model-file.js');
    await saveModelBytes(dir, bytes);
  }

  /** A copy of every parameter in `modelLayout(spec)` order. */
  getParams(): Float32Array {
    return this.lock.read('getParams', () => this.training.getParams(this.live()));
  }

  /** Replace every parameter (`modelLayout(spec)` order, finite values). */
  setParams(flat: Float32Array): void {
    const total = modelLayout(this.spec).total;
    this.lock.write('setParams', () => this.training.setParams(this.live(), checkFloat32('flat', flat, total, `[${total}]`)));
  }

  /**
   * Every parameter by its PyTorch `state_dict` name (`embedding.weight`, `rnn.weight_ih_l0`,
   * `head.weight`, …; `encoder.` first for seq2seq), as tensors with shapes.
   */
  stateDict(): Tensor[] {
    const flat = this.getParams();
    return modelLayout(this.spec).entries.map((e) => ({ name: e.name, shape: e.shape.slice(), data: flat.slice(e.offset, e.offset + e.size) }));
  }

  /**
   * Replace every parameter from named tensors — e.g. a PyTorch model's `state_dict` with
   * the same module names (`embedding`, `rnn`, `head`). Names and shapes must match exactly.
   */
  loadStateDict(tensors: Tensor[], source = 'state dict'): void {
    if (!Array.isArray(tensors)) throw new TypeError(`tensors must be an array of { name, shape, data }; got ${tensors === null ? 'null' : typeof tensors}`);
    tensors.forEach((t, i) => {
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string' || !Array.isArray(t.shape) || !ArrayBuffer.isView(t.data)) {
        throw new TypeError(`tensors[${i}] must be an object { name: string, shape: number[], data: Float32Array }`);
      }
    });
    this.setParams(paramsFromTensors(this.spec, tensors, source));
  }

  /**
   * Put pretrained word vectors (from `wordVectorsFor`) into the embedding table: the rows
   * of the words found; the others keep their values. `embedding` chooses the table of a
   * seq2seq model's encoder ('encoder.embedding') instead of the decoder's. Returns how many
   * rows were set.
   */
  loadWordVectors(vectors: WordVectors, options: { embedding?: 'embedding' | 'encoder.embedding' } = {}): number {
    return this.lock.write('loadWordVectors', () => {
      if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object { embedding? }; got ${options === null ? 'null' : typeof options}`);
      checkKnownKeys('', options, ['embedding']);
      const part = checkOneOf('embedding', options.embedding ?? 'embedding', ['embedding', 'encoder.embedding'] as const);
      const entry = modelLayout(this.spec).entries.find((e) => e.name === `${part}.weight`);
      if (!entry) throw new TypeError(`this model has no ${part} (its input is not an embedding)`);
      const [vocab, dim] = entry.shape;
      if (vectors === null || typeof vectors !== 'object') throw new TypeError('vectors must be what wordVectorsFor returns: { dim, weights, found, missing }');
      if (vectors.dim !== dim) throw new RangeError(`the vectors have dim ${vectors.dim}; ${part} has dim ${dim}`);
      // Checked as any input is (the rows of tokens not found are NaN, so finiteness is per
      // row below): ids out of range, fractional or strings wrote rows out of place.
      const weights = copyFloat32('vectors.weights', vectors.weights, vocab * dim, `[vocab ${vocab}][dim ${dim}]`);
      const found: unknown = vectors.found;
      if (!Array.isArray(found)) throw new TypeError('vectors.found must be an array of token ids');
      const flat = this.training.getParams(this.live());
      found.forEach((id: unknown, k) => {
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`vectors.found[${k}] must be a token id in [0, ${vocab}); got ${describe(id)}`);
        const row = weights.subarray(id * dim, (id + 1) * dim);
        if (!row.every(Number.isFinite)) throw new RangeError(`vectors.weights row ${id} is not finite`);
        flat.set(row, entry.offset + id * dim);
      });
      this.training.setParams(this.live(), flat);
      return found.length;
    });
  }

  /**
   * Write the weights alone (PyTorch names), atomically: in torch.save's format for a `.pt`
   * or `.pth` name (`torch.load` reads it), else as safetensors.
   */
  async saveWeights(file: string): Promise<void> {
    requireNode('model.saveWeights(file)', 'use encodeSafetensors(model.stateDict())');
    const tensors = this.stateDict();
    const { saveTensorFile } = await import('../io/tensor-file.js');
    await saveTensorFile(file, tensors, { format: 'pt' });
  }

  /**
   * Read weights saved by `saveWeights` or by PyTorch: `torch.save(model.state_dict(), path)`
   * or `safetensors.torch.save_file(model.state_dict(), path)` (told apart by their bytes).
   */
  async loadWeights(file: string): Promise<void> {
    requireNode('model.loadWeights(file)', 'use loadStateDict');
    const { loadTensorFile } = await import('../io/tensor-file.js');
    this.loadStateDict((await loadTensorFile(file)).tensors, file);
  }

  /** Train on `data`. */
  fit(data: Dataset, options: FitOptions = {}): Promise<FitResult> {
    return this.lock.run('fit', () => {
      const handle = this.live();
      const host: FitHost = {
        spec: this.spec, training: this.training, handle, lock: this.lock,
        appliedOptimizer: this.appliedOptimizer, extra: this.extra,
        evaluate: (set, batchSize, stream) => this.evaluateChecked(set, { batchSize, stream, confusion: false, perClass: this.spec.outputs <= FIT_PER_CLASS_MAX }),
      };
      return fitModel(host, data, options).finally(() => {
        this.appliedOptimizer = host.appliedOptimizer;
      });
    });
  }

  /**
   * Metrics over `data`: the loss, and by the loss accuracy, perplexity, bits per token and
   * per-class precision / recall / F1 (cross-entropy; a confusion matrix with
   * `confusion: true`) or MSE, MAE and RMSE. With `stream: true` the sequences are
   * consecutive chunks of one stream, read in order with the state carried from each to
   * the next (as `nextTokenDataset` cuts a text): a language model's held-out figure is
   * then the same as over the stream in one piece.
   */
  evaluate(data: Dataset, options: EvaluateOptions = {}): Promise<EvalMetrics> {
    return this.lock.run('evaluate', async () => {
      if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
      checkKnownKeys('', options, keysOf<EvaluateOptions>({ batchSize: true, stream: true, confusion: true }));
      const set = checkDataset('data', data, this.spec, true);
      const stream = checkBoolean('stream', options.stream ?? false);
      if (stream && (this.spec.stack.bidirectional || this.spec.encoder)) throw new TypeError('stream evaluation needs a unidirectional model without an encoder');
      return this.evaluateChecked(set, {
        batchSize: stream ? 1 : checkInteger('batchSize', options.batchSize ?? 32, 1),
        stream,
        confusion: checkBoolean('confusion', options.confusion ?? false),
        perClass: true,
      });
    });
  }

  private async evaluateChecked(set: CheckedDataset, how: { batchSize: number; stream: boolean; confusion: boolean; perClass: boolean }): Promise<EvalMetrics> {
    const handle = this.live();
    const metrics = createMetrics(this.spec, { confusion: how.confusion, perClass: how.perClass });
    let state: { h0?: Float32Array; c0?: Float32Array } = {};
    for (let first = 0; first < set.size; first += how.batchSize) {
      const idx = Array.from({ length: Math.min(how.batchSize, set.size - first) }, (_, k) => first + k);
      const batch = { ...packBatch(this.spec, set, idx), ...state };
      const r = await this.lock.compute(this.training.evaluate(handle, batch));
      metrics.addEvaluation(batch, r);
      if (how.stream) state = { h0: r.hn, c0: r.cn };
    }
    return metrics.result();
  }

  /**
   * Head outputs for every sequence (logits for cross-entropy), unpadded: per sequence a
   * Float32Array [len·outputs], or [outputs] at its last step with `lastStep: true`
   * (always [outputs] for readout 'final_state').
   */
  predict(data: Pick<Dataset, 'inputs' | 'conditions' | 'sources'>, options: { batchSize?: number; lastStep?: boolean } = {}): Promise<Float32Array[]> {
    return this.lock.run('predict', () => this.predictLocked(data, options ?? {}));
  }

  private async predictLocked(data: Pick<Dataset, 'inputs' | 'conditions' | 'sources'>, options: { batchSize?: number; lastStep?: boolean }): Promise<Float32Array[]> {
    const handle = this.live();
    if (typeof options !== 'object') throw new TypeError(`options must be an object { batchSize?, lastStep? }; got ${typeof options}`);
    checkKnownKeys('', options, ['batchSize', 'lastStep']);
    const set = checkDataset('data', { inputs: data?.inputs, conditions: data?.conditions, sources: data?.sources }, this.spec, false);
    const batchSize = checkInteger('batchSize', options.batchSize ?? 32, 1);
    const C = this.spec.outputs;
    const out: Float32Array[] = [];
    for (let first = 0; first < set.size; first += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, set.size - first) }, (_, k) => first + k);
      const batch = packBatch(this.spec, set, idx);
      const r = await this.lock.compute(this.training.evaluate(handle, batch));
      const B = batch.batch;
      idx.forEach((i, b) => {
        if (this.spec.readout === 'final_state') {
          out.push(r.outputs.slice(b * C, (b + 1) * C));
          return;
        }
        const len = set.lengths[i];
        const from = options.lastStep ? len - 1 : 0;
        const seq = new Float32Array((len - from) * C);
        for (let t = from; t < len; t++) seq.set(r.outputs.subarray((t * B + b) * C, (t * B + b + 1) * C), (t - from) * C);
        out.push(seq);
      });
    }
    return out;
  }

  /**
   * Generate tokens one at a time, feeding each back as the next input (token models,
   * unidirectional stacks): greedy by default, sampled with a temperature > 0.
   */
  generate(options: GenerateOptions): number[] {
    return this.lock.read('generate', () => this.generateLocked(options));
  }

  private generateLocked(options: GenerateOptions): number[] {
    this.live();
    if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object { start, steps, ... }; got ${options === null ? 'null' : typeof options}`);
    checkKnownKeys('', options, GENERATE_OPTION_KEYS);
    const spec = this.spec;
    if (spec.input.kind === 'dense') throw new TypeError('generate needs a token input (embedding or onehot); use forecast for dense input');
    if (spec.loss.kind !== 'cross_entropy' || spec.readout === 'final_state') throw new TypeError('generate needs a cross-entropy head that reads every step');
    if (spec.stack.bidirectional) throw new RangeError('generate needs a unidirectional stack');
    if (spec.outputs > spec.input.vocab) throw new RangeError(`generate feeds outputs back as tokens, so outputs (${spec.outputs}) must be ≤ vocab (${spec.input.vocab})`);
    // generate returns its tokens as one array, synchronously: a bound keeps an absurd request
    // from blocking the thread for hours (a session's sample() streams without one).
    const steps = checkIntegerIn('steps', options.steps, 0, MAX_GENERATE_STEPS);
    const temperature = checkNumber('temperature', options.temperature ?? 0, 0, Infinity);
    const topK = checkInteger('topK', options.topK ?? 0, 0);
    const set = namedAs(
      { 'generate.inputs[0]': 'start', 'generate.conditions[0]': 'condition', 'generate.conditions': 'condition', 'generate.sources[0]': 'source', 'generate.sources': 'source', generate: 'options' },
      () => checkDataset('generate', {
        inputs: [options.start], conditions: options.condition ? [options.condition] : undefined, sources: options.source ? [options.source] : undefined,
      }, spec, false),
    );
    const stopToken = options.stopToken === undefined ? undefined : checkIntegerIn('stopToken', options.stopToken, 0, spec.outputs - 1);
    const sampling = checkSamplingOptions({ temperature, topK, topP: options.topP, bannedTokens: options.bannedTokens, repetitionPenalty: options.repetitionPenalty }, spec.outputs);
    const rng = new Random(options.seed ?? 0);
    const out: number[] = [];
    const seen = new Set<number>();  // the repetition penalty's history
    if (steps === 0) return out;
    // One backend call for the start, then one per token, the state staying in the backend.
    const session = this.newSession({
      batch: 1,
      condition: set.data.conditions ? [set.data.conditions[0]] : undefined,
      source: set.data.sources ? [set.data.sources[0]] : undefined,
    });
    try {
      let logits = session.primeSync([set.data.inputs[0]]);
      for (let k = 0; k < steps; k++) {
        const token = pickToken(logits, sampling, rng, seen);
        out.push(token);
        seen.add(token);
        if (k === steps - 1 || token === stopToken) break;
        logits = session.stepSync([token]);
      }
    } finally {
      session.dispose();
    }
    return out;
  }

  /**
   * A generation session (./session.ts): `batch` samples whose recurrent state stays in the
   * backend between calls — `prime` prompts, `step` tokens, `sample` with temperature,
   * top-k, top-p, banned tokens, repetition penalty and stop tokens, one backend call per
   * generated token. Token models with a unidirectional stack reading every step. It uses
   * this model (one call at a time) and refuses every call once the model is disposed.
   */
  createSession(options: SessionOptions = {}): GenerationSession {
    return this.lock.write('createSession', () => this.newSession(options));
  }

  private newSession(options: SessionOptions): GenerationSession {
    return new GenerationSession({ spec: this.spec, training: this.training, lock: this.lock, live: () => this.live() }, options);
  }

  /**
   * Forecast `horizon` steps of a real-valued series (dense input, MSE head with
   * outputs = input size): the model reads `history` [len·size], then each prediction is
   * fed back as the next input. Returns [horizon·size].
   */
  forecast(history: NumberArray, horizon: number): Float32Array {
    return this.lock.read('forecast', () => this.forecastLocked(history, horizon));
  }

  private forecastLocked(history: NumberArray, horizon: number): Float32Array {
    const handle = this.live();
    const spec = this.spec;
    if (spec.input.kind !== 'dense' || spec.loss.kind !== 'mse' || spec.outputs !== spec.input.size || spec.conditionSize > 0 || spec.encoder || spec.readout === 'final_state') {
      throw new TypeError('forecast needs a dense-input MSE model whose outputs equal its input size, without a conditioning vector or encoder');
    }
    if (spec.stack.bidirectional) throw new RangeError('forecast needs a unidirectional stack');
    // Synchronous, like generate, and bounded the same way (a session streams more).
    const H = checkIntegerIn('horizon', horizon, 1, MAX_GENERATE_STEPS);
    const set = checkDataset('history', { inputs: [history] }, spec, false);
    const I = spec.input.size;
    let r = this.training.evaluateSync(handle, packBatch(spec, set, [0]));
    const out = new Float32Array(H * I);
    for (let k = 0; k < H; k++) {
      const T = r.outputs.length / I;
      const next = r.outputs.slice((T - 1) * I, T * I);
      out.set(next, k * I);
      if (k === H - 1) break;
      r = this.training.evaluateSync(handle, { steps: 1, batch: 1, x: next, h0: r.hn, c0: r.cn });
    }
    return out;
  }

  /**
   * Free the backend memory; any later use is an error. Refused (ERR_RNNKIT_BUSY, the
   * model still usable) while a call is running.
   */
  dispose(): void {
    this.lock.write('dispose', () => {
      if (this.handle) this.training.disposeModel(this.handle);
      this.handle = null;
    });
  }

  private live(): ModelHandle {
    if (!this.handle) throw new Error('this RnnModel has been disposed');
    return this.handle;
  }
}

/**
 * Runs `check`, rewriting the names in its error from the dataset checker's (the dataset a
 * call builds from its options) to the option names the caller wrote: `names` maps each
 * generated prefix to the user's, longest first.
 */
function namedAs<T>(names: Record<string, string>, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const keys = Object.keys(names).sort((a, b) => b.length - a.length);
    const pattern = new RegExp(keys.map((k) => k.replace(/[.[\]]/g, '\\$&')).join('|'), 'g');
    e.message = e.message.replace(pattern, (m) => names[m]);
    throw e;
  }
}
