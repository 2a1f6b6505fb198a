/**
 * Model directories (model.safetensors + config.json): round trip, and refusal of files
 * that do not match the config.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/backend/contract.js';
import { modelLayout } from '../../src/backend/layout.js';
import { initModelParams } from '../../src/init/initializers.js';
import { CONFIG_FILE, loadModelFiles, saveModelFiles, WEIGHTS_FILE } from '../../src/io/model-file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

const spec: ModelSpec = {
  input: { kind: 'embedding', vocab: 9, dim: 4 },
  conditionSize: 0,
  stack: { cell: 'lstm', inputSize: 4, hiddenSize: 5, outputSize: 5, layers: 2, bidirectional: true },
  outputs: 3,
  loss: { kind: 'cross_entropy', ignoreIndex: -100 },
};

async function saved(): Promise<{ dir: string; params: Float32Array }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-model-'));
  const params = initModelParams(spec, { seed: 1 });
  await saveModelFiles(dir, spec, params, { note: 'hello' });
  return { dir, params };
}

function rewriteConfig(dir: string, edit: (c: any) => void): void {
  const file = path.join(dir, CONFIG_FILE);
  const c = JSON.parse(readFileSync(file, 'utf8'));
  edit(c);
  writeFileSync(file, JSON.stringify(c));
}

function rewriteWeights(dir: string, edit: (t: { name: string; shape: number[]; data: Float32Array }[]) => typeof t): void {
  const file = path.join(dir, WEIGHTS_FILE);
  const { tensors } = decodeSafetensors(readFileSync(file));
  writeFileSync(file, encodeSafetensors(edit(tensors)));
}

describe('model files', () => {
  it('round-trip the spec, every parameter and the extra settings, with PyTorch names', async () => {
    const { dir, params } = await saved();
    expect(readdirSync(dir).sort()).toEqual(['.rnnkit', CONFIG_FILE, WEIGHTS_FILE].sort());
    const loaded = await loadModelFiles(dir);
    expect(loaded.spec).toEqual(spec);
    expect(loaded.params).toEqual(params);
    expect(loaded.extra).toEqual({ note: 'hello' });
    const names = decodeSafetensors(readFileSync(path.join(dir, WEIGHTS_FILE))).tensors.map((t) => t.name);
    expect(names).toEqual(modelLayout(spec).entries.map((e) => e.name));
    expect(names).toContain('rnn.weight_hh_l1_reverse');
  });

  it('an extra that is not an object (an array, a string) reads as none', async () => {
    for (const extra of [[1, 2], 'x', null]) {
      const { dir } = await saved();
      const configFile = path.join(dir, CONFIG_FILE);
      const config = JSON.parse(readFileSync(configFile, 'utf8'));
      writeFileSync(configFile, JSON.stringify({ ...config, extra }));
      expect((await loadModelFiles(dir)).extra, JSON.stringify(extra)).toEqual({});
    }
  });

  it('refuses weights whose shapes differ from the config', async () => {
    const { dir } = await saved();
    rewriteConfig(dir, (c) => (c.spec.outputs = 4));
    await expect(loadModelFiles(dir)).rejects.toThrow(/tensor head.weight has shape \[3, 10\]; the model has \[4, 10\]/);
  });

  it('refuses a missing and an extra tensor', async () => {
    const a = await saved();
    rewriteWeights(a.dir, (t) => t.filter((x) => x.name !== 'rnn.bias_ih_l1'));
    await expect(loadModelFiles(a.dir)).rejects.toThrow(/tensor rnn.bias_ih_l1 \[20\] is missing/);
    const b = await saved();
    rewriteWeights(b.dir, (t) => [...t, { name: 'dropout.p', shape: [1], data: new Float32Array(1) }]);
    await expect(loadModelFiles(b.dir)).rejects.toThrow(/tensor dropout.p is not a parameter/);
  });

  it('refuses non-finite weights', async () => {
    const { dir } = await saved();
    rewriteWeights(dir, (t) => t.map((x) => (x.name === 'embedding.weight' ? { ...x, data: x.data.map((v, i) => (i === 5 ? Infinity : v)) } : x)));
    await expect(loadModelFiles(dir)).rejects.toThrow(/tensor embedding.weight holds a non-finite value \(Infinity\) at index 5/);
  });

  it('refuses an invalid config, naming the field', async () => {
    const a = await saved();
    rewriteConfig(a.dir, (c) => (c.spec.stack.hiddenSize = '5'));
    await expect(loadModelFiles(a.dir)).rejects.toThrow(/config.spec.stack.hiddenSize must be an integer in 1\.\.16777216; got "5"/);
    const b = await saved();
    rewriteConfig(b.dir, (c) => (c.spec.stack.inputSize = 7));
    await expect(loadModelFiles(b.dir)).rejects.toThrow(/config.spec.stack.inputSize must be the input width plus conditionSize = 4; got 7/);
    const c = await saved();
    rewriteConfig(c.dir, (x) => (x.format = 'other'));
    await expect(loadModelFiles(c.dir)).rejects.toThrow(/not an rnnkit model config/);
  });

  it('refuses a truncated weights file', async () => {
    const { dir } = await saved();
    const file = path.join(dir, WEIGHTS_FILE);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    await expect(loadModelFiles(dir)).rejects.toThrow(/reach past the data buffer/);
  });
});
