/**
 * The training loop of {@link RnnModel.fit}: epochs of shuffled batches, each split into
 * truncated-BPTT windows with one backend training step per window; validation at each
 * epoch's end, early stopping with restore-best, callbacks that may be asynchronous, and
 * an abort that keeps what was done. The optimizer's state lives in the backend and
 * survives from one fit to the next (see {@link FitOptions.resetOptimizer}).
 */
import type { ModelHandle, ModelSpec, TrainingBackend } from '../backend/contract.js';
import { checkClip, checkLearningRate, checkOptimizer, type ClipSpec, type OptimizerSpec } from '../optim/optimizers.js';
import { Random } from '../init/random.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkNumber, inContext, keysOf } from '../validate.js';
import type { CallLock } from '../call-lock.js';
import { checkDataset, countedPositions, packBatch, sliceWindow, subsetDataset, validPositions, type CheckedDataset, type Dataset } from './data.js';
import { FitAbortedError, TrainingDivergedError } from './errors.js';
import type { EpochResult, EvalMetrics, FitOptions, FitResult } from './fit-types.js';
import { checkEarlyStopping, EarlyStopping } from './early-stopping.js';
import type { FitPosition } from '../io/checkpoint.js';
import { requireNode } from './node-only.js';
import { yieldToEventLoop } from '../event-loop.js';
import { raceAbort } from '../abort.js';

export type { EarlyStoppingOptions, EpochResult, EvalMetrics, FitOptions, FitProgress, FitResult } from './fit-types.js';

/** What the training loop needs of the model it trains. */
export interface FitHost {
  readonly spec: ModelSpec;
  readonly training: TrainingBackend;
  readonly handle: ModelHandle;
  readonly lock: CallLock;
  /** The optimizer settings last applied, so that the next fit can keep its state. */
  appliedOptimizer: string | undefined;
  /** The model's extra settings (its tokenizer), saved in checkpoints and restored from one. */
  extra: Record<string, unknown>;
  /** With `stream`, the sequences are consecutive chunks of one stream, read with the state carried. */
  evaluate(set: CheckedDataset, batchSize: number, stream: boolean): Promise<EvalMetrics>;
}

/**
 * Waits for what a callback returned, or for `signal` to abort, whichever comes first (a
 * callback whose promise never settled held the fit, and its model's lock, past an abort).
 * After an abort the loop's own check ends the fit (saving a checkpoint as ever).
 */
async function untilAborted(signal: AbortSignal | undefined, returned: unknown): Promise<void> {
  const thenable = returned !== null && typeof (returned as PromiseLike<unknown>)?.then === 'function';
  await (signal && thenable ? raceAbort(returned as PromiseLike<unknown>, signal, () => undefined) : returned);
}

function checkDirectory(name: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new TypeError(`${name} must be a directory path; got ${v === '' ? 'an empty string' : typeof v}`);
  return v;
}

function checkCheckpointOptions(v: unknown): { dir: string; everySteps?: number } | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) throw new TypeError(`checkpoint must be an object { dir, everySteps? }; got ${v === null ? 'null' : typeof v}`);
  checkKnownKeys('checkpoint', v, ['dir', 'everySteps']);
  const o = v as { dir?: unknown; everySteps?: unknown };
  return {
    dir: checkDirectory('checkpoint.dir', o.dir),
    ...(o.everySteps !== undefined ? { everySteps: checkInteger('checkpoint.everySteps', o.everySteps, 1) } : {}),
  };
}

/** Whether any target of `set` counts in the loss (for cross-entropy: is not the ignore index). */
function hasCountedTarget(set: CheckedDataset, spec: ModelSpec): boolean {
  if (spec.loss.kind !== 'cross_entropy') return true;
  const ignore = spec.loss.ignoreIndex;
  const { targets, labels } = set.data;
  if (labels) return labels.some((v) => v !== ignore);
  return (targets ?? []).some((t) => {
    for (let k = 0; k < t.length; k++) if (t[k] !== ignore) return true;
    return false;
  });
}

