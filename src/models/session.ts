/**
 * GenerationSession: token-by-token generation with the recurrent state kept in the
 * backend (TrainingBackend sessions, rk_session_* of rnnkit.h). Each call crosses the
 * boundary once: `prime` runs whole prompts (one per sample, lengths may differ), `step`
 * one token per sample, and `sample` draws one token per sample per backend call, with
 * temperature, top-k, top-p, banned tokens, a repetition penalty, stop tokens and a
 * maximum length (src/text/sampling.ts, in TypeScript on the returned logits: the same
 * seed gives the same tokens on every backend).
 *
 * Native steps run off the event loop; wasm and reference steps run synchronously inside
 * the promise. A session uses its model's CallLock: one call at a time on the model
 * (ERR_RNNKIT_BUSY otherwise, also while a `sample` generator of the session is active),
 * and it refuses every call once the model is disposed.
 */
import type { ModelHandle, ModelSpec, SessionHandle, SessionInputs, SessionState, SourceBatch, TrainingBackend } from '../backend/contract.js';
import { BusyError, type CallLock } from '../call-lock.js';
import { EventLoopPacer } from '../event-loop.js';
import { Random } from '../init/random.js';
import { checkSamplingOptions, pickToken, SAMPLING_OPTION_KEYS, type SamplingOptions } from '../text/sampling.js';
import { checkCount, checkElements, checkFloat32, checkInteger, checkIntegerIn, checkKnownKeys, detachedNote, keysOf } from '../validate.js';
import { checkDataset, packBatch, type NumberArray } from './data.js';

/** Options of `RnnModel.createSession`. */
export interface SessionOptions {
  /** Samples generated side by side (default: the number of conditions / sources given, else 1). */
  batch?: number;
  /** Models with a conditioning vector: one vector [conditionSize] per sample. */
  condition?: NumberArray[];
  /** Seq2seq models: one source sequence per sample; the encoder reads it with the session's first call. */
  source?: NumberArray[];
}

/** Options of {@link GenerationSession.sample}. */
export interface SampleOptions extends SamplingOptions {
  /** Tokens generated per sample at most (≥ 1). */
  maxLength: number;
  /** A sample that emits one of these stops (the stop token is yielded). */
  stopTokens?: readonly number[];
  /** Seed of the sampling (default 0); one stream for all samples, drawn in sample order. */
  seed?: number;
}

const SAMPLE_OPTION_KEYS = [...SAMPLING_OPTION_KEYS, ...keysOf<Omit<SampleOptions, keyof SamplingOptions>>({ maxLength: true, stopTokens: true, seed: true })];

/** What a session needs of its model (RnnModel gives it). */
export interface SessionHost {
  readonly spec: ModelSpec;
  readonly training: TrainingBackend;
  readonly lock: CallLock;
  /** The model's live handle; throws once the model is disposed. */
  live(): ModelHandle;
}

export class GenerationSession {
  /** Samples generated side by side. */
  readonly batch: number;
  private handle: SessionHandle | null;
  /** [B][outputs]: each sample's logits after the last call (null before the first). */
  private logits: Float32Array | null = null;
  private readonly condition: Float32Array | undefined;
  /** Seq2seq: the source, sent with the first call (the encoder runs once). */
  private source: SourceBatch | undefined;
  private sampling = false;

  /** Use `RnnModel.createSession`. */
  constructor(
    private readonly host: SessionHost,
    options: SessionOptions = {},
  ) {
    const spec = host.spec;
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object { batch?, condition?, source? }');
    checkKnownKeys('options', options, keysOf<SessionOptions>({ batch: true, condition: true, source: true }));
    if (spec.input.kind === 'dense') throw new TypeError('a generation session needs a token input (embedding or onehot)');
    if (spec.readout === 'final_state') throw new TypeError("a generation session needs a head that reads every step (readout 'steps')");
    if (spec.stack.bidirectional) throw new RangeError('a generation session needs a unidirectional stack');
    const given = options.condition?.length ?? options.source?.length;
    // Bounded before anything is allocated: the logits [B][outputs] and the state
    // [L·D][B][S] of every sample must fit in arrays of RK_MAX_ELEMENTS.
    const B = checkCount('batch', options.batch ?? given ?? 1);
    checkElements('the logits', B * spec.outputs, `[B=${B}][outputs=${spec.outputs}]`);
    checkElements('the state', B * spec.stack.layers * Math.max(spec.stack.hiddenSize, spec.stack.outputSize), `[L=${spec.stack.layers}][B=${B}][H]`);
    if (spec.conditionSize > 0 || spec.encoder) {
      // One condition / source per sample, given: B is then bounded by what the caller holds.
      const need = (field: 'condition' | 'source', v: unknown, what: string) => {
        if (Array.isArray(v) && v.length === B) return;
        throw new RangeError(`options.${field} must hold one ${what} per sample (batch ${B}); got ${Array.isArray(v) ? v.length : v === null ? 'null' : typeof v}`);
      };
      if (spec.conditionSize > 0) need('condition', options.condition, 'vector');
      if (spec.encoder) need('source', options.source, 'sequence');
      // Checked and packed as a dataset of B one-token sequences (token 0 is always valid).
      const set = checkDataset('options', { inputs: Array.from({ length: B }, () => [0]), conditions: options.condition, sources: options.source }, spec, false);
      const packed = packBatch(spec, set, Array.from({ length: B }, (_, b) => b));
      this.condition = packed.condition;
      this.source = packed.source;
    } else if (options.condition !== undefined || options.source !== undefined) {
      throw new TypeError(`options.${options.condition !== undefined ? 'condition' : 'source'} given, but the model has no ${options.condition !== undefined ? 'conditioning vector' : 'encoder'}`);
    }
    this.batch = B;
    this.handle = host.training.createSession(host.live(), B);
  }

