/**
 * PyTorch nn.RNN/LSTM/GRU state_dicts as safetensors: the golden per-cell weights written
 * to a file (by our writer, and by a hand-built byte layout), imported, and run through
 * the reference stack, must reproduce the golden outputs; exporting gives the same file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { paramLayout } from '../../src/backend/layout.js';
import { referenceForward } from '../../src/backend/reference/sequence.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import type { Tensor } from '../../src/io/safetensors.js';
import { stackFromTensors } from '../../src/io/torch.js';
import { exportTorchRnn, importTorchRnn } from '../../src/io/torch-file.js';
import { loadGoldenCases } from '../helpers/golden.js';
import type { GoldenCase } from '../helpers/golden.js';
import { readFileSync } from 'node:fs';

/** The forward tolerance of the golden README for a float32 implementation. */
const FORWARD_TOL = 1e-5;

// Jordan networks have no PyTorch module, so only the six PyTorch-shaped cells apply.
const cases = loadGoldenCases().filter((c) => c.spec.cell !== 'jordan');

function tensorsOf(c: GoldenCase, prefix = ''): Tensor[] {
  return paramLayout(c.spec).entries.map((e) => ({
    name: prefix + e.name, shape: e.shape, data: Float32Array.from(c.params.subarray(e.offset, e.offset + e.size)),
  }));
}

/** A hand-laid-out safetensors file (header keys in reverse order, no padding), independent of our encoder. */
function handBuilt(tensors: Tensor[]): Uint8Array {
  let off = 0;
  const parts: string[] = [];
  for (const t of tensors) {
    parts.push(`"${t.name}":{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${off},${off + 4 * t.data.length}]}`);
    off += 4 * t.data.length;
  }
  const header = new TextEncoder().encode(`{"__metadata__":{"format":"pt"},${parts.reverse().join(',')}}`);
  const out = new Uint8Array(8 + header.length + off);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at); // host is little-endian
    at += t.data.byteLength;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('import PyTorch RNN weights from safetensors (golden per-cell cases)', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(18));
  for (const c of cases) {
    it(c.id, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-torch-'));
      const ours = path.join(dir, 'ours.safetensors');
      const hand = path.join(dir, 'hand.safetensors');
      writeFileSync(ours, encodeSafetensors(tensorsOf(c), { format: 'pt' }));
      writeFileSync(hand, handBuilt(tensorsOf(c)));
      for (const file of [ours, hand]) {
        const imported = await importTorchRnn(file, { cell: c.spec.cell });
        expect(imported.spec).toEqual(c.spec);
        expect(imported.params).toEqual(Float32Array.from(c.params));
        const out = referenceForward(imported.spec, Float64Array.from(imported.params), {
          x: c.x, steps: c.steps, batch: c.batch, h0: c.h0, c0: c.c0,
        });
        expect(maxAbsDiff(out.y, c.y)).toBeLessThanOrEqual(FORWARD_TOL);
        expect(maxAbsDiff(out.hn, c.hn)).toBeLessThanOrEqual(FORWARD_TOL);
        if (c.cn) expect(maxAbsDiff(out.cn!, c.cn)).toBeLessThanOrEqual(FORWARD_TOL);
      }
      // Export gives back the same tensors under the same names, and records the cell: the
      // import needs no option to tell rnn_relu from rnn_tanh. Cells no PyTorch module
      // computes are refused (their weights would load into nn.GRU / be refused by nn.LSTM).
      const imported = await importTorchRnn(ours, { cell: c.spec.cell });
      const exported = path.join(dir, 'exported.safetensors');
      if (c.spec.cell === 'gru_cho' || c.spec.cell === 'lstm_peephole') {
        await expect(exportTorchRnn(exported, imported.spec, imported.params)).rejects.toThrow(/^spec\.cell "(gru_cho|lstm_peephole)" (is Cho's GRU|has peephole weights)/);
        return;
      }
      await exportTorchRnn(exported, imported.spec, imported.params);
      const back = decodeSafetensors(readFileSync(exported));
      expect(back.tensors.map((t) => t.name)).toEqual(paramLayout(c.spec).entries.map((e) => e.name));
      expect(back.metadata).toMatchObject({ format: 'pt', rnnkit_cell: c.spec.cell });
      expect(stackFromTensors(back.tensors, { cell: c.spec.cell }).params).toEqual(imported.params);
      expect((await importTorchRnn(exported)).spec).toEqual(c.spec);
    });
  }
});

