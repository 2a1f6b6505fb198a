/**
 * Files of a model directory, a weights file or a checkpoint that are not regular files are
 * refused, naming them: a FIFO made a load wait forever for a writer, and a link to
 * /dev/zero read until memory ran out (a directory unpacked from someone's tarball can hold
 * either).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, loadModelBundle, loadSafetensors, RnnModel, saveModelBundle } from '../../src/index.js';
import { readModel } from '../../src/web/model-io.js';

const root = mkdtempSync(path.join(tmpdir(), 'rnnkit-special-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fifo = (file: string) => execFileSync('mkfifo', [file]);

describe('special files in place of model files', () => {
  it('RnnModel.load, loadSafetensors, loadModelBundle and resume refuse a FIFO or a device, naming the file', async () => {
    const model = await createModel({ input: { kind: 'onehot', vocab: 3 }, cell: 'gru', hiddenSize: 4, outputs: 3, backend: 'reference' });
    const good = path.join(root, 'good');
    await model.save(good);
    // A plain copy of the directory (links resolved), then its weights replaced.
    const withFifo = path.join(root, 'fifo');
    cpSync(good, withFifo, { recursive: true, dereference: true });
    rmSync(path.join(withFifo, '.rnnkit'), { recursive: true, force: true });
    unlinkSync(path.join(withFifo, 'model.safetensors'));
    fifo(path.join(withFifo, 'model.safetensors'));
    await expect(RnnModel.load(withFifo, { backend: 'reference' })).rejects.toThrow(/model\.safetensors is a FIFO, not a regular file/);
    const withZero = path.join(root, 'zero');
    cpSync(withFifo, withZero, { recursive: true, filter: (f) => !f.endsWith('model.safetensors') });
    symlinkSync('/dev/zero', path.join(withZero, 'model.safetensors'));
    await expect(RnnModel.load(withZero, { backend: 'reference' })).rejects.toThrow(/model\.safetensors is a character device, not a regular file/);
    await expect(loadSafetensors(path.join(withZero, 'model.safetensors'))).rejects.toThrow(/is a character device, not a regular file/);
    await expect(loadSafetensors(path.join(withFifo, 'model.safetensors'))).rejects.toThrow(/is a FIFO, not a regular file/);
    const bundle = path.join(root, 'bundle.safetensors');
    fifo(bundle);
    await expect(loadModelBundle(bundle, { backend: 'reference' })).rejects.toThrow(/bundle\.safetensors is a FIFO, not a regular file/);
    // The browser entry's reader, given a file: URL under Node.
    await expect(readModel(pathToFileURL(`${withFifo}/`))).rejects.toThrow(/model\.safetensors: not a regular file/);
    await expect(readModel(pathToFileURL(bundle))).rejects.toThrow(/not a regular file/);
    // Saving over a directory whose weights are a FIFO is refused too (it opened the FIFO to read its producer).
    await expect(model.save(withFifo)).rejects.toThrow(/is a FIFO, not a regular file/);
    await saveModelBundle(model, path.join(root, 'ok.safetensors'));
    expect((await loadModelBundle(path.join(root, 'ok.safetensors'), { backend: 'reference' })).spec).toEqual(model.spec);
    model.dispose();
  }, 30_000);

  it("a checkpoint directory whose latest is a FIFO is refused, not waited on", async () => {
    const model = await createModel({ input: { kind: 'onehot', vocab: 3 }, cell: 'gru', hiddenSize: 4, outputs: 3, backend: 'reference' });
    const dir = path.join(root, 'ck');
    const data = { inputs: [[0, 1, 2, 0]], targets: [[1, 2, 0, 1]] };
    await model.fit(data, { epochs: 1, checkpoint: { dir } });
    unlinkSync(path.join(dir, 'latest'));
    fifo(path.join(dir, 'latest'));
    await expect(model.fit(data, { epochs: 2, resume: dir })).rejects.toThrow(/latest/);
    model.dispose();
  }, 30_000);
});