  /** Each sample's logits after the last call, [B][outputs] (a copy; null before the first call). */
  get lastLogits(): Float32Array | null {
    return this.logits ? this.logits.slice() : null;
  }

  /**
   * Feed one prompt per sample (each ≥ 1 token; lengths may differ) in ONE backend call,
   * continuing from the session's state. Resolves to each sample's logits after its
   * prompt, [B][outputs].
   */
  prime(prompts: NumberArray[]): Promise<Float32Array> {
    return this.run('prime', () => this.promptInputs(prompts));
  }

  /** Feed one token per sample (one backend call); resolves to the logits [B][outputs]. */
  step(tokens: NumberArray): Promise<Float32Array> {
    return this.run('step', () => this.tokenInputs(tokens));
  }

  /** {@link prime}, synchronously (generate uses it). */
  primeSync(prompts: NumberArray[]): Float32Array {
    return this.runSync('prime', () => this.promptInputs(prompts));
  }

  /** {@link step}, synchronously. */
  stepSync(tokens: NumberArray): Float32Array {
    return this.runSync('step', () => this.tokenInputs(tokens));
  }

  /** A copy of the recurrent state: h [L][B][S] and, for LSTM cells, c [L][B][H]. */
  getState(): SessionState {
    return this.host.lock.read('session.getState', () => this.host.training.sessionGetState(this.live()));
  }

  /** Replace the recurrent state (absent arrays: zeros); the logits stay those of the last call. */
  setState(state: Partial<SessionState>): void {
    this.idle('session.setState');
    // Only the session changes: refused while a computation runs on the model, like a read.
    this.host.lock.read('session.setState', () => {
      const want = this.host.training.sessionGetState(this.live());
      // checkFloat32 reads the array's own slots (a subclass's `length` getter made the wasm
      // and reference backends read past the data) and hands the backend a private copy.
      const check = (name: 'h' | 'c', v: unknown, n: number) => (v === undefined ? undefined : checkFloat32(`state.${name}`, v, n, '[layers·batch·size]'));
      const h = check('h', state?.h, want.h.length);
      const c = want.c ? check('c', state?.c, want.c.length) : undefined;
      this.host.training.sessionSetState(this.live(), { h, c });
    });
  }

  /**
   * Sample up to `maxLength` tokens per sample from the last logits (call `prime` first):
   * each iteration yields one token per sample — `-1` for a sample that has finished
   * (it emitted a stop token earlier) — and then, if any sample goes on, feeds the tokens
   * back in one backend call. Finished samples keep their state (length 0). Ends after
   * `maxLength` tokens or when every sample has finished. The session's state then
   * follows the last yielded tokens only up to the one before the last (the last tokens
   * are not fed); `step` them to continue.
   */
  async *sample(options: SampleOptions): AsyncGenerator<number[], void, undefined> {
    const spec = this.host.spec;
    if (spec.loss.kind !== 'cross_entropy') throw new TypeError('sample needs a cross-entropy head (its outputs are logits)');
    const vocab = spec.input.kind === 'dense' ? 0 : spec.input.vocab;
    if (spec.outputs > vocab) throw new RangeError(`sample feeds outputs back as tokens, so outputs (${spec.outputs}) must be ≤ vocab (${vocab})`);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object { maxLength, ... }');
    checkKnownKeys('', options, SAMPLE_OPTION_KEYS);
    const maxLength = checkIntegerIn('maxLength', options.maxLength, 1, Number.MAX_SAFE_INTEGER);
    const sampling = checkSamplingOptions(options, spec.outputs);
    const stops = new Set((options.stopTokens ?? []).map((t, i) => checkIntegerIn(`stopTokens[${i}]`, t, 0, spec.outputs - 1)));
    const rng = new Random(checkInteger('seed', options.seed ?? 0, 0));
    this.idle('sample');
    this.live();
    if (!this.logits) throw new Error('sample: the session has no logits yet; call prime (or step) first');
    const B = this.batch;
    const C = spec.outputs;
    this.sampling = true;
    try {
      const done = new Array<boolean>(B).fill(false);
      const history: Set<number>[] = Array.from({ length: B }, () => new Set());
      let logits = this.logits;
      const pacer = new EventLoopPacer();
      for (let n = 0; n < maxLength; n++) {
        const tokens = done.map((d, b) => {
          if (d) return -1;
          const t = pickToken(logits.subarray(b * C, (b + 1) * C), sampling, rng, history[b]);
          history[b].add(t);
          return t;
        });
        const stepLengths = done.map((d) => (d ? 0 : 1));
        tokens.forEach((t, b) => {
          if (t >= 0 && stops.has(t)) done[b] = true;
        });
        yield tokens.slice();
        if (n === maxLength - 1 || done.every(Boolean)) return;
        const lengths = stepLengths.every((l) => l === 1) ? undefined : Int32Array.from(stepLengths);
        logits = await this.run('sample', () => ({ steps: 1, batch: B, tokens: Int32Array.from(tokens, (t) => Math.max(t, 0)), lengths }), true);
        // Steps on the calling thread resolve at once: without a macrotask now and then, a
        // `for await` over sample() held a page (no rendering, no input) until the end.
        await pacer.tick();
      }
    } finally {
      this.sampling = false;
    }
  }

