/**
 * Checkpoints use the model directory's mechanism: each step-<n> is one unit (all its files
 * current by one rename), `latest` is switched after it is whole, a checkpoint written
 * twice at one step replaces the first as a whole, a checkpoint of older rnnkit (plain
 * files) still resumes, leftovers go at the next checkpoint, and damaged data is refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { CURRENT, STORE } from '../../src/io/atomic-dir.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../../src/io/checkpoint.js';
import { encodeModel } from '../../src/io/model-bytes.js';
import { loadModelFiles } from '../../src/io/model-file.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 7, dim: 3 },
  conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 3, hiddenSize: 4, outputSize: 4, layers: 1, bidirectional: false },
  outputs: 7,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};
const total = modelLayout(spec).total;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'rnnkit-ckpt-unit-'));

/** A checkpoint at `step`, marked with `mark` in its weights, optimizer, position and extra. */
function checkpoint(step: number, mark: number, carried = false): Checkpoint {
  const params = Float32Array.from({ length: total }, (_, i) => Math.cos(i + mark));
  params[0] = mark;
  return {
    spec, params, extra: { mark },
    optimizer: { optimizer: 'adam', step, buffers: [Float32Array.from({ length: total }, () => mark), new Float32Array(total)] },
    position: {
      epoch: 1, nextBatch: 2, ...(carried ? { nextWindow: 8 } : {}), order: [2, 0, 1, 3], random: { s: [1, 2, 3, mark], spare: null },
      step, tokens: 10 * step, lossSum: mark, counted: 4, correct: 1, epochs: [], optimizerKey: 'adam', batchSize: 2, window: 4,
    },
    ...(carried ? { carried: { h0: Float32Array.from([mark, 1, 2, 3]), c0: Float32Array.from([0, 0, 0, mark]) } } : {}),
  };
}
function expectMark(c: Checkpoint, mark: number): void {
  expect(c.params[0]).toBe(mark);
  expect(c.extra).toEqual({ mark });
  expect(c.optimizer!.buffers[0][0]).toBe(mark);
  expect(c.position.lossSum).toBe(mark);
  expect(c.position.random.s[3]).toBe(mark);
}

describe('checkpoints are units', () => {
  it('a step directory is a model directory of links into its one current save; latest names it', async () => {
    const dir = tmp();
    const at = await writeCheckpoint(dir, checkpoint(5, 1, true));
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-5']);
    expect(readFileSync(path.join(dir, 'latest'), 'utf8')).toBe('step-5\n');
    expect(readdirSync(at).sort()).toEqual([STORE, 'carried-state.safetensors', 'config.json', 'fit.json', 'model.safetensors', 'optimizer.safetensors']);
    for (const f of ['config.json', 'fit.json', 'optimizer.safetensors']) expect(readlinkSync(path.join(at, f))).toBe(path.join(STORE, CURRENT, f));
    const back = await readCheckpoint(dir);
    expectMark(back, 1);
    expect(Array.from(back.carried!.h0!)).toEqual([1, 1, 2, 3]);
    expect((await loadModelFiles(at)).extra).toEqual({ mark: 1 });
    // The next checkpoint: the old step directory goes once latest names the new one.
    await writeCheckpoint(dir, checkpoint(9, 2));
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-9']);
    const c = await readCheckpoint(dir);
    expectMark(c, 2);
    expect(c.carried).toBeUndefined();
  });

  it('a checkpoint written again at the same step replaces the first whole (a stale carried state goes)', async () => {
    const dir = tmp();
    await writeCheckpoint(dir, checkpoint(7, 1, true));
    const at = path.join(dir, 'step-7');
    const firstSave = readlinkSync(path.join(at, STORE, CURRENT));
    await writeCheckpoint(dir, checkpoint(7, 2));
    expect(readlinkSync(path.join(at, STORE, CURRENT))).not.toBe(firstSave);
    expect(existsSync(path.join(at, 'carried-state.safetensors'))).toBe(false);
    expect(readdirSync(path.join(at, STORE))).toHaveLength(2);
    const c = await readCheckpoint(dir);
    expectMark(c, 2);
    expect(c.carried).toBeUndefined();
  });

  it('resumes from a checkpoint of older rnnkit (plain files in step-<n>), and writes the next one over it', async () => {
    const dir = tmp();
    const at = path.join(dir, 'step-3');
    mkdirSync(at, { recursive: true });
    const c = checkpoint(3, 4);
    const { config, weights } = encodeModel(spec, c.params, c.extra);
    writeFileSync(path.join(at, 'config.json'), config);
    writeFileSync(path.join(at, 'model.safetensors'), weights);
    writeFileSync(path.join(at, 'optimizer.safetensors'), encodeSafetensors(c.optimizer!.buffers.map((b, k) => ({ name: `buffer_${k}`, shape: [b.length], data: Float32Array.from(b) })), { optimizer: 'adam', step: '3', buffers: '2' }));
    writeFileSync(path.join(at, 'fit.json'), JSON.stringify(c.position));
    writeFileSync(path.join(dir, 'latest'), 'step-3\n');
    expectMark(await readCheckpoint(dir), 4);
    await writeCheckpoint(dir, checkpoint(3, 5));
    expectMark(await readCheckpoint(dir), 5);
    expect(lstatSync(path.join(at, 'fit.json')).isSymbolicLink()).toBe(true);
  });

  it('cleans what an interrupted checkpoint left at the next one', async () => {
    const dir = tmp();
    await writeCheckpoint(dir, checkpoint(4, 1));
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    // A step directory written halfway and a temporary `latest` of a killed process.
    mkdirSync(path.join(dir, 'step-6', STORE, `m-${dead}-0a1b2c`), { recursive: true });
    writeFileSync(path.join(dir, 'step-6', STORE, `m-${dead}-0a1b2c`, 'model.safetensors'), 'half');
    writeFileSync(path.join(dir, `.latest.${dead}.1712345678901.abc123.tmp`), 'step-6');
    expectMark(await readCheckpoint(dir), 1);
    await writeCheckpoint(dir, checkpoint(6, 2));
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-6']);
    expect(readdirSync(path.join(dir, 'step-6', STORE))).toHaveLength(2);
    expectMark(await readCheckpoint(dir), 2);
  });

  it('refuses a damaged optimizer state, naming the file', async () => {
    const dir = tmp();
    await writeCheckpoint(dir, checkpoint(2, 1));
    const file = path.join(dir, 'step-2', 'optimizer.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0x10;
    writeFileSync(file, bytes);
    await expect(readCheckpoint(dir)).rejects.toThrow(`${file}: the tensor data is corrupt`);
  });

  it('reads the checkpoint latest names now when a newer one removed the one it was reading', async () => {
    const dir = tmp();
    await writeCheckpoint(dir, checkpoint(1, 1));
    let writing = true;
    const writes = (async () => {
      for (let s = 2; s < 30; s++) await writeCheckpoint(dir, checkpoint(s, s));
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const c = await readCheckpoint(dir);
      expectMark(c, c.position.step === 1 ? 1 : c.position.step);
      reads++;
    }
    await writes;
    expect(reads).toBeGreaterThan(1);
  });
});
