/**
 * `rnnkit train`: a character-level language model on a text file (default: the bundled
 * Moby-Dick chapters), with a progress line, a held-out perplexity per epoch, the model
 * saved (weights, config and vocabulary) and a sample printed at the end. The model saved
 * is the epoch with the best held-out loss. Checkpoints go to <out>.checkpoint/ at every
 * epoch's end and every --checkpoint-every steps; --resume carries on from the last one.
 * Ctrl-C stops after the current step and still saves what was learned.
 */
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CELL_TYPES, type CellType } from '../backend/contract.js';
import { BACKEND_NAMES, loadBackend } from '../backend/load.js';
import type { BackendName } from '../backend/contract.js';
import { createModel } from '../models/model.js';
import { CharTokenizer } from '../text/tokenizer.js';
import { nextTokenDataset } from '../text/language-model.js';
import { parseOptions, UsageError, type OptionSpec } from './args.js';
import { formatDuration, progressLine } from './progress.js';
import { printSample } from './sample.js';

export const DEFAULT_TEXT = fileURLToPath(new URL('../../../data/moby-dick-ch1-3.txt', import.meta.url));

export const trainOptions: Record<string, OptionSpec> = {
  text: { type: 'string', help: 'training text (UTF-8)', default: 'bundled Moby-Dick ch. 1-3' },
  out: { type: 'string', default: 'rnnkit-model', help: 'directory to save the model into' },
  cell: { type: 'string', default: 'lstm', help: `recurrent cell: ${CELL_TYPES.join(', ')}` },
  hidden: { type: 'integer', default: 256, min: 1, help: 'hidden units per layer' },
  layers: { type: 'integer', default: 1, min: 1, help: 'stacked recurrent layers' },
  embed: { type: 'integer', default: 32, min: 1, help: 'embedding width' },
  seq: { type: 'integer', default: 100, min: 2, help: 'characters per training sequence' },
  batch: { type: 'integer', default: 32, min: 1, help: 'sequences per step' },
  epochs: { type: 'integer', default: 20, min: 1, help: 'passes over the text' },
  lr: { type: 'number', default: 0.005, min: 0, help: 'Adam learning rate' },
  clip: { type: 'number', default: 1, min: 0, help: 'gradient-norm clipping (0: off)' },
  seed: { type: 'integer', default: 1, min: 0, help: 'seed of initialisation, shuffling and sampling' },
  backend: { type: 'string', help: `backend: ${BACKEND_NAMES.join(', ')} (default: fastest available)` },
  threads: { type: 'integer', min: 1, help: 'native threads (default: all cores)' },
  'checkpoint-every': { type: 'integer', default: 200, min: 1, help: 'steps between checkpoints in <out>.checkpoint/ (and at every epoch end)' },
  resume: { type: 'boolean', help: 'carry on from the last checkpoint in <out>.checkpoint/ (same options)' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function train(argv: string[]): Promise<void> {
  const o = parseOptions(argv, trainOptions);
  const cell = o.cell as string;
  if (!(CELL_TYPES as readonly string[]).includes(cell)) throw new UsageError(`--cell must be one of ${CELL_TYPES.join(', ')}; got ${JSON.stringify(cell)}`);
  if (o.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(o.backend as string)) {
    throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(o.backend)}`);
  }
  if (o.threads !== undefined) process.env.RNNKIT_THREADS = String(o.threads);

  const out = o.out as string;
  // Refused before training, not after it: the model would be lost.
  const existing = await stat(out).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory`);
  const checkpointDir = `${out}.checkpoint`;
  if (o.resume && !(await stat(path.join(checkpointDir, 'latest')).catch(() => undefined))) {
    throw new UsageError(`--resume: no checkpoint in ${checkpointDir} (train once with the same --out first)`);
  }

  const file = argv.includes('--text') ? String(o.text) : DEFAULT_TEXT;
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`--text: cannot read ${file}: ${e.code ?? e.message}`);
  });
  const seq = o.seq as number;
  if (text.length < 4 * seq) throw new UsageError(`--text must hold at least ${4 * seq} characters (4 × --seq); ${file} has ${text.length}`);

  const tokenizer = CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  // The last 10% of the text is held out to measure perplexity on unseen characters.
  const split = Math.floor(ids.length * 0.9);
  const trainSet = nextTokenDataset(ids.slice(0, split), seq);
  const validSet = nextTokenDataset(ids.slice(split), seq);
  const vocab = tokenizer.vocabSize;

  const model = await createModel({
    input: { kind: 'embedding', vocab, dim: o.embed as number },
    cell: cell as CellType,
    hiddenSize: o.hidden as number,
    layers: o.layers as number,
    outputs: vocab,
    init: { seed: o.seed as number },
    backend: o.backend as BackendName | undefined,
  });
  // The file's name only: a config.json should not carry the trainer's directory layout.
  model.extra = { tokenizer: tokenizer.toJSON(), trainedOn: path.basename(file) };
  const info = (await loadBackend(model.backend)).info();
  console.log(`rnnkit train: ${text.length} characters (${vocab} distinct) from ${file}`);
  console.log(`model: embedding ${o.embed} → ${o.layers}×${cell} ${o.hidden} → softmax ${vocab}; ${model.getParams().length} parameters; backend ${info.backend} (${info.isa}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`);

  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\nstopping after this step (Ctrl-C again to quit at once)…\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const bar = progressLine();
  let aborted = false;
  try {
    await model.fit(trainSet, {
      epochs: o.epochs as number,
      batchSize: o.batch as number,
      optimizer: { name: 'adam', lr: o.lr as number },
      clip: (o.clip as number) > 0 ? { maxNorm: o.clip as number } : undefined,
      seed: o.seed as number,
      validationData: validSet,
      // Keep the best epoch on held-out data: patience covers every epoch, so it never stops early.
      earlyStopping: { monitor: 'validation', patience: o.epochs as number, restoreBest: true },
      checkpoint: { dir: checkpointDir, everySteps: o['checkpoint-every'] as number },
      ...(o.resume ? { resume: checkpointDir } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        // p.step counts optimizer steps since fit started.
        const total = p.epochs * p.stepsPerEpoch;
        bar.update(
          `epoch ${p.epoch}/${p.epochs} step ${p.step}/${total} loss ${p.loss.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s ETA ${formatDuration(p.etaMs)}`,
          p.step / total,
        );
      },
      onEpochEnd: (e) => {
        const v = e.validation;
        bar.done(`epoch ${e.epoch}: loss ${e.loss.toFixed(3)}${v ? `, held-out loss ${v.loss.toFixed(3)}, perplexity ${v.perplexity?.toFixed(2)}` : ''}`);
      },
    });
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
    aborted = true;
    bar.done('stopped early; saving the model as trained so far');
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  await model.save(out);
  console.log(`saved ${out}/ (model.safetensors, config.json)${aborted ? ` — partial training; --resume carries on from ${checkpointDir}/` : ''}`);
  // Prime with the text's own opening, so every character is in the vocabulary.
  await printSample(model, tokenizer, { prime: text.slice(0, 8), length: 200, temperature: 0.7, topK: 10, seed: o.seed as number });
  model.dispose();
}