/** The optimizer settings that, when unchanged, let the backend's optimizer state carry on. */
function optimizerKey(optimizer: OptimizerSpec, clip: ClipSpec): string {
  return JSON.stringify({ ...optimizer, lr: undefined, clip });
}

const FIT_OPTION_KEYS = keysOf<FitOptions>({
  epochs: true, batchSize: true, window: true, optimizer: true, resetOptimizer: true, clip: true, learningRate: true,
  shuffle: true, seed: true, validationData: true, validationStream: true, validationSplit: true, earlyStopping: true,
  checkpoint: true, resume: true, signal: true, onProgress: true, onEpochEnd: true,
});

export async function fitModel(host: FitHost, data: Dataset, options: FitOptions): Promise<FitResult> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  checkKnownKeys('', options, FIT_OPTION_KEYS);
  const { spec, training, handle, lock } = host;
  let set = checkDataset('data', data, spec, true);
  if (options.validationSplit !== undefined && options.validationData !== undefined) {
    throw new TypeError('validationSplit and validationData cannot both be given');
  }
  let val = options.validationData !== undefined ? checkDataset('validationData', options.validationData, spec, true) : undefined;
  if (options.validationSplit !== undefined) {
    const f = checkNumber('validationSplit', options.validationSplit, 0, 1);
    const held = Math.round(set.size * f);
    if (f <= 0 || f >= 1 || held < 1 || held >= set.size) {
      throw new RangeError(`validationSplit must leave at least one sequence on each side (0 < validationSplit < 1 of ${set.size} sequences); got ${f}`);
    }
    val = subsetDataset(set, set.size - held, set.size);
    set = subsetDataset(set, 0, set.size - held);
  }
  const epochs = checkInteger('epochs', options.epochs ?? 1, 1);
  const batchSize = checkInteger('batchSize', options.batchSize ?? 32, 1);
  const maxLen = set.lengths.reduce((a, b) => Math.max(a, b), 0);
  const window = options.window === undefined ? maxLen : checkInteger('window', options.window, 1);
  if (window < maxLen && spec.stack.bidirectional) {
    throw new RangeError(`window (${window}) must cover the longest sequence (${maxLen}) for a bidirectional model: the reverse direction needs the steps after a window`);
  }
  const optimizer = checkOptimizer('optimizer', options.optimizer ?? { name: 'adam', lr: 1e-3 });
  const clip = checkClip('clip', options.clip);
  if (options.learningRate !== undefined && typeof options.learningRate !== 'function') throw new TypeError('learningRate must be a function (step, epoch) => number');
  if (!hasCountedTarget(set, spec)) {
    throw new RangeError(`data: every target is the ignore index (${(spec.loss as { ignoreIndex: number }).ignoreIndex}): no step would count in the loss, nothing to train on`);
  }
  for (const k of ['onProgress', 'onEpochEnd'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') throw new TypeError(`${k} must be a function`);
  }
  const stopping = checkEarlyStopping(options.earlyStopping, val !== undefined);
  const checkpoint = checkCheckpointOptions(options.checkpoint);
  if (checkpoint || options.resume !== undefined) {
    requireNode(checkpoint ? 'fit with checkpoint' : 'fit with resume', 'use modelToBlob');
  }
  if (checkpoint) {
    // Made and checked now: a directory that cannot be made, or holds entries checkpoints
    // would replace, fails before any training, not at the first checkpoint.
    const { prepareCheckpointDir } = await import('../io/checkpoint.js');
    await prepareCheckpointDir(checkpoint.dir).catch((e: Error) => {
      throw new Error(`checkpoint.dir: ${e.message}`, { cause: e });
    });
  }
  const resume = options.resume === undefined ? undefined : checkDirectory('resume', options.resume);
  const resetOptimizer = checkBoolean('resetOptimizer', options.resetOptimizer ?? false);
  const shuffle = checkBoolean('shuffle', options.shuffle ?? true);
  const validationStream = checkBoolean('validationStream', options.validationStream ?? false);
  if (validationStream && options.validationData === undefined) throw new TypeError('validationStream needs validationData (the chunks of one stream, in order)');
  if (validationStream && (spec.stack.bidirectional || spec.encoder)) throw new TypeError('validationStream needs a unidirectional model without an encoder');
  const signal = options.signal;

  const key = optimizerKey(optimizer, clip);
  if (resetOptimizer || key !== host.appliedOptimizer) {
    training.setOptimizer(handle, optimizer, clip);
    host.appliedOptimizer = key;
  } else {
    training.setLearningRate(handle, optimizer.lr);
  }

  let rng = new Random(options.seed ?? 0);
  let order = Array.from({ length: set.size }, (_, i) => i);
  const batches = Math.ceil(set.size / batchSize);
  const stepsPerEpoch = batches * Math.ceil(maxLen / window);
  const started = Date.now();
  let step = 0;
  let tokens = 0;
  let results: EpochResult[] = [];
  const partial = (): FitResult => ({ epochs: results.slice(), steps: step, elapsedMs: Date.now() - started });
  const stopper = stopping ? new EarlyStopping(stopping) : undefined;
  let stoppedEarly = false;
  // Where the loop starts: the beginning, or a checkpoint's position.
  let firstEpoch = 1;
  let resumeAt: { nextBatch: number; lossSum: number; counted: number; correct: number } | undefined;
  // Inside a batch: the next window's first step and the state carried into it.
  let resumeWindow: { start: number; h0?: Float32Array; c0?: Float32Array } | undefined;
  if (resume !== undefined) {
    const { readCheckpoint } = await import('../io/checkpoint.js');
    const ck = await readCheckpoint(resume);
    const differs = specDifference(ck.spec, spec);
    if (differs) throw new RangeError(`resume: the checkpoint in ${resume} is of another model (its ${differs})`);
    const p = ck.position;
    if (p.optimizerKey !== key) throw new RangeError(`resume: the checkpoint in ${resume} was trained with other optimizer or clipping settings`);
    if (p.order.length !== set.size) {
      throw new RangeError(`resume: the checkpoint in ${resume} was trained on ${p.order.length} sequences; this fit has ${set.size} (resume with the same data and validationSplit)`);
    }
    if (p.batchSize !== batchSize || p.window !== window) {
      throw new RangeError(`resume: the checkpoint in ${resume} was trained with batchSize ${p.batchSize} and window ${p.window}; this fit has ${batchSize} and ${window}`);
    }
    if (p.epoch === epochs + 1 && p.nextBatch === 0) {
      // Taken after the last epoch (the position is that of the next one).
      throw new RangeError(`resume: the checkpoint in ${resume} is of a completed fit (epochs ${epochs}): nothing is left to train (resume with more epochs to train further)`);
    }
    if (p.epoch > epochs) {
      throw new RangeError(`resume: the checkpoint in ${resume} was taken in epoch ${p.epoch}; this fit has epochs ${epochs} (resume with the same epochs, or more)`);
    }
    if (p.nextBatch > batches) throw new RangeError(`resume: ${resume}/fit.json: nextBatch ${p.nextBatch} is past the ${batches} batches of an epoch`);
    training.setParams(handle, ck.params);
    training.setOptimizer(handle, optimizer, clip);
    if (ck.optimizer) {
      try {
        training.setOptimizerState(handle, ck.optimizer);
      } catch (e) {
        throw inContext(`resume: the checkpoint in ${resume}`, e);
      }
    }
    Object.assign(host.extra, ck.extra);
    try {
      rng = Random.fromState(p.random);
    } catch (e) {
      throw new Error(`resume: the checkpoint in ${resume}: ${(e as Error).message}`);
    }
    if (stopper) {
      // The best epoch's parameters: saved beside the checkpoint, or the checkpoint's own
      // when it was taken at the end of that epoch.
      const atEndOf = p.nextBatch === 0 && (p.nextWindow ?? 0) === 0 ? p.epoch - 1 : undefined;
      const stoppedAt = stopper.replay(p.epochs, epochs, (e) => (ck.best?.epoch === e ? ck.best.params : e === atEndOf ? ck.params : undefined));
      if (stoppedAt !== undefined) {
        throw new RangeError(`resume: the checkpoint in ${resume} is of a fit that early stopping ended after epoch ${stoppedAt} (patience ${stopper.rule.patience}): nothing is left to train (resume with a larger patience to train further)`);
      }
    }
    order = p.order;
    step = p.step;
    tokens = p.tokens;
    results = p.epochs;
    firstEpoch = p.epoch;
    resumeAt = { nextBatch: p.nextBatch, lossSum: p.lossSum, counted: p.counted, correct: p.correct };
    if ((p.nextWindow ?? 0) > 0) {
      if (p.nextWindow! % window !== 0) throw new RangeError(`resume: ${resume}/fit.json: nextWindow ${p.nextWindow} is not a window boundary`);
      resumeWindow = { start: p.nextWindow!, h0: ck.carried?.h0, c0: ck.carried?.c0 };
    }
  }
  let checkpointedAt = step;
  // Rates and the ETA count this call's own work: a resumed run's earlier steps took time
  // that `started` does not include.
  const stepAtStart = step;
  const tokensAtStart = tokens;
  let lastStep = { epoch: firstEpoch, loss: NaN, totalNorm: NaN };
  // A finite step can still overflow the parameters (a huge learning rate), and later steps
  // need not show it in their loss — so what fit hands back, every checkpoint, and the
  // parameters of a divergence report are checked (O(parameters) each time; not every step).
  const finiteParams = (): Float32Array => {
    const params = training.getParams(handle);
    for (let i = 0; i < params.length; i++) {
      if (!Number.isFinite(params[i])) throw new TrainingDivergedError(step, lastStep.epoch, lastStep.loss, lastStep.totalNorm, partial(), true);
    }
    return params;
  };
  type Where = Omit<FitPosition, 'order' | 'random' | 'step' | 'tokens' | 'epochs' | 'optimizerKey' | 'batchSize' | 'window'>;
  const save = async (position: Where, carried?: { h0?: Float32Array; c0?: Float32Array }) => {
    if (!checkpoint) return;
    const { writeCheckpoint } = await import('../io/checkpoint.js');
    await writeCheckpoint(checkpoint.dir, {
      spec, params: finiteParams(), extra: host.extra, optimizer: training.getOptimizerState(handle),
      position: { ...position, order: order.slice(), random: rng.getState(), step, tokens, epochs: results.slice(), optimizerKey: key, batchSize, window },
      ...(carried ? { carried } : {}),
      ...(stopper?.best?.params ? { best: { epoch: stopper.best.epoch, params: stopper.best.params } } : {}),
    });
    checkpointedAt = step;
  };

  {
    for (let epoch = firstEpoch; epoch <= epochs && !stoppedEarly; epoch++) {
      const from = resumeAt?.nextBatch ?? 0;
      // A resumed epoch keeps the order it was checkpointed with.
      if (from === 0 && resumeWindow === undefined && shuffle) rng.shuffle(order);
      let lossSum = resumeAt?.lossSum ?? 0;
      let counted = resumeAt?.counted ?? 0;
      let correct = resumeAt?.correct ?? 0;
      resumeAt = undefined;
      for (let first = from * batchSize; first < set.size; first += batchSize) {
        const batch = packBatch(spec, set, order.slice(first, first + batchSize));
        const batchIndex = first / batchSize;
        let h0 = resumeWindow?.h0;
        let c0 = resumeWindow?.c0;
        const startAt = resumeWindow?.start ?? 0;
        resumeWindow = undefined;
        // Where the loop is before the window starting at `start` (a checkpoint resumes there).
        const here = (start: number): [Where, { h0?: Float32Array; c0?: Float32Array } | undefined] => [
          { epoch, nextBatch: batchIndex, ...(start > 0 ? { nextWindow: start } : {}), lossSum, counted, correct },
          start > 0 ? { h0, c0 } : undefined,
        ];
        for (let start = startAt; start < batch.steps; start += window) {
          if (signal?.aborted) {
            // Keep what was learned since the last checkpoint: --resume carries on from here.
            if (step > checkpointedAt) await save(...here(start));
            throw new FitAbortedError(signal.reason, partial());
          }
          const w = window >= batch.steps ? batch : sliceWindow(spec, batch, start, Math.min(window, batch.steps - start));
          w.h0 = h0;
          w.c0 = c0;
          const valid = validPositions(w);
          if (valid === 0) break; // every sequence of the batch has ended
          if (countedPositions(spec, w) === 0) {
            // Nothing to learn from here, but the state must advance to the next window.
            const ev = await lock.compute(training.evaluate(handle, w));
            h0 = ev.hn;
            c0 = ev.cn;
            continue;
          }
          if (options.learningRate) training.setLearningRate(handle, checkLearningRate('learningRate()', options.learningRate(step + 1, epoch)));
          if (spec.dropout) w.dropoutSeed = rng.nextUint32();
          const r = await lock.compute(training.trainStep(handle, w));
          if (!Number.isFinite(r.loss) || !Number.isFinite(r.totalNorm)) {
            // Non-finite parameters going in: an earlier update overflowed them (not "kept").
            finiteParams();
            step++;
            throw new TrainingDivergedError(step, epoch, r.loss, r.totalNorm, partial());
          }
          step++;
          lastStep = { epoch, loss: r.loss, totalNorm: r.totalNorm };
          h0 = r.hn;
          c0 = r.cn;
          tokens += valid;
          lossSum += r.loss * r.count;
          counted += r.count;
          correct += r.correct;
          if (options.onProgress) {
            const elapsedMs = Date.now() - started;
            const total = epochs * stepsPerEpoch;
            await untilAborted(signal, options.onProgress({
              epoch, epochs, step, stepsPerEpoch, loss: r.loss, epochLoss: lossSum / counted,
              tokensPerSecond: elapsedMs > 0 ? ((tokens - tokensAtStart) * 1000) / elapsedMs : 0,
              elapsedMs, etaMs: step > stepAtStart ? (elapsedMs / (step - stepAtStart)) * Math.max(0, total - step) : 0,
            }));
          }
          // Inside a long batch (streams cut into many windows), checkpoints fall between windows.
          if (checkpoint?.everySteps !== undefined && step - checkpointedAt >= checkpoint.everySteps && start + window < batch.steps) {
            await save(...here(start + window));
          }
          // Let timers, I/O and abort events run between steps.
          await yieldToEventLoop();
        }
        const next = first / batchSize + 1;
        if (checkpoint?.everySteps !== undefined && step - checkpointedAt >= checkpoint.everySteps && next < batches) {
          await save({ epoch, nextBatch: next, lossSum, counted, correct });
        }
      }
      const result: EpochResult = { epoch, loss: lossSum / counted };
      if (spec.loss.kind === 'cross_entropy') result.accuracy = counted > 0 ? correct / counted : 0;
      if (val) result.validation = await host.evaluate(val, validationStream ? 1 : batchSize, validationStream);
      results.push(result);
      if (stopper?.observe(result, () => training.getParams(handle))) stoppedEarly = epoch < epochs;
      await save({ epoch: epoch + 1, nextBatch: 0, lossSum: 0, counted: 0, correct: 0 });
      await untilAborted(signal, options.onEpochEnd?.(result));
    }
  }
  // Restore-best on completion (an abort or a divergence keeps the parameters it reached).
  const best = stopper?.best;
  if (best?.params && best.epoch !== results.length) training.setParams(handle, best.params);
  else finiteParams();
  return { ...partial(), ...(stopper ? { bestEpoch: best?.epoch, stoppedEarly } : {}) };
}

/** The first field where two specs differ, as "spec.stack.hiddenSize is 64; this model's is 128", or undefined when equal. */
function specDifference(theirs: unknown, ours: unknown, at = 'spec'): string | undefined {
  if (JSON.stringify(theirs) === JSON.stringify(ours)) return undefined;
  if (theirs !== null && ours !== null && typeof theirs === 'object' && typeof ours === 'object') {
    for (const k of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
      const d = specDifference((theirs as Record<string, unknown>)[k], (ours as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
  }
  return `${at} is ${JSON.stringify(theirs) ?? 'absent'}; this model's is ${JSON.stringify(ours) ?? 'absent'}`;
}
