/**
 * model.loadStateDict (and loadWeights, model files) take exactly the model's tensors: a
 * tensor whose data is shorter or longer than its shape was taken as given (a short bias
 * became zeros at its end, a long one spilled into the next parameter); names that differ
 * are reported all at once, as PyTorch's load_state_dict does, with how rnnkit names a
 * model's parts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel, readModelBundle, saveModelBundle } from '../../src/index.js';
import { stackFromTensors } from '../../src/io/torch.js';

const options = { input: { kind: 'embedding' as const, vocab: 6, dim: 3 }, cell: 'lstm' as const, hiddenSize: 4, outputs: 6, backend: 'reference' as const };

describe('loadStateDict', () => {
  it('refuses a tensor whose data does not fit its shape, short or long', async () => {
    const model = await createModel(options);
    for (const delta of [-3, 5]) {
      const tensors = model.stateDict().map((t) => (t.name === 'head.bias' ? { ...t, data: new Float32Array(t.data.length + delta) } : t));
      expect(() => model.loadStateDict(tensors)).toThrow(/tensor head\.bias: shape \[6\] needs 6 values; got (3|11)/);
    }
    model.dispose();
  });

  it('lists every missing and unexpected tensor, and how rnnkit names the parts', async () => {
    const model = await createModel(options);
    // PyTorch's word_language_model names: encoder (the embedding), rnn, decoder (the head).
    const renamed = model.stateDict().map((t) => ({ ...t, name: t.name.replace(/^embedding\./, 'encoder.').replace(/^head\./, 'decoder.') }));
    expect(() => model.loadStateDict(renamed)).toThrow(
      /3 tensors are missing: embedding\.weight \[6, 3\], head\.weight \[6, 4\], head\.bias \[6\]; 3 tensors are not parameters of this model: encoder\.weight, decoder\.weight, decoder\.bias \(rnnkit's names: embedding, rnn, head; rename the tensors/,
    );
    const names: Record<string, string> = { encoder: 'embedding', decoder: 'head' };
    const before = model.stateDict();
    model.loadStateDict(renamed.map((t) => ({ ...t, name: t.name.replace(/^(\w+)\./, (_m, part: string) => `${names[part] ?? part}.`) })));
    expect(model.stateDict()).toEqual(before);
    model.dispose();
  });

  it('refuses two tensors of one name (the last one silently won), here and in importing a PyTorch stack', async () => {
    const model = await createModel(options);
    const tensors = model.stateDict();
    const head = tensors.find((t) => t.name === 'head.bias')!;
    expect(() => model.loadStateDict([...tensors, { ...head, data: new Float32Array(head.data.length).fill(9) }])).toThrow(/two tensors are named head\.bias/);
    const rnn = tensors.filter((t) => t.name.startsWith('rnn.'));
    expect(() => stackFromTensors([...rnn, rnn[0]], { prefix: 'rnn.' })).toThrow(/two tensors are named rnn\.weight_ih_l0/);
    expect(stackFromTensors(rnn, { prefix: 'rnn.' }).spec).toMatchObject({ cell: 'lstm', hiddenSize: 4 });
    model.dispose();
  });
});

describe('saveModelBundle', () => {
  it("refuses to replace a file rnnkit did not write; replaces its own bundle and an empty file", async () => {
    const model = await createModel(options);
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-bundle-'));
    const notes = path.join(dir, 'important.txt');
    writeFileSync(notes, 'my notes\n');
    await expect(saveModelBundle(model, notes)).rejects.toThrow(/important\.txt exists and was not written by rnnkit: refusing to replace it/);
    expect(readFileSync(notes, 'utf8')).toBe('my notes\n');
    const bundle = path.join(dir, 'm.safetensors');
    await saveModelBundle(model, bundle);
    await saveModelBundle(model, bundle);
    const empty = path.join(dir, 'empty.safetensors');
    writeFileSync(empty, '');
    await saveModelBundle(model, empty);
    expect((await readModelBundle(empty)).params).toEqual(model.getParams());
    model.dispose();
  });
});
