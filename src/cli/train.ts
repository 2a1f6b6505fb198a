/**
 * `rnnkit train`: a language model (characters, or words) on a text — by default the whole
 * of Moby-Dick — trained as the shared char-LM protocol trains (parallel streams, truncated
 * BPTT with the state carried, held-out bits per token on a stream read from a zero state)
 * within a time budget or a number of epochs. Shows a progress bar, the held-out figure at
 * every epoch and a sample every so often; saves the model with the best held-out loss
 * (weights, config, tokenizer) whenever it improves, and checkpoints to <out>.checkpoint/
 * every --checkpoint-every steps, at every epoch's end and on Ctrl-C; --resume carries on.
 */
import { rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BackendName, CellType } from '../backend/contract.js';
import { CELL_TYPES } from '../backend/contract.js';
import { BACKEND_NAMES, loadBackend } from '../backend/load.js';
import { makeDirectory } from '../io/make-dir.js';
import { readRegularFile } from '../io/regular-file.js';
import { checkModelSaveTarget } from '../io/model-file.js';
import { FitAbortedError } from '../models/errors.js';
import type { EvalMetrics } from '../models/fit-types.js';
import { createModel, RnnModel } from '../models/model.js';
import { CharTokenizer } from '../text/tokenizer.js';
import { parseOptions, UsageError, type OptionSpec, type OptionValues } from './args.js';
import { RunClock } from './budget.js';
import { formatDuration, progressDisplay } from './progress.js';
import { printSample } from './sample.js';
import { LEVELS, trainingText, type Level, type TrainingText } from './train-data.js';

export const trainOptions: Record<string, OptionSpec> = {
  text: { type: 'string', help: 'training text (a UTF-8 file; default: the whole of Moby-Dick)' },
  level: { type: 'string', default: 'char', help: `tokens: ${LEVELS.join(' or ')}` },
  'vocab-size': { type: 'integer', default: 10_000, min: 4, max: 1_000_000, help: 'word level: most frequent words kept, <unk> <s> </s> included' },
  'min-count': { type: 'integer', default: 1, min: 1, help: 'word level: words seen fewer times become <unk>' },
  out: { type: 'string', default: 'rnnkit-model', help: 'directory to save the model into' },
  minutes: { type: 'number', min: 0.01, max: 10_080, help: 'time budget of the whole run, up to the saved model (default 5 unless --epochs is given)' },
  epochs: { type: 'integer', min: 1, max: 1_000_000, help: 'passes over the text (default: until the time budget ends)' },
  cell: { type: 'string', default: 'lstm', help: `recurrent cell: ${CELL_TYPES.join(', ')}` },
  hidden: { type: 'integer', default: 512, min: 1, max: 16_384, help: 'hidden units per layer' },
  layers: { type: 'integer', default: 1, min: 1, max: 64, help: 'stacked recurrent layers' },
  embed: { type: 'integer', default: 64, min: 1, max: 16_384, help: 'embedding width' },
  seq: { type: 'integer', default: 64, min: 1, max: 100_000, help: 'tokens per truncated-BPTT window (the state is carried across windows)' },
  batch: { type: 'integer', default: 32, min: 1, max: 65_536, help: 'parallel streams the text is cut into (sequences per step)' },
  lr: { type: 'number', default: 0.012, min: 0, max: 10, help: 'Adam learning rate at its peak (warm-up, then a cosine to 5% by the end of the run)' },
  dropout: { type: 'number', default: 0, min: 0, max: 0.95, help: 'dropout on the embedding and between layers' },
  clip: { type: 'number', default: 5, min: 0, help: 'gradient-norm clipping (0: off)' },
  seed: { type: 'integer', default: 1, min: 0, max: 2 ** 32 - 1, help: 'seed of initialisation, dropout and sampling' },
  backend: { type: 'string', help: `backend: ${BACKEND_NAMES.join(', ')} (default: fastest available)` },
  threads: { type: 'integer', min: 1, max: 1024, help: 'native threads (default: all cores)' },
  'sample-every': { type: 'number', default: 60, min: 0, help: 'seconds between samples printed while training (0: none)' },
  'checkpoint-every': { type: 'integer', default: 500, min: 1, help: 'steps between checkpoints in <out>.checkpoint/ (also at every epoch end and on Ctrl-C)' },
  resume: { type: 'boolean', help: 'carry on from the last checkpoint in <out>.checkpoint/ (same options)' },
  help: { type: 'boolean', help: 'show this help' },
};