describe('import infers what it can and refuses what does not fit', () => {
  const lstm = cases.find((c) => c.spec.cell === 'lstm' && c.spec.bidirectional)!;
  const gru = cases.find((c) => c.spec.cell === 'gru' && c.spec.layers === 2)!;

  it('infers lstm, layers, directions and sizes without a cell option', () => {
    expect(stackFromTensors(tensorsOf(lstm)).spec).toEqual(lstm.spec);
    expect(stackFromTensors(tensorsOf(gru)).spec).toEqual(gru.spec);
  });
  it('strips a prefix such as rnn., and reads only the tensors under it', () => {
    expect(stackFromTensors(tensorsOf(gru, 'rnn.'), { prefix: 'rnn.' }).spec).toEqual(gru.spec);
    expect(() => stackFromTensors(tensorsOf(gru, 'rnn.'))).toThrow(/no weight_ih_l0 .* pass \{ prefix: "rnn\." \}/);
    // A whole model's state_dict: the embedding and the head stay out of the stack.
    const model = [
      { name: 'encoder.weight', shape: [7, gru.spec.inputSize], data: new Float32Array(7 * gru.spec.inputSize) },
      ...tensorsOf(gru, 'rnn.'),
      { name: 'decoder.bias', shape: [7], data: new Float32Array(7) },
    ];
    const got = stackFromTensors(model, { prefix: 'rnn.' });
    expect(got.spec).toEqual(gru.spec);
    expect(got.params).toEqual(Float32Array.from(gru.params));
    expect(() => stackFromTensors(model, { prefix: 'lstm.' })).toThrow(/no tensor's name starts with the prefix "lstm\." \(names: encoder\.weight, rnn\.weight_ih_l0/);
  });

  it('refuses a tensor whose data does not fit its shape (short or long), naming it', () => {
    for (const delta of [-3, 2]) {
      const tensors = tensorsOf(gru).map((t) => (t.name === 'bias_hh_l0' ? { ...t, data: new Float32Array(t.data.length + delta) } : t));
      expect(() => stackFromTensors(tensors)).toThrow(/tensor bias_hh_l0: shape \[15\] needs 15 values; got (12|17)/);
    }
  });

  it('a layer missing in the middle is reported as its missing tensors', () => {
    const tensors = tensorsOf(gru).filter((t) => !/_l0$/.test(t.name) || t.name.startsWith('weight_'));
    expect(() => stackFromTensors(tensors)).toThrow(/tensor bias_ih_l0 \[15\] is missing for a 2-layer gru/);
  });

  it('says what a torch.save file is', () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0, 0, 0]);
    const pickle = new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]);
    expect(() => decodeSafetensors(zip, 'model.pt')).toThrow(/^model\.pt: this is a zip archive \(torch\.save's format\), not safetensors: in Node, model\.loadWeights\(file\), importTorchRnn\(file\) and decodeTorchSave\(bytes\) read it; in a browser, save with safetensors\.torch\.save_file/);
    expect(() => decodeSafetensors(pickle, 'model.pt')).toThrow(/^model\.pt: this is a bare Python pickle \(torch\.save's format before PyTorch 1\.6\)/);
  });
  it('treats a file without biases as bias=False (zeros)', () => {
    const t = tensorsOf(gru).filter((x) => !x.name.startsWith('bias_'));
    const { params, spec } = stackFromTensors(t);
    for (const e of paramLayout(spec).entries) {
      if (e.name.startsWith('bias_')) expect(params.subarray(e.offset, e.offset + e.size).every((v) => v === 0)).toBe(true);
    }
  });
  const bad: [string, () => Tensor[], object, RegExp][] = [
    ['a missing tensor', () => tensorsOf(lstm).filter((t) => t.name !== 'bias_hh_l0_reverse'), {}, /tensor bias_hh_l0_reverse \[20\] is missing/],
    ['a wrong shape', () => tensorsOf(gru).map((t) => (t.name === 'weight_ih_l1' ? { ...t, shape: [t.shape[1], t.shape[0]] } : t)), {}, /tensor weight_ih_l1 has shape \[5, 15\]; expected \[15, 5\]/],
    ['an unknown tensor', () => [...tensorsOf(gru), { name: 'extra', shape: [1], data: new Float32Array(1) }], {}, /tensor extra is not a parameter/],
    ['a NaN weight', () => tensorsOf(gru).map((t) => (t.name === 'bias_ih_l0' ? { ...t, data: Float32Array.from(t.data, (v, i) => (i === 2 ? NaN : v)) } : t)), {}, /tensor bias_ih_l0 holds a non-finite value \(NaN\) at index 2/],
    ['a cell with another gate count', () => tensorsOf(gru), { cell: 'lstm' }, /cell lstm has 4 gate blocks, but the file's weight_hh_l0 has 3/],
    ['LSTM projections', () => [...tensorsOf(lstm), { name: 'weight_hr_l0', shape: [1, 5], data: new Float32Array(5) }], {}, /proj_size/],
  ];
  for (const [what, tensors, options, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => stackFromTensors(tensors(), options, 'w.safetensors')).toThrow(SafetensorsError);
      expect(() => stackFromTensors(tensors(), options, 'w.safetensors')).toThrow(message);
    });
  }
});

