/**
 * torch.save's format (src/io/torch-save.ts), read and written without Python, checked
 * against PyTorch itself: files PyTorch writes (pickle protocols 2, 4 and 5, a training
 * checkpoint's nested dict, a transposed view) decode to PyTorch's values; what rnnkit
 * writes, `torch.load(weights_only=True)` reads and `nn.LSTM.load_state_dict` takes
 * strictly. Needs PyTorch (RNNKIT_PYTHON, else Debian's /usr/bin/python3 with python3-torch):
 * without it these tests FAIL, they never skip. Hostile archives (built here with fflate) are
 * refused with an error naming the file and the cause, never a hang or a wrong tensor.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { SafetensorsError, decodeSafetensors, type Tensor } from '../../src/io/safetensors.js';
import { decodeTorchSave, encodeTorchSave } from '../../src/io/torch-save.js';
import { loadTensorFile, saveTensorFile } from '../../src/io/tensor-file.js';
import { importTorchRnn, exportTorchRnn } from '../../src/io/torch-file.js';

const python = process.env.RNNKIT_PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-torch-save-'));

/** Run a Python script with torch imported; its stdout. */
function torch(script: string): string {
  const r = spawnSync(python, ['-c', `import torch, json, sys\ntorch.manual_seed(0)\n${script}`], { cwd: dir, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${python} (PyTorch) failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

const bytesOf = (file: string) => new Uint8Array(readFileSync(path.join(dir, file)));

describe('files torch.save writes', () => {
  it('decode to PyTorch values: every pickle protocol, nested dicts, views, an nn.LSTM through importTorchRnn', async () => {
    const out = torch(`
m = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
for p in (2, 4, 5): torch.save(m.state_dict(), f'lstm{p}.pt', pickle_protocol=p)
torch.save({'model': m.state_dict(), 'epoch': 3, 'note': 'x', 'opt': {'state': {0: {'step': torch.tensor(2.0)}}}}, 'ckpt.pt')
w = torch.arange(12, dtype=torch.float32).reshape(3, 4)
torch.save({'t': w.t(), 'row': w[1], 'scalar': torch.tensor(1.5), 'empty': torch.zeros(0, 3)}, 'views.pt')
x = torch.randn(5, 2, 3)
y, _ = m(x)
print(json.dumps({'sd': {k: v.flatten().tolist() for k, v in m.state_dict().items()}, 'x': x.flatten().tolist(), 'y': y.detach().flatten().tolist()}))
`);
    const want = JSON.parse(out) as { sd: Record<string, number[]>; x: number[]; y: number[] };
    for (const p of [2, 4, 5]) {
      const { tensors } = decodeTorchSave(bytesOf(`lstm${p}.pt`), `lstm${p}.pt`);
      expect(tensors.map((t) => t.name)).toEqual(Object.keys(want.sd));
      for (const t of tensors) expect(Array.from(t.data)).toEqual(want.sd[t.name].map(Math.fround));
    }
    const ckpt = decodeTorchSave(bytesOf('ckpt.pt')).tensors;
    expect(ckpt.map((t) => t.name)).toEqual([...Object.keys(want.sd).map((k) => `model.${k}`), 'opt.state.0.step']);
    const views = Object.fromEntries(decodeTorchSave(bytesOf('views.pt')).tensors.map((t) => [t.name, t]));
    expect(views.t.shape).toEqual([4, 3]);
    expect(Array.from(views.t.data)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(Array.from(views.row.data)).toEqual([4, 5, 6, 7]);
    expect(views.scalar).toMatchObject({ shape: [], data: Float32Array.of(1.5) });
    expect(views.empty.shape).toEqual([0, 3]);
    // importTorchRnn reads the file by its bytes and computes PyTorch's outputs.
    const { spec, params } = await importTorchRnn(path.join(dir, 'lstm2.pt'));
    expect(spec).toMatchObject({ cell: 'lstm', inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true });
    const { createStack } = await import('../../src/index.js');
    const stack = await createStack({ ...spec, backend: 'reference' });
    stack.setFlatParameters(params);
    const { y } = await stack.forward(Float32Array.from(want.x), { steps: 5, batch: 2 });
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - want.y[i])).toBeLessThan(1e-6);
    stack.dispose();
  });

  it('refuses what is not a state dict of float32 tensors, saying what to save instead', () => {
    torch(`
m = torch.nn.GRU(2, 3)
torch.save(m, 'module.pt')
torch.save({'w': torch.ones(2, dtype=torch.float64)}, 'double.pt')
torch.save(torch.ones(2), 'single.pt')
torch.save({'n': 3}, 'none.pt')
torch.save(m.state_dict(), 'legacy.pt', _use_new_zipfile_serialization=False)
`);
    const refuse = (file: string, message: RegExp) => expect(() => decodeTorchSave(bytesOf(file), file)).toThrow(message);
    refuse('module.pt', /^module\.pt: the file pickles torch\.nn\.modules\.rnn\.GRU.*torch\.save\(model\.state_dict\(\), path\)/);
    refuse('double.pt', /^double\.pt: tensor w: dtype Double is not supported; rnnkit reads float32 only/);
    refuse('single.pt', /a single tensor, not a dict of named tensors/);
    refuse('none.pt', /holds no tensors/);
    refuse('legacy.pt', /bare pickle .*save again with a current torch\.save/);
    // decodeSafetensors of a torch.save file says which readers take it.
    expect(() => decodeSafetensors(bytesOf('double.pt'), 'double.pt')).toThrow(/torch\.save's format.*model\.loadWeights\(file\), importTorchRnn\(file\) and decodeTorchSave\(bytes\) read it/);
  });
});

describe('what rnnkit writes in torch.save format', () => {
  it('torch.load(weights_only=True) reads, nn.LSTM.load_state_dict takes strictly, bit for bit', async () => {
    torch(`torch.save(torch.nn.LSTM(3, 5, num_layers=2).state_dict(), 'source.pt')`);
    const { spec, params } = await importTorchRnn(path.join(dir, 'source.pt'));
    const moved = params.map((v, i) => v + (i % 7) * 1e-3);
    await exportTorchRnn(path.join(dir, 'back.pt'), spec, moved, 'rnn.');
    const out = torch(`
sd = torch.load('back.pt', weights_only=True)
m = torch.nn.LSTM(3, 5, num_layers=2)
m.load_state_dict({k[4:]: v for k, v in sd.items()}, strict=True)
print(json.dumps({k: v.flatten().tolist() for k, v in sd.items()}))
`);
    const got = JSON.parse(out) as Record<string, number[]>;
    const back = await loadTensorFile(path.join(dir, 'back.pt'));
    expect(Object.keys(got)).toEqual(back.tensors.map((t) => t.name));
    expect(Object.keys(got)[0]).toBe('rnn.weight_ih_l0');
    for (const t of back.tensors) expect(Float32Array.from(got[t.name])).toEqual(t.data);
    expect(Float32Array.from(Object.values(got).flat())).toEqual(moved);
  });

  it('names decide the format: .pt and .pth are torch.save, anything else safetensors; the same tensors give the same bytes', async () => {
    const tensors: Tensor[] = [{ name: 'a', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, { name: 'b', shape: [], data: Float32Array.of(-0) }];
    for (const name of ['w.pt', 'w.PTH', 'w.safetensors', 'w.bin']) await saveTensorFile(path.join(dir, name), tensors);
    expect(decodeTorchSave(bytesOf('w.pt')).tensors).toEqual(tensors);
    expect(decodeTorchSave(bytesOf('w.PTH')).tensors).toEqual(tensors);
    expect(decodeSafetensors(bytesOf('w.bin')).tensors).toEqual(tensors);
    for (const name of ['w.pt', 'w.safetensors']) expect((await loadTensorFile(path.join(dir, name))).tensors).toEqual(tensors);
    expect(encodeTorchSave(tensors)).toEqual(encodeTorchSave(tensors));
    expect(() => encodeTorchSave([...tensors, tensors[0]])).toThrow(/two tensors are named a/);
    expect(() => encodeTorchSave([{ name: 'x', shape: [3], data: new Float32Array(2) }])).toThrow(/tensor x: shape \[3\] needs 3 values; got 2/);
  });
});

describe('hostile torch.save files', () => {
  /** An archive of `pickle` (opcodes as bytes) and storages. */
  const archive = (pickle: number[] | Uint8Array, storages: Record<string, Uint8Array> = {}) => {
    const files: Record<string, Uint8Array> = { 'x/data.pkl': Uint8Array.from(pickle) };
    for (const [k, v] of Object.entries(storages)) files[`x/data/${k}`] = v;
    return zipSync(files, { level: 0 });
  };
  const text = (s: string) => [...new TextEncoder().encode(s)];
  const str = (s: string) => [0x8c, s.length, ...text(s)]; // SHORT_BINUNICODE
  const global = (m: string, n: string) => [0x63, ...text(`${m}\n${n}\n`)];
  /** The opcodes that push a float32 tensor of `size`/`stride` at `offset` on storage `key` (4 elements). */
  const tensorOps = (size: number[], stride: number[], offset = 0, key = '0') => [
    ...global('torch._utils', '_rebuild_tensor_v2'),
    0x28, 0x28, ...str('storage'), ...global('torch', 'FloatStorage'), ...str(key), ...str('cpu'), 0x4b, 4, 0x74, 0x51,
    0x4b, offset, 0x28, ...size.flatMap((s) => [0x4b, s]), 0x74, 0x28, ...stride.flatMap((s) => [0x4b, s]), 0x74, 0x89, 0x29, 0x74, 0x52,
  ];
  /** OrderedDict {w: that tensor}. */
  const tensorPickle = (size: number[], stride: number[], offset = 0, key = '0') => [
    0x80, 2, ...global('collections', 'OrderedDict'), 0x29, 0x52, ...str('w'), ...tensorOps(size, stride, offset, key), 0x73, 0x2e,
  ];
  const four = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const decode = (bytes: Uint8Array) => () => decodeTorchSave(bytes, 'evil.pt');

  it('a well-formed hand-made archive decodes (the baseline of the cases below)', () => {
    expect(decodeTorchSave(archive(tensorPickle([2, 2], [2, 1]), { 0: four })).tensors).toEqual([{ name: 'w', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }]);
    expect(decodeTorchSave(archive(tensorPickle([2], [2], 1), { 0: four })).tensors[0].data).toEqual(Float32Array.of(2, 4));
  });

  it('refuses, naming the file and the cause', () => {
    const cases: [Uint8Array, RegExp][] = [
      [archive(tensorPickle([3, 2], [2, 1]), { 0: four }), /^evil\.pt: tensor w: shape \[3, 2\] with strides \[2, 1\] from offset 0 reaches element 5 of a storage of 4/],
      [archive(tensorPickle([2], [1], 3), { 0: four }), /reaches element 4 of a storage of 4/],
      [archive(tensorPickle([2, 2], [2, 1]), {}), /names storage 0, which the archive lacks/],
      [archive(tensorPickle([2, 2], [2, 1]), { 0: four.subarray(0, 6) }), /storage 0 has 6 bytes, not a whole number of FloatStorage elements/],
      [archive([0x80, 2, ...global('os', 'system'), ...str('echo hi'), 0x85, 0x52, 0x2e]), /^evil\.pt: the file pickles os\.system, which/],
      [archive([0x80, 2, ...global('builtins', 'eval'), 0x2e]), /the file pickles builtins\.eval, which a state dict of float32 tensors does not hold/],
      [archive([0x80, 2, 0x68, 9, 0x2e]), /memo 9 read before it was written/],
      [archive([0x80, 2, 0x7d]), /data\.pkl is truncated/],
      [archive([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f]), /data\.pkl is truncated/],
      [archive([0x80, 2, 0x30, 0x2e]), /the stack is empty/],
      [archive([0x80, 2, 0x7d, 0x69, 0x2e]), /pickle opcode 0x69/],
      [archive([0x80, 2, 0x7d, 0x7d, 0x2e]), /ends with 2 values on the stack/],
      [archive([0x80, 2, 0x51, 0x2e]), /the stack is empty/],
      [archive([0x80, 2, ...str('nope'), 0x51, 0x2e]), /a persistent id "nope" is not a storage reference/],
      [zipSync({ 'x/other': new Uint8Array(3) }), /holds no data\.pkl/],
      [archive(tensorPickle([2, 2], [2, 1]), { 0: four }).subarray(0, 60), /the zip archive cannot be read/],
      [new Uint8Array([0x80, 2, 0x7d, 0x2e]), /bare pickle/],
    ];
    for (const [bytes, message] of cases) {
      expect(decode(bytes)).toThrow(SafetensorsError);
      expect(decode(bytes)).toThrow(message);
    }
  });

  it('a dict nested 100,000 deep is walked without exhausting the stack', () => {
    const depth = 100_000;
    const pickle = [0x80, 2, 0x7d];
    for (let i = 0; i < depth; i++) pickle.push(...str('d'), 0x7d);
    pickle.push(...str('w'), ...tensorOps([1], [1]), 0x73);
    for (let i = 0; i < depth; i++) pickle.push(0x73);
    pickle.push(0x2e);
    const { tensors } = decodeTorchSave(archive(pickle, { 0: four }));
    expect(tensors).toHaveLength(1);
    expect(tensors[0].name.split('.')).toHaveLength(depth + 1);
  });

  it('files on disk: loadTensorFile names the file', async () => {
    writeFileSync(path.join(dir, 'evil.pt'), archive(tensorPickle([9], [1]), { 0: four }));
    await expect(loadTensorFile(path.join(dir, 'evil.pt'))).rejects.toThrow(/evil\.pt: tensor w: shape \[9\]/);
  });
});