/** What config.json's extra.training records of a run (and a resumed run reads back). */
interface TrainingRecord {
  level: Level;
  elapsedMs: number;
  steps: number;
  tokens: number;
  epoch?: number;
  heldOutLoss?: number;
  heldOutBitsPerToken?: number;
}

function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  return value as T;
}

/** Trains as `argv` says; resolves to the exit code: 0, or 130 when stopped by Ctrl-C (the model and a checkpoint saved). */
export async function train(argv: string[]): Promise<number> {
  const o = parseOptions(argv, trainOptions);
  const level = oneOf('level', o.level, LEVELS);
  const cell = oneOf('cell', o.cell, CELL_TYPES) as CellType;
  const backend = o.backend === undefined ? undefined : (oneOf('backend', o.backend, BACKEND_NAMES) as BackendName);
  if (o.threads !== undefined) process.env.RNNKIT_THREADS = String(o.threads);
  const minutes = (o.minutes as number | undefined) ?? (o.epochs === undefined ? 5 : undefined);

  const out = o.out as string;
  // Refused before training, not after it: the model would be lost.
  const made = await checkOutTarget(out);
  try {
    return await trainInto(o, { level, cell, backend, minutes, out });
  } catch (e) {
    // A run that failed before saving anything leaves no empty --out behind.
    if (made) await rmdir(out).catch(() => undefined);
    throw e;
  }
}

async function trainInto(o: OptionValues, { level, cell, backend, minutes, out }: { level: Level; cell: CellType; backend: BackendName | undefined; minutes: number | undefined; out: string }): Promise<number> {
  // Beside --out, however it is spelled (m, m/, .): not inside it.
  const checkpointDir = path.relative(process.cwd(), `${path.resolve(out)}.checkpoint`);
  if (o.resume && !(await stat(path.join(checkpointDir, 'latest')).catch(() => undefined))) {
    throw new UsageError(`--resume: no checkpoint in ${checkpointDir} (train once with the same --out first)`);
  }

  const streams = o.batch as number;
  const window = o.seq as number;
  const data = await trainingText({ file: o.text as string | undefined, level, vocabSize: o['vocab-size'] as number, minCount: o['min-count'] as number, streams, window });
  const vocab = data.tokenizer.vocabSize;
  const dropout = o.dropout as number;
  const model = await createModel({
    input: { kind: 'embedding', vocab, dim: o.embed as number },
    cell,
    hiddenSize: o.hidden as number,
    layers: o.layers as number,
    outputs: vocab,
    ...(dropout > 0 ? { dropout: { input: dropout, between: dropout } } : {}),
    init: { seed: o.seed as number },
    backend,
  }).catch((e: unknown) => {
    // Each flag is in range, but together they can exceed the parameter limit: name them.
    if (e instanceof RangeError && /parameters/.test(e.message)) {
      throw new UsageError(`--hidden ${o.hidden}, --layers ${o.layers} and --embed ${o.embed} with a vocabulary of ${vocab} give too large a model: ${e.message}`);
    }
    throw e;
  });
  try {
    return await run(model, data, o, { level, minutes, out, checkpointDir, streams, window });
  } finally {
    model.dispose();
  }
}

interface RunSettings {
  level: Level;
  minutes: number | undefined;
  out: string;
  checkpointDir: string;
  streams: number;
  window: number;
}