describe('PyTorch export and import refuse what cannot round-trip', () => {
  const spec = { cell: 'gru' as const, inputSize: 3, hiddenSize: 2, outputSize: 2, layers: 1, bidirectional: false };
  const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-torch-refuse-'));

  it('export: non-finite parameters, a jordan stack, an invalid spec', async () => {
    const params = new Float32Array(paramLayout(spec).total).fill(0.1);
    params[5] = Number.NaN;
    await expect(exportTorchRnn(path.join(dir, 'nan.safetensors'), spec, params)).rejects.toThrow(/^params\[5\] is NaN: a non-finite parameter cannot be exported$/);
    const jordan = { ...spec, cell: 'jordan' as const, outputSize: 3 };
    await expect(exportTorchRnn(path.join(dir, 'j.safetensors'), jordan, new Float32Array(paramLayout(jordan).total))).rejects.toThrow(/"jordan" has no PyTorch module/);
    await expect(exportTorchRnn(path.join(dir, 'bad.safetensors'), { ...spec, hiddenSize: -2 }, params)).rejects.toThrow(/^spec\.hiddenSize/);
  });

  it('import: a stack rnnkit cannot make, null options, a directory', async () => {
    const tensors = (I: number, layers: number) => Array.from({ length: layers }, (_, l) => [
      { name: `weight_ih_l${l}`, shape: [6, l === 0 ? I : 2], data: new Float32Array(6 * (l === 0 ? I : 2)) },
      { name: `weight_hh_l${l}`, shape: [6, 2], data: new Float32Array(12) },
    ]).flat();
    expect(() => stackFromTensors(tensors(0, 1), {}, 'f.safetensors')).toThrow(/^f\.safetensors: the stack these tensors describe cannot be made: inputSize/);
    expect(() => stackFromTensors(tensors(3, 1), null as never)).toThrow(/^options must be an object/);
    await expect(importTorchRnn(dir)).rejects.toThrow(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read \\(EISDIR\\)$`));
  });
});