  /** Free the session (also after its model was disposed). Later calls throw. */
  dispose(): void {
    this.idle('session.dispose');
    if (!this.handle) return;
    this.host.lock.read('session.dispose', () => {
      this.host.training.disposeSession(this.handle!);
      this.handle = null;
    });
  }

  private live(): SessionHandle {
    this.host.live(); // "this RnnModel has been disposed"
    if (!this.handle) throw new Error('this GenerationSession has been disposed');
    return this.handle;
  }

  /** Refuse a call while a `sample` generator of this session is active. */
  private idle(op: string): void {
    if (this.sampling) throw new BusyError(`${op}: this GenerationSession is busy with sample(), which has not finished; finish or return() it first`);
  }

  private async run(op: string, inputs: () => SessionInputs, fromSample = false): Promise<Float32Array> {
    if (!fromSample) this.idle(op);
    return this.host.lock.run(`session.${op}`, async () => {
      const h = this.live();
      const r = await this.host.lock.compute(this.host.training.sessionStep(h, this.withFixed(inputs())));
      return this.took(r);
    });
  }

  private runSync(op: string, inputs: () => SessionInputs): Float32Array {
    this.idle(op);
    return this.host.lock.read(`session.${op}`, () => this.took(this.host.training.sessionStepSync(this.live(), this.withFixed(inputs()))));
  }

  /** The condition (every call) and the source (the first call only). */
  private withFixed(inputs: SessionInputs): SessionInputs {
    const out = { ...inputs, ...(this.condition ? { condition: this.condition } : {}), ...(this.source ? { source: this.source } : {}) };
    return out;
  }

  private took(logits: Float32Array): Float32Array {
    this.source = undefined; // the encoder has run
    this.logits = logits;
    return logits.slice();
  }

  private vocab(): number {
    const input = this.host.spec.input;
    return input.kind === 'dense' ? 0 : input.vocab;
  }

  private tokenInputs(tokens: NumberArray): SessionInputs {
    const B = this.batch;
    if (tokens === null || typeof tokens !== 'object' || tokens.length !== B) throw new RangeError(`tokens must hold one token id per sample (${B})`);
    const ids = new Int32Array(B);
    for (let b = 0; b < B; b++) ids[b] = checkIntegerIn(`tokens[${b}]`, tokens[b], 0, this.vocab() - 1);
    return { steps: 1, batch: B, tokens: ids };
  }

  private promptInputs(prompts: NumberArray[]): SessionInputs {
    const B = this.batch;
    if (!Array.isArray(prompts) || prompts.length !== B) throw new RangeError(`prompts must hold one prompt per sample (${B})`);
    const V = this.vocab();
    let T = 0;
    prompts.forEach((p, b) => {
      if (p === null || typeof p !== 'object' || typeof p.length !== 'number' || p.length < 1) throw new RangeError(`prompts[${b}] must hold at least one token id${detachedNote(p)}`);
      T = Math.max(T, p.length);
    });
    checkInteger('the longest prompt', T, 1);
    const tokens = new Int32Array(T * B);
    const lengths = new Int32Array(B);
    prompts.forEach((p, b) => {
      lengths[b] = p.length;
      for (let t = 0; t < p.length; t++) tokens[t * B + b] = checkIntegerIn(`prompts[${b}][${t}]`, p[t], 0, V - 1);
    });
    return { steps: T, batch: B, tokens, ...(lengths.every((l) => l === T) ? {} : { lengths }) };
  }
}