async function run(model: RnnModel, data: TrainingText, o: Record<string, unknown>, s: RunSettings): Promise<number> {
  const unit = s.level === 'char' ? 'char' : 'word';
  const info = (await loadBackend(model.backend)).info();
  console.log(`rnnkit train: ${data.name}, ${data.characters.toLocaleString('en')} characters → ${data.trainTokens.toLocaleString('en')} ${unit}s to train on, ${data.heldOutTokens.toLocaleString('en')} held out; vocabulary ${data.tokenizer.vocabSize}`);
  console.log(`model: embedding ${o.embed} → ${o.layers}×${o.cell} ${o.hidden} → softmax ${data.tokenizer.vocabSize}; ${model.getParams().length.toLocaleString('en')} parameters; backend ${info.backend} (${info.isa}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`);
  const stepsPerEpoch = Math.ceil(data.train.inputs[0].length / s.window);
  const epochs = (o.epochs as number | undefined) ?? 1_000_000;
  const clock = new RunClock({
    totalMs: s.minutes === undefined ? undefined : s.minutes * 60_000,
    totalSteps: o.epochs === undefined ? undefined : epochs * stepsPerEpoch,
  });
  console.log(`training ${s.minutes !== undefined ? `for ${s.minutes} minute${s.minutes === 1 ? '' : 's'}` : ''}${s.minutes !== undefined && o.epochs !== undefined ? ' or ' : ''}${o.epochs !== undefined ? `${epochs} epoch${epochs === 1 ? '' : 's'}` : ''}: ${s.streams} streams × ${s.window}-token windows, ${stepsPerEpoch} steps per epoch; Ctrl-C stops and saves`);

  // The best model so far is the one in --out: saved whenever the held-out loss improves.
  const record = (extra: Partial<TrainingRecord>): void => {
    const before = (model.extra.training ?? {}) as Partial<TrainingRecord>;
    model.extra.training = { ...before, level: s.level, ...extra };
  };
  model.extra.tokenizer = data.tokenizer.toJSON();
  model.extra.trainedOn = data.name;
  let best = o.resume ? await savedHeldOutLoss(s.out) : undefined;
  if (o.resume) {
    const from = (await readRegularFile(path.join(s.checkpointDir, 'latest'), 'utf8').catch(() => '')).trim();
    console.log(`resuming from ${path.join(s.checkpointDir, from)}${best === undefined ? '' : ` (best held-out so far: ${(best / Math.LN2).toFixed(3)} bits per ${unit === 'char' ? 'character' : 'word'})`}`);
  }
  let lastStep = 0;
  let lastTokens = 0;
  const saveIfBest = async (m: EvalMetrics, epoch: number | undefined): Promise<boolean> => {
    if (best !== undefined && m.loss >= best) return false;
    best = m.loss;
    record({ elapsedMs: clock.elapsedMs(), steps: lastStep, tokens: lastTokens, epoch, heldOutLoss: m.loss, heldOutBitsPerToken: m.bitsPerToken });
    await model.save(s.out);
    return true;
  };

  const display = progressDisplay();
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    display.log('stopping after this step and writing a checkpoint (Ctrl-C again to quit at once)…');
    controller.abort(new Error('interrupted'));
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const sampleEvery = (o['sample-every'] as number) * 1000;
  let lastSample = Date.now();
  let priorRead = false;
  let lastEvalMs: number | undefined;
  let epochEndedAt = 0;
  let epochLoss = NaN;
  let heldOutText = '';
  try {
    await model.fit(data.train, {
      epochs,
      batchSize: s.streams,
      window: s.window,
      shuffle: false,
      optimizer: { name: 'adam', lr: o.lr as number },
      clip: (o.clip as number) > 0 ? { maxNorm: o.clip as number } : undefined,
      learningRate: (step) => {
        // A resumed fit has put back the checkpoint's extra, with the time spent before.
        if (!priorRead) {
          priorRead = true;
          clock.priorMs = ((model.extra.training ?? {}) as Partial<TrainingRecord>).elapsedMs ?? 0;
        }
        return clock.learningRate(o.lr as number, step);
      },
      seed: o.seed as number,
      validationData: data.heldOut,
      validationStream: true,
      checkpoint: { dir: s.checkpointDir, everySteps: o['checkpoint-every'] as number },
      ...(o.resume ? { resume: s.checkpointDir } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        lastStep = p.step;
        lastTokens = p.step * s.streams * s.window;
        epochEndedAt = Date.now();
        epochLoss = p.epochLoss;
        record({ elapsedMs: clock.elapsedMs(), steps: p.step, tokens: lastTokens });
        if (lastEvalMs === undefined) clock.reserveMs = (data.heldOutTokens / Math.max(1, p.tokensPerSecond)) * 1000 + 2000;
        // The epoch's running mean in both units (the last step's loss alone jumps from batch to batch).
        const bits = p.epochLoss / Math.LN2;
        display.update(
          clock.fraction(p.step),
          `epoch ${p.epoch} | loss ${p.epochLoss.toFixed(3)} (${bits.toFixed(3)} bits/${unit}) | ${Math.round(p.tokensPerSecond).toLocaleString('en')} tok/s | ${formatDuration(clock.elapsedMs())} | ETA ${formatDuration(clock.remainingMs(p.step))}${heldOutText}`,
        );
        if (sampleEvery > 0 && Date.now() - lastSample >= sampleEvery) {
          lastSample = Date.now();
          display.log(`sample: ${JSON.stringify(sampleText(model, data, o.seed as number))}`);
        }
        if (clock.outOfTime()) controller.abort(new Error('time budget'));
      },
      onEpochEnd: async (e) => {
        lastEvalMs = Date.now() - epochEndedAt;
        clock.reserveMs = lastEvalMs + 2000;
        const v = e.validation!;
        const improved = await saveIfBest(v, e.epoch);
        heldOutText = ` | held-out ${v.bitsPerToken!.toFixed(3)}`;
        display.log(`epoch ${e.epoch} (${formatDuration(clock.elapsedMs())}): train ${(epochLoss / Math.LN2).toFixed(3)} bits/${unit}, held-out ${v.bitsPerToken!.toFixed(3)} bits/${unit} (perplexity ${v.perplexity!.toFixed(2)})${improved ? `, saved to ${s.out}/` : ''}`);
      },
    });
  } catch (e) {
    if (!(e instanceof FitAbortedError)) throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    display.stop();
  }

  if (interrupted) {
    // Leave at once: the best model is already in --out (or, before the first epoch ended, the model as it is).
    if (best === undefined) {
      record({ elapsedMs: clock.elapsedMs(), steps: lastStep, tokens: lastTokens });
      await model.save(s.out);
    }
    console.log(`stopped; ${best === undefined ? `the model as trained so far saved to ${s.out}/` : `the best model so far is in ${s.out}/`}; rnnkit train --resume (same options) carries on from ${s.checkpointDir}/`);
    return 130;
  }
  // The run ended (time or epochs): the model as it is now may beat the last epoch's. The
  // bar has stopped at 100% of training; say what the remaining seconds are spent on.
  process.stderr.write(`evaluating the final parameters on ${data.heldOutTokens.toLocaleString('en')} held-out ${unit}s…\n`);
  const final = await model.evaluate(data.heldOut, { stream: true });
  await saveIfBest(final, undefined);
  const bestLoss = best!;
  console.log(`done in ${formatDuration(clock.elapsedMs())}: held-out ${(bestLoss / Math.LN2).toFixed(3)} bits per ${unit === 'char' ? 'character' : 'word'} (perplexity ${Math.exp(bestLoss).toFixed(2)}) on ${data.heldOutTokens.toLocaleString('en')} ${unit}s read as one stream; saved to ${s.out}/`);
  // Sample from the model saved: an earlier epoch's when it beat the final parameters.
  const saved = final.loss > bestLoss ? await RnnModel.load(s.out, { backend: model.backend as BackendName }) : model;
  try {
    await printSample(saved, data.tokenizer, samplingOf(data, o.seed as number));
  } finally {
    if (saved !== model) saved.dispose();
  }
  return 0;
}

