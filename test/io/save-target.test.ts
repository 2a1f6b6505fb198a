/**
 * Where a model may be saved: never over another program's config.json or
 * model.safetensors (a save replaces what it finds and the next save deletes it), and a
 * directory that cannot be made is an error at once — Node's own recursive mkdir spins
 * forever under /proc or a link to nothing, which hung `rnnkit train` after its run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { UsageError } from '../../src/cli/args.js';
import { train } from '../../src/cli/train.js';
import { makeDirectory } from '../../src/io/make-dir.js';
import { encodeModel } from '../../src/io/model-bytes.js';
import { checkModelSaveTarget, loadModelFiles, saveModelFiles } from '../../src/io/model-file.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 5, dim: 2 },
  conditionSize: 0,
  stack: { cell: 'gru', inputSize: 2, hiddenSize: 3, outputSize: 3, layers: 1, bidirectional: false },
  outputs: 5,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};
const params = new Float32Array(modelLayout(spec).total).fill(0.25);
const tmp = () => mkdtempSync(path.join(tmpdir(), 'rnnkit-target-'));

describe('saving a model over files that are not an rnnkit model', () => {
  it("refuses a directory with another program's config.json and leaves the file as it was", async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'config.json'), '{"name":"my-app"}');
    await expect(saveModelFiles(dir, spec, params)).rejects.toThrow(/config\.json is not an rnnkit model config: refusing to save a model over it/);
    expect(readFileSync(path.join(dir, 'config.json'), 'utf8')).toBe('{"name":"my-app"}');
    expect(existsSync(path.join(dir, 'model.safetensors'))).toBe(false);
    writeFileSync(path.join(dir, 'config.json'), 'not json at all');
    await expect(checkModelSaveTarget(dir)).rejects.toThrow(/is not an rnnkit model config/);
  });

  it('refuses a model.safetensors that rnnkit did not write when no rnnkit config is beside it', async () => {
    const dir = tmp();
    const theirs = encodeSafetensors([{ name: 'w', shape: [2], data: Float32Array.of(1, 2) }], { format: 'pt' });
    writeFileSync(path.join(dir, 'model.safetensors'), theirs);
    await expect(saveModelFiles(dir, spec, params)).rejects.toThrow(/model\.safetensors was not written by rnnkit \(no producer in its metadata\)/);
    expect(readFileSync(path.join(dir, 'model.safetensors'))).toEqual(Buffer.from(theirs));
    writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors([], { producer: 'transformers' }));
    await expect(checkModelSaveTarget(dir)).rejects.toThrow(/producer "transformers"/);
  });

  it('saves over an rnnkit model (plain files of an older save, or its own links) and into new or empty directories', async () => {
    const dir = tmp();
    const { config, weights } = encodeModel(spec, params);
    writeFileSync(path.join(dir, 'config.json'), config);
    writeFileSync(path.join(dir, 'model.safetensors'), weights);
    await saveModelFiles(dir, spec, params.map((v) => v * 2));
    await saveModelFiles(dir, spec, params.map((v) => v * 3));
    expect((await loadModelFiles(dir)).params[0]).toBe(0.75);
    const lone = tmp(); // rnnkit's weights without their config: saved over
    writeFileSync(path.join(lone, 'model.safetensors'), weights);
    await saveModelFiles(lone, spec, params);
    await saveModelFiles(path.join(tmp(), 'a', 'b'), spec, params);
  });
});

describe('directories that cannot be made', () => {
  const fast = 5_000; // Node's recursive mkdir never returns on these: a hang fails by timeout

  it('under /proc, under a link to nothing and under a file: an error naming the directory', { timeout: fast }, async () => {
    const dir = tmp();
    symlinkSync(path.join(dir, 'unmounted'), path.join(dir, 'dangling'));
    writeFileSync(path.join(dir, 'file'), 'x');
    if (existsSync('/proc/self')) await expect(makeDirectory('/proc/rnnkit-no/m')).rejects.toThrow(/cannot make directory \/proc\/rnnkit-no\/m: \/proc\/rnnkit-no: ENOENT/);
    await expect(makeDirectory(path.join(dir, 'dangling', 'm'))).rejects.toThrow(/dangling: a link to nothing or another entry is in the way/);
    await expect(makeDirectory(path.join(dir, 'file', 'm'))).rejects.toThrow(/file is not a directory/);
    await expect(saveModelFiles(path.join(dir, 'dangling', 'm'), spec, params)).rejects.toThrow(/cannot make directory/);
    await makeDirectory(path.join(dir, 'new', 'deep', 'er'));
    await makeDirectory(path.join(dir, 'new', 'deep', 'er')); // exists: fine
    mkdirSync(path.join(dir, 'made'));
    expect(existsSync(path.join(dir, 'new', 'deep', 'er'))).toBe(true);
  });

  it("rnnkit train refuses such an --out before training (a usage error: exit code 2), and one holding another program's config.json", { timeout: fast }, async () => {
    const dir = tmp();
    symlinkSync(path.join(dir, 'unmounted'), path.join(dir, 'dangling'));
    const text = path.join(dir, 't.txt');
    writeFileSync(text, 'abcd'.repeat(50));
    const args = (out: string) => ['--text', text, '--out', out, '--hidden', '4', '--embed', '2', '--epochs', '1', '--backend', 'reference'];
    await expect(train(args(path.join(dir, 'dangling', 'm')))).rejects.toThrow(/--out .*dangling\/m: cannot make directory/);
    await expect(train(args(''))).rejects.toThrow(/--out must name a directory/);
    mkdirSync(path.join(dir, 'project'));
    writeFileSync(path.join(dir, 'project', 'config.json'), '{"name":"my-app"}');
    const refused = await train(args(path.join(dir, 'project'))).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UsageError); // exit code 2
    expect((refused as Error).message).toMatch(/project\/config\.json is not an rnnkit model config/);
    expect(readFileSync(path.join(dir, 'project', 'config.json'), 'utf8')).toBe('{"name":"my-app"}');
  });
  it('--out with a trailing slash keeps the checkpoints beside the model directory, not inside it', async () => {
    const dir = tmp();
    const text = path.join(dir, 't.txt');
    writeFileSync(text, 'abcd'.repeat(50));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      await train(['--text', text, '--out', `${path.join(dir, 'm')}/`, '--hidden', '4', '--embed', '2', '--seq', '8', '--batch', '2', '--epochs', '1', '--sample-every', '0', '--backend', 'reference']);
    } finally {
      console.log = log;
    }
    expect(existsSync(path.join(dir, 'm', 'config.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'm.checkpoint', 'latest'))).toBe(true);
    expect(existsSync(path.join(dir, 'm', '.checkpoint'))).toBe(false);
  });
});

describe('one-file bundles name themselves in errors', () => {
  it('a truncated bundle names the file, a bad embedded config names its metadata key', async () => {
    const { decodeModelBundle, encodeModelBundle, BUNDLE_CONFIG_KEY } = await import('../../src/web/model-io.js');
    const bytes = encodeModelBundle(spec, params);
    expect(() => decodeModelBundle(bytes.subarray(0, bytes.length - 4), 'b.safetensors')).toThrow(/^b\.safetensors: tensor .* reach past the data buffer/);
    const edited = Uint8Array.from(bytes); // the header's "rnnkit-model" → "rnnkit-modeX", same length
    const at = Buffer.from(edited).indexOf('rnnkit-model');
    expect(at).toBeGreaterThan(8);
    edited[at + 'rnnkit-mode'.length] = 'X'.charCodeAt(0);
    expect(() => decodeModelBundle(edited, 'b.safetensors')).toThrow(new RegExp(`^b\\.safetensors \\(__metadata__\\.${BUNDLE_CONFIG_KEY}\\): not an rnnkit model config`));
  });
});