/**
 * --out must be a directory a model can be saved into, checked before training: not empty,
 * not a file, not holding another program's config.json or model.safetensors
 * (checkModelSaveTarget), and made now if missing (a path that cannot be made — under a
 * file, /proc, a link to nothing, a read-only disk — fails here, not after the run).
 */
/** Checks and makes --out; true when it did not exist before. */
async function checkOutTarget(out: string): Promise<boolean> {
  if (out.trim() === '') throw new UsageError('--out must name a directory; got an empty string');
  const existing = await stat(out).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory`);
  try {
    await checkModelSaveTarget(out);
    await makeDirectory(out);
  } catch (e) {
    throw new UsageError(`--out ${out}: ${(e as Error).message}`);
  }
  return existing === undefined;
}

/** The held-out loss recorded in a saved model's config.json, if any. */
async function savedHeldOutLoss(dir: string): Promise<number | undefined> {
  try {
    const config = JSON.parse(await readRegularFile(path.join(dir, 'config.json'), 'utf8')) as { extra?: { training?: Partial<TrainingRecord> } };
    const loss = config.extra?.training?.heldOutLoss;
    return typeof loss === 'number' && Number.isFinite(loss) ? loss : undefined;
  } catch {
    return undefined;
  }
}

function samplingOf(data: TrainingText, seed: number) {
  return { prime: data.prime, length: data.tokenizer instanceof CharTokenizer ? 300 : 60, temperature: 0.7, topK: 10, seed };
}

/** A short sample made between two steps (synchronous generate: allowed while fit waits). */
function sampleText(model: RnnModel, data: TrainingText, seed: number): string {
  const tok = data.tokenizer;
  if (tok instanceof CharTokenizer) {
    const start = tok.encode(data.prime);
    return data.prime + tok.decode(model.generate({ start, steps: 120, temperature: 0.7, topK: 10, seed }));
  }
  const ids = model.generate({
    start: [tok.specials.start!], steps: 40, temperature: 0.8, topK: 20, seed,
    stopToken: tok.specials.end, bannedTokens: [tok.specials.unknown!],
  });
  return tok.decode(ids, { skipSpecials: true });
}
